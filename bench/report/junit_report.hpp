// junit.xml for CI systems: one <testsuite> per run, one <testcase> per check (classname =
// suite name, name = check id, with roll index when a suite rolls more than once), failed
// checks as <failure>, checks that could not be computed and run errors as <error>.
#pragma once

#include <string>

#include "bench/report/run_report.hpp"

namespace derma::report {

std::string to_junit_xml(const RunReport&);
std::string xml_escape(const std::string&);

}  // namespace derma::report
