#include "bench/analysis/channel_measurement.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "bench/analysis/statistics.hpp"

namespace derma::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Pixels beyond the region's box that the window keeps: room for the wall's top (above the
// threshold, within a pixel or two on a steep wall) and for telling a channel's own
// unreadable points from an unreadable area that runs on beyond it.
constexpr int kMarginPx = 4;

// The neighbour steps of 8-connectivity, and the four axes through a pixel.
constexpr int kNeighbours[8][2] = {{-1, -1}, {-1, 0}, {-1, 1}, {0, -1},
                                   {0, 1},   {1, -1}, {1, 0},  {1, 1}};

// Least squares of h = a0 + a1 x + a2 y + a3 x^2 + a4 y^2 + a5 xy with weights (or of its
// first `terms` terms: 3 is a plane); false when the points do not determine it.
struct QuadraticFit {
  explicit QuadraticFit(int terms = 6) : terms(terms) {}
  int terms;
  double ata[36] = {};
  double atb[6] = {};
  void add(double x, double y, double h, double w) {
    const double basis[6] = {1.0, x, y, x * x, y * y, x * y};
    for (int i = 0; i < terms; ++i) {
      const double wb = w * basis[i];
      atb[i] += wb * h;
      for (int j = i; j < terms; ++j) ata[i * 6 + j] += wb * basis[j];
    }
  }
  bool solve(double out[6]) const {
    std::vector<double> a(static_cast<std::size_t>(terms * terms)), b(atb, atb + terms);
    for (int i = 0; i < terms; ++i)
      for (int j = 0; j < terms; ++j) a[i * terms + j] = i <= j ? ata[i * 6 + j] : ata[j * 6 + i];
    if (!solve_linear(a, b, terms)) return false;
    std::fill(out, out + 6, 0.0);
    std::copy(b.begin(), b.end(), out);
    return true;
  }
};

// The sums of a quadratic's weighted normal equations, as moments: m[a][b] = sum w x^a y^b
// (a + b <= 4) and n[a][b] = sum w h x^a y^b (a + b <= 2). The ring's points come in rows of
// one x, so a point adds only to its row's sums of w y^b and w h y^b (8 terms, not the 27 of
// the full products) and each row's sums are spread to the moments once.
struct Moments {
  double m[5][5] = {};
  double n[3][3] = {};
  // A row of points at x, with s[b] = sum w y^b and t[b] = sum w h y^b.
  void add_row(double x, const double s[5], const double t[3]) {
    double xa = 1;
    for (int a = 0; a <= 4; ++a, xa *= x) {
      for (int b = 0; a + b <= 4; ++b) m[a][b] += xa * s[b];
      for (int b = 0; a + b <= 2; ++b) n[a][b] += xa * t[b];
    }
  }
  // The normal equations of the first `terms` terms of the quadratic (3: a plane).
  QuadraticFit normal_equations(int terms) const {
    // The exponents of x and y in each basis function 1, x, y, x^2, y^2, xy.
    static constexpr int kX[6] = {0, 1, 0, 2, 0, 1}, kY[6] = {0, 0, 1, 0, 2, 1};
    QuadraticFit fit(terms);
    for (int i = 0; i < terms; ++i) {
      fit.atb[i] = n[kX[i]][kY[i]];
      for (int j = i; j < terms; ++j) fit.ata[i * 6 + j] = m[kX[i] + kX[j]][kY[i] + kY[j]];
    }
    return fit;
  }
};

double quadratic_at(const double k[6], double x, double y) {
  return k[0] + k[1] * x + k[2] * y + k[3] * x * x + k[4] * y * y + k[5] * x * y;
}

// Tukey's biweight of a residual already divided by its scale c: full weight near the fit,
// none beyond c.
double biweight(double u) {
  const double u2 = u * u;
  return u2 >= 1.0 ? 0.0 : (1.0 - u2) * (1.0 - u2);
}

// The robust Gaussian regression filters (ISO 16610-31 for profiles, -71 for areal surfaces,
// after Brinkmann, Bodschwinna and Lemke) take c = 4.4478 x median |residual|, which is
// 3 sigma for Gaussian noise (median |r| = 0.6745 sigma): the surface keeps nearly full
// weight, channels, rims, dust and spikes none.
constexpr double kBiweightScale = 3.0 / 0.6745;

// Which eighth of the plane around the centre a ring point lies in.
int octant(double dr, double dc) {
  return (dr < 0 ? 4 : 0) + (dc < 0 ? 2 : 0) + (std::abs(dr) > std::abs(dc) ? 1 : 0);
}

}  // namespace

double ChannelMeasurer::LocalReference::at(double r, double c) const {
  return quadratic_at(coef, r - rc, c - cc);
}

// ---------------------------------------------------------------------------------------
// The window and the channel's unreadable points

