#include <catch2/catch.hpp>

#include "bench/runner/msa_runner.hpp"

using namespace derma;
using runner::MsaParts;

namespace {

report::RollAnalysis roll_with_depth(analysis::Verdict verdict) {
  analysis::CheckResult depth;
  depth.id = "penetration_depth";
  depth.verdict = verdict;
  depth.value = 325.5;
  depth.summary = "no complete channel matched to a needle";
  depth.per_needle = {{0, 0, 2, 320.0, 1.0, 319.3, 320.7}, {0, 1, 1, 330.0, 0.0, 330.0, 330.0}};
  report::RollAnalysis roll;
  roll.analysis.checks.push_back(depth);
  return roll;
}

}  // namespace

TEST_CASE("a roller part is measured by its mean penetration depth") {
  const auto values = runner::measure_parts(roll_with_depth(analysis::Verdict::Fail),
                                            "roller1 SIM-1", MsaParts::Rollers);
  REQUIRE(values);
  REQUIRE(values->size() == 1);
  CHECK((*values)[0].part == "roller1 SIM-1");
  CHECK((*values)[0].value == 325.5);  // a failed roller is still a measurement
}

TEST_CASE("needle parts are measured by each needle's mean channel depth") {
  const auto values = runner::measure_parts(roll_with_depth(analysis::Verdict::Pass),
                                            "roller1 SIM-1", MsaParts::Needles);
  REQUIRE(values);
  REQUIRE(values->size() == 2);
  CHECK((*values)[0].part == "roller1 SIM-1 d0 i0");
  CHECK((*values)[0].value == 320.0);
  CHECK((*values)[1].part == "roller1 SIM-1 d0 i1");
}

TEST_CASE("a roll whose depth could not be measured gives no measurement, saying why") {
  const auto values = runner::measure_parts(roll_with_depth(analysis::Verdict::Error),
                                            "roller1 SIM-1", MsaParts::Rollers);
  REQUIRE_FALSE(values);
  CHECK_THAT(values.error(), Catch::Contains("no complete channel"));
  report::RollAnalysis empty;
  CHECK_FALSE(runner::measure_parts(empty, "r", MsaParts::Rollers));
}
