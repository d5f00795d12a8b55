// A lot's progress against its plan as JSON: `bench lot status --json` and the daemon's
// GET /api/v1/lots/{lot} give the same document (docs/lots.md).
#pragma once

#include <expected>
#include <nlohmann/json.hpp>
#include <string>

#include "bench/lot/lot_evidence.hpp"
#include "bench/store/results_db.hpp"

namespace derma::lot {

// The lot's row: its plan, spec, state (`bench lot create --json` prints it).
nlohmann::json lot_row_json(const store::LotRow&);

// The evidence as it stands, what still blocks certification (`today` YYYY-MM-DD, the spec
// file's present text), and the decision certification would make now.
nlohmann::json lot_status_json(const LotEvidence&, const std::vector<std::string>& blocking);

// Gathers the evidence of `lot` and judges it as of now. The error names the lot.
struct LotStatus {
  LotEvidence evidence;
  std::vector<std::string> blocking;
  LotDecision decision;
  nlohmann::json json;
};
std::expected<LotStatus, std::string> lot_status(const store::ResultsDb&, const std::string& lot);

}  // namespace derma::lot
