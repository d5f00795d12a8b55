#include "bench/store/results_db.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace derma;
using namespace derma::store;

namespace {

// A fresh directory per test case, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("results-db-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name = "results.db") const { return (path / name).string(); }
};

std::unique_ptr<ResultsDb> open_db(const std::string& path) {
  auto db = ResultsDb::open(path);
  INFO((db ? std::string() : db.error()));
  REQUIRE(db.has_value());
  return std::move(*db);
}

// Raw SQL on the file, as someone with the sqlite3 shell would do it.
struct RawSql {
  sqlite3* db = nullptr;
  explicit RawSql(const std::string& path) {
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  }
  ~RawSql() { sqlite3_close(db); }
  // Returns the error message, or "" when the statement ran.
  std::string exec(const std::string& sql) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
    std::string error = rc == SQLITE_OK ? "" : (message ? message : "error");
    sqlite3_free(message);
    return error;
  }
};

NewRun a_run(const std::string& roller = "SIM-N192-050", const std::string& model = "DR-192-0.50") {
  NewRun r;
  r.suite_file = "fixtures/suites/validate-" + model + ".yaml";
  r.suite_name = "validate-" + model;
  r.spec_model = model;
  r.roller_serial = roller;
  r.requester = "unit test";
  r.rig_address = "sim";
  r.out_dir = "/tmp/out";
  return r;
}

report::RunReport a_report(report::RunVerdict verdict) {
  report::RunReport r;
  r.verdict = verdict;
  r.suite_name = "validate-DR-192-0.50";
  r.suite_file = "fixtures/suites/validate-DR-192-0.50.yaml";
  r.spec_model = "DR-192-0.50";
  r.roller_serial = "SIM-N192-050";
  r.roller_model = "DR-192-0.50";
  r.operator_name = "alice";
  r.software_version = "9.9.9";
  r.started_at = "2024-05-01T10:00:00Z";
  r.finished_at = "2024-05-01T10:02:00Z";
  r.rig.rig_serial = "RIG-0001";
  r.rig.firmware_version = "1.2.3";
  r.rig.calibration_date = "2024-01-01";
  r.rig.calibration_due = "2025-01-01";
  report::RollAnalysis roll;
  roll.roll_index = 0;
  analysis::CheckResult depth;
  depth.id = "penetration_depth";
  depth.verdict =
      verdict == report::RunVerdict::Fail ? analysis::Verdict::Fail : analysis::Verdict::Pass;
  depth.value = 498.5;
  depth.unit = "um";
  depth.lower_limit = 450;
  depth.upper_limit = 550;
  depth.summary = "mean depth 498.5 um";
  depth.figures = {{"cpk", 2.1, ""}, {"sd", 9.5, "um"}};
  depth.per_needle = {{.disc = 0, .index = 3, .n = 2, .mean = 497.0}};
  analysis::CheckResult missing;
  missing.id = "missing_channels";
  missing.verdict = analysis::Verdict::Pass;
  missing.value = 0;
  missing.unit = "count";
  missing.upper_limit = 0;
  roll.analysis.checks = {depth, missing};
  r.rolls.push_back(roll);
  return r;
}

std::int64_t running_run(ResultsDb& db, const NewRun& run = a_run()) {
  auto id = db.create_run(run);
  REQUIRE(id.has_value());
  REQUIRE(db.set_state(*id, RunState::Running).has_value());
  return *id;
}

void append_entries(ResultsDb& db, int n) {
  for (int i = 1; i <= n; ++i)
    REQUIRE(db.append_audit("alice", "operator", "run.submit", "run " + std::to_string(i), "cli",
                            R"({"n":)" + std::to_string(i) + "}")
                .has_value());
}

std::string problem_of(const std::string& path) {
  auto db = open_db(path);
  const AuditVerification v = db->verify_audit();
  REQUIRE(v.problem.has_value());
  return *v.problem;
}

}  // namespace

