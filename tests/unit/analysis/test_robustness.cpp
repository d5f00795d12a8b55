// Channel detection and lattice matching under what a real bench throws at them: sensor
// noise, a tilted phantom, a second pass over the same track (retracing the holes or landing
// beside them), and channels cut by the scan's edges. Synthetic data (synthetic.hpp), so
// the truth is known exactly.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <sstream>

#include "bench/analysis/channel_detection.hpp"
#include "bench/analysis/channel_matching.hpp"
#include "bench/analysis/checks.hpp"
#include "bench/analysis/lattice.hpp"
#include "synthetic.hpp"

using namespace derma::analysis;
using namespace derma::analysis::testing;

namespace {

// A DR-192 roll over 70 mm (more than a turn), its pits 300-360 um deep.
RollOptions standard_roll() {
  RollOptions o;
  o.stroke_um = 70000;
  o.start_counts = 100;  // keeps punctures off the track's very ends
  return o;
}

DepthModel varied_depth() {
  return [](int d, int i, double, double) { return 300.0 + 60.0 * ((d * 7 + i * 13) % 10) / 10.0; };
}

// How the detected channels compare with the pits: recall, precision, depth RMS (um),
// counting only pits and channels at least margin_um inside the map.
struct Score {
  std::size_t pits = 0, channels = 0, matched = 0;
  double depth_rms_um = 0, centre_rms_um = 0;
};

Score score(const std::vector<Channel>& channels, const std::vector<Pit>& pits,
            const HeightMap& map, double margin_um = 300) {
  auto inside = [&](double x, double y) {
    return x >= map.x_um(0) + margin_um && x <= map.x_um(map.rows - 1) - margin_um &&
           y >= map.y_um(0) + margin_um && y <= map.y_um(map.cols - 1) - margin_um;
  };
  Score s;
  std::vector<const Channel*> pool;
  for (const Channel& c : channels)
    if (inside(c.x_um, c.y_um)) pool.push_back(&c);
  s.channels = pool.size();
  std::vector<bool> used(pool.size(), false);
  double depth_ss = 0, centre_ss = 0;
  for (const Pit& p : pits) {
    if (!inside(p.x_um, p.y_um)) continue;
    ++s.pits;
    std::size_t best = pool.size();
    double best_d = 60.0;
    for (std::size_t k = 0; k < pool.size(); ++k) {
      const double d = std::hypot(pool[k]->x_um - p.x_um, pool[k]->y_um - p.y_um);
      if (!used[k] && d < best_d) best = k, best_d = d;
    }
    if (best == pool.size()) continue;
    used[best] = true;
    ++s.matched;
    depth_ss += std::pow(pool[best]->depth_um - p.depth_um, 2);
    centre_ss += best_d * best_d;
  }
  s.depth_rms_um = std::sqrt(depth_ss / std::max<std::size_t>(1, s.matched));
  s.centre_rms_um = std::sqrt(centre_ss / std::max<std::size_t>(1, s.matched));
  return s;
}

// Forward, then back over the same track: the second pass is the first one's samples in
// reverse, its encoder shifted by skid_counts (the drum skidded at the reversal, so the way
// back lands beside the holes of the way out; 0 = it retraces them).
RollRecord two_pass_roll(const RollOptions& o, std::int64_t skid_counts) {
  RollRecord roll = make_roll(o);
  roll.settings.passes = 2;
  const std::size_t n = roll.samples.size();
  const double dt = 1.0 / o.sample_rate_hz;
  for (std::size_t k = 0; k < n; ++k) {
    RollSample s = roll.samples[n - 1 - k];
    s.t_s = roll.samples[n - 1].t_s + dt * double(k + 1);
    s.pass = 1;
    s.encoder_counts += skid_counts;
    roll.samples.push_back(s);
  }
  return roll;
}

// The pits of the way back: where the encoder, shifted by the skid, says each needle
// pointed down, i.e. the lattice of a roll whose drum started skid_counts further on.
std::vector<Pit> second_pass_pits(RollOptions o, const DepthModel& depth,
                                  std::int64_t skid_counts) {
  o.start_counts += skid_counts;
  return lattice_pits(o, depth);
}

}  // namespace

