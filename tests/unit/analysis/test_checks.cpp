#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "bench/analysis/checks.hpp"
#include "synthetic.hpp"

using namespace derma::analysis;
using namespace derma::analysis::testing;

namespace {

// A roll and its scan made from one set of options, analysed with typical DR-192 limits.
struct Bench {
  RollOptions roll;
  MapOptions map = map_for(roll);
  double nominal_depth_um = 350;
  double length_sd_um = 5;  // per-needle spread, as real needles have
  DepthModel depth_shape;   // added to the nominal depth when set
  std::set<std::pair<int, int>> missing;
  std::map<std::pair<int, int>, double> depth_override;
  SpecLimits limits;

  Bench() {
    // 70 mm is more than a turn of the 62.8 mm circumference: every needle punctures. An
    // encoder offset keeps punctures off the rolled track's very ends, where a channel
    // centre on the boundary would count or not by a micrometre.
    roll.stroke_um = 70000;
    roll.start_counts = 100;
    map = map_for(roll);
    limits.depth_lsl_um = 300;
    limits.depth_usl_um = 400;
    const double nominal = roll.geometry.nominal_density_per_cm2();
    limits.density_min_per_cm2 = 0.85 * nominal;
    limits.density_max_per_cm2 = 1.15 * nominal;
  }

  std::vector<Pit> pits() const {
    // A fixed length per needle, like a real roller: the same needle is equally long on
    // every turn.
    std::mt19937 rng(99);
    std::normal_distribution<double> spread(0, length_sd_um);
    std::map<std::pair<int, int>, double> length;
    for (int d = 0; d < roll.geometry.discs; ++d)
      for (int i = 0; i < roll.geometry.needles_per_disc; ++i) length[{d, i}] = spread(rng);
    auto depth = [&](int d, int i, double phi, double y_mm) {
      if (auto it = depth_override.find({d, i}); it != depth_override.end()) return it->second;
      return nominal_depth_um + length[{d, i}] + (depth_shape ? depth_shape(d, i, phi, y_mm) : 0.0);
    };
    std::vector<Pit> out;
    for (const Pit& p : lattice_pits(roll, depth))
      if (!missing.count({p.disc, p.index})) out.push_back(p);
    return out;
  }

  RollRecord roll_record() const { return make_roll(roll); }
  ScanRecord scan_record() const {
    ScanRecord scan;
    scan.map = make_map(map, pits());
    scan.scan_delay_s = 60;
    return scan;
  }

  Analysis run(const std::vector<std::string>& ids = all_check_ids()) const {
    return analyse_roll(roll_record(), scan_record(), roll.geometry, limits, ids);
  }
};

const CheckResult& check(const Analysis& a, const std::string& id) {
  const auto it =
      std::find_if(a.checks.begin(), a.checks.end(), [&](auto& c) { return c.id == id; });
  REQUIRE(it != a.checks.end());
  return *it;
}

double figure(const CheckResult& c, const std::string& name) {
  for (const auto& f : c.figures)
    if (f.name == name) return f.value;
  FAIL("no figure " << name << " in " << c.id);
  return 0;
}

bool names_needle(const CheckResult& c, int disc, int index) {
  return std::any_of(c.findings.begin(), c.findings.end(),
                     [&](const Finding& f) { return f.disc == disc && f.index == index; });
}

}  // namespace

