#include "bench/client/run_summary.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace derma::client {

namespace {

constexpr std::size_t kFindingsShown = 5;

std::string text(const nlohmann::json& j, const char* key) {
  if (j.is_object() && j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  return "";
}

const nlohmann::json& member(const nlohmann::json& j, const char* key) {
  static const nlohmann::json null_value;
  return j.is_object() && j.contains(key) ? j[key] : null_value;
}

std::string format_number(const nlohmann::json& value) {
  if (!value.is_number()) return "-";
  const double v = value.get<double>();
  if (!std::isfinite(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, std::fabs(v) >= 100 ? "%.1f" : "%.2f", v);
  return buf;
}

std::string format_limits(const nlohmann::json& check) {
  const auto& lower = member(check, "lower_limit");
  const auto& upper = member(check, "upper_limit");
  if (lower.is_number() && upper.is_number())
    return "[" + format_number(lower) + ", " + format_number(upper) + "]";
  if (upper.is_number()) return "<= " + format_number(upper);
  if (lower.is_number()) return ">= " + format_number(lower);
  return "";
}

std::string upper_case(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string check_rows(const nlohmann::json& checks, bool many_rolls) {
  if (!checks.is_array() || checks.empty()) return "";
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "  %-20s %-7s %10s  %-6s %s\n", "check", "verdict", "value",
                "unit", "limits");
  out += line;
  for (const auto& c : checks) {
    std::string id = text(c, "id");
    if (many_rolls && member(c, "roll").is_number_integer())
      id += "#" + std::to_string(c["roll"].get<int>());
    const std::string verdict = text(c, "verdict");
    std::snprintf(line, sizeof line, "  %-20s %-7s %10s  %-6s %s\n", id.c_str(),
                  upper_case(verdict).c_str(), format_number(member(c, "value")).c_str(),
                  text(c, "unit").c_str(), format_limits(c).c_str());
    out += line;
    if (verdict == "pass") continue;
    if (!text(c, "summary").empty()) out += "      " + text(c, "summary") + "\n";
    const auto& findings = member(c, "findings");
    if (!findings.is_array()) continue;
    for (std::size_t i = 0; i < findings.size() && i < kFindingsShown; ++i)
      out += "      - " + text(findings[i], "text") + "\n";
    if (findings.size() > kFindingsShown)
      out += "      ... and " + std::to_string(findings.size() - kFindingsShown) +
             " more in report.json\n";
  }
  return out;
}

}  // namespace

std::string summary_from_report(const nlohmann::json& r) {
  std::string out;
  char line[512];
  const auto& roller = member(r, "roller");
  const auto& rig = member(r, "rig");
  const std::string serial = text(roller, "serial");
  std::snprintf(line, sizeof line, "%s: roller %s (%s) against %s on rig %s [%s]\n",
                text(member(r, "suite"), "name").c_str(), serial.empty() ? "?" : serial.c_str(),
                text(roller, "model").c_str(), text(member(r, "spec"), "model").c_str(),
                text(rig, "serial").c_str(), text(rig, "firmware_version").c_str());
  out += line;
  const auto& rolls = member(r, "rolls");
  out += check_rows(member(r, "checks"), rolls.is_array() && rolls.size() > 1);
  if (!text(r, "error").empty()) out += "  " + text(r, "error") + "\n";
  const auto& duration = member(r, "duration_s");
  std::snprintf(line, sizeof line, "verdict: %s (exit %d) in %.1f s\n",
                upper_case(text(r, "verdict")).c_str(),
                member(r, "exit_code").is_number_integer() ? r["exit_code"].get<int>() : -1,
                duration.is_number() ? duration.get<double>() : 0.0);
  out += line;
  return out;
}

std::string summary_of(const SubmittedRun& run) {
  std::string out;
  if (run.report.is_object()) {
    out = summary_from_report(run.report);
  } else {
    // No report: what the server's run record says.
    char line[512];
    std::string suite = text(run.row, "suite_name");
    if (suite.empty()) suite = run.suite;
    std::snprintf(line, sizeof line, "%s: roller %s, run %lld on rig %s\n", suite.c_str(),
                  run.roller_serial.c_str(), static_cast<long long>(run.id),
                  text(run.row, "rig_serial").empty() ? "?" : text(run.row, "rig_serial").c_str());
    out += line;
    out += check_rows(member(run.row, "checks"), false);
    if (!text(run.row, "error").empty() && text(run.row, "error") != run.error)
      out += "  " + text(run.row, "error") + "\n";
  }
  if (!run.error.empty() && (!run.report.is_object() || text(run.report, "error") != run.error))
    out += "  " + run.error + "\n";
  char line[256];
  std::snprintf(line, sizeof line, "run %lld: %s (exit %d)\n", static_cast<long long>(run.id),
                run.state.empty() ? "unknown" : run.state.c_str(), run.exit_code);
  out += line;
  return out;
}

}  // namespace derma::client
