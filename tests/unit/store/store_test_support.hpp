// What the store's unit tests share: a fresh store per backend (SQLite always, PostgreSQL
// when DERMA_TEST_PG_URL is set), raw SQL on it, and sample runs and reports.
#pragma once

#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/store/results_db.hpp"

namespace store_test {

namespace fs = std::filesystem;
using namespace derma;
using namespace derma::store;

// Every test case that takes a store runs once per backend: SQLite always, PostgreSQL too
// when DERMA_TEST_PG_URL names a database to use (scripts/pg-test-cluster starts one; CI
// sets it). Each run gets a fresh, empty store.
enum class Backend { Sqlite, Postgresql };

inline const char* pg_url() {
  const char* url = std::getenv("DERMA_TEST_PG_URL");
  return url && *url ? url : nullptr;
}

inline std::vector<Backend> backends() {
  if (pg_url()) return {Backend::Sqlite, Backend::Postgresql};
  static bool noted = false;
  if (!noted) {
    noted = true;
    std::fprintf(stderr,
                 "note: DERMA_TEST_PG_URL is not set: the store tests run on SQLite only "
                 "(scripts/pg-test-cluster starts a PostgreSQL to run them on both)\n");
  }
  return {Backend::Sqlite};
}

inline const char* name_of(Backend b) {
  return b == Backend::Sqlite ? "SQLite" : "PostgreSQL";
}

// A libpq connection for the tests' own SQL.
struct PgConnection {
  PGconn* conn = nullptr;
  explicit PgConnection(const std::string& url) : conn(PQconnectdb(url.c_str())) {
    INFO(PQerrorMessage(conn));
    REQUIRE(PQstatus(conn) == CONNECTION_OK);
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
  }
  ~PgConnection() { PQfinish(conn); }
  // Returns the error message, or "" when the statements ran.
  std::string exec(const std::string& sql) {
    PGresult* r = PQexec(conn, sql.c_str());
    const auto status = PQresultStatus(r);
    std::string error;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      const char* m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
      error = m ? m : PQerrorMessage(conn);
    }
    PQclear(r);
    return error;
  }
  // The first row of a query, every column as text.
  std::vector<std::string> row(const std::string& sql) {
    PGresult* r = PQexec(conn, sql.c_str());
    INFO(sql << ": " << PQresultErrorMessage(r));
    REQUIRE(PQresultStatus(r) == PGRES_TUPLES_OK);
    REQUIRE(PQntuples(r) >= 1);
    std::vector<std::string> values;
    for (int c = 0; c < PQnfields(r); ++c) values.emplace_back(PQgetvalue(r, 0, c));
    PQclear(r);
    return values;
  }
};

// A fresh store: a SQLite file in a new directory, or a new schema in the PostgreSQL test
// database (the URL selects it with search_path). Removed afterwards.
struct TestStore {
  Backend backend;
  fs::path dir;
  std::string schema;

  explicit TestStore(Backend b) : backend(b) {
    static int counter = 0;
    const std::string unique = std::to_string(::getpid()) + "_" + std::to_string(++counter);
    if (backend == Backend::Sqlite) {
      dir = fs::temp_directory_path() / ("results-db-test-" + unique);
      fs::remove_all(dir);
      fs::create_directories(dir);
    } else {
      schema = "results_db_test_" + unique;
      PgConnection admin(pg_url());
      REQUIRE(admin.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema) ==
              "");
    }
  }
  ~TestStore() {
    if (backend == Backend::Sqlite) {
      fs::remove_all(dir);
    } else {
      PGconn* admin = PQconnectdb(pg_url());
      PQsetNoticeProcessor(
          admin, [](void*, const char*) {}, nullptr);
      PQclear(PQexec(admin, ("DROP SCHEMA IF EXISTS " + schema + " CASCADE").c_str()));
      PQfinish(admin);
    }
  }
  TestStore(const TestStore&) = delete;
  TestStore& operator=(const TestStore&) = delete;

  // What ResultsDb::open is given: the file's path, or the URL of the schema.
  std::string location(const std::string& name = "results.db") const {
    if (backend == Backend::Sqlite) return (dir / name).string();
    const std::string url = pg_url();
    return url + (url.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
           schema;
  }
  bool sqlite() const { return backend == Backend::Sqlite; }
};

inline std::unique_ptr<ResultsDb> open_db(const std::string& location) {
  auto db = ResultsDb::open(location);
  INFO((db ? std::string() : db.error()));
  REQUIRE(db.has_value());
  return std::move(*db);
}

// Raw SQL on the store, as someone with the sqlite3 shell or psql would do it.
struct RawSql {
  sqlite3* db = nullptr;
  std::unique_ptr<PgConnection> pg;
  explicit RawSql(const TestStore& store) {
    if (store.sqlite())
      REQUIRE(sqlite3_open(store.location().c_str(), &db) == SQLITE_OK);
    else
      pg = std::make_unique<PgConnection>(store.location());
  }
  ~RawSql() { sqlite3_close(db); }
  // Returns the error message, or "" when the statement ran.
  std::string exec(const std::string& sql) {
    if (pg) return pg->exec(sql);
    char* message = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
    std::string error = rc == SQLITE_OK ? "" : (message ? message : "error");
    sqlite3_free(message);
    return error;
  }
  // The first row of a query (no parameters), every column as text.
  std::vector<std::string> row(const std::string& sql) {
    if (pg) return pg->row(sql);
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    std::vector<std::string> values;
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
      const auto* text = sqlite3_column_text(stmt, c);
      values.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
    }
    sqlite3_finalize(stmt);
    return values;
  }
};

inline NewRun a_run(const std::string& roller = "SIM-N192-050",
                    const std::string& model = "DR-192-0.50") {
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

inline report::RunReport a_report(report::RunVerdict verdict) {
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

inline std::int64_t running_run(ResultsDb& db, const NewRun& run = a_run()) {
  auto id = db.create_run(run);
  REQUIRE(id.has_value());
  REQUIRE(db.set_state(*id, RunState::Running).has_value());
  return *id;
}

inline void append_entries(ResultsDb& db, int n) {
  for (int i = 1; i <= n; ++i)
    REQUIRE(db.append_audit("alice", "operator", "run.submit", "run " + std::to_string(i), "cli",
                            R"({"n":)" + std::to_string(i) + "}")
                .has_value());
}

inline std::string problem_of(const std::string& path) {
  auto db = open_db(path);
  const AuditVerification v = db->verify_audit();
  REQUIRE(v.problem.has_value());
  return *v.problem;
}

}  // namespace store_test
