#include "bench/store/results_db.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/unit/store/store_test_support.hpp"

namespace fs = std::filesystem;
using namespace derma;
using namespace derma::store;

using namespace store_test;

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
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  int version = 0;
  {
    auto db = open_db(store.location());
    version = db->schema_version();
    CHECK(version >= 1);
    REQUIRE(db->create_run(a_run()).has_value());
  }
  auto again = open_db(store.location());
  CHECK(again->schema_version() == version);
  auto runs = again->list_runs({});
  REQUIRE(runs.has_value());
  CHECK(runs->size() == 1);
  if (store.sqlite()) CHECK(RawSql(store).row("PRAGMA journal_mode")[0] == "wal");
}

TEST_CASE("a database written by a newer bench is refused, saying so") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  { open_db(store.location()); }
  {
    RawSql raw(store);
    REQUIRE(raw.exec(store.sqlite() ? "PRAGMA user_version = 999"
                                    : "UPDATE schema_version SET version = 999") == "");
  }
  auto db = ResultsDb::open(store.location());
  REQUIRE_FALSE(db.has_value());
  CHECK_THAT(db.error(), Catch::Contains(store.sqlite() ? store.location() : store.schema) &&
                             Catch::Contains("999") && Catch::Contains("newer"));
}

TEST_CASE("a file that is not a database is refused, naming it") {
  TestStore store(Backend::Sqlite);
  std::ofstream(store.location("notes.db")) << "these are not the runs you are looking for\n";
  auto db = ResultsDb::open(store.location("notes.db"));
  REQUIRE_FALSE(db.has_value());
  CHECK_THAT(db.error(), Catch::Contains("notes.db"));
}

TEST_CASE("runs are listed newest first and filtered by state, roller and spec") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
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
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
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

  RawSql raw(store);
  const auto row =
      raw.row("SELECT (SELECT text FROM specs WHERE sha256 = '" + sha256_hex(spec_text) +
              "'), (SELECT COUNT(*) FROM measurements WHERE run_id = " + std::to_string(id) +
              "), (SELECT COUNT(*) FROM rollers), (SELECT COUNT(*) FROM rigs)");
  CHECK(row[0] == spec_text);
  CHECK(row[1] == "3");  // two figures and one needle's mean depth
  CHECK(row[2] == "1");
  CHECK(row[3] == "1");
}

TEST_CASE("each verdict gives its final state") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
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
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
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
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  std::int64_t left_running = 0, finished = 0, queued = 0;
  {
    auto db = open_db(store.location());
    left_running = running_run(*db);
    finished = running_run(*db);
    REQUIRE(db->record_report(finished, a_report(report::RunVerdict::Pass), "s"));
    queued = *db->create_run(a_run());
  }
  auto db = open_db(store.location());
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
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
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
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  { append_entries(*open_db(store.location()), 2); }
  RawSql raw(store);
  CHECK_THAT(raw.exec("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1"),
             Catch::Contains("append-only"));
  CHECK_THAT(raw.exec("DELETE FROM audit_log WHERE seq = 2"), Catch::Contains("append-only"));
  CHECK_FALSE(open_db(store.location())->verify_audit().problem.has_value());
}

TEST_CASE("tampering with the audit log behind the triggers is detected and located") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  { append_entries(*open_db(store.location()), 5); }
  RawSql raw(store);
  REQUIRE(raw.exec(store.sqlite()
                       ? "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete"
                       : "DROP TRIGGER audit_log_no_update ON audit_log; "
                         "DROP TRIGGER audit_log_no_delete ON audit_log") == "");

  SECTION("a changed field") {
    REQUIRE(raw.exec("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3") == "");
    CHECK_THAT(problem_of(store.location()),
               Catch::StartsWith("entry 3") && Catch::Contains("hash mismatch"));
  }
  SECTION("a changed field with its hash recomputed breaks the link to the next entry") {
    AuditEntry e = (*open_db(store.location())->audit_log())[2];
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
    CHECK_THAT(problem_of(store.location()),
               Catch::StartsWith("entry 4") && Catch::Contains("chain broken"));
  }
  SECTION("a deleted entry") {
    REQUIRE(raw.exec("DELETE FROM audit_log WHERE seq = 2") == "");
    CHECK_THAT(problem_of(store.location()), Catch::StartsWith("entry 2 is missing"));
  }
  SECTION("a deleted entry with the later ones renumbered") {
    REQUIRE(raw.exec("DELETE FROM audit_log WHERE seq = 2; "
                     "UPDATE audit_log SET seq = seq - 1 WHERE seq > 2") == "");
    CHECK_THAT(problem_of(store.location()),
               Catch::StartsWith("entry 2") && Catch::Contains("chain broken"));
  }
  SECTION("the last entry deleted") {
    REQUIRE(raw.exec("DELETE FROM audit_log WHERE seq = 5") == "");
    CHECK_THAT(problem_of(store.location()), Catch::StartsWith("entry 5 is missing"));
  }
  SECTION("two entries swapped") {
    REQUIRE(raw.exec("UPDATE audit_log SET seq = -2 WHERE seq = 2; "
                     "UPDATE audit_log SET seq = 2 WHERE seq = 4; "
                     "UPDATE audit_log SET seq = 4 WHERE seq = -2") == "");
    CHECK_THAT(problem_of(store.location()),
               Catch::StartsWith("entry 2") && Catch::Contains("chain broken"));
  }
  SECTION("an entry forged at the end") {
    REQUIRE(raw.exec("INSERT INTO audit_log SELECT 6, at, actor, role, action, subject, origin, "
                     "detail, hash, hash FROM audit_log WHERE seq = 5") == "");
    CHECK_THAT(problem_of(store.location()), Catch::StartsWith("entry 6"));
  }
}

