// force_consistency and roll_slip: what the roll's own samples say, over the steady part
// of the stroke (the ramps are where the force loop and the drum are least settled).
#include <algorithm>
#include <cmath>

#include "bench/analysis/check_context.hpp"
#include "bench/analysis/statistics.hpp"

namespace derma::analysis::detail {

namespace {

constexpr const char* kNoSteady =
    "no steady stroke: the carriage never held its set speed (+/- 5 %) in contact long enough";

// Eight identical readings in a row: with the rig's mN noise at uN resolution, a live cell does
// that far less than once in 10^20 samples; a frozen one does it at once.
constexpr std::size_t kFrozenSensorRun = 8;

std::size_t longest_constant_run(const std::vector<double>& values) {
  std::size_t best = values.empty() ? 0 : 1, run = 1;
  for (std::size_t i = 1; i < values.size(); ++i) {
    run = values[i] == values[i - 1] ? run + 1 : 1;
    best = std::max(best, run);
  }
  return best;
}

// The value of the first run of `length` identical readings.
double frozen_value(const std::vector<double>& values, std::size_t length) {
  std::size_t run = 1;
  for (std::size_t i = 1; i < values.size(); ++i) {
    run = values[i] == values[i - 1] ? run + 1 : 1;
    if (run >= length) return values[i];
  }
  return values.empty() ? 0.0 : values[0];
}

double steady_duration_s(const RollRecord& roll, const std::vector<RollSegment>& segments) {
  double total = 0;
  for (const RollSegment& s : segments)
    total += roll.samples[s.end - 1].t_s - roll.samples[s.begin].t_s;
  return total;
}

}  // namespace

CheckResult check_force_consistency(const CheckContext& context) {
  CheckResult result;
  result.id = "force_consistency";
  result.unit = "%";
  result.upper_limit = limit_if_set(context.limits.force_cv_max_percent);
  if (context.steady.empty()) return error_result(result, kNoSteady);

  // Pooled over the steady segments of all passes, in time order, so drift spans the roll.
  std::vector<double> forces;
  std::size_t saturated = 0;
  for (const RollSegment& segment : context.steady) {
    for (std::size_t i = segment.begin; i < segment.end; ++i) {
      forces.push_back(context.roll.samples[i].force_mN);
      saturated += context.roll.samples[i].force_saturated;
    }
  }
  if (saturated > 0)
    return error_result(result, text("%zu of %zu steady samples saturated the load cell: the force "
                                     "there is unknown",
                                     saturated, forces.size()));
  // A live load cell never repeats a reading exactly for long (its noise alone is mN, its
  // resolution uN): a run of identical readings is a frozen sensor, and a CV of 0 would pass.
  if (const std::size_t run = longest_constant_run(forces); run >= kFrozenSensorRun)
    return error_result(result, text("the load cell read exactly %.3f mN for %zu samples in a row: "
                                     "the sensor is frozen, the force there is unknown",
                                     frozen_value(forces, run), run));
  // Outside the steady stroke too (touch-down, lift-off): a load cell that saturated or
  // froze at any moment of the roll was not measuring, so the roll's force is not known
  // to have been right. Readings of exactly 0 are left out there: a cell may clamp to 0
  // before contact.
  std::vector<double> all_forces;
  std::size_t saturated_anywhere = 0;
  for (const RollSample& sample : context.roll.samples) {
    if (sample.force_mN != 0) all_forces.push_back(sample.force_mN);
    saturated_anywhere += sample.force_saturated;
  }
  if (saturated_anywhere > 0)
    return error_result(result, text("%zu samples of the roll (outside the steady stroke) "
                                     "saturated the load cell: the force there is unknown",
                                     saturated_anywhere));
  if (const std::size_t run = longest_constant_run(all_forces); run >= kFrozenSensorRun)
    return error_result(result, text("the load cell read exactly %.3f mN for %zu samples in a row "
                                     "(outside the steady stroke): the sensor froze",
                                     frozen_value(all_forces, run), run));
  const Summary s = summarise(forces);
  if (!(s.mean > 0))
    return error_result(result, text("mean force %.1f mN over the steady stroke is not a "
                                     "load",
                                     s.mean));
  const double cv = s.sd / s.mean * 100.0;
  const std::size_t tenth = std::max<std::size_t>(1, forces.size() / 10);
  const std::span<const double> all(forces);
  const double first = summarise(all.first(tenth)).mean;
  const double last = summarise(all.last(tenth)).mean;
  const double drift = (last - first) / s.mean * 100.0;

  result.value = cv;
  result.figures.push_back({"mean_force", s.mean, "mN"});
  result.figures.push_back({"sd_force", s.sd, "mN"});
  result.figures.push_back({"cv", cv, "%"});
  result.figures.push_back({"drift", drift, "%"});
  result.figures.push_back({"steady_samples", double(forces.size()), "count"});
  result.figures.push_back(
      {"steady_duration", steady_duration_s(context.roll, context.steady), "s"});

  if (result.upper_limit && cv > *result.upper_limit)
    result.findings.push_back(
        {std::nullopt, std::nullopt,
         text("force CV %.2f %% over the steady stroke exceeds %.2f %%", cv, *result.upper_limit)});
  const auto drift_max = limit_if_set(context.limits.force_drift_max_percent);
  if (drift_max && std::abs(drift) > *drift_max)
    result.findings.push_back(
        {std::nullopt, std::nullopt,
         text("force drift %+.2f %% from the first to the last tenth of the stroke exceeds "
              "+/- %.2f %%",
              drift, *drift_max)});
  result.verdict = result.findings.empty() ? Verdict::Pass : Verdict::Fail;
  result.summary = text("force %.0f mN, CV %.2f %%, drift %+.2f %% over %zu steady samples", s.mean,
                        cv, drift, forces.size());
  return result;
}

CheckResult check_roll_slip(const CheckContext& context) {
  CheckResult result;
  result.id = "roll_slip";
  result.unit = "%";
  if (const auto max = limit_if_set(context.limits.slip_max_percent)) {
    result.lower_limit = -*max;
    result.upper_limit = *max;
  }
  if (context.steady.empty()) return error_result(result, kNoSteady);

  // Rolling without slip turns the drum by X / R. Comparing the two over the steady
  // segments keeps the ramps out, where the drum may skid as the carriage accelerates.
  const double radius_um = context.geometry.drum_diameter_mm * 1000.0 / 2.0;
  const double rad_per_count = 2.0 * M_PI / context.roll.encoder_counts_per_rev;
  double travel_um = 0, arc_um = 0;
  for (const RollSegment& segment : context.steady) {
    const RollSample& a = context.roll.samples[segment.begin];
    const RollSample& b = context.roll.samples[segment.end - 1];
    const double dx = b.x_um - a.x_um;
    const double dtheta = double(b.encoder_counts - a.encoder_counts) * rad_per_count;
    travel_um += std::abs(dx);
    // The angle grows with +X: moving -X, the drum turns back, so the arc counts signed.
    arc_um += (dx >= 0 ? 1.0 : -1.0) * dtheta * radius_um;
  }
  if (!(travel_um > 0))
    return error_result(result, "the carriage did not move in the steady stroke");
  const double slip = (travel_um - arc_um) / travel_um * 100.0;
  result.value = slip;
  result.figures.push_back({"x_travel", travel_um / 1000.0, "mm"});
  result.figures.push_back({"drum_arc", arc_um / 1000.0, "mm"});
  result.figures.push_back({"segments", double(context.steady.size()), "count"});
  if (result.upper_limit && std::abs(slip) > *result.upper_limit)
    result.findings.push_back(
        {std::nullopt, std::nullopt,
         text("slip: drum rolled %.2f mm for %.2f mm of travel (%+.2f %%), limit +/- "
              "%.2f %%",
              arc_um / 1000.0, travel_um / 1000.0, slip, *result.upper_limit)});
  result.verdict = result.findings.empty() ? Verdict::Pass : Verdict::Fail;
  result.summary = text("slip %+.2f %% over %.1f mm of steady travel", slip, travel_um / 1000.0);
  return result;
}

}  // namespace derma::analysis::detail
