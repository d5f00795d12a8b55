#include "bench/app/run_recording.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "bench/app/commands.hpp"
#include "bench/lot/lot_plan.hpp"

namespace derma::app {

std::string user_name() {
  for (const char* var : {"USER", "LOGNAME"})
    if (const char* user = std::getenv(var); user && *user) return user;
  if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_name) return pw->pw_name;
  return "unknown";
}

std::expected<RunRecording, std::string> start_recording(const RunCommand& cmd,
                                                         const suite::Suite& suite,
                                                         const std::string& operator_name) {
  auto db = store::ResultsDb::open(resolve_db_path(cmd.db_path));
  if (!db) return std::unexpected(db.error());
  RunRecording recording;
  recording.db = std::move(*db);
  recording.actor = user_name();
  store::NewRun run;
  run.suite_file = cmd.suite_file;
  run.suite_name = suite.name;
  run.spec_model = suite.spec.model;
  run.roller_serial = cmd.roller_serial;  // --rig sim: known from the report at the end
  run.requester = recording.actor;
  run.operator_name = operator_name;
  run.rig_address = cmd.rig;
  run.out_dir = cmd.out_dir;
  run.lot = cmd.lot;
  if (!cmd.lot.empty())
    if (auto joins = lot::lot_accepts_runs(*recording.db, cmd.lot, suite.spec.model); !joins)
      return std::unexpected(joins.error());
  auto id = recording.db->create_run(run);
  if (!id) return std::unexpected(id.error());
  recording.run_id = *id;
  if (auto running = recording.db->set_state(*id, store::RunState::Running); !running)
    return std::unexpected(running.error());
  const nlohmann::json detail = {
      {"suite", cmd.suite_file},
      {"rig", cmd.rig},
      {"roller", cmd.roller_file.empty() ? cmd.roller_serial : cmd.roller_file},
      {"lot", cmd.lot}};
  auto audited = recording.db->append_audit(
      recording.actor, "operator", "run.start", "run " + std::to_string(*id), "cli",
      detail.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (!audited) return std::unexpected(audited.error());
  return recording;
}

std::expected<void, std::string> finish_recording(RunRecording& recording,
                                                  const report::RunReport& report,
                                                  const suite::Suite& suite) {
  if (auto done = recording.db->record_report(recording.run_id, report, suite.spec.text); !done)
    return done;
  const nlohmann::json detail = {{"verdict", report::to_string(report.verdict)},
                                 {"exit_code", report::exit_code_for(report)},
                                 {"roller", report.roller_serial}};
  auto audited = recording.db->append_audit(
      recording.actor, "operator", "run.finish", "run " + std::to_string(recording.run_id), "cli",
      detail.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (!audited) return std::unexpected(audited.error());
  return {};
}

}  // namespace derma::app
