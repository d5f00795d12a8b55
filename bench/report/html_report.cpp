#include "bench/report/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <utility>

#include "bench/report/svg.hpp"

namespace derma::report {

namespace {

using svg::escape;
using svg::number;

// Chart widths in SVG units; the page scales them down on narrow screens and paper.
constexpr double kWideChart = 1100;

// ---------------------------------------------------------------- formatting helpers

// Units as the checks spell them ("um", "1/cm2") to how people write them.
std::string pretty_unit(const std::string& unit) {
  if (unit == "um") return "\u00b5m";
  if (unit == "um/mm") return "\u00b5m/mm";
  if (unit == "1/cm2") return "/cm\u00b2";
  if (unit == "um2") return "\u00b5m\u00b2";
  return unit;
}

std::string value_text(double value, const std::string& unit) {
  if (unit == "count" && std::isfinite(value)) return number(value, 0);
  return number(value);
}

std::string limits_text(const analysis::CheckResult& check) {
  const auto& lo = check.lower_limit;
  const auto& hi = check.upper_limit;
  if (lo && hi) {
    if (std::abs(*lo + *hi) < 1e-12) return "\u00b1 " + number(*hi);
    return number(*lo) + " \u2013 " + number(*hi);
  }
  if (hi) return "\u2264 " + (check.unit == "count" ? number(*hi, 0) : number(*hi));
  if (lo) return "\u2265 " + number(*lo);
  return "\u2014";
}

std::string duration_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "\u2014";
  if (seconds < 60) return number(seconds, 1) + " s";
  const int total = static_cast<int>(std::lround(seconds));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d min %02d s", total / 60, total % 60);
  return buf;
}

const char* check_verdict_class(analysis::Verdict v) {
  switch (v) {
    case analysis::Verdict::Pass:
      return "pass";
    case analysis::Verdict::Fail:
      return "fail";
    case analysis::Verdict::Error:
      return "error";
  }
  return "error";
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string or_dash(const std::string& s) {
  return s.empty() ? "\u2014" : s;
}

std::string needle_label(int disc, int index) {
  return "d" + std::to_string(disc) + " i" + std::to_string(index);
}

// ---------------------------------------------------------------- data for the plots

const analysis::CheckResult* find_check(const RollAnalysis& roll, const std::string& id) {
  for (const auto& c : roll.analysis.checks)
    if (c.id == id) return &c;
  return nullptr;
}

struct DepthLimits {
  std::optional<double> lsl, usl;
  bool outside(double depth) const { return (lsl && depth < *lsl) || (usl && depth > *usl); }
};

DepthLimits depth_limits(const RollAnalysis& roll) {
  const auto* check = find_check(roll, "penetration_depth");
  if (!check) return {};
  return {check->lower_limit, check->upper_limit};
}

// Channels whose depth the checks trust: measured ones (not cut by the scan edge, floor read).
std::vector<double> whole_channel_depths(const RollAnalysis& roll) {
  std::vector<double> depths;
  for (const auto& c : roll.analysis.channels)
    if (c.measured() && std::isfinite(c.depth_um)) depths.push_back(c.depth_um);
  return depths;
}

// Predictions that no channel of the same needle lies near: where a missing needle should
// have punctured. (The match itself is not kept in the report; a channel carries its
// needle, and the same needle's next puncture is a drum circumference away, so "near" is
// half the distance to the needle's nearest other prediction, at most 2 mm.)
std::vector<const analysis::PredictedChannel*> unmatched_predictions(const RollAnalysis& roll) {
  const auto& predicted = roll.analysis.predicted;
  const auto& channels = roll.analysis.channels;
  std::vector<const analysis::PredictedChannel*> out;
  for (const auto& p : predicted) {
    double near_um = 2000;
    for (const auto& q : predicted) {
      if (&q == &p || q.disc != p.disc || q.index != p.index) continue;
      const double d = std::hypot(q.x_um - p.x_um, q.y_um - p.y_um);
      if (d > 1e-6) near_um = std::min(near_um, d / 2);
    }
    const bool found = std::any_of(channels.begin(), channels.end(), [&](const auto& c) {
      return c.disc == p.disc && c.index == p.index &&
             std::hypot(c.x_um - p.x_um, c.y_um - p.y_um) <= near_um;
    });
    if (!found) out.push_back(&p);
  }
  return out;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return !(hi >= lo); }
  // Widened by a fraction of the span (or by `minimum` when the span is ~0).
  Range padded(double fraction, double minimum) const {
    const double pad = std::max((hi - lo) * fraction, minimum);
    return {lo - pad, hi + pad};
  }
};

// Depth range the colour scale spans: the 2nd to 98th percentile of the whole channels,
// so the pattern of a good roller (runout, tilt) shows instead of one flat colour, and an
// outlier does not squash everyone else; beyond it colours clamp, and the channels out of
// the spec's limits are ringed in red anyway. At least 10 um wide, so noise is not dressed
// up as a pattern.
Range colour_range(const RollAnalysis& roll) {
  std::vector<double> depths = whole_channel_depths(roll);
  if (depths.empty())
    for (const auto& c : roll.analysis.channels)
      if (std::isfinite(c.depth_um)) depths.push_back(c.depth_um);
  if (depths.empty()) return {0, 1};
  std::sort(depths.begin(), depths.end());
  const auto at = [&](double q) {
    return depths[static_cast<std::size_t>(std::lround(q * double(depths.size() - 1)))];
  };
  Range r{at(0.02), at(0.98)};
  const double min_span = 10;
  if (r.hi - r.lo < min_span) {
    const double mid = (r.hi + r.lo) / 2;
    r = {mid - min_span / 2, mid + min_span / 2};
  }
  return r;
}

double ramp_position(const Range& r, double v) {
  return (v - r.lo) / (r.hi - r.lo);
}

// Dark text on light cells, light on dark ones.
const char* text_on_ramp(double t) {
  return t > 0.62 ? "#111827" : "#ffffff";
}

// A vertical colour bar with ticks in um and the spec's limits marked.
std::string colour_legend(const std::string& id, double x, double y, double height,
                          const Range& range, const DepthLimits& limits) {
  const std::string gradient = id + "-ramp";
  std::string out =
      "<defs><linearGradient id=\"" + gradient + "\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">";
  for (int i = 0; i <= 8; ++i)
    out += "<stop offset=\"" + number(i / 8.0, 3) + "\" stop-color=\"" + svg::ramp_colour(i / 8.0) +
           "\"/>";
  out += "</linearGradient></defs>";
  const double width = 14;
  out += svg::rect(x, y, width, height, "fill=\"url(#" + gradient + ")\" class=\"legend-bar\"");
  const svg::Scale scale{range.lo, range.hi, y + height, y};
  const int target = std::max(3, static_cast<int>(height / 45));
  const int decimals = svg::decimals_for_step(svg::nice_step(range.hi - range.lo, target));
  for (double t : svg::nice_ticks(range.lo, range.hi, target)) {
    out += svg::line(x + width, scale(t), x + width + 4, scale(t), "class=\"tick\"");
    out += svg::text(x + width + 7, scale(t) + 4, number(t, decimals), "class=\"tick-label\"");
  }
  const auto mark = [&](double v, const char* name) {
    out += svg::line(x - 4, scale(v), x + width + 4, scale(v), "class=\"limit-mark\"");
    out += svg::text(x - 6, scale(v) + 4, name, "class=\"limit-label\" text-anchor=\"end\"");
  };
  if (limits.lsl && *limits.lsl >= range.lo && *limits.lsl <= range.hi) mark(*limits.lsl, "LSL");
  if (limits.usl && *limits.usl >= range.lo && *limits.usl <= range.hi) mark(*limits.usl, "USL");
  out += svg::text(x + width / 2, y - 10, "depth (\u00b5m)",
                   "class=\"axis-label\" text-anchor=\"middle\"");
  return out;
}

// One legend entry: a small symbol then its label, left to right from x; returns the x
// where the next entry starts.
double legend_entry(std::string& out, double x, double y, const std::string& symbol,
                    const std::string& label) {
  out += "<g transform=\"translate(" + number(x, 1) + " " + number(y, 1) + ")\">" + symbol + "</g>";
  out += svg::text(x + 14, y + 4, label, "class=\"legend-label\"");
  return x + 14 + 6.6 * static_cast<double>(label.size()) + 22;
}

std::string figure(const std::string& title, const std::string& svg_text,
                   const std::string& caption) {
  return "<figure class=\"plot\"><figcaption><span class=\"plot-title\">" + escape(title) +
         "</span> " + escape(caption) + "</figcaption>" + svg_text + "</figure>\n";
}

std::string empty_figure(const std::string& title, const std::string& why) {
  return "<figure class=\"plot empty\"><figcaption><span class=\"plot-title\">" + escape(title) +
         "</span></figcaption><p class=\"no-data\">" + escape(why) + "</p></figure>\n";
}

// ---------------------------------------------------------------- the plots

// What the axes zoom to: the steady segments the checks judged (else the part with the
// drum on the phantom), so the force loop's ripple and the drum's runout in Z are visible
// instead of the approach and the lift-off, which run off the plot.
std::vector<const TracePoint*> zoom_points(const RollTrace& trace) {
  std::vector<const TracePoint*> out;
  for (const auto& p : trace.points) {
    for (const SteadySpan& s : trace.steady) {
      if (p.pass == s.pass && p.x_mm >= std::min(s.x_begin_mm, s.x_end_mm) &&
          p.x_mm <= std::max(s.x_begin_mm, s.x_end_mm)) {
        out.push_back(&p);
        break;
      }
    }
  }
  if (!out.empty()) return out;
  double reference = trace.load_set_mN;
  if (!(reference > 0))
    for (const auto& p : trace.points) reference = std::max(reference, p.force_mN);
  for (const auto& p : trace.points)
    if (p.force_mN >= 0.8 * reference) out.push_back(&p);
  if (out.empty())
    for (const auto& p : trace.points) out.push_back(&p);
  return out;
}

void draw_steady_spans(svg::Chart& chart, const RollTrace& trace, bool label) {
  for (const SteadySpan& s : trace.steady) {
    const double a = chart.x(std::min(s.x_begin_mm, s.x_end_mm));
    const double b = chart.x(std::max(s.x_begin_mm, s.x_end_mm));
    chart.plot("<g>" +
               svg::tooltip("steady stroke, pass " + std::to_string(s.pass) + ": X " +
                            number(s.x_begin_mm, 1) + " \u2192 " + number(s.x_end_mm, 1) +
                            " mm, t " + number(s.t_begin_s, 2) + " \u2192 " + number(s.t_end_s, 2) +
                            " s") +
               svg::rect(a, chart.top(), b - a, chart.bottom() - chart.top(), "class=\"steady\"") +
               "</g>");
    if (label)
      chart.plot(svg::text(
          (a + b) / 2, chart.top() + 14,
          "steady segment" +
              (trace.steady.size() > 1 ? " (pass " + std::to_string(s.pass) + ")" : std::string()),
          "class=\"steady-label\" text-anchor=\"middle\""));
  }
}

// One polyline per pass: a return pass must not join the end of the previous one.
void draw_trace(svg::Chart& chart, const RollTrace& trace, double TracePoint::*value,
                const char* css_class) {
  std::vector<std::pair<double, double>> points;
  const auto flush = [&] {
    if (points.size() > 1)
      chart.plot(svg::polyline(points, std::string("class=\"") + css_class + "\""));
    points.clear();
  };
  int pass = trace.points.front().pass;
  for (const auto& p : trace.points) {
    if (p.pass != pass) {
      flush();
      pass = p.pass;
    }
    points.emplace_back(chart.x(p.x_mm), chart.y(p.*value));
  }
  flush();
}

std::string trace_plot(const RollAnalysis& roll, const std::string& id) {
  const RollTrace& trace = roll.trace;
  const std::string title = "Force and Z height over the stroke";
  if (trace.points.empty()) return empty_figure(title, "No roll samples were recorded.");

  Range xr, fr, zr;
  for (const auto& p : trace.points) xr.add(p.x_mm);
  for (const TracePoint* p : zoom_points(trace)) {
    fr.add(p->force_mN);
    zr.add(p->z_um);
  }
  if (trace.load_set_mN > 0) fr.add(trace.load_set_mN);
  const Range x = xr.padded(0.01, 0.5);
  const Range f = fr.padded(0.12, 10.0);
  const Range z = zr.padded(0.12, 2.0);

  // Two panels on one X axis, aligned by equal margins.
  svg::Chart force(id, kWideChart, 290, {x.lo, x.hi, "X position of the drum axis (mm)"},
                   {f.lo, f.hi, "Normal force (mN)"}, std::nullopt, svg::Margins{72, 24, 40, 48});
  draw_steady_spans(force, trace, true);
  if (trace.load_set_mN > 0) {
    const double y = force.y(trace.load_set_mN);
    force.plot(svg::line(force.left(), y, force.right(), y, "class=\"setpoint\""));
  }
  draw_trace(force, trace, &TracePoint::force_mN, "force");
  std::string legend;
  double lx = force.left();
  lx = legend_entry(legend, lx, 18, svg::line(0, 0, 12, 0, "class=\"force\""), "normal force");
  if (trace.load_set_mN > 0)
    lx = legend_entry(legend, lx, 18, svg::line(0, 0, 12, 0, "class=\"setpoint\""),
                      "set point " + number(trace.load_set_mN, 0) + " mN");
  if (!trace.steady.empty())
    legend_entry(legend, lx, 18, svg::rect(0, -5, 12, 10, "class=\"steady\""),
                 "steady segment judged by force_consistency and roll_slip");
  force.overlay(legend);

  svg::Chart height(id + "-z", kWideChart, 220, {x.lo, x.hi, "X position of the drum axis (mm)"},
                    {z.lo, z.hi, "Z height (\u00b5m)"}, std::nullopt, svg::Margins{72, 24, 28, 48});
  draw_steady_spans(height, trace, false);
  draw_trace(height, trace, &TracePoint::z_um, "zheight");
  height.overlay(
      svg::text(height.left(), 18, "Z height of the drum axis", "class=\"legend-label\""));

  std::string caption = std::to_string(trace.points.size()) + " points";
  if (trace.samples > trace.points.size())
    caption = std::to_string(trace.samples) + " samples shown as " + caption +
              " (minimum and maximum per bucket, so spikes stay visible)";
  caption += "; axes zoomed to the steady stroke";
  return figure(title, force.render(title) + height.render("Z height over the stroke"), caption);
}

std::string channel_map(const RollAnalysis& roll, const std::string& id) {
  const std::string title = "Channel map";
  const auto& channels = roll.analysis.channels;
  const auto missing = unmatched_predictions(roll);
  if (channels.empty() && missing.empty())
    return empty_figure(title, "No channels were detected and none were predicted.");

  Range xr, yr;
  for (const auto& c : channels) {
    xr.add(c.x_um / 1000);
    yr.add(c.y_um / 1000);
  }
  for (const auto& p : roll.analysis.predicted) {
    xr.add(p.x_um / 1000);
    yr.add(p.y_um / 1000);
  }
  const Range x = xr.padded(0.01, 1.0);
  const Range y = yr.padded(0.02, 1.0);

  // Equal scale on both axes, so the lattice looks like the drum's.
  svg::Margins margins{64, 130, 44, 48};
  const double plot_w = kWideChart - margins.left - margins.right;
  const double plot_h = std::clamp(plot_w * (y.hi - y.lo) / (x.hi - x.lo), 180.0, 640.0);
  svg::Chart chart(id, kWideChart, plot_h + margins.top + margins.bottom,
                   {x.lo, x.hi, "X along the lane (mm)"}, {y.lo, y.hi, "Y across the lane (mm)"},
                   std::nullopt, margins);
  const double px_per_mm = plot_w / (x.hi - x.lo);
  const double r = std::clamp(0.16 * px_per_mm, 2.5, 6.0);

  const DepthLimits limits = depth_limits(roll);
  const Range colours = colour_range(roll);
  std::size_t unexpected = 0, outside = 0;
  for (const auto& c : channels) {
    const double cx = chart.x(c.x_um / 1000), cy = chart.y(c.y_um / 1000);
    std::string tip = "X " + number(c.x_um / 1000, 2) + " mm, Y " + number(c.y_um / 1000, 2) +
                      " mm, depth " + number(c.depth_um, 1) + " \u00b5m";
    tip += c.disc && c.index ? ", needle " + needle_label(*c.disc, *c.index) : ", unexpected";
    if (c.partial()) tip += " (partial, at the scan edge)";
    if (c.state == analysis::ChannelState::FloorUnreadable)
      tip += " (floor unreadable: at least this deep)";
    std::string shape;
    if (!c.disc || !c.index) {
      ++unexpected;
      shape = svg::circle(cx, cy, r + 1.5, "class=\"unexpected\"");
    } else {
      shape = svg::circle(cx, cy, r,
                          "fill=\"" + svg::ramp_colour(ramp_position(colours, c.depth_um)) + "\"" +
                              (c.measured() ? "" : " class=\"partial\""));
    }
    // As penetration_depth judges: only a measured channel's depth is reliable.
    if (c.measured() && limits.outside(c.depth_um)) {
      ++outside;
      shape += svg::circle(cx, cy, r + 3, "class=\"out-of-limit\"");
    }
    chart.plot("<g>" + svg::tooltip(tip) + shape + "</g>");
  }
  for (const auto* p : missing) {
    const double cx = chart.x(p->x_um / 1000), cy = chart.y(p->y_um / 1000);
    chart.plot("<g>" +
               svg::tooltip("missing: needle " + needle_label(p->disc, p->index) +
                            " predicted at X " + number(p->x_um / 1000, 2) + " mm, Y " +
                            number(p->y_um / 1000, 2) + " mm") +
               svg::cross(cx, cy, r + 2, "class=\"missing\"") + "</g>");
  }

  std::string overlay =
      colour_legend(id, chart.right() + 48, chart.top() + 22,
                    std::max(80.0, chart.bottom() - chart.top() - 30), colours, limits);
  double lx = chart.left();
  const double ly = 20;
  lx =
      legend_entry(overlay, lx, ly, svg::circle(6, 0, 4, "fill=\"" + svg::ramp_colour(0.55) + "\""),
                   "channel, coloured by depth");
  lx = legend_entry(overlay, lx, ly, svg::circle(6, 0, 5, "class=\"unexpected\""),
                    "unexpected channel");
  lx = legend_entry(overlay, lx, ly, svg::cross(6, 0, 5, "class=\"missing\""),
                    "missing needle (predicted position)");
  legend_entry(overlay, lx, ly,
               svg::circle(6, 0, 3, "fill=\"" + svg::ramp_colour(0.1) + "\"") +
                   svg::circle(6, 0, 6, "class=\"out-of-limit\""),
               "depth outside the limits");
  chart.overlay(overlay);

  const std::string caption = std::to_string(channels.size()) + " channels, " +
                              std::to_string(roll.analysis.predicted.size()) +
                              " predicted punctures, " + std::to_string(missing.size()) +
                              " missing, " + std::to_string(unexpected) + " unexpected, " +
                              std::to_string(outside) + " outside the depth limits";
  return figure(title, chart.render(title + ": " + caption), caption);
}

std::string depth_histogram(const RollAnalysis& roll, const std::string& id) {
  const std::string title = "Depth distribution";
  const std::vector<double> depths = whole_channel_depths(roll);
  if (depths.empty()) return empty_figure(title, "No whole channel was measured.");
  const DepthLimits limits = depth_limits(roll);

  Range dr;
  for (double d : depths) dr.add(d);
  double mean = 0;
  for (double d : depths) mean += d;
  mean /= static_cast<double>(depths.size());
  if (limits.lsl) dr.add(*limits.lsl);
  if (limits.usl) dr.add(*limits.usl);
  const Range padded = dr.padded(0.06, 2.0);
  const double bin = svg::nice_step(padded.hi - padded.lo, 36);
  const double first = std::floor(padded.lo / bin) * bin;
  const int bins = std::max(1, static_cast<int>(std::ceil((padded.hi - first) / bin)));
  std::vector<int> counts(static_cast<std::size_t>(bins), 0);
  for (double d : depths) {
    const int b = std::clamp(static_cast<int>(std::floor((d - first) / bin)), 0, bins - 1);
    ++counts[static_cast<std::size_t>(b)];
  }
  const int peak = *std::max_element(counts.begin(), counts.end());

  svg::Chart chart(id, kWideChart, 300, {first, first + bins * bin, "Channel depth (\u00b5m)"},
                   {0, std::max(1.0, peak * 1.18), "Channels"}, std::nullopt,
                   svg::Margins{60, 20, 30, 48});
  for (int b = 0; b < bins; ++b) {
    const int n = counts[static_cast<std::size_t>(b)];
    if (n == 0) continue;
    const double lo = first + b * bin, hi = lo + bin;
    const bool outside = limits.outside(lo + bin / 2);
    chart.plot("<g>" +
               svg::tooltip(number(lo, 1) + "\u2013" + number(hi, 1) +
                            " \u00b5m: " + std::to_string(n) + " channels") +
               svg::rect(chart.x(lo) + 0.5, chart.y(n), chart.x(hi) - chart.x(lo) - 1,
                         chart.y(0) - chart.y(n),
                         outside ? "class=\"bar bar-out\"" : "class=\"bar\"") +
               "</g>");
  }
  const auto vertical = [&](double v, const std::string& label, const char* cls, double row) {
    const double x = chart.x(v);
    chart.plot(svg::line(x, chart.top(), x, chart.bottom(), std::string("class=\"") + cls + "\""));
    const bool right_half = x > (chart.left() + chart.right()) / 2;
    chart.plot(svg::text(right_half ? x - 4 : x + 4, chart.top() + 14 + row * 14, label,
                         std::string("class=\"") + cls + "-label\" text-anchor=\"" +
                             (right_half ? "end" : "start") + "\""));
  };
  if (limits.lsl) vertical(*limits.lsl, "LSL " + number(*limits.lsl), "limit", 0);
  if (limits.usl) vertical(*limits.usl, "USL " + number(*limits.usl), "limit", 0);
  vertical(mean, "mean " + number(mean, 1), "mean", 1);

  const std::string caption = std::to_string(depths.size()) +
                              " whole channels (partial ones at the scan edge left out), bins of " +
                              number(bin) + " \u00b5m";
  return figure(title, chart.render(title + ": " + caption), caption);
}

// Mean depth per needle on a disc x index grid; missing needles crossed out.
std::string needle_grid(const RollAnalysis& roll, const std::string& id) {
  const std::string title = "Depth per needle";
  int discs = 0, needles = 0;
  std::map<std::pair<int, int>, std::vector<double>> depth_of;
  for (const auto& c : roll.analysis.channels) {
    if (!c.disc || !c.index) continue;
    discs = std::max(discs, *c.disc + 1);
    needles = std::max(needles, *c.index + 1);
    if (c.measured()) depth_of[{*c.disc, *c.index}].push_back(c.depth_um);
  }
  for (const auto& p : roll.analysis.predicted) {
    discs = std::max(discs, p.disc + 1);
    needles = std::max(needles, p.index + 1);
  }
  if (discs == 0 || needles == 0)
    return empty_figure(title, "No channel could be matched to a needle.");
  std::map<std::pair<int, int>, bool> missing;
  for (const auto* p : unmatched_predictions(roll)) missing[{p->disc, p->index}] = true;
  std::map<std::pair<int, int>, bool> predicted;
  for (const auto& p : roll.analysis.predicted) predicted[{p.disc, p.index}] = true;

  const DepthLimits limits = depth_limits(roll);
  const Range colours = colour_range(roll);
  const double left = 56, top = 24, right_margin = 130, bottom = 48;
  const double cell_w = std::min(40.0, (kWideChart - left - right_margin) / needles);
  const double cell_h = std::clamp(cell_w * 0.8, 14.0, 30.0);
  const double width = kWideChart;
  const double height = top + discs * cell_h + bottom;
  const bool labels_fit = cell_w >= 30;

  std::string body;
  for (int d = 0; d < discs; ++d) {
    const double y = top + d * cell_h;
    body += svg::text(left - 8, y + cell_h / 2 + 4, "d" + std::to_string(d),
                      "class=\"tick-label\" text-anchor=\"end\"");
    for (int i = 0; i < needles; ++i) {
      const double x = left + i * cell_w;
      const auto key = std::make_pair(d, i);
      const auto it = depth_of.find(key);
      std::string cell;
      std::string tip = "needle " + needle_label(d, i);
      if (it != depth_of.end() && !it->second.empty()) {
        double sum = 0, lo = it->second.front(), hi = lo;
        for (double v : it->second) {
          sum += v;
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
        const double mean = sum / static_cast<double>(it->second.size());
        const double t = ramp_position(colours, mean);
        cell +=
            svg::rect(x + 1, y + 1, cell_w - 2, cell_h - 2, "fill=\"" + svg::ramp_colour(t) + "\"");
        if (labels_fit)
          cell += svg::text(x + cell_w / 2, y + cell_h / 2 + 3.5, number(mean, 0),
                            std::string("class=\"cell-label\" text-anchor=\"middle\" fill=\"") +
                                text_on_ramp(t) + "\"");
        if (limits.outside(lo) || limits.outside(hi))
          cell += svg::rect(x + 1.5, y + 1.5, cell_w - 3, cell_h - 3, "class=\"out-of-limit\"");
        tip += ": " + number(mean, 1) + " \u00b5m mean of " + std::to_string(it->second.size()) +
               " channel" + (it->second.size() > 1 ? "s" : "");
      } else if (missing.count(key)) {
        cell += svg::rect(x + 1, y + 1, cell_w - 2, cell_h - 2, "class=\"cell-missing\"");
        cell += svg::cross(x + cell_w / 2, y + cell_h / 2, std::min(cell_w, cell_h) * 0.3,
                           "class=\"missing\"");
        tip += ": missing, no channel where the lattice predicts one";
      } else {
        cell += svg::rect(x + 1, y + 1, cell_w - 2, cell_h - 2, "class=\"cell-none\"");
        tip += predicted.count(key) ? ": only partial channels at the scan edge"
                                    : ": not in the scanned area";
      }
      body += "<g>" + svg::tooltip(tip) + cell + "</g>";
    }
  }
  const int step = needles > 30 ? 5 : needles > 12 ? 2 : 1;
  for (int i = 0; i < needles; i += step)
    body += svg::text(left + (i + 0.5) * cell_w, top + discs * cell_h + 16, std::to_string(i),
                      "class=\"tick-label\" text-anchor=\"middle\"");
  body += svg::text(left + needles * cell_w / 2, height - 8, "Needle index on its disc",
                    "class=\"axis-label\" text-anchor=\"middle\"");
  body += "<text class=\"axis-label\" text-anchor=\"middle\" transform=\"translate(16 " +
          number(top + discs * cell_h / 2, 1) + ") rotate(-90)\">Disc</text>";
  body += colour_legend(id, left + needles * cell_w + 60, top + 16,
                        std::max(60.0, discs * cell_h - 16), colours, limits);

  const std::string caption = "mean depth of the whole channels each needle left; " +
                              std::to_string(missing.size()) + " needle" +
                              (missing.size() == 1 ? "" : "s") + " missing";
  const std::string svg_text =
      "<svg class=\"chart\" viewBox=\"0 0 " + number(width, 0) + " " + number(height, 1) +
      "\" width=\"" + number(width, 0) + "\" height=\"" + number(height, 1) +
      "\" role=\"img\" aria-label=\"" + escape(title + ": " + caption) + "\" id=\"" + escape(id) +
      "\">" + svg::tooltip(title) + body + "</svg>";
  return figure(title, svg_text, caption);
}

// ---------------------------------------------------------------- page sections

std::string meta_item(const std::string& label, const std::string& value_html) {
  return "<div class=\"meta-item\"><dt>" + escape(label) + "</dt><dd>" + value_html +
         "</dd></div>\n";
}

std::string header_section(const RunReport& r) {
  const std::string verdict = to_string(r.verdict);
  std::string out = "<header class=\"masthead\">\n";
  out += "<div class=\"verdict-badge verdict-" + std::string(to_string(r.verdict)) + "\">" +
         escape(upper(verdict)) + "</div>\n";
  out += "<div class=\"masthead-text\"><p class=\"eyebrow\">Dermaroller bench report</p><h1>" +
         escape(or_dash(r.suite_name)) + "</h1><p class=\"subtitle\">Roller <strong>" +
         escape(or_dash(r.roller_serial)) + "</strong>" +
         (r.roller_model.empty() ? "" : " (" + escape(r.roller_model) + ")") +
         " judged against spec <strong>" + escape(or_dash(r.spec_model)) + "</strong></p></div>\n";
  out += "</header>\n";

  std::string cal = escape(or_dash(r.rig.calibration_due));
  // ISO dates compare as strings: a due date before the run's day is overdue.
  if (!r.rig.calibration_due.empty() && r.started_at.size() >= 10 &&
      r.rig.calibration_due < r.started_at.substr(0, 10))
    cal += " <span class=\"tag tag-fail\">overdue</span>";

  out += "<dl class=\"meta\">\n";
  out += meta_item(
      "Suite",
      escape(or_dash(r.suite_name)) +
          (r.suite_file.empty() ? "" : "<span class=\"sub\">" + escape(r.suite_file) + "</span>"));
  out += meta_item("Spec model", escape(or_dash(r.spec_model)));
  out += meta_item("Roller", escape(or_dash(r.roller_serial)) +
                                 (r.roller_model.empty() ? ""
                                                         : "<span class=\"sub\">" +
                                                               escape(r.roller_model) + "</span>"));
  out += meta_item("Rig", escape(or_dash(r.rig.rig_serial)) + "<span class=\"sub\">firmware " +
                              escape(or_dash(r.rig.firmware_version)) + "</span>");
  out += meta_item("Calibration due", cal);
  out += meta_item("Phantom lot", escape(or_dash(r.rig.phantom_lot)));
  out += meta_item("Operator", escape(or_dash(r.operator_name)));
  out += meta_item("Host", escape(or_dash(r.host_name)));
  out += meta_item("Software", escape(or_dash(r.software_version)));
  out += meta_item("Analysis method",
                   std::to_string(r.analysis_method) +
                       (r.method_differs() ? "<span class=\"sub\">recorded with method " +
                                                 std::to_string(*r.recorded_analysis_method) +
                                                 ": figures may differ</span>"
                                           : std::string()));
  out += meta_item("Started", escape(or_dash(r.started_at)));
  out += meta_item("Duration", escape(duration_text(r.duration_s)));
  out += meta_item("Rig port", escape(or_dash(r.rig.port.empty() ? r.rig.address : r.rig.port)));
  out += "</dl>\n";
  return out;
}

std::string error_section(const RunReport& r) {
  if (r.error.empty()) return "";
  return "<section class=\"callout callout-" + std::string(to_string(r.verdict)) + "\"><h2>" +
         (r.verdict == RunVerdict::Aborted ? "Run aborted" : "Run error") +
         "</h2><p class=\"error-text\">" + escape(r.error) + "</p></section>\n";
}

// The findings of every failed check, and why each erroneous check could not judge.
std::string defects_section(const RunReport& r) {
  std::string items;
  const bool many_rolls = r.rolls.size() > 1;
  for (const auto& roll : r.rolls) {
    for (const auto& c : roll.analysis.checks) {
      if (c.verdict == analysis::Verdict::Pass) continue;
      const bool failed = c.verdict == analysis::Verdict::Fail;
      items +=
          "<li class=\"defect defect-" + std::string(check_verdict_class(c.verdict)) +
          "\"><div class=\"defect-head\"><span class=\"pill pill-" +
          check_verdict_class(c.verdict) + "\">" + escape(upper(analysis::to_string(c.verdict))) +
          "</span> <code>" + escape(c.id) + "</code>" +
          (many_rolls ? " <span class=\"sub\">roll " + std::to_string(roll.roll_index) + "</span>"
                      : "") +
          "<span class=\"defect-summary\">" + escape(c.summary) + "</span></div>";
      if (failed && !c.findings.empty()) {
        items += "<ul class=\"findings\">";
        for (const auto& f : c.findings) {
          items += "<li>";
          if (f.disc && f.index)
            items += "<span class=\"needle\">needle " + escape(needle_label(*f.disc, *f.index)) +
                     "</span> ";
          items += escape(f.text) + "</li>";
        }
        items += "</ul>";
      }
      items += "</li>\n";
    }
  }
  std::string out = "<section class=\"defects\"><h2>Defects found</h2>\n";
  if (items.empty()) {
    out += r.rolls.empty() ? "<p class=\"muted\">No check ran, so nothing was judged.</p>\n"
                           : "<p class=\"all-clear\">None: every check passed.</p>\n";
  } else {
    out += "<ul class=\"defect-list\">\n" + items + "</ul>\n";
  }
  return out + "</section>\n";
}

// The check's secondary figures, small under its summary: "mean 325.3 µm · sd 5.93 µm".
std::string figures_line(const analysis::CheckResult& c) {
  if (c.figures.empty()) return "";
  std::string out = "<div class=\"figures\">";
  for (std::size_t i = 0; i < c.figures.size(); ++i) {
    const auto& f = c.figures[i];
    if (i > 0) out += " <span class=\"dot\">\u00b7</span> ";
    std::string unit = f.unit == "count" ? "" : pretty_unit(f.unit);
    out += "<span class=\"figure\">" + escape(f.name) + " <b>" +
           escape(value_text(f.value, f.unit)) + (unit.empty() ? "" : "\u2009" + escape(unit)) +
           "</b></span>";
  }
  return out + "</div>";
}

std::string checks_section(const RunReport& r) {
  std::string out = "<section><h2>Checks</h2>\n";
  if (r.rolls.empty()) return out + "<p class=\"muted\">No check ran.</p></section>\n";
  const bool many_rolls = r.rolls.size() > 1;
  out += "<table class=\"checks\"><thead><tr><th>Check</th>";
  if (many_rolls) out += "<th class=\"num\">Roll</th>";
  out +=
      "<th>Verdict</th><th class=\"num\">Value</th><th>Unit</th><th class=\"num\">Limits</th>"
      "<th>Summary</th></tr></thead><tbody>\n";
  for (const auto& roll : r.rolls) {
    for (const auto& c : roll.analysis.checks) {
      const std::string cls = check_verdict_class(c.verdict);
      out += "<tr class=\"row-" + cls + "\"><td><code>" + escape(c.id) + "</code></td>";
      if (many_rolls) out += "<td class=\"num\">" + std::to_string(roll.roll_index) + "</td>";
      out += "<td><span class=\"pill pill-" + cls + "\">" +
             escape(upper(analysis::to_string(c.verdict))) + "</span></td>";
      out += "<td class=\"num\">" +
             (c.verdict == analysis::Verdict::Error && c.value == 0
                  ? std::string("\u2014")
                  : escape(value_text(c.value, c.unit))) +
             "</td>";
      out += "<td>" + escape(pretty_unit(c.unit)) + "</td>";
      out += "<td class=\"num\">" + escape(limits_text(c)) + "</td>";
      out += "<td class=\"summary\">" + escape(c.summary) + figures_line(c) + "</td></tr>\n";
    }
  }
  return out + "</tbody></table></section>\n";
}

std::string roll_section(const RollAnalysis& roll, std::size_t position) {
  const std::string prefix = "roll" + std::to_string(position);
  std::string out = "<section class=\"roll\"><h2>Roll " + std::to_string(roll.roll_index) +
                    " <span class=\"sub\">lane " + std::to_string(roll.lane) + ", scanned " +
                    number(roll.scan_delay_s, 1) + " s after the roll";
  if (!roll.layer_punctures.empty()) {
    out += ", punctures per phantom layer:";
    for (auto n : roll.layer_punctures) out += " " + std::to_string(n);
  }
  out += "</span></h2>\n";
  out += trace_plot(roll, prefix + "-trace");
  out += channel_map(roll, prefix + "-map");
  out += depth_histogram(roll, prefix + "-histogram");
  out += needle_grid(roll, prefix + "-needles");
  return out + "</section>\n";
}

std::string steps_section(const RunReport& r) {
  if (r.steps.empty()) return "";
  std::string out =
      "<section class=\"steps\"><h2>Steps</h2><table class=\"compact\"><thead><tr><th>Step</th>"
      "<th class=\"num\">Line</th><th>Status</th><th class=\"num\">Duration</th><th>Message</th>"
      "</tr></thead><tbody>\n";
  for (const auto& s : r.steps) {
    const std::string cls = s.status == "ok" ? "pass" : s.status == "failed" ? "fail" : "skip";
    out += "<tr><td>" + escape(s.name) + "</td><td class=\"num\">" + std::to_string(s.line) +
           "</td><td><span class=\"pill pill-" + cls + "\">" + escape(s.status) +
           "</span></td><td class=\"num\">" + escape(duration_text(s.duration_s)) + "</td><td>" +
           escape(s.message) + "</td></tr>\n";
  }
  return out + "</tbody></table></section>\n";
}

std::string link_line(const RunReport& r) {
  std::string out;
  for (const auto& [name, count] : r.link_counters) {
    if (!out.empty()) out += ", ";
    out += name + " " + std::to_string(count);
  }
  return out;
}

constexpr const char* kStyle = R"css(
:root { --ink:#111827; --muted:#6b7280; --rule:#e5e7eb; --panel:#f9fafb;
  --pass:#1a7f37; --pass-bg:#dafbe1; --fail:#cf222e; --fail-bg:#ffebe9;
  --error:#9a6700; --error-bg:#fff8c5; --aborted:#57606a; --aborted-bg:#eaeef2; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans",
    "DejaVu Sans", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 32px 40px 48px; }
h1 { font-size: 26px; line-height: 1.2; margin: 2px 0 4px; font-weight: 650; }
h2 { font-size: 18px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--rule);
  font-weight: 650; }
code, .num, .needle { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas,
  "DejaVu Sans Mono", monospace; font-size: 13px; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.sub { color: var(--muted); font-weight: normal; font-size: 13px; margin-left: 6px; }
.muted { color: var(--muted); }
.masthead { display: flex; align-items: center; gap: 28px; padding-bottom: 20px;
  border-bottom: 3px solid var(--ink); }
.verdict-badge { font-size: 44px; font-weight: 800; letter-spacing: 0.06em; padding: 10px 28px;
  border-radius: 10px; color: #fff; min-width: 170px; text-align: center; }
.verdict-pass { background: var(--pass); } .verdict-fail { background: var(--fail); }
.verdict-error { background: var(--error); } .verdict-aborted { background: var(--aborted); }
.eyebrow { margin: 0; text-transform: uppercase; letter-spacing: 0.08em; font-size: 12px;
  color: var(--muted); font-weight: 600; }
.subtitle { margin: 0; color: #374151; font-size: 15px; }
.meta { display: grid; grid-template-columns: repeat(4, 1fr); gap: 14px 24px; margin: 20px 0 0;
  padding: 16px 20px; background: var(--panel); border: 1px solid var(--rule); border-radius: 8px; }
.meta-item dt { font-size: 11px; text-transform: uppercase; letter-spacing: 0.06em;
  color: var(--muted); font-weight: 600; }
.meta-item dd { margin: 2px 0 0; font-weight: 500; overflow-wrap: anywhere; }
.meta-item .sub { display: block; margin-left: 0; font-size: 12px; }
.tag { font-size: 11px; font-weight: 700; padding: 1px 6px; border-radius: 4px; }
.tag-fail { color: var(--fail); background: var(--fail-bg); }
.callout { margin-top: 24px; padding: 14px 18px; border-radius: 8px; border-left: 5px solid; }
.callout h2 { margin: 0 0 4px; border: 0; padding: 0; font-size: 16px; }
.callout-error { background: var(--error-bg); border-color: var(--error); }
.callout-aborted { background: var(--aborted-bg); border-color: var(--aborted); }
.callout-fail, .callout-pass { background: var(--fail-bg); border-color: var(--fail); }
.error-text { margin: 0; font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace;
  font-size: 13px; white-space: pre-wrap; overflow-wrap: anywhere; }
.pill { display: inline-block; font-size: 11px; font-weight: 700; letter-spacing: 0.05em;
  padding: 2px 8px; border-radius: 999px; text-transform: uppercase; }
.pill-pass { color: var(--pass); background: var(--pass-bg); }
.pill-fail { color: var(--fail); background: var(--fail-bg); }
.pill-error { color: var(--error); background: var(--error-bg); }
.pill-skip { color: var(--aborted); background: var(--aborted-bg); }
.defect-list { list-style: none; padding: 0; margin: 0; }
.defect { padding: 10px 14px; margin-bottom: 10px; border: 1px solid var(--rule);
  border-left: 4px solid var(--fail); border-radius: 6px; break-inside: avoid; }
.defect-error { border-left-color: var(--error); }
.defect-head code { font-weight: 600; }
.defect-summary { display: block; margin-top: 4px; color: #374151; }
.findings { margin: 6px 0 0; padding-left: 20px; }
.findings li { margin: 2px 0; }
.needle { background: var(--fail-bg); color: var(--fail); padding: 0 5px; border-radius: 4px;
  font-weight: 600; }
.all-clear { color: var(--pass); font-weight: 600; }
table { border-collapse: collapse; width: 100%; }
th { text-align: left; font-size: 11px; text-transform: uppercase; letter-spacing: 0.06em;
  color: var(--muted); font-weight: 600; border-bottom: 2px solid var(--rule); padding: 8px 10px; }
th.num { font-family: inherit; font-size: 11px; }
td { border-bottom: 1px solid var(--rule); padding: 8px 10px; vertical-align: top; }
tr.row-fail td:first-child { box-shadow: inset 3px 0 var(--fail); }
tr.row-error td:first-child { box-shadow: inset 3px 0 var(--error); }
td.summary { color: #374151; }
table.compact td { padding: 4px 10px; }
.plot { margin: 0 0 24px; break-inside: avoid; page-break-inside: avoid; }
.plot figcaption { font-size: 13px; color: var(--muted); margin-bottom: 4px; }
.plot-title { font-weight: 650; color: var(--ink); font-size: 14px; margin-right: 6px; }
.figures { margin-top: 3px; font-size: 12px; color: var(--muted); }
.figures b { font-weight: 600; color: #374151; font-variant-numeric: tabular-nums; }
.figures .figure { white-space: nowrap; }
.no-data { padding: 24px; background: var(--panel); border: 1px dashed var(--rule);
  border-radius: 6px; color: var(--muted); margin: 0; }
svg.chart { display: block; max-width: 100%; height: auto; font-family: inherit; }
svg .grid { stroke: #eef0f3; stroke-width: 1; }
svg .frame { fill: none; stroke: #9ca3af; stroke-width: 1; }
svg .tick { stroke: #6b7280; }
svg .tick-label { font-size: 11px; fill: #374151; font-variant-numeric: tabular-nums; }
svg .axis-label { font-size: 12px; fill: var(--ink); font-weight: 600; }
svg .legend-label { font-size: 12px; fill: #374151; }
svg .force { fill: none; stroke: #2563eb; stroke-width: 1.3; stroke-linejoin: round; }
svg .zheight { fill: none; stroke: #ea580c; stroke-width: 1.3; stroke-linejoin: round; }
svg .steady { fill: #16a34a; fill-opacity: 0.10; stroke: #16a34a; stroke-opacity: 0.5;
  stroke-dasharray: 4 3; }
svg .steady-label { font-size: 11px; fill: #15803d; font-weight: 600; }
svg .setpoint { stroke: #1e3a8a; stroke-width: 1.2; stroke-dasharray: 7 4; }
svg .setpoint-label { font-size: 11px; fill: #1e3a8a; font-weight: 600; }
svg .unexpected { fill: none; stroke: #111827; stroke-width: 1.5; }
svg .partial { fill-opacity: 0.45; }
svg .missing { fill: none; stroke: #dc2626; stroke-width: 2.5; stroke-linecap: round; }
svg .out-of-limit { fill: none; stroke: #dc2626; stroke-width: 2; }
svg .limit-mark { stroke: #dc2626; stroke-width: 2; }
svg .limit-label { font-size: 10px; fill: #dc2626; font-weight: 700; }
svg .legend-bar { stroke: #9ca3af; stroke-width: 0.5; }
svg .bar { fill: #4f6bed; }
svg .bar-out { fill: #dc2626; }
svg .limit { stroke: #dc2626; stroke-width: 1.5; stroke-dasharray: 6 4; }
svg .limit-label { font-size: 11px; fill: #dc2626; font-weight: 700; }
svg .mean { stroke: #111827; stroke-width: 1.5; }
svg .mean-label { font-size: 11px; fill: #111827; font-weight: 700; }
svg .setpoint-label, svg .steady-label, svg .limit-label, svg .mean-label {
  paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
svg .cell-label { font-size: 10px; font-variant-numeric: tabular-nums; }
svg .cell-missing { fill: #fff; stroke: #fca5a5; }
svg .cell-none { fill: #f3f4f6; }
footer { margin-top: 40px; padding-top: 12px; border-top: 1px solid var(--rule); color: var(--muted);
  font-size: 12px; }
footer p { margin: 2px 0; overflow-wrap: anywhere; }
@media (max-width: 900px) { main { padding: 20px; } .meta { grid-template-columns: repeat(2, 1fr); }
  .masthead { flex-direction: column; align-items: flex-start; } }
@page { size: A4; margin: 12mm; }
@media print { main { max-width: none; padding: 0; } h2 { break-after: avoid; }
  .roll { break-before: page; } body { font-size: 12px; } }
)css";

}  // namespace

std::string_view report_css() {
  return kStyle;
}

void write_html(std::ostream& page, const RunReport& r) {
  const std::string verdict = upper(to_string(r.verdict));
  page << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  page << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  page << "<title>"
       << escape(verdict + " \u00b7 " + or_dash(r.suite_name) + " \u00b7 " +
                 or_dash(r.roller_serial))
       << "</title>\n";
  page << "<style>" << kStyle << "</style>\n</head>\n<body>\n<main>\n";
  page << header_section(r);
  page << error_section(r);
  page << defects_section(r);
  page << checks_section(r);
  // One roll's section at a time: a long run's page is never held whole in memory.
  for (std::size_t i = 0; i < r.rolls.size(); ++i) page << roll_section(r.rolls[i], i);
  page << steps_section(r);
  page << "<footer><p>Generated by dermabench " << escape(or_dash(r.software_version))
       << " from the run that finished " << escape(or_dash(r.finished_at)) << ".</p>";
  if (!r.capture_file.empty())
    page << "<p>Raw capture: <code>" << escape(r.capture_file) << "</code></p>";
  if (!r.link_counters.empty()) page << "<p>Link: " << escape(link_line(r)) << "</p>";
  page << "</footer>\n</main>\n</body>\n</html>\n";
}

std::string to_html(const RunReport& r) {
  std::ostringstream page;
  write_html(page, r);
  return std::move(page).str();
}

}  // namespace derma::report
