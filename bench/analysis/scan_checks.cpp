// analyse_scan_only: penetration_depth and channel_density on a height map without its
// roll. The judging follows depth_checks.cpp and lattice_checks.cpp (same limits, same
// Cpk rule, same counting rule); what differs is which channels and which area count,
// since no lattice says which needle made a channel or where the drum rolled.
#include "bench/analysis/scan_checks.hpp"

#include <cmath>

#include "bench/analysis/channel_detection.hpp"
#include "bench/analysis/check_context.hpp"
#include "bench/analysis/lattice_density.hpp"
#include "bench/analysis/statistics.hpp"
#include "bench/analysis/text.hpp"

namespace derma::analysis {

namespace {

using detail::error_result;
using detail::limit_if_set;

// Why a channel inside the scan has no depth, for its finding.
std::string unmeasured_reason(const Channel& c) {
  switch (c.state) {
    case ChannelState::FloorUnreadable:
      return text("floor unreadable, at least %.1f um deep", c.depth_um);
    case ChannelState::CutByGap:
      return "partly hidden by an unreadable area";
    case ChannelState::NoReference:
      return "too little readable surface around it for a reference";
    default:
      return to_string(c.state);
  }
}

std::string channel_at(const Channel& c) {
  return text("channel at x=%.2f mm, y=%.2f mm", c.x_um / 1000.0, c.y_um / 1000.0);
}

// Every channel whose depth was measured: not cut by the scan's edge, floor read. A channel
// whose floor could not be read may be the one out of spec: the check cannot pass while there
// is one, though a fail found on the others stands.
CheckResult scan_penetration_depth(const std::vector<Channel>& all, const SpecLimits& limits) {
  CheckResult result;
  result.id = "penetration_depth";
  result.unit = "um";
  result.lower_limit = limit_if_set(limits.depth_lsl_um);
  result.upper_limit = limit_if_set(limits.depth_usl_um);

  std::vector<const Channel*> channels;
  std::vector<double> depths;
  std::size_t partial = 0, unmeasured = 0;
  for (const Channel& c : all) {
    if (c.measured()) {
      channels.push_back(&c);
      depths.push_back(c.depth_um);
    }
    partial += c.partial();
    unmeasured += c.unmeasured();
  }
  const Summary s = summarise(depths);
  result.figures.push_back({"n", double(s.n), "count"});
  result.figures.push_back({"partial", double(partial), "count"});
  result.figures.push_back({"unmeasured", double(unmeasured), "count"});
  if (s.n == 0)
    return error_result(
        result, text("no channel measured in the scan (%zu detected: %zu cut by its edge, %zu "
                     "inside it not measurable): depth cannot be measured",
                     all.size(), partial, unmeasured));
  result.value = s.mean;
  result.figures.push_back({"mean", s.mean, "um"});
  result.figures.push_back({"sd", s.sd, "um"});
  result.figures.push_back({"min", s.min, "um"});
  result.figures.push_back({"max", s.max, "um"});

  std::size_t outside = 0;
  for (const Channel* c : channels) {
    if (result.lower_limit && c->depth_um < *result.lower_limit) {
      result.findings.push_back({std::nullopt, std::nullopt,
                                 text("%s: depth %.1f um below LSL %.1f um", channel_at(*c).c_str(),
                                      c->depth_um, *result.lower_limit)});
      ++outside;
    } else if (result.upper_limit && c->depth_um > *result.upper_limit) {
      result.findings.push_back({std::nullopt, std::nullopt,
                                 text("%s: depth %.1f um above USL %.1f um", channel_at(*c).c_str(),
                                      c->depth_um, *result.upper_limit)});
      ++outside;
    }
  }

  const Capability cap = capability(s, result.lower_limit, result.upper_limit);
  if (cap.cp) result.figures.push_back({"cp", *cap.cp, ""});
  if (cap.cpk) result.figures.push_back({"cpk", *cap.cpk, ""});
  const bool limited = result.lower_limit || result.upper_limit;
  if (limited && s.n < 2)
    return error_result(result, "one channel only: Cpk needs at least two depths");
  const bool incapable = detail::judge_capability(result, cap, s, limits.depth_min_cpk);
  if (outside == 0 && !incapable && unmeasured > 0) {
    for (const Channel& c : all)
      if (c.unmeasured())
        result.findings.push_back(
            {std::nullopt, std::nullopt, text("%s: %s: depth unknown", channel_at(c).c_str(),
                                              unmeasured_reason(c).c_str())});
    return error_result(result, text("%zu channel(s) inside the scan could not be measured: "
                                     "depth unknown, no verdict (%zu measured channels within "
                                     "limits)",
                                     unmeasured, s.n));
  }
  result.verdict = (outside > 0 || incapable) ? Verdict::Fail : Verdict::Pass;
  result.summary = text(
      "%zu channels: depth %.1f +/- %.1f um (min %.1f, max %.1f)%s; %zu outside limits%s%s", s.n,
      s.mean, s.sd, s.min, s.max, (cap.cpk ? text(", Cpk %.2f", *cap.cpk) : std::string()).c_str(),
      outside, incapable ? "; not capable" : "",
      unmeasured ? text("; %zu not measurable", unmeasured).c_str() : "");
  return result;
}

// The needles' lattice read off the channels' positions (lattice_density.hpp): channels whose
// position is known (not cut by the edge; an unreadable floor still has its place) at least a
// needle's radius inside the map, taken as one pass. The plain count over the readable area is kept as a figure: it
// is what a window's edge effect does to a count.
CheckResult scan_channel_density(const HeightMap& map, const std::vector<Channel>& channels,
                                 std::size_t readable, const RollerGeometry& geometry,
                                 const SpecLimits& limits) {
  CheckResult result;
  result.id = "channel_density";
  result.unit = "1/cm2";
  result.lower_limit = limit_if_set(limits.density_min_per_cm2);
  result.upper_limit = limit_if_set(limits.density_max_per_cm2);
  const double area_cm2 = double(readable) * map.pitch_um * map.pitch_um / 1e8;
  if (!(area_cm2 > 0)) return error_result(result, "no readable pixel in the scan");

  // Channels within a needle's radius of the map's edge are left out, all of them: a row of
  // the lattice along the edge kept in part would break Pick's count (the cut ones are some of
  // it), and at a needle's radius no lattice row lies within the few um of scatter of it.
  const double guard_um = geometry.needle_diameter_mm * 500.0;
  const double x_lo = map.x_um(0) + guard_um, x_hi = map.x_um(map.rows - 1) - guard_um;
  const double y_lo = map.y_um(0) + guard_um, y_hi = map.y_um(map.cols - 1) - guard_um;
  std::vector<PlanePoint> placed;
  for (const Channel& c : channels)
    if (!c.partial() && c.x_um >= x_lo && c.x_um <= x_hi && c.y_um >= y_lo && c.y_um <= y_hi)
      placed.push_back({c.x_um, c.y_um});
  const double spacing_um =
      1000.0 * std::min(M_PI * geometry.drum_diameter_mm / geometry.needles_per_disc,
                        geometry.width_mm / geometry.discs);
  const auto lattice = lattice_density(placed, 0.05 * spacing_um);
  result.figures.push_back({"channels", double(placed.size()), "count"});
  result.figures.push_back({"passes", 1.0, "count"});
  result.figures.push_back({"nominal", geometry.nominal_density_per_cm2(), "1/cm2"});
  result.figures.push_back({"count_per_readable_area", double(placed.size()) / area_cm2, "1/cm2"});
  if (!lattice) {
    // Too few channels to span a lattice cell (none, one, a row): only a count says anything,
    // edge effects and all, and a scan without a channel is a roller that left none.
    result.value = double(placed.size()) / area_cm2;
    detail::judge_density(result);
    result.summary = text(
        "%zu channels on %.2f cm2 of readable scan, too few to span a lattice cell: counted over "
        "the area, %.2f /cm2 (nominal %.2f), taken as one pass",
        placed.size(), area_cm2, result.value, geometry.nominal_density_per_cm2());
    return result;
  }
  result.value = lattice->per_cm2;
  result.figures.push_back({"on_hull", double(lattice->boundary_points), "count"});
  result.figures.push_back({"hull_area", lattice->hull_area_mm2 / 100.0, "cm2"});

  detail::judge_density(result);
  result.summary = text(
      "%zu channels, %zu of them on the hull of %.2f cm2 they span: %.2f /cm2 from their lattice "
      "(Pick's theorem; nominal %.2f), taken as one pass",
      placed.size(), lattice->boundary_points, lattice->hull_area_mm2 / 100.0, result.value,
      geometry.nominal_density_per_cm2());
  return result;
}

}  // namespace

const std::vector<std::string>& scan_only_check_ids() {
  static const std::vector<std::string> ids{"penetration_depth", "channel_density"};
  return ids;
}

const std::vector<NotApplicable>& scan_only_not_applicable() {
  static const std::vector<NotApplicable> checks{
      {"missing_channels",
       "needs the roller's lattice from a recorded roll to know where "
       "each needle should have left a channel"},
      {"force_consistency", "needs the force samples of a recorded roll"},
      {"depth_uniformity",
       "needs each channel matched to its needle (drum angle, disc) "
       "through the lattice of a recorded roll"},
      {"roll_slip", "needs the X and encoder samples of a recorded roll"},
  };
  return checks;
}

Analysis analyse_scan_only(const HeightMap& map, const RollerGeometry& geometry,
                           const SpecLimits& limits) {
  Analysis out;
  auto detection = detect_channels(map);
  if (!detection) {
    for (const std::string& id : scan_only_check_ids()) {
      CheckResult result;
      result.id = id;
      out.checks.push_back(error_result(result, "scan cannot be analysed: " + detection.error()));
    }
    return out;
  }
  out.channels = std::move(detection->channels);
  out.checks.push_back(scan_penetration_depth(out.channels, limits));
  out.checks.push_back(
      scan_channel_density(map, out.channels, detection->valid_pixels, geometry, limits));
  return out;
}

}  // namespace derma::analysis
