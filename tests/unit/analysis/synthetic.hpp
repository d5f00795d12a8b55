// Test helper: synthesises what the rig records, from the same physical model the virtual
// rig uses, but written independently of the analysis code so the tests can catch it out.
//  - a roll: trapezoidal X (accelerate, steady, decelerate), encoder counts that turn
//    (1 - slip) * X / R, noisy force around the load;
//  - a height map: tilted plane + white noise, with a Gaussian pit
//    h(r) = -depth * exp(-r^2 / (2 sigma^2)), sigma = needle diameter / 4, at every
//    puncture the lattice convention of RollerGeometry puts it.
#pragma once

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "bench/analysis/records.hpp"

namespace derma::analysis::testing {

struct RollOptions {
  RollerGeometry geometry;
  double start_x_um = 5000;
  double stroke_um = 30000;
  double speed_um_per_s = 20000;
  double accel_um_per_s2 = 200000;  // 0.1 s ramps
  double dwell_s = 0.05;            // stationary in contact before and after the stroke
  double load_mN = 10000;
  double force_noise_fraction = 0.005;
  double force_drift_fraction = 0;  // linear change of force over the roll
  double slip_fraction = 0;
  double sample_rate_hz = 1000;
  std::uint32_t counts_per_rev = 4096;
  std::int64_t start_counts = 0;
  unsigned seed = 1;
};

// X of a trapezoidal move of `stroke` at time t after it starts.
inline double trapezoid_x(const RollOptions& o, double t, double* duration = nullptr) {
  const double v = o.speed_um_per_s, a = o.accel_um_per_s2;
  const double t_ramp = v / a, d_ramp = v * v / (2 * a);
  const double t_flat = (o.stroke_um - 2 * d_ramp) / v;
  const double total = 2 * t_ramp + t_flat;
  if (duration) *duration = total;
  if (t <= 0) return 0;
  if (t < t_ramp) return 0.5 * a * t * t;
  if (t < t_ramp + t_flat) return d_ramp + v * (t - t_ramp);
  if (t < total) {
    const double u = total - t;
    return o.stroke_um - 0.5 * a * u * u;
  }
  return o.stroke_um;
}

inline RollRecord make_roll(const RollOptions& o) {
  RollRecord roll;
  roll.settings = {o.start_x_um, o.stroke_um, o.speed_um_per_s, o.load_mN, 1, o.sample_rate_hz};
  roll.encoder_counts_per_rev = o.counts_per_rev;
  std::mt19937 rng(o.seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  double move_s = 0;
  trapezoid_x(o, 0, &move_s);
  const double total_s = move_s + 2 * o.dwell_s;
  const double radius_um = o.geometry.drum_diameter_mm * 500.0;
  const auto n = static_cast<std::size_t>(total_s * o.sample_rate_hz) + 1;
  for (std::size_t k = 0; k < n; ++k) {
    RollSample s;
    s.t_s = double(k) / o.sample_rate_hz;
    const double travel = trapezoid_x(o, s.t_s - o.dwell_s);
    s.x_um = o.start_x_um + travel;
    const double turns = (1.0 - o.slip_fraction) * travel / radius_um / (2 * M_PI);
    s.encoder_counts = o.start_counts + std::llround(turns * o.counts_per_rev);
    s.force_mN = o.load_mN * (1.0 + o.force_drift_fraction * s.t_s / total_s) *
                 (1.0 + o.force_noise_fraction * noise(rng));
    s.z_um = 500;
    s.temperature_C = 32;
    roll.samples.push_back(s);
  }
  return roll;
}

struct Pit {
  int disc = 0;
  int index = 0;
  double x_um = 0;
  double y_um = 0;
  double depth_um = 0;
};

// Depth of needle (d, i) at drum angle phi and lane position y (mm).
using DepthModel = std::function<double(int disc, int index, double phi, double y_mm)>;

inline DepthModel constant_depth(double depth_um) {
  return [depth_um](int, int, double, double) { return depth_um; };
}

// Every puncture of the roll, solved analytically from the same convention: needle (d, i)
// is down when theta = phi (mod 2 pi), theta = theta0 + (1 - slip) * (x - start) / R.
inline std::vector<Pit> lattice_pits(const RollOptions& o, const DepthModel& depth) {
  std::vector<Pit> pits;
  const RollerGeometry& g = o.geometry;
  const double radius_um = g.drum_diameter_mm * 500.0;
  const double theta0 = 2 * M_PI * double(o.start_counts) / o.counts_per_rev;
  const double theta1 = theta0 + (1.0 - o.slip_fraction) * o.stroke_um / radius_um;
  for (int d = 0; d < g.discs; ++d) {
    for (int i = 0; i < g.needles_per_disc; ++i) {
      const double phi = g.needle_angle_rad(d, i);
      for (long k = std::lround(std::ceil((theta0 - phi) / (2 * M_PI)));
           phi + 2 * M_PI * k <= theta1; ++k) {
        const double theta = phi + 2 * M_PI * k;
        const double x = o.start_x_um + (theta - theta0) * radius_um / (1.0 - o.slip_fraction);
        const double y_mm = g.disc_y_mm(d);
        pits.push_back({d, i, x, y_mm * 1000.0, depth(d, i, phi, y_mm)});
      }
    }
  }
  return pits;
}

struct MapOptions {
  int rows = 2000;
  int cols = 1000;
  double pitch_um = 20;
  double x0_um = 0;
  double y0_um = 0;
  double offset_um = 40;
  double tilt_x_um_per_mm = 0.8;
  double tilt_y_um_per_mm = -0.6;
  double noise_sd_um = 0.5;
  double pit_sigma_um = 62.5;  // needle diameter / 4
  unsigned seed = 2;
};

inline HeightMap make_map(const MapOptions& o, const std::vector<Pit>& pits) {
  HeightMap map;
  map.rows = o.rows;
  map.cols = o.cols;
  map.pitch_um = o.pitch_um;
  map.x0_um = o.x0_um;
  map.y0_um = o.y0_um;
  map.height_um.resize(static_cast<std::size_t>(o.rows) * o.cols);
  std::mt19937 rng(o.seed);
  std::normal_distribution<float> noise(0.0f, float(o.noise_sd_um));
  for (int r = 0; r < o.rows; ++r)
    for (int c = 0; c < o.cols; ++c)
      map.height_um[static_cast<std::size_t>(r) * o.cols + c] =
          float(o.offset_um + o.tilt_x_um_per_mm * map.x_um(r) / 1000.0 +
                o.tilt_y_um_per_mm * map.y_um(c) / 1000.0) +
          noise(rng);
  const double s = o.pit_sigma_um;
  const int reach = static_cast<int>(std::ceil(6 * s / o.pitch_um));
  for (const Pit& p : pits) {
    const int rc = static_cast<int>(std::lround((p.x_um - o.x0_um) / o.pitch_um));
    const int cc = static_cast<int>(std::lround((p.y_um - o.y0_um) / o.pitch_um));
    for (int r = std::max(0, rc - reach); r <= std::min(o.rows - 1, rc + reach); ++r) {
      for (int c = std::max(0, cc - reach); c <= std::min(o.cols - 1, cc + reach); ++c) {
        const double dx = map.x_um(r) - p.x_um, dy = map.y_um(c) - p.y_um;
        map.height_um[static_cast<std::size_t>(r) * o.cols + c] -=
            float(p.depth_um * std::exp(-(dx * dx + dy * dy) / (2 * s * s)));
      }
    }
  }
  return map;
}

// A scan of the lane that covers the roll with 5 mm to spare each way.
inline MapOptions map_for(const RollOptions& roll, double pitch_um = 20) {
  MapOptions m;
  m.pitch_um = pitch_um;
  m.x0_um = roll.start_x_um - 5000;
  m.rows = static_cast<int>((roll.stroke_um + 10000) / pitch_um);
  m.cols = static_cast<int>(roll.geometry.width_mm * 1000 / pitch_um);
  m.pit_sigma_um = roll.geometry.needle_diameter_mm * 1000 / 4;
  return m;
}

}  // namespace derma::analysis::testing