ChannelMeasurer::WindowFlood ChannelMeasurer::copy_window(const ChannelRegion& region) {
  const HeightMap& map = context_.map;
  w_.r0 = std::max(0, region.r_min - kMarginPx);
  w_.c0 = std::max(0, region.c_min - kMarginPx);
  w_.rows = std::min(map.rows - 1, region.r_max + kMarginPx) - w_.r0 + 1;
  w_.cols = std::min(map.cols - 1, region.c_max + kMarginPx) - w_.c0 + 1;
  const std::size_t n = static_cast<std::size_t>(w_.rows) * w_.cols;
  w_.height_um.resize(n);
  w_.mark.assign(n, 0);
  for (int r = 0; r < w_.rows; ++r)
    std::copy_n(&map.height_um[static_cast<std::size_t>(w_.r0 + r) * map.cols + w_.c0], w_.cols,
                &w_.height_um[w_.at(r, 0)]);
  for (const PixelRun& run : region.runs)
    for (int c = run.c0; c <= run.c1; ++c) w_.mark[w_.at(run.row - w_.r0, c - w_.c0)] = 1;

  // Unreadable points reached from the region through unreadable points: the channel's hidden
  // wall or floor. Reaching a side of the window inside the map, they are an unreadable area
  // beyond the channel (the lane's edge, a dropout) that may hide part of it; reaching a side
  // on the map's edge, they run on where the scan ends, and the edge cuts the channel. The
  // flood starts from the unreadable points next to the region: a window holds a few, against
  // the region's hundreds of pixels, and they reach the same points.
  const bool top_is_edge = w_.r0 == 0, left_is_edge = w_.c0 == 0;
  const bool bottom_is_edge = w_.r0 + w_.rows == map.rows,
             right_is_edge = w_.c0 + w_.cols == map.cols;
  WindowFlood flood = WindowFlood::Contained;
  const auto reach = [&](int r, int c) {
    w_.mark[w_.at(r, c)] = 2;
    if ((r == 0 && !top_is_edge) || (c == 0 && !left_is_edge) ||
        (r == w_.rows - 1 && !bottom_is_edge) || (c == w_.cols - 1 && !right_is_edge))
      flood = WindowFlood::RunsOnInside;
    else if ((r == 0 || c == 0 || r == w_.rows - 1 || c == w_.cols - 1) &&
             flood == WindowFlood::Contained)
      flood = WindowFlood::RunsOffTheMap;
    flood_.push_back(r * w_.cols + c);
  };
  const auto next_to_region = [&](int r, int c) {
    for (const auto& d : kNeighbours)
      if (w_.contains(r + d[0], c + d[1]) && w_.mark[w_.at(r + d[0], c + d[1])] == 1) return true;
    return false;
  };
  flood_.clear();
  for (int r = 0; r < w_.rows; ++r)
    for (int c = 0; c < w_.cols; ++c)
      if (w_.mark[w_.at(r, c)] == 0 && std::isnan(w_.height_um[w_.at(r, c)]) &&
          next_to_region(r, c))
        reach(r, c);
  while (!flood_.empty()) {
    const int k = flood_.back();
    flood_.pop_back();
    const int r = k / w_.cols, c = k % w_.cols;
    for (const auto& d : kNeighbours) {
      const int rr = r + d[0], cc = c + d[1];
      if (!w_.contains(rr, cc)) continue;
      const std::size_t kk = w_.at(rr, cc);
      if (w_.mark[kk] == 0 && std::isnan(w_.height_um[kk])) reach(rr, cc);
    }
  }
  return flood;
}

// ---------------------------------------------------------------------------------------
// Local reference surface

// Weighted least squares of the ring's heights with the first `terms` terms of a quadratic.
// per_scale > 0: the weights are the biweights of ring_residual_ times per_scale (1 / c),
// made in the same pass and kept in ring_wt_; else ring_wt_ as it is.
bool ChannelMeasurer::fit_ring(int terms, double coef[6], double per_scale) {
  Moments moments;
  for (std::size_t row = 0; row < ring_x_.size(); ++row) {
    double s[5] = {}, t[3] = {};
    for (std::size_t k = ring_row_start_[row]; k < ring_row_start_[row + 1]; ++k) {
      if (per_scale > 0) ring_wt_[k] = biweight(ring_residual_[k] * per_scale);
      const double w = ring_wt_[k], y = ring_y_[k];
      const double wy = w * y, wy2 = wy * y, wy3 = wy2 * y, wh = w * ring_h_[k], why = wh * y;
      s[0] += w;
      s[1] += wy;
      s[2] += wy2;
      s[3] += wy3;
      s[4] += wy3 * y;
      t[0] += wh;
      t[1] += why;
      t[2] += why * y;
    }
    moments.add_row(ring_x_[row], s, t);
  }
  return moments.normal_equations(terms).solve(coef);
}

