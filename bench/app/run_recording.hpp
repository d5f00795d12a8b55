// `bench run --db FILE`: the run recorded in the results database, like the daemon's runs:
// created `running` at the start, its report recorded at the end, and run.start /
// run.finish in the audit log (actor $USER, origin "cli").
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <string>

#include "bench/report/run_report.hpp"
#include "bench/store/results_db.hpp"
#include "bench/suite/suite.hpp"

namespace derma::app {

struct RunCommand;

// $USER, else $LOGNAME, else the account of the process (services often run without both).
std::string user_name();

struct RunRecording {
  std::unique_ptr<store::ResultsDb> db;
  std::int64_t run_id = 0;
  std::string actor;
};

std::expected<RunRecording, std::string> start_recording(const RunCommand& cmd,
                                                         const suite::Suite& suite,
                                                         const std::string& operator_name);
std::expected<void, std::string> finish_recording(RunRecording& recording,
                                                  const report::RunReport& report,
                                                  const suite::Suite& suite);

}  // namespace derma::app
