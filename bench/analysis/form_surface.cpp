#include "bench/analysis/form_surface.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

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

double FormSurface::at(double r, double c) const {
  const Weights wr = weights(knot_r_, r), wc = weights(knot_c_, c);
  const std::size_t cols = knot_c_.size();
  double sum = 0;
  for (int a = 0; a < wr.count; ++a)
    for (int b = 0; b < wc.count; ++b)
      sum += wr.w[a] * wc.w[b] * knots_um_[(wr.first + a) * cols + wc.first + b];
  return sum;
}

FormSurface::RowWalker::RowWalker(const FormSurface& form, int cols)
    : form_(form),
      cols_(cols),
      heights_(static_cast<std::size_t>(cols)),
      step_(heights_.size()),
      column_weights_(heights_.size()),
      knot_values_(form.knot_c_.size()),
      next_knot_values_(knot_values_.size()),
      scratch_(heights_.size()) {
  for (int c = 0; c < cols; ++c) column_weights_[static_cast<std::size_t>(c)] = weights(form.knot_c_, c);
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
  }
}

const float* FormSurface::RowWalker::row(int r) {
  if (r >= band_end_ || r != next_row_) {
    start_band(r);
  } else {
    for (int c = 0; c < cols_; ++c)
      heights_[static_cast<std::size_t>(c)] += step_[static_cast<std::size_t>(c)];
  }
  next_row_ = r + 1;
  return heights_.data();
}

// ---------------------------------------------------------------------------------------
// Fitting it

