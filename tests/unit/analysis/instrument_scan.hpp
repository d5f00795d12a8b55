// Test helper: height maps shaped like an optical profilometer's scan of a rolled phantom,
// written for these tests from the physics of the channels and the instrument, not from the
// analysis (bench/analysis) nor from the virtual rig (fixtures/rigsim), so the tests can catch
// either out. What it makes:
//  - channels of four shapes: a Gaussian pit; a cone (a needle's tip angle) with a rounded
//    floor (its tip radius); a flat-floored cylinder with steep walls; a teardrop (a cone
//    stretched along the roll, more behind the floor than ahead of it);
//  - a raised rim around each opening (displaced material);
//  - the phantom's form: tilt, curvature (a paraboloid of the given radius) and waviness;
//  - the instrument: white noise, quantisation, points lost on slopes beyond its acceptance
//    angle, isolated dropouts, spikes and dust particles.
// Truth: a channel's depth is the form at its floor minus the floor (the rim is not form).
#pragma once

#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <vector>

#include "bench/analysis/records.hpp"

namespace derma::analysis::testing {

enum class Shape { Gaussian, Cone, Flat, Teardrop };

struct ChannelTruth {
  double x_um = 0, y_um = 0;  // floor position
  double depth_um = 0;
  Shape shape = Shape::Gaussian;
  bool floor_hidden = false;  // the scanner reads nothing of its floor
};

struct PhantomForm {
  double tilt_x_deg = 0, tilt_y_deg = 0;
  double curvature_radius_mm = 0;  // 0: flat; > 0: the surface bulges up at the map's centre
  double wave_um = 0;              // amplitude of each of two waves
  double wave_x_mm = 3, wave_y_mm = 4;
};

struct Instrument {
  double noise_um = 0.5;
  double step_um = 0.1;  // quantisation
  double acceptance_deg = 90;  // slopes beyond this lose points...
  double steep_loss = 0;       // ...with this probability
  double dropouts = 0;         // share of all points lost at random
  int spikes = 0;              // single-pixel outliers of +-20..200 um
  int dust = 0;                // particles 20-60 um across, 5-30 um high
};

struct InstrumentScan {
  int rows = 600, cols = 600;
  double pitch_um = 10;
  double rim_um = 4;
  double cone_half_angle_deg = 15, tip_radius_um = 15, opening_radius_um = 125;
  double flat_radius_um = 100, flat_edge_um = 15;
  double teardrop_ahead = 1.2, teardrop_behind = 2.2;  // stretch along X
  PhantomForm form;
  Instrument instrument;
  unsigned seed = 7;

  double form_um(double x, double y) const {
    const double cx = rows * pitch_um / 2, cy = cols * pitch_um / 2;
    double h = 300 + std::tan(form.tilt_x_deg * M_PI / 180) * x +
               std::tan(form.tilt_y_deg * M_PI / 180) * y;
    if (form.curvature_radius_mm > 0) {
      const double r2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
      const double R = form.curvature_radius_mm * 1000;
      h -= R - std::sqrt(std::max(R * R - r2, 0.0));
    }
    h += form.wave_um * std::sin(2 * M_PI * x / (form.wave_x_mm * 1000) + 0.7) +
         form.wave_um * std::sin(2 * M_PI * y / (form.wave_y_mm * 1000) + 2.1);
    return h;
  }

  // Depth below the local surface of a channel at (dx, dy) from its floor.
  double channel_depth_um(const ChannelTruth& t, double dx, double dy) const {
    const auto rounded_cone = [&](double r) {
      const double a = cone_half_angle_deg * M_PI / 180;
      const double apex = t.depth_um + tip_radius_um * (1 / std::sin(a) - 1);
      if (r <= tip_radius_um * std::cos(a))
        return t.depth_um - (tip_radius_um - std::sqrt(tip_radius_um * tip_radius_um - r * r));
      return std::max(0.0, apex - r / std::tan(a));
    };
    switch (t.shape) {
      case Shape::Gaussian: {
        const double s = opening_radius_um / 2;
        return t.depth_um * std::exp(-(dx * dx + dy * dy) / (2 * s * s));
      }
      case Shape::Cone:
        return rounded_cone(std::hypot(dx, dy));
      case Shape::Flat: {
        const double r = std::hypot(dx, dy);
        if (r <= flat_radius_um - flat_edge_um) return t.depth_um;
        return std::max(0.0, t.depth_um * (flat_radius_um - r) / flat_edge_um);
      }
      case Shape::Teardrop: {
        const double sx = dx >= 0 ? teardrop_ahead : teardrop_behind;
        return rounded_cone(std::hypot(dx / sx, dy));
      }
    }
    return 0;
  }