TEST_CASE("a nominal roller passes every check with figures near the truth") {
  const Bench bench;
  const Analysis a = bench.run();
  REQUIRE(a.checks.size() == all_check_ids().size());
  for (const auto& c : a.checks) {
    INFO(c.id << ": " << c.summary);
    CHECK(c.verdict == Verdict::Pass);
  }
  // 20 um pixels miss up to 9 um of a 350 um Gaussian pit's bottom (3-5 um on average), which
  // the bounded floor does not make up (docs/measurement.md).
  CHECK(check(a, "penetration_depth").value == Approx(346).margin(3));
  CHECK(check(a, "penetration_depth").unit == "um");
  CHECK(figure(check(a, "penetration_depth"), "cpk") > 1.33);
  const double nominal = bench.roll.geometry.nominal_density_per_cm2();
  CHECK(nominal == Approx(15.28).margin(0.01));
  CHECK(check(a, "channel_density").value == Approx(nominal).epsilon(0.08));
  CHECK(check(a, "missing_channels").value == 0);
  CHECK(figure(check(a, "missing_channels"), "unexpected_channels") == 0);
  CHECK(check(a, "force_consistency").value == Approx(0.5).margin(0.1));
  CHECK(std::abs(check(a, "roll_slip").value) < 0.2);
  CHECK(check(a, "depth_uniformity").value < 3);
  // Every channel was matched to the needle that made it.
  const auto pits = bench.pits();
  CHECK(a.channels.size() == pits.size());
  CHECK(std::all_of(a.channels.begin(), a.channels.end(),
                    [](auto& c) { return c.disc.has_value(); }));
}

TEST_CASE("the channel count over the rolled area is exactly the punctures made there") {
  const Bench bench;
  const Analysis a = bench.run({"channel_density"});
  const auto& density = check(a, "channel_density");
  std::size_t expected = 0;
  for (const Pit& p : bench.pits())
    if (p.x_um >= bench.roll.start_x_um && p.x_um <= bench.roll.start_x_um + bench.roll.stroke_um)
      ++expected;
  CHECK(figure(density, "channels") == double(expected));
  CHECK(figure(density, "area") == Approx(7.0 * 1.998).epsilon(0.01));  // 70 mm x 19.98 mm scanned
}

TEST_CASE("a missing needle is reported as that needle") {
  Bench bench;
  bench.missing = {{3, 7}};
  const Analysis a = bench.run();
  const auto& missing = check(a, "missing_channels");
  CHECK(missing.verdict == Verdict::Fail);
  CHECK(missing.value == 1);
  REQUIRE(missing.findings.size() == 1);
  CHECK(names_needle(missing, 3, 7));
  CHECK_THAT(missing.findings[0].text, Catch::StartsWith("needle d3 i7: no channel"));
  CHECK(check(a, "penetration_depth").verdict == Verdict::Pass);
}

TEST_CASE("a shallow needle fails penetration depth naming the needle") {
  Bench bench;
  bench.depth_override[{5, 12}] = 200;
  const Analysis a = bench.run({"penetration_depth", "missing_channels"});
  const auto& depth = check(a, "penetration_depth");
  CHECK(depth.verdict == Verdict::Fail);
  CHECK(names_needle(depth, 5, 12));
  std::size_t naming = 0;
  for (const auto& f : depth.findings) {
    if (!f.disc) continue;  // the capability finding the outlier also causes
    ++naming;
    CHECK(*f.disc == 5);
    CHECK(*f.index == 12);
    CHECK_THAT(f.text, Catch::Contains("needle d5 i12: depth 19"));
    CHECK_THAT(f.text, Catch::Contains("below LSL 300.0"));
  }
  CHECK(naming >= 1);
  CHECK(check(a, "missing_channels").verdict == Verdict::Pass);
}

TEST_CASE("runout and tilt are measured within 10 % and fail their limits") {
  Bench bench;
  const double runout = 40, phase = 1.0, tilt = 3.0, half_width = bench.roll.geometry.width_mm / 2;
  bench.depth_shape = [=](int, int, double phi, double y_mm) {
    return runout * std::cos(phi - phase) + tilt * (y_mm - half_width);
  };
  const Analysis a = bench.run({"depth_uniformity"});
  const auto& u = check(a, "depth_uniformity");
  CHECK(u.verdict == Verdict::Fail);
  CHECK(u.value == Approx(runout).epsilon(0.1));
  CHECK(figure(u, "tilt") == Approx(tilt).epsilon(0.1));
  CHECK(figure(u, "runout_phase") == Approx(phase * 180 / M_PI).margin(5));
  REQUIRE(u.findings.size() == 2);
  CHECK_THAT(u.findings[0].text, Catch::StartsWith("runout"));
  CHECK_THAT(u.findings[1].text, Catch::StartsWith("tilt"));
}

