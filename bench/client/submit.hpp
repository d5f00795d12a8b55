// `bench submit`: hands a suite to a bench server for one or more rollers, follows the
// runs' progress over Server-Sent Events, waits for their end, downloads what they
// produced and says how they went with the exit codes of `bench run` (API: docs of
// `bench serve`, /api/v1/runs).
//
// A dropped event stream is not the end of a run: the client reads the run's state again
// and reconnects, and gives up (exit 3) only when the server stays unreachable. Ctrl-C and
// the caller's own deadline cancel the runs on the server (exit 4), so a CI job that is
// killed or times out does not leave the rig busy for nobody.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench/client/server_url.hpp"

namespace derma::client {

struct SubmitRequest {
  ServerUrl server;
  std::string token;
  std::string suite;  // a name/relative path under the server's suites directory
  std::vector<std::string> roller_serials;
  std::string requester;
  std::string lot;      // production lot the runs sample, or empty
  std::string fleet;    // run on any free rig of this kind (docs/fleet.md), or empty
  std::string out_dir;  // the files of one roller; DIR/<serial>/ for each of several
  std::optional<std::chrono::milliseconds> timeout;  // from submission to every run's end
};

struct SubmitOptions {
  std::function<void(const std::string&)> progress;   // console lines; may be empty
  const std::atomic<bool>* stop_requested = nullptr;  // set by Ctrl-C
  std::chrono::milliseconds request_timeout{30000};
  // The server sends a keep-alive comment every 15 s: three missed means the stream is dead.
  std::chrono::milliseconds stream_idle_timeout{45000};
  std::chrono::milliseconds reconnect_delay{1000};
  std::chrono::milliseconds server_lost_after{60000};   // unreachable this long: exit 3
  std::chrono::milliseconds cancel_settle_time{10000};  // wait for a cancelled run's end
};

struct SubmittedRun {
  std::string roller_serial;
  std::string suite;  // as submitted
  std::int64_t id = 0;
  std::vector<std::int64_t> interrupted_attempts;  // fleet: earlier runs of the same job
  std::string state;  // the last state seen: final unless the submit was stopped
  int exit_code = 3;
  std::string error;                    // the run's error, or what went wrong fetching it
  std::string out_dir;                  // where its files went
  std::vector<std::string> downloaded;  // file names in out_dir
  nlohmann::json row;                   // the final RunRow (null if never seen)
  nlohmann::json report;                // report.json when downloaded, else null
};

struct SubmitOutcome {
  int exit_code = 3;  // the worst of the runs', or why there are none
  std::string error;  // why the submit failed or stopped; empty when every run ended
  std::vector<SubmittedRun> runs;
};

SubmitOutcome submit_and_wait(const SubmitRequest&, const SubmitOptions& = {});

// passed 0, failed 1, error: the run's exit code if 2 or 3 (else 3), aborted, cancelled and
// interrupted 4; anything else (not final) 3.
int exit_code_for_state(const std::string& state, int reported_exit_code);
bool is_final_state(const std::string& state);
// Several runs: the highest code (0 < 1 fail < 2 bad input < 3 rig error < 4 aborted).
int worst_exit_code(int a, int b);

}  // namespace derma::client
