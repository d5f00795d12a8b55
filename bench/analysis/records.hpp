// What the analysis works on: recorded rolls and scans in physical units, and the roller's
// geometry. Nothing here knows about serial ports or the wire protocol: the runner (live)
// and the capture reader (replay) both convert the rig's raw integers into these records.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace derma::analysis {

// Geometry of a roller model. Lattice convention (shared with the virtual rig, see
// fixtures/rollers/README.md):
//  - disc d (0-based) is centred at y = (d + 0.5) * width_mm / discs from the drum's disc-0
//    face, which sits against the holder's reference shoulder at lane Y = 0;
//  - needle (d, i) sits at drum angle phi = 2*pi*(i + (d odd ? 0.5 : 0)) / needles_per_disc;
//  - the encoder angle theta = 2*pi*counts/counts_per_rev grows as the carriage moves +X;
//    needle (d, i) points straight down, and so punctures the phantom directly below the
//    drum axis, when theta == phi (mod 2*pi). At counts == 0 needle (0, 0) points down.
struct RollerGeometry {
  int discs = 8;
  int needles_per_disc = 24;
  double drum_diameter_mm = 20.0;
  double width_mm = 20.0;
  double needle_length_mm = 0.5;
  double needle_diameter_mm = 0.25;

  int needle_count() const { return discs * needles_per_disc; }
  double disc_y_mm(int disc) const { return (disc + 0.5) * width_mm / discs; }
  double needle_angle_rad(int disc, int index) const {
    const double stagger = (disc % 2 == 1) ? 0.5 : 0.0;
    return 2.0 * M_PI * (index + stagger) / needles_per_disc;
  }
  // Expected channels per cm^2 for one pass: N / (pi * D * W).
  double nominal_density_per_cm2() const {
    return needle_count() / (M_PI * drum_diameter_mm * width_mm) * 100.0;
  }
};

struct RollSample {
  double t_s = 0;                   // time since the first sample of the roll
  double force_mN = 0;              // normal force
  double z_um = 0;                  // drum-axis height above the phantom datum
  double x_um = 0;                  // carriage (drum axis) position along the lane
  std::int64_t encoder_counts = 0;  // cumulative drum angle
  double temperature_C = 0;
  int pass = 0;
  bool force_saturated = false;
};

// What the roll was asked to do (from the suite), kept with the samples.
struct RollSettings {
  double start_x_um = 0;
  double stroke_um = 0;
  double speed_um_per_s = 0;
  double load_mN = 0;
  int passes = 1;
  double sample_rate_hz = 1000;
};

struct RollRecord {
  RollSettings settings;
  std::uint32_t encoder_counts_per_rev = 0;
  std::vector<RollSample> samples;
  std::uint64_t lost_batches = 0;  // stream gaps the link detected: data is incomplete
};

// Areal height map from the rig's scanner. Row r is at x = x0_um + r * pitch_um along the
// lane, column c at y = y0_um + c * pitch_um across it. Heights are in um, larger = higher;
// channels are depressions. NaN marks a pixel the scanner could not read.
struct HeightMap {
  int rows = 0;
  int cols = 0;
  double pitch_um = 10;
  double x0_um = 0;
  double y0_um = 0;
  std::vector<float> height_um;  // row-major, rows * cols

  float at(int r, int c) const { return height_um[static_cast<std::size_t>(r) * cols + c]; }
  double x_um(int r) const { return x0_um + r * pitch_um; }
  double y_um(int c) const { return y0_um + c * pitch_um; }
  static constexpr float kNoData = std::numeric_limits<float>::quiet_NaN();
};

struct ScanRecord {
  HeightMap map;
  double scan_delay_s = 0;                     // roll end to scan, as the rig reports it
  double layer_thickness_um = 0;               // 0 when the phantom is not layered
  std::vector<std::uint32_t> layer_punctures;  // top layer first (layered phantoms only)
  std::uint64_t lost_chunks = 0;               // stream gaps: the map has holes
  // Pixels of the rectangle asked for that never arrived (a scan cut short, or one the rig
  // shaped smaller than asked): the map does not cover what the checks assume it covers.
  std::uint64_t pixels_missing = 0;
};

}  // namespace derma::analysis
