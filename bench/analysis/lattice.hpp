// Where the roller's needles should have punctured, from the recorded roll: the encoder
// says when needle (d, i) pointed straight down (drum angle == its lattice angle phi,
// see RollerGeometry), and X at that instant is where it went in.
#pragma once

#include <vector>

#include "bench/analysis/checks.hpp"
#include "bench/analysis/records.hpp"

namespace derma::analysis {

// Every puncture of every needle while the drum was on the phantom (force above
// contact_fraction of the load), x interpolated between the samples around the crossing.
std::vector<PredictedChannel> predict_punctures(const RollRecord& roll,
                                                const RollerGeometry& geometry,
                                                double contact_fraction = 0.5);

// The predictions the scan can judge: inside the map by at least margin_um, where the scanner
// read at least a quarter of the points within seen_radius_um (a needle's radius): a channel's
// walls or floor may be unreadable, an unreadable area (the lane's edge, a dropout) is not
// judged. A prediction outside is neither found nor missing.
std::vector<PredictedChannel> predictions_in_scan(const std::vector<PredictedChannel>& predicted,
                                                  const HeightMap& map, double margin_um,
                                                  double seen_radius_um);

// Distance between neighbouring impressions on the phantom: the smaller of the needle
// pitch around the drum (pi D / n) and the disc pitch across it (W / discs).
double lattice_spacing_um(const RollerGeometry& geometry);

}  // namespace derma::analysis
