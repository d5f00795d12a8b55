// Helpers for the scanfile tests: a scratch directory, and synthetic surfaces with pits
// shaped like the virtual rig's (Gaussian, sigma = needle diameter / 4).
#pragma once

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "bench/scanfile/scan_surface.hpp"

namespace derma::scanfile::test {

class ScratchDir {
 public:
  ScratchDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("dermabench-scanfile-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& bytes) const {
    std::ofstream(path_ / name, std::ios::binary) << bytes;
    return file(name);
  }

 private:
  std::filesystem::path path_;
};

struct Pit {
  double x_um;
  double y_um;
  double depth_um;
};

inline ScanSurface pitted_surface(int nx, int ny, double pitch_um, const std::vector<Pit>& pits,
                                  double noise_um = 0.3, double sigma_um = 62.5,
                                  unsigned seed = 7) {
  ScanSurface s;
  s.nx = nx;
  s.ny = ny;
  s.pitch_x_um = s.pitch_y_um = pitch_um;
  s.format = "test";
  s.height_um.resize(static_cast<std::size_t>(nx) * ny);
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, noise_um);
  for (int ix = 0; ix < nx; ++ix)
    for (int iy = 0; iy < ny; ++iy) {
      double h = noise_um > 0 ? noise(rng) : 0.0;
      for (const Pit& p : pits) {
        const double dx = ix * pitch_um - p.x_um, dy = iy * pitch_um - p.y_um;
        h = std::min(h, -p.depth_um * std::exp(-(dx * dx + dy * dy) / (2 * sigma_um * sigma_um)));
      }
      s.height_um[static_cast<std::size_t>(ix) * ny + iy] = static_cast<float>(h);
    }
  return s;
}

// A DR-192-0.50 lattice on a 10.47 mm (four needle spacings) x 10 mm patch: 4 discs of 4
// needles, odd discs staggered by half a spacing, every pit well inside the patch. That is
// 16 channels on 1.047 cm2, the nominal 15.28 /cm2.
inline std::vector<Pit> dr192_patch_pits(double depth_um = 325.0) {
  std::vector<Pit> pits;
  const double spacing_um = M_PI * 20000.0 / 24.0;
  for (int disc = 0; disc < 4; ++disc)
    for (int k = 0; k < 4; ++k) {
      const double x = (disc % 2 ? 0.75 : 0.25) * spacing_um + k * spacing_um;
      // A small deterministic spread, like a good batch of needles (sd about 6 um).
      const double spread = 8.0 * std::sin(1.7 * (disc * 4 + k));
      pits.push_back({x, (disc + 0.5) * 2500.0, depth_um + spread});
    }
  return pits;
}

// A non-square map whose every point differs, so a transposed or mirrored read shows.
inline ScanSurface ramp_surface() {
  ScanSurface s;
  s.nx = 30;
  s.ny = 20;
  s.pitch_x_um = 12.5;
  s.pitch_y_um = 12.5;
  s.x0_um = 1500;
  s.y0_um = -250;
  s.height_um.resize(600);
  for (int ix = 0; ix < s.nx; ++ix)
    for (int iy = 0; iy < s.ny; ++iy)
      s.height_um[ix * s.ny + iy] = static_cast<float>(3.0 * ix - 1.1 * iy - 20.0);
  s.height_um[7 * s.ny + 3] = derma::analysis::HeightMap::kNoData;  // a hole
  return s;
}

// text with its one occurrence of from replaced by to.
inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace derma::scanfile::test
