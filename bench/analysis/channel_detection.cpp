#include "bench/analysis/channel_detection.hpp"

#include <algorithm>
#include <cmath>

#include "bench/analysis/statistics.hpp"
#include "bench/analysis/text.hpp"

namespace derma::analysis {

namespace {

// ---------------------------------------------------------------------------------------
// Surface plane

struct PlaneSample {
  double r, c, h;
};

// Least squares fit of h = a + b (r - r0) + c (c - c0) over the samples marked in `use`.
std::optional<SurfacePlane> least_squares_plane(const std::vector<PlaneSample>& samples,
                                                const std::vector<char>& use, double r0,
                                                double c0) {
  std::vector<double> ata(9, 0.0);
  std::vector<double> atb(3, 0.0);
  for (std::size_t k = 0; k < samples.size(); ++k) {
    if (!use[k]) continue;
    const double basis[3] = {1.0, samples[k].r - r0, samples[k].c - c0};
    for (int i = 0; i < 3; ++i) {
      atb[i] += basis[i] * samples[k].h;
      for (int j = 0; j < 3; ++j) ata[i * 3 + j] += basis[i] * basis[j];
    }
  }
  if (!solve_linear(ata, atb, 3)) return std::nullopt;
  return SurfacePlane{atb[0], atb[1], atb[2], r0, c0};
}

// ---------------------------------------------------------------------------------------
// Labelling: runs of below-threshold pixels, joined across rows with union-find. A run
// per row per channel is far less data than a label per pixel, and no recursion means
// no stack overflow on a large region.

struct Run {
  int row;
  int c0;  // inclusive
  int c1;  // inclusive
};

int find_root(std::vector<int>& parent, int i) {
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];  // path halving keeps the trees flat
    i = parent[i];
  }
  return i;
}

void unite(std::vector<int>& parent, int a, int b) {
  a = find_root(parent, a);
  b = find_root(parent, b);
  if (a == b) return;
  // The older run becomes the root, so components come out in raster order.
  if (a < b) {
    parent[b] = a;
  } else {
    parent[a] = b;
  }
}

struct Labelling {
  std::vector<Run> runs;
  std::vector<int> parent;
  std::size_t valid_pixels = 0;
};

// Pixels of a block of the row that lie below the limit, and unreadable (NaN) ones: a NaN
// compares false, so it is never "below". Tail blocks shorter than kBlock take the
// generic loop.
constexpr int kBlock = 64;
struct BlockCount {
  int below = 0;
  int unreadable = 0;
};

BlockCount count_block(const float* row, const float* terms, float limit, int width) {
  BlockCount n;
  for (int c = 0; c < width; ++c) {
    n.below += row[c] - terms[c] < limit;
    n.unreadable += row[c] != row[c];
  }
  return n;
}

// Full blocks, the map's one pass (a third of the detection time): nearly all of them
// hold only readable surface, so one test first counts pixels that are below OR
// unreadable (!(x >= limit) is true for both), and only a block with some is counted
// again in detail. With a fixed trip count and an int counter the compiler turns the
// first loop into SIMD compares at -O2.
BlockCount count_full_block(const float* row, const float* terms, float limit) {
  int below_or_unreadable = 0;
  for (int c = 0; c < kBlock; ++c) below_or_unreadable += !(row[c] - terms[c] >= limit);
  if (below_or_unreadable == 0) return {};
  return count_block(row, terms, limit, kBlock);
}

