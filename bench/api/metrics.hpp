// Counters for GET /metrics, in the Prometheus text exposition format. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace derma::api {

class Metrics {
 public:
  void count_http(unsigned status);
  void count_run_state(const std::string& state);  // every state a run enters
  void observe_run_duration(double seconds);       // every finished run

  // The queue and rig figures are read at scrape time.
  std::string render(std::size_t queue_length, bool rig_connected,
                     std::uint64_t rig_reconnects) const;

 private:
  mutable std::mutex mutex_;
  std::map<unsigned, std::uint64_t> http_;
  std::map<std::string, std::uint64_t> runs_;
  double duration_sum_s_ = 0;
  std::uint64_t duration_count_ = 0;
};

}  // namespace derma::api
