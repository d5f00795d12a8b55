// Internal to the analysis library: what analyse_roll works out once (channels, lattice
// predictions, the match, steady segments) and hands to every check, and the check
// functions themselves. Each check only measures and judges; data-quality gates (lost
// frames, late scan, unreadable input) are applied once, by analyse_roll.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bench/analysis/channel_matching.hpp"
#include "bench/analysis/checks.hpp"
#include "bench/analysis/roll_segments.hpp"
#include "bench/analysis/statistics.hpp"
#include "bench/analysis/text.hpp"

namespace derma::analysis::detail {

struct CheckContext {
  const RollRecord& roll;
  const ScanRecord& scan;
  const RollerGeometry& geometry;
  const SpecLimits& limits;
  const std::vector<Channel>& channels;            // detected, matched where possible
  const std::vector<PredictedChannel>& predicted;  // inside the scan
  const LatticeMatch& match;
  const std::vector<RollSegment>& steady;
};

CheckResult check_penetration_depth(const CheckContext& context);
CheckResult check_channel_density(const CheckContext& context);
CheckResult check_missing_channels(const CheckContext& context);
CheckResult check_force_consistency(const CheckContext& context);
CheckResult check_depth_uniformity(const CheckContext& context);
CheckResult check_roll_slip(const CheckContext& context);

// Small helpers shared by the checks.
// penetration_depth's capability bar: a finding when Cpk is below the spec's minimum.
// sd == 0 leaves Cpk undefined (no spread at all): then only per-channel limits judge.
inline bool judge_capability(CheckResult& result, const Capability& cap, const Summary& s,
                             double min_cpk) {
  const bool incapable = cap.cpk && *cap.cpk < min_cpk;
  if (incapable)
    result.findings.push_back(
        {std::nullopt, std::nullopt,
         text("capability: Cpk %.2f below the required %.2f (mean %.1f um, sd %.1f um)", *cap.cpk,
              min_cpk, s.mean, s.sd)});
  return incapable;
}

// channel_density's verdict from its value and limits (rolled and scan-only alike).
inline void judge_density(CheckResult& result) {
  if (result.lower_limit && result.value < *result.lower_limit)
    result.findings.push_back(
        {std::nullopt, std::nullopt,
         text("density %.2f /cm2 below the minimum %.2f /cm2", result.value, *result.lower_limit)});
  if (result.upper_limit && result.value > *result.upper_limit)
    result.findings.push_back(
        {std::nullopt, std::nullopt,
         text("density %.2f /cm2 above the maximum %.2f /cm2", result.value, *result.upper_limit)});
  result.verdict = result.findings.empty() ? Verdict::Pass : Verdict::Fail;
}

inline CheckResult error_result(CheckResult result, std::string why) {
  result.verdict = Verdict::Error;
  result.summary = std::move(why);
  return result;
}

inline std::string needle_name(int disc, int index) {
  return text("needle d%d i%d", disc, index);
}

// A limit of 0 (or below) in SpecLimits means "not limited".
inline std::optional<double> limit_if_set(double value) {
  return value > 0 ? std::optional<double>(value) : std::nullopt;
}

}  // namespace derma::analysis::detail