// ring_residual_ = height - the quadratic, and the median of their magnitudes.
double ChannelMeasurer::median_abs_residual(const double coef[6]) {
  for (std::size_t row = 0; row < ring_x_.size(); ++row) {
    // Along a row the quadratic is a + b y + coef[4] y^2.
    const double x = ring_x_[row];
    const double a = coef[0] + coef[1] * x + coef[3] * x * x, b = coef[2] + coef[5] * x;
    for (std::size_t k = ring_row_start_[row]; k < ring_row_start_[row + 1]; ++k) {
      const double y = ring_y_[k];
      ring_residual_[k] = ring_h_[k] - (a + b * y + coef[4] * y * y);
      scratch_[k] = std::abs(ring_residual_[k]);
    }
  }
  return median_destructive(scratch_);
}

// Tukey-biweight least squares of the ring's heights with the first `terms` terms of a
// quadratic, from the weights in ring_wt_ (left as the last round's). Each round's fit makes
// its weights from the last round's residuals as it sums them.
bool ChannelMeasurer::robust_fit(int terms, LocalReference& ref) {
  const std::size_t n = ring_h_.size();
  ring_residual_.resize(n);
  scratch_.resize(n);
  double per_scale = 0;  // the first round takes the weights as they are
  for (int iteration = 0; iteration < 4; ++iteration) {
    if (!fit_ring(terms, ref.coef, per_scale)) return false;
    const double median_abs = median_abs_residual(ref.coef);
    // Quantised heights on a clean surface can leave half the residuals at 0.
    const double c = std::max(kBiweightScale * median_abs, 0.05);
    ref.sigma_um = std::max(1.4826 * median_abs, 0.02);
    per_scale = 1.0 / c;
  }
  for (std::size_t k = 0; k < n; ++k) ring_wt_[k] = biweight(ring_residual_[k] * per_scale);
  return std::count_if(ring_wt_.begin(), ring_wt_.end(), [](double w) { return w > 0; }) >=
         4 * terms;
}

// Eighths of the ring around the centre that hold at least three weighted points.
int ChannelMeasurer::covered_octants() const {
  int per_octant[8] = {};
  for (std::size_t row = 0; row < ring_x_.size(); ++row)
    for (std::size_t k = ring_row_start_[row]; k < ring_row_start_[row + 1]; ++k)
      if (ring_wt_[k] > 0) ++per_octant[octant(ring_x_[row], ring_y_[k])];
  return static_cast<int>(
      std::count_if(std::begin(per_octant), std::end(per_octant), [](int n) { return n >= 3; }));
}

// The detection form's tangent plane at (rc, cc), with the noise the detection threshold
// allows for (threshold / 6 sigma).
ChannelMeasurer::LocalReference ChannelMeasurer::form_plane(double rc, double cc) const {
  LocalReference plane;
  plane.rc = rc;
  plane.cc = cc;
  plane.coef[0] = context_.form.at(rc, cc);
  plane.coef[1] = context_.form.at(rc + 1.0, cc) - plane.coef[0];
  plane.coef[2] = context_.form.at(rc, cc + 1.0) - plane.coef[0];
  plane.sigma_um = plane.noise_um = context_.threshold_um / 6.0;
  return plane;
}

