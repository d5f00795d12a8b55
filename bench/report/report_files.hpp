// Writes a run's report files into a directory: report.json, report.html and junit.xml. Live runs
// and replay (`bench analyze`) both write through this, so their outputs cannot drift apart.
#pragma once

#include <expected>
#include <functional>
#include <ostream>
#include <string>

#include "bench/report/run_report.hpp"

namespace derma::report {

// Writes `text` to `path` through a temporary file renamed over it, so a reader sees the old
// file or the new one, never half of one. `durable` also fsyncs the file and its directory
// before returning (for records that must survive a crash the moment they are reported).
std::expected<void, std::string> write_file_atomically(const std::string& path,
                                                       const std::string& text,
                                                       bool durable = false);
// The same, for a file written piece by piece into the stream, never held whole in memory.
std::expected<void, std::string> write_file_atomically(
    const std::string& path, const std::function<void(std::ostream&)>& write, bool durable = false);

// Each file is written to a temporary name and renamed, so a reader never sees half a
// report. The error names the file that could not be written.
std::expected<void, std::string> write_report_files(const RunReport& report,
                                                    const std::string& dir);

}  // namespace derma::report
