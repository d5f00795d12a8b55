// The fleet's records (docs/fleet.md): the daemons of one store and the work queue they share.
//
// Every `bench serve` on a store is a member of its fleet: it says who it is (its name, the
// rig it holds, where its HTTP API answers) and how it is (idle, busy, disconnected), once
// a heartbeat. A daemon with a kind (`bench serve --fleet KIND`) also takes fleet jobs: work
// queued for "any free rig of this kind" (`bench submit --fleet`), claimed one at a time
// with PostgreSQL's SELECT ... FOR UPDATE SKIP LOCKED (on SQLite, under its one writer lock).
//
// A claim is a lease the claiming daemon's heartbeats renew. A daemon that dies stops
// renewing it; once the lease has run out, by the database's clock, any daemon of the store
// recovers the job: a job whose run had not started is queued again as it is; a run that
// had started is marked `interrupted` (it cannot be trusted, and it is kept on record) and
// the job is queued again as a fresh run, up to kMaxFleetAttempts times. A daemon that
// cannot renew its lease stops its run before the lease can run out, so a job is never
// run by two rigs at once and never finishes twice.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace derma::store {

inline constexpr int kMaxFleetAttempts = 3;  // claims of one job before it is given up

// What a daemon says of itself with each heartbeat.
struct FleetMember {
  std::string name;         // unique in the store (bench serve --name; default HOST:PORT)
  std::string kind;         // the fleet jobs it takes; empty: none (it serves its own queue)
  std::string rig_address;  // --rig
  std::string api_url;      // where its HTTP API answers, for clients following its runs
  std::string state;        // idle, busy, disconnected (the rig), stopped (the daemon)
  std::string rig_serial;   // empty until the rig has said who it is
  std::string calibration_due;
  std::optional<std::int64_t> current_run;
  int queue_length = 0;
  std::int64_t lease_ms = 15000;  // how long its claims last without a heartbeat
};

// A member as the store last heard of it.
struct FleetRig : FleetMember {
  std::string runner;                 // the process (host/pid/start), see process_identity.hpp
  std::string started_at;             // when this process first reported, ISO 8601 UTC
  std::string heartbeat_at;           // its last heartbeat, ISO 8601 UTC
  std::int64_t heartbeat_age_ms = 0;  // by the database's clock
  // Silent for longer than its own lease, and not stopped: it died or lost the store.
  bool lost() const { return state != "stopped" && heartbeat_age_ms > lease_ms; }
};

enum class FleetJobState { Queued, Claimed, Done, Failed, Cancelled };
const char* to_string(FleetJobState);
std::optional<FleetJobState> fleet_job_state_from(const std::string&);

struct FleetJob {
  std::int64_t id = 0;
  std::string kind;
  FleetJobState state = FleetJobState::Queued;
  std::int64_t run_id = 0;                    // its current (or last) run
  int attempts = 0;                           // claims so far
  std::string claimed_by;                     // the daemon holding it; empty while queued
  std::optional<std::int64_t> lease_left_ms;  // while claimed, by the database's clock
  bool cancel_requested = false;
  std::string created_at, finished_at;
};

// A claimed job, as the claiming daemon gets it: its run is queued and now the daemon's.
struct FleetClaim {
  std::int64_t job_id = 0;
  std::int64_t run_id = 0;
  int attempt = 1;
};

// What a heartbeat learnt of the daemon's claims.
struct FleetHeartbeat {
  std::vector<std::int64_t> claimed_runs;      // runs whose jobs it still holds
  std::vector<std::int64_t> cancel_requested;  // of those, the ones a client cancelled
};

// One job taken back from a daemon whose lease ran out (for the audit log and the logs).
struct FleetRecovery {
  std::int64_t job_id = 0;
  std::string from_daemon;
  std::int64_t run_id = 0;       // the run the daemon held
  std::string run_state;         // what became of it: queued (untouched) or interrupted
  std::int64_t next_run_id = 0;  // the job's new run, 0 when the job was given up
};

enum class FleetCancel {
  NotFleet,         // the run is no fleet job's current run
  CancelledQueued,  // the job was waiting: it and its run are cancelled
  Requested,        // a daemon holds it: it stops the run at its next heartbeat
  AlreadyOver,      // the job is done, failed or cancelled
};

}  // namespace derma::store