TEST_CASE("slip between drum and carriage is measured and fails its limit") {
  Bench bench;
  bench.roll.slip_fraction = 0.05;
  const Analysis a = bench.run();
  const auto& slip = check(a, "roll_slip");
  CHECK(slip.verdict == Verdict::Fail);
  CHECK(slip.value == Approx(5.0).margin(0.2));
  CHECK(slip.upper_limit == 2.0);
  // The lattice follows the encoder, so a slipping drum's channels are still all found.
  CHECK(check(a, "missing_channels").value == 0);
}

TEST_CASE("a noisy force fails force consistency, a drifting one names the drift") {
  Bench bench;
  SECTION("20 % noise") {
    bench.roll.force_noise_fraction = 0.20;
    const Analysis a = bench.run({"force_consistency"});
    const auto& force = check(a, "force_consistency");
    CHECK(force.verdict == Verdict::Fail);
    CHECK(force.value == Approx(20).epsilon(0.15));
    CHECK_THAT(force.findings.at(0).text, Catch::StartsWith("force CV"));
  }
  SECTION("10 % drift") {
    bench.roll.force_drift_fraction = 0.10;
    const Analysis a = bench.run({"force_consistency"});
    const auto& force = check(a, "force_consistency");
    CHECK(force.verdict == Verdict::Fail);
    CHECK(figure(force, "drift") > 3);
    REQUIRE(force.findings.size() == 1);
    CHECK_THAT(force.findings[0].text, Catch::StartsWith("force drift"));
  }
}

TEST_CASE("a roll that never holds its set speed has no steady stroke: Error") {
  Bench bench;
  RollRecord roll = bench.roll_record();
  roll.settings.speed_um_per_s *= 2;
  const Analysis a = analyse_roll(roll, bench.scan_record(), bench.roll.geometry, bench.limits,
                                  {"force_consistency", "roll_slip"});
  for (const auto& c : a.checks) {
    CHECK(c.verdict == Verdict::Error);
    CHECK_THAT(c.summary, Catch::Contains("no steady stroke"));
  }
}

