// `bench serve`'s core: one rig, many clients. Accepts runs over HTTP (docs/api.md), keeps
// them in a FIFO queue, runs them one at a time on a worker thread with the runner, records
// every state change in the results database and its audit log, and streams progress to
// Server-Sent-Event subscribers.
//
// Threads: HTTP requests and event streams live on the io_context's thread; the worker
// thread runs the suites and hands events to the io thread with asio::post.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bench/api/http_server.hpp"
#include "bench/api/metrics.hpp"
#include "bench/api/rig_owner.hpp"
#include "bench/api/run_queue.hpp"
#include "bench/api/tokens.hpp"
#include "bench/report/run_report.hpp"
#include "bench/store/results_db.hpp"

namespace derma::api {

struct DaemonConfig {
  std::string rig = "sim";                       // sim, a device path, usb:SERIAL
  std::string suites_dir = "fixtures/suites";    // submitted suite names resolve here
  std::string rollers_dir = "fixtures/rollers";  // --rig sim: roller files, found by serial
  std::string data_dir = "bench-data";           // runs/<id>/ per run
  std::string db_file;                           // default DATA/dermabench.db
  bool realtime = false;                         // virtual rig in real time
  bool loopback_only = true;                     // reads are open only on loopback
  TokenTable tokens;
  // The fleet (docs/fleet.md). Every daemon of a store is a member under its name; with a
  // kind it also takes fleet jobs of that kind. Heartbeats renew its claims' leases.
  std::string name;            // unique in the store; empty: HOST:PORT once listening
  std::string fleet_kind;      // bench serve --fleet KIND; empty: its own queue only
  std::string sim_rig_serial;  // --rig sim: the serial the virtual rig reports
  std::chrono::milliseconds heartbeat{1000};
  std::chrono::milliseconds lease{15000};
};

class Daemon {
 public:
  // Opens the database, marks runs a crashed daemon left running as interrupted, and
  // re-queues the runs still queued (oldest first).
  static std::expected<std::unique_ptr<Daemon>, std::string> open(DaemonConfig config,
                                                                  boost::asio::io_context& io);
  ~Daemon();

  // Joins the fleet under config.name (or `default_name`), re-queues the runs still queued
  // for this daemon (oldest first), recovers the fleet jobs a previous life of it held, and
  // starts the worker and the heartbeat. `api_url` is where clients reach this daemon.
  std::expected<void, std::string> start(const std::string& default_name,
                                         const std::string& api_url);
  const std::string& name() const { return config_.name; }
  // Stops taking runs, asks the running one to stop (the runner leaves the rig safe) and
  // waits for it to be recorded. Call from a thread other than the io thread while the
  // io_context still runs (the worker posts its last events there).
  void stop();

  Reply handle(const HttpRequest& request);
  void count_response(unsigned status) { metrics_.count_http(status); }
  int requeued_at_start() const { return requeued_; }
  int interrupted_at_start() const { return interrupted_; }

 private:
  Daemon(DaemonConfig config, boost::asio::io_context& io, std::unique_ptr<store::ResultsDb> db);
  std::expected<void, std::string> requeue_own_runs();
  std::expected<std::string, std::string> remembered_name(const std::string& default_name);

  HttpResponse health();
  HttpResponse metrics();
  HttpResponse rig();
  HttpResponse held_rig();
  HttpResponse replace_phantom(const HttpRequest& request, const ApiToken& caller);
  std::string rig_state();  // connected, disconnected or busy
  HttpResponse list_runs(const std::map<std::string, std::string>& query);
  HttpResponse get_run(std::int64_t id);
  HttpResponse get_lot(const std::string& lot);
  HttpResponse submit(const HttpRequest& request, const ApiToken& caller);
  HttpResponse cancel(std::int64_t id, const ApiToken& caller, const std::string& origin);
  HttpResponse run_file(std::int64_t id, const std::string& file);
  Reply events(std::int64_t id);
  // Sends the run's state if it is not `last_state`, and its end once it is final (the
  // stream is finished then: nullopt); returns the state.
  std::optional<std::string> send_state(std::int64_t id, EventStream& stream,
                                        const std::string& last_state);
  // Another daemon of the fleet holds the run: its events come from the store, polled.
  void follow_from_store(std::int64_t id, std::shared_ptr<EventStream> stream,
                         std::string last_state);
  bool holds(const store::RunRow& run);  // this daemon runs (ran) it, not another of the fleet
  std::string daemon_url(const std::string& name);  // a fleet member's API, "" if unknown

