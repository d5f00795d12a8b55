#include "bench/report/html_report.hpp"

#include <catch2/catch.hpp>
#include <regex>

#include "bench/report/json_report.hpp"
#include "bench/report/roll_trace.hpp"
#include "bench/report/svg.hpp"

using namespace derma;
using report::RunVerdict;

namespace {

std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size()))
    ++n;
  return n;
}

analysis::CheckResult check(const std::string& id, analysis::Verdict verdict, double value) {
  analysis::CheckResult c;
  c.id = id;
  c.verdict = verdict;
  c.value = value;
  c.unit = "um";
  c.lower_limit = 260;
  c.upper_limit = 390;
  c.summary = id + " summary";
  return c;
}

// A roll of 8 discs x 24 needles, each leaving one channel at its lattice position, with
// needle d3 i7 missing, d1 i0 shallow, one unexpected channel, and a recorded trace.
report::RollAnalysis full_roll() {
  report::RollAnalysis roll;
  roll.lane = 2;
  roll.scan_delay_s = 4.5;
  for (int d = 0; d < 8; ++d) {
    for (int i = 0; i < 24; ++i) {
      analysis::PredictedChannel p;
      p.disc = d;
      p.index = i;
      p.x_um = 12000 + i * 2618.0 + (d % 2) * 1309.0;
      p.y_um = (d + 0.5) * 2500.0;
      roll.analysis.predicted.push_back(p);
      if (d == 3 && i == 7) continue;  // missing needle
      analysis::Channel c;
      c.x_um = p.x_um + 5;
      c.y_um = p.y_um - 5;
      c.depth_um = (d == 1 && i == 0) ? 210 : 320 + (i % 5) - d;
      c.disc = d;
      c.index = i;
      roll.analysis.channels.push_back(c);
    }
  }
  analysis::Channel stray;
  stray.x_um = 30000;
  stray.y_um = 9000;
  stray.depth_um = 300;
  roll.analysis.channels.push_back(stray);

  auto depth = check("penetration_depth", analysis::Verdict::Fail, 318.2);
  depth.findings.push_back({1, 0, "needle d1 i0: depth 210.0 um below the LSL 260 um"});
  auto missing = check("missing_channels", analysis::Verdict::Fail, 1);
  missing.unit = "count";
  missing.lower_limit.reset();
  missing.upper_limit = 0;
  missing.findings.push_back({3, 7, "needle d3 i7: no channel where the lattice predicts one"});
  auto force = check("force_consistency", analysis::Verdict::Pass, 1.1);
  force.unit = "%";
  force.lower_limit.reset();
  force.upper_limit = 5;
  roll.analysis.checks = {depth, missing, force};

  analysis::RollRecord record;
  record.settings.load_mN = 10200;
  for (int k = 0; k < 5000; ++k) {
    analysis::RollSample s;
    s.t_s = k / 1000.0;
    s.x_um = 10000 + k * 16.0;
    s.force_mN = 10200 + ((k % 7) - 3) * 10.0;
    s.z_um = 9800 + (k % 11);
    record.samples.push_back(s);
  }
  roll.trace = report::make_roll_trace(record, {{1000, 4000, 0, 16000}});
  return roll;
}

report::RunReport failing_run() {
  report::RunReport r;
  r.suite_name = "validate-DR-192-0.50";
  r.spec_model = "DR-192-0.50";
  r.roller_serial = "SIM-0006";
  r.rig.rig_serial = "RIG-7";
  r.rolls.push_back(full_roll());
  r.verdict = report::verdict_of_checks(r);
  return r;
}

}  // namespace

TEST_CASE("the HTML report is one self-contained document that loads nothing from a network") {
  const std::string html = report::to_html(failing_run());
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(count_of(html, "<html") == 1);
  CHECK(count_of(html, "</html>") == 1);
  CHECK(count_of(html, "<body") == 1);
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find("@import") == std::string::npos);
  CHECK(html.find("@font-face") == std::string::npos);
}

TEST_CASE("the HTML report draws each plot of a roll as inline SVG") {
  const std::string html = report::to_html(failing_run());
  // Trace (force and Z panels), channel map, depth histogram, per-needle grid.
  CHECK(count_of(html, "<svg") == 5);
  CHECK(count_of(html, "</svg>") == 5);
  CHECK(html.find("id=\"roll0-trace\"") != std::string::npos);
  CHECK(html.find("id=\"roll0-trace-z\"") != std::string::npos);
  CHECK(html.find("id=\"roll0-map\"") != std::string::npos);
  CHECK(html.find("id=\"roll0-histogram\"") != std::string::npos);
  CHECK(html.find("id=\"roll0-needles\"") != std::string::npos);
  SECTION("the trace marks the steady segment and the set point") {
    CHECK(html.find("class=\"steady\"") != std::string::npos);
    CHECK(html.find("set point 10200 mN") != std::string::npos);
  }
  SECTION("the channel map crosses out the missing needle and rings the unexpected channel") {
    CHECK(html.find("missing: needle d3 i7") != std::string::npos);
    CHECK(count_of(html, "class=\"unexpected\"") >= 1);
    CHECK(html.find("1 missing, 1 unexpected, 1 outside the depth limits") != std::string::npos);
  }
  SECTION("the histogram draws the spec's limits and the mean") {
    CHECK(html.find("LSL 260") != std::string::npos);
    CHECK(html.find("USL 390") != std::string::npos);
    CHECK(html.find(">mean ") != std::string::npos);
  }
}

