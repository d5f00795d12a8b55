#include "bench/scanfile/scan_surface.hpp"

#include <algorithm>
#include <cmath>

#include "bench/analysis/text.hpp"

namespace derma::scanfile {

using analysis::text;

std::size_t ScanSurface::valid_points() const {
  return static_cast<std::size_t>(
      std::count_if(height_um.begin(), height_um.end(), [](float h) { return !std::isnan(h); }));
}

namespace {

// Relative difference below which two pitches are the same (file round-off).
constexpr double kSamePitch = 1e-6;

float bilinear(const ScanSurface& s, double fx, double fy) {
  const int ix = std::min(static_cast<int>(fx), s.nx - 2);
  const int iy = std::min(static_cast<int>(fy), s.ny - 2);
  const double tx = fx - ix, ty = fy - iy;
  const double h00 = s.at(ix, iy), h10 = s.at(ix + 1, iy);
  const double h01 = s.at(ix, iy + 1), h11 = s.at(ix + 1, iy + 1);
  // NaN propagates through the arithmetic: a pixel next to a hole is a hole.
  return static_cast<float>((h00 * (1 - tx) + h10 * tx) * (1 - ty) +
                            (h01 * (1 - tx) + h11 * tx) * ty);
}

}  // namespace

std::expected<analysis::HeightMap, std::string> to_height_map(const ScanSurface& s) {
  if (s.nx < 2 || s.ny < 2)
    return std::unexpected(
        text("the map has %d x %d points: at least 2 x 2 are needed", s.nx, s.ny));
  if (!(s.pitch_x_um > 0) || !(s.pitch_y_um > 0) || !std::isfinite(s.pitch_x_um) ||
      !std::isfinite(s.pitch_y_um))
    return std::unexpected(
        text("pitch %g x %g um: pitches must be positive", s.pitch_x_um, s.pitch_y_um));
  if (s.height_um.size() != static_cast<std::size_t>(s.nx) * s.ny)
    return std::unexpected(text("%zu heights for %d x %d points", s.height_um.size(), s.nx, s.ny));

  analysis::HeightMap map;
  map.x0_um = s.x0_um;
  map.y0_um = s.y0_um;
  const double larger = std::max(s.pitch_x_um, s.pitch_y_um);
  if (std::abs(s.pitch_x_um - s.pitch_y_um) <= kSamePitch * larger) {
    map.rows = s.nx;
    map.cols = s.ny;
    map.pitch_um = s.pitch_x_um;
    map.height_um = s.height_um;
    return map;
  }

  const double pitch = std::min(s.pitch_x_um, s.pitch_y_um);
  const double length_x = (s.nx - 1) * s.pitch_x_um, length_y = (s.ny - 1) * s.pitch_y_um;
  map.pitch_um = pitch;
  map.rows = static_cast<int>(std::floor(length_x / pitch * (1 + kSamePitch))) + 1;
  map.cols = static_cast<int>(std::floor(length_y / pitch * (1 + kSamePitch))) + 1;
  map.height_um.resize(static_cast<std::size_t>(map.rows) * map.cols);
  for (int r = 0; r < map.rows; ++r) {
    const double fx = std::min(r * pitch / s.pitch_x_um, double(s.nx - 1));
    for (int c = 0; c < map.cols; ++c) {
      const double fy = std::min(c * pitch / s.pitch_y_um, double(s.ny - 1));
      map.height_um[static_cast<std::size_t>(r) * map.cols + c] = bilinear(s, fx, fy);
    }
  }
  return map;
}

}  // namespace derma::scanfile