  // ---- the fleet (heartbeat thread)
  void fleet_loop();
  store::FleetMember member();
  bool heartbeat();
  void watch_lease();
  void stop_unclaimed_run(std::int64_t id, const std::string& reason);
  void recover_expired_jobs();
  void release_stray_claims(const std::vector<std::int64_t>& claimed_runs);
  void claim_fleet_job();
  bool ready_for_fleet_work();
  // A run whose end could not be recorded (the store was unreachable): kept and retried.
  void settle_pending_ends();
  void finish_fleet_job(std::int64_t id, bool retry);
  bool is_fleet_run(std::int64_t id);

  void work();
  // Phantom lanes of a held device rig (docs/api.md, "Phantom lanes"): a lane rolled once
  // holds that roll's channels, so every run on a held rig rolls on a lane no earlier run
  // used on this rig's phantom lot. Null when the rig is not connected or reports no lanes.
  struct TrayState {
    std::string rig_serial, phantom_lot;
    int lanes = 0;
    int used = 0;
    bool exhausted() const { return used >= lanes; }
  };
  std::optional<TrayState> tray_state();
  bool phantom_exhausted();  // false for --rig sim and while the rig's tray is unknown
  // The worker, on an exhausted tray: waits (the run stays queued) until the phantom is
  // replaced, the daemon stops, or a short while passes (the rig may have reconnected with
  // a new phantom lot).
  void wait_for_phantom();
  void execute(std::int64_t id, rig::RigClient* held_rig);
  // execute() once the run is `running`; throws on what the run cannot survive.
  void run_started(std::int64_t id, const store::RunRow& run, rig::RigClient* held_rig);
  // Ends a run that cannot go on: `error` with the reason, audited, end event to subscribers.
  void fail_run(std::int64_t id, const std::string& message);
  std::string run_dir(std::int64_t id) const;
  std::string owner_of(std::int64_t id);
  void audit(const std::string& actor, const std::string& role, const std::string& action,
             std::int64_t id, const std::string& origin, const std::string& detail_json);
  std::optional<std::string> run_json(std::int64_t id);

  // Event fan-out; io thread only.
  void publish(std::int64_t id, const std::string& event, const std::string& data);
  void publish_end(std::int64_t id);
  void post_event(std::int64_t id, std::string event, std::string data);
  void post_end(std::int64_t id);

  DaemonConfig config_;
  boost::asio::io_context& io_;
  std::unique_ptr<store::ResultsDb> db_;
  RunQueue queue_;
  Metrics metrics_;
  std::thread worker_;
  int requeued_ = 0;
  int interrupted_ = 0;
  // A device rig, held open for the daemon's life; null with `sim` (each run starts rigsim).
  std::unique_ptr<RigOwner> rig_owner_;
  std::string api_url_;
  std::thread fleet_thread_;
  std::thread lease_watchdog_;
  // When the claims' leases were last renewed (a heartbeat's send time), steady clock ticks.
  std::atomic<std::chrono::steady_clock::rep> last_renewal_{0};

  std::mutex mutex_;                            // guards what follows
  std::map<std::int64_t, std::string> owners_;  // run id -> submitting token name
  std::condition_variable phantom_replaced_;    // wakes wait_for_phantom
  std::optional<report::RigIdentity> last_rig_;
  std::string last_rig_error_;
  bool rig_connected_ = false;
  std::condition_variable fleet_wake_;  // the heartbeat's sleep, cut short by stop()
  bool fleet_stopping_ = false;
  std::set<std::int64_t> fleet_runs_;  // runs of fleet jobs this daemon claimed
  struct PendingEnd {
    std::int64_t id = 0;
    std::string message;
  };
  std::vector<PendingEnd> pending_ends_;        // ends the store did not take yet
  std::map<std::int64_t, bool> unclosed_jobs_;  // ended runs whose job is not closed: retry?
  bool store_unreachable_ = false;              // logged once per outage
  std::string lost_claim_reason_;               // why the running run was stopped, if it was

  std::map<std::int64_t, std::vector<std::shared_ptr<EventStream>>> subscribers_;  // io thread
};

// A roller file under `dir` whose `serial:` is `serial`; nullopt when there is none.
std::optional<std::string> find_roller_file(const std::string& dir, const std::string& serial);

// A suite name as a client gave it is safe when it is relative and never climbs out of the
// suites directory (no "..", no absolute path, no backslash, no NUL).
bool is_safe_relative_path(const std::string& path);

}  // namespace derma::api