TEST_CASE("detection keeps recall, precision and depth accuracy as sensor noise grows") {
  const RollOptions o = standard_roll();
  MapOptions m = map_for(o);
  double noise_um = 0.5;
  SECTION("0.5 um noise (the rig's scanner)") {}
  SECTION("2 um noise") {
    noise_um = 2.0;
  }
  SECTION("5 um noise, ten times the scanner's") {
    noise_um = 5.0;
  }
  m.noise_sd_um = noise_um;
  const auto pits = lattice_pits(o, varied_depth());
  const HeightMap map = make_map(m, pits);
  const auto found = detect_channels(map);
  REQUIRE(found);
  CHECK(found->residual_sigma_um == Approx(noise_um).epsilon(0.15));
  const Score s = score(found->channels, pits, map);
  INFO("noise " << noise_um << " um: " << s.matched << " of " << s.pits << " pits, " << s.channels
                << " channels, depth RMS " << s.depth_rms_um << " um");
  REQUIRE(s.pits > 150);
  CHECK(s.matched == s.pits);
  CHECK(s.channels == s.pits);
  CHECK(s.depth_rms_um < 5.0);
  CHECK(s.centre_rms_um < 5.0);
}

TEST_CASE("a steeply tilted phantom is levelled before channels are measured") {
  const RollOptions o = standard_roll();
  MapOptions m = map_for(o);
  SECTION("10 um/mm along the lane (10x the tray's worst)") {
    m.tilt_x_um_per_mm = 10;
  }
  SECTION("10 um/mm across the lane") {
    m.tilt_y_um_per_mm = -10;
  }
  SECTION("both, with 2 um noise") {
    m.tilt_x_um_per_mm = -8;
    m.tilt_y_um_per_mm = 8;
    m.noise_sd_um = 2;
  }
  const auto pits = lattice_pits(o, varied_depth());
  const HeightMap map = make_map(m, pits);
  const auto found = detect_channels(map);
  REQUIRE(found);
  const Score s = score(found->channels, pits, map);
  INFO(s.matched << " of " << s.pits << " pits, " << s.channels << " channels, depth RMS "
                 << s.depth_rms_um << " um");
  CHECK(s.matched == s.pits);
  CHECK(s.channels == s.pits);
  CHECK(s.depth_rms_um < 5.0);
}

TEST_CASE("a second pass over the same track leaves no needle missing and nothing unexpected") {
  const RollOptions o = standard_roll();
  const MapOptions m = map_for(o);
  const double needle_um = o.geometry.needle_diameter_mm * 1000;
  const double tolerance_um = 0.4 * lattice_spacing_um(o.geometry);
  // One encoder count is 15.3 um of arc.
  std::int64_t skid_counts = 0;
  bool separate = false;  // the way back leaves channels of its own
  SECTION("retracing the holes exactly") {}
  SECTION("landing 2 counts (31 um) beside them: the pits merge") {
    skid_counts = 2;
  }
  SECTION("landing 8 counts (123 um) beside them: overlapping pits, one channel") {
    skid_counts = 8;
  }
  SECTION("landing 40 counts (614 um) beside them: a channel of its own") {
    skid_counts = 40;
    separate = true;
  }
  const RollRecord roll = two_pass_roll(o, skid_counts);
  std::vector<Pit> pits = lattice_pits(o, constant_depth(330));
  if (skid_counts != 0) {
    // The way back: a little shallower, so the merged bottom is the way out's.
    const auto back = second_pass_pits(o, constant_depth(300), skid_counts);
    pits.insert(pits.end(), back.begin(), back.end());
  }
  HeightMap map = make_map(m, pits);
  auto found = detect_channels(map);
  REQUIRE(found);
  const auto predicted =
      predictions_in_scan(predict_punctures(roll, o.geometry), map, 2 * needle_um, needle_um / 2);
  const auto match = match_to_lattice(found->channels, predicted, tolerance_um, needle_um);

  std::map<int, int> per_pass;
  for (const auto& p : predicted) ++per_pass[p.pass];
  REQUIRE(per_pass[0] > 150);
  CHECK(per_pass[1] >= per_pass[0] - 20);  // the skid moves a few off the track
  std::size_t missed = 0;
  std::ostringstream misses;
  for (std::size_t p = 0; p < predicted.size(); ++p) {
    if (!match.channel_of_prediction[p]) {
      ++missed;
      misses << " pass " << predicted[p].pass << " d" << predicted[p].disc << " i"
             << predicted[p].index << " x " << predicted[p].x_um << ";";
      continue;
    }
    // Each prediction is matched to a channel of its own needle.
    const Channel& c = found->channels[*match.channel_of_prediction[p]];
    CHECK(std::hypot(c.x_um - predicted[p].x_um, c.y_um - predicted[p].y_um) < tolerance_um);
  }
  std::size_t unexpected = 0;
  for (std::size_t c = 0; c < found->channels.size(); ++c)
    if (!match.prediction_of_channel[c] && !found->channels[c].partial()) ++unexpected;
  INFO("skid " << skid_counts << " counts: " << predicted.size() << " predictions, "
               << found->channels.size() << " channels, " << missed << " missed, " << unexpected
               << " unexpected;" << misses.str());
  CHECK(missed == 0);
  CHECK(unexpected == 0);
  if (separate) {
    CHECK(found->channels.size() > std::size_t(per_pass[0] + per_pass[1]) * 9 / 10);
  } else {
    // One channel per hole: the way back re-punctured (or widened) the way out's.
    CHECK(found->channels.size() <= lattice_pits(o, constant_depth(330)).size());
  }
}

