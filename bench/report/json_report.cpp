#include "bench/report/json_report.hpp"

#include <cmath>

namespace derma::report {

namespace {

nlohmann::json optional_number(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// JSON has no NaN: a value that could not be computed is null.
nlohmann::json number_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

nlohmann::json needle_of(const std::optional<int>& disc, const std::optional<int>& index) {
  if (!disc || !index) return nullptr;
  return {{"disc", *disc}, {"index", *index}};
}

nlohmann::json to_json(const analysis::Channel& c) {
  return {{"x_um", c.x_um},
          {"y_um", c.y_um},
          {"depth_um", c.depth_um},
          {"area_um2", c.area_um2},
          {"partial", c.partial()},
          {"state", analysis::to_string(c.state)},
          {"floor_readable_share", c.floor_readable_share},
          {"wall_readable_share", c.wall_readable_share},
          {"needle", needle_of(c.disc, c.index)}};
}

// Trace values to a resolution far below the sensors' noise, so 2000 points stay compact.
double rounded(double value, double per_unit) {
  return std::round(value * per_unit) / per_unit;
}

// Column-wise: one array per quantity keeps the document short and easy to plot from.
nlohmann::json to_json(const RollTrace& trace) {
  nlohmann::json x = nlohmann::json::array(), force = nlohmann::json::array(),
                 z = nlohmann::json::array(), pass = nlohmann::json::array();
  for (const TracePoint& p : trace.points) {
    x.push_back(rounded(p.x_mm, 1e4));
    force.push_back(rounded(p.force_mN, 1e2));
    z.push_back(rounded(p.z_um, 1e2));
    pass.push_back(p.pass);
  }
  nlohmann::json steady = nlohmann::json::array();
  for (const SteadySpan& s : trace.steady)
    steady.push_back({{"pass", s.pass},
                      {"x_begin_mm", s.x_begin_mm},
                      {"x_end_mm", s.x_end_mm},
                      {"t_begin_s", s.t_begin_s},
                      {"t_end_s", s.t_end_s}});
  return {{"load_set_mN", trace.load_set_mN},
          {"samples", trace.samples},
          {"steady_segments", steady},
          {"x_mm", x},
          {"force_mN", force},
          {"z_um", z},
          {"pass", pass}};
}

nlohmann::json to_json(const RollAnalysis& roll) {
  nlohmann::json channels = nlohmann::json::array();
  for (const auto& c : roll.analysis.channels) channels.push_back(to_json(c));
  return {{"roll", roll.roll_index},
          {"lane", roll.lane},
          {"scan_delay_s", roll.scan_delay_s},
          {"layer_punctures", roll.layer_punctures},
          {"predicted_channels", roll.analysis.predicted.size()},
          {"channels", channels},
          {"trace", to_json(roll.trace)}};
}

}  // namespace

nlohmann::json to_json(const analysis::CheckResult& check) {
  nlohmann::json figures = nlohmann::json::object();
  for (const auto& f : check.figures)
    figures[f.name] = {{"value", number_or_null(f.value)}, {"unit", f.unit}};
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& f : check.findings)
    findings.push_back({{"needle", needle_of(f.disc, f.index)}, {"text", f.text}});
  nlohmann::json out = {{"id", check.id},
                        {"verdict", analysis::to_string(check.verdict)},
                        {"value", number_or_null(check.value)},
                        {"unit", check.unit},
                        {"lower_limit", optional_number(check.lower_limit)},
                        {"upper_limit", optional_number(check.upper_limit)},
                        {"summary", check.summary},
                        {"figures", figures},
                        {"findings", findings}};
  // Distributions per disc / per needle, in the check's unit (penetration_depth).
  const auto groups = [&](const std::vector<analysis::CheckResult::Group>& list) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& g : list) {
      nlohmann::json j = {{"disc", g.disc},
                          {"n", g.n},
                          {"mean", number_or_null(g.mean)},
                          {"sd", number_or_null(g.sd)},
                          {"min", number_or_null(g.min)},
                          {"max", number_or_null(g.max)}};
      if (g.index) j["index"] = *g.index;
      a.push_back(std::move(j));
    }
    return a;
  };
  if (!check.per_disc.empty()) out["per_disc"] = groups(check.per_disc);
  if (!check.per_needle.empty()) out["per_needle"] = groups(check.per_needle);
  return out;
}

