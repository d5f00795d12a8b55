// The results database: every run the bench made, its checks and measurements, the rollers,
// specs (by content hash), rig identity, operator and software version, plus the
// append-only, hash-chained audit log of every state change. Two backends behind this one
// interface (docs/storage.md): SQLite by default (one file, WAL mode), or PostgreSQL when
// opened with a postgresql:// URL (many daemons on many machines share one database).
// Schema versioned with migrations applied at open, the same for both.
//
// Thread-safety: one ResultsDb per process, internally serialised (a mutex around the
// connection); other processes (bench history, other daemons) may open the same store.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/analysis/method.hpp"
#include "bench/report/run_report.hpp"
#include "bench/store/fleet.hpp"
#include "bench/store/lots.hpp"

namespace derma::store {

// Life of a run (the daemon's queue and `bench run --db` both use it):
//   queued -> running -> passed | failed | error | aborted
//   queued -> cancelled;  running -> cancelled (cancel during a step: the rig is made safe)
//   running -> interrupted (the process died mid-run; marked at the next start)
enum class RunState { Queued, Running, Passed, Failed, Error, Aborted, Cancelled, Interrupted };
const char* to_string(RunState);
std::optional<RunState> run_state_from(const std::string&);
bool is_final(RunState);

struct NewRun {
  std::string suite_file;
  std::string suite_name;
  std::string spec_model;
  std::string roller_serial;
  std::string requester;  // who asked (token name, CI job, user)
  std::string rig_address;
  std::string out_dir;        // where report.json, junit.xml, report.html, capture.drcap go
  std::string operator_name;  // who is at the rig, if known now (record_report fills it too)
  std::string lot;            // the production lot it samples (bench lot), or empty
  std::string daemon;         // the daemon whose queue holds it (bench serve --name), or empty
};

struct RunRow {
  std::int64_t id = 0;
  RunState state = RunState::Queued;
  std::string suite_file, suite_name, spec_model, spec_sha256;
  std::string roller_serial, requester, operator_name;
  std::string rig_address, rig_serial, firmware_version, calibration_due;
  std::string software_version;
  std::string created_at, started_at, finished_at;  // ISO 8601 UTC; empty until known
  std::string verdict;                              // pass, fail, error, aborted; empty until final
  int exit_code = -1;
  std::string error;
  std::string out_dir;
  std::string lot;     // production lot, empty when the run samples none
  std::string daemon;  // the daemon that holds (held) it; empty for bench run --db
  std::optional<std::int64_t> fleet_job;  // the fleet job it is an attempt of
  std::string phantom_lot;
  std::string calibration_date;
  std::optional<double> load_cell_factor;
  // The analysis method that judged the run (bench/analysis/method.hpp): the report's once it
  // is recorded, the creating build's until then; runs recorded before schema version 7, 1.
  int analysis_method = analysis::kUnversionedAnalysisMethod;
};

struct CheckRow {
  std::int64_t run_id = 0;
  int roll = 0;
  std::string id, verdict, unit, summary;
  std::optional<double> value, lower_limit, upper_limit;
};

struct RunFilter {
  std::optional<RunState> state;
  std::optional<std::string> roller_serial;
  std::optional<std::string> spec_model;
  std::optional<std::string> lot;
  int limit = 50;  // newest first
};

struct AuditEntry {
  std::int64_t seq = 0;
  std::string at;         // ISO 8601 UTC
  std::string actor;      // token name or user
  std::string role;       // operator, engineer, ci, system
  std::string action;     // run.submit, run.cancel, run.start, run.finish, ...
  std::string subject;    // e.g. "run 42"
  std::string origin;     // remote address, "cli", "daemon"
  std::string detail;     // JSON text
  std::string prev_hash;  // hex SHA-256 of the previous entry ("" for the first)
  std::string hash;       // hex SHA-256 over prev_hash and this entry's fields
};

struct AuditVerification {
  std::int64_t entries = 0;
  std::optional<std::string> problem;  // first broken link: "entry 17: hash mismatch ..."
};

// A phantom lane a run used on a rig (bench serve with a held device rig).
struct PhantomLane {
  std::string rig_serial;
  std::string phantom_lot;
  int lane = 0;
  std::int64_t run_id = 0;
  std::string used_at;  // ISO 8601 UTC
};

// True for a PostgreSQL connection URL (postgresql://... or postgres://...); anything else
// names a SQLite file.
bool is_postgresql_url(const std::string& location);
// A store location fit for messages and logs: a URL's password replaced by ***.
std::string redacted_location(const std::string& location);

class ResultsDb {
 public:
  // A SQLite file path (created if missing) or a PostgreSQL URL (the database must exist;
  // its tables are created or migrated here). Errors name the location (password hidden).
  static std::expected<std::unique_ptr<ResultsDb>, std::string> open(const std::string& location);
  ~ResultsDb();

