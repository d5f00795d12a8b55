// Finding channels in a height map: fit the phantom's form, label the connected regions that
// lie clearly below it, join the pieces of a channel that unreadable points separate, and
// measure each channel (channel_measurement.hpp; definitions in docs/measurement.md).
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "bench/analysis/checks.hpp"
#include "bench/analysis/form_surface.hpp"
#include "bench/analysis/records.hpp"

namespace derma::analysis {

struct DetectionOptions {
  // A pixel belongs to a channel when it lies this far below the form:
  // max(threshold_sigmas * residual sigma, min_threshold_um). Six sigma keeps false pixels
  // out of a 16-megapixel map; the floor keeps surface texture out when noise is tiny.
  double threshold_sigmas = 6.0;
  double min_threshold_um = 10.0;
  // Regions smaller than this are noise or a spike, not a needle's channel.
  int min_area_px = 4;
  // Pieces of one channel that unreadable points separate lie this close (between their
  // boxes, at least 2 pixels); they are measured as one channel. Two needles' channels lie
  // a millimetre or more apart.
  double join_gap_um = 50;
  FormOptions form;
};

struct ChannelDetection {
  std::vector<Channel> channels;  // unmatched: disc and index are empty
  FormSurface form;
  double residual_sigma_um = 0;  // robust sd of the surface about the form
  double threshold_um = 0;       // depth below the form that made a pixel part of a channel
  std::size_t valid_pixels = 0;
};

// Why a map cannot be analysed (sizes that do not add up, bad pitch), or nothing.
std::optional<std::string> map_problem(const HeightMap& map);

std::expected<ChannelDetection, std::string> detect_channels(const HeightMap& map,
                                                             const DetectionOptions& options = {});

}  // namespace derma::analysis