TEST_CASE("the HTML report shows FAIL and the findings of every failed check") {
  const std::string html = report::to_html(failing_run());
  CHECK(html.find(">FAIL<") != std::string::npos);
  CHECK(html.find("needle d3 i7: no channel where the lattice predicts one") != std::string::npos);
  CHECK(html.find("needle d1 i0: depth 210.0 um below the LSL 260 um") != std::string::npos);
  CHECK(html.find("<code>missing_channels</code>") != std::string::npos);
  // A passing check is in the table, not in the defects.
  const auto defects =
      html.substr(html.find("Defects found"), html.find("<h2>Checks") - html.find("Defects found"));
  CHECK(defects.find("force_consistency") == std::string::npos);
}

TEST_CASE("the HTML report escapes text it did not write itself") {
  auto r = failing_run();
  r.suite_name = "<script>alert('x')</script>";
  r.operator_name = "O'Brien & \"Sons\"";
  r.rolls[0].analysis.checks[0].findings[0].text = "<img src=x onerror=alert(1)>";
  const std::string html = report::to_html(r);
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") != std::string::npos);
  CHECK(html.find("O&#39;Brien &amp; &quot;Sons&quot;") != std::string::npos);
}

TEST_CASE("the HTML report of a run that broke before any check shows the error") {
  report::RunReport r;
  r.suite_name = "validate-DR-192-0.50";
  r.verdict = RunVerdict::Error;
  r.error = "cannot open rig /dev/ttyACM9: No such file or directory";
  const std::string html = report::to_html(r);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("</html>") != std::string::npos);
  CHECK(html.find(">ERROR<") != std::string::npos);
  CHECK(html.find("cannot open rig /dev/ttyACM9: No such file or directory") != std::string::npos);
  CHECK(html.find("<svg") == std::string::npos);
  CHECK(html.find("No check ran") != std::string::npos);
}

TEST_CASE("a long roll is decimated to the point budget without losing its spikes") {
  std::vector<analysis::RollSample> samples(100000);
  for (std::size_t k = 0; k < samples.size(); ++k) {
    samples[k].x_um = double(k);
    samples[k].force_mN = 1000;
    samples[k].z_um = 50;
  }
  samples[43210].force_mN = 5000;  // one puncture spike
  samples[777].z_um = -20;         // one dip
  const auto trace = report::decimate_trace(samples, 2000);
  CHECK(trace.size() <= 2000);
  CHECK(trace.size() >= 500);
  auto max_force = std::max_element(trace.begin(), trace.end(),
                                    [](auto& a, auto& b) { return a.force_mN < b.force_mN; });
  auto min_z = std::min_element(trace.begin(), trace.end(),
                                [](auto& a, auto& b) { return a.z_um < b.z_um; });
  CHECK(max_force->force_mN == 5000);
  CHECK(max_force->x_mm == Approx(43.210));
  CHECK(min_z->z_um == -20);
  CHECK(
      std::is_sorted(trace.begin(), trace.end(), [](auto& a, auto& b) { return a.x_mm < b.x_mm; }));
  SECTION("a short roll keeps every sample") {
    samples.resize(1500);
    CHECK(report::decimate_trace(samples, 2000).size() == 1500);
  }
}

TEST_CASE("report.json carries each roll's trace so the page can be drawn again from it") {
  const auto json = report::to_json(failing_run());
  const auto& trace = json["rolls"][0]["trace"];
  CHECK(trace["load_set_mN"] == 10200);
  CHECK(trace["samples"] == 5000);
  CHECK(trace["x_mm"].size() == trace["force_mN"].size());
  CHECK(trace["z_um"].size() == trace["x_mm"].size());
  CHECK(trace["x_mm"].size() <= report::kMaxTracePoints);
  REQUIRE(trace["steady_segments"].size() == 1);
  CHECK(trace["steady_segments"][0]["x_begin_mm"] == Approx(26.0));
  CHECK(trace["steady_segments"][0]["x_end_mm"] == Approx(73.984));
}

TEST_CASE("axis ticks fall on round numbers that cover the range") {
  const auto ticks = report::svg::nice_ticks(257.3, 391.8, 6);
  REQUIRE(ticks.size() >= 4);
  CHECK(ticks.front() >= 257.3);
  CHECK(ticks.back() <= 391.8);
  CHECK(ticks[1] - ticks[0] == Approx(20));
  CHECK(report::svg::number(-0.0001, 2) == "0.00");
  CHECK(report::svg::number(std::nan(""), 2) == "\u2014");
}
