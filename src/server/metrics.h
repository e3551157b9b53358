// @file metrics.h
// @brief Metrics: a registry of counters, gauges and fixed-bucket histograms with labels,
// rendered in the Prometheus text exposition format (version 0.0.4).
//
// Registration (Metrics::Counter/Gauge/Histogram) returns a reference to the series for that
// name + label set, creating it on first use; the reference stays valid for the registry's
// lifetime, so callers look a series up once and cache the reference. Updating a series is
// lock-free (atomics); registering or looking up takes the registry mutex.
//
// Thread-safety: all member functions are thread-safe. The Metrics object is owned by app/ and
// must outlive every component holding series references.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mg::server {

// Label name/value pairs, e.g. {{"route", "/v1/chat"}, {"method", "POST"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing count.
class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Observations counted into fixed buckets (upper bounds, ascending) plus sum and count.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  // Records one observation (seconds for durations).
  void Observe(double value);
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }
  const std::vector<double>& UpperBounds() const { return upper_bounds_; }
  // Non-cumulative count of bucket `i`; i == UpperBounds().size() is the +Inf bucket.
  uint64_t BucketCount(size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // upper_bounds_.size() + 1 entries
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

// Buckets for request latencies in seconds: 5 ms .. 120 s.
std::vector<double> DefaultLatencyBuckets();

class Metrics {
 public:
  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The series `name{labels}`; `help` is used from the first registration of `name`. Names
  // must match [a-zA-Z_:][a-zA-Z0-9_:]* and label names [a-zA-Z_][a-zA-Z0-9_]*; registering one
  // name as two different types is a programmer error (aborts).
  server::Counter& Counter(std::string_view name, std::string_view help, const Labels& labels = {});
  server::Gauge& Gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  // `upper_bounds` applies from the first registration of `name` (later ones reuse it).
  server::Histogram& Histogram(std::string_view name, std::string_view help,
                               const Labels& labels = {},
                               std::vector<double> upper_bounds = DefaultLatencyBuckets());

  // Every family, sorted by name, in Prometheus text format.
  std::string Render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    Labels labels;
    std::unique_ptr<server::Counter> counter;
    std::unique_ptr<server::Gauge> gauge;
    std::unique_ptr<server::Histogram> histogram;
  };
  struct Family {
    Type type;
    std::string help;
    std::vector<double> upper_bounds;
    std::map<std::string, Series> series;  // key: canonical encoding of the labels
  };
  Series& FindOrCreate(std::string_view name, std::string_view help, const Labels& labels,
                       Type type, std::vector<double> upper_bounds);

  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;  // guarded by mu_
};

}  // namespace mg::server
