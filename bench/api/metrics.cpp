#include "bench/api/metrics.hpp"

#include <cstdio>

namespace derma::api {

void Metrics::count_http(unsigned status) {
  std::lock_guard lock(mutex_);
  ++http_[status];
}

void Metrics::count_run_state(const std::string& state) {
  std::lock_guard lock(mutex_);
  ++runs_[state];
}

void Metrics::observe_run_duration(double seconds) {
  std::lock_guard lock(mutex_);
  duration_sum_s_ += seconds;
  ++duration_count_;
}

std::string Metrics::render(std::size_t queue_length, bool rig_connected,
                            std::uint64_t rig_reconnects) const {
  std::lock_guard lock(mutex_);
  std::string out;
  out += "# HELP dermabench_runs_total Runs that entered each state since the daemon started.\n";
  out += "# TYPE dermabench_runs_total counter\n";
  for (const char* state :
       {"queued", "running", "passed", "failed", "error", "aborted", "cancelled", "interrupted"}) {
    const auto it = runs_.find(state);
    out += std::string("dermabench_runs_total{state=\"") + state + "\"} " +
           std::to_string(it == runs_.end() ? 0 : it->second) + "\n";
  }
  out += "# HELP dermabench_queue_length Runs waiting for the rig.\n";
  out += "# TYPE dermabench_queue_length gauge\n";
  out += "dermabench_queue_length " + std::to_string(queue_length) + "\n";
  out += "# HELP dermabench_run_duration_seconds Wall time of finished runs.\n";
  out += "# TYPE dermabench_run_duration_seconds summary\n";
  char sum[64];
  std::snprintf(sum, sizeof sum, "%.3f", duration_sum_s_);
  out += std::string("dermabench_run_duration_seconds_sum ") + sum + "\n";
  out += "dermabench_run_duration_seconds_count " + std::to_string(duration_count_) + "\n";
  out += "# HELP dermabench_rig_connected 1 while the rig's link is open (a device rig: held by ";
  out += "the daemon; sim: while a run has it).\n";
  out += "# TYPE dermabench_rig_connected gauge\n";
  out += std::string("dermabench_rig_connected ") + (rig_connected ? "1" : "0") + "\n";
  out += "# HELP dermabench_rig_reconnects_total Times the daemon reconnected a lost device rig.\n";
  out += "# TYPE dermabench_rig_reconnects_total counter\n";
  out += "dermabench_rig_reconnects_total " + std::to_string(rig_reconnects) + "\n";
  out += "# HELP dermabench_http_requests_total HTTP responses by status code.\n";
  out += "# TYPE dermabench_http_requests_total counter\n";
  for (const auto& [code, count] : http_)
    out += "dermabench_http_requests_total{code=\"" + std::to_string(code) + "\"} " +
           std::to_string(count) + "\n";
  return out;
}

}  // namespace derma::api
