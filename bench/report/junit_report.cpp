#include "bench/report/junit_report.hpp"

#include <iomanip>
#include <sstream>

namespace derma::report {

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const unsigned char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";  // valid in XML and HTML alike
        break;
      default:
        // XML 1.0 forbids most control characters even when escaped.
        if (ch < 0x20 && ch != '\n' && ch != '\t' && ch != '\r')
          out += '?';
        else
          out += static_cast<char>(ch);
    }
  }
  return out;
}

namespace {

std::string check_message(const analysis::CheckResult& check) {
  std::ostringstream msg;
  msg << check.summary;
  for (const auto& f : check.findings) msg << "\n" << f.text;
  return msg.str();
}

void write_testcase(std::ostringstream& xml, const std::string& classname, const std::string& name,
                    const analysis::CheckResult& check) {
  xml << "    <testcase classname=\"" << xml_escape(classname) << "\" name=\"" << xml_escape(name)
      << "\" time=\"0\">\n";
  if (check.verdict == analysis::Verdict::Fail)
    xml << "      <failure message=\"" << xml_escape(check.summary) << "\">"
        << xml_escape(check_message(check)) << "</failure>\n";
  if (check.verdict == analysis::Verdict::Error)
    xml << "      <error message=\"" << xml_escape(check.summary) << "\">"
        << xml_escape(check_message(check)) << "</error>\n";
  xml << "    </testcase>\n";
}

}  // namespace

std::string to_junit_xml(const RunReport& r) {
  int failures = 0, errors = 0, tests = 0;
  for (const auto* check : r.all_checks()) {
    ++tests;
    failures += check->verdict == analysis::Verdict::Fail;
    errors += check->verdict == analysis::Verdict::Error;
  }
  // A run that broke before or between checks gets a testcase of its own, so CI sees it.
  const bool run_error = r.verdict == RunVerdict::Error || r.verdict == RunVerdict::Aborted;
  const bool run_error_case = run_error && !r.error.empty();
  tests += run_error_case;
  errors += run_error_case;

  const bool many_rolls = r.rolls.size() > 1;
  std::ostringstream xml;
  xml << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml << "<testsuites name=\"dermabench\" tests=\"" << tests << "\" failures=\"" << failures
      << "\" errors=\"" << errors << "\">\n";
  xml << "  <testsuite name=\"" << xml_escape(r.suite_name) << "\" tests=\"" << tests
      << "\" failures=\"" << failures << "\" errors=\"" << errors << "\" time=\"" << std::fixed
      << std::setprecision(3) << r.duration_s << "\" timestamp=\"" << xml_escape(r.started_at)
      << "\" hostname=\"" << xml_escape(r.host_name) << "\">\n";
  xml << "    <properties>\n";
  const std::pair<const char*, std::string> properties[] = {
      {"roller_serial", r.roller_serial},
      {"roller_model", r.roller_model},
      {"spec", r.spec_model},
      {"rig_serial", r.rig.rig_serial},
      {"firmware", r.rig.firmware_version},
      {"verdict", to_string(r.verdict)},
      {"software_version", r.software_version},
      {"analysis_method", std::to_string(r.analysis_method)}};
  for (const auto& [name, value] : properties)
    xml << "      <property name=\"" << name << "\" value=\"" << xml_escape(value) << "\"/>\n";
  xml << "    </properties>\n";
  for (const auto& roll : r.rolls)
    for (const auto& check : roll.analysis.checks)
      write_testcase(
          xml, r.suite_name,
          many_rolls ? check.id + " (roll " + std::to_string(roll.roll_index) + ")" : check.id,
          check);
  if (run_error_case) {
    xml << "    <testcase classname=\"" << xml_escape(r.suite_name)
        << "\" name=\"run\" time=\"0\">\n";
    xml << "      <error message=\"" << xml_escape(to_string(r.verdict)) << "\">"
        << xml_escape(r.error) << "</error>\n    </testcase>\n";
  }
  xml << "  </testsuite>\n</testsuites>\n";
  return xml.str();
}

}  // namespace derma::report
