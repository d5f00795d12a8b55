#include "bench/report/console_summary.hpp"

#include <cmath>
#include <cstdio>
#include <string>

namespace derma::report {

namespace {

std::string format_number(double value) {
  if (!std::isfinite(value)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, std::fabs(value) >= 100 ? "%.1f" : "%.2f", value);
  return buf;
}

std::string format_limits(const analysis::CheckResult& c) {
  if (c.lower_limit && c.upper_limit)
    return "[" + format_number(*c.lower_limit) + ", " + format_number(*c.upper_limit) + "]";
  if (c.upper_limit) return "<= " + format_number(*c.upper_limit);
  if (c.lower_limit) return ">= " + format_number(*c.lower_limit);
  return "";
}

std::string upper(std::string text) {
  for (char& ch : text) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return text;
}

constexpr std::size_t kFindingsShown = 5;

}  // namespace

std::string console_summary(const RunReport& r) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%s: roller %s (%s) against %s on rig %s [%s]\n",
                r.suite_name.c_str(), r.roller_serial.empty() ? "?" : r.roller_serial.c_str(),
                r.roller_model.c_str(), r.spec_model.c_str(), r.rig.rig_serial.c_str(),
                r.rig.firmware_version.c_str());
  out += line;
  if (r.method_differs()) {
    std::snprintf(line, sizeof line,
                  "  note: judged by analysis method %d when recorded, now by method %d; figures "
                  "may differ (%s)\n",
                  *r.recorded_analysis_method, r.analysis_method,
                  analysis::analysis_method_summary(r.analysis_method));
    out += line;
  }
  if (!r.all_checks().empty()) {
    std::snprintf(line, sizeof line, "  %-20s %-7s %10s  %-6s %s\n", "check", "verdict", "value",
                  "unit", "limits");
    out += line;
  }
  const bool many_rolls = r.rolls.size() > 1;
  for (const auto& roll : r.rolls) {
    for (const auto& c : roll.analysis.checks) {
      const std::string id = many_rolls ? c.id + "#" + std::to_string(roll.roll_index) : c.id;
      std::snprintf(line, sizeof line, "  %-20s %-7s %10s  %-6s %s\n", id.c_str(),
                    upper(analysis::to_string(c.verdict)).c_str(), format_number(c.value).c_str(),
                    c.unit.c_str(), format_limits(c).c_str());
      out += line;
      if (c.verdict == analysis::Verdict::Pass) continue;
      out += "      " + c.summary + "\n";
      for (std::size_t i = 0; i < c.findings.size() && i < kFindingsShown; ++i)
        out += "      - " + c.findings[i].text + "\n";
      if (c.findings.size() > kFindingsShown)
        out += "      ... and " + std::to_string(c.findings.size() - kFindingsShown) +
               " more in report.json\n";
    }
  }
  if (!r.error.empty()) out += "  " + r.error + "\n";
  std::snprintf(line, sizeof line, "verdict: %s (exit %d) in %.1f s\n",
                upper(to_string(r.verdict)).c_str(), exit_code_for(r), r.duration_s);
  out += line;
  return out;
}

}  // namespace derma::report