Labelling label_runs(const HeightMap& map, const SurfacePlane& plane, double threshold_um) {
  Labelling out;
  out.runs.reserve(4096);
  // The plane's column term, once per map: per pixel the test is then one subtract and one
  // compare.
  std::vector<float> column_term(static_cast<std::size_t>(map.cols));
  for (int c = 0; c < map.cols; ++c)
    column_term[c] = static_cast<float>(plane.per_col_um * (c - plane.c0));
  const float* terms = column_term.data();

  std::size_t prev_begin = 0, prev_end = 0;
  for (int r = 0; r < map.rows; ++r) {
    const float* row = map.height_um.data() + static_cast<std::size_t>(r) * map.cols;
    const auto limit =
        static_cast<float>(plane.offset_um + plane.per_row_um * (r - plane.r0) - threshold_um);
    const std::size_t cur_begin = out.runs.size();
    int start = -1;
    int unreadable = 0;
    for (int b = 0; b < map.cols; b += kBlock) {
      const int e = std::min(map.cols, b + kBlock);
      // Most blocks hold no channel: count first (branch-free, vectorised), and only walk
      // the pixels of a block that has some, or that a run is still open across.
      const BlockCount n = e - b == kBlock ? count_full_block(row + b, terms + b, limit)
                                           : count_block(row + b, terms + b, limit, e - b);
      unreadable += n.unreadable;
      if (n.below == 0 && start < 0) continue;
      for (int c = b; c < e; ++c) {
        const bool is_below = row[c] - terms[c] < limit;
        if (is_below && start < 0) start = c;
        if (!is_below && start >= 0) {
          out.runs.push_back({r, start, c - 1});
          start = -1;
        }
      }
    }
    if (start >= 0) out.runs.push_back({r, start, map.cols - 1});
    out.valid_pixels += static_cast<std::size_t>(map.cols - unreadable);
    const std::size_t cur_end = out.runs.size();
    for (std::size_t k = cur_begin; k < cur_end; ++k) out.parent.push_back(static_cast<int>(k));

    // Join each run with the previous row's runs it touches (8-connectivity).
    std::size_t j = prev_begin;
    for (std::size_t k = cur_begin; k < cur_end; ++k) {
      const Run& cur = out.runs[k];
      while (j < prev_end && out.runs[j].c1 < cur.c0 - 1) ++j;
      for (std::size_t p = j; p < prev_end && out.runs[p].c0 <= cur.c1 + 1; ++p)
        unite(out.parent, static_cast<int>(k), static_cast<int>(p));
    }
    prev_begin = cur_begin;
    prev_end = cur_end;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Measuring one channel

struct Region {
  std::vector<int> runs;  // indices into Labelling::runs
  int pixels = 0;
  int r_min = 0, r_max = 0, c_min = 0, c_max = 0;
};

class ChannelMeasurer {
 public:
  ChannelMeasurer(const HeightMap& map, const SurfacePlane& plane, double sigma_um,
                  double threshold_um)
      : map_(map), plane_(plane), sigma_um_(sigma_um), threshold_um_(threshold_um) {}

  Channel measure(const Region& region, const std::vector<Run>& runs) {
    Channel ch;
    ch.area_um2 = region.pixels * map_.pitch_um * map_.pitch_um;

    // The region's rows were last read by the labelling pass, long out of cache: ask for
    // them all at once, so their loads overlap instead of queueing one row at a time.
    for (int k : region.runs) {
      const float* row = map_.height_um.data() + static_cast<std::size_t>(runs[k].row) * map_.cols;
      for (int c = runs[k].c0; c <= runs[k].c1; c += 16) __builtin_prefetch(row + c);
      __builtin_prefetch(row + runs[k].c1);
    }

    // Lowest pixel and depth-weighted centroid (the fallback centre).
    double lowest = 0;
    int low_r = runs[region.runs.front()].row, low_c = runs[region.runs.front()].c0;
    double w_sum = 0, wr = 0, wc = 0;
    for (int k : region.runs) {
      const Run& run = runs[k];
      for (int c = run.c0; c <= run.c1; ++c) {
        const double res = residual(run.row, c);
        if (res < lowest) {
          lowest = res;
          low_r = run.row;
          low_c = c;
        }
        const double w = -res;
        w_sum += w;
        wr += w * run.row;
        wc += w * c;
      }
    }
    ch.partial = touches_edge_or_gap(region);

    // The local surface from an annulus well outside the channel: the global plane cannot
    // follow waviness, and the channel's own rim would bias a ring drawn too tight.
    const double radius_px = std::sqrt(region.pixels / M_PI);
    const double inner = 2.0 * radius_px + 3.0;
    const double outer = inner + std::max(4.0, radius_px);
    const auto surface = local_surface(low_r, low_c, inner, outer);
    const double surface_res = surface.value_or(0.0);
    if (!surface) ch.partial = true;

    double r = wr / w_sum, c = wc / w_sum;
    double depth = surface_res - lowest;
    if (const auto fit = fit_bottom(low_r, low_c, surface_res)) {
      r = fit->r;
      c = fit->c;
      depth = fit->depth_um;
    }
    // else: no sub-pixel bottom (odd shape, tiny pit): the raw lowest pixel's depth stands.
    ch.x_um = map_.x_um(0) + r * map_.pitch_um;
    ch.y_um = map_.y_um(0) + c * map_.pitch_um;
    ch.depth_um = depth;
    return ch;
  }

 private:
  double residual(int r, int c) const { return map_.at(r, c) - plane_.at(r, c); }

  bool touches_edge_or_gap(const Region& region) const {
    if (region.r_min == 0 || region.c_min == 0 || region.r_max == map_.rows - 1 ||
        region.c_max == map_.cols - 1)
      return true;
    // Unreadable pixels in or right next to the channel: part of it may be hidden.
    for (int r = region.r_min - 1; r <= region.r_max + 1; ++r)
      for (int c = region.c_min - 1; c <= region.c_max + 1; ++c)
        if (std::isnan(map_.at(r, c))) return true;
    return false;
  }

  // Median residual over the annulus, leaving out pixels that belong to any channel.
  // The annulus is walked row by row as two arcs of columns, found from the same distance
  // test a per-pixel loop would make (so the same pixels count), instead of testing every
  // pixel of its bounding square: half the pixels of that square lie outside the annulus.
  std::optional<double> local_surface(int r0, int c0, double inner, double outer) {
    ring_.clear();
    const int reach = static_cast<int>(std::ceil(outer));
    const double in2 = inner * inner, out2 = outer * outer;
    const int r_first = std::max(0, r0 - reach), r_last = std::min(map_.rows - 1, r0 + reach);
    const int c_first = std::max(0, c0 - reach), c_last = std::min(map_.cols - 1, c0 + reach);
    for (int r = r_first; r <= r_last; ++r) {
      // Ask for the row kRowsAhead ahead (all rows up to it at the first row), so it is in
      // cache when its turn comes; near the end this asks for the last row again, which
      // costs nothing. Written out here: GCC 12 deletes calls to a helper that only
      // prefetches, finding it free of side effects.
      const int ask_to = std::min(r_last, r + kRowsAhead);
      for (int a = r == r_first ? r : ask_to; a <= ask_to; ++a) {
        const float* row = map_.height_um.data() + static_cast<std::size_t>(a) * map_.cols;
        for (int c = c_first; c <= c_last; c += 16) __builtin_prefetch(row + c);
        __builtin_prefetch(row + c_last);
      }
      const double dr2 = double(r - r0) * (r - r0);
      const int dc_hi = widest_within(dr2, out2);
      if (dc_hi < 0) continue;
      const int dc_lo = narrowest_from(dr2, in2);
      if (dc_lo > dc_hi) continue;
      // Plane height as SurfacePlane::at evaluates it, its row term taken once per row.
      const double row_plane = plane_.offset_um + plane_.per_row_um * (double(r) - plane_.r0);
      const float* heights = map_.height_um.data() + static_cast<std::size_t>(r) * map_.cols;
      const auto take = [&](int from, int to) {
        for (int c = std::max(0, from); c <= std::min(map_.cols - 1, to); ++c) {
          const double res =
              double(heights[c]) - (row_plane + plane_.per_col_um * (double(c) - plane_.c0));
          if (std::isnan(res) || res < -threshold_um_) continue;
          ring_.push_back(res);
        }
      };
      take(c0 - dc_hi, c0 - dc_lo);               // left arc
      take(c0 + std::max(dc_lo, 1), c0 + dc_hi);  // right arc (column c0 taken once)
    }
    if (ring_.size() < 8) return std::nullopt;
    return median_destructive(ring_);
  }

  // The annulus spans a hundred rows of a map far larger than the caches, each row 16 kB
  // from the next, which the hardware prefetcher does not follow: without asking for the
  // rows ahead, every row's pixels wait for memory in turn (a third of the detection time).
  static constexpr int kRowsAhead = 8;

  // Largest dc >= 0 with dr2 + dc^2 <= limit2, or -1: the square root is a first guess, the
  // exact comparison settles it.
  static int widest_within(double dr2, double limit2) {
    if (dr2 > limit2) return -1;
    int dc = static_cast<int>(std::sqrt(limit2 - dr2));
    while (dr2 + double(dc + 1) * (dc + 1) <= limit2) ++dc;
    while (dc >= 0 && dr2 + double(dc) * dc > limit2) --dc;
    return dc;
  }

  // Smallest dc >= 0 with dr2 + dc^2 >= limit2.
  static int narrowest_from(double dr2, double limit2) {
    if (dr2 >= limit2) return 0;
    int dc = static_cast<int>(std::sqrt(limit2 - dr2));
    while (dc > 0 && dr2 + double(dc - 1) * (dc - 1) >= limit2) --dc;
    while (dr2 + double(dc) * dc < limit2) ++dc;
    return dc;
  }

  struct Bottom {
    double r, c, depth_um;
  };

  // Sub-pixel bottom: a weighted least-squares quadratic fitted to ln(depth) over the 5x5
  // pixels around the lowest one. A Gaussian pit is exactly a quadratic in ln(depth), so
  // the vertex is the true centre and its value the true depth even when the minimum falls
  // between pixels (the raw lowest pixel can be off by 2-3 % of the depth). Weights of
  // depth^2 undo the log's stretching of noise on shallow pixels.
  std::optional<Bottom> fit_bottom(int r0, int c0, double surface_res) const {
    constexpr int kHalf = 2;
    if (r0 - kHalf < 0 || c0 - kHalf < 0 || r0 + kHalf >= map_.rows || c0 + kHalf >= map_.cols)
      return std::nullopt;
    const double floor_um = std::max(3.0 * sigma_um_, 1e-3);
    double ata[36] = {};
    double atb[6] = {};
    int used = 0;
    for (int dr = -kHalf; dr <= kHalf; ++dr) {
      for (int dc = -kHalf; dc <= kHalf; ++dc) {
        const double res = residual(r0 + dr, c0 + dc);
        if (std::isnan(res)) return std::nullopt;
        const double d = surface_res - res;
        if (d <= floor_um) continue;
        const double w = d * d;
        const double basis[6] = {
            1.0, double(dr), double(dc), double(dr * dr), double(dc * dc), double(dr * dc)};
        const double y = std::log(d);
        for (int i = 0; i < 6; ++i) {
          atb[i] += w * basis[i] * y;
          for (int j = 0; j < 6; ++j) ata[i * 6 + j] += w * basis[i] * basis[j];
        }
        ++used;
      }
    }
    if (used < 9) return std::nullopt;
    std::vector<double> a(ata, ata + 36), b(atb, atb + 6);
    if (!solve_linear(a, b, 6)) return std::nullopt;
    const double p1 = b[1], p2 = b[2], p3 = b[3], p4 = b[4], p5 = b[5];
    // The fitted ln(depth) must have a maximum: negative definite quadratic part.
    const double det = 4.0 * p3 * p4 - p5 * p5;
    if (!(p3 < 0 && p4 < 0 && det > 0)) return std::nullopt;
    const double vr = (-2.0 * p4 * p1 + p5 * p2) / det;
    const double vc = (-2.0 * p3 * p2 + p5 * p1) / det;
    // The lowest pixel is the nearest one to the true bottom; a vertex further than a
    // pixel away means the fit describes something else (a ridge, a merged pair).
    if (std::abs(vr) > 1.0 || std::abs(vc) > 1.0) return std::nullopt;
    const double peak = b[0] + p1 * vr + p2 * vc + p3 * vr * vr + p4 * vc * vc + p5 * vr * vc;
    return Bottom{r0 + vr, c0 + vc, std::exp(peak)};
  }

  const HeightMap& map_;
  const SurfacePlane& plane_;
  double sigma_um_;
  double threshold_um_;
  std::vector<double> ring_;  // reused across channels: no allocation per channel
};

}  // namespace

std::optional<std::string> map_problem(const HeightMap& map) {
  if (map.rows <= 0 || map.cols <= 0)
    return text("height map has %d rows x %d columns: nothing to analyse", map.rows, map.cols);
  const auto expected = static_cast<std::size_t>(map.rows) * static_cast<std::size_t>(map.cols);
  if (map.height_um.size() != expected)
    return text("height map holds %zu pixels but declares %d rows x %d columns = %zu",
                map.height_um.size(), map.rows, map.cols, expected);
  if (!(map.pitch_um > 0) || !std::isfinite(map.pitch_um))
    return text("height map pitch %g um is not a positive length", map.pitch_um);
  return std::nullopt;
}

std::expected<PlaneFit, std::string> fit_surface_plane(const HeightMap& map,
                                                       const DetectionOptions& options) {
  if (auto problem = map_problem(map)) return std::unexpected(*problem);
  const double pixels = double(map.rows) * double(map.cols);
  const int stride =
      std::max(1, static_cast<int>(std::sqrt(pixels / std::max(options.plane_samples, 16))));
  std::vector<PlaneSample> samples;
  samples.reserve(static_cast<std::size_t>(pixels / (double(stride) * stride)) + map.rows + 1);
  // Offsetting the grid by half a stride keeps samples off the map's edge rows.
  for (int r = stride / 2; r < map.rows; r += stride)
    for (int c = stride / 2; c < map.cols; c += stride)
      if (const float h = map.at(r, c); !std::isnan(h))
        samples.push_back({double(r), double(c), h});
  if (samples.size() < 16)
    return std::unexpected(text(
        "height map has only %zu readable pixels in its %lld-pixel subsample: too few to fit the "
        "surface",
        samples.size(), static_cast<long long>(pixels / (double(stride) * stride))));

  const double r0 = (map.rows - 1) / 2.0, c0 = (map.cols - 1) / 2.0;
  std::vector<char> use(samples.size(), 1);
  std::vector<double> residuals(samples.size());
  std::vector<double> fitted;
  fitted.reserve(samples.size());
  PlaneFit fit;
  for (int iteration = 0; iteration < std::max(1, options.plane_iterations); ++iteration) {
    const auto plane = least_squares_plane(samples, use, r0, c0);
    if (!plane)
      return std::unexpected("height map's readable pixels lie on a line: no surface plane fits");
    fit.plane = *plane;
    for (std::size_t k = 0; k < samples.size(); ++k)
      residuals[k] = samples[k].h - plane->at(samples[k].r, samples[k].c);
    // Median and MAD ignore the channels (a few % of the area), so the band kept for the
    // next fit is centred on the surface and as wide as its noise. The first fit, pulled
    // down by the channels, sits below the surface: centring on 0 would drop the surface.
    // Statistics over the samples this plane was fitted to: after the first round that
    // leaves the channels out of the noise estimate too.
    fitted.clear();
    for (std::size_t k = 0; k < samples.size(); ++k)
      if (use[k]) fitted.push_back(residuals[k]);
    const double centre = median(fitted);
    fit.noise_sigma_um = robust_sigma(fitted, centre);
    const double clip = options.clip_sigmas * std::max(fit.noise_sigma_um, 1e-3);
    std::size_t kept = 0;
    for (std::size_t k = 0; k < samples.size(); ++k) {
      use[k] = std::abs(residuals[k] - centre) <= clip;
      kept += use[k];
    }
    if (kept < 16) break;  // degenerate surface: keep the last plane rather than fit noise
  }
  return fit;
}

std::expected<ChannelDetection, std::string> detect_channels(const HeightMap& map,
                                                             const DetectionOptions& options) {
  auto plane_fit = fit_surface_plane(map, options);
  if (!plane_fit) return std::unexpected(plane_fit.error());

  ChannelDetection out;
  out.plane = plane_fit->plane;
  out.noise_sigma_um = plane_fit->noise_sigma_um;
  out.threshold_um =
      std::max(options.threshold_sigmas * out.noise_sigma_um, options.min_threshold_um);

  Labelling labels = label_runs(map, out.plane, out.threshold_um);
  out.valid_pixels = labels.valid_pixels;

  // Gather runs into regions (roots appear in raster order, so regions do too).
  std::vector<int> region_of_root(labels.runs.size(), -1);
  std::vector<Region> regions;
  for (std::size_t k = 0; k < labels.runs.size(); ++k) {
    const int root = find_root(labels.parent, static_cast<int>(k));
    if (region_of_root[root] < 0) {
      region_of_root[root] = static_cast<int>(regions.size());
      const Run& run = labels.runs[k];
      regions.push_back(Region{{}, 0, run.row, run.row, run.c0, run.c1});
    }
    Region& region = regions[region_of_root[root]];
    const Run& run = labels.runs[k];
    region.runs.push_back(static_cast<int>(k));
    region.pixels += run.c1 - run.c0 + 1;
    region.r_min = std::min(region.r_min, run.row);
    region.r_max = std::max(region.r_max, run.row);
    region.c_min = std::min(region.c_min, run.c0);
    region.c_max = std::max(region.c_max, run.c1);
  }

  ChannelMeasurer measurer(map, out.plane, out.noise_sigma_um, out.threshold_um);
  out.channels.reserve(regions.size());
  for (const Region& region : regions) {
    if (region.pixels < options.min_area_px) continue;
    out.channels.push_back(measurer.measure(region, labels.runs));
  }
  return out;
}

}  // namespace derma::analysis
