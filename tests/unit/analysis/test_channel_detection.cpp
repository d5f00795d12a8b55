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
  // Pit tails in the form's samples widen the residual a little beyond the noise.
  CHECK(found->residual_sigma_um == Approx(0.5).epsilon(0.2));
  REQUIRE(found->channels.size() == pits.size());

  // The floor is never reported deeper than the deepest pixel by more than 2 sigma of the
  // noise (docs/measurement.md): a pit whose bottom falls between pixels reads shallower by
  // what the pixel grid misses, at most the pit's drop at half a pixel off in both directions.
  double centre_ss = 0;
  for (const Pit& pit : pits) {
    const Channel* c = nearest(found->channels, pit);
    REQUIRE(c);
    CHECK(c->measured());
    const double centre_error = std::hypot(c->x_um - pit.x_um, c->y_um - pit.y_um);
    CHECK(centre_error < 5.0);
    const double half_diagonal2 = m.pitch_um * m.pitch_um / 2.0;
    const double grid_loss =
        pit.depth_um * (1.0 - std::exp(-half_diagonal2 / (2.0 * m.pit_sigma_um * m.pit_sigma_um)));
    INFO("pit " << pit.depth_um << " um deep, measured " << c->depth_um << " um");
    CHECK(c->depth_um <= pit.depth_um + 2.0 * m.noise_sd_um + 4.0 * m.noise_sd_um);
    CHECK(c->depth_um >= pit.depth_um - grid_loss - 4.0 * m.noise_sd_um);
    centre_ss += centre_error * centre_error;
  }
  const double centre_rms = std::sqrt(centre_ss / pits.size());
  INFO("centre RMS " << centre_rms << " um");
  CHECK(centre_rms < 2.0);
}

TEST_CASE("the form is fitted through the surface, not the channels") {
  MapOptions m;
  m.rows = 800;
  m.cols = 600;
  m.tilt_x_um_per_mm = 1.0;
  m.tilt_y_um_per_mm = 0.7;
  const HeightMap map = make_map(m, jittered_pits(m, 3));
  const auto fit = fit_form(map);
  REQUIRE(fit);
  CHECK(fit->residual_sigma_um == Approx(0.5).epsilon(0.2));
  // Everywhere, including over the pits and beyond the outer cell centres, the form is the
  // tilted plane the map was made on, to a fifth of the 10 um detection threshold (cells that
  // pits up to 2 mm deep half fill sit a little low; depth is measured against each channel's
  // own reference, not this).
  for (int r = 0; r < map.rows; r += 37)
    for (int c = 0; c < map.cols; c += 29) {
      const double truth = m.offset_um + 1.0 * map.x_um(r) / 1000 + 0.7 * map.y_um(c) / 1000;
      INFO("pixel " << r << ", " << c);
      CHECK(fit->form.at(r, c) == Approx(truth).margin(2.0));
    }
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

TEST_CASE("pits cut by the scan edge are partial, by an unreadable area unmeasured") {
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
  CHECK_FALSE(nearest(found->channels, pits[0])->partial());
  CHECK(nearest(found->channels, pits[1])->partial());
  // Beside an unreadable area that runs on: part of it is hidden inside the scan.
  CHECK(nearest(found->channels, pits[2])->state == ChannelState::CutByGap);
  CHECK(nearest(found->channels, pits[2])->unmeasured());
  CHECK_FALSE(nearest(found->channels, pits[3])->partial());
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
