// Production lots and their certificates as the results database keeps them (schema
// version 3). The sampling plan is decided in bench/analysis/sampling_plan.hpp and the
// certification in bench/lot; this header only names the rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace derma::store {

// A lot is open while it is sampled; certification closes it as accepted or rejected.
struct NewLot {
  std::string lot;
  std::string model;
  std::string spec_file;
  std::string spec_text;  // stored by SHA-256 in specs, like a run's spec
  int lot_size = 0;
  double aql = 0;
  std::string level;     // S-1..S-4, I, II, III
  std::string severity;  // normal, tightened, reduced
  std::string code_letter;
  int sample_size = 0;
  int accept_number = 0;
  int reject_number = 0;
  std::string created_by;
};

struct LotRow {
  std::string lot, model, spec_sha256, spec_file;
  int lot_size = 0;
  double aql = 0;
  std::string level, severity, code_letter;
  int sample_size = 0;
  int accept_number = 0;
  int reject_number = 0;
  std::string created_at, created_by;
  std::string state;  // open, accepted, rejected
  std::string decided_at;
  std::optional<int> nonconforming;  // in the sample, once decided (the switching rules use it)
};

// A stored measurement: a check's secondary figure (disc, needle, n empty) or a needle's
// mean channel depth (name needle_mean_depth).
struct MeasurementRow {
  std::int64_t run_id = 0;
  int roll = 0;
  std::string check_id, name, unit;
  double value = 0;
  std::optional<int> disc, needle, n;
};

struct CertificateRow {
  std::string id;
  std::string lot;
  std::string decision;       // accepted or rejected
  std::string record;         // the canonical JSON record that was signed
  std::string record_sha256;  // hex
  std::string signature;      // hex Ed25519 signature of record
  std::string public_key;     // hex Ed25519 public key
  std::string signer;
  std::string signed_at;
  std::string files;  // JSON: {"html": sha256, "pdf": sha256} of the rendered copies
  std::int64_t audit_seq = 0;
  int nonconforming = 0;  // rollers in the sample; stored on the lot it closes
};

}  // namespace derma::store
