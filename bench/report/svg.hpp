// Small helpers to draw charts as inline SVG for the HTML report: escaping, number
// formatting, "nice" axis ticks, a colour scale, and a Chart that owns the frame, grid,
// ticks and axis labels so each plot only draws its data. Everything is plain text: the
// report must stay one self-contained file with no scripts, fonts or network.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace derma::report::svg {

// Escapes &, <, >, " and ' so text is safe both as element content and in attributes.
std::string escape(std::string_view text);

// A number for people: NaN/inf as an em dash, else with the given decimals ("-0" never).
std::string number(double value, int decimals);
// A number with as many decimals as its magnitude deserves (312.4, 15.28, 0.125).
std::string number(double value);

// Ticks at 1, 2 or 5 x 10^k steps covering [lo, hi], about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);
double nice_step(double span, int target);
// Decimals needed to print ticks spaced by step without losing digits.
int decimals_for_step(double step);

// Perceptually even colour ramp (viridis-like), t in [0, 1] (clamped), as "#rrggbb".
std::string ramp_colour(double t);

// A linear map from data to pixels.
struct Scale {
  double d0 = 0, d1 = 1;  // data
  double p0 = 0, p1 = 1;  // pixels
  double operator()(double v) const {
    return d1 == d0 ? (p0 + p1) / 2 : p0 + (v - d0) * (p1 - p0) / (d1 - d0);
  }
};

struct Axis {
  double lo = 0;
  double hi = 1;
  std::string label;  // with its unit, e.g. "X position (mm)"
};

struct Margins {
  double left = 64, right = 24, top = 36, bottom = 48;
};

// An x/y chart: the frame, horizontal and vertical grid lines at nice ticks, tick labels
// and axis titles; an optional right-hand y axis for a second quantity. Data elements
// added with plot() are clipped to the plot area; overlay() elements are not.
class Chart {
 public:
  Chart(std::string id, double width, double height, Axis x, Axis y,
        std::optional<Axis> y_right = std::nullopt, Margins margins = {});

  double x(double v) const { return x_scale_(v); }
  double y(double v) const { return y_scale_(v); }
  double y_right(double v) const { return y_right_scale_(v); }
  double left() const { return margins_.left; }
  double right() const { return width_ - margins_.right; }
  double top() const { return margins_.top; }
  double bottom() const { return height_ - margins_.bottom; }
  double width() const { return width_; }
  double height() const { return height_; }

  void plot(const std::string& element) { plot_ += element; }
  void overlay(const std::string& element) { overlay_ += element; }
  // Horizontal x ticks are drawn unless turned off (e.g. a heat map labels its own cells).
  void set_grid(bool on) { grid_ = on; }

  // The whole <svg> element; title is read by screen readers and shown on hover.
  std::string render(const std::string& title) const;

 private:
  std::string axes() const;

  std::string id_;
  double width_, height_;
  Axis x_axis_, y_axis_;
  std::optional<Axis> y_right_axis_;
  Margins margins_;
  Scale x_scale_, y_scale_, y_right_scale_;
  std::string plot_, overlay_;
  bool grid_ = true;
};

// Element builders; `extra` is raw attribute text such as `class="force"`.
std::string line(double x1, double y1, double x2, double y2, std::string_view extra = {});
std::string rect(double x, double y, double w, double h, std::string_view extra = {});
std::string circle(double cx, double cy, double r, std::string_view extra = {});
std::string cross(double cx, double cy, double half, std::string_view extra = {});
// text is escaped here.
std::string text(double x, double y, std::string_view text, std::string_view extra = {});
std::string polyline(const std::vector<std::pair<double, double>>& points,
                     std::string_view extra = {});
// A <title> child, for hover tool-tips; text is escaped.
std::string tooltip(std::string_view text);

}  // namespace derma::report::svg
