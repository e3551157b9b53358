#include "server/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/check.h"

namespace mg::server {
namespace {

bool IsValidName(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Prometheus number formatting: shortest round-trip form, and +Inf/-Inf/NaN spelled out.
void AppendNumber(std::string& out, double v) {
  if (std::isnan(v)) {
    out.append("NaN");
  } else if (std::isinf(v)) {
    out.append(v > 0 ? "+Inf" : "-Inf");
  } else {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, res.ptr);
  }
}

void AppendLabelValue(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out.append("\\\\"); break;
      case '"': out.append("\\\""); break;
      case '\n': out.append("\\n"); break;
      default: out.push_back(c);
    }
  }
}

void AppendHelp(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      default: out.push_back(c);
    }
  }
}

// `{a="1",b="2"}` (with an optional extra label such as le), or nothing when there are none.
void AppendLabels(std::string& out, const Labels& labels, std::string_view extra_name = {},
                  std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return;
  out.push_back('{');
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out.push_back(',');
    first = false;
    out.append(k);
    out.append("=\"");
    AppendLabelValue(out, v);
    out.push_back('"');
  }
  if (!extra_name.empty()) {
    if (!first) out.push_back(',');
    out.append(extra_name);
    out.append("=\"");
    out.append(extra_value);
    out.push_back('"');
  }
  out.push_back('}');
}

// Canonical key of a label set: sorted by name, unambiguous separators.
std::string LabelKey(Labels labels) {
  std::sort(labels.begin(), labels.end());
  std::string key;
  for (const auto& [k, v] : labels) {
    key.append(k);
    key.push_back('\x01');
    key.append(v);
    key.push_back('\x02');
  }
  return key;
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(upper_bounds_.size() + 1)) {
  // Sorted bounds are what makes the lower_bound in Observe correct.
  MG_CHECK(std::is_sorted(upper_bounds_.begin(), upper_bounds_.end()),
           "histogram bucket bounds must be ascending");
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double value) {
  // Prometheus buckets are "less than or equal": the first bound >= value.
  size_t i = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) -
             upper_bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
}

Metrics::Series& Metrics::FindOrCreate(std::string_view name, std::string_view help,
                                       const Labels& labels, Type type,
                                       std::vector<double> upper_bounds) {
  MG_CHECK(IsValidName(name, /*allow_colon=*/true), "invalid metric name");
  for (const auto& [k, v] : labels) {
    MG_CHECK(IsValidName(k, /*allow_colon=*/false) && k != "le", "invalid metric label name");
  }
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    Family family;
    family.type = type;
    family.help = std::string(help);
    family.upper_bounds = std::move(upper_bounds);
    it = families_.emplace(std::string(name), std::move(family)).first;
  }
  Family& family = it->second;
  MG_CHECK(family.type == type, "metric registered twice with different types");
  std::string key = LabelKey(labels);
  auto sit = family.series.find(key);
  if (sit != family.series.end()) return sit->second;
  Series series;
  series.labels = labels;
  switch (type) {
    case Type::kCounter: series.counter = std::make_unique<server::Counter>(); break;
    case Type::kGauge: series.gauge = std::make_unique<server::Gauge>(); break;
    case Type::kHistogram:
      series.histogram = std::make_unique<server::Histogram>(family.upper_bounds);
      break;
  }
  return family.series.emplace(std::move(key), std::move(series)).first->second;
}

Counter& Metrics::Counter(std::string_view name, std::string_view help, const Labels& labels) {
  return *FindOrCreate(name, help, labels, Type::kCounter, {}).counter;
}

Gauge& Metrics::Gauge(std::string_view name, std::string_view help, const Labels& labels) {
  return *FindOrCreate(name, help, labels, Type::kGauge, {}).gauge;
}

Histogram& Metrics::Histogram(std::string_view name, std::string_view help, const Labels& labels,
                              std::vector<double> upper_bounds) {
  return *FindOrCreate(name, help, labels, Type::kHistogram, std::move(upper_bounds)).histogram;
}

std::string Metrics::Render() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, family] : families_) {
    out.append("# HELP ").append(name).push_back(' ');
    AppendHelp(out, family.help);
    out.push_back('\n');
    out.append("# TYPE ").append(name);
    switch (family.type) {
      case Type::kCounter: out.append(" counter\n"); break;
      case Type::kGauge: out.append(" gauge\n"); break;
      case Type::kHistogram: out.append(" histogram\n"); break;
    }
    for (const auto& [key, series] : family.series) {
      switch (family.type) {
        case Type::kCounter:
          out.append(name);
          AppendLabels(out, series.labels);
          out.push_back(' ');
          out.append(std::to_string(series.counter->Value()));
          out.push_back('\n');
          break;
        case Type::kGauge:
          out.append(name);
          AppendLabels(out, series.labels);
          out.push_back(' ');
          AppendNumber(out, series.gauge->Value());
          out.push_back('\n');
          break;
        case Type::kHistogram: {
          const server::Histogram& h = *series.histogram;
          uint64_t cumulative = 0;
          for (size_t i = 0; i <= h.UpperBounds().size(); ++i) {
            cumulative += h.BucketCount(i);
            std::string le;
            if (i < h.UpperBounds().size()) {
              AppendNumber(le, h.UpperBounds()[i]);
            } else {
              le = "+Inf";
            }
            out.append(name).append("_bucket");
            AppendLabels(out, series.labels, "le", le);
            out.push_back(' ');
            out.append(std::to_string(cumulative));
            out.push_back('\n');
          }
          out.append(name).append("_sum");
          AppendLabels(out, series.labels);
          out.push_back(' ');
          AppendNumber(out, h.Sum());
          out.push_back('\n');
          out.append(name).append("_count");
          AppendLabels(out, series.labels);
          out.push_back(' ');
          // The +Inf bucket equals count; report the bucket total so a scrape racing an
          // Observe stays self-consistent.
          out.append(std::to_string(cumulative));
          out.push_back('\n');
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace mg::server
