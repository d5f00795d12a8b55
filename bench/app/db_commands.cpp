// bench history, bench show, bench audit verify|log: views of the results database.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bench/analysis/method.hpp"
#include "bench/app/commands.hpp"
#include "bench/report/run_report.hpp"
#include "bench/store/results_db.hpp"

namespace derma::app {

std::unique_ptr<store::ResultsDb> open_existing(const char* command, const std::string& path) {
  // A PostgreSQL store is a server's database, not a file: ResultsDb::open says if it is not
  // there.
  if (!store::is_postgresql_url(path) && !std::filesystem::exists(path)) {
    std::cerr << "bench " << command << ": no results database at " << path
              << " (--db FILE or $DERMABENCH_DB; `bench run --db FILE` records runs)\n";
    return nullptr;
  }
  auto db = store::ResultsDb::open(path);
  if (!db) {
    std::cerr << "bench " << command << ": " << db.error() << "\n";
    return nullptr;
  }
  return std::move(*db);
}

namespace {

using nlohmann::json;

json optional_number(const std::optional<double>& v) {
  return v ? json(*v) : json(nullptr);
}

json run_json(const store::RunRow& r) {
  return {{"id", r.id},
          {"state", store::to_string(r.state)},
          {"suite_file", r.suite_file},
          {"suite_name", r.suite_name},
          {"spec_model", r.spec_model},
          {"spec_sha256", r.spec_sha256},
          {"roller_serial", r.roller_serial},
          {"requester", r.requester},
          {"operator", r.operator_name},
          {"rig_address", r.rig_address},
          {"rig_serial", r.rig_serial},
          {"firmware_version", r.firmware_version},
          {"calibration_due", r.calibration_due},
          {"software_version", r.software_version},
          {"analysis_method", r.analysis_method},
          {"created_at", r.created_at},
          {"started_at", r.started_at},
          {"finished_at", r.finished_at},
          {"verdict", r.verdict},
          {"exit_code", r.exit_code},
          {"error", r.error},
          {"out_dir", r.out_dir},
          {"lot", r.lot},
          {"phantom_lot", r.phantom_lot},
          {"calibration_date", r.calibration_date},
          {"load_cell_factor", optional_number(r.load_cell_factor)}};
}

json check_json(const store::CheckRow& c) {
  return {{"roll", c.roll},
          {"id", c.id},
          {"verdict", c.verdict},
          {"value", optional_number(c.value)},
          {"unit", c.unit},
          {"lower_limit", optional_number(c.lower_limit)},
          {"upper_limit", optional_number(c.upper_limit)},
          {"summary", c.summary}};
}

json audit_json(const store::AuditEntry& e) {
  return {{"seq", e.seq},       {"at", e.at},         {"actor", e.actor},
          {"role", e.role},     {"action", e.action}, {"subject", e.subject},
          {"origin", e.origin}, {"detail", e.detail}, {"prev_hash", e.prev_hash},
          {"hash", e.hash}};
}

// Prints rows as columns padded to their widest cell, the header first.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

std::string number(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", *v);
  return buf;
}

std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : s;
}

}  // namespace

std::string resolve_db_path(const std::string& given) {
  if (!given.empty()) return given;
  if (const char* env = std::getenv("DERMABENCH_DB"); env && *env) return env;
  return "dermabench.db";
}

