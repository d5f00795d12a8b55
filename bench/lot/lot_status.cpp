#include "bench/lot/lot_status.hpp"

#include "bench/analysis/method.hpp"
#include "bench/runner/station.hpp"

namespace derma::lot {

namespace {

using nlohmann::json;

json run_briefs(const std::vector<store::RunRow>& runs) {
  json list = json::array();
  for (const auto& r : runs)
    list.push_back({{"run", r.id},
                    {"roller", r.roller_serial},
                    {"state", store::to_string(r.state)},
                    {"rig_serial", r.rig_serial}});
  return list;
}

}  // namespace

json lot_row_json(const store::LotRow& l) {
  return {{"lot", l.lot},
          {"model", l.model},
          {"spec_file", l.spec_file},
          {"spec_sha256", l.spec_sha256},
          {"lot_size", l.lot_size},
          {"aql", l.aql},
          {"level", l.level},
          {"severity", l.severity},
          {"code_letter", l.code_letter},
          {"sample_size", l.sample_size},
          {"accept_number", l.accept_number},
          {"reject_number", l.reject_number},
          {"created_at", l.created_at},
          {"created_by", l.created_by},
          {"state", l.state},
          {"decided_at", l.decided_at}};
}

json lot_status_json(const LotEvidence& ev, const std::vector<std::string>& blocking) {
  json rollers = json::array();
  for (const auto& r : ev.counted)
    rollers.push_back({{"run", r.run.id},
                       {"roller", r.run.roller_serial},
                       {"verdict", r.conforming ? "pass" : "fail"},
                       {"failed_checks", r.failed_checks},
                       {"rig_serial", r.run.rig_serial},
                       {"mean_depth_um", number_or_null(r.mean_depth_um)},
                       {"analysis_method", r.run.analysis_method}});
  const auto& cap = ev.capability;
  json status = lot_row_json(ev.lot);
  status["sampled"] = ev.counted.size();
  status["nonconforming"] = ev.nonconforming;
  status["virtual_rig_rollers"] =
      std::count_if(ev.counted.begin(), ev.counted.end(),
                    [](const auto& r) { return ran_on_virtual_rig(r.run); });
  // The method this bench would certify with, and those that judged the counted runs.
  status["analysis_method"] =
      analysis_methods_json(analysis::kAnalysisMethodVersion, analysis_method_counts(ev.counted));
  status["rollers"] = rollers;
  status["pending"] = run_briefs(ev.pending);
  status["inconclusive"] = run_briefs(ev.inconclusive);
  status["retests"] = run_briefs(ev.retests);
  status["beyond_sample"] = run_briefs(ev.beyond_sample);
  status["capability"] = {{"values", cap.values},
                          {"rollers", cap.rollers},
                          {"effective_n", cap.effective_n},
                          {"mean_um", number_or_null(cap.mean_um)},
                          {"sd_um", number_or_null(cap.sd_um)},
                          {"cpk", number_or_null(cap.cpk)},
                          {"cpk_lcb95", number_or_null(cap.cpk_lcb95)},
                          {"min_cpk", cap.min_cpk},
                          {"meets", cap.meets}};
  status["blocking"] = blocking;
  status["decision_if_certified_now"] = decide(ev).accepted ? "accepted" : "rejected";
  return status;
}

std::expected<LotStatus, std::string> lot_status(const store::ResultsDb& db,
                                                 const std::string& lot) {
  auto ev = gather_evidence(db, lot);
  if (!ev) return std::unexpected(ev.error());
  LotStatus status;
  status.blocking =
      refusals(*ev, runner::utc_now_iso8601().substr(0, 10), read_text_file(ev->lot.spec_file));
  status.decision = decide(*ev);
  status.json = lot_status_json(*ev, status.blocking);
  status.evidence = std::move(*ev);
  return status;
}

}  // namespace derma::lot