TEST_CASE("two connections on one store both write") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto daemon = open_db(store.location());
  auto cli = open_db(store.location());
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
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
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
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
  REQUIRE(db->claim_phantom_lane("RIG-1", "LOT-A", 2, 1).value() == 0);
  REQUIRE(db->claim_phantom_lane("RIG-1", "LOT-A", 2, 2).value() == 1);
  CHECK(db->claim_phantom_lane("RIG-1", "LOT-B", 2, 3).value() == 0);
  CHECK(db->claim_phantom_lane("RIG-2", "LOT-A", 2, 4).value() == 0);
  CHECK_FALSE(db->claim_phantom_lane("RIG-1", "LOT-A", 2, 5).value().has_value());
}

TEST_CASE("a replaced phantom gives its lanes back, and the claims survive a re-open") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  {
    auto db = open_db(store.location());
    REQUIRE(db->claim_phantom_lane("RIG-1", "LOT-A", 2, 1).value() == 0);
    REQUIRE(db->claim_phantom_lane("RIG-1", "LOT-A", 2, 2).value() == 1);
    REQUIRE(db->claim_phantom_lane("RIG-1", "LOT-B", 2, 3).value() == 0);
  }
  auto db = open_db(store.location());
  CHECK_FALSE(db->claim_phantom_lane("RIG-1", "LOT-A", 2, 4).value().has_value());
  auto reset = db->reset_phantom_lanes("RIG-1", "LOT-A");
  REQUIRE(reset.has_value());
  CHECK(*reset == 2);
  CHECK(db->phantom_lanes("RIG-1", "LOT-A").value().empty());
  CHECK(db->phantom_lanes("RIG-1", "LOT-B").value().size() == 1);
  CHECK(db->claim_phantom_lane("RIG-1", "LOT-A", 2, 5).value() == 0);
}

TEST_CASE("a run's lane is given back when the run released it, and only that one") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
  REQUIRE(db->claim_phantom_lane("RIG-1", "LOT-A", 4, 1).value() == 0);
  REQUIRE(db->claim_phantom_lane("RIG-1", "LOT-A", 4, 2).value() == 1);
  REQUIRE(db->release_phantom_lanes_of(1).has_value());
  auto used = db->phantom_lanes("RIG-1", "LOT-A").value();
  REQUIRE(used.size() == 1);
  CHECK(used[0].run_id == 2);
  CHECK(db->claim_phantom_lane("RIG-1", "LOT-A", 4, 3).value() == 0);
}

TEST_CASE("a PostgreSQL server that cannot be reached is refused, naming it without its password") {
  // Port 1 on loopback: nothing listens there.
  auto db = ResultsDb::open("postgresql://bench:s3cret@127.0.0.1:1/results?connect_timeout=5");
  REQUIRE_FALSE(db.has_value());
  CHECK_THAT(db.error(), Catch::Contains("postgresql://bench:***@127.0.0.1:1/results") &&
                             !Catch::Contains("s3cret"));
  CHECK(is_postgresql_url("postgres://host/db"));
  CHECK_FALSE(is_postgresql_url("/var/lib/dermabench/postgresql.db"));
  CHECK(redacted_location("postgresql:///db?user=a&password=pw&sslmode=disable") ==
        "postgresql:///db?user=a&password=***&sslmode=disable");
}

TEST_CASE("processes opening a new store at once migrate it once and agree on its version") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  constexpr int kDaemons = 4;
  std::vector<std::string> outcomes(kDaemons);
  {
    std::vector<std::jthread> daemons;
    for (int i = 0; i < kDaemons; ++i)
      daemons.emplace_back([&, i] {
        auto db = ResultsDb::open(store.location());
        outcomes[static_cast<std::size_t>(i)] =
            db ? "version " + std::to_string((*db)->schema_version()) : db.error();
      });
  }
  const std::string expected =
      "version " + std::to_string(open_db(store.location())->schema_version());
  for (const std::string& outcome : outcomes) CHECK(outcome == expected);
}

