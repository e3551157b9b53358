#include "core/log.h"

#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

namespace mg::log {
namespace {

std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};

// Writes formatted lines to a file descriptor in batches: lines are appended to a buffer, which
// goes out in one write(2) when the logging queue is empty (nothing more is coming right now),
// when it is large, or on flush. Under load that is one system call per many lines instead of
// one per line; when idle, every line is written at once. Used only by the logging thread.
class BatchingFdSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  BatchingFdSink(int fd, std::function<size_t()> queued) : fd_(fd), queued_(std::move(queued)) {}
  ~BatchingFdSink() override { WriteOut(); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    buffer_.append(formatted.data(), formatted.size());
    if (buffer_.size() >= kBatchBytes || queued_() == 0) WriteOut();
  }
  void flush_() override { WriteOut(); }

 private:
  static constexpr size_t kBatchBytes = 64 * 1024;

  void WriteOut() {
    size_t done = 0;
    while (done < buffer_.size()) {
      const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // stderr is gone: nothing sensible left to do with the lines
      done += static_cast<size_t>(n);
    }
    buffer_.clear();
  }

  int fd_;
  std::function<size_t()> queued_;
  std::string buffer_;
};

// Asynchronous logging: callers (request threads among them) only format the line and queue
// it; one logging thread writes stderr (BatchingFdSink), so a slow reader of stderr never
// blocks a request. When the queue is full the oldest lines are dropped rather than blocking.
struct AsyncLog {
  AsyncLog()
      // 8192 queued lines (~0.8 s of access lines at 10k req/s): spdlog allocates and touches
      // every slot up front (~410 B each), and 65536 slots were 27 MB of RSS (bench/README.md).
      : pool(std::make_shared<spdlog::details::thread_pool>(/*q_max_items=*/8192,
                                                            /*threads_n=*/1)) {
    std::weak_ptr<spdlog::details::thread_pool> weak = pool;
    auto sink = std::make_shared<BatchingFdSink>(STDERR_FILENO, [weak]() -> size_t {
      auto p = weak.lock();
      return p ? p->queue_size() : 0;
    });
    logger = std::make_shared<spdlog::async_logger>("modelgate", std::move(sink), pool,
                                                    spdlog::async_overflow_policy::overrun_oldest);
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    logger->set_level(spdlog::level::debug);
    logger->flush_on(spdlog::level::warn);
  }
  // The logger holds only a weak reference to its pool: this member keeps it alive. Destroyed
  // at exit (logger first), the pool drains what is queued and joins its thread.
  std::shared_ptr<spdlog::details::thread_pool> pool;
  std::shared_ptr<spdlog::async_logger> logger;
};

AsyncLog& Log() {
  static AsyncLog log;  // constructed on first use; lives until exit
  return log;
}

spdlog::logger& Logger() { return *Log().logger; }

spdlog::level::level_enum ToSpd(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
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
  Logger().log(ToSpd(level), std::string_view(line));
}

void Line(LogLevel level, std::string_view text) {
  if (!Enabled(level)) return;
  Logger().log(ToSpd(level), text);
}

void Flush() {
  // An async flush only queues a request: wait (briefly, bounded) until the logging thread has
  // written everything queued before it.
  AsyncLog& log = Log();
  log.logger->flush();
  for (int i = 0; i < 200 && log.pool->queue_size() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace mg::log
