// report.json: the machine-readable result of a run (stable top level: verdict, checks[]
// with id, verdict, value, unit). Format documented in README "Reports".
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "bench/report/run_report.hpp"

namespace derma::report {

inline constexpr int kReportFormatVersion = 1;

nlohmann::json to_json(const RunReport&);
nlohmann::json to_json(const analysis::CheckResult&);

// The same document as to_json(report).dump(2), written to `out` one roll at a time: the
// whole report as a JSON tree costs several times its text (about 2 MB a roll), so a long
// run would end with a peak of memory that grows with its length (docs/performance.md).
// Keys are in the tree's order except that "checks" and "rolls" come last.
void write_json(std::ostream& out, const RunReport&);

}  // namespace derma::report