std::optional<ChannelMeasurer::LocalReference> ChannelMeasurer::local_reference(double rc,
                                                                                double cc,
                                                                                double radius_px) {
  const HeightMap& map = context_.map;
  // Inside 2.5 radii lie the channel and its rim (displaced material reaches about one
  // radius beyond the opening, its foot further); the ring beyond is the surface the channel
  // was cut into. Its width is enough points to fit six coefficients robustly, and it stays
  // narrow so the quadratic still follows waviness (a 2 mm wave bends by about 1 um within
  // 0.5 mm of the centre).
  const double inner = ring_inner_px(radius_px);
  const double outer = ring_outer_px(radius_px);
  const double area = M_PI * (outer * outer - inner * inner);
  // A regular subsample of at most about 800 points (docs/measurement.md): the stride rounds
  // up (rounding down left 800 to 3,200 points, and the fits' cost in proportion).
  const int stride = std::max(1, static_cast<int>(std::ceil(std::sqrt(area / 800.0))));

  // The detection form's tangent plane about the centre: enough to leave out the channel,
  // other channels, dust and spikes before the first fit.
  const LocalReference form = form_plane(rc, cc);

  ring_x_.clear();
  ring_row_start_.clear();
  ring_y_.clear();
  ring_h_.clear();
  ring_wt_.clear();
  noise_.clear();
  const double in2 = inner * inner, out2 = outer * outer;
  const int r_first = std::max(0, static_cast<int>(std::ceil(rc - outer)));
  const int r_last = std::min(map.rows - 1, static_cast<int>(std::floor(rc + outer)));
  const int c_first = std::max(0, static_cast<int>(std::ceil(cc - outer)));
  const int c_last = std::min(map.cols - 1, static_cast<int>(std::floor(cc + outer)));
  for (int r = r_first; r <= r_last; r += stride) {
    const double dr = r - rc;
    ring_x_.push_back(dr);
    ring_row_start_.push_back(ring_h_.size());
    for (int c = c_first; c <= c_last; c += stride) {
      const double dc = c - cc;
      const double d2 = dr * dr + dc * dc;
      if (d2 < in2 || d2 > out2) continue;
      const float h = map.at(r, c);
      if (std::isnan(h)) continue;
      ring_y_.push_back(dc);
      ring_h_.push_back(h);
      // The noise, apart from any form: a point against the mean of its row neighbours.
      if (c > 0 && c + 1 < map.cols) {
        const float left = map.at(r, c - 1), right = map.at(r, c + 1);
        if (!std::isnan(left) && !std::isnan(right))
          noise_.push_back(h - (double(left) + double(right)) / 2.0);
      }
      const double off_form = h - quadratic_at(form.coef, dr, dc);
      ring_wt_.push_back(std::abs(off_form) <= context_.threshold_um ? 1.0 : 0.0);
    }
  }
  ring_row_start_.push_back(ring_h_.size());

  LocalReference ref;
  ref.rc = rc;
  ref.cc = cc;
  // Surface all round: a quadratic (six of eight octants, a few points each). A ring read on
  // one side only (a channel near the scan's edge or an unreadable patch) would let the
  // quadratic swing freely over the channel: a plane then, from three octants at least.
  ring_wt0_ = ring_wt_;
  if (!robust_fit(6, ref) || covered_octants() < 6) {
    ring_wt_ = ring_wt0_;
    if (!robust_fit(3, ref) || covered_octants() < 3) return std::nullopt;
  }
  // A second difference h - (left + right) / 2 has sd sigma * sqrt(3/2). Dust or a spike in
  // the ring moves the median of absolute deviations little.
  if (noise_.size() >= 16) {
    const double centre = median_destructive(noise_);
    for (double& e : noise_) e = std::abs(e - centre);
    ref.noise_um = std::max(1.4826 * median_destructive(noise_) * std::sqrt(2.0 / 3.0), 0.02);
  } else {
    ref.noise_um = ref.sigma_um;
  }
  return ref;
}

// ---------------------------------------------------------------------------------------
// Floor

void ChannelMeasurer::centroid_position(Channel& out) const {
  double w_sum = 0, wr = 0, wc = 0;
  for (int r = 0; r < w_.rows; ++r)
    for (int c = 0; c < w_.cols; ++c) {
      const std::size_t k = w_.at(r, c);
      if (w_.mark[k] != 1 || std::isnan(w_.depth_um[k])) continue;
      const double w = std::max(w_.depth_um[k], 0.0) + 1e-9;
      w_sum += w;
      wr += w * r;
      wc += w * c;
    }
  const HeightMap& map = context_.map;
  const double r = w_sum > 0 ? wr / w_sum : (w_.rows - 1) / 2.0;
  const double c = w_sum > 0 ? wc / w_sum : (w_.cols - 1) / 2.0;
  out.x_um = map.x_um(0) + (w_.r0 + r) * map.pitch_um;
  out.y_um = map.y_um(0) + (w_.c0 + c) * map.pitch_um;
}

// A flat floor, as ISO 5436-1 evaluates a groove's: a plane through the floor's heights, and
// the depth at the floor's centre from the reference there. The floor need not lie parallel to
// the reference (a flat needle end pressed into a sloping phantom): the band below the
// deepest point then catches one side of it only, so the floor's points are taken again as
// those within the band of the plane, and the plane refitted. A floor is flat when that
// gives a patch of at least a dozen points lying on their plane about as closely as the noise
// allows; a pointed floor (a tip's imprint) gives a few points only.
std::optional<ChannelMeasurer::FloorReading> ChannelMeasurer::flat_floor_depth(
    const LocalReference& reference, int deepest, double band_um, int in_band, double sigma_um) {
  constexpr std::size_t kFlatPatch = 12;
  // The seed: the band, and the points around the deepest one at its height (in height, not
  // depth: on a floor tilted against the reference the band may be a sliver along one edge).
  flat_.assign(floor_.begin(), floor_.begin() + in_band);
  const int pr = deepest / w_.cols, pc = deepest % w_.cols;
  for (int r = pr - 2; r <= pr + 2; ++r)
    for (int c = pc - 2; c <= pc + 2; ++c) {
      if (!w_.contains(r, c)) continue;
      const int k = static_cast<int>(w_.at(r, c));
      if (w_.mark[k] != 1 || spike_[k] || k == deepest) continue;
      if (std::abs(w_.height_um[k] - w_.height_um[deepest]) <= band_um &&
          std::find(flat_.begin(), flat_.end(), k) == flat_.end())
        flat_.push_back(k);
    }
  double plane[6] = {};  // a plane: the quadratic's first three terms
  bool planed = false;
  for (int round = 0; round < 3; ++round) {
    QuadraticFit fit(3);
    for (const int k : flat_) fit.add(k / w_.cols, k % w_.cols, w_.height_um[k], 1.0);
    if (flat_.size() < 3 || !fit.solve(plane)) break;
    planed = true;
    again_.clear();
    for (const int k : order_)
      if (!spike_[k] && std::abs(w_.height_um[k] - plane_at(plane, k)) <= band_um)
        again_.push_back(k);
    if (again_.empty()) break;
    flat_.swap(again_);
  }
  if (!planed || flat_.size() < kFlatPatch) return std::nullopt;
  FloorReading out;
  double sum_r = 0, sum_c = 0, sum2 = 0;
  out.shallowest_um = std::numeric_limits<double>::infinity();
  for (const int k : flat_) {
    sum_r += k / w_.cols;
    sum_c += k % w_.cols;
    const double off = w_.height_um[k] - plane_at(plane, k);
    sum2 += off * off;
    out.shallowest_um = std::min(out.shallowest_um, w_.depth_um[k]);
  }
  // Not a plane: a bowl broad enough to hold a dozen points in the band. (A floor's noise can
  // exceed the ring's, near steep walls: 2.5 sigma.)
  if (std::sqrt(sum2 / flat_.size()) > 2.5 * sigma_um) return std::nullopt;
  out.r = sum_r / flat_.size();
  out.c = sum_c / flat_.size();
  const double floor_height = plane[0] + plane[1] * out.r + plane[2] * out.c;
  out.depth_um = reference.at(w_.r0 + out.r, w_.c0 + out.c) - floor_height;
  return out;
}