TEST_CASE("channels cut by the scan's edges are partial, never judged, never a missing needle") {
  RollOptions o = standard_roll();
  MapOptions m = map_for(o);
  // The scan starts and ends inside the rolled track, and stops short of the drum's far
  // face, so rows of pits and the last disc's channels are cut by every edge but y = 0.
  const double pitch_x_um = M_PI * o.geometry.drum_diameter_mm * 1000 / 48;
  m.x0_um = o.start_x_um + 3 * pitch_x_um;
  m.rows = static_cast<int>((o.stroke_um - 6 * pitch_x_um) / m.pitch_um);
  m.cols = static_cast<int>((o.geometry.disc_y_mm(7) * 1000 + 20) / m.pitch_um);
  const auto pits = lattice_pits(o, constant_depth(330));
  ScanRecord scan;
  scan.map = make_map(m, pits);
  scan.scan_delay_s = 60;
  SpecLimits limits;
  limits.depth_lsl_um = 300;
  limits.depth_usl_um = 360;
  const Analysis a = analyse_roll(make_roll(o), scan, o.geometry, limits,
                                  {"penetration_depth", "missing_channels"});
  std::size_t partial = 0;
  for (const Channel& c : a.channels) {
    partial += c.partial();
    const bool on_edge = c.y_um > scan.map.y_um(scan.map.cols - 1) - 200 ||
                         c.x_um < scan.map.x_um(0) + 200 ||
                         c.x_um > scan.map.x_um(scan.map.rows - 1) - 200;
    if (on_edge) CHECK(c.partial());
    // A cut channel reads shallow: it must not be attributed to a needle.
    if (c.partial()) CHECK_FALSE(c.disc);
  }
  CHECK(partial > 20);  // the whole last disc at least
  const CheckResult& depth = a.checks.at(0);
  INFO(depth.id << ": " << depth.summary);
  CHECK(depth.verdict == Verdict::Pass);
  // The last disc printed only cut channels, so its needles cannot be judged: the check
  // gives no verdict on the roller, and counts none of the cut channels as missing.
  const CheckResult& missing = a.checks.at(1);
  INFO(missing.id << ": " << missing.summary);
  CHECK(missing.verdict == Verdict::Error);
  CHECK_THAT(missing.summary, Catch::Contains("of 192 needles"));
  CHECK(missing.value == 0);
  CHECK(missing.findings.empty());
}

TEST_CASE("a scan that misses the rolled track is an error, not a pass") {
  const RollOptions o = standard_roll();
  MapOptions m = map_for(o);
  m.x0_um = o.start_x_um + o.stroke_um + 5000;  // beyond the end of the track
  m.rows = 1000;
  ScanRecord scan;
  scan.map = make_map(m, {});
  scan.scan_delay_s = 60;
  SpecLimits limits;
  limits.depth_lsl_um = 300;
  limits.depth_usl_um = 360;
  limits.density_min_per_cm2 = 14;
  limits.density_max_per_cm2 = 16;
  const Analysis a = analyse_roll(
      make_roll(o), scan, o.geometry, limits,
      {"penetration_depth", "channel_density", "missing_channels", "depth_uniformity"});
  for (const CheckResult& r : a.checks) {
    INFO(r.id << ": " << r.summary);
    CHECK(r.verdict == Verdict::Error);
    CHECK_FALSE(r.summary.empty());
  }
}
