// Pairing the channels found in the scan with the punctures the lattice predicts: what is
// left over on either side is a missing needle or an unexpected channel.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "bench/analysis/checks.hpp"

namespace derma::analysis {

struct LatticeMatch {
  std::vector<std::optional<std::size_t>> channel_of_prediction;  // per prediction
  std::vector<std::optional<std::size_t>> prediction_of_channel;  // per channel
};

// Nearest pairs first, one to one, within tolerance_um. Then a prediction that lands within
// coincide_um of a matched one (a later pass re-puncturing the same hole) shares its
// channel instead of being reported missing. Writes the matched needle into each channel.
LatticeMatch match_to_lattice(std::vector<Channel>& channels,
                              const std::vector<PredictedChannel>& predicted, double tolerance_um,
                              double coincide_um);

}  // namespace derma::analysis
