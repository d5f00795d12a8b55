#include "bench/report/certificate_text.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <utility>

#include "bench/report/svg.hpp"

namespace derma::report::certificate_text {

namespace {

using svg::number;

const char* const kDash = "\u2014";

std::string plural(int n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (item.empty()) continue;
    if (!out.empty()) out += ", ";
    out += item;
  }
  return or_dash(out);
}

// "a", "a and b", "a, b and c".
std::string and_list(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " and " : ", ";
    out += items[i];
  }
  return out;
}

std::string optional_number(const std::optional<double>& v, int decimals) {
  return v && std::isfinite(*v) ? number(*v, decimals) : kDash;
}

// Field builders (aggregate initialisation would have to spell every member).
Field plain(std::string label, std::string value) {
  Field f;
  f.label = std::move(label);
  f.value = std::move(value);
  return f;
}

Field wide(std::string label, std::string value, bool mono) {
  Field f = plain(std::move(label), std::move(value));
  f.wide = true;
  f.mono = mono;
  return f;
}

Field toned(std::string label, std::string value, std::string tone) {
  Field f = plain(std::move(label), std::move(value));
  f.tone = std::move(tone);
  return f;
}

bool is_digits(const std::string& s, std::size_t from, std::size_t count) {
  if (s.size() < from + count) return false;
  for (std::size_t i = from; i < from + count; ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

}  // namespace

bool accepted(const Certificate& c) {
  return c.decision == "accepted";
}

std::string title(const Certificate& c) {
  return c.virtual_rig_rollers > 0 ? "Demonstration certificate (virtual rig)"
                                   : "Certificate of conformance";
}

std::string decision_label(const Certificate& c) {
  return upper(or_dash(c.decision));
}

std::string decision_tone(const Certificate& c) {
  return accepted(c) ? "pass" : "fail";
}

std::string sample_line(const Certificate& c) {
  return plural(c.nonconforming, "nonconforming roller", "nonconforming rollers") +
         " in a sample of " + std::to_string(c.plan.sample_size) + ": the plan accepts at \u2264 " +
         std::to_string(c.plan.accept_number) + " (Ac) and rejects at \u2265 " +
         std::to_string(c.plan.reject_number) + " (Re).";
}

std::string plan_note(const CertificatePlan& p) {
  if (p.hundred_percent)
    return "100 % inspection: the plan's sample is not smaller than the lot, so every one of the " +
           std::to_string(p.lot_size) + " rollers of the lot is inspected.";
  return std::to_string(p.sample_size) + " of the lot's " + std::to_string(p.lot_size) +
         " rollers are drawn at random and inspected; the lot is accepted when at most " +
         std::to_string(p.accept_number) + " of them are nonconforming.";
}

std::string capability_line(const CertificateCapability& cap) {
  if (!cap.cpk_lcb95 || !std::isfinite(*cap.cpk_lcb95))
    return "Not shown: the sample gives no lower confidence bound for Cpk (too few values or no "
           "specification limits).";
  const std::string bound = number(*cap.cpk_lcb95, 2);
  const std::string minimum = number(cap.min_cpk, 2);
  return cap.meets ? "Meets the specification: the 95 % lower confidence bound of Cpk, " + bound +
                         ", is at least the minimum " + minimum + "."
                   : "Does not meet the specification: the 95 % lower confidence bound of Cpk, " +
                         bound + ", is below the minimum " + minimum + ".";
}

std::string verify_line(const Certificate& c) {
  const std::string record = (c.certificate_id.empty() ? "CERT" : c.certificate_id) + ".json";
  return "To verify: run \u201cbench lot verify " + record + "\u201d on the signed record " +
         record +
         " issued with this certificate. It checks the record against its SHA-256 "
         "and Ed25519 signature, this certificate's files against their signed digests, and "
         "every sampled roller's record digest against the results database as it is now.";
}

std::string methods_brief(const std::vector<CertificateMethod>& methods) {
  if (methods.empty()) return kDash;
  std::vector<std::string> versions;
  for (const auto& m : methods) versions.push_back(std::to_string(m.version));
  return (methods.size() == 1 ? "method " : "methods ") + and_list(versions);
}

bool method_column(const Certificate& c) {
  return c.sampled_analysis_methods.size() > 1;
}

std::string annex_count(const Certificate& c) {
  const std::string n = std::to_string(c.rollers.size());
  if (c.sampled_analysis_methods.empty()) return n;
  return n + ", analysis " + methods_brief(c.sampled_analysis_methods);
}

std::string sampled_methods_text(const std::vector<CertificateMethod>& methods) {
  if (methods.empty()) return kDash;
  if (methods.size() == 1)
    return "method " + std::to_string(methods[0].version) + " (every sampled roller)";
  std::vector<std::string> shares;
  for (const auto& m : methods)
    shares.push_back("method " + std::to_string(m.version) + " (" +
                     plural(m.rollers, "roller", "rollers") + ")");
  return and_list(shares);
}

std::vector<Field> lot_fields(const Certificate& c) {
  return {
      plain("Certificate", or_dash(c.certificate_id)),
      plain("Lot", or_dash(c.lot)),
      plain("Model", or_dash(c.model)),
      plain("Lot size", std::to_string(c.plan.lot_size) + " rollers"),
      wide("Specification file", or_dash(c.spec_file), true),
      wide("Specification SHA-256", or_dash(c.spec_sha256), true),
      wide("Phantom lots", joined(c.phantom_lots), false),
      wide("Operators", joined(c.operators), false),
  };
}

std::vector<Field> plan_fields(const CertificatePlan& p) {
  std::string letter = p.code_letter == '\0' ? std::string(kDash) : std::string(1, p.code_letter);
  return {
      wide("Standard", or_dash(p.standard), false),
      plain("Inspection level", or_dash(p.level)),
      plain("Severity", or_dash(p.severity)),
      plain("AQL", aql_text(p.aql)),
      plain("Code letter", letter),
      plain("Lot size N", std::to_string(p.lot_size)),
      plain("Sample size n", std::to_string(p.sample_size) + (p.hundred_percent ? " (100 %)" : "")),
      plain("Accept Ac", std::to_string(p.accept_number)),
      plain("Reject Re", std::to_string(p.reject_number)),
  };
}

std::vector<Field> capability_fields(const CertificateCapability& cap,
                                     const std::vector<CertificateMethod>& methods) {
  const Field conclusion = toned("Conclusion",
                                 !cap.cpk_lcb95 ? "not judged"
                                 : cap.meets    ? "meets"
                                                : "does not meet",
                                 cap.meets ? "pass" : "fail");
  return {
      plain("Per-needle means", std::to_string(cap.values)),
      plain("Mean depth", um_text(cap.mean_um)),
      plain("Standard deviation", um_text(cap.sd_um)),
      plain("LSL", um_text(cap.lsl_um)),
      plain("USL", um_text(cap.usl_um)),
      plain("Cpk", optional_number(cap.cpk, 2)),
      plain("Cpk 95 % lower bound", optional_number(cap.cpk_lcb95, 2)),
      plain("Minimum for the bound", number(cap.min_cpk, 2)),
      conclusion,
      plain("Depths judged by", methods_brief(methods)),
  };
}

std::vector<Field> signature_fields(const Certificate& c) {
  const auto or_unsigned = [](const std::string& hex) {
    return hex.empty() ? std::string("\u2014 (not signed)") : hex;
  };
  return {
      plain("Signer", or_dash(c.signer)),
      plain("Meaning of signature", or_dash(c.signature_meaning)),
      plain("Signed (date and time UTC)", or_dash(utc_text(c.signed_at))),
      plain("Software",
            c.software_version.empty() ? kDash : "dermaroller bench " + c.software_version),
      plain("Host", or_dash(c.host_name)),
      plain("Analysis method", "method " + std::to_string(c.analysis_method)),
      wide("Record SHA-256", or_unsigned(c.record_sha256), true),
      wide("Ed25519 signature", or_unsigned(c.signature_hex), true),
      wide("Ed25519 public key", or_unsigned(c.public_key_hex), true),
  };
}

std::string mean_depth_text(const SampledRoller& r) {
  return r.mean_depth_um && std::isfinite(*r.mean_depth_um) ? number(*r.mean_depth_um, 1) : kDash;
}

std::string short_digest(const std::string& hex) {
  if (hex.empty()) return kDash;
  if (hex.size() <= 12) return hex;
  return hex.substr(0, 12) + "\u2026";
}

std::string verdict_tone(const std::string& verdict) {
  if (verdict == "pass" || verdict == "fail") return verdict;
  return "error";
}

std::string checks_text(const std::string& failed_checks) {
  std::string out;
  for (std::size_t i = 0; i < failed_checks.size(); ++i) {
    out += failed_checks[i];
    if (failed_checks[i] == ',' && i + 1 < failed_checks.size() && failed_checks[i + 1] != ' ')
      out += ' ';
  }
  return out;
}

std::string upper(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

std::string or_dash(const std::string& s) {
  return s.empty() ? kDash : s;
}

std::string utc_text(const std::string& iso) {
  // YYYY-MM-DDTHH:MM:SS, optional fraction, then Z or +00:00.
  const bool shaped = is_digits(iso, 0, 4) && iso[4] == '-' && is_digits(iso, 5, 2) &&
                      iso[7] == '-' && is_digits(iso, 8, 2) && iso[10] == 'T' &&
                      is_digits(iso, 11, 2) && iso[13] == ':' && is_digits(iso, 14, 2) &&
                      iso[16] == ':' && is_digits(iso, 17, 2);
  if (!shaped) return iso;
  std::size_t end = 19;
  if (end < iso.size() && iso[end] == '.') {
    ++end;
    while (end < iso.size() && std::isdigit(static_cast<unsigned char>(iso[end]))) ++end;
  }
  const std::string zone = iso.substr(end);
  if (zone != "Z" && zone != "+00:00") return iso;
  return iso.substr(0, 10) + " " + iso.substr(11, end - 11) + " UTC";
}

std::string utc_compact(const std::string& iso) {
  const std::string text = utc_text(iso);
  if (text == iso || text.size() < 19) return iso;
  return text.substr(0, 19);
}

std::string um_text(const std::optional<double>& um) {
  return um && std::isfinite(*um) ? number(*um) + "\u2009\u00b5m" : kDash;
}

std::string aql_text(double aql) {
  if (!std::isfinite(aql) || aql <= 0) return kDash;
  char buf[32];
  // The standard prints the AQLs below 10 with at least one decimal: 0.65, 1.0, 6.5.
  if (aql < 10 && aql == std::floor(aql))
    std::snprintf(buf, sizeof buf, "%.1f", aql);
  else
    std::snprintf(buf, sizeof buf, "%g", aql);
  return buf;
}

std::string factor_text(double factor) {
  return number(factor, 4);
}

}  // namespace derma::report::certificate_text
