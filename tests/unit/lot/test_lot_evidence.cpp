#include <catch2/catch.hpp>

#include "bench/analysis/method.hpp"
#include "bench/analysis/statistics.hpp"
#include "bench/lot/lot_evidence.hpp"

using namespace derma;
using namespace derma::lot;

namespace {

const std::string kSpecText = "model: DR-192-0.50\n";
// run_record_digest of the first test case's row as bench computed it before runs named their
// analysis method (the canonical text without the field, computed as the digests a bench of
// schema version 6 signed in fixtures/certificates/v6 are).
const std::string kDigestBeforeMethods =
    "286edb9c43100c2dda3ac630878ffc79386fb9a1e8e5f2bff0bb64de56187d33";
const std::string kSpecSha = store::sha256_hex(kSpecText);

store::RunRow passed_run(std::int64_t id, const std::string& serial) {
  store::RunRow r;
  r.id = id;
  r.state = store::RunState::Passed;
  r.verdict = "pass";
  r.roller_serial = serial;
  r.spec_sha256 = kSpecSha;
  r.rig_serial = "RIG-1";
  r.calibration_due = "2027-06-30";
  r.finished_at = "2026-11-20T10:00:00Z";
  return r;
}

CountedRoller roller_with_depths(std::int64_t id, std::initializer_list<double> depths_um) {
  CountedRoller r;
  r.run = passed_run(id, "R-" + std::to_string(id));
  r.conforming = true;
  int needle = 0;
  for (double d : depths_um) {
    store::MeasurementRow m;
    m.run_id = id;
    m.check_id = "penetration_depth";
    m.name = "needle_mean_depth";
    m.value = d;
    m.disc = 0;
    m.needle = needle++;
    r.measurements.push_back(m);
  }
  return r;
}

LotEvidence evidence_of(int sample_size, int ac, int re) {
  LotEvidence ev;
  ev.lot.lot = "LOT-1";
  ev.lot.spec_sha256 = kSpecSha;
  ev.lot.spec_file = "specs/DR.yaml";
  ev.lot.state = "open";
  ev.lot.sample_size = sample_size;
  ev.lot.accept_number = ac;
  ev.lot.reject_number = re;
  return ev;
}

}  // namespace

TEST_CASE("a run's record digest changes with its verdict, a check's value or a measurement") {
  store::RunRow run = passed_run(7, "R-7");
  std::vector<store::CheckRow> checks(1);
  checks[0].run_id = 7;
  checks[0].id = "penetration_depth";
  checks[0].verdict = "pass";
  checks[0].value = 320.0;
  std::vector<store::MeasurementRow> measurements(1);
  measurements[0].name = "needle_mean_depth";
  measurements[0].value = 321.5;

  const std::string digest = run_record_digest(run, checks, measurements);
  CHECK(digest.size() == 64);
  CHECK(run_record_digest(run, checks, measurements) == digest);
  // Pinned: a row judged by method 1 has the digest it had before runs named their method
  // (schema version 7), so the certificates signed then still verify.
  REQUIRE(run.analysis_method == analysis::kUnversionedAnalysisMethod);
  CHECK(digest == kDigestBeforeMethods);

  store::RunRow verdict = run;
  verdict.verdict = "fail";
  CHECK(run_record_digest(verdict, checks, measurements) != digest);
  auto value = checks;
  value[0].value = 320.5;
  CHECK(run_record_digest(run, value, measurements) != digest);
  auto depth = measurements;
  depth[0].value = 330.0;
  CHECK(run_record_digest(run, checks, depth) != digest);
  // The analysis method that judged it is part of it, either way.
  store::RunRow method_2 = run;
  method_2.analysis_method = 2;
  const std::string digest_2 = run_record_digest(method_2, checks, measurements);
  CHECK(digest_2 != digest);
  store::RunRow method_3 = run;
  method_3.analysis_method = 3;
  CHECK(run_record_digest(method_3, checks, measurements) != digest_2);
  CHECK(run_record_digest(method_3, checks, measurements) != digest);
  // Bookkeeping that may legitimately move (where the files went) is not part of it.
  store::RunRow moved = run;
  moved.out_dir = "/elsewhere";
  CHECK(run_record_digest(moved, checks, measurements) == digest);
}

TEST_CASE("depth capability counts alike rollers' needles as nearly independent") {
  analysis::SpecLimits limits;
  limits.depth_lsl_um = 260;
  limits.depth_usl_um = 390;
  limits.depth_min_cpk = 1.33;
  // Five rollers with the same spread around the same mean: no between-roller variance.
  std::vector<CountedRoller> rollers;
  for (int i = 0; i < 5; ++i)
    rollers.push_back(roller_with_depths(i + 1, {320, 322, 318, 321, 319, 320}));
  const auto cap = depth_capability(rollers, limits);
  CHECK(cap.values == 30);
  CHECK(cap.rollers == 5);
  CHECK(cap.icc == Approx(0).margin(1e-12));
  CHECK(cap.effective_n == Approx(30));
  REQUIRE(cap.cpk_lcb95.has_value());
  CHECK(*cap.cpk_lcb95 == Approx(*analysis::cpk_lower_bound(*cap.cpk, 30)));
}