TEST_CASE("sha256_hex gives the standard digests") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("run states read back from their names") {
  for (RunState s :
       {RunState::Queued, RunState::Running, RunState::Passed, RunState::Failed, RunState::Error,
        RunState::Aborted, RunState::Cancelled, RunState::Interrupted})
    CHECK(run_state_from(to_string(s)) == s);
  CHECK_FALSE(run_state_from("finished").has_value());
  CHECK_FALSE(is_final(RunState::Queued));
  CHECK_FALSE(is_final(RunState::Running));
  CHECK(is_final(RunState::Interrupted));
}

TEST_CASE("a new database is migrated to the current schema and re-opens unchanged") {
  TempDir dir;
  int version = 0;
  {
    auto db = open_db(dir.file());
    version = db->schema_version();
    CHECK(version >= 1);
    REQUIRE(db->create_run(a_run()).has_value());
  }
  auto again = open_db(dir.file());
  CHECK(again->schema_version() == version);
  auto runs = again->list_runs({});
  REQUIRE(runs.has_value());
  CHECK(runs->size() == 1);
  RawSql raw(dir.file());
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(raw.db, "PRAGMA journal_mode", -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) == "wal");
  sqlite3_finalize(stmt);
}

TEST_CASE("a database written by a newer bench is refused, saying so") {
  TempDir dir;
  { open_db(dir.file()); }
  {
    RawSql raw(dir.file());
    REQUIRE(raw.exec("PRAGMA user_version = 999") == "");
  }
  auto db = ResultsDb::open(dir.file());
  REQUIRE_FALSE(db.has_value());
  CHECK_THAT(db.error(),
             Catch::Contains(dir.file()) && Catch::Contains("999") && Catch::Contains("newer"));
}

TEST_CASE("a file that is not a database is refused, naming it") {
  TempDir dir;
  std::ofstream(dir.file("notes.db")) << "these are not the runs you are looking for\n";
  auto db = ResultsDb::open(dir.file("notes.db"));
  REQUIRE_FALSE(db.has_value());
  CHECK_THAT(db.error(), Catch::Contains("notes.db"));
}

TEST_CASE("runs are listed newest first and filtered by state, roller and spec") {
  TempDir dir;
  auto db = open_db(dir.file());
  const auto first = db->create_run(a_run("SN-1", "DR-192-0.50"));
  const auto second = db->create_run(a_run("SN-2", "DR-192-0.50"));
  const auto third = db->create_run(a_run("SN-1", "DR-540-0.50"));
  REQUIRE((first && second && third));
  REQUIRE(db->set_state(*second, RunState::Running));

  auto all = db->list_runs({});
  REQUIRE(all.has_value());
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].id == *third);
  CHECK((*all)[2].id == *first);
  CHECK((*all)[0].state == RunState::Queued);
  CHECK((*all)[0].requester == "unit test");
  CHECK_FALSE((*all)[0].created_at.empty());
  CHECK_FALSE((*all)[0].software_version.empty());

  RunFilter by_roller;
  by_roller.roller_serial = "SN-1";
  CHECK(db->list_runs(by_roller)->size() == 2);
  RunFilter by_spec;
  by_spec.spec_model = "DR-540-0.50";
  CHECK(db->list_runs(by_spec)->front().id == *third);
  RunFilter by_state;
  by_state.state = RunState::Running;
  CHECK(db->list_runs(by_state)->front().id == *second);
  RunFilter limited;
  limited.limit = 1;
  CHECK(db->list_runs(limited)->size() == 1);
  RunFilter nothing;
  nothing.roller_serial = "x' OR '1'='1";
  CHECK(db->list_runs(nothing)->empty());

  auto one = db->get_run(*second);
  REQUIRE(one.has_value());
  REQUIRE(one->has_value());
  CHECK((*one)->roller_serial == "SN-2");
  CHECK_FALSE((*one)->started_at.empty());
  CHECK_FALSE(db->get_run(12345)->has_value());
}

