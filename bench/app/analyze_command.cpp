#include <iostream>

#include "bench/app/commands.hpp"
#include "bench/report/console_summary.hpp"
#include "bench/report/report_files.hpp"
#include "bench/runner/replay.hpp"

namespace derma::app {

int analyze_capture_command(const AnalyzeCommand& cmd) {
  runner::ReplayOptions options;
  options.capture_file = cmd.capture_file;
  if (!cmd.spec_override.empty()) options.spec_file = cmd.spec_override;
  auto replayed = runner::replay_capture(options);
  if (!replayed) {
    std::cerr << "bench analyze: invalid input: " << replayed.error().message << "\n";
    return report::kExitBadInput;
  }
  if (auto written = report::write_report_files(*replayed, cmd.out_dir); !written) {
    std::cerr << "bench analyze: " << written.error() << "\n";
    return report::kExitBadInput;
  }
  std::cout << report::console_summary(*replayed);
  std::cout << "re-analysed " << cmd.capture_file << " -> " << cmd.out_dir << "/report.json, "
            << cmd.out_dir << "/junit.xml, " << cmd.out_dir << "/report.html\n";
  return report::exit_code_for(replayed->verdict);
}

}  // namespace derma::app
