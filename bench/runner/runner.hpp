// Executes a suite on a rig: opens the link (starting the virtual rig for `--rig sim`),
// records every byte to the capture file, runs the steps in order, analyses each roll and
// scan, and writes report.json and junit.xml. Whatever happens, the rig is left safe
// (Abort on any error or interruption) and the capture keeps everything recorded.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "bench/report/run_report.hpp"
#include "bench/suite/suite.hpp"

namespace derma::rig {
class RigClient;
}

namespace derma::runner {

struct RunOptions {
  std::string rig_address = "sim";  // sim, /dev/..., usb:SERIAL
  std::string roller_file;          // --rig sim only: the roller the virtual rig mounts
  std::string roller_serial;        // with a device: the mounted roller's serial (--serial)
  std::string out_dir;
  std::string operator_name;
  bool realtime = false;  // virtual rig in real time
  // Virtual rig session (rigsim --session): another session draws independent roll and
  // scan noise, so repeated runs of one roller are independent trials (bench msa).
  std::uint64_t rigsim_session = 0;
  // Virtual rig only: faults to inject (rigsim --faults, after the suite's own `faults:`)
  // and a seed replacing the roller file's (rigsim --seed).
  std::string rigsim_faults;
  std::optional<std::uint64_t> rigsim_seed;
  // Virtual rig only: the rig serial it reports (rigsim --serial), so the runs of several
  // virtual rigs in one fleet say which rig ran them. Empty: rigsim's default.
  std::string rigsim_serial;
  // Every `lane` step selects this lane instead of the suite's (bench msa: the lane is
  // the study's appraiser). Empty = as the suite says.
  std::optional<int> lane_override;
  // Console progress (one line per step, and roll/scan progress); may be empty.
  std::function<void(const std::string&)> progress;
  // A device rig the caller already holds open (bench serve's RigOwner): the run uses it
  // instead of opening rig_address, and leaves it open. The run still starts with a Hello on
  // it (the rig answers Hello at any time), so the capture holds the rig's identity and
  // replays exactly; the capture's wire tap is attached for the run only. Link counters are
  // the run's share of the client's. Not with `sim`, and the suite's watchdog_ms does not
  // apply: the holder negotiated the watchdog when it connected.
  rig::RigClient* borrowed_rig = nullptr;
  // Set asynchronously (SIGINT/SIGTERM): the runner aborts motion and ends "aborted".
  const std::atomic<bool>* stop_requested = nullptr;
};

// Runs the suite; never throws for rig or input problems: the report says what happened
// (verdict error/aborted with a message) and the exit code follows from it.
// Returns kExitBadInput through `report.verdict == Error` plus `bad_input`.
struct RunOutcome {
  report::RunReport report;
  int exit_code = 0;
};
RunOutcome run_suite(const suite::Suite& suite, const RunOptions& options);

}  // namespace derma::runner
