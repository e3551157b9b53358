// @file task_group.h
// @brief TaskGroup: the set of coroutines the server spawned (listener, sessions, background
// work such as the health monitor), so that shutdown can ask them to wind down, cancel the
// stragglers and know when all are gone. Internal to server/; includes Asio.
//
// Each task runs on its own strand. Cancellation signals are emitted only on that strand
// (asio cancellation signals are not thread-safe), and a task's `graceful` hook runs there too.
//
// Thread-safety: all member functions are thread-safe. The group must outlive its tasks'
// completion handlers, i.e. the io_context's handlers (declare it before the io_context).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>

namespace mg::server {

class TaskGroup {
 public:
  // Called on the task's strand when shutdown begins; nullptr means "emit terminal cancellation".
  using GracefulHook = std::function<void()>;

  // Starts `task` on `strand` (an executor that serialises the task, e.g. a strand of the
  // io_context). `name` appears in the log if the task ends with an exception. If the group is
  // already draining, the graceful hook is scheduled immediately.
  void Spawn(boost::asio::any_io_executor strand, boost::asio::awaitable<void> task,
             std::string name, GracefulHook graceful = nullptr);

  // Runs every task's graceful hook (on its strand). Tasks spawned later get theirs at once.
  void BeginDrain();
  // Emits `type` cancellation to every live task (on its strand).
  void CancelAll(boost::asio::cancellation_type type);
  // Number of live tasks.
  size_t Size() const;
  // Calls `fn` (on the thread finishing the last task, or immediately) once the group is empty.
  // Replaces any previous callback; it is cleared after being called.
  void OnEmpty(std::function<void()> fn);

 private:
  struct Task {
    boost::asio::any_io_executor strand;
    boost::asio::cancellation_signal signal;  // emitted on `strand` only
    GracefulHook graceful;
    std::string name;
    bool done = false;  // guarded by `strand`
  };
  void Finish(const std::shared_ptr<Task>& task);
  // Emits on the task's strand unless it has finished meanwhile.
  static void PostEmit(const std::shared_ptr<Task>& task, boost::asio::cancellation_type type);
  static void PostGraceful(const std::shared_ptr<Task>& task);

  mutable std::mutex mu_;
  // shared_ptr: held by this list and by the task's completion handler.
  std::list<std::shared_ptr<Task>> tasks_;  // guarded by mu_
  bool draining_ = false;                   // guarded by mu_
  std::function<void()> on_empty_;          // guarded by mu_
};

}  // namespace mg::server