TEST_CASE("data with gaps, or a late scan, is an Error and never a pass") {
  const Bench bench;
  RollRecord roll = bench.roll_record();
  ScanRecord scan = bench.scan_record();
  SECTION("lost roll batches affect every check") {
    roll.lost_batches = 2;
    const Analysis a = analyse_roll(roll, scan, bench.roll.geometry, bench.limits, all_check_ids());
    for (const auto& c : a.checks) {
      INFO(c.id);
      CHECK(c.verdict == Verdict::Error);
      CHECK_THAT(c.summary, Catch::Contains("roll lost 2 sample batches"));
    }
  }
  SECTION("lost scan chunks affect the checks that read the scan") {
    scan.lost_chunks = 1;
    const Analysis a = analyse_roll(roll, scan, bench.roll.geometry, bench.limits, all_check_ids());
    for (const auto& c : a.checks) {
      INFO(c.id);
      const bool roll_only = c.id == "force_consistency" || c.id == "roll_slip";
      CHECK(c.verdict == (roll_only ? Verdict::Pass : Verdict::Error));
    }
  }
  SECTION("pixels that never arrived (a scan cut short) affect the checks that read the scan") {
    scan.pixels_missing = 1000;
    const Analysis a = analyse_roll(roll, scan, bench.roll.geometry, bench.limits, all_check_ids());
    for (const auto& c : a.checks) {
      INFO(c.id);
      const bool roll_only = c.id == "force_consistency" || c.id == "roll_slip";
      CHECK(c.verdict == (roll_only ? Verdict::Pass : Verdict::Error));
      if (!roll_only) CHECK_THAT(c.summary, Catch::Contains("1000 pixels"));
    }
  }
  SECTION("a frozen load cell is an Error, not a perfectly steady force") {
    const std::size_t from = roll.samples.size() / 3;
    const std::size_t to = GENERATE(std::size_t{8}, std::size_t{400});
    for (std::size_t i = from; i < from + to; ++i)
      roll.samples[i].force_mN = roll.samples[from].force_mN;
    const Analysis a =
        analyse_roll(roll, scan, bench.roll.geometry, bench.limits, {"force_consistency"});
    CHECK(a.checks[0].verdict == Verdict::Error);
    CHECK_THAT(a.checks[0].summary, Catch::Contains("frozen"));
  }
  SECTION("a load cell saturated at lift-off, outside the steady stroke, is an Error") {
    roll.samples.back().force_saturated = true;
    const Analysis a =
        analyse_roll(roll, scan, bench.roll.geometry, bench.limits, {"force_consistency"});
    CHECK(a.checks[0].verdict == Verdict::Error);
    CHECK_THAT(a.checks[0].summary, Catch::Contains("saturated"));
  }
  SECTION("a scan taken after the channels recovered") {
    scan.scan_delay_s = 3600;
    const Analysis a =
        analyse_roll(roll, scan, bench.roll.geometry, bench.limits, {"penetration_depth"});
    CHECK(a.checks[0].verdict == Verdict::Error);
    CHECK(a.checks[0].value == Approx(346).margin(3));  // measured, but not to be trusted
    CHECK_THAT(a.checks[0].summary, Catch::Contains("3600 s after the roll"));
  }
}

TEST_CASE("an unknown check id is an Error naming it") {
  const Bench bench;
  const Analysis a = bench.run({"roll_slip", "needle_colour"});
  REQUIRE(a.checks.size() == 2);
  CHECK(a.checks[1].id == "needle_colour");
  CHECK(a.checks[1].verdict == Verdict::Error);
  CHECK_THAT(a.checks[1].summary, Catch::Contains("unknown check id 'needle_colour'"));
}

TEST_CASE("a phantom without channels: depth cannot be measured, every needle is missing") {
  const Bench bench;
  ScanRecord scan;
  scan.map = make_map(bench.map, {});
  const Analysis a =
      analyse_roll(bench.roll_record(), scan, bench.roll.geometry, bench.limits, all_check_ids());
  CHECK(check(a, "penetration_depth").verdict == Verdict::Error);
  CHECK(check(a, "depth_uniformity").verdict == Verdict::Error);
  CHECK(check(a, "missing_channels").verdict == Verdict::Fail);
  CHECK(check(a, "missing_channels").value == bench.roll.geometry.needle_count());
  CHECK(check(a, "channel_density").verdict == Verdict::Fail);
  CHECK(check(a, "channel_density").value == 0);
}

TEST_CASE("a scan wider than the lane and cut across the roll is handled") {
  Bench bench;
  // The scan starts 10 mm into the roll, 40 um past a channel's centre (cutting it), and
  // reads 2 mm either side of the 20 mm lane, where it finds no phantom.
  const auto pits = bench.pits();
  const auto cut = std::find_if(pits.begin(), pits.end(), [&](const Pit& p) {
    return p.x_um > bench.roll.start_x_um + 10000;
  });
  REQUIRE(cut != pits.end());
  bench.map.x0_um = cut->x_um + 40;
  bench.map.y0_um = -2000;
  bench.map.cols = 1200;
  ScanRecord scan = bench.scan_record();
  for (int r = 0; r < scan.map.rows; ++r)
    for (int c = 0; c < scan.map.cols; ++c)
      if (scan.map.y_um(c) < 0 || scan.map.y_um(c) >= 20000)
        scan.map.height_um[std::size_t(r) * scan.map.cols + c] = HeightMap::kNoData;
  const Analysis a =
      analyse_roll(bench.roll_record(), scan, bench.roll.geometry, bench.limits, all_check_ids());
  for (const auto& c : a.checks) {
    INFO(c.id << ": " << c.summary);
    if (c.id != "missing_channels") CHECK(c.verdict == Verdict::Pass);
  }
  // The window misses part of the revolution, so not every needle can be judged: no
  // verdict on missing needles, though none of the needles it saw is missing.
  const auto& missing = check(a, "missing_channels");
  CHECK(missing.verdict == Verdict::Error);
  CHECK_THAT(missing.summary, Catch::Contains("drum circumference"));
  CHECK(missing.value == 0);
  const auto partial =
      std::count_if(a.channels.begin(), a.channels.end(), [](auto& c) { return c.partial(); });
  CHECK(partial > 0);  // channels cut by the scan's first row
  CHECK(check(a, "channel_density").value ==
        Approx(bench.roll.geometry.nominal_density_per_cm2()).epsilon(0.12));
}