  int schema_version() const;

  std::expected<std::int64_t, std::string> create_run(const NewRun&);
  std::expected<void, std::string> set_state(std::int64_t run_id, RunState state,
                                             const std::string& error = "");
  // Final record of a run: verdict, checks, measurements, roller, spec (text + SHA-256),
  // rig identity; state from the verdict. One transaction: all or nothing.
  // The run must be running; or cancelled with an aborted report (cancelled while running:
  // the state stays cancelled, the record is filled in).
  std::expected<void, std::string> record_report(std::int64_t run_id,
                                                 const report::RunReport& report,
                                                 const std::string& spec_text);
  std::expected<std::vector<RunRow>, std::string> list_runs(const RunFilter&) const;
  std::expected<std::optional<RunRow>, std::string> get_run(std::int64_t run_id) const;
  std::expected<std::vector<CheckRow>, std::string> checks_of(std::int64_t run_id) const;
  // At start-up, before this process starts runs: runs left `running` by a process that died
  // become `interrupted`. A run remembers which process runs it (host, pid, start time); runs
  // of a live process on this host, or of a process on another host (another daemon of a
  // shared PostgreSQL store), are left alone.
  std::expected<int, std::string> mark_interrupted_runs();

  // Phantom lanes of (rig, lot). claim_phantom_lane marks the lowest lane of [0, lanes) not
  // yet used as used by run_id and returns it; nullopt when every lane is used (the tray is
  // exhausted). Claims persist across restarts.
  std::expected<std::optional<int>, std::string> claim_phantom_lane(const std::string& rig_serial,
                                                                    const std::string& phantom_lot,
                                                                    int lanes, std::int64_t run_id);
  // Gives back the lanes run_id claimed (a run that never started a roll on them).
  std::expected<void, std::string> release_phantom_lanes_of(std::int64_t run_id);
  // The lanes used on (rig, lot), lowest lane first.
  std::expected<std::vector<PhantomLane>, std::string> phantom_lanes(
      const std::string& rig_serial, const std::string& phantom_lot) const;
  // A replaced phantom: forgets every lane used on (rig, lot); returns how many there were.
  std::expected<int, std::string> reset_phantom_lanes(const std::string& rig_serial,
                                                      const std::string& phantom_lot);

  // Production lots and their certificates (lots.cpp; see lots.hpp).
  // create_lot stores the spec text, the lot and a `lot.create` audit entry in one
  // transaction; it fails if the lot exists.
  std::expected<LotRow, std::string> create_lot(const NewLot&, const std::string& actor,
                                                const std::string& origin);
  std::expected<std::optional<LotRow>, std::string> get_lot(const std::string& lot) const;
  // Every lot of a model, oldest first (the switching rules read this history).
  std::expected<std::vector<LotRow>, std::string> lots_of_model(const std::string& model) const;
  // Every run attached to a lot, oldest first.
  std::expected<std::vector<RunRow>, std::string> runs_of_lot(const std::string& lot) const;
  std::expected<std::vector<MeasurementRow>, std::string> measurements_of(
      std::int64_t run_id) const;
  std::expected<std::optional<std::string>, std::string> spec_text(const std::string& sha256) const;
  // A signer's enrolled Ed25519 public key (hex), if any. enroll_signer records a new one
  // with a `signer.enroll` audit entry; a signer's key cannot be replaced.
  std::expected<std::optional<std::string>, std::string> signer_key(
      const std::string& signer) const;
  std::expected<void, std::string> enroll_signer(const std::string& signer,
                                                 const std::string& public_key_hex,
                                                 const std::string& origin);
  // Stores a signed certificate, closes its lot with the decision, and appends the
  // `lot.certify` audit entry (detail_json), all in one transaction. The lot must be open.
  // Returns the row with its audit_seq.
  std::expected<CertificateRow, std::string> record_certificate(CertificateRow,
                                                                const std::string& origin,
                                                                const std::string& detail_json);
  std::expected<std::optional<CertificateRow>, std::string> get_certificate(
      const std::string& id) const;
  std::expected<std::vector<CertificateRow>, std::string> certificates_of(
      const std::string& lot) const;