namespace {

// One roll's check, as the top-level "checks" array lists it.
nlohmann::json listed_check(const RollAnalysis& roll, const analysis::CheckResult& check) {
  nlohmann::json c = report::to_json(check);  // the public one, not the helpers above
  c["roll"] = roll.roll_index;
  return c;
}

// Everything but the checks and the rolls (the two parts that grow with the run): to_json
// adds them, write_json streams them.
nlohmann::json head(const RunReport& r) {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : r.steps)
    steps.push_back({{"name", s.name},
                     {"line", s.line},
                     {"status", s.status},
                     {"duration_s", s.duration_s},
                     {"message", s.message}});
  return {
      {"format", "dermabench-report"},
      {"format_version", kReportFormatVersion},
      {"verdict", to_string(r.verdict)},
      {"exit_code", exit_code_for(r)},
      {"error", r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error)},
      {"suite", {{"name", r.suite_name}, {"file", r.suite_file}}},
      {"spec", {{"model", r.spec_model}, {"file", r.spec_file}}},
      {"roller", {{"serial", r.roller_serial}, {"model", r.roller_model}}},
      {"rig",
       {{"address", r.rig.address},
        {"port", r.rig.port},
        {"protocol_version", r.rig.protocol_version},
        {"firmware_version", r.rig.firmware_version},
        {"serial", r.rig.rig_serial},
        {"load_cell_factor", r.rig.load_cell_factor},
        {"calibration_date", r.rig.calibration_date},
        {"calibration_due", r.rig.calibration_due},
        {"phantom_lot", r.rig.phantom_lot}}},
      {"analysis_method",
       {{"version", r.analysis_method},
        {"summary", analysis::analysis_method_summary(r.analysis_method)},
        {"recorded_version", r.recorded_analysis_method ? nlohmann::json(*r.recorded_analysis_method)
                                                        : nlohmann::json(nullptr)},
        {"differs_from_recorded", r.method_differs()}}},
      {"host",
       {{"software_version", r.software_version},
        {"hostname", r.host_name},
        {"operator", r.operator_name}}},
      {"started_at", r.started_at},
      {"finished_at", r.finished_at},
      {"duration_s", r.duration_s},
      {"steps", steps},
      {"link", r.link_counters},
      {"capture", r.capture_file},
  };
}

// `text` with every line after the first indented by `spaces`, to nest a dump.
std::string indented(const std::string& text, std::size_t spaces) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (const char c : text) {
    out.push_back(c);
    if (c == '\n') out.append(spaces, ' ');
  }
  return out;
}

std::string dump(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

nlohmann::json to_json(const RunReport& r) {
  nlohmann::json out = head(r);
  out["checks"] = nlohmann::json::array();
  out["rolls"] = nlohmann::json::array();
  for (const auto& roll : r.rolls) {
    for (const auto& check : roll.analysis.checks)
      out["checks"].push_back(listed_check(roll, check));
    out["rolls"].push_back(to_json(roll));
  }
  return out;
}

void write_json(std::ostream& out, const RunReport& r) {
  const nlohmann::json top = head(r);
  out << "{\n";
  for (auto it = top.begin(); it != top.end(); ++it)
    out << "  " << nlohmann::json(it.key()).dump() << ": " << indented(dump(it.value()), 2)
        << ",\n";
  // The growing parts one element at a time, as dump(2) would print them.
  const char* first = "\n    ";
  out << "  \"checks\": [";
  for (const auto& roll : r.rolls)
    for (const auto& check : roll.analysis.checks) {
      out << first << indented(dump(listed_check(roll, check)), 4);
      first = ",\n    ";
    }
  out << (*first == '\n' ? "],\n" : "\n  ],\n");
  out << "  \"rolls\": [";
  for (std::size_t k = 0; k < r.rolls.size(); ++k)
    out << (k ? ",\n    " : "\n    ") << indented(dump(to_json(r.rolls[k])), 4);
  out << (r.rolls.empty() ? "]\n}" : "\n  ]\n}");
}

}  // namespace derma::report