namespace {

struct CellGrid {
  int rows = 0, cols = 0;   // cells
  int side_r = 0, side_c = 0;  // pixels per cell side
  std::vector<double> knot_r, knot_c;
};

CellGrid make_grid(const HeightMap& map, const FormOptions& options) {
  CellGrid g;
  const int wanted = std::max(2, static_cast<int>(std::lround(options.cell_mm * 1000.0 / map.pitch_um)));
  // At least three cells a side where the map allows, so curvature shows in the knots.
  g.side_r = std::clamp(std::min(wanted, map.rows / 3), 1, std::max(1, map.rows));
  g.side_c = std::clamp(std::min(wanted, map.cols / 3), 1, std::max(1, map.cols));
  g.rows = (map.rows + g.side_r - 1) / g.side_r;
  g.cols = (map.cols + g.side_c - 1) / g.side_c;
  for (int i = 0; i < g.rows; ++i)
    g.knot_r.push_back((i * g.side_r + std::min(map.rows, (i + 1) * g.side_r) - 1) / 2.0);
  for (int j = 0; j < g.cols; ++j)
    g.knot_c.push_back((j * g.side_c + std::min(map.cols, (j + 1) * g.side_c) - 1) / 2.0);
  return g;
}

// Pixel positions sampled along one side of the cell starting at `first` with `extent` pixels.
std::vector<int> sample_positions(int first, int extent, int per_side) {
  const int n = std::min(per_side, extent);
  std::vector<int> out;
  for (int k = 0; k < n; ++k) out.push_back(first + static_cast<int>((k + 0.5) * extent / n));
  return out;
}

constexpr float kUnknown = std::numeric_limits<float>::quiet_NaN();

// The value neighbours predict for cell (i, j): the median of the averages of opposite
// neighbour pairs (exact on a plane, off by cell^2 x curvature / 2 on a curved surface), or
// where no pair exists, the median of straight-line extrapolations from one side.
float predicted_by_neighbours(const std::vector<float>& v, int rows, int cols, int i, int j) {
  const auto at = [&](int a, int b) {
    return (a < 0 || b < 0 || a >= rows || b >= cols) ? kUnknown
                                                      : v[static_cast<std::size_t>(a) * cols + b];
  };
  static constexpr int kAxes[4][2] = {{0, 1}, {1, 0}, {1, 1}, {1, -1}};
  std::vector<double> pairs, sides;
  for (const auto& d : kAxes) {
    const float p = at(i + d[0], j + d[1]), q = at(i - d[0], j - d[1]);
    if (!std::isnan(p) && !std::isnan(q)) pairs.push_back((double(p) + q) / 2.0);
    for (const int s : {1, -1}) {
      const float near = at(i + s * d[0], j + s * d[1]);
      const float far = at(i + 2 * s * d[0], j + 2 * s * d[1]);
      if (std::isnan(near)) continue;
      sides.push_back(std::isnan(far) ? double(near) : 2.0 * near - far);
    }
  }
  if (!pairs.empty()) return static_cast<float>(median(pairs));
  if (!sides.empty()) return static_cast<float>(median(sides));
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

}  // namespace

std::expected<FormFit, std::string> fit_form(const HeightMap& map, const FormOptions& options) {
  const CellGrid g = make_grid(map, options);
  std::vector<float> cell(static_cast<std::size_t>(g.rows) * g.cols, kUnknown);
  std::vector<double> values;
  std::size_t readable = 0;
  for (int i = 0; i < g.rows; ++i) {
    const int r_first = i * g.side_r, r_extent = std::min(map.rows, r_first + g.side_r) - r_first;
    const auto rows = sample_positions(r_first, r_extent, options.samples_per_side);
    for (int j = 0; j < g.cols; ++j) {
      const int c_first = j * g.side_c, c_extent = std::min(map.cols, c_first + g.side_c) - c_first;
      const auto cols = sample_positions(c_first, c_extent, options.samples_per_side);
      values.clear();
      for (const int r : rows)
        for (const int c : cols)
          if (const float h = map.at(r, c); !std::isnan(h)) values.push_back(h);
      readable += values.size();
      // A cell mostly unreadable (the lane's edge, a dropout) says too little: its
      // neighbours will speak for it.
      if (values.size() * 4 >= rows.size() * cols.size() && values.size() >= 3)
        cell[static_cast<std::size_t>(i) * g.cols + j] = static_cast<float>(median(values));
    }
  }
  if (std::all_of(cell.begin(), cell.end(), [](float v) { return std::isnan(v); }))
    return std::unexpected(text(
        "height map has only %zu readable pixels among its %d x %d cell samples: too few to "
        "fit the surface",
        readable, g.rows, g.cols));

  // Cells far from what their neighbours predict are not surface (a channel filling a small
  // cell, dust): replaced by the prediction.
  std::vector<double> deviation;
  std::vector<float> predicted(cell.size(), kUnknown);
  for (int i = 0; i < g.rows; ++i)
    for (int j = 0; j < g.cols; ++j) {
      const std::size_t k = static_cast<std::size_t>(i) * g.cols + j;
      if (std::isnan(cell[k])) continue;
      predicted[k] = predicted_by_neighbours(cell, g.rows, g.cols, i, j);
      if (!std::isnan(predicted[k])) deviation.push_back(double(cell[k]) - predicted[k]);
    }
  if (deviation.size() >= 5) {
    const double sigma = robust_sigma(deviation, 0.0);
    const double limit = std::max(options.outlier_sigmas * sigma, 3.0);
    for (std::size_t k = 0; k < cell.size(); ++k)
      if (!std::isnan(predicted[k]) && std::abs(double(cell[k]) - predicted[k]) > limit)
        cell[k] = kUnknown;
  }
  fill_unknown(cell, g.rows, g.cols);

  FormFit fit;
  fit.form = FormSurface(g.knot_r, g.knot_c, cell);
  fit.readable_samples = readable;
  // How far the sampled pixels scatter about the form.
  std::vector<double> residuals;
  residuals.reserve(readable);
  for (int i = 0; i < g.rows; ++i) {
    const int r_first = i * g.side_r, r_extent = std::min(map.rows, r_first + g.side_r) - r_first;
    for (const int r : sample_positions(r_first, r_extent, options.samples_per_side))
      for (int j = 0; j < g.cols; ++j) {
        const int c_first = j * g.side_c,
                  c_extent = std::min(map.cols, c_first + g.side_c) - c_first;
        for (const int c : sample_positions(c_first, c_extent, options.samples_per_side))
          if (const float h = map.at(r, c); !std::isnan(h))
            residuals.push_back(double(h) - fit.form.at(r, c));
      }
  }
  fit.residual_sigma_um = residuals.size() >= 2 ? robust_sigma(residuals) : 0.0;
  return fit;
}

}  // namespace derma::analysis
