// Measuring one channel found in a height map: its local reference surface, its floor, its
// depth, and how much of it the scanner could read. The definitions, the standards they
// follow and the bounds they keep are in docs/measurement.md; in short:
//  - reference: a second-order polynomial fitted by robust (Tukey biweight) least squares to
//    the readable surface in an annulus around the channel, outside its rim;
//  - floor: the deepest readable point that neighbouring points confirm (a lone spike is
//    not a floor), refined by a plane (a flat floor) or a quadratic (a pointed one) through
//    the points near it, but never deeper than that point by more than one sigma of the
//    local noise, nor shallower than the floor's own points;
//  - depth: reference minus floor, at the floor;
//  - a floor that may lie in unreadable points (the readable points around it still slope
//    down into them) is not measured: the channel is FloorUnreadable.
// Nothing here assumes a shape (Gaussian, cone, cylinder, teardrop all measure alike).
#pragma once

#include <algorithm>
#include <optional>
#include <vector>

#include "bench/analysis/checks.hpp"
#include "bench/analysis/form_surface.hpp"
#include "bench/analysis/records.hpp"

namespace derma::analysis {

// Pixels of one row, columns c0..c1 inclusive.
struct PixelRun {
  int row;
  int c0;
  int c1;
};

// The readable pixels that lie below the detection threshold, as found: possibly several
// pieces of one channel that unreadable points separate.
struct ChannelRegion {
  std::vector<PixelRun> runs;
  int pixels = 0;
  int r_min = 0, r_max = 0, c_min = 0, c_max = 0;
};

struct MeasurementContext {
  const HeightMap& map;
  const FormSurface& form;
  double threshold_um;  // the detection threshold below the form
};

// Measures a channel; scratch buffers are kept between calls so a map's hundreds of channels
// allocate once.
class ChannelMeasurer {
 public:
  explicit ChannelMeasurer(const MeasurementContext& context) : context_(context) {}
  // Nothing when the region, measured against its own reference, lies less than the detection
  // threshold deep: the form's error, not a channel.
  std::optional<Channel> measure(const ChannelRegion& region);

 private:
  // The channel's neighbourhood: its region's box and a margin, copied out of the map.
  struct Window {
    int r0 = 0, c0 = 0, rows = 0, cols = 0;  // in map pixels
    std::vector<float> height_um;            // NaN: unreadable
    std::vector<double> depth_um;            // reference minus height; NaN: unreadable
    // 1: in the region (readable, below the threshold); 2: unreadable and reached from the
    // region through unreadable points (a hidden part of the channel); 0: neither.
    std::vector<unsigned char> mark;
    bool contains(int r, int c) const { return r >= 0 && c >= 0 && r < rows && c < cols; }
    std::size_t at(int r, int c) const { return static_cast<std::size_t>(r) * cols + c; }
  };
  // Second-order polynomial in pixels about (rc, cc), the robust sd of the surface about it,
  // and the scanner's noise read off the same ring.
  struct LocalReference {
    double rc = 0, cc = 0;
    double coef[6] = {};
    double sigma_um = 0;
    double noise_um = 0;
    double at(double r, double c) const;
  };

  // Where the channel's unreadable points lead: nowhere beyond the window, off the map's edge
  // (the channel is cut by the edge), or on inside the scan (an unreadable area hides part).
  enum class WindowFlood { Contained, RunsOffTheMap, RunsOnInside };
  WindowFlood copy_window(const ChannelRegion& region);
  std::optional<LocalReference> local_reference(double rc, double cc, double radius_px);
  LocalReference form_plane(double rc, double cc) const;
  bool robust_fit(int terms, LocalReference& ref);
  bool fit_ring(int terms, double coef[6], double per_scale);
  double median_abs_residual(const double coef[6]);
  int covered_octants() const;
  void measure_floor(const LocalReference& reference, Channel& out);
  // Where the floor is read: its depth, its centre (window pixels), and the least depth it
  // may read (the bound below it).
  struct FloorReading {
    double depth_um = 0;
    double r = 0, c = 0;
    double shallowest_um = 0;
  };
  // A quadratic in depth through the floor's points, about the deepest confirmed point
  // (pr, pc), and the box of those points, window pixels.
  struct FloorBowl {
    bool fitted = false;
    double q[6] = {};
    int pr = 0, pc = 0;
    int r_lo = 0, r_hi = 0, c_lo = 0, c_hi = 0;
    double depth_at(int r, int c) const;
  };
  double depth_read(int r, int c) const;
  void depths_below(const LocalReference& reference);
  std::optional<int> confirmed_deepest(double jump_um);
  int floor_points(int deepest, double band_um);
  FloorBowl fit_bowl(int deepest) const;
  std::optional<FloorReading> flat_floor_depth(const LocalReference& reference, int deepest,
                                               double band_um, int in_band, double sigma_um);
  static std::optional<FloorReading> pointed_floor(const FloorBowl& bowl, double sigma_um,
                                                   double shallowest_um);
  bool floor_may_hide(const FloorBowl& bowl, double beyond_um) const;
  bool bracketed(int r, int c) const;
  void readable_shares(double floor_r, double floor_c, double floor_radius_px, Channel& out) const;
  double plane_at(const double plane[6], int k) const;
  void centroid_position(Channel& out) const;
  bool floor_near_edge(const Channel& ch) const;
  bool ring_leaves_map(double rc, double cc, double radius_px) const;
  // The reference ring around a channel whose footprint spans radius_px (docs/measurement.md
  // section 2): inside 2.5 radii lie the channel and its rim.
  static double ring_inner_px(double radius_px) { return 2.5 * radius_px + 2.0; }
  static double ring_outer_px(double radius_px) {
    return ring_inner_px(radius_px) + std::max(6.0, radius_px);
  }

  const MeasurementContext& context_;
  Window w_;
  // The ring's points, a row at a time: row i lies at ring_x_[i] from the centre and holds
  // points ring_row_start_[i] .. ring_row_start_[i + 1] - 1, each at ring_y_ across.
  std::vector<double> ring_x_;
  std::vector<std::size_t> ring_row_start_;
  std::vector<double> ring_y_, ring_h_, ring_wt_, ring_wt0_, ring_residual_, scratch_, noise_;
  std::vector<int> order_, deepest_, floor_, flat_, again_, flood_;
  std::vector<unsigned char> spike_;
};

}  // namespace derma::analysis