TEST_CASE("a recorded report stores the verdict, checks, measurements and the spec's hash") {
  TempDir dir;
  auto db = open_db(dir.file());
  const std::int64_t id = running_run(*db);
  const std::string spec_text = "model: DR-192-0.50\n";
  REQUIRE(db->record_report(id, a_report(report::RunVerdict::Fail), spec_text));

  auto run = db->get_run(id);
  REQUIRE((run && *run));
  const RunRow& r = **run;
  CHECK(r.state == RunState::Failed);
  CHECK(r.verdict == "fail");
  CHECK(r.exit_code == 1);
  CHECK(r.spec_sha256 == sha256_hex(spec_text));
  CHECK(r.operator_name == "alice");
  CHECK(r.rig_serial == "RIG-0001");
  CHECK(r.firmware_version == "1.2.3");
  CHECK(r.calibration_due == "2025-01-01");
  CHECK(r.software_version == "9.9.9");
  CHECK_FALSE(r.finished_at.empty());

  auto checks = db->checks_of(id);
  REQUIRE(checks.has_value());
  REQUIRE(checks->size() == 2);
  CHECK((*checks)[0].id == "penetration_depth");
  CHECK((*checks)[0].verdict == "fail");
  CHECK((*checks)[0].value == Approx(498.5));
  CHECK((*checks)[0].lower_limit == Approx(450));
  CHECK((*checks)[1].id == "missing_channels");
  CHECK_FALSE((*checks)[1].lower_limit.has_value());
  CHECK((*checks)[1].upper_limit == Approx(0));

  RawSql raw(dir.file());
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(raw.db,
                             "SELECT (SELECT text FROM specs WHERE sha256 = ?), "
                             "(SELECT COUNT(*) FROM measurements WHERE run_id = ?), "
                             "(SELECT COUNT(*) FROM rollers), (SELECT COUNT(*) FROM rigs)",
                             -1, &stmt, nullptr) == SQLITE_OK);
  const std::string sha = sha256_hex(spec_text);
  sqlite3_bind_text(stmt, 1, sha.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(stmt, 2, id);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) == spec_text);
  CHECK(sqlite3_column_int(stmt, 1) == 3);  // two figures and one needle's mean depth
  CHECK(sqlite3_column_int(stmt, 2) == 1);
  CHECK(sqlite3_column_int(stmt, 3) == 1);
  sqlite3_finalize(stmt);
}

TEST_CASE("each verdict gives its final state") {
  TempDir dir;
  auto db = open_db(dir.file());
  const std::pair<report::RunVerdict, RunState> cases[] = {
      {report::RunVerdict::Pass, RunState::Passed},
      {report::RunVerdict::Fail, RunState::Failed},
      {report::RunVerdict::Error, RunState::Error},
      {report::RunVerdict::Aborted, RunState::Aborted}};
  for (const auto& [verdict, state] : cases) {
    const std::int64_t id = running_run(*db);
    REQUIRE(db->record_report(id, a_report(verdict), "spec"));
    CHECK((*db->get_run(id))->state == state);
  }
}