double ChannelMeasurer::plane_at(const double plane[6], int k) const {
  return plane[0] + plane[1] * (k / w_.cols) + plane[2] * (k % w_.cols);
}

// The depth at a window point as the floor's tests read it: NaN outside the window, where the
// scanner read nothing, and at a point found to be a spike (it is not surface).
double ChannelMeasurer::depth_read(int r, int c) const {
  if (!w_.contains(r, c)) return kNaN;
  const std::size_t k = w_.at(r, c);
  return spike_[k] ? kNaN : w_.depth_um[k];
}

// Depth below the reference at every window point. Along a window row the reference is
// a + b y + c y^2; an unreadable height (NaN) gives an unreadable depth by itself.
void ChannelMeasurer::depths_below(const LocalReference& reference) {
  w_.depth_um.resize(w_.height_um.size());
  const double* ref = reference.coef;
  for (int r = 0; r < w_.rows; ++r) {
    const double x = w_.r0 + r - reference.rc;
    const double a = ref[0] + ref[1] * x + ref[3] * x * x, b = ref[2] + ref[5] * x;
    for (int c = 0; c < w_.cols; ++c) {
      const double y = w_.c0 + c - reference.cc;
      const std::size_t k = w_.at(r, c);
      w_.depth_um[k] = (a + b * y + ref[4] * y * y) - w_.height_um[k];
    }
  }
}

// Step 1 of the floor (docs/measurement.md, section 3): the deepest point that is surface.
// A lone spike down (dust's shadow, a dropout read as a deep value) must not set the floor, so
// a candidate that at least two lines through pairs of its readable neighbours lead to less
// than its depth by more than jump_um is marked a spike and the next deepest tried. None when
// all 16 are spikes: a floor read that badly confirms nothing, and the next points down the
// list, shallower, would read the channel shallower than it may be. Collects
// the region's pixels into order_ on the way; the 16 deepest are kept as found (most pixels
// cost one comparison with the 16th; a partial sort of them all took a quarter of the floor's
// time).
std::optional<int> ChannelMeasurer::confirmed_deepest(double jump_um) {
  order_.clear();
  deepest_.clear();
  constexpr std::size_t kCandidates = 16;
  for (int k = 0; k < static_cast<int>(w_.mark.size()); ++k) {
    if (w_.mark[k] != 1) continue;
    order_.push_back(k);
    const double d = w_.depth_um[k];
    if (deepest_.size() == kCandidates && !(d > w_.depth_um[deepest_.back()])) continue;
    const auto at = std::find_if(deepest_.begin(), deepest_.end(),
                                 [&](int other) { return w_.depth_um[other] < d; });
    deepest_.insert(at, k);
    if (deepest_.size() > kCandidates) deepest_.pop_back();
  }
  spike_.assign(w_.height_um.size(), 0);
  for (const int k : deepest_) {
    const int r = k / w_.cols, c = k % w_.cols;
    double led_to = -std::numeric_limits<double>::infinity();
    int leads = 0;
    for (const auto& d : kNeighbours) {
      const double d1 = depth_read(r + d[0], c + d[1]), d2 = depth_read(r + 2 * d[0], c + 2 * d[1]);
      if (std::isnan(d1) || std::isnan(d2)) continue;
      led_to = std::max(led_to, 2.0 * d1 - d2);
      ++leads;
    }
    if (leads >= 2 && w_.depth_um[k] > led_to + jump_um) {
      spike_[k] = 1;
      continue;
    }
    return k;
  }
  return std::nullopt;
}

