#include "bench/report/svg.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "bench/report/junit_report.hpp"

namespace derma::report::svg {

// Text in SVG and HTML is escaped exactly as in XML.
std::string escape(std::string_view text) {
  return xml_escape(std::string(text));
}

std::string number(double value, int decimals) {
  if (!std::isfinite(value)) return "\u2014";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", std::clamp(decimals, 0, 9), value);
  std::string s = buf;
  // "-0.0" reads as a sign that is not there.
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string number(double value) {
  const double a = std::abs(value);
  if (a >= 1000) return number(value, 0);
  if (a >= 100) return number(value, 1);
  if (a >= 1) return number(value, 2);
  return number(value, 3);
}

double nice_step(double span, int target) {
  if (!(span > 0) || !std::isfinite(span)) return 1;
  const double raw = span / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / magnitude;
  const double nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  return nice * magnitude;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  std::vector<double> ticks;
  if (!std::isfinite(lo) || !std::isfinite(hi)) return ticks;
  if (hi < lo) std::swap(lo, hi);
  const double step = nice_step(hi - lo, target);
  const double first = std::ceil(lo / step - 1e-9) * step;
  for (double t = first; t <= hi + step * 1e-9 && ticks.size() < 100; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

int decimals_for_step(double step) {
  if (!(step > 0) || step >= 1) return 0;
  return std::min(6, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
}

std::string ramp_colour(double t) {
  // Viridis, sampled at nine stops; linear in between.
  static constexpr std::array<std::array<int, 3>, 9> kStops = {{{68, 1, 84},
                                                                {71, 44, 122},
                                                                {59, 81, 139},
                                                                {44, 113, 142},
                                                                {33, 144, 141},
                                                                {39, 173, 129},
                                                                {92, 200, 99},
                                                                {170, 220, 50},
                                                                {253, 231, 37}}};
  if (!std::isfinite(t)) t = 0;
  t = std::clamp(t, 0.0, 1.0) * (kStops.size() - 1);
  const std::size_t i = std::min<std::size_t>(static_cast<std::size_t>(t), kStops.size() - 2);
  const double f = t - i;
  char buf[8];
  int c[3];
  for (int k = 0; k < 3; ++k)
    c[k] = static_cast<int>(std::lround(kStops[i][k] + f * (kStops[i + 1][k] - kStops[i][k])));
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c[0], c[1], c[2]);
  return buf;
}

namespace {

std::string px(double v) {
  return number(v, 1);
}

std::string with_extra(std::string element, std::string_view extra) {
  if (!extra.empty()) {
    element += ' ';
    element += extra;
  }
  return element;
}

}  // namespace

std::string line(double x1, double y1, double x2, double y2, std::string_view extra) {
  return with_extra("<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) +
                        "\" y2=\"" + px(y2) + "\"",
                    extra) +
         "/>";
}

std::string rect(double x, double y, double w, double h, std::string_view extra) {
  return with_extra("<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" +
                        px(std::max(0.0, w)) + "\" height=\"" + px(std::max(0.0, h)) + "\"",
                    extra) +
         "/>";
}

std::string circle(double cx, double cy, double r, std::string_view extra) {
  return with_extra("<circle cx=\"" + px(cx) + "\" cy=\"" + px(cy) + "\" r=\"" + px(r) + "\"",
                    extra) +
         "/>";
}

std::string cross(double cx, double cy, double half, std::string_view extra) {
  return with_extra("<path d=\"M" + px(cx - half) + " " + px(cy - half) + "L" + px(cx + half) +
                        " " + px(cy + half) + "M" + px(cx - half) + " " + px(cy + half) + "L" +
                        px(cx + half) + " " + px(cy - half) + "\"",
                    extra) +
         "/>";
}

std::string text(double x, double y, std::string_view content, std::string_view extra) {
  return with_extra("<text x=\"" + px(x) + "\" y=\"" + px(y) + "\"", extra) + ">" +
         escape(content) + "</text>";
}

std::string polyline(const std::vector<std::pair<double, double>>& points, std::string_view extra) {
  std::string pts;
  pts.reserve(points.size() * 12);
  for (const auto& [x, y] : points) {
    if (!pts.empty()) pts += ' ';
    pts += px(x) + "," + px(y);
  }
  return with_extra("<polyline points=\"" + pts + "\"", extra) + "/>";
}

std::string tooltip(std::string_view content) {
  return "<title>" + escape(content) + "</title>";
}

Chart::Chart(std::string id, double width, double height, Axis x, Axis y,
             std::optional<Axis> y_right, Margins margins)
    : id_(std::move(id)),
      width_(width),
      height_(height),
      x_axis_(std::move(x)),
      y_axis_(std::move(y)),
      y_right_axis_(std::move(y_right)),
      margins_(margins) {
  x_scale_ = {x_axis_.lo, x_axis_.hi, left(), right()};
  y_scale_ = {y_axis_.lo, y_axis_.hi, bottom(), top()};
  if (y_right_axis_) y_right_scale_ = {y_right_axis_->lo, y_right_axis_->hi, bottom(), top()};
}

std::string Chart::axes() const {
  std::string out;
  const int x_target = std::max(3, static_cast<int>((right() - left()) / 90));
  const int y_target = std::max(3, static_cast<int>((bottom() - top()) / 50));
  const auto x_ticks = nice_ticks(x_axis_.lo, x_axis_.hi, x_target);
  const auto y_ticks = nice_ticks(y_axis_.lo, y_axis_.hi, y_target);
  const int x_dec = decimals_for_step(nice_step(x_axis_.hi - x_axis_.lo, x_target));
  const int y_dec = decimals_for_step(nice_step(y_axis_.hi - y_axis_.lo, y_target));
  if (grid_) {
    for (double t : x_ticks) out += line(x(t), top(), x(t), bottom(), "class=\"grid\"");
    for (double t : y_ticks) out += line(left(), y(t), right(), y(t), "class=\"grid\"");
  }
  out += rect(left(), top(), right() - left(), bottom() - top(), "class=\"frame\"");
  for (double t : x_ticks) {
    out += line(x(t), bottom(), x(t), bottom() + 5, "class=\"tick\"");
    out +=
        text(x(t), bottom() + 18, number(t, x_dec), "class=\"tick-label\" text-anchor=\"middle\"");
  }
  for (double t : y_ticks) {
    out += line(left() - 5, y(t), left(), y(t), "class=\"tick\"");
    out += text(left() - 8, y(t) + 4, number(t, y_dec), "class=\"tick-label\" text-anchor=\"end\"");
  }
  out += text((left() + right()) / 2, height_ - 8, x_axis_.label,
              "class=\"axis-label\" text-anchor=\"middle\"");
  out += "<text class=\"axis-label\" text-anchor=\"middle\" transform=\"translate(" + px(16) + " " +
         px((top() + bottom()) / 2) + ") rotate(-90)\">" + escape(y_axis_.label) + "</text>";
  if (y_right_axis_) {
    const auto r_ticks = nice_ticks(y_right_axis_->lo, y_right_axis_->hi, y_target);
    const int r_dec = decimals_for_step(nice_step(y_right_axis_->hi - y_right_axis_->lo, y_target));
    for (double t : r_ticks) {
      out += line(right(), y_right(t), right() + 5, y_right(t), "class=\"tick\"");
      out += text(right() + 8, y_right(t) + 4, number(t, r_dec),
                  "class=\"tick-label\" text-anchor=\"start\"");
    }
    out += "<text class=\"axis-label\" text-anchor=\"middle\" transform=\"translate(" +
           px(width_ - 14) + " " + px((top() + bottom()) / 2) + ") rotate(90)\">" +
           escape(y_right_axis_->label) + "</text>";
  }
  return out;
}

std::string Chart::render(const std::string& title) const {
  const std::string clip = id_ + "-clip";
  std::string out = "<svg class=\"chart\" viewBox=\"0 0 " + px(width_) + " " + px(height_) +
                    "\" width=\"" + px(width_) + "\" height=\"" + px(height_) +
                    "\" role=\"img\" aria-label=\"" + escape(title) + "\" id=\"" + escape(id_) +
                    "\">";
  out += tooltip(title);
  out += "<defs><clipPath id=\"" + escape(clip) + "\">" +
         rect(left(), top(), right() - left(), bottom() - top()) + "</clipPath></defs>";
  out += axes();
  out += "<g clip-path=\"url(#" + escape(clip) + ")\">" + plot_ + "</g>";
  out += overlay_;
  out += "</svg>";
  return out;
}

}  // namespace derma::report::svg
