#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>

#include "bench/app/commands.hpp"
#include "bench/app/run_recording.hpp"
#include "bench/report/console_summary.hpp"
#include "bench/runner/runner.hpp"
#include "bench/suite/suite.hpp"

namespace derma::app {

namespace {

std::atomic<bool> g_stop_requested{false};
extern "C" void on_stop_signal(int) {
  g_stop_requested = true;
}

int usage_error(const std::string& message) {
  std::cerr << "bench run: " << message << "\n";
  return report::kExitBadInput;
}

}  // namespace

int run_suite_command(const RunCommand& cmd) {
  const bool sim = cmd.rig == "sim";
  if (sim && cmd.roller_file.empty())
    return usage_error("--rig sim needs --roller FILE (the roller the virtual rig mounts)");
  if (!sim && !cmd.roller_file.empty())
    return usage_error(
        "--roller belongs to --rig sim only: a real rig rolls whatever roller is mounted (use "
        "--serial SN)");
  if (sim && !cmd.roller_serial.empty())
    return usage_error("--serial is for a real rig; the roller file gives the serial");
  if (!sim && (!cmd.faults.empty() || cmd.seed))
    return usage_error("--faults and --seed belong to --rig sim only (the virtual rig)");

  if (!cmd.lot.empty() && cmd.db_path.empty())
    return usage_error("--lot needs --db: a lot's runs are recorded in the results database");
  if (!cmd.lot.empty() && !sim && cmd.roller_serial.empty())
    return usage_error("--lot needs --serial SN with a device rig: a lot counts rollers by serial");

  auto loaded = suite::load_suite(cmd.suite_file);
  if (loaded && !cmd.spec_override.empty())
    loaded = suite::with_spec(std::move(*loaded), cmd.spec_override);
  if (!loaded) {
    std::cerr << "bench run: invalid input: " << loaded.error().to_string() << "\n";
    return report::kExitBadInput;
  }

  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);

  runner::RunOptions options;
  options.rig_address = cmd.rig;
  options.roller_file = cmd.roller_file;
  options.roller_serial = cmd.roller_serial;
  options.out_dir = cmd.out_dir;
  options.operator_name = cmd.operator_name;
  if (options.operator_name.empty()) options.operator_name = user_name();
  options.realtime = cmd.realtime;
  options.rigsim_faults = cmd.faults;
  options.rigsim_seed = cmd.seed;
  options.stop_requested = &g_stop_requested;
  if (!cmd.quiet)
    options.progress = [](const std::string& line) { std::cerr << line << std::endl; };

  std::optional<RunRecording> recording;
  if (!cmd.db_path.empty()) {
    auto started = start_recording(cmd, *loaded, options.operator_name);
    if (!started) return usage_error(started.error());
    recording = std::move(*started);
  }

  const runner::RunOutcome outcome = runner::run_suite(*loaded, options);
  std::cout << report::console_summary(outcome.report);
  std::cout << "report: " << cmd.out_dir << "/report.json, " << cmd.out_dir << "/junit.xml, "
            << cmd.out_dir << "/report.html, capture: " << outcome.report.capture_file << "\n";
  if (outcome.exit_code == report::kExitBadInput && !outcome.report.error.empty())
    std::cerr << "bench run: invalid input: " << outcome.report.error << "\n";
  if (recording) {
    std::cout << "recorded: run " << recording->run_id << " in "
              << store::redacted_location(resolve_db_path(cmd.db_path)) << "\n";
    if (auto recorded = finish_recording(*recording, outcome.report, *loaded); !recorded) {
      std::cerr << "bench run: results database: " << recorded.error() << "\n";
      // A pass that left no record is not a pass anyone can trace: a bench error.
      if (outcome.exit_code == report::kExitPass) return report::kExitRigError;
    }
  }
  return outcome.exit_code;
}

}  // namespace derma::app
