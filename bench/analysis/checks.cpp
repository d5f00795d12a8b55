// analyse_roll: works out once what several checks share (channels, lattice, match,
// steady stroke), runs the requested checks, then applies the data-quality gates: a
// check computed on data with gaps, or on a scan taken too late, is an Error, never a Pass.
#include "bench/analysis/checks.hpp"

#include <algorithm>

#include "bench/analysis/channel_detection.hpp"
#include "bench/analysis/channel_matching.hpp"
#include "bench/analysis/check_context.hpp"
#include "bench/analysis/lattice.hpp"
#include "bench/analysis/roll_segments.hpp"
#include "bench/analysis/text.hpp"

namespace derma::analysis {

namespace {

using detail::CheckContext;
using CheckFunction = CheckResult (*)(const CheckContext&);

struct CheckDefinition {
  const char* id;
  CheckFunction run;
  bool needs_scan;
};

constexpr CheckDefinition kChecks[] = {
    {"penetration_depth", detail::check_penetration_depth, true},
    {"channel_density", detail::check_channel_density, true},
    {"missing_channels", detail::check_missing_channels, true},
    {"force_consistency", detail::check_force_consistency, false},
    {"depth_uniformity", detail::check_depth_uniformity, true},
    {"roll_slip", detail::check_roll_slip, false},
};

const CheckDefinition* find_check(const std::string& id) {
  for (const auto& check : kChecks)
    if (id == check.id) return &check;
  return nullptr;
}

std::optional<std::string> geometry_problem(const RollerGeometry& g) {
  if (g.discs <= 0 || g.needles_per_disc <= 0)
    return text("roller geometry has %d discs x %d needles: no needles", g.discs,
                g.needles_per_disc);
  if (!(g.drum_diameter_mm > 0) || !(g.width_mm > 0) || !(g.needle_diameter_mm > 0))
    return text(
        "roller geometry has drum %g mm x %g mm, needles %g mm across: sizes must "
        "be positive",
        g.drum_diameter_mm, g.width_mm, g.needle_diameter_mm);
  return std::nullopt;
}

// Turns a computed result into an Error that keeps its figures but says why it can't stand.
void mark_error(CheckResult& result, const std::string& why) {
  result.findings.push_back({std::nullopt, std::nullopt, why});
  if (result.verdict != Verdict::Error) {
    result.summary = why + " (measured: " + result.summary + ")";
    result.verdict = Verdict::Error;
  }
}

}  // namespace

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::Pass:
      return "pass";
    case Verdict::Fail:
      return "fail";
    case Verdict::Error:
      return "error";
  }
  return "error";
}

const char* to_string(ChannelState state) {
  switch (state) {
    case ChannelState::Measured:
      return "measured";
    case ChannelState::CutByEdge:
      return "cut_by_edge";
    case ChannelState::CutByGap:
      return "cut_by_gap";
    case ChannelState::NoReference:
      return "no_reference";
    case ChannelState::FloorUnreadable:
      return "floor_unreadable";
  }
  return "measured";
}

const std::vector<std::string>& all_check_ids() {
  static const std::vector<std::string> ids = [] {
    std::vector<std::string> out;
    for (const auto& check : kChecks) out.emplace_back(check.id);
    return out;
  }();
  return ids;
}

Analysis analyse_roll(const RollRecord& roll, const ScanRecord& scan,
                      const RollerGeometry& geometry, const SpecLimits& limits,
                      const std::vector<std::string>& check_ids) {
  Analysis out;

  // What cannot be analysed at all, per input.
  std::optional<std::string> roll_issue = geometry_problem(geometry);
  if (!roll_issue) roll_issue = roll_problem(roll);
  std::optional<std::string> scan_issue;
  const bool any_scan_check = std::any_of(check_ids.begin(), check_ids.end(), [](const auto& id) {
    const auto* check = find_check(id);
    return check && check->needs_scan;
  });

  std::vector<RollSegment> steady;
  if (!roll_issue) steady = find_steady_segments(roll);

  LatticeMatch match;
  if (any_scan_check) {
    if (auto detection = detect_channels(scan.map)) {
      out.channels = std::move(detection->channels);
    } else {
      scan_issue = "scan cannot be analysed: " + detection.error();
    }
    if (!roll_issue && !scan_issue) {
      // A margin of two needle diameters keeps predicted pits whole inside the map.
      const double margin_um = 2.0 * geometry.needle_diameter_mm * 1000.0;
      out.predicted = predictions_in_scan(predict_punctures(roll, geometry), scan.map, margin_um,
                                          geometry.needle_diameter_mm * 500.0);
      const double tolerance_um = 0.4 * lattice_spacing_um(geometry);
      match = match_to_lattice(out.channels, out.predicted, tolerance_um,
                               geometry.needle_diameter_mm * 1000.0);
    }
  }

  const CheckContext context{roll,         scan,          geometry, limits,
                             out.channels, out.predicted, match,    steady};
  for (const std::string& id : check_ids) {
    const CheckDefinition* check = find_check(id);
    if (!check) {
      CheckResult unknown;
      unknown.id = id;
      std::string known;
      for (const auto& k : kChecks) known += std::string(known.empty() ? "" : ", ") + k.id;
      out.checks.push_back(detail::error_result(
          unknown, text("unknown check id '%s' (known: %s)", id.c_str(), known.c_str())));
      continue;
    }
    CheckResult result;
    result.id = check->id;
    if (roll_issue) {
      result = detail::error_result(result, "roll cannot be analysed: " + *roll_issue);
    } else if (check->needs_scan && scan_issue) {
      result = detail::error_result(result, *scan_issue);
    } else {
      result = check->run(context);
    }

    // Data-quality gates: the verdict cannot stand on data with holes or a recovered phantom.
    if (roll.lost_batches > 0)
      mark_error(result, text("roll lost %llu sample batches: the recorded data has gaps",
                              static_cast<unsigned long long>(roll.lost_batches)));
    if (check->needs_scan && scan.lost_chunks > 0)
      mark_error(result, text("scan lost %llu chunks: the height map has holes",
                              static_cast<unsigned long long>(scan.lost_chunks)));
    if (check->needs_scan && scan.pixels_missing > 0)
      mark_error(result, text("%llu pixels of the scanned rectangle never arrived (the scan "
                              "was cut short): the height map is incomplete",
                              static_cast<unsigned long long>(scan.pixels_missing)));
    if (check->needs_scan && limits.scan_delay_max_s > 0 &&
        scan.scan_delay_s > limits.scan_delay_max_s)
      mark_error(result, text("scan taken %.0f s after the roll, later than the %.0f s "
                              "allowed: the channels have recovered",
                              scan.scan_delay_s, limits.scan_delay_max_s));
    out.checks.push_back(std::move(result));
  }
  return out;
}

}  // namespace derma::analysis