  double rim_height_um(const ChannelTruth& t, double dx, double dy) const {
    const double sx = t.shape == Shape::Teardrop ? (dx >= 0 ? teardrop_ahead : teardrop_behind) : 1;
    const double r = std::hypot(dx / sx, dy);
    const double peak = 1.3 * opening_radius_um, width = 0.35 * opening_radius_um;
    return rim_um * std::exp(-(r - peak) * (r - peak) / (width * width));
  }

  // The scan: heights in um, NaN where the instrument read nothing.
  HeightMap make(const std::vector<ChannelTruth>& channels) const {
    HeightMap map;
    map.rows = rows;
    map.cols = cols;
    map.pitch_um = pitch_um;
    std::vector<double> clean(static_cast<std::size_t>(rows) * cols);
    std::vector<char> floor_hidden(clean.size(), 0);
    const double reach = 3.5 * opening_radius_um * std::max(1.0, teardrop_behind);
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) {
        const double x = r * pitch_um, y = c * pitch_um;
        double h = form_um(x, y);
        for (const ChannelTruth& t : channels) {
          const double dx = x - t.x_um, dy = y - t.y_um;
          if (std::abs(dx) > reach || std::abs(dy) > reach) continue;
          const double d = channel_depth_um(t, dx, dy);
          h += rim_height_um(t, dx, dy) - d;
          if (t.floor_hidden && d > 0.5 * t.depth_um) floor_hidden[std::size_t(r) * cols + c] = 1;
        }
        clean[std::size_t(r) * cols + c] = h;
      }
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> noise(0, instrument.noise_um);
    std::uniform_real_distribution<double> uniform(0, 1);
    map.height_um.resize(clean.size());
    const double tan_limit = std::tan(instrument.acceptance_deg * M_PI / 180);
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) {
        const std::size_t k = std::size_t(r) * cols + c;
        // Slope of the true surface, by central differences.
        const auto at = [&](int rr, int cc) {
          rr = std::clamp(rr, 0, rows - 1);
          cc = std::clamp(cc, 0, cols - 1);
          return clean[std::size_t(rr) * cols + cc];
        };
        const double gx = (at(r + 1, c) - at(r - 1, c)) / (2 * pitch_um);
        const double gy = (at(r, c + 1) - at(r, c - 1)) / (2 * pitch_um);
        const bool steep = std::hypot(gx, gy) > tan_limit;
        const bool lost = floor_hidden[k] || (steep && uniform(rng) < instrument.steep_loss) ||
                          uniform(rng) < instrument.dropouts;
        double h = clean[k] + noise(rng);
        if (instrument.step_um > 0) h = std::round(h / instrument.step_um) * instrument.step_um;
        map.height_um[k] = lost ? HeightMap::kNoData : static_cast<float>(h);
      }
    for (int s = 0; s < instrument.spikes; ++s) {
      const std::size_t k = std::size_t(uniform(rng) * clean.size()) % clean.size();
      const double size = 20 + 180 * uniform(rng);
      if (!std::isnan(map.height_um[k]))
        map.height_um[k] += static_cast<float>(uniform(rng) < 0.5 ? -size : size);
    }
    for (int d = 0; d < instrument.dust; ++d) {
      const double x = uniform(rng) * rows * pitch_um, y = uniform(rng) * cols * pitch_um;
      const double radius = 10 + 20 * uniform(rng), height = 5 + 25 * uniform(rng);
      for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) {
          const double d2 = std::pow(r * pitch_um - x, 2) + std::pow(c * pitch_um - y, 2);
          if (d2 < radius * radius && !std::isnan(map.height_um[std::size_t(r) * cols + c]))
            map.height_um[std::size_t(r) * cols + c] +=
                static_cast<float>(height * std::sqrt(1 - d2 / (radius * radius)));
        }
    }
    return map;
  }
};

// Channels on a grid `spacing_um` apart, floors jittered over a pixel, depths around 340 um.
inline std::vector<ChannelTruth> channel_grid(const InstrumentScan& scan, Shape shape,
                                              double spacing_um, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> jitter(-0.5, 0.5), depth(320, 360);
  std::vector<ChannelTruth> out;
  for (double x = 0.9 * spacing_um; x < scan.rows * scan.pitch_um - 0.6 * spacing_um; x += spacing_um)
    for (double y = 0.9 * spacing_um; y < scan.cols * scan.pitch_um - 0.6 * spacing_um; y += spacing_um)
      out.push_back({x + jitter(rng) * scan.pitch_um, y + jitter(rng) * scan.pitch_um, depth(rng),
                     shape, false});
  return out;
}

}  // namespace derma::analysis::testing
