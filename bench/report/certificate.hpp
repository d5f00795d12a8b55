// A lot's certificate of conformance: the release (or rejection) decision for a production
// lot and every fact an auditor needs to check it. bench/lot assembles it from the results
// database; this layer only renders it (HTML for people, PDF for the archive). The signed,
// canonical form is the JSON record bench/lot writes beside these files; the HTML and PDF
// carry its digest and signature so a printed copy can be matched to it.
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "bench/analysis/method.hpp"

namespace derma::report {

// The ISO 2859-1 single sampling plan the lot was inspected under.
struct CertificatePlan {
  std::string standard;    // e.g. "ISO 2859-1:1999 single sampling"
  std::string level;       // S-1..S-4, I, II, III
  std::string severity;    // normal, tightened, reduced
  double aql = 0;          // percent nonconforming (or per 100 units above 10)
  char code_letter = '?';  // Table I
  int lot_size = 0;
  int sample_size = 0;
  int accept_number = 0;  // Ac
  int reject_number = 0;  // Re
  bool hundred_percent = false;
};

// One sampled roller and the run whose verdict counts for it.
struct SampledRoller {
  std::string serial;
  long long run_id = 0;
  std::string verdict;        // pass or fail (only conclusive runs count)
  std::string failed_checks;  // comma-separated check ids, empty when it passed
  std::optional<double> mean_depth_um;
  std::string rig_serial;
  std::string phantom_lot;
  std::string operator_name;
  std::string finished_at;    // ISO 8601 UTC
  std::string record_sha256;  // digest of the database rows behind this verdict
  // The analysis method that judged its run (bench/analysis/method.hpp).
  int analysis_method = analysis::kUnversionedAnalysisMethod;
};

// How many sampled rollers one version of the analysis method judged.
struct CertificateMethod {
  int version = 0;
  int rollers = 0;
};

// Penetration-depth capability across the sampled rollers (per-needle mean depths pooled).
struct CertificateCapability {
  std::size_t values = 0;   // how many per-needle means were pooled
  std::size_t rollers = 0;  // from how many rollers
  // Needles of one roller are not independent: the 95 % bound uses the effective sample
  // size values / (1 + (values per roller - 1) * icc), icc the intra-class correlation of
  // depth within a roller (one-way ANOVA). Between rollers and values.
  double effective_n = 0;
  double icc = 0;
  std::optional<double> mean_um, sd_um, lsl_um, usl_um;
  std::optional<double> cpk, cpk_lcb95;
  double min_cpk = 0;  // the spec's bar for the lower bound
  bool meets = false;  // cpk_lcb95 >= min_cpk
};

// A rig that ran sampled rollers, with its load-cell calibration at the time.
struct CertificateRig {
  std::string serial;
  std::string firmware_version;
  std::string calibration_date;
  std::string calibration_due;
  double load_cell_factor = 1.0;
  int rollers = 0;  // how many sampled rollers it ran
};

struct Certificate {
  std::string certificate_id;  // e.g. CERT-LOT-0042-1
  std::string lot;
  std::string model;
  std::string spec_file;
  std::string spec_sha256;
  CertificatePlan plan;

  std::string decision;                // accepted or rejected
  std::vector<std::string> reasons;    // why, one sentence each
  int nonconforming = 0;               // failed rollers in the sample
  int virtual_rig_rollers = 0;         // sampled rollers tested on the virtual rig: a demonstration
  std::vector<SampledRoller> rollers;  // in the order they were run
  // The analysis methods that judged the sampled rollers, lowest version first: more than one
  // only when certification was told to allow it (--allow-mixed-methods), and the reasons then
  // say so. And the method of the bench that certified (its own figures would be this one's).
  std::vector<CertificateMethod> sampled_analysis_methods;
  int analysis_method = analysis::kAnalysisMethodVersion;
  CertificateCapability capability;
  std::vector<CertificateRig> rigs;
  std::vector<std::string> phantom_lots;
  std::vector<std::string> operators;

  std::string signer;
  std::string signature_meaning;  // e.g. "released"
  std::string signed_at;          // ISO 8601 UTC
  std::string software_version;
  std::string host_name;

  // Filled once the canonical record is signed; shown on the certificate.
  std::string record_sha256;  // SHA-256 of the canonical JSON record
  std::string signature_hex;  // Ed25519 signature of that record
  std::string public_key_hex;
};

// A self-contained HTML page (inline CSS, no scripts, printable on A4).
std::string certificate_html(const Certificate&);

// A PDF document (A4, text drawn with cairo's PDF surface); the bytes, or why not.
std::expected<std::string, std::string> certificate_pdf(const Certificate&);

}  // namespace derma::report
