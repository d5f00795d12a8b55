// report.html: the page an engineer reads after a run. One self-contained document (inline
// CSS, inline SVG plots, no scripts, fonts or network): the verdict and the run's identity,
// the defects found, the table of checks, and per analysed roll the force/Z trace, the
// channel map, the depth histogram and the per-needle depth grid. Built only from the
// RunReport, so `bench run` and a later replay produce the same page from the same data.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "bench/report/run_report.hpp"

namespace derma::report {

std::string to_html(const RunReport& report);
// The same page, written to `out` section by section (report files: a long run's page is
// never held whole in memory).
void write_html(std::ostream& out, const RunReport& report);

// The page's stylesheet (verdict badges, pills, tables, meta grid, print rules), for other
// pages that share its look: the lot certificate.
std::string_view report_css();

}  // namespace derma::report