// Step 2: the floor's points, the region's within the band below the deepest confirmed point,
// and that point's readable neighbours (a pointed floor has only one or two points in the
// band, too few to fit). Returns how many lie in the band; floor_ holds them first.
int ChannelMeasurer::floor_points(int deepest, double band_um) {
  const double deepest_um = w_.depth_um[deepest];
  floor_.clear();
  int in_band = 0;
  for (const int k : order_)
    if (!spike_[k] && w_.depth_um[k] >= deepest_um - band_um) {
      floor_.push_back(k);
      ++in_band;
    }
  const int pr = deepest / w_.cols, pc = deepest % w_.cols;
  for (const auto& d : kNeighbours) {
    const int r = pr + d[0], c = pc + d[1];
    if (std::isnan(depth_read(r, c))) continue;
    const int k = static_cast<int>(w_.at(r, c));
    if (std::find(floor_.begin(), floor_.end(), k) == floor_.end()) floor_.push_back(k);
  }
  return in_band;
}

// A quadratic through the floor points' depths, about the deepest confirmed point: the
// pointed floor's shape (step 4) and, beside the lines, the hidden-floor test's guess of where
// the floor goes on beyond the readable points.
ChannelMeasurer::FloorBowl ChannelMeasurer::fit_bowl(int deepest) const {
  const int pr = deepest / w_.cols, pc = deepest % w_.cols;
  FloorBowl bowl;
  bowl.pr = pr;
  bowl.pc = pc;
  bowl.r_lo = bowl.r_hi = pr;
  bowl.c_lo = bowl.c_hi = pc;
  QuadraticFit fit;
  for (const int k : floor_) {
    const int r = k / w_.cols, c = k % w_.cols;
    fit.add(r - pr, c - pc, w_.depth_um[k], 1.0);
    bowl.r_lo = std::min(bowl.r_lo, r), bowl.r_hi = std::max(bowl.r_hi, r);
    bowl.c_lo = std::min(bowl.c_lo, c), bowl.c_hi = std::max(bowl.c_hi, c);
  }
  bowl.fitted = floor_.size() >= 6 && fit.solve(bowl.q);
  return bowl;
}

double ChannelMeasurer::FloorBowl::depth_at(int r, int c) const {
  return quadratic_at(q, r - pr, c - pc);
}

// Step 4, a pointed floor (ISO 5436-1, type A2: the bottom of the fitted arc): the bowl's
// vertex, when the bowl has a single bottom, dropping by more than the noise one pixel from
// it along its steepest direction (so noise on a flat patch does not make one), and the
// vertex lies among the floor's points (+-0.5 pixel; a vertex out beyond them is a guess).
std::optional<ChannelMeasurer::FloorReading> ChannelMeasurer::pointed_floor(const FloorBowl& bowl,
                                                                            double sigma_um,
                                                                            double shallowest_um) {
  if (!bowl.fitted) return std::nullopt;
  const double* q = bowl.q;
  const double det = 4.0 * q[3] * q[4] - q[5] * q[5];
  const bool has_bottom = q[3] < 0 && q[4] < 0 && det > 0;  // a maximum of depth
  if (!has_bottom) return std::nullopt;
  const double vr = (-2.0 * q[4] * q[1] + q[5] * q[2]) / det;
  const double vc = (-2.0 * q[3] * q[2] + q[5] * q[1]) / det;
  const double mean_curvature = (q[3] + q[4]) / 2.0;
  const double spread = std::hypot((q[3] - q[4]) / 2.0, q[5] / 2.0);
  const bool pointed = -(mean_curvature - spread) > sigma_um;
  const double r = bowl.pr + vr, c = bowl.pc + vc;
  // Written as what must hold, so a NaN anywhere fails it.
  const bool among_floor_points =
      r >= bowl.r_lo - 0.5 && r <= bowl.r_hi + 0.5 && c >= bowl.c_lo - 0.5 && c <= bowl.c_hi + 0.5;
  if (!pointed || !among_floor_points) return std::nullopt;
  return FloorReading{quadratic_at(q, vr, vc), r, c, shallowest_um};
}

