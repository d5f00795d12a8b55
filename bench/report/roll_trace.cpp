#include "bench/report/roll_trace.hpp"

#include <algorithm>
#include <array>

namespace derma::report {

namespace {

TracePoint point_of(const analysis::RollSample& s) {
  return {s.x_um / 1000.0, s.force_mN, s.z_um, s.pass};
}

}  // namespace

std::vector<TracePoint> decimate_trace(const std::vector<analysis::RollSample>& samples,
                                       std::size_t max_points) {
  std::vector<TracePoint> out;
  if (samples.size() <= max_points) {
    out.reserve(samples.size());
    for (const auto& s : samples) out.push_back(point_of(s));
    return out;
  }
  // Up to four extremes per bucket: min/max force and min/max Z.
  const std::size_t buckets = std::max<std::size_t>(1, max_points / 4);
  out.reserve(buckets * 4);
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::size_t begin = b * samples.size() / buckets;
    const std::size_t end = (b + 1) * samples.size() / buckets;
    if (begin >= end) continue;
    std::array<std::size_t, 4> keep = {begin, begin, begin, begin};
    for (std::size_t i = begin; i < end; ++i) {
      if (samples[i].force_mN < samples[keep[0]].force_mN) keep[0] = i;
      if (samples[i].force_mN > samples[keep[1]].force_mN) keep[1] = i;
      if (samples[i].z_um < samples[keep[2]].z_um) keep[2] = i;
      if (samples[i].z_um > samples[keep[3]].z_um) keep[3] = i;
    }
    // In time order, each sample once, so the polyline stays a path along the stroke.
    std::sort(keep.begin(), keep.end());
    const auto last = std::unique(keep.begin(), keep.end());
    for (auto it = keep.begin(); it != last; ++it) out.push_back(point_of(samples[*it]));
  }
  return out;
}

RollTrace make_roll_trace(const analysis::RollRecord& roll,
                          const std::vector<analysis::RollSegment>& steady,
                          std::size_t max_points) {
  RollTrace trace;
  trace.load_set_mN = roll.settings.load_mN;
  trace.samples = roll.samples.size();
  trace.points = decimate_trace(roll.samples, max_points);
  for (const analysis::RollSegment& segment : steady) {
    if (segment.begin >= segment.end || segment.end > roll.samples.size()) continue;
    const analysis::RollSample& first = roll.samples[segment.begin];
    const analysis::RollSample& last = roll.samples[segment.end - 1];
    trace.steady.push_back(
        {segment.pass, first.x_um / 1000.0, last.x_um / 1000.0, first.t_s, last.t_s});
  }
  return trace;
}

}  // namespace derma::report
