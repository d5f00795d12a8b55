#include "bench/analysis/form_surface.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "bench/analysis/statistics.hpp"
#include "bench/analysis/text.hpp"

namespace derma::analysis {

// ---------------------------------------------------------------------------------------
// Evaluating the surface

FormSurface::FormSurface(std::vector<double> knot_r, std::vector<double> knot_c,
                         std::vector<float> knots_um)
    : knot_r_(std::move(knot_r)), knot_c_(std::move(knot_c)), knots_um_(std::move(knots_um)) {}

FormSurface::Weights FormSurface::weights(const std::vector<double>& knots, double v) {
  Weights w;
  const std::size_t n = knots.size();
  if (n == 1) {
    w.count = 1;
    w.w[0] = 1;
    return w;
  }
  // Beyond the outer knots (half a cell at most) a line would miss a curved surface by
  // h'' x (half cell x cell) / 2: a quadratic through the three outermost knots follows it.
  if (n >= 3 && (v < knots.front() || v > knots.back())) {
    w.first = v < knots.front() ? 0 : n - 3;
    w.count = 3;
    const double* x = &knots[w.first];
    w.w[0] = (v - x[1]) * (v - x[2]) / ((x[0] - x[1]) * (x[0] - x[2]));
    w.w[1] = (v - x[0]) * (v - x[2]) / ((x[1] - x[0]) * (x[1] - x[2]));
    w.w[2] = (v - x[0]) * (v - x[1]) / ((x[2] - x[0]) * (x[2] - x[1]));
    return w;
  }
  const auto upper = std::upper_bound(knots.begin() + 1, knots.end() - 1, v);
  w.first = static_cast<std::size_t>(upper - knots.begin()) - 1;
  w.count = 2;
  const double t = (v - knots[w.first]) / (knots[w.first + 1] - knots[w.first]);
  w.w[0] = 1 - t;
  w.w[1] = t;
  return w;
}

// Inline: the fit evaluates it at every sample (409,600 on a 16-megapixel map), where a call
// and the general loops over one to three weights cost more than the sum.
inline double FormSurface::at(const Weights& wr, const Weights& wc) const {
  const std::size_t cols = knot_c_.size();
  const float* row = knots_um_.data() + wr.first * cols + wc.first;
  if (wr.count == 2 && wc.count == 2)  // between knots: the same products and sums as below
    return ((0.0 + wr.w[0] * wc.w[0] * row[0]) + wr.w[0] * wc.w[1] * row[1]) +
           wr.w[1] * wc.w[0] * row[cols] + wr.w[1] * wc.w[1] * row[cols + 1];
  double sum = 0;
  for (int a = 0; a < wr.count; ++a)
    for (int b = 0; b < wc.count; ++b) sum += wr.w[a] * wc.w[b] * row[a * cols + b];
  return sum;
}

double FormSurface::at(double r, double c) const {
  return at(weights(knot_r_, r), weights(knot_c_, c));
}

FormSurface::ColumnSampler::ColumnSampler(const FormSurface& form, const std::vector<int>& cols)
    : form_(form) {
  column_weights_.reserve(cols.size());
  for (const int c : cols) column_weights_.push_back(weights(form.knot_c_, c));
}

void FormSurface::ColumnSampler::row(int r, double* out) const {
  const Weights wr = weights(form_.knot_r_, r);
  for (std::size_t k = 0; k < column_weights_.size(); ++k)
    out[k] = form_.at(wr, column_weights_[k]);
}

FormSurface::RowWalker::RowWalker(const FormSurface& form, int cols)
    : form_(form),
      cols_(cols),
      heights_(static_cast<std::size_t>(cols)),
      step_(heights_.size()),
      block_row_((cols + kBlock - 1) / kBlock),
      base_max_(block_row_.size()),
      step_max_(block_row_.size()),
      base_abs_(block_row_.size()),
      step_abs_(block_row_.size()),
      column_weights_(heights_.size()),
      knot_values_(form.knot_c_.size()),
      next_knot_values_(knot_values_.size()),
      scratch_(heights_.size()) {
  for (int c = 0; c < cols; ++c)
    column_weights_[static_cast<std::size_t>(c)] = weights(form.knot_c_, c);
}

void FormSurface::RowWalker::fill(double r, std::vector<double>& knot_values, float* out) const {
  const Weights wr = weights(form_.knot_r_, r);
  const std::size_t cols = form_.knot_c_.size();
  for (std::size_t j = 0; j < cols; ++j) {
    double v = 0;
    for (int a = 0; a < wr.count; ++a) v += wr.w[a] * form_.knots_um_[(wr.first + a) * cols + j];
    knot_values[j] = v;
  }
  for (int c = 0; c < cols_; ++c) {
    const Weights& wc = column_weights_[static_cast<std::size_t>(c)];
    double v = 0;
    for (int b = 0; b < wc.count; ++b) v += wc.w[b] * knot_values[wc.first + b];
    out[c] = static_cast<float>(v);
  }
}

void FormSurface::RowWalker::start_band(int r) {
  // Between two knot rows the form is linear in r: one step per column carries a row to the
  // next. Beyond the outer knot rows it is quadratic in r, and each row is computed afresh.
  const auto& knots = form_.knot_r_;
  const bool outside = knots.size() >= 3 && (r < knots.front() || r >= knots.back());
  if (outside || knots.size() < 2) {
    band_end_ = knots.size() < 2 ? std::numeric_limits<int>::max() : r + 1;
  } else {
    const auto upper = std::upper_bound(knots.begin(), knots.end(), double(r));
    band_end_ = static_cast<int>(std::ceil(*upper));
    if (band_end_ <= r) band_end_ = r + 1;
  }
  fill(r, knot_values_, heights_.data());
  if (band_end_ > r + 1) {
    fill(r + 1.0, next_knot_values_, scratch_.data());
    for (int c = 0; c < cols_; ++c)
      step_[static_cast<std::size_t>(c)] =
          scratch_[static_cast<std::size_t>(c)] - heights_[static_cast<std::size_t>(c)];
  } else {
    std::fill(step_.begin(), step_.end(), 0.0f);
  }
  band_start_ = r;
  for (std::size_t b = 0; b < block_row_.size(); ++b) {
    const float* h = heights_.data() + b * kBlock;
    const float* s = step_.data() + b * kBlock;
    float h_lo = h[0], h_hi = h[0], s_lo = s[0], s_hi = s[0];
    for (int c = 1; c < width(static_cast<int>(b)); ++c) {
      h_lo = std::min(h_lo, h[c]);
      h_hi = std::max(h_hi, h[c]);
      s_lo = std::min(s_lo, s[c]);
      s_hi = std::max(s_hi, s[c]);
    }
    block_row_[b] = r;
    base_max_[b] = h_hi;
    step_max_[b] = s_hi;
    base_abs_[b] = std::max(std::abs(h_lo), std::abs(h_hi));
    step_abs_[b] = std::max(std::abs(s_lo), std::abs(s_hi));
  }
}

namespace {
// heights[c] += step[c], once per pixel of the map: in blocks of a fixed length, through
// parameters that do not alias, because that is what the compiler turns into SIMD adds at
// -O2 (a loop whose trip count it does not know, or whose arrays might overlap, stays
// scalar).
void add_in_place(float* __restrict heights, const float* __restrict step, int n) {
  constexpr int kBlock = 16;
  int c = 0;
  for (; c + kBlock <= n; c += kBlock)
    for (int k = 0; k < kBlock; ++k) heights[c + k] += step[c + k];
  for (; c < n; ++c) heights[c] += step[c];
}
}  // namespace

void FormSurface::RowWalker::to_row(int r) {
  if (r >= band_end_ || r != row_ + 1) start_band(r);
  row_ = r;
}

const float* FormSurface::RowWalker::block(int b) {
  float* h = heights_.data() + static_cast<std::size_t>(b) * kBlock;
  const float* s = step_.data() + static_cast<std::size_t>(b) * kBlock;
  for (; block_row_[b] < row_; ++block_row_[b]) add_in_place(h, s, width(b));
  return h;
}

float FormSurface::RowWalker::clear_height(int b, float limit) const {
  // Over the block the form is at most base_max + t x step_max (t rows into the band), and
  // the float steps drift from that by rounding: a few units in the last place per step,
  // bounded generously. Rounded up, so that h >= the result implies h - form >= limit.
  const double t = row_ - band_start_;
  const double top = base_max_[b] + t * step_max_[b];
  const double drift = (t + 1) * 1e-6 * (base_abs_[b] + t * step_abs_[b] + 1);
  const double clear = top + drift + limit;
  // Rounded up: the nearest float to a value 1e-6 x |clear| above it cannot lie below it (half
  // a float's unit in the last place is 6e-8 x).
  return static_cast<float>(clear + 1e-6 * std::abs(clear));
}

// ---------------------------------------------------------------------------------------
// Fitting it

namespace {

// One axis of the cell grid: the cells' centres (the knots) and the pixels sampled in each
// cell, samples[begin[i] .. begin[i + 1]) for cell i. Every cell of a cell row samples the
// same rows, every cell of a cell column the same columns.
struct Axis {
  int side = 0;  // pixels per cell
  std::vector<double> knots;
  std::vector<int> samples, begin;
  int cells() const { return static_cast<int>(knots.size()); }
  int samples_in(int i) const { return begin[i + 1] - begin[i]; }
};

// `wanted` pixels a cell, but at least three cells where the map allows, so curvature shows
// in the knots; `per_side` pixels sampled evenly in each cell.
Axis make_axis(int pixels, int wanted, int per_side) {
  Axis a;
  a.side = std::clamp(std::min(wanted, pixels / 3), 1, std::max(1, pixels));
  for (int first = 0; first < pixels; first += a.side) {
    const int extent = std::min(pixels, first + a.side) - first;
    a.knots.push_back((first + first + extent - 1) / 2.0);
    a.begin.push_back(static_cast<int>(a.samples.size()));
    const int n = std::min(per_side, extent);
    for (int k = 0; k < n; ++k)
      a.samples.push_back(first + static_cast<int>((k + 0.5) * extent / n));
  }
  a.begin.push_back(static_cast<int>(a.samples.size()));
  return a;
}

struct CellGrid {
  Axis r, c;
  // The sampled pixels, read out of the map once (the fit reads them twice, and a sampled row
  // of the map is mostly cache lines of unsampled pixels): samples.r.samples x c.samples,
  // row-major, NaN where unreadable.
  std::vector<float> sampled;
};

CellGrid sample_grid(const HeightMap& map, const FormOptions& options) {
  const int wanted =
      std::max(2, static_cast<int>(std::lround(options.cell_mm * 1000.0 / map.pitch_um)));
  CellGrid g{make_axis(map.rows, wanted, options.samples_per_side),
             make_axis(map.cols, wanted, options.samples_per_side),
             {}};
  g.sampled.resize(g.r.samples.size() * g.c.samples.size());
  float* out = g.sampled.data();
  for (const int r : g.r.samples) {
    const float* row = map.height_um.data() + static_cast<std::size_t>(r) * map.cols;
    for (const int c : g.c.samples) *out++ = row[c];
  }
  return g;
}

constexpr float kUnknown = std::numeric_limits<float>::quiet_NaN();

// Each cell's height: the median of its readable samples, or unknown when most of them are
// unreadable (the lane's edge, a dropout): its neighbours will speak for it.
std::vector<float> cell_medians(const CellGrid& g, std::size_t& readable) {
  std::vector<float> cell(static_cast<std::size_t>(g.r.cells()) * g.c.cells(), kUnknown);
  const std::size_t width = g.c.samples.size();
  std::vector<double> values;
  for (int i = 0; i < g.r.cells(); ++i)
    for (int j = 0; j < g.c.cells(); ++j) {
      values.clear();
      for (int s = g.r.begin[i]; s < g.r.begin[i + 1]; ++s) {
        const float* row = g.sampled.data() + static_cast<std::size_t>(s) * width;
        for (int t = g.c.begin[j]; t < g.c.begin[j + 1]; ++t)
          if (!std::isnan(row[t])) values.push_back(row[t]);
      }
      readable += values.size();
      const auto sampled = static_cast<std::size_t>(g.r.samples_in(i) * g.c.samples_in(j));
      if (values.size() * 4 >= sampled && values.size() >= 3)
        cell[static_cast<std::size_t>(i) * g.c.cells() + j] =
            static_cast<float>(median_destructive(values));
    }
  return cell;
}

// The value neighbours predict for cell (i, j): the median of the averages of opposite
// neighbour pairs (exact on a plane, off by cell^2 x curvature / 2 on a curved surface), or
// where no pair exists, the median of straight-line extrapolations from one side. Called for
// every cell: the candidates live in fixed arrays, not allocated ones.
float predicted_by_neighbours(const std::vector<float>& v, int rows, int cols, int i, int j) {
  const auto at = [&](int a, int b) {
    return (a < 0 || b < 0 || a >= rows || b >= cols) ? kUnknown
                                                      : v[static_cast<std::size_t>(a) * cols + b];
  };
  static constexpr int kAxes[4][2] = {{0, 1}, {1, 0}, {1, 1}, {1, -1}};
  double pairs[4], sides[8];
  std::size_t n_pairs = 0, n_sides = 0;
  for (const auto& d : kAxes) {
    const float p = at(i + d[0], j + d[1]), q = at(i - d[0], j - d[1]);
    if (!std::isnan(p) && !std::isnan(q)) pairs[n_pairs++] = (double(p) + q) / 2.0;
    for (const int s : {1, -1}) {
      const float near = at(i + s * d[0], j + s * d[1]);
      const float far = at(i + 2 * s * d[0], j + 2 * s * d[1]);
      if (std::isnan(near)) continue;
      sides[n_sides++] = std::isnan(far) ? double(near) : 2.0 * near - far;
    }
  }
  if (n_pairs > 0) return static_cast<float>(median_destructive(std::span<double>(pairs, n_pairs)));
  if (n_sides > 0) return static_cast<float>(median_destructive(std::span<double>(sides, n_sides)));
  return kUnknown;
}

// Fills every unknown cell from its known neighbours, nearest first, until none is left.
void fill_unknown(std::vector<float>& v, int rows, int cols) {
  for (bool changed = true; changed;) {
    changed = false;
    std::vector<float> next = v;
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j) {
        float& cell = next[static_cast<std::size_t>(i) * cols + j];
        if (!std::isnan(cell)) continue;
        cell = predicted_by_neighbours(v, rows, cols, i, j);
        changed = changed || !std::isnan(cell);
      }
    v.swap(next);
  }
}

// How far the sampled pixels scatter about the form: 1.4826 x their median absolute
// deviation, computed in place (the residuals are half a million values: no copies).
double residual_sigma(const CellGrid& g, const FormSurface& form, std::size_t readable) {
  std::vector<double> residuals;
  residuals.reserve(readable);
  const FormSurface::ColumnSampler sampler(form, g.c.samples);
  std::vector<double> form_um(g.c.samples.size());
  const float* h = g.sampled.data();
  for (const int r : g.r.samples) {
    sampler.row(r, form_um.data());
    for (std::size_t k = 0; k < form_um.size(); ++k, ++h)
      if (!std::isnan(*h)) residuals.push_back(double(*h) - form_um[k]);
  }
  if (residuals.size() < 2) return 0.0;
  const double centre = median_destructive(residuals);
  for (double& e : residuals) e = std::abs(e - centre);
  return 1.4826 * median_destructive(residuals);
}

}  // namespace