TEST_CASE("the state machine refuses impossible transitions") {
  TempDir dir;
  auto db = open_db(dir.file());
  const auto queued = db->create_run(a_run());
  REQUIRE(queued.has_value());

  SECTION("a queued run cannot finish without running, nor be recorded") {
    auto jump = db->set_state(*queued, RunState::Passed);
    REQUIRE_FALSE(jump.has_value());
    CHECK_THAT(jump.error(), Catch::Contains("queued") && Catch::Contains("passed"));
    CHECK_FALSE(db->record_report(*queued, a_report(report::RunVerdict::Pass), "s").has_value());
  }
  SECTION("a queued run can be cancelled, and then nothing more") {
    REQUIRE(db->set_state(*queued, RunState::Cancelled, "cancelled by bob"));
    const RunRow row = **db->get_run(*queued);
    CHECK(row.state == RunState::Cancelled);
    CHECK(row.error == "cancelled by bob");
    CHECK_FALSE(row.finished_at.empty());
    CHECK_FALSE(db->set_state(*queued, RunState::Running).has_value());
  }
  SECTION("a final run cannot be recorded twice") {
    REQUIRE(db->set_state(*queued, RunState::Running));
    REQUIRE(db->record_report(*queued, a_report(report::RunVerdict::Pass), "s"));
    CHECK_FALSE(db->record_report(*queued, a_report(report::RunVerdict::Fail), "s").has_value());
    CHECK((*db->get_run(*queued))->state == RunState::Passed);
  }
  SECTION("a run cancelled while running keeps its state when its aborted report comes in") {
    REQUIRE(db->set_state(*queued, RunState::Running));
    REQUIRE(db->set_state(*queued, RunState::Cancelled));
    REQUIRE(db->record_report(*queued, a_report(report::RunVerdict::Aborted), "s"));
    const RunRow row = **db->get_run(*queued);
    CHECK(row.state == RunState::Cancelled);
    CHECK(row.verdict == "aborted");
  }
  SECTION("an unknown run is named") {
    auto missing = db->set_state(4242, RunState::Running);
    REQUIRE_FALSE(missing.has_value());
    CHECK_THAT(missing.error(), Catch::Contains("run 4242"));
  }
}

TEST_CASE("runs left running by a dead process are marked interrupted at the next start") {
  TempDir dir;
  std::int64_t left_running = 0, finished = 0, queued = 0;
  {
    auto db = open_db(dir.file());
    left_running = running_run(*db);
    finished = running_run(*db);
    REQUIRE(db->record_report(finished, a_report(report::RunVerdict::Pass), "s"));
    queued = *db->create_run(a_run());
  }
  auto db = open_db(dir.file());
  auto marked = db->mark_interrupted_runs();
  REQUIRE(marked.has_value());
  CHECK(*marked == 1);
  CHECK((*db->get_run(left_running))->state == RunState::Interrupted);
  CHECK_FALSE((*db->get_run(left_running))->error.empty());
  CHECK((*db->get_run(finished))->state == RunState::Passed);
  CHECK((*db->get_run(queued))->state == RunState::Queued);
  CHECK(*db->mark_interrupted_runs() == 0);
}

TEST_CASE("the audit log chains its entries and verifies intact") {
  TempDir dir;
  auto db = open_db(dir.file());
  CHECK_FALSE(db->verify_audit().problem.has_value());
  auto first = db->append_audit("alice", "operator", "run.submit", "run 1", "cli", R"({"a":1})");
  auto second = db->append_audit("ci-main", "ci", "run.cancel", "run 1", "10.0.0.7", "");
  REQUIRE((first && second));
  CHECK(first->seq == 1);
  CHECK(first->prev_hash.empty());
  CHECK(second->seq == 2);
  CHECK(second->prev_hash == first->hash);
  CHECK(second->detail == "{}");
  CHECK(first->hash.size() == 64);

  const AuditVerification v = db->verify_audit();
  CHECK(v.entries == 2);
  CHECK_FALSE(v.problem.has_value());
  auto log = db->audit_log();
  REQUIRE(log.has_value());
  REQUIRE(log->size() == 2);
  CHECK((*log)[1].actor == "ci-main");
  CHECK((*log)[1].hash == second->hash);
  auto newest = db->audit_log(1);
  REQUIRE(newest->size() == 1);
  CHECK(newest->front().seq == 2);
}

