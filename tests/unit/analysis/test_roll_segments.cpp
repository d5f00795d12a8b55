#include <catch2/catch.hpp>

#include "bench/analysis/roll_segments.hpp"
#include "synthetic.hpp"

using namespace derma::analysis;
using namespace derma::analysis::testing;

TEST_CASE("the steady segment lies inside the constant-speed part of the stroke") {
  RollOptions o;  // ramps of 0.1 s after a 0.05 s dwell; steady from 0.15 s to 1.55 s
  const RollRecord roll = make_roll(o);
  const auto steady = find_steady_segments(roll);
  REQUIRE(steady.size() == 1);
  const auto& seg = steady[0];
  const double t0 = roll.samples[seg.begin].t_s, t1 = roll.samples[seg.end - 1].t_s;
  CHECK(t0 > 0.15);
  CHECK(t1 < 1.55);
  // Trimmed by 10 % at each end of a ~1.4 s run, it still holds most of it.
  CHECK(t1 - t0 > 1.0);
  CHECK(seg.speed_um_per_s == Approx(o.speed_um_per_s).epsilon(0.01));
}

TEST_CASE("a roll that never reaches its set speed has no steady segment") {
  RollOptions o;
  RollRecord roll = make_roll(o);
  roll.settings.speed_um_per_s = 2 * o.speed_um_per_s;
  CHECK(find_steady_segments(roll).empty());
}

TEST_CASE("the set speed is inferred when the settings lack it") {
  RollOptions o;
  RollRecord roll = make_roll(o);
  roll.settings.speed_um_per_s = 0;
  roll.settings.load_mN = 0;
  const auto steady = find_steady_segments(roll);
  REQUIRE(steady.size() == 1);
  CHECK(steady[0].speed_um_per_s == Approx(o.speed_um_per_s).epsilon(0.01));
}

TEST_CASE("the rolled X range is where the drum was pressed") {
  RollOptions o;
  RollRecord roll = make_roll(o);
  roll.samples.front().force_mN = 0;  // lifted at the very start
  roll.samples.front().x_um = 0;
  const auto range = rolled_x_range(roll);
  REQUIRE(range);
  CHECK(range->min_um == Approx(o.start_x_um));
  CHECK(range->max_um == Approx(o.start_x_um + o.stroke_um));
}

TEST_CASE("a roll whose time runs backwards is refused naming the sample") {
  RollOptions o;
  RollRecord roll = make_roll(o);
  CHECK_FALSE(roll_problem(roll));
  roll.samples[10].t_s = roll.samples[9].t_s;
  const auto problem = roll_problem(roll);
  REQUIRE(problem);
  CHECK_THAT(*problem, Catch::Contains("sample 10"));
  CHECK(roll_problem(RollRecord{}).value() == "roll has no samples");
}
