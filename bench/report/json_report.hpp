// report.json: the machine-readable result of a run (stable top level: verdict, checks[]
// with id, verdict, value, unit). Format documented in README "Reports".
#pragma once

#include <nlohmann/json.hpp>

#include "bench/report/run_report.hpp"

namespace derma::report {

inline constexpr int kReportFormatVersion = 1;

nlohmann::json to_json(const RunReport&);
nlohmann::json to_json(const analysis::CheckResult&);

}  // namespace derma::report
