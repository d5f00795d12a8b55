// The console end of a submitted run, from what the server sent back: the same aligned
// table as `bench run` prints (bench/report/console_summary.hpp), built from report.json
// when it was downloaded, else from the final RunRow (a run cancelled before it started
// has no report, only a state and perhaps an error).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "bench/client/submit.hpp"

namespace derma::client {

std::string summary_from_report(const nlohmann::json& report);
std::string summary_of(const SubmittedRun& run);

}  // namespace derma::client