TEST_CASE("depth capability of rollers that differ rests on about one value per roller") {
  analysis::SpecLimits limits;
  limits.depth_lsl_um = 260;
  limits.depth_usl_um = 390;
  std::vector<CountedRoller> rollers;
  for (int i = 0; i < 5; ++i) {
    const double offset = 10.0 * i;  // each roller reaches its own depth
    rollers.push_back(roller_with_depths(
        i + 1, {300 + offset, 300.5 + offset, 299.5 + offset, 300.2 + offset, 299.8 + offset}));
  }
  const auto cap = depth_capability(rollers, limits);
  CHECK(cap.icc > 0.99);
  CHECK(cap.effective_n < 5.2);
  CHECK(cap.effective_n >= 5.0);
  REQUIRE(cap.cpk_lcb95.has_value());
  CHECK(*cap.cpk_lcb95 < *analysis::cpk_lower_bound(*cap.cpk, 25));
}

TEST_CASE("one roller gives a capability index but no confidence bound") {
  analysis::SpecLimits limits;
  limits.depth_lsl_um = 260;
  limits.depth_usl_um = 390;
  const auto cap = depth_capability({roller_with_depths(1, {320, 321, 319})}, limits);
  CHECK(cap.cpk.has_value());
  CHECK_FALSE(cap.cpk_lcb95.has_value());
  CHECK_FALSE(cap.meets);
}

TEST_CASE("a lot is refused while a run is pending, the sample is short or the spec moved") {
  LotEvidence ev = evidence_of(3, 0, 1);
  ev.counted.push_back(roller_with_depths(1, {320, 321}));
  store::RunRow running = passed_run(2, "R-2");
  running.state = store::RunState::Running;
  ev.pending.push_back(running);
  ev.counted[0].run.spec_sha256 = "spec-b";

  const auto why = refusals(ev, "2026-11-26", kSpecText);
  auto mentions = [&](const std::string& text) {
    for (const auto& w : why)
      if (w.find(text) != std::string::npos) return true;
    return false;
  };
  CHECK(mentions("run 2 (roller R-2) is running, not final"));
  CHECK(mentions("the sample is incomplete: 1 of 3"));
  CHECK(mentions("the spec changed during the lot: run 1"));
}

TEST_CASE("a lot is refused when a rig's calibration is past due, not before") {
  LotEvidence ev = evidence_of(1, 0, 1);
  ev.counted.push_back(roller_with_depths(1, {320, 321}));
  ev.counted[0].run.calibration_due = "2026-11-30";
  CHECK(refusals(ev, "2026-11-30", kSpecText).empty());
  const auto late = refusals(ev, "2026-12-01", kSpecText);
  REQUIRE(late.size() == 1);
  CHECK_THAT(late[0], Catch::Contains("rig RIG-1") && Catch::Contains("past due (due 2026-11-30)"));

  ev.counted[0].run.finished_at = "2026-12-02T08:00:00Z";
  const auto ran_late = refusals(ev, "2026-11-30", kSpecText);
  REQUIRE(ran_late.size() == 1);
  CHECK_THAT(ran_late[0], Catch::Contains("after its calibration was due"));
}

TEST_CASE("a lot reaching Re is rejected before its sample is complete; Ac accepts it") {
  LotEvidence ev = evidence_of(5, 1, 2);
  for (int i = 0; i < 2; ++i) {
    ev.counted.push_back(roller_with_depths(i + 1, {320, 321}));
    ev.counted.back().conforming = false;
  }
  ev.nonconforming = 2;
  CHECK(refusals(ev, "2026-11-26", kSpecText).empty());
  CHECK_FALSE(decide(ev).accepted);
  CHECK_THAT(decide(ev).reasons.front(), Catch::Contains("reach the rejection number Re 2"));

  analysis::SpecLimits limits;
  limits.depth_lsl_um = 260;
  limits.depth_usl_um = 390;
  limits.depth_min_cpk = 1.33;
  LotEvidence good = evidence_of(4, 0, 1);
  for (int i = 0; i < 4; ++i)
    good.counted.push_back(roller_with_depths(i + 1, {320, 321, 319, 322, 318, 320}));
  good.capability = depth_capability(good.counted, limits);
  CHECK(decide(good).accepted);

  // The same rollers against limits they barely fit: capability rejects what Ac accepts.
  limits.depth_lsl_um = 314;
  limits.depth_usl_um = 326;
  good.capability = depth_capability(good.counted, limits);
  const LotDecision tight = decide(good);
  CHECK_FALSE(tight.accepted);
  CHECK_THAT(tight.reasons.back(), Catch::Contains("is below the spec's minimum 1.33"));
}