TEST_CASE("penetration depth gives the depth distribution per disc and per needle") {
  Bench bench;
  bench.depth_override[{5, 12}] = 320;  // within limits, 30 um shallower than the rest
  const Analysis a = bench.run({"penetration_depth"});
  const auto& depth = check(a, "penetration_depth");
  REQUIRE(depth.per_disc.size() == 8);
  REQUIRE(depth.per_needle.size() == 8 * 24);
  std::size_t channels = 0;
  for (const auto& g : depth.per_disc) {
    CHECK_FALSE(g.index);
    CHECK(g.mean == Approx(347).margin(8));  // 3 um of sampling loss, as above
    CHECK(g.min <= g.mean);
    CHECK(g.max >= g.mean);
    channels += g.n;
  }
  CHECK(double(channels) == figure(depth, "n"));
  const auto weak = std::find_if(depth.per_needle.begin(), depth.per_needle.end(),
                                 [](auto& g) { return g.disc == 5 && g.index == 12; });
  REQUIRE(weak != depth.per_needle.end());
  CHECK(weak->n >= 1);
  // Never deeper than the truth by more than the noise; shallower by at most what 20 um
  // pixels miss of the pit's bottom (9 um at 320 um).
  CHECK(weak->mean <= 320 + 1.5);
  CHECK(weak->mean >= 320 - 9.5);
  // The lower bound of Cpk sits below the point estimate.
  CHECK(figure(depth, "cpk_lcb95") < figure(depth, "cpk"));
}

TEST_CASE("a scan over part of the revolution cannot judge missing needles: Error naming it") {
  Bench bench;
  // 25 mm of the 62.8 mm circumference scanned: most needles printed outside the window,
  // so a missing one there would go unseen. The check must not pass such a roller.
  bench.missing = {{3, 7}};
  bench.map.x0_um = bench.roll.start_x_um + 10000;
  bench.map.rows = 25000 / 20;
  const Analysis a = bench.run({"missing_channels"});
  const auto& missing = check(a, "missing_channels");
  INFO(missing.summary);
  CHECK(missing.verdict == Verdict::Error);
  const double judged = figure(missing, "needles_judged");
  CHECK(judged > 0);
  CHECK(judged < bench.roll.geometry.needle_count());
  CHECK(figure(missing, "needles") == bench.roll.geometry.needle_count());
  CHECK_THAT(missing.summary, Catch::Contains(std::to_string(int(judged)) + " of 192 needles"));
  CHECK_THAT(missing.summary, Catch::Contains("at least one drum circumference (pi*D = 62.8 mm)"));
}

TEST_CASE("a scan over a full revolution judges every needle of the roller") {
  const Bench bench;  // 70 mm rolled and scanned, more than the 62.8 mm circumference
  const Analysis a = bench.run({"missing_channels"});
  const auto& missing = check(a, "missing_channels");
  CHECK(missing.verdict == Verdict::Pass);
  CHECK(figure(missing, "needles_judged") == bench.roll.geometry.needle_count());
}
