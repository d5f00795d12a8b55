// A suite that asks for what only the virtual rig does (faults, its phantom, its scanner) is
// refused on a device as bad input (exit 2), before a byte is sent to the rig.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "bench/report/run_report.hpp"
#include "bench/runner/runner.hpp"
#include "bench/suite/suite.hpp"

using namespace derma;

TEST_CASE("a device refuses a suite with the virtual rig's phantom and scanner, exit 2") {
  const std::string suite_file =
      std::string(DERMA_SOURCE_DIR) + "/fixtures/suites/validate-DR-192-0.50-harsh-scan.yaml";
  auto suite = suite::load_suite(suite_file);
  REQUIRE(suite.has_value());
  REQUIRE_FALSE(suite->phantom.yaml.empty());
  const auto out = std::filesystem::temp_directory_path() /
                   ("virtual-rig-only-test-" + std::to_string(::getpid()));
  runner::RunOptions options;
  options.rig_address = "/dev/ttyDOES-NOT-EXIST";  // refused before it is opened
  options.roller_serial = "R1";
  options.out_dir = out.string();
  const runner::RunOutcome outcome = runner::run_suite(*suite, options);
  CHECK(outcome.exit_code == report::kExitBadInput);
  CHECK(outcome.report.verdict == report::RunVerdict::Error);
  INFO(outcome.report.error);
  CHECK(outcome.report.error.find(suite_file + ":11: 'phantom' sets the virtual rig's phantom") !=
        std::string::npos);
  CHECK(outcome.report.error.find("run this suite with --rig sim, not on /dev/ttyDOES-NOT-EXIST") !=
        std::string::npos);
  std::filesystem::remove_all(out);
}