int history_command(const HistoryCommand& cmd) {
  store::RunFilter filter;
  if (!cmd.state.empty()) {
    filter.state = store::run_state_from(cmd.state);
    if (!filter.state) {
      std::cerr << "bench history: unknown state '" << cmd.state
                << "' (queued, running, passed, failed, error, aborted, cancelled, "
                   "interrupted)\n";
      return report::kExitBadInput;
    }
  }
  if (!cmd.roller_serial.empty()) filter.roller_serial = cmd.roller_serial;
  if (!cmd.spec_model.empty()) filter.spec_model = cmd.spec_model;
  filter.limit = cmd.limit;
  auto db = open_existing("history", resolve_db_path(cmd.db_path));
  if (!db) return report::kExitBadInput;
  auto runs = db->list_runs(filter);
  if (!runs) {
    std::cerr << "bench history: " << runs.error() << "\n";
    return report::kExitBadInput;
  }
  if (cmd.json) {
    json out = json::array();
    for (const auto& r : *runs) out.push_back(run_json(r));
    std::cout << json{{"runs", out}}.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows{
      {"ID", "STATE", "CREATED", "ROLLER", "SPEC", "VERDICT", "RIG", "REQUESTER"}};
  for (const auto& r : *runs)
    rows.push_back({std::to_string(r.id), store::to_string(r.state), r.created_at,
                    or_dash(r.roller_serial), or_dash(r.spec_model), or_dash(r.verdict),
                    or_dash(r.rig_serial.empty() ? r.rig_address : r.rig_serial),
                    or_dash(r.requester)});
  print_table(rows);
  if (runs->empty()) std::cout << "(no runs)\n";
  return 0;
}

int show_command(const ShowCommand& cmd) {
  auto db = open_existing("show", resolve_db_path(cmd.db_path));
  if (!db) return report::kExitBadInput;
  auto run = db->get_run(cmd.run_id);
  auto checks = db->checks_of(cmd.run_id);
  if (!run || !checks) {
    std::cerr << "bench show: " << (!run ? run.error() : checks.error()) << "\n";
    return report::kExitBadInput;
  }
  if (!*run) {
    std::cerr << "bench show: no run " << cmd.run_id << " in "
              << store::redacted_location(resolve_db_path(cmd.db_path)) << "\n";
    return report::kExitBadInput;
  }
  const store::RunRow& r = **run;
  if (cmd.json) {
    json out = run_json(r);
    out["checks"] = json::array();
    for (const auto& c : *checks) out["checks"].push_back(check_json(c));
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  print_table({{"run", std::to_string(r.id)},
               {"state", store::to_string(r.state)},
               {"verdict", or_dash(r.verdict)},
               {"exit code", r.exit_code < 0 ? "-" : std::to_string(r.exit_code)},
               {"error", or_dash(r.error)},
               {"suite", r.suite_name + " (" + r.suite_file + ")"},
               {"spec", r.spec_model + (r.spec_sha256.empty() ? "" : " sha256 " + r.spec_sha256)},
               {"roller", or_dash(r.roller_serial)},
               {"requester", or_dash(r.requester)},
               {"operator", or_dash(r.operator_name)},
               {"rig", r.rig_address + (r.rig_serial.empty() ? "" : " serial " + r.rig_serial) +
                           (r.firmware_version.empty() ? "" : " firmware " + r.firmware_version)},
               {"calibration due", or_dash(r.calibration_due)},
               {"software", or_dash(r.software_version)},
               {"analysis method", analysis::analysis_method_summary(r.analysis_method)},
               {"created", r.created_at},
               {"started", or_dash(r.started_at)},
               {"finished", or_dash(r.finished_at)},
               {"output", or_dash(r.out_dir)}});
  if (checks->empty()) return 0;
  std::cout << "\n";
  std::vector<std::vector<std::string>> rows{
      {"ROLL", "CHECK", "VERDICT", "VALUE", "UNIT", "LOWER", "UPPER", "SUMMARY"}};
  for (const auto& c : *checks)
    rows.push_back({std::to_string(c.roll), c.id, c.verdict, number(c.value), or_dash(c.unit),
                    number(c.lower_limit), number(c.upper_limit), c.summary});
  print_table(rows);
  return 0;
}

int audit_verify_command(const AuditCommand& cmd) {
  auto db = open_existing("audit verify", resolve_db_path(cmd.db_path));
  if (!db) return report::kExitBadInput;
  const store::AuditVerification v = db->verify_audit();
  if (v.problem) {
    std::cout << "audit log TAMPERED: " << *v.problem << "\n";
    return report::kExitFail;
  }
  std::cout << "audit log intact: " << v.entries << " entries, hash chain verified\n";
  return 0;
}

int audit_log_command(const AuditCommand& cmd) {
  auto db = open_existing("audit log", resolve_db_path(cmd.db_path));
  if (!db) return report::kExitBadInput;
  auto entries = db->audit_log(cmd.limit);
  if (!entries) {
    std::cerr << "bench audit log: " << entries.error() << "\n";
    return report::kExitBadInput;
  }
  if (cmd.json) {
    json out = json::array();
    for (const auto& e : *entries) out.push_back(audit_json(e));
    std::cout << json{{"entries", out}}.dump(2, ' ', false,
                                             nlohmann::json::error_handler_t::replace)
              << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows{
      {"SEQ", "AT", "ACTOR", "ROLE", "ACTION", "SUBJECT", "ORIGIN", "DETAIL"}};
  for (const auto& e : *entries)
    rows.push_back(
        {std::to_string(e.seq), e.at, e.actor, e.role, e.action, e.subject, e.origin, e.detail});
  print_table(rows);
  return 0;
}

}  // namespace derma::app