TEST_CASE("two rollers cannot show that their needles are independent") {
  analysis::SpecLimits limits;
  limits.depth_lsl_um = 260;
  limits.depth_usl_um = 390;
  // Two rollers, the same spread inside each, means a little apart: the ICC's point estimate
  // is near 0, but two rollers bound it only loosely, so n_eff stays small.
  const auto cap = depth_capability({roller_with_depths(1, {320, 322, 318, 321, 319, 320}),
                                     roller_with_depths(2, {321, 323, 319, 322, 320, 321})},
                                    limits);
  CHECK(cap.effective_n < 6);
  CHECK(cap.effective_n >= 2);
}

TEST_CASE("a pass without the full validation, or a roller left without a verdict, blocks") {
  LotEvidence ev = evidence_of(2, 0, 1);
  ev.counted.push_back(roller_with_depths(1, {320, 321}));
  ev.counted.back().missing_checks = {"missing_channels"};
  ev.counted.back().run.suite_name = "quick-DR-192-0.50";
  store::RunRow stopped = passed_run(5, "R-9");
  stopped.state = store::RunState::Aborted;
  ev.inconclusive.push_back(stopped);
  store::RunRow no_serial = passed_run(6, "");
  ev.counted.push_back(roller_with_depths(6, {320, 321}));
  ev.counted.back().run = no_serial;

  const auto why = refusals(ev, "2026-11-26", kSpecText);
  auto mentions = [&](const std::string& text) {
    for (const auto& w : why)
      if (w.find(text) != std::string::npos) return true;
    return false;
  };
  CHECK(mentions("passed suite 'quick-DR-192-0.50' without the checks missing_channels"));
  CHECK(mentions("roller R-9 has no conclusive run"));
  CHECK(mentions("names no roller serial"));
  CHECK(refusals(ev, "2026-11-26", std::nullopt).size() == why.size() + 1);
}

TEST_CASE("runs on the virtual rig cannot release a lot unless a demonstration is asked for") {
  LotEvidence ev = evidence_of(2, 0, 1);
  ev.counted.push_back(roller_with_depths(1, {320, 321}));
  ev.counted.push_back(roller_with_depths(2, {320, 322}));
  ev.counted[0].run.firmware_version = "dermarig-fw 2.4.1";
  CHECK_FALSE(ran_on_virtual_rig(ev.counted[0].run));
  CHECK(refusals(ev, "2026-11-26", kSpecText).empty());

  ev.counted[1].run.firmware_version = "rigsim 0.1.0";
  ev.counted[1].run.rig_serial = "RIGSIM-01";
  CHECK(ran_on_virtual_rig(ev.counted[1].run));
  const auto why = refusals(ev, "2026-11-26", kSpecText);
  REQUIRE(why.size() == 1);
  CHECK_THAT(why[0], Catch::Contains("1 of the 2 counted runs were made on the virtual rig "
                                     "RIGSIM-01 (rigsim 0.1.0)") &&
                         Catch::Contains("cannot release a production lot") &&
                         Catch::Contains("--allow-virtual-rig"));
  CHECK(refusals(ev, "2026-11-26", kSpecText, {.virtual_rig = true}).empty());
}

TEST_CASE("runs judged by more than one analysis method are refused unless allowed") {
  LotEvidence ev = evidence_of(3, 0, 1);
  for (int i = 0; i < 3; ++i) ev.counted.push_back(roller_with_depths(i + 1, {320, 321}));
  ev.counted[0].run.analysis_method = 2;
  ev.counted[1].run.analysis_method = 2;
  ev.counted[2].run.analysis_method = 2;
  CHECK(refusals(ev, "2026-11-26", kSpecText).empty());
  CHECK(analysis_method_counts(ev.counted).size() == 1);

  // One roller judged by the method before: a lot sampled across an upgrade of the bench.
  ev.counted[1].run.analysis_method = 1;
  const auto methods = runs_by_analysis_method(ev.counted);
  REQUIRE(methods.size() == 2);
  CHECK(methods.at(1) == std::vector<std::int64_t>{2});
  CHECK(methods.at(2) == std::vector<std::int64_t>{1, 3});
  const auto counts = analysis_method_counts(ev.counted);
  REQUIRE(counts.size() == 2);
  CHECK((counts[0].version == 1 && counts[0].rollers == 1));
  CHECK((counts[1].version == 2 && counts[1].rollers == 2));

  const auto why = refusals(ev, "2026-11-26", kSpecText);
  REQUIRE(why.size() == 1);
  CHECK_THAT(why[0], Catch::Contains("the 3 counted runs were judged by more than one analysis "
                                     "method (method 1 judged 1 run (2); method 2 judged 2 runs "
                                     "(1, 3))") &&
                         Catch::Contains("--allow-mixed-methods"));
  CHECK(refusals(ev, "2026-11-26", kSpecText, {.mixed_analysis_methods = true}).empty());
  // Allowing the virtual rig allows nothing else.
  CHECK(refusals(ev, "2026-11-26", kSpecText, {.virtual_rig = true}).size() == 1);

  const auto json = analysis_methods_json(2, counts);
  CHECK(json.dump() ==
        R"({"certifying_bench":2,"mixed":true,"sampled_rollers":[{"rollers":1,"version":1},)"
        R"({"rollers":2,"version":2}]})");
}
