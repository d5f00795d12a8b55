// Which analysis method judged a run (schema version 7, runs.analysis_method): recorded from
// the report, read back with the run, and 1 for the runs of a store written before the
// version existed.
#include <catch2/catch.hpp>
#include <string>

#include "bench/analysis/method.hpp"
#include "bench/store/schema.hpp"
#include "tests/unit/store/store_test_support.hpp"

using namespace derma;
using namespace derma::store;
using namespace store_test;

namespace {

// A store as a bench of schema version 6 left it: the migrations up to 6 applied as they
// shipped, the version recorded as each engine keeps it.
void make_version_6_store(const TestStore& store) {
  RawSql raw(store);
  const auto migrations = schema_migrations();
  REQUIRE(migrations.size() >= 7);
  for (std::size_t i = 0; i < 6; ++i) {
    const char* sql = store.sqlite() ? migrations[i].sqlite : migrations[i].postgresql;
    INFO("migration to version " << i + 1);
    REQUIRE(raw.exec(sql) == "");
  }
  REQUIRE(raw.exec(store.sqlite()
                       ? "PRAGMA user_version = 6"
                       : "CREATE TABLE schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), "
                         "version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1, 6)") ==
          "");
  // Two runs as version 6 recorded them: one judged, one still queued.
  REQUIRE(
      raw.exec("INSERT INTO specs (sha256, model, text) VALUES ('s6', 'DR-192-0.50', 'spec')") ==
      "");
  REQUIRE(raw.exec("INSERT INTO runs (state, spec_model, spec_sha256, roller_serial, verdict, "
                   "exit_code, software_version, created_at, finished_at) VALUES "
                   "('passed', 'DR-192-0.50', 's6', 'V6-001', 'pass', 0, '0.1.0', "
                   "'2026-11-20T10:00:00Z', '2026-11-20T10:02:00Z'), "
                   "('queued', 'DR-192-0.50', NULL, 'V6-002', '', -1, '0.1.0', "
                   "'2026-11-20T10:05:00Z', '')") == "");
  REQUIRE(raw.exec("INSERT INTO checks (run_id, roll, check_id, verdict, value, unit) "
                   "VALUES (1, 0, 'penetration_depth', 'pass', 324.9, 'um')") == "");
}

}  // namespace

TEST_CASE("a version 6 store migrates to version 7 keeping its runs, each judged by method 1") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  make_version_6_store(store);

  auto db = open_db(store.location());
  CHECK(db->schema_version() == 7);
  auto runs = db->list_runs({});
  REQUIRE(runs.has_value());
  REQUIRE(runs->size() == 2);
  for (const RunRow& r : *runs) {
    INFO("run " << r.id);
    CHECK(r.analysis_method == analysis::kUnversionedAnalysisMethod);
    CHECK(r.analysis_method == 1);
  }
  const RunRow judged = runs->back();
  CHECK(judged.roller_serial == "V6-001");
  CHECK(judged.verdict == "pass");
  CHECK(judged.spec_sha256 == "s6");
  auto checks = db->checks_of(judged.id);
  REQUIRE(checks.has_value());
  REQUIRE(checks->size() == 1);
  CHECK((*checks)[0].value == Approx(324.9));

  // A run created after the migration is the current method's.
  auto id = db->create_run(a_run("V7-001"));
  REQUIRE(id.has_value());
  CHECK((*db->get_run(*id))->analysis_method == analysis::kAnalysisMethodVersion);
  CHECK(RawSql(store).row("SELECT COUNT(*) FROM runs WHERE analysis_method = 1")[0] == "2");
}

TEST_CASE("a recorded run keeps the analysis method of its report") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());

  const std::int64_t queued = *db->create_run(a_run("R-QUEUED"));
  // Until its report is recorded, the method of the build that created it.
  CHECK((*db->get_run(queued))->analysis_method == analysis::kAnalysisMethodVersion);

  const std::int64_t current = running_run(*db, a_run("R-CURRENT"));
  REQUIRE(db->record_report(current, a_report(report::RunVerdict::Pass), "spec"));
  CHECK((*db->get_run(current))->analysis_method == analysis::kAnalysisMethodVersion);

  // A report judged by another method (say a bench of another build recorded it) says so.
  const std::int64_t older = running_run(*db, a_run("R-OLDER"));
  report::RunReport by_method_1 = a_report(report::RunVerdict::Fail);
  by_method_1.analysis_method = 1;
  REQUIRE(db->record_report(older, by_method_1, "spec"));
  auto row = db->get_run(older);
  REQUIRE((row && *row));
  CHECK((*row)->analysis_method == 1);
  CHECK((*row)->verdict == "fail");

  // Listing and the lot's runs read it the same way; the column holds it.
  auto runs = db->list_runs({});
  REQUIRE(runs.has_value());
  for (const RunRow& r : *runs)
    CHECK(r.analysis_method == (r.id == older ? 1 : analysis::kAnalysisMethodVersion));
  CHECK(RawSql(store).row("SELECT analysis_method FROM runs WHERE id = " +
                          std::to_string(older))[0] == "1");
}

TEST_CASE("a fleet job's runs are created with the current analysis method") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
  auto job = db->submit_fleet_job(a_run("R-FLEET"), "sim");
  REQUIRE(job.has_value());
  CHECK((*db->get_run(job->run_id))->analysis_method == analysis::kAnalysisMethodVersion);
}
