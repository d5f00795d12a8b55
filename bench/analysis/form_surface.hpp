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

  // Walks the map's rows in order, keeping the form along the current row in a buffer: each
  // row adds a per-column step (the surface is linear between knot rows), so a pixel costs one
  // add instead of a bilinear evaluation. The buffer is recomputed exactly at each knot row.
  class RowWalker {
   public:
    RowWalker(const FormSurface& form, int cols);
    // Form heights along row r (rows asked in increasing order, each once).
    const float* row(int r);

   private:
    void start_band(int r);
    void fill(double r, std::vector<double>& knot_values, float* out) const;
    const FormSurface& form_;
    int cols_;
    int band_end_ = -1;  // first row of the next band
    int next_row_ = 0;
    std::vector<float> heights_;
    std::vector<float> step_;
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
  double cell_mm = 0.5;        // cell side; shrunk so that a map has at least 3 cells a side
  int samples_per_side = 8;    // pixels sampled along each side of a cell
  double outlier_sigmas = 6;   // a cell this far (in robust sigmas of cell residuals) is replaced
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