TEST_CASE("the audit log refuses UPDATE and DELETE through SQL") {
  TempDir dir;
  { append_entries(*open_db(dir.file()), 2); }
  RawSql raw(dir.file());
  CHECK_THAT(raw.exec("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1"),
             Catch::Contains("append-only"));
  CHECK_THAT(raw.exec("DELETE FROM audit_log WHERE seq = 2"), Catch::Contains("append-only"));
  CHECK_FALSE(open_db(dir.file())->verify_audit().problem.has_value());
}

TEST_CASE("tampering with the audit log behind the triggers is detected and located") {
  TempDir dir;
  { append_entries(*open_db(dir.file()), 5); }
  RawSql raw(dir.file());
  REQUIRE(raw.exec("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete") == "");

  SECTION("a changed field") {
    REQUIRE(raw.exec("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3") == "");
    CHECK_THAT(problem_of(dir.file()),
               Catch::StartsWith("entry 3") && Catch::Contains("hash mismatch"));
  }
  SECTION("a changed field with its hash recomputed breaks the link to the next entry") {
    AuditEntry e = (*open_db(dir.file())->audit_log())[2];
    REQUIRE(e.seq == 3);
    e.actor = "mallory";
    // The documented serialisation (results_db.cpp, audit_hash).
    std::string text = e.prev_hash + "\n";
    for (const std::string& f :
         {std::to_string(e.seq), e.at, e.actor, e.role, e.action, e.subject, e.origin, e.detail})
      text += std::to_string(f.size()) + ":" + f + "\n";
    const std::string forged = sha256_hex(text);
    REQUIRE(raw.exec("UPDATE audit_log SET actor = 'mallory', hash = '" + forged +
                     "' WHERE seq = 3") == "");
    CHECK_THAT(problem_of(dir.file()),
               Catch::StartsWith("entry 4") && Catch::Contains("chain broken"));
  }
  SECTION("a deleted entry") {
    REQUIRE(raw.exec("DELETE FROM audit_log WHERE seq = 2") == "");
    CHECK_THAT(problem_of(dir.file()), Catch::StartsWith("entry 2 is missing"));
  }
  SECTION("a deleted entry with the later ones renumbered") {
    REQUIRE(raw.exec("DELETE FROM audit_log WHERE seq = 2; "
                     "UPDATE audit_log SET seq = seq - 1 WHERE seq > 2") == "");
    CHECK_THAT(problem_of(dir.file()),
               Catch::StartsWith("entry 2") && Catch::Contains("chain broken"));
  }
  SECTION("the last entry deleted") {
    REQUIRE(raw.exec("DELETE FROM audit_log WHERE seq = 5") == "");
    CHECK_THAT(problem_of(dir.file()), Catch::StartsWith("entry 5 is missing"));
  }
  SECTION("two entries swapped") {
    REQUIRE(raw.exec("UPDATE audit_log SET seq = -2 WHERE seq = 2; "
                     "UPDATE audit_log SET seq = 2 WHERE seq = 4; "
                     "UPDATE audit_log SET seq = 4 WHERE seq = -2") == "");
    CHECK_THAT(problem_of(dir.file()),
               Catch::StartsWith("entry 2") && Catch::Contains("chain broken"));
  }
  SECTION("an entry forged at the end") {
    REQUIRE(raw.exec("INSERT INTO audit_log SELECT 6, at, actor, role, action, subject, origin, "
                     "detail, hash, hash FROM audit_log WHERE seq = 5") == "");
    CHECK_THAT(problem_of(dir.file()), Catch::StartsWith("entry 6"));
  }
}

TEST_CASE("two connections on one file both write (WAL)") {
  TempDir dir;
  auto daemon = open_db(dir.file());
  auto cli = open_db(dir.file());
  const std::int64_t a = running_run(*daemon);
  const std::int64_t b = running_run(*cli);
  CHECK(a != b);
  for (int i = 0; i < 5; ++i) {
    REQUIRE(daemon->append_audit("daemon", "system", "run.start", "run 1", "daemon", ""));
    REQUIRE(cli->append_audit("bob", "operator", "run.start", "run 2", "cli", ""));
  }
  REQUIRE(cli->record_report(b, a_report(report::RunVerdict::Pass), "s"));
  CHECK((*daemon->get_run(b))->state == RunState::Passed);
  const AuditVerification v = daemon->verify_audit();
  CHECK(v.entries == 10);
  CHECK_FALSE(v.problem.has_value());
}

