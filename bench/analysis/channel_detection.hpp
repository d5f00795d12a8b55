// Finding channels in a height map: fit the phantom's surface plane, then label the
// connected regions that lie clearly below it and measure each one (centre, depth, area).
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "bench/analysis/checks.hpp"
#include "bench/analysis/records.hpp"

namespace derma::analysis {

// The phantom surface as a plane in pixel coordinates, centred on the map so the three
// coefficients are well conditioned: height(r, c) = offset + per_row * (r - r0) + per_col * (c -
// c0).
struct SurfacePlane {
  double offset_um = 0;
  double per_row_um = 0;
  double per_col_um = 0;
  double r0 = 0;
  double c0 = 0;
  double at(double r, double c) const {
    return offset_um + per_row_um * (r - r0) + per_col_um * (c - c0);
  }
};

struct DetectionOptions {
  // A pixel belongs to a channel when it lies this far below the plane:
  // max(threshold_sigmas * noise sigma, min_threshold_um). Six sigma keeps false pixels
  // out of a 16-megapixel map; the floor keeps surface waviness out when noise is tiny.
  double threshold_sigmas = 6.0;
  double min_threshold_um = 10.0;
  // Regions smaller than this are noise or dust, not a needle's channel.
  int min_area_px = 4;
  // The plane is fitted on a regular subsample of about this many pixels: a plane has
  // three unknowns, so more samples add time, not accuracy.
  int plane_samples = 16384;
  // Refits exclude samples further than this from the current plane (channels, spikes).
  double clip_sigmas = 3.5;
  int plane_iterations = 4;
};

struct ChannelDetection {
  std::vector<Channel> channels;  // unmatched: disc and index are empty
  SurfacePlane plane;
  double noise_sigma_um = 0;  // robust sigma of the surface residual
  double threshold_um = 0;    // depth below the plane that made a pixel part of a channel
  std::size_t valid_pixels = 0;
};

// Why a map cannot be analysed (sizes that do not add up, bad pitch), or nothing.
std::optional<std::string> map_problem(const HeightMap& map);

// Fits the surface plane robustly: least squares on a subsample, then refits that exclude
// samples far from the plane, so channels and missing pixels do not bias it. Also
// returns the robust noise sigma of the residual.
struct PlaneFit {
  SurfacePlane plane;
  double noise_sigma_um = 0;
  std::size_t valid_pixels = 0;
};
std::expected<PlaneFit, std::string> fit_surface_plane(const HeightMap& map,
                                                       const DetectionOptions& options = {});

std::expected<ChannelDetection, std::string> detect_channels(const HeightMap& map,
                                                             const DetectionOptions& options = {});

}  // namespace derma::analysis
