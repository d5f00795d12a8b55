// A lot's certificate names the analysis method that judged every counted run and the one of
// the bench that certified; runs judged by different methods are certified together only when
// asked, and the certificate says so; certificates signed before any of this still verify.
#include <sqlite3.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "bench/analysis/checks.hpp"
#include "bench/analysis/method.hpp"
#include "bench/lot/certification.hpp"
#include "bench/lot/lot_plan.hpp"
#include "bench/store/results_db.hpp"

namespace fs = std::filesystem;
using namespace derma;
using nlohmann::json;

namespace {

const fs::path kSourceDir = DERMA_SOURCE_DIR;
const fs::path kSpecFile = kSourceDir / "fixtures/specs/DR-192-0.50.yaml";
const fs::path kOldCertificates = kSourceDir / "fixtures/certificates/v6";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  INFO("reading " << path);
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A directory of its own, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("lot-methods-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// SQL on a SQLite store behind bench's back (the sqlite3 shell would do the same).
void exec_sql(const fs::path& db_file, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_file.c_str(), &db) == SQLITE_OK);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  INFO((message ? message : ""));
  sqlite3_free(message);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

std::unique_ptr<store::ResultsDb> open_store(const fs::path& db_file) {
  auto db = store::ResultsDb::open(db_file.string());
  INFO((db ? std::string() : db.error()));
  REQUIRE(db.has_value());
  return std::move(*db);
}

// A failed run of the full validation on a production rig, judged by `method`.
report::RunReport failed_report(const std::string& serial, int method) {
  report::RunReport r;
  r.verdict = report::RunVerdict::Fail;
  r.suite_name = "validate-DR-192-0.50";
  r.spec_model = "DR-192-0.50";
  r.roller_serial = serial;
  r.operator_name = "j.doe";
  r.started_at = "2026-12-01T10:00:00Z";
  r.finished_at = "2026-12-01T10:02:00Z";
  r.rig.rig_serial = "RIG-0042";
  r.rig.firmware_version = "dermarig-fw 2.4.1";
  r.rig.calibration_date = "2026-06-01";
  r.rig.calibration_due = "2099-06-01";
  r.rig.phantom_lot = "PF-2026-11-A";
  r.analysis_method = method;
  report::RollAnalysis roll;
  for (const std::string& id : analysis::all_check_ids()) {
    analysis::CheckResult c;
    c.id = id;
    c.verdict = id == "penetration_depth" ? analysis::Verdict::Fail : analysis::Verdict::Pass;
    c.value = 100;
    roll.analysis.checks.push_back(c);
  }
  r.rolls.push_back(roll);
  return r;
}

// A lot of two rollers, both sampled, their runs judged by the methods given.
void lot_of_two_rollers(store::ResultsDb& db, const std::string& lot, int first_method,
                        int second_method) {
  const std::string spec_text = read_file(kSpecFile);
  lot::LotPlanRequest plan;
  plan.lot = lot;
  plan.model = "DR-192-0.50";
  plan.spec_file = kSpecFile.string();
  plan.spec_text = spec_text;
  plan.lot_size = 2;
  plan.created_by = "qa.lead";
  auto planned = lot::plan_lot(db, plan);
  INFO((planned ? std::string() : planned.error()));
  REQUIRE(planned.has_value());
  REQUIRE(planned->sample_size == 2);
  REQUIRE(db.create_lot(*planned, "qa.lead", "test").has_value());
  const std::pair<std::string, int> rollers[] = {{"R-0001", first_method},
                                                 {"R-0002", second_method}};
  for (const auto& [serial, method] : rollers) {
    store::NewRun run;
    run.suite_name = "validate-DR-192-0.50";
    run.spec_model = "DR-192-0.50";
    run.roller_serial = serial;
    run.rig_address = "/dev/ttyACM0";
    run.lot = lot;
    auto id = db.create_run(run);
    REQUIRE(id.has_value());
    REQUIRE(db.set_state(*id, store::RunState::Running).has_value());
    REQUIRE(db.record_report(*id, failed_report(serial, method), spec_text).has_value());
  }
}

lot::CertifyRequest request(const TempDir& dir, const std::string& lot) {
  lot::CertifyRequest req;
  req.lot = lot;
  req.signer = "qa.lead";
  req.meaning = "released";
  req.key_file = (dir.path / "keys" / "qa.lead.ed25519").string();
  req.out_dir = (dir.path / "certs").string();
  req.origin = "test";
  return req;
}

bool mentions(const std::vector<std::string>& lines, const std::string& text) {
  for (const auto& line : lines)
    if (line.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("a lot judged by two analysis methods is certified only when allowed, and says so") {
  TempDir dir;
  const fs::path db_file = dir.path / "lots.db";
  auto db = open_store(db_file);
  lot_of_two_rollers(*db, "LOT-MIXED", 1, 2);  // sampled across an upgrade of the bench

  lot::CertifyRequest req = request(dir, "LOT-MIXED");
  auto refused = lot::certify(*db, req);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().refused);
  REQUIRE(refused.error().reasons.size() == 1);
  CHECK_THAT(refused.error().reasons[0],
             Catch::Contains("judged by more than one analysis method (method 1 judged 1 run "
                             "(1); method 2 judged 1 run (2))"));
  CHECK_FALSE(fs::exists(dir.path / "certs" / "CERT-LOT-MIXED.json"));

  req.allowed.mixed_analysis_methods = true;
  auto certified = lot::certify(*db, req);
  INFO((certified ? std::string() : certified.error().reasons.front()));
  REQUIRE(certified.has_value());
  const report::Certificate& c = certified->certificate;
  CHECK(c.decision == "rejected");
  REQUIRE_FALSE(c.reasons.empty());
  CHECK_THAT(c.reasons[0], Catch::StartsWith("Mixed analysis methods: the 2 sampled rollers were "
                                             "judged by method 1 (1 roller) and method 2 (1 "
                                             "roller), certified together as asked "
                                             "(--allow-mixed-methods)"));
  REQUIRE(c.rollers.size() == 2);
  CHECK(c.rollers[0].analysis_method == 1);
  CHECK(c.rollers[1].analysis_method == 2);
  CHECK(c.analysis_method == analysis::kAnalysisMethodVersion);

  // The signed record names them: every roller's, how many each judged, the bench's own.
  const json envelope = json::parse(read_file(certified->json_path));
  const json record = json::parse(envelope["record"].get<std::string>());
  CHECK(record["rollers"][0]["analysis_method"] == 1);
  CHECK(record["rollers"][1]["analysis_method"] == 2);
  CHECK(record["analysis_method"]["certifying_bench"] == analysis::kAnalysisMethodVersion);
  CHECK(record["analysis_method"]["mixed"] == true);
  CHECK(record["analysis_method"]["sampled_rollers"] ==
        json::parse(R"([{"version":1,"rollers":1},{"version":2,"rollers":1}])"));
  CHECK(record["reasons"][0].get<std::string>().starts_with("Mixed analysis methods"));

  const std::string html = read_file(certified->html_path);
  CHECK_THAT(html, Catch::Contains("Mixed analysis methods: the 2 sampled rollers were judged by "
                                   "method 1 (1 roller) and method 2 (1 roller)") &&
                       Catch::Contains("<dd>methods 1 and 2</dd>") &&
                       Catch::Contains("<dt>Analysis method</dt><dd>method " +
                                       std::to_string(analysis::kAnalysisMethodVersion)));

  auto verified = lot::verify(*db, certified->json_path);
  REQUIRE(verified.has_value());
  INFO((verified->problems.empty() ? std::string() : verified->problems.front()));
  CHECK(verified->problems.empty());
  CHECK(verified->analysis_method == analysis::kAnalysisMethodVersion);
  REQUIRE(verified->sampled_analysis_methods.size() == 2);
  CHECK(verified->sampled_analysis_methods[0].version == 1);

  // Relabelling a run's method behind bench's back (either way) changes its signed digest.
  db.reset();
  exec_sql(db_file, "UPDATE runs SET analysis_method = 2 WHERE id = 1");
  exec_sql(db_file, "UPDATE runs SET analysis_method = 1 WHERE id = 2");
  db = open_store(db_file);
  auto tampered = lot::verify(*db, certified->json_path);
  REQUIRE(tampered.has_value());
  CHECK(mentions(tampered->problems, "run 1 (roller R-0001): its database rows changed"));
  CHECK(mentions(tampered->problems, "run 2 (roller R-0002): its database rows changed"));
}

TEST_CASE("a lot judged by one analysis method names it for every roller, without a reason") {
  TempDir dir;
  auto db = open_store(dir.path / "lots.db");
  lot_of_two_rollers(*db, "LOT-ONE", 2, 2);
  auto certified = lot::certify(*db, request(dir, "LOT-ONE"));
  INFO((certified ? std::string() : certified.error().reasons.front()));
  REQUIRE(certified.has_value());
  const report::Certificate& c = certified->certificate;
  CHECK_FALSE(mentions(c.reasons, "analysis method"));
  REQUIRE(c.sampled_analysis_methods.size() == 1);
  CHECK(c.sampled_analysis_methods[0].version == 2);
  CHECK(c.sampled_analysis_methods[0].rollers == 2);
  CHECK_THAT(read_file(certified->html_path),
             Catch::Contains("<dt>Depths judged by</dt><dd>method 2</dd>"));
}

TEST_CASE("a certificate signed before certificates named the analysis method still verifies") {
  // fixtures/certificates/v6: a store of schema version 6 and its certificate, as a bench of
  // that version wrote them. Opened here, the store migrates to version 7 (its runs read as
  // method 1) and the certificate, whose record has no analysis method, verifies unchanged.
  TempDir dir;
  const fs::path db_file = dir.path / "lots-v6.db";
  exec_sql(db_file, read_file(kOldCertificates / "lots-v6.sql"));
  for (const char* file : {"CERT-LOT-V6.json", "CERT-LOT-V6.html", "CERT-LOT-V6.pdf"})
    fs::copy_file(kOldCertificates / file, dir.path / file);

  auto db = open_store(db_file);
  CHECK(db->schema_version() == 7);
  auto runs = db->runs_of_lot("LOT-V6");
  REQUIRE(runs.has_value());
  REQUIRE(runs->size() == 2);
  for (const auto& run : *runs) CHECK(run.analysis_method == 1);

  const json envelope = json::parse(read_file(dir.path / "CERT-LOT-V6.json"));
  const json record = json::parse(envelope["record"].get<std::string>());
  REQUIRE_FALSE(record.contains("analysis_method"));  // it is an old one

  auto verified = lot::verify(*db, (dir.path / "CERT-LOT-V6.json").string());
  REQUIRE(verified.has_value());
  INFO((verified->problems.empty() ? std::string() : verified->problems.front()));
  CHECK(verified->problems.empty());
  CHECK(
      mentions(verified->checked, "the database rows behind all 2 sampled rollers are unchanged"));
  CHECK(verified->analysis_method == 0);
  CHECK(verified->sampled_analysis_methods.empty());
  CHECK(verified->virtual_rig_rollers == 2);
}