TEST_CASE("phantom lanes are claimed lowest first, one per run, until the tray is exhausted") {
  TempDir dir;
  auto db = open_db(dir.file());
  for (int expected = 0; expected < 3; ++expected) {
    auto lane = db->claim_phantom_lane("RIG-1", "LOT-A", 3, 100 + expected);
    REQUIRE(lane.has_value());
    REQUIRE(lane->has_value());
    CHECK(**lane == expected);
  }
  auto exhausted = db->claim_phantom_lane("RIG-1", "LOT-A", 3, 200);
  REQUIRE(exhausted.has_value());
  CHECK_FALSE(exhausted->has_value());
  auto used = db->phantom_lanes("RIG-1", "LOT-A");
  REQUIRE(used.has_value());
  REQUIRE(used->size() == 3);
  CHECK((*used)[1].lane == 1);
  CHECK((*used)[1].run_id == 101);
  CHECK_FALSE((*used)[1].used_at.empty());
}

TEST_CASE("phantom lanes are counted per rig and per phantom lot") {
  TempDir dir;
  auto db = open_db(dir.file());
  REQUIRE(db->claim_phantom_lane("RIG-1", "LOT-A", 2, 1).value() == 0);
  REQUIRE(db->claim_phantom_lane("RIG-1", "LOT-A", 2, 2).value() == 1);
  CHECK(db->claim_phantom_lane("RIG-1", "LOT-B", 2, 3).value() == 0);
  CHECK(db->claim_phantom_lane("RIG-2", "LOT-A", 2, 4).value() == 0);
  CHECK_FALSE(db->claim_phantom_lane("RIG-1", "LOT-A", 2, 5).value().has_value());
}

TEST_CASE("a replaced phantom gives its lanes back, and the claims survive a re-open") {
  TempDir dir;
  {
    auto db = open_db(dir.file());
    REQUIRE(db->claim_phantom_lane("RIG-1", "LOT-A", 2, 1).value() == 0);
    REQUIRE(db->claim_phantom_lane("RIG-1", "LOT-A", 2, 2).value() == 1);
    REQUIRE(db->claim_phantom_lane("RIG-1", "LOT-B", 2, 3).value() == 0);
  }
  auto db = open_db(dir.file());
  CHECK_FALSE(db->claim_phantom_lane("RIG-1", "LOT-A", 2, 4).value().has_value());
  auto reset = db->reset_phantom_lanes("RIG-1", "LOT-A");
  REQUIRE(reset.has_value());
  CHECK(*reset == 2);
  CHECK(db->phantom_lanes("RIG-1", "LOT-A").value().empty());
  CHECK(db->phantom_lanes("RIG-1", "LOT-B").value().size() == 1);
  CHECK(db->claim_phantom_lane("RIG-1", "LOT-A", 2, 5).value() == 0);
}

TEST_CASE("a run's lane is given back when the run released it, and only that one") {
  TempDir dir;
  auto db = open_db(dir.file());
  REQUIRE(db->claim_phantom_lane("RIG-1", "LOT-A", 4, 1).value() == 0);
  REQUIRE(db->claim_phantom_lane("RIG-1", "LOT-A", 4, 2).value() == 1);
  REQUIRE(db->release_phantom_lanes_of(1).has_value());
  auto used = db->phantom_lanes("RIG-1", "LOT-A").value();
  REQUIRE(used.size() == 1);
  CHECK(used[0].run_id == 2);
  CHECK(db->claim_phantom_lane("RIG-1", "LOT-A", 4, 3).value() == 0);
}
