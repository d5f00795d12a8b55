// The sampling plan of a new lot: ISO 2859-1 single sampling (bench/analysis/sampling_plan.hpp)
// at the severity the switching rules give after the model's earlier lots.
#pragma once

#include <expected>
#include <string>

#include "bench/store/results_db.hpp"

namespace derma::lot {

struct LotPlanRequest {
  std::string lot;
  std::string model;
  std::string spec_file;
  std::string spec_text;
  int lot_size = 0;
  std::string aql = "1.0";
  std::string level = "II";
  std::string created_by;
  // The switching rules' discretionary conditions (ISO 2859-1 clause 9.3.3/9.3.4): reduced
  // inspection needs the responsible authority's approval, given per lot, never assumed;
  // production not at a steady rate returns reduced inspection to normal.
  bool reduced_approved = false;
  bool production_steady = true;
};

// The lot as it will be stored: plan and severity filled in. Fails with a clear reason on
// bad input (unknown AQL or level, lot size < 2, a spec for another model) or when the
// switching rules have discontinued inspection of the model.
// `severity_note` receives why the severity is what it is (for the console).
std::expected<store::NewLot, std::string> plan_lot(const store::ResultsDb&, const LotPlanRequest&,
                                                   std::string* severity_note = nullptr);

// Whether a new run of `spec_model` may join `lot`: the lot exists, is open, and is of that
// model. The reason otherwise, naming the lot.
std::expected<void, std::string> lot_accepts_runs(const store::ResultsDb&, const std::string& lot,
                                                  const std::string& spec_model);

}  // namespace derma::lot
