// The words and figures of a lot certificate, shared by its two renderings (HTML and PDF) so
// the page and the printout say exactly the same thing: the labelled fields of each section,
// the decision's wording and the number formats. Plain text here; each renderer escapes or
// draws it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bench/report/certificate.hpp"

namespace derma::report::certificate_text {

// One labelled value of a section ("Code letter" -> "J").
struct Field {
  std::string label;
  std::string value;
  bool mono = false;  // digests, keys, file names: set in a monospace face
  bool wide = false;  // too long to share a row with other fields
  // Styling hint for the value: "pass" or "fail" colours it as a verdict; empty for none.
  std::string tone;
};

bool accepted(const Certificate&);
// "ACCEPTED", "REJECTED", or the decision in capitals when it is neither.
std::string decision_label(const Certificate&);
// "Certificate of conformance", or, when sampled rollers were tested on the virtual rig,
// "Demonstration certificate (virtual rig)": the title says what the certificate is worth.
std::string title(const Certificate&);
// "pass" for accepted, "fail" otherwise: the class names the run report's styles use.
std::string decision_tone(const Certificate&);
// "2 nonconforming in a sample of 80: accept at ≤ 2, reject at ≥ 3."
std::string sample_line(const Certificate&);
// What the plan means for this lot, e.g. that every roller had to be inspected.
std::string plan_note(const CertificatePlan&);
// "Meets: Cpk 95 % lower bound 1.52 ≥ 1.33." and the like.
std::string capability_line(const CertificateCapability&);
// How to check it: `bench lot verify` on the signed record, named after the certificate.
std::string verify_line(const Certificate&);
// The analysis methods that judged the sampled rollers: "method 2 (every sampled roller)",
// or "method 1 (3 rollers) and method 2 (77 rollers)" when they were mixed.
std::string sampled_methods_text(const std::vector<CertificateMethod>&);
// The same in a few words for a field: "method 2", or "methods 1 and 2".
std::string methods_brief(const std::vector<CertificateMethod>&);
// The roller annex names the method that judged its rollers in its heading ("250, analysis
// method 2"); only when they were mixed does it need a column naming each roller's.
bool method_column(const Certificate&);
std::string annex_count(const Certificate&);

// Identity of the lot and its spec, with the phantom lots and operators of its runs.
std::vector<Field> lot_fields(const Certificate&);
std::vector<Field> plan_fields(const CertificatePlan&);
// The capability figures, and the analysis methods that judged the depths they pool.
std::vector<Field> capability_fields(const CertificateCapability&,
                                     const std::vector<CertificateMethod>& sampled_methods);
// Signer, meaning, time, software, host and the bench's analysis method; then the record's
// digest, signature and key.
std::vector<Field> signature_fields(const Certificate&);

// Per-roller and per-rig cells.
std::string mean_depth_text(const SampledRoller&);     // "325.3" or an em dash
std::string short_digest(const std::string& hex);      // first 12 hex digits and an ellipsis
std::string verdict_tone(const std::string& verdict);  // "pass", "fail" or "error"
// "penetration_depth,missing_channels" -> "penetration_depth, missing_channels" (wraps).
std::string checks_text(const std::string& failed_checks);

// Formatting.
std::string upper(std::string);
std::string or_dash(const std::string&);
// "2026-11-26T16:05:09Z" -> "2026-11-26 16:05:09 UTC"; anything else unchanged.
std::string utc_text(const std::string& iso);
// The same for a table column headed "(UTC)": "2026-11-26 16:05:09"; anything else unchanged.
std::string utc_compact(const std::string& iso);
std::string um_text(const std::optional<double>& um);  // "325.3 µm" or an em dash
std::string aql_text(double aql);                      // 1 -> "1.0", 0.65 -> "0.65", 10 -> "10"
std::string factor_text(double factor);                // load-cell factor, 4 decimals

}  // namespace derma::report::certificate_text
