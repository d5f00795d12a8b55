// The human-readable end of a run: one aligned row per check, findings under any that
// did not pass, and the run verdict.
#pragma once

#include <string>

#include "bench/report/run_report.hpp"

namespace derma::report {

std::string console_summary(const RunReport&);

}  // namespace derma::report
