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

// Identity of the lot and its spec, with the phantom lots and operators of its runs.
std::vector<Field> lot_fields(const Certificate&);
std::vector<Field> plan_fields(const CertificatePlan&);
std::vector<Field> capability_fields(const CertificateCapability&);
// Signer, meaning, time, software and host; then the record's digest, signature and key.
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
