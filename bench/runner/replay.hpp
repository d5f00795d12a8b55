// Replay: re-analyses a recorded run from its capture file alone, without a rig. The link
// bytes are decoded again, the rolls and scans rebuilt with the same record builders as a
// live run, and the checks re-run with the suite and spec embedded in the capture (or
// against another spec), so any run can be audited or re-judged years later.
#pragma once

#include <expected>
#include <optional>
#include <string>

#include "bench/report/run_report.hpp"

namespace derma::runner {

struct ReplayOptions {
  std::string capture_file;
  std::optional<std::string> spec_file;  // re-judge against this spec instead of the embedded one
};

struct ReplayError {
  bool bad_input = true;  // the capture or the spec is unreadable or inconsistent
  std::string message;    // names the file and what is wrong with it
};

std::expected<report::RunReport, ReplayError> replay_capture(const ReplayOptions&);

}  // namespace derma::runner