// Could the floor lie in unreadable points next to the floor's points? Near its floor a
// channel's depth is concave (a bowl), so the depth at an unreadable point is at most what any
// straight line through two readable points on a ray from it leads to. When even the least of
// those leads deeper than beyond_um (anything seen, by more than the noise), and so does the
// bowl fitted to the floor, the floor may be hidden there; where no line can be drawn, the
// bowl alone decides. (Either alone is fooled: lines through a pointed floor all overshoot
// when the points beyond it are lost too; a bowl fitted to a flat floor's edge need not hold
// beyond it.)
bool ChannelMeasurer::floor_may_hide(const FloorBowl& bowl, double beyond_um) const {
  for (const int k : floor_) {
    const int r = k / w_.cols, c = k % w_.cols;
    for (const auto& d : kNeighbours) {
      const int ur = r + d[0], uc = c + d[1];
      if (!w_.contains(ur, uc) || !std::isnan(w_.height_um[w_.at(ur, uc)])) continue;
      // Lines through any two readable points of the three beyond u in each direction: on a
      // steep wall that loses every other point, pairs next to each other are rare.
      double bound = std::numeric_limits<double>::infinity();
      for (const auto& e : kNeighbours) {
        double along[4];
        for (int i = 1; i <= 3; ++i) along[i] = depth_read(ur + i * e[0], uc + i * e[1]);
        for (int i = 1; i <= 2; ++i)
          for (int m = i + 1; m <= 3; ++m)
            if (!std::isnan(along[i]) && !std::isnan(along[m]))
              bound = std::min(bound, along[i] + (along[i] - along[m]) * i / (m - i));
      }
      const bool bowl_deeper = !bowl.fitted || bowl.depth_at(ur, uc) > beyond_um;
      // No line at all through readable points (unreadable all round): the bowl alone says.
      const bool lines_deeper = std::isfinite(bound) ? bound > beyond_um : bowl.fitted;
      if (lines_deeper && bowl_deeper) return true;
    }
  }
  return false;
}

// Read on both sides along two of the four axes through (r, c), within 3 pixels. Neither flat
// nor a bowl, the deepest point alone stands for the floor only where it is bracketed: a point
// on a wall whose floor is unreadable has readable points on its upper side only.
bool ChannelMeasurer::bracketed(int r, int c) const {
  static constexpr int kAxes[4][2] = {{0, 1}, {1, 0}, {1, 1}, {1, -1}};
  int axes = 0;
  for (const auto& a : kAxes) {
    int sides = 0;
    for (const int s : {1, -1})
      for (int i = 1; i <= 3; ++i)
        if (!std::isnan(depth_read(r + s * i * a[0], c + s * i * a[1]))) {
          ++sides;
          break;
        }
    axes += sides == 2;
  }
  return axes >= 2;
}

// Readable shares (report.json): the floor is the part of the channel within the floor's
// radius of its centre, the wall the rest of what the region and its unreadable points cover.
// Squared distances: hypot per window pixel is slow.
void ChannelMeasurer::readable_shares(double floor_r, double floor_c, double floor_radius_px,
                                      Channel& out) const {
  int floor_all = 0, floor_read = 0, wall_all = 0, wall_read = 0;
  for (int r = 0; r < w_.rows; ++r)
    for (int c = 0; c < w_.cols; ++c) {
      const unsigned char m = w_.mark[w_.at(r, c)];
      if (m == 0) continue;
      const double dr = r - floor_r, dc = c - floor_c;
      const bool in_floor = dr * dr + dc * dc <= floor_radius_px * floor_radius_px;
      (in_floor ? floor_all : wall_all) += 1;
      if (m == 1) (in_floor ? floor_read : wall_read) += 1;
    }
  out.floor_readable_share = floor_all ? double(floor_read) / floor_all : 1.0;
  out.wall_readable_share = wall_all ? double(wall_read) / wall_all : 1.0;
}

// The floor and the depth (docs/measurement.md, sections 3 and 4), in the steps named there.
void ChannelMeasurer::measure_floor(const LocalReference& reference, Channel& out) {
  const double sigma = reference.noise_um;
  // A pixel further than this from what its neighbours' slopes lead to is not surface (a
  // spike), and a slope that leads this much deeper than any floor point seen hides a floor.
  const double jump_um = 6.0 * sigma + 2.0;
  // The floor's band below its deepest point: wide enough for a flat floor's noise.
  const double band_um = std::max(4.0 * sigma, 1.0);

  depths_below(reference);
  const std::optional<int> confirmed = confirmed_deepest(jump_um);
  if (!confirmed) {
    // No floor to measure: at least as deep as the least deep of its region's points.
    out.state = ChannelState::FloorUnreadable;
    out.depth_um = std::numeric_limits<double>::infinity();
    for (const int k : order_) out.depth_um = std::min(out.depth_um, w_.depth_um[k]);
    readable_shares(deepest_.front() / w_.cols, deepest_.front() % w_.cols, 1.5, out);
    centroid_position(out);
    return;
  }
  const int deepest = *confirmed;
  const int pr = deepest / w_.cols, pc = deepest % w_.cols;
  const double deepest_um = w_.depth_um[deepest];
  const int in_band = floor_points(deepest, band_um);
  const FloorBowl bowl = fit_bowl(deepest);

  // A flat floor (step 3), else a pointed one (step 4); a floor with neither shape is p*.
  const double band_floor_um = deepest_um - band_um;  // the least depth the floor may read
  std::optional<FloorReading> shaped =
      flat_floor_depth(reference, deepest, band_um, in_band, sigma);
  if (!shaped) shaped = pointed_floor(bowl, sigma, band_floor_um);
  FloorReading floor =
      shaped.value_or(FloorReading{deepest_um, double(pr), double(pc), band_floor_um});
  // Step 5, bounded: never deeper than the deepest confirmed point by more than the noise
  // allows, never shallower than the floor's own points.
  const double floor_um =
      std::clamp(floor.depth_um, std::min(floor.shallowest_um, deepest_um), deepest_um + sigma);

  readable_shares(floor.r, floor.c, std::max(1.5, std::sqrt(in_band / M_PI)), out);

  const bool hidden = floor_may_hide(bowl, deepest_um + jump_um) || (!shaped && !bracketed(pr, pc));
  if (hidden) {
    out.state = ChannelState::FloorUnreadable;
    out.depth_um = deepest_um;  // at least this deep
    centroid_position(out);
    return;
  }
  const HeightMap& map = context_.map;
  out.depth_um = floor_um;
  out.x_um = map.x_um(0) + (w_.r0 + floor.r) * map.pitch_um;
  out.y_um = map.y_um(0) + (w_.c0 + floor.c) * map.pitch_um;
}

