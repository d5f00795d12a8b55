// The phantom's form as a scan shows it (tilt, curvature, the longer waves), for FINDING
// channels: a pixel lies in a channel when it is far enough below this surface. Depth is not
// measured against it (each channel gets its own local reference, channel_measurement.hpp):
// the form only has to be good to a fraction of the detection threshold.
//
// How it is fitted (docs/measurement.md, "Form"): the map is cut into cells of half a
// millimetre, and each cell's height is the median of an 8 x 8 grid of its pixels. A
// needle's channel (0.2-0.3 mm across) covers under a third of such a cell, so the median
// stays on the surface; a cell still far from what its neighbours predict (a longer
// channel, a dust particle, a torn patch) is replaced by that prediction. Between cell
// centres the surface is bilinear (off by at most 1.3 um on a 25 mm radius and 3 um on a
// 10 um wave 2 mm long), and quadratic through the three outermost beyond the outer ones.
#pragma once

#include <algorithm>
#include <cstddef>
#include <expected>
#include <string>
#include <vector>

#include "bench/analysis/records.hpp"

namespace derma::analysis {

class FormSurface {
  // How a coordinate's value is made of knot values: linear between two knots, quadratic
  // through the three outermost beyond the ends (one knot: that knot).
  struct Weights {
    std::size_t first = 0;
    int count = 0;
    double w[3] = {};
  };
  static Weights weights(const std::vector<double>& knots, double v);
  double at(const Weights& wr, const Weights& wc) const;

 public:
  // knot_r / knot_c: pixel coordinates of the cell centres (increasing); knots_um row-major.
  FormSurface(std::vector<double> knot_r, std::vector<double> knot_c, std::vector<float> knots_um);
  FormSurface() = default;

  double at(double r, double c) const;

  // Walks the map's rows in order for the labelling, which asks of each pixel whether it
  // lies below the form by more than the threshold. Between two knot rows the form is linear
  // in r: each row adds a per-column step to the row before (one add instead of a bilinear
  // evaluation), and the heights are computed exactly at each band's first row. The steps
  // are added a block of columns at a time, and only to a block whose heights are asked
  // for: most blocks of a map are cleared by a bound on the form over the block
  // (clear_height) without them. A block catches up with the steps it missed, so its
  // heights are always the very floats that adding every row's step would give.
  class RowWalker {
   public:
    static constexpr int kBlock = 64;  // columns
    RowWalker(const FormSurface& form, int cols);
    // Moves to row r (rows asked in increasing order, each once).
    void to_row(int r);
    // The form along block b of the current row: columns b * kBlock .. (at most kBlock).
    const float* block(int b);
    // A height at or above which a pixel of block b lies at least `limit` above the form on
    // the current row (limit may be negative): h >= clear_height(b, limit) implies
    // h - form >= limit for every column of the block, in float arithmetic too.
    float clear_height(int b, float limit) const;

   private:
    void start_band(int r);
    void fill(double r, std::vector<double>& knot_values, float* out) const;
    int width(int b) const { return std::min(kBlock, cols_ - b * kBlock); }
    const FormSurface& form_;
    int cols_;
    int band_start_ = 0;
    int band_end_ = -1;  // first row of the next band
    int row_ = -1;
    std::vector<float> heights_;
    std::vector<float> step_;
    std::vector<int> block_row_;  // the row whose heights each block holds
    // Per block, at the band's first row: the largest height and step, and the largest
    // magnitudes (which bound the steps' rounding).
    std::vector<double> base_max_, step_max_, base_abs_, step_abs_;
    std::vector<Weights> column_weights_;
    std::vector<double> knot_values_, next_knot_values_;
    std::vector<float> scratch_;
  };

  // The form at a fixed set of columns, one row at a time: exactly the values at() gives
  // (the same weights, products and sums), with each column's weights worked out once
  // instead of searched for at every point. For the fit's hundreds of thousands of samples.
  class ColumnSampler {
   public:
    ColumnSampler(const FormSurface& form, const std::vector<int>& cols);
    // out[k] = at(r, cols[k]) for every column k.
    void row(int r, double* out) const;

   private:
    const FormSurface& form_;
    std::vector<Weights> column_weights_;
  };

  std::size_t knot_rows() const { return knot_r_.size(); }
  std::size_t knot_cols() const { return knot_c_.size(); }

 private:
  std::vector<double> knot_r_;
  std::vector<double> knot_c_;
  std::vector<float> knots_um_;
};

struct FormOptions {
  double cell_mm = 0.5;       // cell side; shrunk so that a map has at least 3 cells a side
  int samples_per_side = 8;   // pixels sampled along each side of a cell
  double outlier_sigmas = 6;  // a cell this far (in robust sigmas of cell residuals) is replaced
};

struct FormFit {
  FormSurface form;
  // Robust sd of the sampled pixels about the form: noise plus what the form does not follow
  // (the shortest waves), which is what the detection threshold must clear.
  double residual_sigma_um = 0;
  std::size_t readable_samples = 0;
};

std::expected<FormFit, std::string> fit_form(const HeightMap& map, const FormOptions& options = {});

}  // namespace derma::analysis
