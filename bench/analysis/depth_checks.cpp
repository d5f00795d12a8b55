// penetration_depth and depth_uniformity: what the matched, complete channels say about
// how deep the needles went, and how that depth varies around the drum and across it.
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "bench/analysis/check_context.hpp"
#include "bench/analysis/statistics.hpp"

namespace derma::analysis::detail {

namespace {

// Channels whose depth can be trusted and attributed: matched to a needle and measured (not
// cut off by the scan edge, floor read). Unexpected channels are not a needle's depth.
std::vector<const Channel*> measurable_channels(const std::vector<Channel>& channels) {
  std::vector<const Channel*> out;
  for (const Channel& c : channels)
    if (c.disc && c.index && c.measured()) out.push_back(&c);
  return out;
}

// Needles that left channels inside the scan that could not be measured (floor lost, hidden in
// part by an unreadable area, no surface read around them), and no channel that could: their
// depth is unknown (docs/measurement.md, "Unreadable points").
std::set<std::pair<int, int>> needles_unmeasured(const std::vector<Channel>& channels) {
  std::set<std::pair<int, int>> unread, measured;
  for (const Channel& c : channels) {
    if (!c.disc || !c.index) continue;
    if (c.measured()) measured.insert({*c.disc, *c.index});
    if (c.unmeasured()) unread.insert({*c.disc, *c.index});
  }
  for (const auto& needle : measured) unread.erase(needle);
  return unread;
}

// Depths grouped by disc and by needle, each group summarised (sorted by disc, index).
void add_group_distributions(const std::vector<const Channel*>& channels, CheckResult& result) {
  std::map<int, std::vector<double>> by_disc;
  std::map<std::pair<int, int>, std::vector<double>> by_needle;
  for (const Channel* c : channels) {
    by_disc[*c->disc].push_back(c->depth_um);
    by_needle[{*c->disc, *c->index}].push_back(c->depth_um);
  }
  const auto group = [](int disc, std::optional<int> index, const std::vector<double>& depths) {
    const Summary s = summarise(depths);
    return CheckResult::Group{disc, index, s.n, s.mean, s.sd, s.min, s.max};
  };
  for (const auto& [disc, depths] : by_disc) result.per_disc.push_back(group(disc, {}, depths));
  for (const auto& [needle, depths] : by_needle)
    result.per_needle.push_back(group(needle.first, needle.second, depths));
}

}  // namespace

CheckResult check_penetration_depth(const CheckContext& context) {
  CheckResult result;
  result.id = "penetration_depth";
  result.unit = "um";
  const SpecLimits& limits = context.limits;
  result.lower_limit = limit_if_set(limits.depth_lsl_um);
  result.upper_limit = limit_if_set(limits.depth_usl_um);

  const auto channels = measurable_channels(context.channels);
  std::vector<double> depths;
  depths.reserve(channels.size());
  for (const Channel* c : channels) depths.push_back(c->depth_um);
  const Summary s = summarise(depths);
  result.figures.push_back({"n", double(s.n), "count"});
  if (s.n == 0)
    return error_result(result, text("no complete channel matched to a needle (%zu detected): "
                                     "depth cannot be measured",
                                     context.channels.size()));
  result.value = s.mean;
  result.figures.push_back({"mean", s.mean, "um"});
  result.figures.push_back({"sd", s.sd, "um"});
  result.figures.push_back({"min", s.min, "um"});
  result.figures.push_back({"max", s.max, "um"});

  const auto unmeasured = needles_unmeasured(context.channels);
  result.figures.push_back({"needles_unmeasured", double(unmeasured.size()), "count"});
  bool fail = false;
  for (const Channel* c : channels) {
    const char* side = nullptr;
    double bound = 0;
    if (result.lower_limit && c->depth_um < *result.lower_limit) {
      side = "below LSL";
      bound = *result.lower_limit;
    } else if (result.upper_limit && c->depth_um > *result.upper_limit) {
      side = "above USL";
      bound = *result.upper_limit;
    }
    if (!side) continue;
    fail = true;
    result.findings.push_back(
        {c->disc, c->index,
         text("%s: depth %.1f um %s %.1f um (channel at x=%.2f mm, y=%.2f mm)",
              needle_name(*c->disc, *c->index).c_str(), c->depth_um, side, bound, c->x_um / 1000.0,
              c->y_um / 1000.0)});
  }

  const Capability cap = capability(s, result.lower_limit, result.upper_limit);
  if (cap.cp) result.figures.push_back({"cp", *cap.cp, ""});
  if (cap.cpk) result.figures.push_back({"cpk", *cap.cpk, ""});
  if (cap.cpl) result.figures.push_back({"cpl", *cap.cpl, ""});
  if (cap.cpu) result.figures.push_back({"cpu", *cap.cpu, ""});
  // The capability the sample proves with 95 % confidence (Bissell 1990): reported, not
  // judged, since the spec's min_cpk is stated for the point estimate.
  if (cap.cpk_lcb95) result.figures.push_back({"cpk_lcb95", *cap.cpk_lcb95, ""});
  add_group_distributions(channels, result);
  const bool limited = result.lower_limit || result.upper_limit;
  if (limited && s.n < 2)
    return error_result(result, "one channel only: Cpk needs at least two depths");
  // sd == 0 leaves Cpk undefined (no spread at all): only the per-channel limits judge.
  const bool incapable = judge_capability(result, cap, s, limits.depth_min_cpk);
  fail = fail || incapable;
  const std::size_t outside = result.findings.size() - (incapable ? 1 : 0);
  // A needle of unknown depth could be out of spec: no pass without it. A fail found on the
  // measured needles stands whatever the others are.
  if (!fail && !unmeasured.empty()) {
    for (const auto& [disc, index] : unmeasured)
      result.findings.push_back(
          {disc, index,
           text("%s: no channel it left could be measured (floor or surroundings unreadable): "
                "depth unknown",
                needle_name(disc, index).c_str())});
    return error_result(result, text("%zu needle(s) left only channels the scanner could not "
                                     "read enough of to measure: depth unknown, no verdict (%zu "
                                     "measured channels within limits)",
                                     unmeasured.size(), s.n));
  }
  result.verdict = fail ? Verdict::Fail : Verdict::Pass;
  result.summary = text(
      "%zu channels: depth %.1f +/- %.1f um (min %.1f, max %.1f)%s; %zu outside limits%s", s.n,
      s.mean, s.sd, s.min, s.max, (cap.cpk ? text(", Cpk %.2f", *cap.cpk) : std::string()).c_str(),
      outside, incapable ? "; not capable" : "");
  return result;
}

CheckResult check_depth_uniformity(const CheckContext& context) {
  CheckResult result;
  result.id = "depth_uniformity";
  result.unit = "um";
  const SpecLimits& limits = context.limits;
  result.upper_limit = limit_if_set(limits.runout_max_um);

  // depth = a + b cos(phi) + c sin(phi) + t (y - W/2): an eccentric drum pushes needles
  // deeper on one side of the revolution (once per turn: the cos/sin pair), a tilted axle
  // pushes one end of the drum deeper (linear in y). y is the needle's disc position,
  // exact by construction, rather than the channel's measured centre.
  const auto channels = measurable_channels(context.channels);
  std::vector<double> ata(16, 0.0), atb(4, 0.0);
  std::set<int> discs;
  std::set<int> slots;
  const double half_width_mm = context.geometry.width_mm / 2.0;
  for (const Channel* c : channels) {
    const double phi = context.geometry.needle_angle_rad(*c->disc, *c->index);
    const double basis[4] = {1.0, std::cos(phi), std::sin(phi),
                             context.geometry.disc_y_mm(*c->disc) - half_width_mm};
    for (int i = 0; i < 4; ++i) {
      atb[i] += basis[i] * c->depth_um;
      for (int j = 0; j < 4; ++j) ata[i * 4 + j] += basis[i] * basis[j];
    }
    discs.insert(*c->disc);
    slots.insert(*c->index * 2 + (*c->disc % 2));
  }
  result.figures.push_back({"n", double(channels.size()), "count"});
  if (channels.size() < 5 || discs.size() < 2 || slots.size() < 3 || !solve_linear(ata, atb, 4))
    return error_result(result,
                        text("%zu complete channels on %zu discs and %zu drum angles: too few to "
                             "separate runout from tilt",
                             channels.size(), discs.size(), slots.size()));
  const double a = atb[0], b = atb[1], c = atb[2], tilt = atb[3];
  const double runout = std::hypot(b, c);
  // Drum angle at which needles go deepest.
  double phase_deg = std::atan2(c, b) * 180.0 / M_PI;
  if (phase_deg < 0) phase_deg += 360.0;

  double ss = 0;
  for (const Channel* ch : channels) {
    const double phi = context.geometry.needle_angle_rad(*ch->disc, *ch->index);
    const double y = context.geometry.disc_y_mm(*ch->disc) - half_width_mm;
    const double r = ch->depth_um - (a + b * std::cos(phi) + c * std::sin(phi) + tilt * y);
    ss += r * r;
  }
  const double residual_sd = std::sqrt(ss / std::max<double>(1.0, double(channels.size()) - 4.0));

  result.value = runout;
  result.figures.push_back({"runout", runout, "um"});
  result.figures.push_back({"runout_phase", phase_deg, "deg"});
  result.figures.push_back({"tilt", tilt, "um/mm"});
  result.figures.push_back({"mean_depth", a, "um"});
  result.figures.push_back({"residual_sd", residual_sd, "um"});

  const auto tilt_max = limit_if_set(limits.tilt_max_um_per_mm);
  if (result.upper_limit && runout > *result.upper_limit)
    result.findings.push_back(
        {std::nullopt, std::nullopt,
         text("runout: depth varies +/- %.1f um around the revolution (deepest at drum "
              "angle %.0f deg), limit %.1f um",
              runout, phase_deg, *result.upper_limit)});
  if (tilt_max && std::abs(tilt) > *tilt_max)
    result.findings.push_back(
        {std::nullopt, std::nullopt,
         text("tilt: depth changes %.2f um per mm across the drum (deeper at the disc-%d "
              "end), limit %.2f um/mm",
              tilt, tilt > 0 ? context.geometry.discs - 1 : 0, *tilt_max)});
  result.verdict = result.findings.empty() ? Verdict::Pass : Verdict::Fail;
  result.summary =
      text("%zu channels: runout %.1f um at %.0f deg, tilt %.2f um/mm, residual sd %.1f um%s",
           channels.size(), runout, phase_deg, tilt, residual_sd,
           result.findings.empty() ? "" : "; out of limits");
  return result;
}

}  // namespace derma::analysis::detail
