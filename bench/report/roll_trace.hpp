// A recorded roll reduced to what a plot needs: force and Z height against X, at most a
// couple of thousand points, and the steady stretches the roll checks judged.
#pragma once

#include <cstddef>
#include <vector>

#include "bench/analysis/records.hpp"
#include "bench/analysis/roll_segments.hpp"
#include "bench/report/run_report.hpp"

namespace derma::report {

inline constexpr std::size_t kMaxTracePoints = 2000;

// Keeps every sample when there are at most max_points; otherwise splits the samples into
// buckets (in time order) and keeps, per bucket, the samples holding the minimum and
// maximum force and Z height, so a puncture spike or a dip survives decimation.
std::vector<TracePoint> decimate_trace(const std::vector<analysis::RollSample>& samples,
                                       std::size_t max_points = kMaxTracePoints);

// The trace of a roll with its steady segments (as find_steady_segments gives them).
RollTrace make_roll_trace(const analysis::RollRecord& roll,
                          const std::vector<analysis::RollSegment>& steady,
                          std::size_t max_points = kMaxTracePoints);

}  // namespace derma::report