// ---------------------------------------------------------------------------------------

bool ChannelMeasurer::floor_near_edge(const Channel& ch) const {
  const HeightMap& map = context_.map;
  const double r = (ch.x_um - map.x_um(0)) / map.pitch_um;
  const double c = (ch.y_um - map.y_um(0)) / map.pitch_um;
  return r < kMarginPx || c < kMarginPx || r > map.rows - 1 - kMarginPx ||
         c > map.cols - 1 - kMarginPx;
}

std::optional<Channel> ChannelMeasurer::measure(const ChannelRegion& region) {
  const HeightMap& map = context_.map;
  Channel ch;
  ch.area_um2 = region.pixels * map.pitch_um * map.pitch_um;
  const bool on_edge = region.r_min == 0 || region.c_min == 0 || region.r_max == map.rows - 1 ||
                       region.c_max == map.cols - 1;
  const WindowFlood flood = copy_window(region);

  // The footprint (region and its unreadable points): its centroid is the channel's centre,
  // its box sets the size.
  int r_lo = w_.rows, r_hi = -1, c_lo = w_.cols, c_hi = -1;
  double sum_r = 0, sum_c = 0;
  int count = 0;
  for (int r = 0; r < w_.rows; ++r)
    for (int c = 0; c < w_.cols; ++c)
      if (w_.mark[w_.at(r, c)] != 0) {
        r_lo = std::min(r_lo, r), r_hi = std::max(r_hi, r);
        c_lo = std::min(c_lo, c), c_hi = std::max(c_hi, c);
        sum_r += r;
        sum_c += c;
        ++count;
      }
  const double rc = w_.r0 + sum_r / count, cc = w_.c0 + sum_c / count;
  const double radius_px = std::max(r_hi - r_lo, c_hi - c_lo) / 2.0 + 0.5;

  auto reference = local_reference(rc, cc, radius_px);
  if (!reference) {
    // Still place the channel, against the detection form, so it shows where it is.
    measure_floor(form_plane(rc, cc), ch);
    // A ring that runs off the map is the window's doing; inside the map, the surface
    // around the channel was not read.
    ch.state =
        ring_leaves_map(rc, cc, radius_px) ? ChannelState::CutByEdge : ChannelState::NoReference;
  } else {
    measure_floor(*reference, ch);
  }
  // Cut by the map's edge where its floor is (the floor itself may lie beyond): a window cuts
  // channels, that is no fault of the scan. A channel whose shallow end only touches the edge,
  // its floor well inside, is measured. Cut by an unreadable area running on beyond it: part
  // of it is hidden inside the scan.
  if ((on_edge && floor_near_edge(ch)) || flood == WindowFlood::RunsOffTheMap)
    ch.state = ChannelState::CutByEdge;
  if (flood == WindowFlood::RunsOnInside) ch.state = ChannelState::CutByGap;
  // Below the detection threshold against its own reference, the region was the form's
  // error, not a channel (near a lane's edge on a strongly curved phantom). A lost floor's
  // depth is only a lower bound: such a channel stays.
  if (ch.state != ChannelState::FloorUnreadable && ch.depth_um < context_.threshold_um)
    return std::nullopt;
  return ch;
}

bool ChannelMeasurer::ring_leaves_map(double rc, double cc, double radius_px) const {
  const double outer = ring_outer_px(radius_px);
  const HeightMap& map = context_.map;
  return rc < outer || cc < outer || rc > map.rows - 1 - outer || cc > map.cols - 1 - outer;
}

}  // namespace derma::analysis
