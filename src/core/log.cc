#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "core/log_queue.h"

namespace mg::log {
namespace {

std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};

int64_t NowUnixMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Asynchronous logging: callers (request threads among them) format their line and hand it to a
// lock-free queue; one logging thread writes stderr, so a slow reader of stderr never blocks a
// request and no caller ever takes a lock. When the queue is full the line is dropped (and the
// drop reported) rather than blocking.
//
// The writer batches: lines are appended to a buffer that goes out in one write(2) when the
// queue is empty (nothing more is coming right now), when it holds 64 KiB, or at once for
// warnings and errors. Under load that is one system call per many lines; idle, every line is
// written at once. An idle writer sleeps on a futex (std::atomic::wait), woken by a producer
// only when it is asleep.
class AsyncLog {
 public:
  // 8192 queued lines (~0.8 s of access lines at 10k req/s). Slots hold no buffer while free.
  AsyncLog() : queue_(8192), thread_([this] { Run(); }) {}
  ~AsyncLog() {
    stop_.store(true, std::memory_order_seq_cst);
    Wake();
    thread_.join();
  }

  void Push(LogLevel level, std::string text) {
    detail::Record r{level, NowUnixMicros(), std::move(text)};
    if (!queue_.TryPush(r)) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    pushed_.fetch_add(1, std::memory_order_release);
    // Pairs with the fence in Run(): either the writer sees this line before it sleeps, or this
    // sees that it sleeps and wakes it.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_relaxed)) Wake();
  }

  // Waits (bounded) until every line pushed before the call is written.
  void Flush() {
    const uint64_t target = pushed_.load(std::memory_order_acquire);
    Wake();
    for (int i = 0; i < 200 && written_.load(std::memory_order_acquire) < target; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

 private:
  static constexpr size_t kBatchBytes = 64 * 1024;

  void Wake() {
    signal_.fetch_add(1, std::memory_order_release);
    signal_.notify_one();
  }

  void Run() {
    detail::Record r;
    std::string buffer;
    uint64_t reported_drops = 0;
    for (;;) {
      uint64_t n = 0;
      while (queue_.TryPop(r)) {
        detail::AppendLine(buffer, r);
        ++n;
        if (buffer.size() >= kBatchBytes || r.level >= LogLevel::kWarn) {
          WriteOut(buffer);
          written_.fetch_add(n, std::memory_order_release);
          n = 0;
        }
      }
      if (const uint64_t d = dropped_.load(std::memory_order_relaxed); d != reported_drops) {
        detail::AppendLine(buffer, {LogLevel::kWarn, NowUnixMicros(),
                                    "event=log_lines_dropped count=" +
                                        std::to_string(d - reported_drops) +
                                        " reason=queue_full"});
        reported_drops = d;
      }
      WriteOut(buffer);
      written_.fetch_add(n, std::memory_order_release);
      if (stop_.load(std::memory_order_seq_cst) && !queue_.Ready()) return;

      const uint32_t seen = signal_.load(std::memory_order_acquire);
      sleeping_.store(true, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      if (!queue_.Ready() && !stop_.load(std::memory_order_seq_cst)) signal_.wait(seen);
      sleeping_.store(false, std::memory_order_relaxed);
    }
  }

  static void WriteOut(std::string& buffer) {
    size_t done = 0;
    while (done < buffer.size()) {
      const ssize_t n = ::write(STDERR_FILENO, buffer.data() + done, buffer.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // stderr is gone: nothing sensible left to do with the lines
      done += static_cast<size_t>(n);
    }
    buffer.clear();
    if (buffer.capacity() > 4 * kBatchBytes) buffer.shrink_to_fit();
  }

  detail::LogQueue queue_;
  std::atomic<uint64_t> pushed_{0};
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint32_t> signal_{0};
  std::atomic<bool> sleeping_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: starts after the members it uses
};

AsyncLog& Log() {
  static AsyncLog log;  // constructed on first use; drains and joins at exit
  return log;
}

}  // namespace

Field::Field(std::string_view k, double v) : key(k) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  value = buf;
}

static void AppendValue(std::string& out, std::string_view v) {
  bool quote = v.empty();
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t' || c == '\\') {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\t': out.append("\\t"); break;
      default: out.push_back(c);
    }
  }
  out.push_back('"');
}

void AppendField(std::string& line, std::string_view key, std::string_view value) {
  line.push_back(' ');
  line.append(key);
  line.push_back('=');
  AppendValue(line, value);
}

void SetLevel(LogLevel level) { g_min_level.store(static_cast<int>(level)); }

bool Enabled(LogLevel level) { return static_cast<int>(level) >= g_min_level.load(); }

void Event(LogLevel level, std::string_view event, std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  std::string line;
  line.reserve(64 + fields.size() * 24);
  line.append("event=");
  line.append(event);
  for (const Field& f : fields) AppendField(line, f.key, f.value);
  Log().Push(level, std::move(line));
}

void Line(LogLevel level, std::string_view text) {
  if (!Enabled(level)) return;
  Log().Push(level, std::string(text));
}

void Flush() { Log().Flush(); }

}  // namespace mg::log
