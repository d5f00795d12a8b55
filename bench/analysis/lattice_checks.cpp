// channel_density and missing_channels: how many channels the roll left, per area and
// against the needles the lattice says went in.
#include <algorithm>
#include <bit>
#include <cmath>
#include <map>

#include "bench/analysis/check_context.hpp"

namespace derma::analysis::detail {

CheckResult check_channel_density(const CheckContext& context) {
  CheckResult result;
  result.id = "channel_density";
  result.unit = "1/cm2";
  result.lower_limit = limit_if_set(context.limits.density_min_per_cm2);
  result.upper_limit = limit_if_set(context.limits.density_max_per_cm2);

  // The counting window: scanned AND rolled. X: where the drum axis went while in contact
  // (needles puncture directly below it); Y: the drum's width from the reference shoulder.
  const HeightMap& map = context.scan.map;
  const auto track = rolled_x_range(context.roll);
  if (!track) return error_result(result, "the drum never pressed on the phantom: no rolled area");
  const double x_lo = std::max(track->min_um, map.x_um(0));
  const double x_hi = std::min(track->max_um, map.x_um(map.rows - 1));
  const double y_lo = std::max(0.0, map.y_um(0));
  const double y_hi = std::min(context.geometry.width_mm * 1000.0, map.y_um(map.cols - 1));
  if (!(x_hi > x_lo) || !(y_hi > y_lo))
    return error_result(
        result, text("the scan (x %.1f-%.1f mm, y %.1f-%.1f mm) does not overlap the "
                     "rolled track (x %.1f-%.1f mm, y 0-%.1f mm)",
                     map.x_um(0) / 1000, map.x_um(map.rows - 1) / 1000, map.y_um(0) / 1000,
                     map.y_um(map.cols - 1) / 1000, track->min_um / 1000, track->max_um / 1000,
                     context.geometry.width_mm));

  // Area the scanner actually read inside the window: unreadable pixels hide channels, so
  // they must not count as area either.
  const int r0 = static_cast<int>(std::ceil((x_lo - map.x0_um) / map.pitch_um));
  const int r1 = static_cast<int>(std::floor((x_hi - map.x0_um) / map.pitch_um));
  const int c0 = static_cast<int>(std::ceil((y_lo - map.y0_um) / map.pitch_um));
  const int c1 = static_cast<int>(std::floor((y_hi - map.y0_um) / map.pitch_um));
  std::size_t readable = 0;
  for (int r = r0; r <= r1; ++r)
    for (int c = c0; c <= c1; ++c) readable += !std::isnan(map.at(r, c));
  const double area_cm2 = double(readable) * map.pitch_um * map.pitch_um / 1e8;
  if (!(area_cm2 > 0)) return error_result(result, "no readable pixel in the rolled, scanned area");

  // A channel counts when its centre lies in the window: with that rule a channel cut by
  // the window's edge counts on one side only, so the count is unbiased. Partial channels
  // (cut by a gap) count too: their centre is rough but they are channels.
  // Density is per pass: a hole that several passes punctured again (the drum retraces its
  // track) counts once for each of those passes, so a retraced multi-pass roll reads the
  // same per-pass density as a single pass.
  std::vector<std::uint32_t> passes_seen(context.channels.size(), 0);  // bit per pass
  for (std::size_t p = 0; p < context.predicted.size(); ++p) {
    const auto& channel = context.match.channel_of_prediction[p];
    if (channel && context.predicted[p].pass < 32)
      passes_seen[*channel] |= 1u << context.predicted[p].pass;
  }
  std::size_t count = 0;
  std::size_t impressions = 0;
  for (std::size_t i = 0; i < context.channels.size(); ++i) {
    const Channel& c = context.channels[i];
    if (c.x_um < x_lo || c.x_um > x_hi || c.y_um < y_lo || c.y_um > y_hi) continue;
    ++count;
    impressions += std::max(1, std::popcount(passes_seen[i]));
  }
  const int passes = std::max(1, pass_count(context.roll));
  result.value = double(impressions) / area_cm2 / passes;
  result.figures.push_back({"channels", double(count), "count"});
  result.figures.push_back({"impressions", double(impressions), "count"});
  result.figures.push_back({"area", area_cm2, "cm2"});
  result.figures.push_back({"passes", double(passes), "count"});
  result.figures.push_back({"nominal", context.geometry.nominal_density_per_cm2(), "1/cm2"});

  judge_density(result);
  result.summary =
      text("%zu channels on %.2f cm2 in %d pass(es): %.2f /cm2 per pass (nominal %.2f)", count,
           area_cm2, passes, result.value, context.geometry.nominal_density_per_cm2());
  return result;
}

CheckResult check_missing_channels(const CheckContext& context) {
  CheckResult result;
  result.id = "missing_channels";
  result.unit = "count";
  result.upper_limit = double(context.limits.missing_max);
  if (context.predicted.empty())
    return error_result(result,
                        "no predicted puncture lies inside the scan: no needle can be judged");

  // Per needle: how many of its predicted impressions found no channel, and where the
  // first one was, so a person can look at it in the map.
  struct Tally {
    int predicted = 0;
    int missed = 0;
    const PredictedChannel* first_missed = nullptr;
  };
  std::map<std::pair<int, int>, Tally> needles;
  std::size_t missed_impressions = 0;
  for (std::size_t p = 0; p < context.predicted.size(); ++p) {
    const PredictedChannel& prediction = context.predicted[p];
    Tally& tally = needles[{prediction.disc, prediction.index}];
    ++tally.predicted;
    if (context.match.channel_of_prediction[p]) continue;
    ++tally.missed;
    ++missed_impressions;
    if (!tally.first_missed) tally.first_missed = &prediction;
  }
  int missing = 0;
  for (const auto& [needle, tally] : needles) {
    if (tally.missed == 0) continue;
    ++missing;
    result.findings.push_back(
        {needle.first, needle.second,
         text("%s: no channel at %d of %d predicted impressions (first at x=%.2f mm, "
              "y=%.2f mm)",
              needle_name(needle.first, needle.second).c_str(), tally.missed, tally.predicted,
              tally.first_missed->x_um / 1000.0, tally.first_missed->y_um / 1000.0)});
  }
  std::size_t unexpected = 0;
  for (const auto& p : context.match.prediction_of_channel) unexpected += !p;

  result.value = missing;
  result.figures.push_back({"needles_judged", double(needles.size()), "count"});
  result.figures.push_back({"needles", double(context.geometry.needle_count()), "count"});
  result.figures.push_back({"impressions_predicted", double(context.predicted.size()), "count"});
  result.figures.push_back({"impressions_missed", double(missed_impressions), "count"});
  result.figures.push_back({"unexpected_channels", double(unexpected), "count"});
  // A needle with no impression in the scan is neither found nor missing, so a scan that
  // misses part of the revolution would pass a roller whose defect printed elsewhere. The
  // check only judges the roller when every needle was seen; what was counted stays in the
  // findings and figures so the partial picture is not lost.
  const int needles_covered = static_cast<int>(needles.size());
  if (needles_covered < context.geometry.needle_count()) {
    const double circumference_mm = M_PI * context.geometry.drum_diameter_mm;
    return error_result(
        result,
        text("only %d of %d needles have a predicted impression judged inside the scan (%d of "
             "them left no channel somewhere): the scan must cover at least one drum "
             "circumference (pi*D = %.1f mm) of the rolled track, on readable phantom, for "
             "every needle to be judged",
             needles_covered, context.geometry.needle_count(), missing, circumference_mm));
  }
  result.verdict = missing > context.limits.missing_max ? Verdict::Fail : Verdict::Pass;
  result.summary = text(
      "%d of %zu needles left no channel somewhere (%zu of %zu impressions missed; limit %d); %zu "
      "unexpected channels",
      missing, needles.size(), missed_impressions, context.predicted.size(),
      context.limits.missing_max, unexpected);
  return result;
}

}  // namespace derma::analysis::detail
