#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "bench/analysis/scan_checks.hpp"
#include "bench/analysis/text.hpp"
#include "bench/scanfile/scan_surface.hpp"
#include "scan_test_support.hpp"

using namespace derma;
using analysis::Verdict;

namespace {

// DR-192-0.50's limits (fixtures/specs/DR-192-0.50.yaml).
analysis::SpecLimits dr192_limits() {
  analysis::SpecLimits limits;
  limits.depth_lsl_um = 260;
  limits.depth_usl_um = 390;
  limits.depth_min_cpk = 1.33;
  limits.density_min_per_cm2 = 14.36;
  limits.density_max_per_cm2 = 16.20;
  return limits;
}

analysis::HeightMap patch_map(const std::vector<scanfile::test::Pit>& pits) {
  // 10.47 mm x 10 mm at 20 um: the patch of dr192_patch_pits().
  auto map = scanfile::to_height_map(scanfile::test::pitted_surface(524, 501, 20, pits, 0.5));
  REQUIRE(map);
  return *map;
}

double figure_of(const analysis::CheckResult& c, const std::string& name) {
  for (const auto& f : c.figures)
    if (f.name == name) return f.value;
  FAIL("no figure " << name << " in " << c.id);
  throw;
}

const analysis::CheckResult& check(const analysis::Analysis& a, const std::string& id) {
  for (const auto& c : a.checks)
    if (c.id == id) return c;
  FAIL("no check " << id);
  throw;
}

}  // namespace

TEST_CASE("a scan of good channels passes depth and density without a roll") {
  const auto a = analysis::analyse_scan_only(patch_map(scanfile::test::dr192_patch_pits()),
                                             analysis::RollerGeometry{}, dr192_limits());
  REQUIRE(a.checks.size() == 2);
  CHECK(a.channels.size() == 16);
  const auto& depth = check(a, "penetration_depth");
  CHECK(depth.verdict == Verdict::Pass);
  // 20 um pixels miss up to 9 um of a 325 um Gaussian pit's bottom, which the bounded floor
  // does not make up (docs/measurement.md).
  CHECK(depth.value <= 325 + 1);
  CHECK(depth.value >= 325 - 9);
  const auto& density = check(a, "channel_density");
  CHECK(density.verdict == Verdict::Pass);
  // The patch's 16 channels lie on the nominal lattice: its density, not a count over the
  // window (16 on 1.050 cm2 = 15.24, an edge effect of the window's size).
  CHECK(density.value ==
        Approx(analysis::RollerGeometry{}.nominal_density_per_cm2()).epsilon(0.005));
  CHECK(figure_of(density, "count_per_readable_area") == Approx(16 / 1.050096).epsilon(1e-4));
}

TEST_CASE("a shallow channel fails penetration depth, named by its position") {
  auto pits = scanfile::test::dr192_patch_pits();
  pits[5].depth_um = 200;
  const auto a =
      analysis::analyse_scan_only(patch_map(pits), analysis::RollerGeometry{}, dr192_limits());
  const auto& depth = check(a, "penetration_depth");
  CHECK(depth.verdict == Verdict::Fail);
  REQUIRE_FALSE(depth.findings.empty());
  CHECK_THAT(depth.findings[0].text,
             Catch::Contains("below LSL 260.0 um") &&
                 Catch::Contains(analysis::text("x=%.2f mm", pits[5].x_um / 1000)));
  CHECK_FALSE(depth.findings[0].disc);  // no lattice: no needle to name
}

TEST_CASE("a scan with a missing channel inside the lattice fails density") {
  // Disc 1, needle 1 of the 4 x 4 patch: inside the hull of the others, so a lattice cell is
  // empty. (A channel missing on the hull looks like the window's edge: density cannot tell.)
  auto pits = scanfile::test::dr192_patch_pits();
  pits.erase(pits.begin() + 5);
  const auto a =
      analysis::analyse_scan_only(patch_map(pits), analysis::RollerGeometry{}, dr192_limits());
  CHECK(check(a, "channel_density").verdict == Verdict::Fail);
  CHECK(check(a, "penetration_depth").verdict == Verdict::Pass);
}

TEST_CASE("unreadable pixels count as neither channels nor area") {
  auto map = patch_map(scanfile::test::dr192_patch_pits());
  // Blank out the last quarter of the rows: 4 channels and a quarter of the area vanish.
  for (int r = 393; r < map.rows; ++r)
    for (int c = 0; c < map.cols; ++c)
      map.height_um[r * map.cols + c] = analysis::HeightMap::kNoData;
  const auto a = analysis::analyse_scan_only(map, analysis::RollerGeometry{}, dr192_limits());
  const auto& density = check(a, "channel_density");
  CHECK(figure_of(density, "channels") == 12);
  // The count over the readable area holds 12 channels on the three quarters left...
  CHECK(figure_of(density, "count_per_readable_area") == Approx(12 / (393 * 501 * 400 / 1e8)));
  // ...and the lattice they lie on is the nominal one still.
  CHECK(density.value ==
        Approx(analysis::RollerGeometry{}.nominal_density_per_cm2()).epsilon(0.005));
}

TEST_CASE("a flat scan cannot be judged for depth, and fails density") {
  const auto a =
      analysis::analyse_scan_only(patch_map({}), analysis::RollerGeometry{}, dr192_limits());
  CHECK(check(a, "penetration_depth").verdict == Verdict::Error);
  CHECK(check(a, "channel_density").verdict == Verdict::Fail);
}

TEST_CASE("a scan with no readable pixel makes both checks errors") {
  analysis::HeightMap map;
  map.rows = map.cols = 10;
  map.pitch_um = 20;
  map.height_um.assign(100, analysis::HeightMap::kNoData);
  const auto a = analysis::analyse_scan_only(map, analysis::RollerGeometry{}, dr192_limits());
  REQUIRE(a.checks.size() == 2);
  for (const auto& c : a.checks) CHECK(c.verdict == Verdict::Error);
}

TEST_CASE("the checks a scan cannot answer are listed with their reasons") {
  std::vector<std::string> ids = analysis::scan_only_check_ids();
  for (const auto& n : analysis::scan_only_not_applicable()) {
    ids.push_back(n.id);
    CHECK_FALSE(n.reason.empty());
  }
  std::sort(ids.begin(), ids.end());
  auto all = analysis::all_check_ids();
  std::sort(all.begin(), all.end());
  CHECK(ids == all);
}
