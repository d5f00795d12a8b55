#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "bench/analysis/channel_matching.hpp"
#include "bench/analysis/lattice.hpp"
#include "synthetic.hpp"

using namespace derma::analysis;
using namespace derma::analysis::testing;

namespace {

// The prediction of the same needle nearest to the pit, or none.
const PredictedChannel* prediction_for(const std::vector<PredictedChannel>& predicted,
                                       const Pit& pit) {
  const PredictedChannel* best = nullptr;
  for (const auto& p : predicted)
    if (p.disc == pit.disc && p.index == pit.index &&
        (!best || std::abs(p.x_um - pit.x_um) < std::abs(best->x_um - pit.x_um)))
      best = &p;
  return best;
}

}  // namespace

TEST_CASE("the lattice predicts every puncture of a roll where the model puts it") {
  RollOptions o;
  SECTION("no slip, encoder starting at zero") {}
  SECTION("5 % slip, encoder starting mid-turn") {
    o.slip_fraction = 0.05;
    o.start_counts = 12345;
  }
  const RollRecord roll = make_roll(o);
  const auto pits = lattice_pits(o, constant_depth(300));
  const auto predicted = predict_punctures(roll, o.geometry);
  REQUIRE(predicted.size() == pits.size());
  for (const Pit& pit : pits) {
    const auto* p = prediction_for(predicted, pit);
    REQUIRE(p);
    // One encoder count is 2 pi R / 4096 = 15 um of travel: the prediction is that good.
    CHECK(std::abs(p->x_um - pit.x_um) < 20.0);
    CHECK(p->y_um == Approx(pit.y_um));
    CHECK(p->drum_angle_rad == Approx(o.geometry.needle_angle_rad(pit.disc, pit.index)));
  }
}

TEST_CASE("a drum lifted off the phantom punctures nothing") {
  RollOptions o;
  RollRecord roll = make_roll(o);
  for (auto& s : roll.samples) s.force_mN = 50;  // 0.5 % of the load: hovering
  CHECK(predict_punctures(roll, o.geometry).empty());
}

TEST_CASE("only predictions the scan can judge are kept") {
  HeightMap map;
  map.rows = 100;
  map.cols = 100;
  map.pitch_um = 20;
  map.height_um.assign(100 * 100, 0.0f);
  // An unreadable patch around (50, 80): nothing of a channel there could be seen.
  for (int r = 45; r <= 55; ++r)
    for (int c = 75; c <= 85; ++c) map.height_um[r * 100 + c] = HeightMap::kNoData;
  // One unreadable point where a channel is (a steep wall, a dropout) leaves it judged.
  map.height_um[30 * 100 + 30] = HeightMap::kNoData;
  std::vector<PredictedChannel> predicted{
      {0, 0, 1000, 1000, 0, 0},  // inside
      {0, 1, 100, 1000, 0, 0},   // within the margin of the edge
      {0, 2, 1000, 1600, 0, 0},  // in the unreadable patch
      {0, 3, 5000, 1000, 0, 0},  // outside
      {0, 4, 600, 600, 0, 0},    // on one unreadable point
  };
  const auto kept = predictions_in_scan(predicted, map, 500, 100);
  REQUIRE(kept.size() == 2);
  CHECK(kept[0].index == 0);
  CHECK(kept[1].index == 4);
}

TEST_CASE("the lattice spacing is the nearer of needle pitch and disc pitch") {
  RollerGeometry g;  // 8 x 24 on 20 x 20 mm: 2.62 mm around, 2.5 mm across
  CHECK(lattice_spacing_um(g) == Approx(2500));
  g.discs = 4;
  CHECK(lattice_spacing_um(g) == Approx(M_PI * 20000 / 24));
}

TEST_CASE("matching pairs nearest first, one to one, and leaves the rest over") {
  std::vector<Channel> channels(3);
  channels[0].x_um = 1000, channels[0].y_um = 1000;
  channels[1].x_um = 1300, channels[1].y_um = 1000;
  channels[2].x_um = 9000, channels[2].y_um = 9000;  // nowhere near a needle
  const std::vector<PredictedChannel> predicted{
      {1, 4, 1250, 1000, 0, 0},  // nearer channel 1 than channel 0
      {1, 5, 1050, 1000, 0, 0},
      {2, 7, 5000, 5000, 0, 0},  // nothing there
  };
  const auto match = match_to_lattice(channels, predicted, 400, 250);
  CHECK(match.channel_of_prediction[0] == std::optional<std::size_t>(1));
  CHECK(match.channel_of_prediction[1] == std::optional<std::size_t>(0));
  CHECK_FALSE(match.channel_of_prediction[2]);
  CHECK_FALSE(match.prediction_of_channel[2]);
  CHECK(channels[0].disc == 1);
  CHECK(channels[0].index == 5);
  CHECK_FALSE(channels[2].disc);
}

TEST_CASE("a second pass re-puncturing the same hole shares its channel") {
  std::vector<Channel> channels(1);
  channels[0].x_um = 1000, channels[0].y_um = 1000;
  const std::vector<PredictedChannel> predicted{{0, 3, 1010, 1000, 0, 0}, {0, 3, 1030, 1000, 0, 1}};
  const auto match = match_to_lattice(channels, predicted, 400, 250);
  CHECK(match.channel_of_prediction[0] == std::optional<std::size_t>(0));
  CHECK(match.channel_of_prediction[1] == std::optional<std::size_t>(0));
}