TEST_CASE("connections appending at once keep one unbroken audit chain") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  { open_db(store.location()); }  // migrated before the writers start
  constexpr int kWriters = 3, kEntries = 20;
  std::vector<std::string> errors(kWriters);
  {
    std::vector<std::jthread> writers;
    for (int w = 0; w < kWriters; ++w)
      writers.emplace_back([&, w] {
        auto db = ResultsDb::open(store.location());
        if (!db) {
          errors[static_cast<std::size_t>(w)] = db.error();
          return;
        }
        for (int i = 0; i < kEntries; ++i) {
          // A run's life in one connection while the others append: each change and its
          // audit entry commit together.
          auto id = (*db)->create_run(a_run("SN-" + std::to_string(w)));
          auto entry = (*db)->append_audit("writer-" + std::to_string(w), "system", "run.submit",
                                           id ? "run " + std::to_string(*id) : "?", "test", "");
          if (!id || !entry) {
            errors[static_cast<std::size_t>(w)] = !id ? id.error() : entry.error();
            return;
          }
        }
      });
  }
  for (const std::string& error : errors) CHECK(error == "");
  auto db = open_db(store.location());
  const AuditVerification v = db->verify_audit();
  CHECK(v.entries == kWriters * kEntries);
  CHECK_FALSE(v.problem.has_value());
  RunFilter all;
  all.limit = 0;
  CHECK(db->list_runs(all)->size() == static_cast<std::size_t>(kWriters * kEntries));
}

TEST_CASE("certificates and signer keys cannot be changed or deleted through SQL") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  {
    auto db = open_db(store.location());
    NewLot lot;
    lot.lot = "LOT-1";
    lot.model = "DR-192-0.50";
    lot.spec_text = "model: DR-192-0.50\n";
    lot.lot_size = 600;
    lot.aql = 1.0;
    lot.level = "II";
    lot.severity = "normal";
    lot.code_letter = "J";
    lot.sample_size = 80;
    lot.accept_number = 2;
    lot.reject_number = 3;
    REQUIRE(db->create_lot(lot, "erin", "cli"));
    REQUIRE(db->enroll_signer("erin", "ab12", "cli"));
    CertificateRow cert;
    cert.id = "CERT-1";
    cert.lot = "LOT-1";
    cert.decision = "accepted";
    cert.record = "{}";
    cert.record_sha256 = sha256_hex("{}");
    cert.signature = "cd34";
    cert.public_key = "ab12";
    cert.signer = "erin";
    cert.signed_at = "2026-01-01T00:00:00Z";
    auto recorded = db->record_certificate(cert, "cli", "{}");
    REQUIRE(recorded.has_value());
    CHECK(recorded->audit_seq == 3);
    CHECK((*db->get_lot("LOT-1"))->state == "accepted");
    CHECK_FALSE(db->record_certificate(cert, "cli", "{}").has_value());  // the lot is closed
  }
  RawSql raw(store);
  CHECK_THAT(raw.exec("UPDATE certificates SET decision = 'rejected'"),
             Catch::Contains("append-only"));
  CHECK_THAT(raw.exec("DELETE FROM certificates"), Catch::Contains("append-only"));
  CHECK_THAT(raw.exec("UPDATE signers SET public_key = 'ff'"),
             Catch::Contains("cannot be changed"));
  auto db = open_db(store.location());
  CHECK((*db->get_certificate("CERT-1"))->decision == "accepted");
  CHECK_FALSE(db->verify_audit().problem.has_value());
}

namespace {

// The identity bench records for a process (process_identity.hpp): HOST/PID/START.
std::string identity_of(pid_t pid, const std::string& start_time = "") {
  char host[256] = {};
  REQUIRE(::gethostname(host, sizeof host - 1) == 0);
  std::string start = start_time;
  if (start.empty()) {
    std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    REQUIRE(std::getline(file, stat));
    std::istringstream rest(stat.substr(stat.rfind(')') + 1));
    for (int i = 3; i <= 22; ++i) rest >> start;
  }
  return std::string(host) + "/" + std::to_string(pid) + "/" + start;
}

}  // namespace

TEST_CASE("only runs whose process is gone from this host are marked interrupted") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
  const std::int64_t alive = running_run(*db);
  const std::int64_t reused_pid = running_run(*db);
  const std::int64_t other_host = running_run(*db);
  const std::int64_t before_v4 = running_run(*db);
  {
    RawSql raw(store);
    // pid 1 lives as long as this host; a record of pid 1 with another start time is a
    // process that ended and whose pid was given again.
    REQUIRE(raw.exec("UPDATE runs SET runner = '" + identity_of(1) +
                     "' WHERE id = " + std::to_string(alive)) == "");
    REQUIRE(raw.exec("UPDATE runs SET runner = '" + identity_of(1, "999999999999") +
                     "' WHERE id = " + std::to_string(reused_pid)) == "");
    REQUIRE(raw.exec("UPDATE runs SET runner = 'rig-host-7.example/1234/5678' WHERE id = " +
                     std::to_string(other_host)) == "");
    REQUIRE(raw.exec("UPDATE runs SET runner = '' WHERE id = " + std::to_string(before_v4)) == "");
  }
  auto marked = db->mark_interrupted_runs();
  REQUIRE(marked.has_value());
  CHECK(*marked == 2);
  CHECK((*db->get_run(alive))->state == RunState::Running);
  CHECK((*db->get_run(reused_pid))->state == RunState::Interrupted);
  CHECK((*db->get_run(other_host))->state == RunState::Running);
  CHECK((*db->get_run(before_v4))->state == RunState::Interrupted);
}
