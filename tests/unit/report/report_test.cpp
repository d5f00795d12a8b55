#include <catch2/catch.hpp>

#include "bench/report/console_summary.hpp"
#include "bench/report/json_report.hpp"
#include "bench/report/junit_report.hpp"

using namespace derma;
using report::RunVerdict;

namespace {

analysis::CheckResult check(const std::string& id, analysis::Verdict verdict, double value) {
  analysis::CheckResult c;
  c.id = id;
  c.verdict = verdict;
  c.value = value;
  c.unit = "um";
  c.lower_limit = 260;
  c.upper_limit = 390;
  c.summary = id + " summary <&>";
  return c;
}

report::RunReport report_with(std::vector<analysis::CheckResult> checks) {
  report::RunReport r;
  r.suite_name = "validate-X";
  report::RollAnalysis roll;
  roll.analysis.checks = std::move(checks);
  r.rolls.push_back(std::move(roll));
  r.verdict = report::verdict_of_checks(r);
  return r;
}

}  // namespace

TEST_CASE("the run verdict follows the checks and maps to the documented exit codes") {
  using V = analysis::Verdict;
  CHECK(report_with({check("a", V::Pass, 1), check("b", V::Pass, 2)}).verdict == RunVerdict::Pass);
  CHECK(report_with({check("a", V::Pass, 1), check("b", V::Fail, 2)}).verdict == RunVerdict::Fail);
  CHECK(report_with({check("a", V::Error, 1), check("b", V::Pass, 2)}).verdict ==
        RunVerdict::Error);
  CHECK(report_with({check("a", V::Error, 1), check("b", V::Fail, 2)}).verdict == RunVerdict::Fail);
  CHECK(report_with({}).verdict == RunVerdict::Error);  // nothing judged is never a pass
  CHECK(report::exit_code_for(RunVerdict::Pass) == 0);
  CHECK(report::exit_code_for(RunVerdict::Fail) == 1);
  CHECK(report::exit_code_for(RunVerdict::Error) == 3);
  CHECK(report::exit_code_for(RunVerdict::Aborted) == 4);
}

TEST_CASE("a run stopped for bad input says exit 2 everywhere, as bench run exits") {
  report::RunReport r = report_with({});
  r.verdict = RunVerdict::Error;
  r.error = "virtual rig: rigsim: --scanner: line 1: unknown key 'scanner.noize_um'";
  CHECK(report::exit_code_for(r) == 3);  // an error of the rig
  r.bad_input = true;
  CHECK(report::exit_code_for(r) == 2);
  CHECK(report::to_json(r)["exit_code"] == 2);
  CHECK(report::console_summary(r).find("verdict: ERROR (exit 2)") != std::string::npos);
}

TEST_CASE(
    "report.json has the stable top level: verdict and checks with id, verdict, value, unit") {
  auto r = report_with({check("penetration_depth", analysis::Verdict::Fail, 250)});
  r.rolls[0].analysis.checks[0].findings.push_back({3, 7, "needle d3 i7: 250 um < 260 um"});
  const auto json = report::to_json(r);
  CHECK(json["verdict"] == "fail");
  CHECK(json["exit_code"] == 1);
  REQUIRE(json["checks"].size() == 1);
  CHECK(json["checks"][0]["id"] == "penetration_depth");
  CHECK(json["checks"][0]["verdict"] == "fail");
  CHECK(json["checks"][0]["value"] == 250);
  CHECK(json["checks"][0]["unit"] == "um");
  CHECK(json["checks"][0]["findings"][0]["needle"]["disc"] == 3);
}

TEST_CASE("a value that could not be computed is null in JSON, not NaN") {
  auto r = report_with({check("roll_slip", analysis::Verdict::Error, std::nan(""))});
  const auto json = report::to_json(r);
  CHECK(json["checks"][0]["value"].is_null());
  CHECK_NOTHROW(json.dump());
}

TEST_CASE("junit.xml marks failed checks as failures and unmeasurable ones as errors, escaped") {
  using V = analysis::Verdict;
  auto r = report_with({check("a", V::Pass, 1), check("b", V::Fail, 2), check("c", V::Error, 3)});
  const std::string xml = report::to_junit_xml(r);
  CHECK(xml.find("tests=\"3\" failures=\"1\" errors=\"1\"") != std::string::npos);
  CHECK(xml.find("<failure message=\"b summary &lt;&amp;&gt;\"") != std::string::npos);
  CHECK(xml.find("<error message=\"c summary") != std::string::npos);
  CHECK(xml.find("<&>") == std::string::npos);
}

TEST_CASE("a run that broke before any check still shows up in junit.xml as an error") {
  report::RunReport r;
  r.suite_name = "s";
  r.verdict = RunVerdict::Error;
  r.error = "rig error (disconnected): /dev/pts/9 went away";
  const std::string xml = report::to_junit_xml(r);
  CHECK(xml.find("tests=\"1\" failures=\"0\" errors=\"1\"") != std::string::npos);
  CHECK(xml.find("went away") != std::string::npos);
}

TEST_CASE("the console summary has one aligned row per check and the verdict") {
  using V = analysis::Verdict;
  auto r =
      report_with({check("penetration_depth", V::Pass, 325.04), check("roll_slip", V::Fail, 5.1)});
  const std::string text = report::console_summary(r);
  CHECK(text.find("penetration_depth    PASS") != std::string::npos);
  CHECK(text.find("roll_slip            FAIL") != std::string::npos);
  CHECK(text.find("[260.0, 390.0]") != std::string::npos);
  CHECK(text.find("verdict: FAIL (exit 1)") != std::string::npos);
}
