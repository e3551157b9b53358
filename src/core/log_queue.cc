#include "core/log_queue.h"

#include <time.h>

#include <cstdio>
#include <utility>

namespace mg::log::detail {

size_t LogQueue::RoundUp(size_t n) {
  size_t c = 2;
  while (c < n) c <<= 1;
  return c;
}

LogQueue::LogQueue(size_t capacity)
    : mask_(RoundUp(capacity) - 1), slots_(std::make_unique<Slot[]>(mask_ + 1)) {
  for (size_t i = 0; i <= mask_; ++i) slots_[i].seq.store(i, std::memory_order_relaxed);
}

bool LogQueue::TryPush(Record& r) {
  size_t pos = enqueue_pos_.load(std::memory_order_relaxed);
  for (;;) {
    Slot& slot = slots_[pos & mask_];
    const size_t seq = slot.seq.load(std::memory_order_acquire);
    const auto diff = static_cast<intptr_t>(seq) - static_cast<intptr_t>(pos);
    if (diff == 0) {
      // The slot is free for `pos`: claim it; on failure `pos` is reloaded.
      if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
        slot.record.level = r.level;
        slot.record.unix_us = r.unix_us;
        slot.record.text = std::move(r.text);  // the slot holds no buffer between laps
        slot.seq.store(pos + 1, std::memory_order_release);
        return true;
      }
    } else if (diff < 0) {
      return false;  // full: the consumer has not freed this slot's previous lap yet
    } else {
      pos = enqueue_pos_.load(std::memory_order_relaxed);
    }
  }
}

bool LogQueue::Ready() const {
  const Slot& slot = slots_[dequeue_pos_ & mask_];
  return slot.seq.load(std::memory_order_acquire) == dequeue_pos_ + 1;
}

bool LogQueue::TryPop(Record& out) {
  Slot& slot = slots_[dequeue_pos_ & mask_];
  if (slot.seq.load(std::memory_order_acquire) != dequeue_pos_ + 1) return false;
  out.level = slot.record.level;
  out.unix_us = slot.record.unix_us;
  out.text = std::move(slot.record.text);
  slot.record.text = std::string();  // hold no buffer while free: the queue costs no RSS idle
  slot.seq.store(dequeue_pos_ + mask_ + 1, std::memory_order_release);
  ++dequeue_pos_;
  return true;
}

void AppendLine(std::string& out, const Record& r) {
  static constexpr const char* kNames[] = {"debug", "info", "warning", "error"};
  const time_t secs = static_cast<time_t>(r.unix_us / 1000000);
  const int millis = static_cast<int>((r.unix_us % 1000000) / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char prefix[48];
  const int n = std::snprintf(prefix, sizeof prefix, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s ",
                              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                              tm.tm_sec, millis, kNames[static_cast<int>(r.level)]);
  out.append(prefix, n > 0 ? static_cast<size_t>(n) : 0);
  out.append(r.text);
  out.push_back('\n');
}

}  // namespace mg::log::detail
