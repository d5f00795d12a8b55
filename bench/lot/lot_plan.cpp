#include "bench/lot/lot_plan.hpp"

#include <cstdio>
#include <vector>

#include "bench/analysis/sampling_plan.hpp"

namespace derma::lot {

namespace {

// The switching rules' view of a decided lot: its plan rebuilt from what the lot stored, and
// the nonconforming count of its certificate. A lot rejected on capability alone was still
// not accepted, so it counts as rejected.
std::expected<analysis::LotOutcome, std::string> outcome_of(const store::LotRow& l) {
  auto level = analysis::inspection_level_from(l.level);
  if (!level) return std::unexpected(level.error());
  auto severity = analysis::severity_from(l.severity);
  if (!severity) return std::unexpected(severity.error());
  auto plan = analysis::single_sampling_plan(l.lot_size, *level, l.aql, *severity);
  if (!plan) return std::unexpected(plan.error());
  auto outcome = analysis::lot_outcome(*plan, l.nonconforming.value_or(0));
  if (!outcome) return std::unexpected(outcome.error());
  if (l.state == "rejected") outcome->decision = analysis::LotDecision::Rejected;
  return outcome;
}

}  // namespace

std::expected<store::NewLot, std::string> plan_lot(const store::ResultsDb& db,
                                                   const LotPlanRequest& req,
                                                   std::string* severity_note) {
  const auto failed = [&](const std::string& why) {
    return std::unexpected("lot " + req.lot + ": " + why);
  };
  auto level = analysis::inspection_level_from(req.level);
  if (!level) return failed(level.error());
  auto aql = analysis::aql_from(req.aql);
  if (!aql) return failed(aql.error());
  // A roller is conforming or not (one verdict): AQLs above 10 count nonconformities per
  // 100 units, which a lot of pass/fail verdicts does not measure.
  if (*aql > 10)
    return failed("AQL " + req.aql +
                  " counts nonconformities per 100 units; a lot of rollers judged pass/fail "
                  "uses an AQL of 10 or less");

  // The switching rules read the model's earlier lots that were decided, oldest first.
  auto earlier = db.lots_of_model(req.model);
  if (!earlier) return failed(earlier.error());
  std::vector<analysis::LotOutcome> history;
  for (const store::LotRow& l : *earlier) {
    if (l.state == "open") continue;
    auto outcome = outcome_of(l);
    if (!outcome) return failed("earlier lot " + l.lot + ": " + outcome.error());
    history.push_back(*outcome);
  }
  auto switching = analysis::switching_state(history, req.production_steady, req.reduced_approved);
  if (!switching) return failed("the switching rules over earlier lots: " + switching.error());
  const analysis::SwitchingState& state = *switching;
  if (state.discontinued)
    return failed("inspection of " + req.model + " is discontinued by the switching rules (" +
                  state.reason + "): no lot may be accepted until the process is corrected");

  auto plan = analysis::single_sampling_plan(req.lot_size, *level, *aql, state.severity);
  if (!plan) return failed(plan.error());
  if (severity_note) *severity_note = state.reason;

  store::NewLot lot;
  lot.lot = req.lot;
  lot.model = req.model;
  lot.spec_file = req.spec_file;
  lot.spec_text = req.spec_text;
  lot.lot_size = req.lot_size;
  lot.aql = plan->aql;
  lot.level = analysis::to_string(plan->level);
  lot.severity = analysis::to_string(plan->severity);
  lot.code_letter = std::string(1, plan->code_letter);
  lot.sample_size = plan->sample_size;
  lot.accept_number = plan->accept_number;
  lot.reject_number = plan->reject_number;
  lot.created_by = req.created_by;
  return lot;
}

std::expected<void, std::string> lot_accepts_runs(const store::ResultsDb& db,
                                                  const std::string& lot_name,
                                                  const std::string& spec_model) {
  auto lot = db.get_lot(lot_name);
  if (!lot) return std::unexpected(lot.error());
  if (!*lot)
    return std::unexpected("lot " + lot_name + ": no such lot (create it with `bench lot create`)");
  if ((*lot)->state != "open")
    return std::unexpected("lot " + lot_name + " is " + (*lot)->state +
                           " (certified): it takes no more runs");
  if ((*lot)->model != spec_model)
    return std::unexpected("lot " + lot_name + " is of model " + (*lot)->model +
                           ", the suite tests " + spec_model);
  return {};
}

}  // namespace derma::lot