std::expected<FormFit, std::string> fit_form(const HeightMap& map, const FormOptions& options) {
  const CellGrid g = sample_grid(map, options);
  const int rows = g.r.cells(), cols = g.c.cells();
  std::size_t readable = 0;
  std::vector<float> cell = cell_medians(g, readable);
  if (std::all_of(cell.begin(), cell.end(), [](float v) { return std::isnan(v); }))
    return std::unexpected(
        text("height map has only %zu readable pixels among its %d x %d cell samples: too few to "
             "fit the surface",
             readable, rows, cols));

  // Cells far from what their neighbours predict are not surface (a channel filling a small
  // cell, dust): replaced by the prediction.
  std::vector<double> deviation;
  std::vector<float> predicted(cell.size(), kUnknown);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      const std::size_t k = static_cast<std::size_t>(i) * cols + j;
      if (std::isnan(cell[k])) continue;
      predicted[k] = predicted_by_neighbours(cell, rows, cols, i, j);
      if (!std::isnan(predicted[k])) deviation.push_back(double(cell[k]) - predicted[k]);
    }
  if (deviation.size() >= 5) {
    const double sigma = robust_sigma(deviation, 0.0);
    const double limit = std::max(options.outlier_sigmas * sigma, 3.0);
    for (std::size_t k = 0; k < cell.size(); ++k)
      if (!std::isnan(predicted[k]) && std::abs(double(cell[k]) - predicted[k]) > limit)
        cell[k] = kUnknown;
  }
  fill_unknown(cell, rows, cols);

  FormFit fit;
  fit.form = FormSurface(g.r.knots, g.c.knots, cell);
  fit.readable_samples = readable;
  fit.residual_sigma_um = residual_sigma(g, fit.form, readable);
  return fit;
}

}  // namespace derma::analysis
