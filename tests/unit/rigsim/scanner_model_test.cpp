// The scanner's imperfections: points lost on steep walls (and not on flat surface), random
// losses, spikes, dust, unreadable floors, and the same bytes for the same seeds.
#include "fixtures/rigsim/scanner_model.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "synth_test_support.hpp"

using namespace derma::rigsim;

namespace {

const NeedleForm kNeedle{125.0, 30.0, 15.0};
const NeedleStroke kStroke{10'000.0, 500.0, 325.0, +1};

// One 300-um funnel (walls at 75 deg from horizontal, no slot, no rim) in the middle of a
// 2 x 2 mm scan at 4 um, over a level form.
ChannelShape funnel() {
  ChannelShapeSettings phantom;
  phantom.imprint = true;
  phantom.floor_rounding_um = 20;
  return imprint_channel(1'000, 1'000, 300, kNeedle, phantom, kStroke);
}
const ScanWindow kWindow{0, 0, 500, 500, 4};

test::HeightMap scan_funnel(const ScannerSettings& scanner, std::uint64_t artifact_seed = 2) {
  HeightMapSynth synth(test::level_form(), {funnel()}, kWindow, scanner, 1, artifact_seed);
  return test::synthesise(synth);
}

struct Shares {
  int wall = 0, wall_lost = 0;  // on the cone's walls (75 deg)
  int flat = 0, flat_lost = 0;  // beyond the shank: the phantom's flat surface
  double wall_share() const { return double(wall_lost) / wall; }
};

Shares count_losses(const test::HeightMap& map) {
  const ChannelShape s = funnel();
  Shares out;
  for (int r = 0; r < map.window.rows; ++r)
    for (int c = 0; c < map.window.cols; ++c) {
      const double rho = std::hypot(map.x_um(r) - s.x_um, map.y_um(c) - s.y_um);
      if (rho > s.cone_start_um + 5 && rho < s.opening_radius_um - 5) {
        ++out.wall;
        out.wall_lost += !map.read(r, c);
      } else if (rho > s.shank_radius_um + 10) {
        ++out.flat;
        out.flat_lost += !map.read(r, c);
      }
    }
  return out;
}

}  // namespace

TEST_CASE("the scanner loses points on walls steeper than its acceptance angle, not on flat") {
  ScannerSettings scanner = test::exact_scanner();
  scanner.acceptance_deg = 70;
  scanner.acceptance_ramp_deg = 0;
  SECTION("beyond the acceptance angle it loses the configured share") {
    scanner.steep_loss = 1.0;
    const Shares all = count_losses(scan_funnel(scanner));
    REQUIRE(all.wall > 1000);
    CHECK(all.wall_lost == all.wall);
    CHECK(all.flat_lost == 0);
    scanner.steep_loss = 0.35;
    const Shares some = count_losses(scan_funnel(scanner));
    CHECK(some.wall_share() == Approx(0.35).margin(0.03));
    CHECK(some.flat_lost == 0);
  }
  SECTION("the floor, flatter than the walls, is read") {
    scanner.steep_loss = 1.0;
    const test::HeightMap map = scan_funnel(scanner);
    const int centre = 250;  // (1000, 1000) at 4 um
    for (int dr = -2; dr <= 2; ++dr)
      for (int dc = -2; dc <= 2; ++dc) CHECK(map.read(centre + dr, centre + dc));
  }
  SECTION("near the angle the losses rise: 75 deg walls, half-way up a 10-deg ramp to 80") {
    scanner.steep_loss = 0.8;
    scanner.acceptance_deg = 80;
    scanner.acceptance_ramp_deg = 10;
    CHECK(count_losses(scan_funnel(scanner)).wall_share() == Approx(0.4).margin(0.03));
    scanner.acceptance_deg = 90;  // the walls are below the ramp's start
    CHECK(count_losses(scan_funnel(scanner)).wall_lost == 0);
  }
  SECTION("a slope loss function that rises linearly in angle") {
    scanner.steep_loss = 0.5;
    scanner.acceptance_ramp_deg = 10;
    const SlopeLoss loss(scanner);
    const auto tan2 = [](double deg) { return std::pow(std::tan(deg * M_PI / 180), 2); };
    CHECK(loss.probability(tan2(55)) == 0);
    CHECK(loss.probability(tan2(65)) == Approx(0.25));
    CHECK(loss.probability(tan2(70)) == Approx(0.5));
    CHECK(loss.probability(tan2(85)) == Approx(0.5));
    CHECK(loss.probability(INFINITY) == Approx(0.5));  // a vertical wall
  }
}

TEST_CASE("the shank's vertical wall is lost as a cliff whatever its angle in the map") {
  ChannelShapeSettings phantom;
  phantom.imprint = true;
  const ChannelShape deep =
      imprint_channel(1'000, 1'000, 700, kNeedle, phantom, NeedleStroke{10'000, 1'000, 720, 1});
  REQUIRE(deep.kind == ChannelKind::ConeCylinder);
  ScannerSettings scanner = test::exact_scanner();
  scanner.acceptance_deg = 89;
  scanner.acceptance_ramp_deg = 0;
  scanner.steep_loss = 1.0;
  HeightMapSynth synth(test::level_form(), {deep}, kWindow, scanner, 1, 2);
  const test::HeightMap map = test::synthesise(synth);
  int edge = 0, edge_lost = 0, other_lost = 0;
  for (int r = 0; r < map.window.rows; ++r)
    for (int c = 0; c < map.window.cols; ++c) {
      const double rho = std::hypot(map.x_um(r) - deep.x_um, map.y_um(c) - deep.y_um);
      const bool at_edge = std::abs(rho - deep.shank_radius_um) < 1.0;
      edge += at_edge;
      edge_lost += at_edge && !map.read(r, c);
      other_lost += std::abs(rho - deep.shank_radius_um) > 3.0 && !map.read(r, c);
    }
  REQUIRE(edge > 20);
  CHECK(edge_lost == edge);
  CHECK(other_lost == 0);
}

TEST_CASE("random losses and spikes come at their rates, spikes as single-pixel outliers") {
  ScannerSettings scanner = test::exact_scanner();
  scanner.flat_loss_ppm = 2'000;
  scanner.spikes_ppm = 1'000;
  scanner.spike_um = 40;
  const ScanWindow window{0, 0, 1'000, 1'000, 10};  // 1 Mpx of flat phantom
  HeightMapSynth synth(test::level_form(), {}, window, scanner, 1, 2);
  const test::HeightMap map = test::synthesise(synth);
  int lost = 0, spikes = 0;
  for (double h : map.um) {
    if (h != h)
      ++lost;
    else if (std::abs(h - 300) > 1e-9) {
      ++spikes;
      CHECK(std::abs(h - 300) >= 0.3 * 40 - 0.001);
      CHECK(std::abs(h - 300) <= 40 + 0.001);
    }
  }
  // Poisson counts: 2000 +- 45, 1000 +- 32 (less the spikes on lost points).
  CHECK(lost == Approx(2'000).margin(180));
  CHECK(spikes == Approx(1'000).margin(130));
  CHECK(synth.artifacts().random_lost == static_cast<std::uint64_t>(lost));
  CHECK(synth.artifacts().spikes == static_cast<std::uint64_t>(spikes));
}

TEST_CASE("dust settles as small bumps, as many as configured") {
  ScannerSettings scanner = test::exact_scanner();
  scanner.dust_particles = 2;
  HeightMapSynth synth(test::level_form(), {}, kWindow, scanner, 1, 5);
  const test::HeightMap map = test::synthesise(synth);
  REQUIRE(synth.dust().size() == 2);
  for (const DustParticle& d : synth.dust()) {
    CHECK(d.radius_um >= 15);
    CHECK(d.radius_um <= 50);
    CHECK(d.height_um >= 5);
    CHECK(d.height_um <= 25);
    const int r = static_cast<int>(std::lround(d.x_um / kWindow.pitch_um));
    const int c = static_cast<int>(std::lround(d.y_um / kWindow.pitch_um));
    CHECK(map.at(r, c) - 300 > 0.5 * d.height_um);
  }
  scanner.dust_particles = 0.5;  // one scan in two, by chance
  int with_dust = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed)
    with_dust += !HeightMapSynth(test::level_form(), {}, kWindow, scanner, 1, seed).dust().empty();
  CHECK(with_dust == Approx(100).margin(25));
}

TEST_CASE("a channel whose floor is unreadable loses its lower half, and the reading says so") {
  ScannerSettings scanner = test::exact_scanner();
  scanner.floor_loss = 1.0;
  HeightMapSynth lost(test::level_form(), {funnel()}, kWindow, scanner, 1, 2);
  const test::HeightMap map = test::synthesise(lost);
  REQUIRE(lost.channel_readings().size() == 1);
  const FloorReading& reading = lost.channel_readings()[0];
  CHECK(reading.floor_lost);
  CHECK(reading.pixels > 0);
  CHECK(reading.read == 0);
  for (int r = 0; r < map.window.rows; ++r)
    for (int c = 0; c < map.window.cols; ++c)
      if (!map.read(r, c))  // only the lower half is lost
        CHECK(std::hypot(map.x_um(r) - 1'000, map.y_um(c) - 1'000) < funnel().opening_radius_um);
  CHECK(lost.artifacts().floor_lost > 50);

  scanner.floor_loss = 0;
  HeightMapSynth kept(test::level_form(), {funnel()}, kWindow, scanner, 1, 2);
  test::synthesise(kept);
  CHECK_FALSE(kept.channel_readings()[0].floor_lost);
  CHECK(kept.channel_readings()[0].read == kept.channel_readings()[0].pixels);
}

TEST_CASE("a realistic scan is the same bytes for the same seeds, and another for others") {
  ScannerSettings scanner;
  scanner.steep_loss = 0.3;
  scanner.acceptance_deg = 72;
  scanner.flat_loss_ppm = 500;
  scanner.spikes_ppm = 500;
  scanner.spike_um = 30;
  scanner.dust_particles = 1;
  const auto map = [&](std::uint64_t noise, std::uint64_t artifacts) {
    HeightMapSynth synth(test::level_form(), {funnel()}, kWindow, scanner, noise, artifacts);
    return test::synthesise(synth).um;
  };
  const auto same = [](const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t k = 0; k < a.size(); ++k)
      if (!(a[k] == b[k] || (a[k] != a[k] && b[k] != b[k]))) return false;
    return true;
  };
  CHECK(same(map(1, 2), map(1, 2)));
  CHECK_FALSE(same(map(1, 2), map(1, 3)));
  CHECK_FALSE(same(map(1, 2), map(4, 2)));
}
