// The results database's connection and the helpers its source files share (internal to
// bench/store: results_db.cpp holds runs, lanes and the audit log; lots.cpp lots and
// certificates). The connection is SQLite or PostgreSQL (sql_connection.hpp); the queries
// here are written once for both.
#pragma once

#include <mutex>
#include <string>

#include "bench/store/results_db.hpp"
#include "bench/store/sql_connection.hpp"

namespace derma::store {

struct ResultsDb::Impl {
  std::unique_ptr<sql::Connection> db;
  std::string location;  // the file path, or the URL without its password
  int version = 0;
  mutable std::mutex mutex;  // one connection, used by one thread at a time

  std::expected<RunState, std::string> state_of(std::int64_t run_id) const {
    sql::Statement s(*db, "SELECT state FROM runs WHERE id = ?");
    s.bind(run_id);
    if (!s.step()) {
      if (!s.ok()) return std::unexpected(s.error());
      return std::unexpected("run " + std::to_string(run_id) + ": no such run");
    }
    return run_state_from(s.text(0)).value_or(RunState::Error);
  }
};

// Appends one entry to the audit chain. The caller holds the mutex and an open write
// transaction (whose writer lock keeps every other writer out until it commits), so the
// entry commits (or not) together with the change it records.
std::expected<AuditEntry, std::string> append_audit_in(
    sql::Connection& db, const std::string& actor, const std::string& role,
    const std::string& action, const std::string& subject, const std::string& origin,
    const std::string& detail_json);

}  // namespace derma::store
