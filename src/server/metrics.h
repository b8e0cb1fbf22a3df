// Prometheus text exposition (https://prometheus.io/docs/instrumenting/exposition_formats/):
// requests by route template and status class, a latency histogram, requests in flight,
// sign-ins by outcome, and uptime. Labels are route templates only, never paths, so neither
// identifiers nor unbounded label sets reach the metrics.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace joinedup::server {

class Metrics {
 public:
  // Upper bounds of the latency buckets, seconds (the +Inf bucket is implicit).
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1.0,  2.5,   10.0};

  explicit Metrics(int64_t started_at_ms) : started_at_ms_(started_at_ms) {}

  void RequestStarted() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void RequestFinished() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }
  void Observe(std::string_view route, int status, double seconds);
  void SignIn(bool ok) { (ok ? sign_ins_ok_ : sign_ins_failed_).fetch_add(1); }

  std::string Text(int64_t now_ms) const;

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};  // non-cumulative counts
    uint64_t count = 0;
    double sum = 0;
  };
  const int64_t started_at_ms_;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<uint64_t> sign_ins_ok_{0}, sign_ins_failed_{0};
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, uint64_t> requests_;  // (route, "2xx") → count
  std::map<std::string, Histogram> latency_;                          // route → histogram
};

}  // namespace joinedup::server
