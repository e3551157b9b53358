// @file log_queue.h
// @brief The queue between the threads that log and the one that writes: a bounded,
// lock-free multi-producer queue (Vyukov's bounded MPMC queue, used with one consumer).
// Producers never block and never take a lock: a full queue refuses the line (the caller counts
// it as dropped). Also the line format, so tests can check it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>

#include "core/error.h"

namespace mg::log::detail {

struct Record {
  LogLevel level = LogLevel::kInfo;
  int64_t unix_us = 0;  // when it was logged
  std::string text;
};

class LogQueue {
 public:
  // `capacity` is rounded up to a power of two (at least 2).
  explicit LogQueue(size_t capacity);
  LogQueue(const LogQueue&) = delete;
  LogQueue& operator=(const LogQueue&) = delete;

  // Any thread. Takes `r.text` on success; false when the queue is full (`r` unchanged).
  bool TryPush(Record& r);
  // The consumer only. False when empty.
  bool TryPop(Record& out);
  // The consumer only: whether a record is ready at the head.
  bool Ready() const;
  size_t capacity() const { return mask_ + 1; }

 private:
  struct Slot {
    std::atomic<size_t> seq;
    Record record;
  };
  static size_t RoundUp(size_t n);

  const size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<size_t> enqueue_pos_{0};
  alignas(64) size_t dequeue_pos_ = 0;  // consumer-owned
};

// Appends "2026-12-03T10:00:00.123Z info <text>\n" (levels: debug, info, warning, error).
void AppendLine(std::string& out, const Record& r);

}  // namespace mg::log::detail
