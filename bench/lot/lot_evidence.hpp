// The evidence for a lot's decision, gathered from the results database: which run counts
// for each sampled roller, how many rollers were nonconforming, the penetration-depth
// capability across the sample, and every reason certification must be refused.
//
// Counting rules (written for an auditor):
// - Each roller serial counts once, by its FIRST conclusive run (passed or failed) in the lot.
//   A later conclusive run of the same roller is a retest and does not count: a roller cannot
//   be tested into compliance.
// - Runs that ended in error, aborted, cancelled or interrupted say nothing about the roller
//   (the rig or link failed); they are listed and not counted, and the roller may be re-run.
// - Rollers are counted in the order their counting runs were created, up to the sample size;
//   conclusive runs of further rollers are listed as beyond the sample.
#pragma once

#include <cstdint>
#include <expected>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench/report/certificate.hpp"
#include "bench/store/results_db.hpp"
#include "bench/suite/product_spec.hpp"

namespace derma::lot {

// One sampled roller: the run that counts for it and the database rows behind its verdict.
struct CountedRoller {
  store::RunRow run;
  std::vector<store::CheckRow> checks;
  std::vector<store::MeasurementRow> measurements;
  bool conforming = false;  // its run passed
  std::string failed_checks;
  // Checks of the full validation (analysis::all_check_ids) this run did not judge: a pass
  // without them is no evidence (the quick suite, for one, skips missing_channels).
  std::vector<std::string> missing_checks;
  std::optional<double> mean_depth_um;  // mean of its per-needle mean depths
  std::string record_sha256;            // run_record_digest of the rows above
};

struct LotEvidence {
  store::LotRow lot;
  suite::ProductSpec spec;  // the spec the lot was created under
  std::vector<CountedRoller> counted;
  std::vector<store::RunRow> pending;        // queued or running
  std::vector<store::RunRow> inconclusive;   // error, aborted, cancelled, interrupted
  std::vector<store::RunRow> retests;        // conclusive, roller already counted
  std::vector<store::RunRow> beyond_sample;  // conclusive, sample already complete
  int nonconforming = 0;
  report::CertificateCapability capability;
};

// Reads the lot and its runs. Fails only when the database cannot be read or the lot does
// not exist.
std::expected<LotEvidence, std::string> gather_evidence(const store::ResultsDb&,
                                                        const std::string& lot);

// SHA-256 of a canonical JSON text of the run row's recorded facts, its checks and its
// measurements. A certificate names it for every roller; `bench lot verify` recomputes it
// from the database, so a changed verdict, value or limit shows. The run's analysis method is
// part of it except when it is method 1 (kUnversionedAnalysisMethod): the rows of runs
// recorded before the store kept the method (schema version 7, where they read as method 1)
// keep the digest their certificates signed, and a method changed either way still shows.
std::string run_record_digest(const store::RunRow&, const std::vector<store::CheckRow>&,
                              const std::vector<store::MeasurementRow>&);

// Capability of penetration depth across the sampled rollers: every roller's per-needle mean
// depths pooled (so between-roller spread counts), against the spec's per-channel limits.
// Needles of one roller share its drum, run and phantom lane, so they are not independent:
// the 95 % lower bound uses the effective sample size of clustered data (Kish's design
// effect), n_eff = N / (1 + (m - 1) ICC), with m the needles per roller and ICC the share of
// depth variance between rollers, taken at its one-sided 95 % UPPER confidence limit (from
// the one-way ANOVA F ratio), so that too few rollers to know the between-roller spread
// cannot pass for many independent needles. Rollers that differ make the bound rest on about
// one value per roller. One roller alone gives no bound.
report::CertificateCapability depth_capability(const std::vector<CountedRoller>&,
                                               const analysis::SpecLimits&);

// Whether a run was made on the virtual rig (fixtures/rigsim), which names its firmware
// "rigsim <version>" in every handshake: simulated evidence, fit to demonstrate and test the
// bench, never to release a production lot.
bool ran_on_virtual_rig(const store::RunRow&);

// The counted runs by the analysis method that judged them (bench/analysis/method.hpp):
// method version -> run ids, lowest version first. More than one version means the lot's
// verdicts and pooled capability would mix definitions of the measurement.
std::map<int, std::vector<std::int64_t>> runs_by_analysis_method(const std::vector<CountedRoller>&);
// The same as counts: how many sampled rollers each method version judged.
std::vector<report::CertificateMethod> analysis_method_counts(const std::vector<CountedRoller>&);
// The JSON documents' "analysis_method" object (the signed record, `bench lot verify --json`,
// `bench lot status --json`): {certifying_bench, sampled_rollers: [{version, rollers}], mixed}.
nlohmann::json analysis_methods_json(int certifying_bench,
                                     const std::vector<report::CertificateMethod>& sampled);

// What certification can be told to let through; a certificate it lets through says so.
struct Allowances {
  // Counted runs made on the virtual rig: a demonstration certificate (--allow-virtual-rig).
  bool virtual_rig = false;
  // Counted runs judged by more than one analysis method (--allow-mixed-methods).
  bool mixed_analysis_methods = false;
};

// Why the lot cannot be certified now; empty when it can. `today` is YYYY-MM-DD (UTC);
// `current_spec_text` is the spec file's present content (nullopt when it cannot be read).
// Counted runs made on the virtual rig, or judged by more than one analysis method, are
// reasons unless `allowed`.
std::vector<std::string> refusals(const LotEvidence&, const std::string& today,
                                  const std::optional<std::string>& current_spec_text,
                                  const Allowances& allowed = {});

// A number for the JSON documents of this layer, null when absent.
nlohmann::json number_or_null(const std::optional<double>&);

// A file's bytes (the lot's spec as it is now), nullopt when it cannot be read.
std::optional<std::string> read_text_file(const std::string& path);

// accepted when nonconforming <= Ac and the capability bound meets the spec's minimum;
// rejected otherwise. The reasons say which, in sentences for the certificate.
struct LotDecision {
  bool accepted = false;
  std::vector<std::string> reasons;
};
LotDecision decide(const LotEvidence&);

}  // namespace derma::lot
