#include "bench/analysis/roll_segments.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "bench/analysis/statistics.hpp"
#include "bench/analysis/text.hpp"

namespace derma::analysis {

namespace {

// Samples [begin, end) that share one pass number, in recording order.
std::vector<RollSegment> pass_blocks(const RollRecord& roll) {
  std::vector<RollSegment> blocks;
  const auto& s = roll.samples;
  std::size_t begin = 0;
  for (std::size_t i = 1; i <= s.size(); ++i) {
    if (i == s.size() || s[i].pass != s[begin].pass) {
      blocks.push_back({begin, i, s[begin].pass, 0});
      begin = i;
    }
  }
  return blocks;
}

}  // namespace

std::optional<std::string> roll_problem(const RollRecord& roll) {
  if (roll.samples.empty()) return "roll has no samples";
  if (roll.encoder_counts_per_rev == 0) return "roll has 0 encoder counts per revolution";
  for (std::size_t i = 0; i < roll.samples.size(); ++i) {
    const RollSample& s = roll.samples[i];
    if (!std::isfinite(s.t_s) || !std::isfinite(s.x_um) || !std::isfinite(s.force_mN))
      return text("roll sample %zu has a non-finite time, position or force", i);
    if (i > 0 && !(s.t_s > roll.samples[i - 1].t_s))
      return text("roll sample %zu at t=%.6f s does not follow sample %zu at t=%.6f s", i, s.t_s,
                  i - 1, roll.samples[i - 1].t_s);
  }
  return std::nullopt;
}

double reference_load_mN(const RollRecord& roll) {
  if (roll.settings.load_mN > 0) return roll.settings.load_mN;
  std::vector<double> forces;
  forces.reserve(roll.samples.size());
  for (const auto& s : roll.samples) forces.push_back(s.force_mN);
  return forces.empty() ? 0.0 : median(forces);
}

bool in_contact(const RollSample& sample, double reference_load_mN, double contact_fraction) {
  return reference_load_mN > 0 && sample.force_mN >= contact_fraction * reference_load_mN;
}

std::vector<double> carriage_speed_um_per_s(const RollRecord& roll, double window_s) {
  const auto& s = roll.samples;
  std::vector<double> speed(s.size(), 0.0);
  for (const RollSegment& block : pass_blocks(roll)) {
    for (std::size_t i = block.begin; i < block.end; ++i) {
      // Widen symmetrically until the window spans window_s, staying inside the pass.
      std::size_t lo = i, hi = i;
      while ((s[hi].t_s - s[lo].t_s) < window_s && (lo > block.begin || hi + 1 < block.end)) {
        if (lo > block.begin) --lo;
        if (hi + 1 < block.end) ++hi;
      }
      if (hi > lo) speed[i] = (s[hi].x_um - s[lo].x_um) / (s[hi].t_s - s[lo].t_s);
    }
  }
  return speed;
}

std::vector<RollSegment> find_steady_segments(const RollRecord& roll,
                                              const SteadyOptions& options) {
  const auto& s = roll.samples;
  const double load = reference_load_mN(roll);
  const std::vector<double> speed = carriage_speed_um_per_s(roll, options.velocity_window_s);

  // The set speed, or (if the settings lack it) the median speed while rolling.
  double set_speed = roll.settings.speed_um_per_s;
  if (!(set_speed > 0)) {
    std::vector<double> moving;
    for (std::size_t i = 0; i < s.size(); ++i)
      if (in_contact(s[i], load, options.contact_fraction) && speed[i] != 0)
        moving.push_back(std::abs(speed[i]));
    if (moving.empty()) return {};
    set_speed = median(moving);
  }
  const double tolerance = options.speed_tolerance_fraction * set_speed;

  std::vector<RollSegment> steady;
  for (const RollSegment& block : pass_blocks(roll)) {
    std::size_t best_begin = 0, best_end = 0, run_begin = block.begin;
    for (std::size_t i = block.begin; i <= block.end; ++i) {
      const bool ok = i < block.end && in_contact(s[i], load, options.contact_fraction) &&
                      std::abs(std::abs(speed[i]) - set_speed) <= tolerance;
      if (ok) continue;
      if (i - run_begin > best_end - best_begin) {
        best_begin = run_begin;
        best_end = i;
      }
      run_begin = i + 1;
    }
    const std::size_t length = best_end - best_begin;
    const auto trim = static_cast<std::size_t>(std::floor(options.trim_fraction * length));
    RollSegment segment{best_begin + trim, best_end - trim, block.pass, 0};
    if (best_end <= best_begin || segment.size() < options.min_samples) continue;
    const auto& a = s[segment.begin];
    const auto& b = s[segment.end - 1];
    segment.speed_um_per_s = (b.x_um - a.x_um) / (b.t_s - a.t_s);
    steady.push_back(segment);
  }
  return steady;
}

std::optional<XRange> rolled_x_range(const RollRecord& roll, double contact_fraction) {
  const double load = reference_load_mN(roll);
  std::optional<XRange> range;
  for (const auto& s : roll.samples) {
    if (!in_contact(s, load, contact_fraction)) continue;
    if (!range) range = XRange{s.x_um, s.x_um};
    range->min_um = std::min(range->min_um, s.x_um);
    range->max_um = std::max(range->max_um, s.x_um);
  }
  return range;
}

int pass_count(const RollRecord& roll) {
  if (roll.samples.empty()) return std::max(1, roll.settings.passes);
  std::set<int> passes;
  for (const auto& s : roll.samples) passes.insert(s.pass);
  return static_cast<int>(passes.size());
}

}  // namespace derma::analysis
