#include "bench/analysis/lattice.hpp"

#include <algorithm>
#include <cmath>

#include "bench/analysis/roll_segments.hpp"

namespace derma::analysis {

std::vector<PredictedChannel> predict_punctures(const RollRecord& roll,
                                                const RollerGeometry& geometry,
                                                double contact_fraction) {
  std::vector<PredictedChannel> out;
  const auto& s = roll.samples;
  if (s.size() < 2 || roll.encoder_counts_per_rev == 0 || geometry.needles_per_disc <= 0)
    return out;
  const int n = geometry.needles_per_disc;
  const double load = reference_load_mN(roll);
  // Angle in units of needle slots: needle (d, i) is down when u == i + stagger (mod n).
  // Working in slots turns "which needles crossed" into "which integers lie between".
  const double slots_per_count = double(n) / double(roll.encoder_counts_per_rev);
  auto emit = [&](int d, long long m, double x, int pass) {
    const int index = static_cast<int>(((m % n) + n) % n);
    out.push_back(PredictedChannel{d, index, x, geometry.disc_y_mm(d) * 1000.0,
                                   geometry.needle_angle_rad(d, index), pass});
  };
  for (std::size_t k = 0; k < s.size(); ++k) {
    // A needle already pointing straight down (to within half a count) when the drum
    // comes onto the phantom goes in as the drum is lowered: the crossings below, which
    // are open at their start, would miss it.
    const bool onset =
        in_contact(s[k], load, contact_fraction) &&
        (k == 0 || s[k - 1].pass != s[k].pass || !in_contact(s[k - 1], load, contact_fraction));
    if (!onset) continue;
    const double u = double(s[k].encoder_counts) * slots_per_count;
    for (int d = 0; d < geometry.discs; ++d) {
      const double stagger = (d % 2 == 1) ? 0.5 : 0.0;
      const auto m = static_cast<long long>(std::llround(u - stagger));
      if (std::abs(u - stagger - double(m)) <= 0.5 * slots_per_count)
        emit(d, m, s[k].x_um, s[k].pass);
    }
  }
  for (std::size_t k = 0; k + 1 < s.size(); ++k) {
    const RollSample& a = s[k];
    const RollSample& b = s[k + 1];
    if (a.pass != b.pass || a.encoder_counts == b.encoder_counts) continue;
    if (!in_contact(a, load, contact_fraction) || !in_contact(b, load, contact_fraction)) continue;
    const double ua = double(a.encoder_counts) * slots_per_count;
    const double ub = double(b.encoder_counts) * slots_per_count;
    const double lo = std::min(ua, ub), hi = std::max(ua, ub);
    for (int d = 0; d < geometry.discs; ++d) {
      const double stagger = (d % 2 == 1) ? 0.5 : 0.0;
      // Crossings m + stagger in (lo, hi]: half-open, so a crossing that falls exactly on
      // a sample is counted once, by the interval that ends there.
      const auto first = static_cast<long long>(std::floor(lo - stagger)) + 1;
      const auto last = static_cast<long long>(std::floor(hi - stagger));
      for (long long m = first; m <= last; ++m) {
        const double f = (double(m) + stagger - ua) / (ub - ua);
        emit(d, m, a.x_um + f * (b.x_um - a.x_um), a.pass);
      }
    }
  }
  return out;
}

namespace {

// Whether the scanner read at least a quarter of the points within radius_px of (r, c).
bool seen_around(const HeightMap& map, int r, int c, int radius_px) {
  int all = 0, read = 0;
  for (int dr = -radius_px; dr <= radius_px; ++dr)
    for (int dc = -radius_px; dc <= radius_px; ++dc) {
      if (dr * dr + dc * dc > radius_px * radius_px) continue;
      const int rr = r + dr, cc = c + dc;
      if (rr < 0 || cc < 0 || rr >= map.rows || cc >= map.cols) continue;
      ++all;
      read += !std::isnan(map.at(rr, cc));
    }
  return read * 4 >= all;
}

}  // namespace

std::vector<PredictedChannel> predictions_in_scan(const std::vector<PredictedChannel>& predicted,
                                                  const HeightMap& map, double margin_um,
                                                  double seen_radius_um) {
  std::vector<PredictedChannel> out;
  if (map.rows <= 0 || map.cols <= 0 || !(map.pitch_um > 0)) return out;
  const double x_lo = map.x_um(0) + margin_um, x_hi = map.x_um(map.rows - 1) - margin_um;
  const double y_lo = map.y_um(0) + margin_um, y_hi = map.y_um(map.cols - 1) - margin_um;
  for (const PredictedChannel& p : predicted) {
    if (p.x_um < x_lo || p.x_um > x_hi || p.y_um < y_lo || p.y_um > y_hi) continue;
    const int r = static_cast<int>(std::lround((p.x_um - map.x0_um) / map.pitch_um));
    const int c = static_cast<int>(std::lround((p.y_um - map.y0_um) / map.pitch_um));
    const int radius_px = std::max(0, static_cast<int>(std::lround(seen_radius_um / map.pitch_um)));
    if (!seen_around(map, r, c, radius_px)) continue;  // the scanner did not see it: no judgement
    out.push_back(p);
  }
  return out;
}

double lattice_spacing_um(const RollerGeometry& geometry) {
  const double around = M_PI * geometry.drum_diameter_mm / std::max(1, geometry.needles_per_disc);
  const double across = geometry.width_mm / std::max(1, geometry.discs);
  return 1000.0 * (geometry.discs > 1 ? std::min(around, across) : around);
}

}  // namespace derma::analysis
