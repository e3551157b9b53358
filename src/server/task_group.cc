#include "server/task_group.h"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <exception>
#include <vector>

#include "core/log.h"

namespace mg::server {

namespace asio = boost::asio;

void TaskGroup::Spawn(asio::any_io_executor strand, asio::awaitable<void> task, std::string name,
                      GracefulHook graceful) {
  auto t = std::make_shared<Task>();
  t->strand = strand;
  t->graceful = std::move(graceful);
  t->name = std::move(name);
  bool draining = false;
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(t);
    draining = draining_;
  }
  auto on_done = [this, t](std::exception_ptr e) {
    // Runs on t->strand (bound below), after the coroutine has finished.
    t->done = true;
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::Error("task_failed", {{"task", t->name}, {"what", ex.what()}});
      } catch (...) {
        log::Error("task_failed", {{"task", t->name}, {"what", "unknown exception"}});
      }
    }
    Finish(t);
  };
  asio::co_spawn(strand, std::move(task),
                 asio::bind_cancellation_slot(t->signal.slot(),
                                              asio::bind_executor(strand, std::move(on_done))));
  if (draining) PostGraceful(t);
}

void TaskGroup::Finish(const std::shared_ptr<Task>& task) {
  std::function<void()> on_empty;
  {
    std::lock_guard lock(mu_);
    tasks_.remove(task);
    if (tasks_.empty()) on_empty = std::move(on_empty_);
    if (on_empty) on_empty_ = nullptr;
  }
  if (on_empty) on_empty();
}

void TaskGroup::PostEmit(const std::shared_ptr<Task>& task, asio::cancellation_type type) {
  asio::post(task->strand, [task, type] {
    if (!task->done) task->signal.emit(type);
  });
}

void TaskGroup::PostGraceful(const std::shared_ptr<Task>& task) {
  asio::post(task->strand, [task] {
    if (task->done) return;
    if (task->graceful) {
      task->graceful();
    } else {
      task->signal.emit(asio::cancellation_type::terminal);
    }
  });
}

void TaskGroup::BeginDrain() {
  std::vector<std::shared_ptr<Task>> tasks;
  {
    std::lock_guard lock(mu_);
    draining_ = true;
    tasks.assign(tasks_.begin(), tasks_.end());
  }
  for (const auto& t : tasks) PostGraceful(t);
}

void TaskGroup::CancelAll(asio::cancellation_type type) {
  std::vector<std::shared_ptr<Task>> tasks;
  {
    std::lock_guard lock(mu_);
    tasks.assign(tasks_.begin(), tasks_.end());
  }
  for (const auto& t : tasks) PostEmit(t, type);
}

size_t TaskGroup::Size() const {
  std::lock_guard lock(mu_);
  return tasks_.size();
}

void TaskGroup::OnEmpty(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (!tasks_.empty()) {
      on_empty_ = std::move(fn);
      return;
    }
  }
  fn();
}

}  // namespace mg::server
