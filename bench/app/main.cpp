// `bench`: the command line of the dermaroller bench controller.
//   bench run SUITE --rig sim|DEVICE [--roller FILE | --serial SN] --out DIR
//   bench ports [--json]
// Exit codes (DESIGN section 6): 0 pass, 1 roller failed a check, 2 bad input or usage,
// 3 rig or link error, 4 aborted.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "bench/app/commands.hpp"
#include "bench/report/run_report.hpp"

int main(int argc, char** argv) {
  using namespace derma;
  CLI::App app{"bench: validates dermarollers on a test rig (real or virtual)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("bench ") + DERMA_VERSION);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off")
      ->capture_default_str();

  app::RunCommand run;
  CLI::App* run_cmd = app.add_subcommand("run", "run a validation suite on a rig");
  run_cmd->add_option("suite", run.suite_file, "suite file (YAML)")->required();
  run_cmd->add_option("--rig", run.rig, "sim (the virtual rig), a device path, or usb:SERIAL")
      ->required();
  run_cmd->add_option("--roller", run.roller_file,
                      "roller definition for the virtual rig (--rig sim only)");
  run_cmd->add_option("--serial", run.roller_serial,
                      "serial number of the roller mounted in a real rig");
  run_cmd
      ->add_option("--out", run.out_dir, "directory for report.json, junit.xml and capture.drcap")
      ->required();
  run_cmd->add_option("--spec", run.spec_override,
                      "judge against this spec instead of the suite's");
  run_cmd->add_option("--operator", run.operator_name, "who runs the test (default: $USER)");
  run_cmd->add_flag("--realtime", run.realtime, "run the virtual rig in real time");
  run_cmd->add_option("--faults", run.faults,
                      "faults for the virtual rig to inject (rigsim --faults)");
  run_cmd->add_flag("--quiet", run.quiet, "print only the summary");

  app::PortsCommand ports;
  CLI::App* ports_cmd =
      app.add_subcommand("ports", "list the serial ports with their USB identity");
  ports_cmd->add_flag("--json", ports.json, "machine-readable output");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : report::kExitBadInput;
  }
  spdlog::set_level(spdlog::level::from_str(log_level));

  if (run_cmd->parsed()) return app::run_suite_command(run);
  if (ports_cmd->parsed()) return app::list_ports_command(ports);
  return report::kExitBadInput;
}
