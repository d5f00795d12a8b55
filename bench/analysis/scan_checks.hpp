// The checks that a height map alone can answer, for scans made on another instrument
// (`bench analyze-scan`): with no recorded roll there is no lattice to match channels to
// needles, no rolled track and no force or encoder trace. So:
//  - penetration_depth judges every complete channel found (not only those matched to a
//    needle), with the same limits and Cpk bar as a roll;
//  - channel_density counts channels over the whole readable scanned area, as one pass;
//  - missing_channels, force_consistency, depth_uniformity and roll_slip are not
//    applicable and are left out (scan_only_not_applicable() names them and says why).
#pragma once

#include <string>
#include <vector>

#include "bench/analysis/checks.hpp"
#include "bench/analysis/records.hpp"

namespace derma::analysis {

// The ids analyse_scan_only runs, in report order.
const std::vector<std::string>& scan_only_check_ids();

// Every other check of all_check_ids(), with the reason it needs a roll.
struct NotApplicable {
  std::string id;
  std::string reason;
};
const std::vector<NotApplicable>& scan_only_not_applicable();

// Detects the channels in the map and runs scan_only_check_ids() on them. Channels carry
// no needle. A map that cannot be analysed makes every check an Error saying why.
Analysis analyse_scan_only(const HeightMap& map, const RollerGeometry& geometry,
                           const SpecLimits& limits);

}  // namespace derma::analysis
