// Small helpers shared by the benchmark programs: a clock, robust summaries of repeated
// timings, and the "figure against target" lines every benchmark prints.
#pragma once

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace derma::benchmarks {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU time of the calling thread. On a shared machine a busy neighbour steals wall time
// from a measurement (the process waits for a core) but not CPU time, so single-thread
// figures are taken in CPU time and wall time is shown beside them.
inline double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// Median of repeated timings: one slow repetition (another process took the core) does not
// move it, unlike the mean.
inline double median_of(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

inline double min_of(const std::vector<double>& values) {
  return values.empty() ? 0 : *std::min_element(values.begin(), values.end());
}

inline double max_of(const std::vector<double>& values) {
  return values.empty() ? 0 : *std::max_element(values.begin(), values.end());
}

// Collects "figure against target" results and prints them as one aligned table; the
// program's exit code says whether every target was met.
class Targets {
 public:
  enum class Better { Higher, Lower };

  // A figure with a target: passes when value >= target (Higher) or <= target (Lower).
  void check(const std::string& name, double value, const std::string& unit, Better better,
             double target) {
    const bool pass = better == Better::Higher ? value >= target : value <= target;
    char line[256];
    std::snprintf(line, sizeof line, "  %-52s %12.3f %-6s target %s %g %-6s %s", name.c_str(),
                  value, unit.c_str(), better == Better::Higher ? ">=" : "<=", target, unit.c_str(),
                  pass ? "PASS" : "FAIL");
    std::puts(line);
    all_pass_ = all_pass_ && pass;
  }
  // A functional condition (no lost data, same channels): a benchmark that measured wrong
  // data has no figure worth reporting.
  void require(const std::string& name, bool ok, const std::string& detail = "") {
    std::printf("  %-52s %s%s%s\n", name.c_str(), ok ? "PASS" : "FAIL", detail.empty() ? "" : ": ",
                detail.c_str());
    all_pass_ = all_pass_ && ok;
  }
  // A figure without a target, for context.
  static void note(const std::string& name, double value, const std::string& unit) {
    std::printf("  %-52s %12.3f %s\n", name.c_str(), value, unit.c_str());
  }
  bool all_pass() const { return all_pass_; }
  int exit_code() const { return all_pass_ ? 0 : 1; }

 private:
  bool all_pass_ = true;
};

}  // namespace derma::benchmarks
