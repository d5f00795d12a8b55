// The fleet's tables (fleet.hpp, schema version 6): members' heartbeats and the shared work
// queue with its leases. Every query is written once for both engines; the one difference is
// the claim's row locking (FOR UPDATE SKIP LOCKED, which SQLite neither has nor needs: it
// has one writer at a time).
#include <nlohmann/json.hpp>

#include "bench/analysis/method.hpp"
#include "bench/store/process_identity.hpp"
#include "bench/store/results_db.hpp"
#include "bench/store/results_db_impl.hpp"

namespace derma::store {

using sql::now_utc;
using sql::ReadTransaction;
using sql::Statement;
using sql::WriteTransaction;

const char* to_string(FleetJobState s) {
  switch (s) {
    case FleetJobState::Queued:
      return "queued";
    case FleetJobState::Claimed:
      return "claimed";
    case FleetJobState::Done:
      return "done";
    case FleetJobState::Failed:
      return "failed";
    case FleetJobState::Cancelled:
      return "cancelled";
  }
  return "?";
}

std::optional<FleetJobState> fleet_job_state_from(const std::string& text) {
  for (FleetJobState s : {FleetJobState::Queued, FleetJobState::Claimed, FleetJobState::Done,
                          FleetJobState::Failed, FleetJobState::Cancelled})
    if (text == to_string(s)) return s;
  return std::nullopt;
}

namespace {

std::string fleet_rig_address(const std::string& kind) {
  return "fleet:" + kind;
}

// Locks the rows a claim or a recovery reads, skipping rows another daemon is changing
// (PostgreSQL); SQLite's write transaction already holds the database's one writer lock.
enum class Locked { Skip, Wait };
std::string row_locks(const sql::Connection& db, const char* tables = "",
                      Locked locked = Locked::Skip) {
  if (db.dialect() != sql::Dialect::Postgresql) return "";
  return std::string(" FOR UPDATE") + (*tables ? std::string(" OF ") + tables : "") +
         (locked == Locked::Skip ? " SKIP LOCKED" : "");
}

std::string job_columns(const sql::Connection& db) {
  return std::string("id, kind, state, run_id, attempts, claimed_by, lease_expires_ms - ") +
         db.now_ms_sql() + ", cancel_requested, created_at, finished_at";
}

FleetJob job_from(const Statement& s) {
  FleetJob j;
  j.id = s.integer(0);
  j.kind = s.text(1);
  j.state = fleet_job_state_from(s.text(2)).value_or(FleetJobState::Failed);
  j.run_id = s.integer(3);
  j.attempts = static_cast<int>(s.integer(4));
  j.claimed_by = s.text(5);
  j.lease_left_ms = s.optional_integer(6);
  j.cancel_requested = s.integer(7) != 0;
  j.created_at = s.text(8);
  j.finished_at = s.text(9);
  return j;
}

// The job goes back to the queue with `run_id` as its run, which is queued for any rig.
std::expected<void, std::string> requeue_job(sql::Connection& db, std::int64_t job_id,
                                             const std::string& kind, std::int64_t run_id) {
  Statement job(db,
                "UPDATE fleet_jobs SET state = 'queued', claimed_by = '', lease_expires_ms = NULL, "
                "cancel_requested = 0, run_id = ? WHERE id = ?");
  job.bind(run_id).bind(job_id);
  if (auto done = job.run(); !done) return done;
  Statement run(db, "UPDATE runs SET rig_address = ?, daemon = '', out_dir = '' WHERE id = ?");
  run.bind(fleet_rig_address(kind)).bind(run_id);
  return run.run();
}

// A job taken back from its daemon before its run started: queued again for another rig, or,
// when a client had asked to cancel it, cancelled with its run (the request is not lost).
// The job ends in `state` (done, failed or cancelled): no lease, no holder's claim any more.
std::expected<void, std::string> close_job(sql::Connection& db, std::int64_t job_id,
                                           const std::string& state) {
  Statement close(db,
                  "UPDATE fleet_jobs SET state = ?, finished_at = ?, lease_expires_ms = NULL "
                  "WHERE id = ?");
  close.bind(state).bind(now_utc()).bind(job_id);
  return close.run();
}

// The job is cancelled with its run, which had not started (its error says why).
std::expected<void, std::string> cancel_unstarted(sql::Connection& db, std::int64_t job_id,
                                                  std::int64_t run_id, const std::string& why) {
  if (auto done = close_job(db, job_id, "cancelled"); !done) return done;
  Statement run(db,
                "UPDATE runs SET state = 'cancelled', finished_at = ?, error = ? "
                "WHERE id = ? AND state = 'queued'");
  run.bind(now_utc()).bind(why).bind(run_id);
  return run.run();
}

// Returns what became of it: "queued" or "cancelled".
std::expected<std::string, std::string> give_back(sql::Connection& db, std::int64_t job_id,
                                                  const std::string& kind, std::int64_t run_id,
                                                  bool cancel_requested) {
  auto done = cancel_requested ? cancel_unstarted(db, job_id, run_id, "cancelled before it started")
                               : requeue_job(db, job_id, kind, run_id);
  if (!done) return std::unexpected(done.error());
  return cancel_requested ? "cancelled" : "queued";
}

// A fresh queued run for the job's next attempt: the same suite, roller, lot and requester.
std::expected<std::int64_t, std::string> next_attempt(sql::Connection& db,
                                                      std::int64_t previous_run,
                                                      const std::string& kind) {
  Statement s(db,
              "INSERT INTO runs (state, suite_file, suite_name, spec_model, roller_serial, "
              "requester, rig_address, software_version, analysis_method, created_at, lot, "
              "fleet_job) SELECT 'queued', suite_file, suite_name, spec_model, roller_serial, "
              "requester, ?, ?, ?, ?, lot, fleet_job FROM runs WHERE id = ? RETURNING id");
  s.bind(fleet_rig_address(kind))
      .bind(DERMA_VERSION)
      .bind(analysis::kAnalysisMethodVersion)
      .bind(now_utc())
      .bind(previous_run);
  if (!s.step())
    return std::unexpected(s.ok() ? "no run " + std::to_string(previous_run) : s.error());
  return s.integer(0);
}

struct HeldJob {
  std::int64_t id = 0, run_id = 0;
  std::string kind, claimed_by, run_state;
  int attempts = 0;
  bool cancel_requested = false;
  std::string why;  // why its daemon no longer holds it, for the interrupted run's error
};

// Recovers one job its daemon no longer holds (fleet.hpp): audited in the same transaction.
std::expected<FleetRecovery, std::string> recover(sql::Connection& db, const HeldJob& job,
                                                  const std::string& recovered_by) {
  FleetRecovery r{job.id, job.claimed_by, job.run_id, job.run_state, 0};
  const std::string now = now_utc();
  std::string job_state = "queued";
  if (job.run_state == "queued") {
    auto given = give_back(db, job.id, job.kind, job.run_id, job.cancel_requested);
    if (!given) return std::unexpected(given.error());
    job_state = *given;
    if (job_state == "queued") r.next_run_id = job.run_id;
    if (job_state == "cancelled") r.run_state = "cancelled";
  } else if (job.run_state == "running" || job.run_state == "interrupted") {
    if (job.run_state == "running") {
      Statement run(db,
                    "UPDATE runs SET state = 'interrupted', finished_at = ?, error = ? "
                    "WHERE id = ? AND state = 'running'");
      run.bind(now)
          .bind("fleet job " + std::to_string(job.id) + " was taken back from its daemon " +
                job.claimed_by + " (" + job.why + "): the run cannot be trusted")
          .bind(job.run_id);
      if (auto done = run.run(); !done) return std::unexpected(done.error());
      r.run_state = "interrupted";
    }
    if (job.cancel_requested) {
      job_state = "cancelled";  // a client asked to cancel it: no further attempt
    } else if (job.attempts < kMaxFleetAttempts) {
      auto next = next_attempt(db, job.run_id, job.kind);
      if (!next) return std::unexpected(next.error());
      if (auto done = requeue_job(db, job.id, job.kind, *next); !done)
        return std::unexpected(done.error());
      r.next_run_id = *next;
    } else {
      job_state = "failed";
    }
  } else {
    // The run ended (its daemon died between recording it and closing the job).
    job_state = job.run_state == "cancelled" ? "cancelled" : "done";
  }
  if (job_state != "queued")
    if (auto done = close_job(db, job.id, job_state); !done) return std::unexpected(done.error());
  const nlohmann::json detail = {
      {"job", job.id},
      {"from_daemon", job.claimed_by},
      {"run_state", r.run_state},
      {"attempts", job.attempts},
      {"job_state", job_state},
      {"next_run", r.next_run_id ? nlohmann::json(r.next_run_id) : nlohmann::json(nullptr)}};
  auto audited = append_audit_in(db, recovered_by, "system", "fleet.recover",
                                 "run " + std::to_string(job.run_id), "daemon", detail.dump());
  if (!audited) return std::unexpected(audited.error());
  return r;
}

}  // namespace

std::expected<ResultsDb::FleetSubmission, std::string> ResultsDb::submit_fleet_job(
    const NewRun& request, const std::string& kind) {
  std::lock_guard lock(impl_->mutex);
  sql::Connection& db = *impl_->db;
  const auto failed = [&](const std::string& why) {
    return std::unexpected("queueing a fleet job for " + request.roller_serial + ": " + why);
  };
  WriteTransaction tx(db, WriteTransaction::Lock::RowsOnly);
  if (!tx.error().empty()) return failed(tx.error());
  const std::string now = now_utc();
  FleetSubmission made;
  {  // (a statement with RETURNING must be finished before the commit, for SQLite)
    Statement run(db,
                  "INSERT INTO runs (state, suite_file, suite_name, spec_model, roller_serial, "
                  "requester, operator, rig_address, software_version, analysis_method, "
                  "created_at, out_dir, lot) "
                  "VALUES ('queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?) RETURNING id");
    run.bind(request.suite_file)
        .bind(request.suite_name)
        .bind(request.spec_model)
        .bind(request.roller_serial)
        .bind(request.requester)
        .bind(request.operator_name)
        .bind(fleet_rig_address(kind))
        .bind(DERMA_VERSION)
        .bind(analysis::kAnalysisMethodVersion)
        .bind(now)
        .bind(request.lot);
    if (!run.step()) return failed(run.ok() ? "no run id returned" : run.error());
    made.run_id = run.integer(0);
  }
  {
    Statement job(db,
                  "INSERT INTO fleet_jobs (kind, state, run_id, created_at) "
                  "VALUES (?, 'queued', ?, ?) RETURNING id");
    job.bind(kind).bind(made.run_id).bind(now);
    if (!job.step()) return failed(job.ok() ? "no job id returned" : job.error());
    made.job_id = job.integer(0);
  }
  Statement link(db, "UPDATE runs SET fleet_job = ? WHERE id = ?");
  link.bind(made.job_id).bind(made.run_id);
  if (auto done = link.run(); !done) return failed(done.error());
  if (auto done = tx.commit(); !done) return failed(done.error());
  return made;
}

std::expected<FleetHeartbeat, std::string> ResultsDb::fleet_heartbeat(const FleetMember& m) {
  std::lock_guard lock(impl_->mutex);
  sql::Connection& db = *impl_->db;
  const auto failed = [&](const std::string& why) {
    return std::unexpected("fleet heartbeat of " + m.name + ": " + why);
  };
  const std::string me = this_process_identity();
  WriteTransaction tx(db, WriteTransaction::Lock::RowsOnly);
  if (!tx.error().empty()) return failed(tx.error());
  {
    // Two live daemons under one name would renew each other's claims: the second is refused.
    Statement other(db, std::string("SELECT runner, state, ") + db.now_ms_sql() +
                            " - heartbeat_ms, lease_ms FROM fleet_rigs WHERE name = ?");
    other.bind(m.name);
    if (other.step() && other.text(0) != me && other.text(1) != "stopped" &&
        other.integer(2) <= other.integer(3) && !process_is_gone(other.text(0)))
      return failed("another daemon of that name is alive (" + other.text(0) +
                    "): give each daemon its own --name");
    if (!other.ok()) return failed(other.error());
  }
  const std::string now = now_utc();
  Statement upsert(
      db, std::string("INSERT INTO fleet_rigs (name, kind, rig_address, api_url, runner, state, "
                      "rig_serial, calibration_due, current_run, queue_length, started_at, "
                      "heartbeat_at, heartbeat_ms, lease_ms) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ") +
              db.now_ms_sql() +
              ", ?) ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, "
              "rig_address = excluded.rig_address, api_url = excluded.api_url, "
              "started_at = CASE WHEN fleet_rigs.runner = excluded.runner "
              "THEN fleet_rigs.started_at ELSE excluded.started_at END, "
              "runner = excluded.runner, state = excluded.state, "
              "rig_serial = excluded.rig_serial, calibration_due = excluded.calibration_due, "
              "current_run = excluded.current_run, queue_length = excluded.queue_length, "
              "heartbeat_at = excluded.heartbeat_at, heartbeat_ms = excluded.heartbeat_ms, "
              "lease_ms = excluded.lease_ms");
  upsert.bind(m.name)
      .bind(m.kind)
      .bind(m.rig_address)
      .bind(m.api_url)
      .bind(me)
      .bind(m.state)
      .bind(m.rig_serial)
      .bind(m.calibration_due);
  if (m.current_run)
    upsert.bind(*m.current_run);
  else
    upsert.bind(std::optional<int>());
  upsert.bind(m.queue_length).bind(now).bind(now).bind(m.lease_ms);
  if (auto done = upsert.run(); !done) return failed(done.error());

  Statement renew(db, std::string("UPDATE fleet_jobs SET lease_expires_ms = ") + db.now_ms_sql() +
                          " + ? WHERE claimed_by = ? AND state = 'claimed'");
  renew.bind(m.lease_ms).bind(m.name);
  if (auto done = renew.run(); !done) return failed(done.error());
  FleetHeartbeat beat;
  Statement held(db,
                 "SELECT run_id, cancel_requested FROM fleet_jobs "
                 "WHERE claimed_by = ? AND state = 'claimed' ORDER BY id");
  held.bind(m.name);
  while (held.step()) {
    beat.claimed_runs.push_back(held.integer(0));
    if (held.integer(1) != 0) beat.cancel_requested.push_back(held.integer(0));
  }
  if (!held.ok()) return failed(held.error());
  if (auto done = tx.commit(); !done) return failed(done.error());
  return beat;
}

std::expected<std::optional<FleetClaim>, std::string> ResultsDb::claim_fleet_job(
    const FleetMember& m, const std::string& out_dir) {
  std::lock_guard lock(impl_->mutex);
  sql::Connection& db = *impl_->db;
  const auto failed = [&](const std::string& why) {
    return std::unexpected("claiming a fleet job of kind " + m.kind + ": " + why);
  };
  WriteTransaction tx(db, WriteTransaction::Lock::RowsOnly);
  if (!tx.error().empty()) return failed(tx.error());
  FleetClaim claim;
  {
    // (The join skips a job whose run is not queued, should one ever be inconsistent, rather
    // than let it block every claim of its kind.)
    Statement next(db,
                   "SELECT j.id, j.run_id, j.attempts FROM fleet_jobs j JOIN runs r "
                   "ON r.id = j.run_id WHERE j.state = 'queued' AND j.kind = ? AND "
                   "r.state = 'queued' ORDER BY j.id LIMIT 1" +
                       row_locks(db, "j"));
    next.bind(m.kind);
    if (!next.step()) {
      if (!next.ok()) return failed(next.error());
      if (auto done = tx.commit(); !done) return failed(done.error());
      return std::nullopt;
    }
    claim = {next.integer(0), next.integer(1), static_cast<int>(next.integer(2)) + 1};
  }
  Statement take(db, std::string("UPDATE fleet_jobs SET state = 'claimed', claimed_by = ?, "
                                 "attempts = attempts + 1, lease_expires_ms = ") +
                         db.now_ms_sql() + " + ? WHERE id = ?");
  take.bind(m.name).bind(m.lease_ms).bind(claim.job_id);
  if (auto done = take.run(); !done) return failed(done.error());
  Statement run(db,
                "UPDATE runs SET rig_address = ?, daemon = ?, out_dir = ? "
                "WHERE id = ? AND state = 'queued'");
  run.bind(m.rig_address).bind(m.name).bind(out_dir).bind(claim.run_id);
  if (auto done = run.run(); !done) return failed(done.error());
  if (run.rows_changed() != 1)
    return failed("run " + std::to_string(claim.run_id) + " of job " +
                  std::to_string(claim.job_id) + " is no longer queued");
  if (auto done = tx.commit(); !done) return failed(done.error());
  return claim;
}

std::expected<std::vector<FleetRecovery>, std::string> ResultsDb::recover_fleet_jobs(
    const std::string& recovered_by, const std::string& daemon) {
  std::lock_guard lock(impl_->mutex);
  sql::Connection& db = *impl_->db;
  const auto failed = [](const std::string& why) {
    return std::unexpected("recovering fleet jobs: " + why);
  };
  const std::string me = this_process_identity();
  WriteTransaction tx(db);  // the writer lock: recoveries are audited
  if (!tx.error().empty()) return failed(tx.error());
  std::vector<HeldJob> held;
  {
    Statement s(db, std::string("SELECT j.id, j.run_id, j.kind, j.claimed_by, j.attempts, r.state, "
                                "r.runner, j.cancel_requested, CASE WHEN j.lease_expires_ms < ") +
                        db.now_ms_sql() +
                        " THEN 1 ELSE 0 END FROM fleet_jobs j JOIN runs r ON r.id = j.run_id "
                        "WHERE j.state = 'claimed' ORDER BY j.id" +
                        row_locks(db, "j"));
    while (s.step()) {
      // Taken back: a lease that ran out; every claim of `daemon`; a run whose process is
      // known gone (it died on this host); a run that ended without its job being closed.
      const std::string run_state = s.text(5);
      const bool expired = s.integer(8) != 0;
      // (process_is_gone counts this very process as gone: its own runs are not judged so.)
      const bool gone = run_state == "running" && s.text(6) != me && process_is_gone(s.text(6));
      const bool ended = run_state == "interrupted";  // by a bench from before the fleet
      if (!(expired || s.text(3) == daemon || gone || ended)) continue;
      HeldJob job;
      job.id = s.integer(0);
      job.run_id = s.integer(1);
      job.kind = s.text(2);
      job.claimed_by = s.text(3);
      job.attempts = static_cast<int>(s.integer(4));
      job.run_state = s.text(5);
      job.cancel_requested = s.integer(7) != 0;
      job.why = s.text(3) == daemon ? "it started again while holding it"
                : gone              ? "its process on this host ended"
                : expired           ? "no heartbeat for a whole lease"
                                    : "its run was interrupted";
      held.push_back(std::move(job));
    }
    if (!s.ok()) return failed(s.error());
  }
  std::vector<FleetRecovery> recovered;
  for (const HeldJob& job : held) {
    auto r = recover(db, job, recovered_by);
    if (!r) return failed(r.error());
    recovered.push_back(*r);
  }
  if (auto done = tx.commit(); !done) return failed(done.error());
  return recovered;
}

std::expected<bool, std::string> ResultsDb::start_fleet_run(std::int64_t run_id,
                                                            const std::string& daemon) {
  std::lock_guard lock(impl_->mutex);
  sql::Connection& db = *impl_->db;
  const auto failed = [&](const std::string& why) {
    return std::unexpected("starting run " + std::to_string(run_id) + ": " + why);
  };
  WriteTransaction tx(db);  // as set_state: queued -> running happens once, under the lock
  if (!tx.error().empty()) return failed(tx.error());
  const std::string now = now_utc();
  Statement start(db,
                  "UPDATE runs SET state = 'running', started_at = ?, runner = ? "
                  "WHERE id = ? AND state = 'queued' AND EXISTS (SELECT 1 FROM fleet_jobs j "
                  "WHERE j.run_id = runs.id AND j.state = 'claimed' AND j.claimed_by = ?)");
  start.bind(now).bind(this_process_identity()).bind(run_id).bind(daemon);
  if (auto done = start.run(); !done) return failed(done.error());
  const bool started = start.rows_changed() == 1;
  if (auto done = tx.commit(); !done) return failed(done.error());
  return started;
}

std::expected<FleetJobState, std::string> ResultsDb::finish_fleet_job(std::int64_t run_id,
                                                                      const std::string& daemon,
                                                                      bool retry) {
  std::lock_guard lock(impl_->mutex);
  sql::Connection& db = *impl_->db;
  const auto failed = [&](const std::string& why) {
    return std::unexpected("closing the fleet job of run " + std::to_string(run_id) + ": " + why);
  };
  WriteTransaction tx(db, WriteTransaction::Lock::RowsOnly);
  if (!tx.error().empty()) return failed(tx.error());
  std::int64_t job = 0;
  std::string kind, run_state;
  int attempts = 0;
  bool cancel_requested = false;
  {
    Statement s(db,
                "SELECT j.id, j.kind, j.attempts, j.cancel_requested, r.state FROM fleet_jobs j "
                "JOIN runs r ON r.id = j.run_id WHERE j.run_id = ? AND j.claimed_by = ? AND "
                "j.state = 'claimed'" +
                    row_locks(db, "j", Locked::Wait));
    s.bind(run_id).bind(daemon);
    if (s.step()) {
      job = s.integer(0);
      kind = s.text(1);
      attempts = static_cast<int>(s.integer(2));
      cancel_requested = s.integer(3) != 0;
      run_state = s.text(4);
    }
    if (!s.ok()) return failed(s.error());
  }
  // Not this daemon's (any more), or its run has not ended: nothing to close.
  if (job == 0 || run_state == "queued" || run_state == "running") {
    if (auto done = tx.commit(); !done) return failed(done.error());
    return FleetJobState::Claimed;
  }
  FleetJobState outcome = run_state == "cancelled" ? FleetJobState::Cancelled : FleetJobState::Done;
  if (retry && run_state != "cancelled" && !cancel_requested) {
    outcome = attempts < kMaxFleetAttempts ? FleetJobState::Queued : FleetJobState::Failed;
    if (outcome == FleetJobState::Queued) {
      auto next = next_attempt(db, run_id, kind);
      if (!next) return failed(next.error());
      if (auto done = requeue_job(db, job, kind, *next); !done) return failed(done.error());
    }
  }
  if (outcome != FleetJobState::Queued)
    if (auto done = close_job(db, job, to_string(outcome)); !done) return failed(done.error());
  if (auto done = tx.commit(); !done) return failed(done.error());
  return outcome;
}

std::expected<bool, std::string> ResultsDb::release_fleet_run(const std::string& daemon,
                                                              std::int64_t run_id) {
  std::lock_guard lock(impl_->mutex);
  sql::Connection& db = *impl_->db;
  const auto failed = [&](const std::string& why) {
    return std::unexpected("giving back run " + std::to_string(run_id) + ": " + why);
  };
  WriteTransaction tx(db, WriteTransaction::Lock::RowsOnly);
  if (!tx.error().empty()) return failed(tx.error());
  std::int64_t job = 0;
  std::string kind;
  bool cancel_requested = false;
  {
    Statement s(db,
                "SELECT j.id, j.kind, j.cancel_requested FROM fleet_jobs j JOIN runs r "
                "ON r.id = j.run_id WHERE j.run_id = ? AND j.claimed_by = ? AND "
                "j.state = 'claimed' AND r.state = 'queued'" +
                    row_locks(db, "j", Locked::Wait));
    s.bind(run_id).bind(daemon);
    if (s.step()) {
      job = s.integer(0);
      kind = s.text(1);
      cancel_requested = s.integer(2) != 0;
    }
    if (!s.ok()) return failed(s.error());
  }
  if (job != 0)
    if (auto given = give_back(db, job, kind, run_id, cancel_requested); !given)
      return failed(given.error());
  if (auto done = tx.commit(); !done) return failed(done.error());
  return job != 0;
}

std::expected<int, std::string> ResultsDb::leave_fleet(const std::string& daemon) {
  std::lock_guard lock(impl_->mutex);
  sql::Connection& db = *impl_->db;
  const auto failed = [&](const std::string& why) {
    return std::unexpected("leaving the fleet (" + daemon + "): " + why);
  };
  WriteTransaction tx(db, WriteTransaction::Lock::RowsOnly);
  if (!tx.error().empty()) return failed(tx.error());
  struct Unstarted {
    std::int64_t job = 0, run = 0;
    std::string kind;
    bool cancel_requested = false;
  };
  std::vector<Unstarted> unstarted;
  {
    Statement s(db,
                "SELECT j.id, j.run_id, j.kind, j.cancel_requested FROM fleet_jobs j JOIN runs r "
                "ON r.id = j.run_id WHERE j.claimed_by = ? AND j.state = 'claimed' AND "
                "r.state = 'queued'" +
                    row_locks(db, "j", Locked::Wait));
    s.bind(daemon);
    while (s.step())
      unstarted.push_back({s.integer(0), s.integer(1), s.text(2), s.integer(3) != 0});
    if (!s.ok()) return failed(s.error());
  }
  for (const Unstarted& u : unstarted)
    if (auto given = give_back(db, u.job, u.kind, u.run, u.cancel_requested); !given)
      return failed(given.error());
  Statement stopped(db,
                    "UPDATE fleet_rigs SET state = 'stopped', current_run = NULL, "
                    "queue_length = 0, heartbeat_at = ?, heartbeat_ms = " +
                        std::string(db.now_ms_sql()) + " WHERE name = ?");
  stopped.bind(now_utc()).bind(daemon);
  if (auto done = stopped.run(); !done) return failed(done.error());
  if (auto done = tx.commit(); !done) return failed(done.error());
  return static_cast<int>(unstarted.size());
}

std::expected<FleetCancel, std::string> ResultsDb::cancel_fleet_run(std::int64_t run_id,
                                                                    const std::string& reason) {
  std::lock_guard lock(impl_->mutex);
  sql::Connection& db = *impl_->db;
  const auto failed = [&](const std::string& why) {
    return std::unexpected("cancelling run " + std::to_string(run_id) + ": " + why);
  };
  WriteTransaction tx(db);
  if (!tx.error().empty()) return failed(tx.error());
  // Any attempt of a job names it: cancelling an interrupted attempt cancels the job's
  // current run. The row lock waits (a heartbeat renewing the job holds it for a moment).
  Statement job(db,
                "SELECT id, state, run_id FROM fleet_jobs WHERE id = "
                "(SELECT fleet_job FROM runs WHERE id = ?)" +
                    row_locks(db, "", Locked::Wait));
  job.bind(run_id);
  if (!job.step()) {
    if (!job.ok()) return failed(job.error());
    return FleetCancel::NotFleet;
  }
  const std::int64_t job_id = job.integer(0);
  const auto state = fleet_job_state_from(job.text(1));
  const std::int64_t current_run = job.integer(2);
  FleetCancel outcome = FleetCancel::AlreadyOver;
  if (state == FleetJobState::Queued) {
    if (auto done = cancel_unstarted(db, job_id, current_run, reason); !done)
      return failed(done.error());
    outcome = FleetCancel::CancelledQueued;
  } else if (state == FleetJobState::Claimed) {
    Statement ask(db, "UPDATE fleet_jobs SET cancel_requested = 1 WHERE id = ?");
    ask.bind(job_id);
    if (auto done = ask.run(); !done) return failed(done.error());
    outcome = FleetCancel::Requested;
  }
  if (auto done = tx.commit(); !done) return failed(done.error());
  return outcome;
}

std::expected<std::optional<FleetJob>, std::string> ResultsDb::fleet_job_of_run(
    std::int64_t run_id) const {
  std::lock_guard lock(impl_->mutex);
  sql::Connection& db = *impl_->db;
  Statement s(db, "SELECT " + job_columns(db) +
                      " FROM fleet_jobs WHERE id = (SELECT fleet_job FROM runs WHERE id = ?)");
  s.bind(run_id);
  if (s.step()) return job_from(s);
  if (!s.ok())
    return std::unexpected("fleet job of run " + std::to_string(run_id) + ": " + s.error());
  return std::nullopt;
}

std::expected<std::vector<FleetRig>, std::string> ResultsDb::fleet_rigs() const {
  std::lock_guard lock(impl_->mutex);
  sql::Connection& db = *impl_->db;
  Statement s(db, std::string("SELECT name, kind, rig_address, api_url, runner, state, "
                              "rig_serial, calibration_due, current_run, queue_length, "
                              "started_at, heartbeat_at, ") +
                      db.now_ms_sql() + " - heartbeat_ms, lease_ms FROM fleet_rigs ORDER BY name");
  std::vector<FleetRig> rigs;
  while (s.step()) {
    FleetRig r;
    r.name = s.text(0);
    r.kind = s.text(1);
    r.rig_address = s.text(2);
    r.api_url = s.text(3);
    r.runner = s.text(4);
    r.state = s.text(5);
    r.rig_serial = s.text(6);
    r.calibration_due = s.text(7);
    r.current_run = s.optional_integer(8);
    r.queue_length = static_cast<int>(s.integer(9));
    r.started_at = s.text(10);
    r.heartbeat_at = s.text(11);
    r.heartbeat_age_ms = s.integer(12);
    r.lease_ms = s.integer(13);
    rigs.push_back(std::move(r));
  }
  if (!s.ok()) return std::unexpected("fleet members: " + s.error());
  return rigs;
}

std::expected<std::vector<FleetJob>, std::string> ResultsDb::active_fleet_jobs() const {
  std::lock_guard lock(impl_->mutex);
  sql::Connection& db = *impl_->db;
  Statement s(db, "SELECT " + job_columns(db) +
                      " FROM fleet_jobs WHERE state IN ('queued', 'claimed') ORDER BY id");
  std::vector<FleetJob> jobs;
  while (s.step()) jobs.push_back(job_from(s));
  if (!s.ok()) return std::unexpected("fleet jobs: " + s.error());
  return jobs;
}

}  // namespace derma::store
