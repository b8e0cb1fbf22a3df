#include "server/metrics.h"

#include <cstdio>

namespace joinedup::server {
namespace {

// Label values are route templates (ours) but escape as the format says anyway.
std::string Label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string Number(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

}  // namespace

void Metrics::Observe(std::string_view route, int status, double seconds) {
  const int klass = status >= 100 && status <= 599 ? status / 100 : 5;
  std::lock_guard lock(mutex_);
  ++requests_[{std::string(route), std::to_string(klass) + "xx"}];
  Histogram& histogram = latency_[std::string(route)];
  size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
  if (bucket < kBuckets.size()) ++histogram.buckets[bucket];
  ++histogram.count;
  histogram.sum += seconds;
}

std::string Metrics::Text(int64_t now_ms) const {
  std::string out;
  out +=
      "# HELP joinedup_http_requests_total HTTP requests answered, by route template and status "
      "class.\n# TYPE joinedup_http_requests_total counter\n";
  std::lock_guard lock(mutex_);
  for (const auto& [key, count] : requests_)
    out += "joinedup_http_requests_total{route=\"" + Label(key.first) + "\",code=\"" + key.second +
           "\"} " + std::to_string(count) + "\n";
  out +=
      "# HELP joinedup_http_request_duration_seconds Time from the request's headers read to its "
      "response ready to send.\n# TYPE joinedup_http_request_duration_seconds histogram\n";
  for (const auto& [route, histogram] : latency_) {
    const std::string label = "route=\"" + Label(route) + "\"";
    uint64_t cumulative = 0;
    for (size_t b = 0; b < kBuckets.size(); ++b) {
      cumulative += histogram.buckets[b];
      out += "joinedup_http_request_duration_seconds_bucket{" + label + ",le=\"" +
             Number(kBuckets[b]) + "\"} " + std::to_string(cumulative) + "\n";
    }
    out += "joinedup_http_request_duration_seconds_bucket{" + label + ",le=\"+Inf\"} " +
           std::to_string(histogram.count) + "\n";
    out +=
        "joinedup_http_request_duration_seconds_sum{" + label + "} " + Number(histogram.sum) + "\n";
    out += "joinedup_http_request_duration_seconds_count{" + label + "} " +
           std::to_string(histogram.count) + "\n";
  }
  out +=
      "# HELP joinedup_http_requests_in_flight Requests being handled now.\n"
      "# TYPE joinedup_http_requests_in_flight gauge\n"
      "joinedup_http_requests_in_flight " +
      std::to_string(in_flight_.load()) + "\n";
  out +=
      "# HELP joinedup_sign_ins_total Sign-ins (token and session), by outcome.\n"
      "# TYPE joinedup_sign_ins_total counter\n"
      "joinedup_sign_ins_total{outcome=\"ok\"} " +
      std::to_string(sign_ins_ok_.load()) +
      "\n"
      "joinedup_sign_ins_total{outcome=\"failed\"} " +
      std::to_string(sign_ins_failed_.load()) + "\n";
  out +=
      "# HELP joinedup_uptime_seconds Seconds since this server process started.\n"
      "# TYPE joinedup_uptime_seconds gauge\n"
      "joinedup_uptime_seconds " +
      Number(static_cast<double>(now_ms - started_at_ms_) / 1000.0) + "\n";
  return out;
}

}  // namespace joinedup::server
