#include "bench/store/results_db.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <mutex>
#include <utility>

#include "bench/analysis/method.hpp"
#include "bench/store/process_identity.hpp"
#include "bench/store/results_db_impl.hpp"
#include "bench/store/schema.hpp"

namespace derma::store {

using sql::now_utc;
using sql::ReadTransaction;
using sql::Statement;
using sql::WriteTransaction;

// ---------------------------------------------------------------------------------------
// Run states

const char* to_string(RunState s) {
  switch (s) {
    case RunState::Queued:
      return "queued";
    case RunState::Running:
      return "running";
    case RunState::Passed:
      return "passed";
    case RunState::Failed:
      return "failed";
    case RunState::Error:
      return "error";
    case RunState::Aborted:
      return "aborted";
    case RunState::Cancelled:
      return "cancelled";
    case RunState::Interrupted:
      return "interrupted";
  }
  return "?";
}

std::optional<RunState> run_state_from(const std::string& text) {
  for (RunState s :
       {RunState::Queued, RunState::Running, RunState::Passed, RunState::Failed, RunState::Error,
        RunState::Aborted, RunState::Cancelled, RunState::Interrupted})
    if (text == to_string(s)) return s;
  return std::nullopt;
}

bool is_final(RunState s) {
  return s != RunState::Queued && s != RunState::Running;
}

namespace {

bool transition_allowed(RunState from, RunState to) {
  if (from == RunState::Queued) return to == RunState::Running || to == RunState::Cancelled;
  if (from == RunState::Running) return is_final(to);
  return false;
}

RunState state_for(report::RunVerdict v) {
  switch (v) {
    case report::RunVerdict::Pass:
      return RunState::Passed;
    case report::RunVerdict::Fail:
      return RunState::Failed;
    case report::RunVerdict::Error:
      return RunState::Error;
    case report::RunVerdict::Aborted:
      return RunState::Aborted;
  }
  return RunState::Error;
}

// The audit chain's hash: SHA-256, in lower-case hex, of
//   prev_hash "\n" then, for seq, at, actor, role, action, subject, origin, detail in that
//   order: the field's length in bytes (decimal), ":", the field's bytes, "\n".
// The length prefixes make the serialisation unambiguous whatever the fields contain; seq
// is part of it, so moving an entry breaks the chain too.
std::string audit_hash(const AuditEntry& e) {
  std::string text = e.prev_hash + "\n";
  for (const std::string& field :
       {std::to_string(e.seq), e.at, e.actor, e.role, e.action, e.subject, e.origin, e.detail}) {
    text += std::to_string(field.size());
    text += ':';
    text += field;
    text += '\n';
  }
  return sha256_hex(text);
}

// LIMIT for "no limit" in both engines (SQLite's -1 is an error in PostgreSQL).
constexpr std::int64_t kNoLimit = std::numeric_limits<std::int64_t>::max();

constexpr const char* kRunColumns =
    "id, state, suite_file, suite_name, spec_model, COALESCE(spec_sha256, ''), roller_serial, "
    "requester, operator, rig_address, rig_serial, firmware_version, calibration_due, "
    "software_version, created_at, started_at, finished_at, verdict, exit_code, error, out_dir, "
    "lot, phantom_lot, calibration_date, load_cell_factor, daemon, fleet_job, analysis_method";

RunRow run_from(const Statement& s) {
  RunRow r;
  r.id = s.integer(0);
  r.state = run_state_from(s.text(1)).value_or(RunState::Error);
  r.suite_file = s.text(2);
  r.suite_name = s.text(3);
  r.spec_model = s.text(4);
  r.spec_sha256 = s.text(5);
  r.roller_serial = s.text(6);
  r.requester = s.text(7);
  r.operator_name = s.text(8);
  r.rig_address = s.text(9);
  r.rig_serial = s.text(10);
  r.firmware_version = s.text(11);
  r.calibration_due = s.text(12);
  r.software_version = s.text(13);
  r.created_at = s.text(14);
  r.started_at = s.text(15);
  r.finished_at = s.text(16);
  r.verdict = s.text(17);
  r.exit_code = static_cast<int>(s.integer(18));
  r.error = s.text(19);
  r.out_dir = s.text(20);
  r.lot = s.text(21);
  r.phantom_lot = s.text(22);
  r.calibration_date = s.text(23);
  r.load_cell_factor = s.real(24);
  r.daemon = s.text(25);
  r.fleet_job = s.optional_integer(26);
  r.analysis_method = static_cast<int>(s.integer(27));
  return r;
}

constexpr const char* kAuditColumns =
    "seq, at, actor, role, action, subject, origin, detail, prev_hash, hash";

AuditEntry audit_from(const Statement& s) {
  AuditEntry e;
  e.seq = s.integer(0);
  e.at = s.text(1);
  e.actor = s.text(2);
  e.role = s.text(3);
  e.action = s.text(4);
  e.subject = s.text(5);
  e.origin = s.text(6);
  e.detail = s.text(7);
  e.prev_hash = s.text(8);
  e.hash = s.text(9);
  return e;
}

std::string run_label(std::int64_t id) {
  return "run " + std::to_string(id);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Opening and migrating

ResultsDb::ResultsDb(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResultsDb::~ResultsDb() = default;

bool is_postgresql_url(const std::string& location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

std::string redacted_location(const std::string& location) {
  if (!is_postgresql_url(location)) return location;
  // postgresql://user:PASSWORD@host/db?password=PASSWORD
  std::string out = location;
  const std::size_t scheme_end = out.find("://") + 3;
  const std::size_t at = out.find('@', scheme_end);
  const std::size_t slash = out.find('/', scheme_end);
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
    const std::size_t colon = out.find(':', scheme_end);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  for (std::size_t key = out.find("password="); key != std::string::npos;
       key = out.find("password=", key + 1)) {
    const std::size_t start = key + 9;
    const std::size_t end = out.find('&', start);
    out.replace(start, (end == std::string::npos ? out.size() : end) - start, "***");
  }
  return out;
}

std::expected<std::unique_ptr<ResultsDb>, std::string> ResultsDb::open(
    const std::string& location) {
  auto impl = std::make_unique<Impl>();
  impl->location = redacted_location(location);
  const auto fail = [&](const std::string& why) {
    return std::unexpected(impl->location + ": results database: " + why);
  };
  auto connection =
      is_postgresql_url(location) ? sql::open_postgresql(location) : sql::open_sqlite(location);
  if (!connection) return fail(connection.error());
  impl->db = std::move(*connection);
  auto version = migrate(*impl->db);
  if (!version) return fail(version.error());
  impl->version = *version;
  return std::unique_ptr<ResultsDb>(new ResultsDb(std::move(impl)));
}

int ResultsDb::schema_version() const {
  return impl_->version;
}

// ---------------------------------------------------------------------------------------
// Runs

std::expected<std::int64_t, std::string> ResultsDb::create_run(const NewRun& run) {
  std::lock_guard lock(impl_->mutex);
  Statement s(*impl_->db,
              "INSERT INTO runs (state, suite_file, suite_name, spec_model, roller_serial, "
              "requester, operator, rig_address, software_version, analysis_method, created_at, "
              "out_dir, lot, daemon) VALUES ('queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
              "RETURNING id");
  s.bind(run.suite_file)
      .bind(run.suite_name)
      .bind(run.spec_model)
      .bind(run.roller_serial)
      .bind(run.requester)
      .bind(run.operator_name)
      .bind(run.rig_address)
      .bind(DERMA_VERSION)
      .bind(analysis::kAnalysisMethodVersion)
      .bind(now_utc())
      .bind(run.out_dir)
      .bind(run.lot)
      .bind(run.daemon);
  if (!s.step())
    return std::unexpected("create run: " + (s.ok() ? std::string("no id returned") : s.error()));
  return s.integer(0);
}

std::expected<void, std::string> ResultsDb::set_state(std::int64_t run_id, RunState state,
                                                      const std::string& error) {
  std::lock_guard lock(impl_->mutex);
  WriteTransaction tx(*impl_->db);
  if (!tx.error().empty()) return std::unexpected(tx.error());
  auto from = impl_->state_of(run_id);
  if (!from) return std::unexpected(from.error());
  if (!transition_allowed(*from, state))
    return std::unexpected(run_label(run_id) + ": cannot go from " + to_string(*from) + " to " +
                           to_string(state));
  const std::string now = now_utc();
  Statement s(*impl_->db,
              "UPDATE runs SET state = ?, "
              "started_at = CASE WHEN ? = 1 AND started_at = '' THEN ? ELSE started_at END, "
              "finished_at = CASE WHEN ? = 1 THEN ? ELSE finished_at END, "
              "error = CASE WHEN ? <> '' THEN ? ELSE error END, "
              "runner = CASE WHEN ? = 1 THEN ? ELSE runner END "
              "WHERE id = ?");
  s.bind(to_string(state))
      .bind(state == RunState::Running ? 1 : 0)
      .bind(now)
      .bind(is_final(state) ? 1 : 0)
      .bind(now)
      .bind(error)
      .bind(error)
      .bind(state == RunState::Running ? 1 : 0)
      .bind(this_process_identity())
      .bind(run_id);
  if (auto done = s.run(); !done) return std::unexpected(done.error());
  return tx.commit();
}

namespace {

std::expected<void, std::string> store_checks(sql::Connection& db, std::int64_t run_id,
                                              const report::RunReport& report) {
  for (const report::RollAnalysis& roll : report.rolls) {
    for (const analysis::CheckResult& c : roll.analysis.checks) {
      Statement check(db,
                      "INSERT INTO checks (run_id, roll, check_id, verdict, value, unit, "
                      "lower_limit, upper_limit, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
      check.bind(run_id)
          .bind(roll.roll_index)
          .bind(c.id)
          .bind(analysis::to_string(c.verdict))
          .bind(c.value)
          .bind(c.unit)
          .bind(c.lower_limit)
          .bind(c.upper_limit)
          .bind(c.summary);
      if (auto done = check.run(); !done) return done;

      const char* sql =
          "INSERT INTO measurements (run_id, roll, check_id, name, value, unit, disc, needle, n) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
      for (const auto& f : c.figures) {
        Statement m(db, sql);
        m.bind(run_id)
            .bind(roll.roll_index)
            .bind(c.id)
            .bind(f.name)
            .bind(f.value)
            .bind(f.unit)
            .bind(std::optional<int>())
            .bind(std::optional<int>())
            .bind(std::optional<int>());
        if (auto done = m.run(); !done) return done;
      }
      for (const auto& g : c.per_needle) {
        Statement m(db, sql);
        m.bind(run_id)
            .bind(roll.roll_index)
            .bind(c.id)
            .bind("needle_mean_depth")
            .bind(g.mean)
            .bind(c.unit)
            .bind(std::optional<int>(g.disc))
            .bind(g.index)
            .bind(static_cast<std::int64_t>(g.n));
        if (auto done = m.run(); !done) return done;
      }
    }
  }
  return {};
}

}  // namespace

std::expected<void, std::string> ResultsDb::record_report(std::int64_t run_id,
                                                          const report::RunReport& report,
                                                          const std::string& spec_text) {
  std::lock_guard lock(impl_->mutex);
  sql::Connection& db = *impl_->db;
  WriteTransaction tx(db);
  if (!tx.error().empty()) return std::unexpected(tx.error());
  auto from = impl_->state_of(run_id);
  if (!from) return std::unexpected(from.error());
  RunState to = state_for(report.verdict);
  if (*from == RunState::Cancelled && report.verdict == report::RunVerdict::Aborted)
    to = RunState::Cancelled;
  else if (*from != RunState::Running)
    return std::unexpected(run_label(run_id) + ": cannot record a report: the run is " +
                           to_string(*from) + ", not running");
  const auto failed = [&](const std::string& what) {
    return std::unexpected(run_label(run_id) + ": recording the report: " + what);
  };
  const std::string now = now_utc();

  std::string spec_sha;
  if (!spec_text.empty()) {
    spec_sha = sha256_hex(spec_text);
    Statement s(db,
                "INSERT INTO specs (sha256, model, text) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
    s.bind(spec_sha).bind(report.spec_model).bind(spec_text);
    if (auto done = s.run(); !done) return failed(done.error());
  }
  if (!report.roller_serial.empty()) {
    Statement s(db,
                "INSERT INTO rollers (serial, model, first_seen) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING");
    s.bind(report.roller_serial).bind(report.roller_model).bind(now);
    if (auto done = s.run(); !done) return failed(done.error());
  }
  if (!report.rig.rig_serial.empty()) {
    Statement s(db,
                "INSERT INTO rigs (serial, firmware_version, calibration_date, calibration_due, "
                "last_seen) VALUES (?, ?, ?, ?, ?) ON CONFLICT(serial) DO UPDATE SET "
                "firmware_version = excluded.firmware_version, "
                "calibration_date = excluded.calibration_date, "
                "calibration_due = excluded.calibration_due, last_seen = excluded.last_seen");
    s.bind(report.rig.rig_serial)
        .bind(report.rig.firmware_version)
        .bind(report.rig.calibration_date)
        .bind(report.rig.calibration_due)
        .bind(now);
    if (auto done = s.run(); !done) return failed(done.error());
  }

  // What the report knows wins over what was known at submission; empty fields keep it.
  Statement run(db,
                "UPDATE runs SET state = ?, verdict = ?, exit_code = ?, "
                "error = CASE WHEN ? <> '' THEN ? ELSE error END, spec_sha256 = ?, "
                "suite_name = COALESCE(NULLIF(?, ''), suite_name), "
                "suite_file = CASE WHEN suite_file = '' THEN ? ELSE suite_file END, "
                "spec_model = COALESCE(NULLIF(?, ''), spec_model), "
                "roller_serial = COALESCE(NULLIF(?, ''), roller_serial), "
                "operator = COALESCE(NULLIF(?, ''), operator), "
                "rig_serial = ?, firmware_version = ?, calibration_due = ?, calibration_date = ?, "
                "phantom_lot = ?, load_cell_factor = ?, "
                "software_version = COALESCE(NULLIF(?, ''), software_version), "
                "analysis_method = ?, "
                "started_at = CASE WHEN started_at = '' THEN ? ELSE started_at END, "
                "finished_at = COALESCE(NULLIF(?, ''), ?) "
                "WHERE id = ?");
  run.bind(to_string(to))
      .bind(report::to_string(report.verdict))
      .bind(report::exit_code_for(report))
      .bind(report.error)
      .bind(report.error)
      .bind_or_null(spec_sha)
      .bind(report.suite_name)
      .bind(report.suite_file)
      .bind(report.spec_model)
      .bind(report.roller_serial)
      .bind(report.operator_name)
      .bind(report.rig.rig_serial)
      .bind(report.rig.firmware_version)
      .bind(report.rig.calibration_due)
      .bind(report.rig.calibration_date)
      .bind(report.rig.phantom_lot)
      .bind(report.rig.rig_serial.empty() ? std::optional<double>()
                                          : std::optional<double>(report.rig.load_cell_factor))
      .bind(report.software_version)
      .bind(report.analysis_method)
      .bind(report.started_at)
      .bind(report.finished_at)
      .bind(now)
      .bind(run_id);
  if (auto done = run.run(); !done) return failed(done.error());

  for (const char* sql :
       {"DELETE FROM measurements WHERE run_id = ?", "DELETE FROM checks WHERE run_id = ?"}) {
    Statement s(db, sql);
    s.bind(run_id);
    if (auto done = s.run(); !done) return failed(done.error());
  }
  if (auto done = store_checks(db, run_id, report); !done) return failed(done.error());
  if (auto done = tx.commit(); !done) return failed(done.error());
  return {};
}

std::expected<std::vector<RunRow>, std::string> ResultsDb::list_runs(const RunFilter& f) const {
  std::lock_guard lock(impl_->mutex);
  // Only fixed SQL fragments are joined; every value is bound.
  std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE 1 = 1";
  if (f.state) sql += " AND state = ?";
  if (f.roller_serial) sql += " AND roller_serial = ?";
  if (f.spec_model) sql += " AND spec_model = ?";
  if (f.lot) sql += " AND lot = ?";
  sql += " ORDER BY id DESC LIMIT ?";
  Statement s(*impl_->db, sql);
  if (f.state) s.bind(to_string(*f.state));
  if (f.roller_serial) s.bind(*f.roller_serial);
  if (f.spec_model) s.bind(*f.spec_model);
  if (f.lot) s.bind(*f.lot);
  s.bind(f.limit > 0 ? std::int64_t{f.limit} : kNoLimit);
  std::vector<RunRow> rows;
  while (s.step()) rows.push_back(run_from(s));
  if (!s.ok()) return std::unexpected("list runs: " + s.error());
  return rows;
}

std::expected<std::vector<RunRow>, std::string> ResultsDb::runs_of_lot(
    const std::string& lot) const {
  std::lock_guard lock(impl_->mutex);
  const std::string sql =
      std::string("SELECT ") + kRunColumns + " FROM runs WHERE lot = ? ORDER BY id";
  Statement s(*impl_->db, sql);
  s.bind(lot);
  std::vector<RunRow> rows;
  while (s.step()) rows.push_back(run_from(s));
  if (!s.ok()) return std::unexpected("runs of lot " + lot + ": " + s.error());
  return rows;
}

std::expected<std::optional<RunRow>, std::string> ResultsDb::get_run(std::int64_t run_id) const {
  std::lock_guard lock(impl_->mutex);
  const std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?";
  Statement s(*impl_->db, sql);
  s.bind(run_id);
  if (s.step()) return std::optional<RunRow>(run_from(s));
  if (!s.ok()) return std::unexpected(run_label(run_id) + ": " + s.error());
  return std::optional<RunRow>();
}

std::expected<std::vector<CheckRow>, std::string> ResultsDb::checks_of(std::int64_t run_id) const {
  std::lock_guard lock(impl_->mutex);
  Statement s(*impl_->db,
              "SELECT run_id, roll, check_id, verdict, value, unit, lower_limit, upper_limit, "
              "summary FROM checks WHERE run_id = ? ORDER BY roll, rowid");
  s.bind(run_id);
  std::vector<CheckRow> rows;
  while (s.step()) {
    CheckRow c;
    c.run_id = s.integer(0);
    c.roll = static_cast<int>(s.integer(1));
    c.id = s.text(2);
    c.verdict = s.text(3);
    c.value = s.real(4);
    c.unit = s.text(5);
    c.lower_limit = s.real(6);
    c.upper_limit = s.real(7);
    c.summary = s.text(8);
    rows.push_back(std::move(c));
  }
  if (!s.ok()) return std::unexpected(run_label(run_id) + ": checks: " + s.error());
  return rows;
}

std::expected<int, std::string> ResultsDb::mark_interrupted_runs() {
  std::lock_guard lock(impl_->mutex);
  const auto failed = [](const std::string& why) {
    return std::unexpected("marking interrupted runs: " + why);
  };
  WriteTransaction tx(*impl_->db);
  if (!tx.error().empty()) return failed(tx.error());
  std::vector<std::int64_t> orphans;
  {
    // A fleet job's run is left to the fleet's recovery (recover_fleet_jobs), which marks it
    // and queues its job again in one transaction.
    Statement running(*impl_->db,
                      "SELECT id, runner FROM runs WHERE state = 'running' AND fleet_job IS NULL");
    while (running.step())
      if (process_is_gone(running.text(1))) orphans.push_back(running.integer(0));
    if (!running.ok()) return failed(running.error());
  }
  const std::string now = now_utc();
  for (const std::int64_t id : orphans) {
    Statement s(*impl_->db,
                "UPDATE runs SET state = 'interrupted', finished_at = ?, "
                "error = 'the process running it ended before the run finished' "
                "WHERE id = ? AND state = 'running'");
    s.bind(now).bind(id);
    if (auto done = s.run(); !done) return failed(done.error());
  }
  if (auto done = tx.commit(); !done) return failed(done.error());
  return static_cast<int>(orphans.size());
}

// ---------------------------------------------------------------------------------------
// Phantom lanes

std::expected<std::optional<int>, std::string> ResultsDb::claim_phantom_lane(
    const std::string& rig_serial, const std::string& phantom_lot, int lanes, std::int64_t run_id) {
  std::lock_guard lock(impl_->mutex);
  sql::Connection& db = *impl_->db;
  const auto failed = [&](const std::string& why) {
    return std::unexpected("phantom lanes of " + rig_serial + " lot " + phantom_lot + ": " + why);
  };
  // Read and insert in one write transaction: another process cannot claim the same lane.
  WriteTransaction tx(db);
  if (!tx.error().empty()) return failed(tx.error());
  std::vector<bool> used(static_cast<std::size_t>(std::max(lanes, 0)), false);
  {
    Statement s(db, "SELECT lane FROM phantom_lanes WHERE rig_serial = ? AND phantom_lot = ?");
    s.bind(rig_serial).bind(phantom_lot);
    while (s.step()) {
      const std::int64_t lane = s.integer(0);
      if (lane >= 0 && lane < lanes) used[static_cast<std::size_t>(lane)] = true;
    }
    if (!s.ok()) return failed(s.error());
  }
  int free_lane = -1;
  for (int lane = 0; lane < lanes && free_lane < 0; ++lane)
    if (!used[static_cast<std::size_t>(lane)]) free_lane = lane;
  if (free_lane < 0) return std::optional<int>();
  Statement insert(db,
                   "INSERT INTO phantom_lanes (rig_serial, phantom_lot, lane, run_id, used_at) "
                   "VALUES (?, ?, ?, ?, ?)");
  insert.bind(rig_serial).bind(phantom_lot).bind(free_lane).bind(run_id).bind(now_utc());
  if (auto done = insert.run(); !done) return failed(done.error());
  if (auto done = tx.commit(); !done) return failed(done.error());
  return std::optional<int>(free_lane);
}

std::expected<void, std::string> ResultsDb::release_phantom_lanes_of(std::int64_t run_id) {
  std::lock_guard lock(impl_->mutex);
  Statement s(*impl_->db, "DELETE FROM phantom_lanes WHERE run_id = ?");
  s.bind(run_id);
  if (auto done = s.run(); !done)
    return std::unexpected(run_label(run_id) + ": releasing phantom lanes: " + done.error());
  return {};
}

std::expected<std::vector<PhantomLane>, std::string> ResultsDb::phantom_lanes(
    const std::string& rig_serial, const std::string& phantom_lot) const {
  std::lock_guard lock(impl_->mutex);
  Statement s(*impl_->db,
              "SELECT rig_serial, phantom_lot, lane, run_id, used_at FROM phantom_lanes "
              "WHERE rig_serial = ? AND phantom_lot = ? ORDER BY lane");
  s.bind(rig_serial).bind(phantom_lot);
  std::vector<PhantomLane> lanes;
  while (s.step())
    lanes.push_back(
        {s.text(0), s.text(1), static_cast<int>(s.integer(2)), s.integer(3), s.text(4)});
  if (!s.ok())
    return std::unexpected("phantom lanes of " + rig_serial + " lot " + phantom_lot + ": " +
                           s.error());
  return lanes;
}

std::expected<int, std::string> ResultsDb::reset_phantom_lanes(const std::string& rig_serial,
                                                               const std::string& phantom_lot) {
  std::lock_guard lock(impl_->mutex);
  Statement s(*impl_->db, "DELETE FROM phantom_lanes WHERE rig_serial = ? AND phantom_lot = ?");
  s.bind(rig_serial).bind(phantom_lot);
  if (auto done = s.run(); !done)
    return std::unexpected("resetting phantom lanes of " + rig_serial + " lot " + phantom_lot +
                           ": " + done.error());
  return static_cast<int>(s.rows_changed());
}

// ---------------------------------------------------------------------------------------
// Audit log

std::expected<AuditEntry, std::string> append_audit_in(
    sql::Connection& db, const std::string& actor, const std::string& role,
    const std::string& action, const std::string& subject, const std::string& origin,
    const std::string& detail_json) {
  const auto failed = [&](const std::string& why) {
    return std::unexpected("audit log: appending " + action + ": " + why);
  };
  AuditEntry e;
  {
    // The head, read inside the write transaction: another writer cannot slip in between.
    Statement head(db, "SELECT seq, hash FROM audit_head WHERE id = 1");
    if (!head.step()) return failed(head.ok() ? "audit_head is empty" : head.error());
    e.seq = head.integer(0) + 1;
    e.prev_hash = head.text(1);
  }
  e.at = now_utc();
  e.actor = actor;
  e.role = role;
  e.action = action;
  e.subject = subject;
  e.origin = origin;
  e.detail = detail_json.empty() ? "{}" : detail_json;
  e.hash = audit_hash(e);
  Statement insert(db,
                   "INSERT INTO audit_log (seq, at, actor, role, action, subject, origin, "
                   "detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.bind(e.seq)
      .bind(e.at)
      .bind(e.actor)
      .bind(e.role)
      .bind(e.action)
      .bind(e.subject)
      .bind(e.origin)
      .bind(e.detail)
      .bind(e.prev_hash)
      .bind(e.hash);
  if (auto done = insert.run(); !done) return failed(done.error());
  Statement head(db, "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1");
  head.bind(e.seq).bind(e.hash);
  if (auto done = head.run(); !done) return failed(done.error());
  return e;
}

std::expected<AuditEntry, std::string> ResultsDb::append_audit(
    const std::string& actor, const std::string& role, const std::string& action,
    const std::string& subject, const std::string& origin, const std::string& detail_json) {
  std::lock_guard lock(impl_->mutex);
  WriteTransaction tx(*impl_->db);
  if (!tx.error().empty())
    return std::unexpected("audit log: appending " + action + ": " + tx.error());
  auto entry = append_audit_in(*impl_->db, actor, role, action, subject, origin, detail_json);
  if (!entry) return entry;
  if (auto done = tx.commit(); !done)
    return std::unexpected("audit log: appending " + action + ": " + done.error());
  return entry;
}

std::expected<std::vector<AuditEntry>, std::string> ResultsDb::audit_log(int limit) const {
  std::lock_guard lock(impl_->mutex);
  // The newest `limit` entries, oldest first.
  const std::string sql = std::string("SELECT * FROM (SELECT ") + kAuditColumns +
                          " FROM audit_log ORDER BY seq DESC LIMIT ?) AS newest ORDER BY seq";
  Statement s(*impl_->db, sql);
  s.bind(limit > 0 ? std::int64_t{limit} : kNoLimit);
  std::vector<AuditEntry> entries;
  while (s.step()) entries.push_back(audit_from(s));
  if (!s.ok()) return std::unexpected("audit log: " + s.error());
  return entries;
}

AuditVerification ResultsDb::verify_audit() const {
  std::lock_guard lock(impl_->mutex);
  AuditVerification result;
  // One read transaction, so a concurrent append cannot make the head and the log disagree.
  // One snapshot, so a concurrent append cannot make the head and the log disagree.
  ReadTransaction snapshot(*impl_->db);
  if (!snapshot.error().empty()) {
    result.problem = "cannot read the audit log: " + snapshot.error();
    return result;
  }

  const std::string sql = std::string("SELECT ") + kAuditColumns + " FROM audit_log ORDER BY seq";
  Statement s(*impl_->db, sql);
  std::int64_t last_seq = 0;
  std::string last_hash;
  while (s.step()) {
    const AuditEntry e = audit_from(s);
    ++result.entries;
    const std::string name = "entry " + std::to_string(e.seq);
    if (e.seq != last_seq + 1) {
      result.problem = "entry " + std::to_string(last_seq + 1) +
                       " is missing: the log goes from entry " + std::to_string(last_seq) +
                       " to entry " + std::to_string(e.seq) + " (deleted or renumbered)";
      return result;
    }
    if (e.prev_hash != last_hash) {
      result.problem = name + ": chain broken: its prev_hash is not the hash of entry " +
                       std::to_string(last_seq) + " (entries removed, reordered or altered)";
      return result;
    }
    if (audit_hash(e) != e.hash) {
      result.problem = name + " (" + e.action + ", " + e.subject +
                       "): hash mismatch: its contents were altered after it was written";
      return result;
    }
    last_seq = e.seq;
    last_hash = e.hash;
  }
  if (!s.ok()) {
    result.problem = "cannot read the audit log: " + s.error();
    return result;
  }
  Statement head(*impl_->db, "SELECT seq, hash FROM audit_head WHERE id = 1");
  if (!head.step()) {
    result.problem = "the audit head is missing: " + (head.ok() ? "no row" : head.error());
    return result;
  }
  const std::int64_t head_seq = head.integer(0);
  if (head_seq > last_seq)
    result.problem = "entry " + std::to_string(last_seq + 1) +
                     " is missing: the log ends at entry " + std::to_string(last_seq) +
                     " but entry " + std::to_string(head_seq) +
                     " was the last one written (entries deleted from the end)";
  else if (head_seq < last_seq)
    result.problem = "entry " + std::to_string(head_seq + 1) +
                     " was not written by bench: the last entry appended was entry " +
                     std::to_string(head_seq);
  else if (head.text(1) != last_hash)
    result.problem = "entry " + std::to_string(last_seq) +
                     ": its hash differs from the one recorded when it was appended";
  return result;
}

// ---------------------------------------------------------------------------------------

std::string sha256_hex(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0f];
  }
  return hex;
}

}  // namespace derma::store