  // The fleet (fleet.cpp; see fleet.hpp). submit_fleet_job creates the queued run and its job
  // in one transaction (the run's rig_address is "fleet:KIND" until a daemon claims it).
  struct FleetSubmission {
    std::int64_t job_id = 0, run_id = 0;
  };
  std::expected<FleetSubmission, std::string> submit_fleet_job(const NewRun&,
                                                               const std::string& kind);
  // Records the member's state, renews the leases of the jobs it holds, and says which it
  // still holds (a job recovered by another daemon is no longer among them).
  std::expected<FleetHeartbeat, std::string> fleet_heartbeat(const FleetMember&);
  // The oldest queued job of the member's kind, now claimed by it (its run moves to the
  // member: rig_address, daemon, out_dir); nullopt when none waits.
  std::expected<std::optional<FleetClaim>, std::string> claim_fleet_job(const FleetMember&,
                                                                        const std::string& out_dir);
  // Takes back the claimed jobs whose lease ran out, or every claim of `daemon` when given
  // (a daemon starting again under the same name recovers what its previous life held).
  std::expected<std::vector<FleetRecovery>, std::string> recover_fleet_jobs(
      const std::string& recovered_by, const std::string& daemon = "");
  // Starts a claimed run (queued -> running) only while `daemon` still holds its job, in one
  // transaction: false when the job was taken back meanwhile.
  std::expected<bool, std::string> start_fleet_run(std::int64_t run_id, const std::string& daemon);
  // The run ended: its job, held by `daemon`, is done (or cancelled). With `retry` (the run
  // was stopped by its daemon, not judged: a daemon stop, a lost store) the job is queued
  // again as a new run instead, up to kMaxFleetAttempts claims, then failed. Returns the
  // job's state; Claimed when the run has not ended or the job is not the daemon's.
  std::expected<FleetJobState, std::string> finish_fleet_job(std::int64_t run_id,
                                                             const std::string& daemon,
                                                             bool retry = false);
  // Gives a claimed job whose run has not started back to the fleet (true), unless the run
  // started or the job is no longer the daemon's (false).
  std::expected<bool, std::string> release_fleet_run(const std::string& daemon,
                                                     std::int64_t run_id);
  // A daemon stopping cleanly: the jobs it claimed whose runs never started are queued again
  // for another rig, and it is recorded as stopped.
  std::expected<int, std::string> leave_fleet(const std::string& daemon);
  std::expected<FleetCancel, std::string> cancel_fleet_run(std::int64_t run_id,
                                                           const std::string& reason);
  std::expected<std::optional<FleetJob>, std::string> fleet_job_of_run(std::int64_t run_id) const;
  std::expected<std::vector<FleetRig>, std::string> fleet_rigs() const;
  // Queued and claimed jobs, oldest first.
  std::expected<std::vector<FleetJob>, std::string> active_fleet_jobs() const;

  std::expected<AuditEntry, std::string> append_audit(
      const std::string& actor, const std::string& role, const std::string& action,
      const std::string& subject, const std::string& origin, const std::string& detail_json);
  std::expected<std::vector<AuditEntry>, std::string> audit_log(int limit = 1000) const;
  AuditVerification verify_audit() const;

 private:
  struct Impl;
  explicit ResultsDb(std::unique_ptr<Impl>);
  std::unique_ptr<Impl> impl_;
};

std::string sha256_hex(const std::string& bytes);

}  // namespace derma::store
