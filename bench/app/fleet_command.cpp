// `bench fleet status`: every daemon (rig) the store knows, how it is, and the fleet's queue
// (docs/fleet.md). Read from the store alone: it works with every daemon down.
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "bench/app/commands.hpp"
#include "bench/report/run_report.hpp"
#include "bench/store/results_db.hpp"

namespace derma::app {

namespace {

using nlohmann::json;

// A silent daemon's claims are taken back once its lease has run out: it is `lost` then,
// whatever it last said.
std::string shown_state(const store::FleetRig& rig) {
  return rig.lost() ? "lost" : rig.state;
}

std::string age_text(std::int64_t ms) {
  char buf[32];
  if (ms < 0) ms = 0;
  if (ms < 120000)
    std::snprintf(buf, sizeof buf, "%.1f s ago", static_cast<double>(ms) / 1000.0);
  else if (ms < 7200000)
    std::snprintf(buf, sizeof buf, "%lld min ago", static_cast<long long>(ms / 60000));
  else
    std::snprintf(buf, sizeof buf, "%lld h ago", static_cast<long long>(ms / 3600000));
  return buf;
}

std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : s;
}

json rig_json(const store::FleetRig& r, const std::vector<store::FleetJob>& jobs) {
  int claimed = 0;
  for (const store::FleetJob& j : jobs)
    if (j.state == store::FleetJobState::Claimed && j.claimed_by == r.name) ++claimed;
  return {{"name", r.name},
          {"kind", r.kind.empty() ? json(nullptr) : json(r.kind)},
          {"state", shown_state(r)},
          {"reported_state", r.state},
          {"rig_address", r.rig_address},
          {"rig_serial", r.rig_serial.empty() ? json(nullptr) : json(r.rig_serial)},
          {"calibration_due", r.calibration_due.empty() ? json(nullptr) : json(r.calibration_due)},
          {"current_run", r.current_run ? json(*r.current_run) : json(nullptr)},
          {"queue_length", r.queue_length},
          {"fleet_jobs_claimed", claimed},
          {"api_url", r.api_url},
          {"process", r.runner},
          {"started_at", r.started_at},
          {"last_heartbeat", r.heartbeat_at},
          {"heartbeat_age_s", static_cast<double>(r.heartbeat_age_ms) / 1000.0},
          {"lease_s", static_cast<double>(r.lease_ms) / 1000.0}};
}

json job_json(const store::FleetJob& j) {
  return {{"id", j.id},
          {"kind", j.kind},
          {"state", store::to_string(j.state)},
          {"run_id", j.run_id},
          {"attempts", j.attempts},
          {"claimed_by", j.claimed_by.empty() ? json(nullptr) : json(j.claimed_by)},
          {"lease_left_s",
           j.lease_left_ms ? json(static_cast<double>(*j.lease_left_ms) / 1000.0) : json(nullptr)},
          {"cancel_requested", j.cancel_requested},
          {"created_at", j.created_at}};
}

void print_table(const std::vector<store::FleetRig>& rigs,
                 const std::vector<store::FleetJob>& jobs) {
  std::printf("%-22s %-10s %-12s %-14s %-12s %6s %6s  %s\n", "DAEMON", "KIND", "STATE",
              "RIG SERIAL", "CAL. DUE", "QUEUE", "RUN", "LAST HEARTBEAT");
  for (const store::FleetRig& r : rigs)
    std::printf("%-22s %-10s %-12s %-14s %-12s %6d %6s  %s\n", r.name.c_str(),
                or_dash(r.kind).c_str(), shown_state(r).c_str(), or_dash(r.rig_serial).c_str(),
                or_dash(r.calibration_due).c_str(), r.queue_length,
                r.current_run ? std::to_string(*r.current_run).c_str() : "-",
                age_text(r.heartbeat_age_ms).c_str());
  if (rigs.empty()) std::printf("(no daemon has joined this store yet)\n");
  std::map<std::string, std::pair<int, int>> by_kind;  // queued, claimed
  for (const store::FleetJob& j : jobs)
    (j.state == store::FleetJobState::Queued ? by_kind[j.kind].first : by_kind[j.kind].second)++;
  std::printf("\nfleet queue:");
  if (by_kind.empty()) std::printf(" empty");
  for (const auto& [kind, counts] : by_kind)
    std::printf(" %s: %d queued, %d running;", kind.c_str(), counts.first, counts.second);
  std::printf("\n");
}

}  // namespace

int fleet_status_command(const FleetCommand& cmd) {
  auto db = open_existing("fleet status", resolve_db_path(cmd.db_path));
  if (!db) return report::kExitBadInput;
  auto rigs = db->fleet_rigs();
  auto jobs = rigs ? db->active_fleet_jobs() : std::unexpected(rigs.error());
  if (!rigs || !jobs) {
    std::cerr << "bench fleet status: " << (rigs ? jobs.error() : rigs.error()) << "\n";
    return report::kExitRigError;
  }
  if (cmd.json) {
    json out = {{"rigs", json::array()}, {"jobs", json::array()}};
    for (const store::FleetRig& r : *rigs) out["rigs"].push_back(rig_json(r, *jobs));
    for (const store::FleetJob& j : *jobs) out["jobs"].push_back(job_json(j));
    std::cout << out.dump(2) << "\n";
  } else {
    print_table(*rigs, *jobs);
  }
  return 0;
}

}  // namespace derma::app
