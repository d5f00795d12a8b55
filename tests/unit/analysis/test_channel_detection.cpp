#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "bench/analysis/channel_detection.hpp"
#include "synthetic.hpp"

using namespace derma::analysis;
using namespace derma::analysis::testing;

namespace {

// Pits on a 1.2 mm grid, each centre jittered by a random fraction of a pixel and each
// depth random in 100-2000 um, so the bottoms fall anywhere between pixels.
std::vector<Pit> jittered_pits(const MapOptions& m, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> jitter(-0.5, 0.5);
  std::uniform_real_distribution<double> depth(100, 2000);
  std::vector<Pit> pits;
  for (double x = 1000; x < m.rows * m.pitch_um - 1000; x += 1200)
    for (double y = 1000; y < m.cols * m.pitch_um - 1000; y += 1200)
      pits.push_back({0, 0, m.x0_um + x + jitter(rng) * m.pitch_um,
                      m.y0_um + y + jitter(rng) * m.pitch_um, depth(rng)});
  return pits;
}

const Channel* nearest(const std::vector<Channel>& channels, const Pit& pit) {
  const Channel* best = nullptr;
  double best_d2 = 1e300;
  for (const Channel& c : channels) {
    const double d2 = std::pow(c.x_um - pit.x_um, 2) + std::pow(c.y_um - pit.y_um, 2);
    if (d2 < best_d2) {
      best_d2 = d2;
      best = &c;
    }
  }
  return best;
}

}  // namespace

TEST_CASE("detection finds every pit on a tilted plane with sub-pixel centres and depths") {
  MapOptions m;
  m.rows = 1200;
  m.cols = 700;
  m.tilt_x_um_per_mm = 1.0;
  m.tilt_y_um_per_mm = -1.0;
  double needle_mm = 0.25;
  SECTION("0.25 mm needles") {}
  SECTION("0.20 mm needles") {
    needle_mm = 0.20;
  }
  m.pit_sigma_um = needle_mm * 1000 / 4;
  const auto pits = jittered_pits(m, 11);
  const HeightMap map = make_map(m, pits);

  const auto found = detect_channels(map);
  REQUIRE(found);
  CHECK(found->noise_sigma_um == Approx(0.5).epsilon(0.1));
  REQUIRE(found->channels.size() == pits.size());

  double depth_ss = 0, centre_ss = 0;
  for (const Pit& pit : pits) {
    const Channel* c = nearest(found->channels, pit);
    REQUIRE(c);
    CHECK_FALSE(c->partial);
    const double centre_error = std::hypot(c->x_um - pit.x_um, c->y_um - pit.y_um);
    CHECK(centre_error < 5.0);
    depth_ss += std::pow(c->depth_um - pit.depth_um, 2);
    centre_ss += centre_error * centre_error;
  }
  const double depth_rms = std::sqrt(depth_ss / pits.size());
  const double centre_rms = std::sqrt(centre_ss / pits.size());
  INFO("depth RMS " << depth_rms << " um, centre RMS " << centre_rms << " um");
  CHECK(depth_rms < 5.0);
  CHECK(centre_rms < 2.0);
}

TEST_CASE("the surface plane is fitted through the surface, not the channels") {
  MapOptions m;
  m.rows = 800;
  m.cols = 600;
  m.tilt_x_um_per_mm = 1.0;
  m.tilt_y_um_per_mm = 0.7;
  const HeightMap map = make_map(m, jittered_pits(m, 3));
  const auto fit = fit_surface_plane(map);
  REQUIRE(fit);
  // Slopes per pixel: um/mm * mm/pixel.
  CHECK(fit->plane.per_row_um == Approx(1.0 * m.pitch_um / 1000).margin(0.001));
  CHECK(fit->plane.per_col_um == Approx(0.7 * m.pitch_um / 1000).margin(0.001));
  const double truth_at_centre = m.offset_um + 1.0 * map.x_um(int(fit->plane.r0)) / 1000 +
                                 0.7 * map.y_um(int(fit->plane.c0)) / 1000;
  CHECK(fit->plane.at(int(fit->plane.r0), int(fit->plane.c0)) ==
        Approx(truth_at_centre).margin(0.1));
}

TEST_CASE("a surface with noise only yields no channels") {
  MapOptions m;
  m.rows = 1000;
  m.cols = 1000;
  m.noise_sd_um = 2.0;
  const auto found = detect_channels(make_map(m, {}));
  REQUIRE(found);
  CHECK(found->channels.empty());
  CHECK(found->threshold_um == Approx(12.0).epsilon(0.1));  // 6 sigma beats the 10 um floor
}

TEST_CASE("pits cut by the scan edge or by unreadable pixels are flagged partial") {
  MapOptions m;
  m.rows = 500;
  m.cols = 400;
  const std::vector<Pit> pits{
      {0, 0, 4000, 4000, 400},  // whole, well inside
      {0, 1, 0, 3000, 400},     // centred on the first row: half of it is off the map
      {0, 2, 7000, 7000, 400},  // next to the unreadable band below
      {0, 3, 4000, 6000, 400},  // whole, near but clear of the band
  };
  HeightMap map = make_map(m, pits);
  // Columns from y = 7.1 mm on are outside the lane: the scanner reads nothing there.
  for (int r = 0; r < map.rows; ++r)
    for (int c = 355; c < map.cols; ++c)
      map.height_um[std::size_t(r) * map.cols + c] = HeightMap::kNoData;

  const auto found = detect_channels(map);
  REQUIRE(found);
  REQUIRE(found->channels.size() == 4);
  CHECK(found->valid_pixels == std::size_t(map.rows) * 355);
  CHECK_FALSE(nearest(found->channels, pits[0])->partial);
  CHECK(nearest(found->channels, pits[1])->partial);
  CHECK(nearest(found->channels, pits[2])->partial);
  CHECK_FALSE(nearest(found->channels, pits[3])->partial);
  CHECK(nearest(found->channels, pits[3])->depth_um == Approx(400).margin(5));
}

TEST_CASE("a map whose size does not add up is refused with the reason") {
  HeightMap map;
  map.rows = 10;
  map.cols = 10;
  map.height_um.assign(99, 0.0f);
  const auto found = detect_channels(map);
  REQUIRE_FALSE(found);
  CHECK_THAT(found.error(), Catch::Contains("99 pixels"));

  map.height_um.assign(100, HeightMap::kNoData);
  const auto unreadable = detect_channels(map);
  REQUIRE_FALSE(unreadable);
  CHECK_THAT(unreadable.error(), Catch::Contains("too few"));
}
