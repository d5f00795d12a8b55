#include "bench/lot/certification.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "bench/analysis/method.hpp"
#include "bench/analysis/sampling_plan.hpp"
#include "bench/lot/lot_evidence.hpp"
#include "bench/lot/signing.hpp"
#include "bench/report/certificate_text.hpp"
#include "bench/report/report_files.hpp"
#include "bench/runner/station.hpp"

namespace derma::lot {

namespace {

using nlohmann::json;

constexpr const char* kFormat = "dermabench-certificate/1";

std::string dump(const json& j) {
  // nlohmann's objects are std::maps: keys come out sorted, so the text is canonical.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// "ISO 2859-1:1999 Table 2-A single sampling": the edition and the master table the plan
// came from, as the sampling module names them.
std::string plan_standard(const store::LotRow& lot) {
  auto level = analysis::inspection_level_from(lot.level);
  auto severity = analysis::severity_from(lot.severity);
  if (level && severity)
    if (auto plan = analysis::single_sampling_plan(lot.lot_size, *level, lot.aql, *severity))
      return plan->edition + " " + plan->table + " single sampling";
  return std::string(analysis::kSamplingEdition) + " single sampling";
}

report::Certificate certificate_of(const LotEvidence& ev, const LotDecision& decision,
                                   const CertifyRequest& req) {
  const store::LotRow& lot = ev.lot;
  report::Certificate c;
  c.certificate_id = "CERT-" + lot.lot;
  c.lot = lot.lot;
  c.model = lot.model;
  c.spec_file = lot.spec_file;
  c.spec_sha256 = lot.spec_sha256;
  c.plan.standard = plan_standard(lot);
  c.plan.level = lot.level;
  c.plan.severity = lot.severity;
  c.plan.aql = lot.aql;
  c.plan.code_letter = lot.code_letter.empty() ? '?' : lot.code_letter[0];
  c.plan.lot_size = lot.lot_size;
  c.plan.sample_size = lot.sample_size;
  c.plan.accept_number = lot.accept_number;
  c.plan.reject_number = lot.reject_number;
  c.plan.hundred_percent = lot.sample_size >= lot.lot_size;
  c.decision = decision.accepted ? "accepted" : "rejected";
  c.reasons = decision.reasons;
  for (const CountedRoller& r : ev.counted) c.virtual_rig_rollers += ran_on_virtual_rig(r.run);
  if (c.virtual_rig_rollers > 0)
    c.reasons.insert(c.reasons.begin(),
                     "Demonstration only: " + std::to_string(c.virtual_rig_rollers) + " of the " +
                         std::to_string(ev.counted.size()) +
                         " sampled rollers were tested on the virtual rig, not on a production "
                         "rig; this certificate does not release the lot");
  c.sampled_analysis_methods = analysis_method_counts(ev.counted);
  if (c.sampled_analysis_methods.size() > 1)
    c.reasons.insert(
        c.reasons.begin() + (c.virtual_rig_rollers > 0 ? 1 : 0),
        "Mixed analysis methods: the " + std::to_string(ev.counted.size()) +
            " sampled rollers were judged by " +
            report::certificate_text::sampled_methods_text(c.sampled_analysis_methods) +
            ", certified together as asked (--allow-mixed-methods): their verdicts "
            "and the pooled capability mix definitions of the measurement");
  c.analysis_method = analysis::kAnalysisMethodVersion;
  c.nonconforming = ev.nonconforming;
  c.capability = ev.capability;

  std::map<std::string, report::CertificateRig> rigs;
  std::set<std::string> phantom_lots, operators;
  for (const CountedRoller& r : ev.counted) {
    report::SampledRoller s;
    s.serial = r.run.roller_serial;
    s.run_id = r.run.id;
    s.verdict = r.conforming ? "pass" : "fail";
    s.failed_checks = r.failed_checks;
    s.mean_depth_um = r.mean_depth_um;
    s.rig_serial = r.run.rig_serial;
    s.phantom_lot = r.run.phantom_lot;
    s.operator_name = r.run.operator_name;
    s.finished_at = r.run.finished_at;
    s.record_sha256 = r.record_sha256;
    s.analysis_method = r.run.analysis_method;
    c.rollers.push_back(std::move(s));

    report::CertificateRig& rig = rigs[r.run.rig_serial];
    rig.serial = r.run.rig_serial;
    rig.firmware_version = r.run.firmware_version;
    rig.calibration_date = r.run.calibration_date;
    rig.calibration_due = r.run.calibration_due;
    rig.load_cell_factor = r.run.load_cell_factor.value_or(1.0);
    ++rig.rollers;
    if (!r.run.phantom_lot.empty()) phantom_lots.insert(r.run.phantom_lot);
    if (!r.run.operator_name.empty()) operators.insert(r.run.operator_name);
  }
  for (auto& [serial, rig] : rigs) c.rigs.push_back(rig);
  c.phantom_lots.assign(phantom_lots.begin(), phantom_lots.end());
  c.operators.assign(operators.begin(), operators.end());
  c.signer = req.signer;
  c.signature_meaning = req.meaning;
  c.signed_at = runner::utc_now_iso8601();
  c.software_version = DERMA_VERSION;
  c.host_name = runner::host_name();
  return c;
}

// The canonical record: everything on the certificate except the signature fields.
json record_of(const report::Certificate& c) {
  json rollers = json::array();
  for (const auto& r : c.rollers)
    rollers.push_back({{"serial", r.serial},
                       {"run_id", r.run_id},
                       {"verdict", r.verdict},
                       {"failed_checks", r.failed_checks},
                       {"mean_depth_um", number_or_null(r.mean_depth_um)},
                       {"rig_serial", r.rig_serial},
                       {"phantom_lot", r.phantom_lot},
                       {"operator", r.operator_name},
                       {"finished_at", r.finished_at},
                       {"record_sha256", r.record_sha256},
                       {"analysis_method", r.analysis_method}});
  json rigs = json::array();
  for (const auto& r : c.rigs)
    rigs.push_back({{"serial", r.serial},
                    {"firmware_version", r.firmware_version},
                    {"calibration_date", r.calibration_date},
                    {"calibration_due", r.calibration_due},
                    {"load_cell_factor", r.load_cell_factor},
                    {"rollers", r.rollers}});
  const auto& p = c.plan;
  const auto& k = c.capability;
  return {{"format", kFormat},
          {"certificate_id", c.certificate_id},
          {"lot", c.lot},
          {"model", c.model},
          {"spec", {{"file", c.spec_file}, {"sha256", c.spec_sha256}}},
          {"plan",
           {{"standard", p.standard},
            {"level", p.level},
            {"severity", p.severity},
            {"aql", p.aql},
            {"code_letter", std::string(1, p.code_letter)},
            {"lot_size", p.lot_size},
            {"sample_size", p.sample_size},
            {"accept_number", p.accept_number},
            {"reject_number", p.reject_number},
            {"hundred_percent", p.hundred_percent}}},
          {"decision", c.decision},
          {"reasons", c.reasons},
          {"nonconforming", c.nonconforming},
          {"virtual_rig_rollers", c.virtual_rig_rollers},
          {"analysis_method", analysis_methods_json(c.analysis_method, c.sampled_analysis_methods)},
          {"rollers", rollers},
          {"capability",
           {{"values", k.values},
            {"rollers", k.rollers},
            {"effective_n", k.effective_n},
            {"icc", k.icc},
            {"mean_um", number_or_null(k.mean_um)},
            {"sd_um", number_or_null(k.sd_um)},
            {"lsl_um", number_or_null(k.lsl_um)},
            {"usl_um", number_or_null(k.usl_um)},
            {"cpk", number_or_null(k.cpk)},
            {"cpk_lcb95", number_or_null(k.cpk_lcb95)},
            {"min_cpk", k.min_cpk},
            {"meets", k.meets}}},
          {"rigs", rigs},
          {"phantom_lots", c.phantom_lots},
          {"operators", c.operators},
          {"signer", c.signer},
          {"signature_meaning", c.signature_meaning},
          {"signed_at", c.signed_at},
          {"software_version", c.software_version},
          {"host", c.host_name}};
}

// Every run of the lot that does not count, and why: an auditor sees retests, runs that
// ended without a verdict and rollers beyond the sample, not only what counted.
json excluded_runs(const LotEvidence& ev) {
  json list = json::array();
  const auto add = [&](const std::vector<store::RunRow>& runs, const char* why) {
    for (const auto& r : runs)
      list.push_back({{"run_id", r.id},
                      {"roller", r.roller_serial},
                      {"state", store::to_string(r.state)},
                      {"why", why}});
  };
  add(ev.inconclusive, "ended without a verdict");
  add(ev.retests, "retest of a roller already counted");
  add(ev.beyond_sample, "beyond the sample size");
  return list;
}

CertifyError failure(std::string why) {
  return CertifyError{false, {std::move(why)}};
}

std::string today_utc() {
  return runner::utc_now_iso8601().substr(0, 10);
}

}  // namespace

bool valid_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 &&
         std::all_of(name.begin(), name.end(),
                     [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
                     }) &&
         name != "." && name != "..";
}

std::expected<Certified, CertifyError> certify(store::ResultsDb& db, const CertifyRequest& req) {
  if (!valid_name(req.signer))
    return std::unexpected(
        failure("signer '" + req.signer + "': use letters, digits, '.', '_' or '-' (1-64)"));
  if (req.meaning.empty()) return std::unexpected(failure("--meaning is empty"));
  auto evidence = gather_evidence(db, req.lot);
  if (!evidence) return std::unexpected(failure(evidence.error()));
  const LotEvidence& ev = *evidence;

  if (auto why = refusals(ev, today_utc(), read_text_file(ev.lot.spec_file), req.allowed);
      !why.empty())
    return std::unexpected(CertifyError{true, std::move(why)});

  auto enrolled = db.signer_key(req.signer);
  if (!enrolled) return std::unexpected(failure(enrolled.error()));
  // An enrolled signer must bring their key: never mint a stray new one for them.
  if (*enrolled && !std::filesystem::exists(req.key_file))
    return std::unexpected(failure("signer " + req.signer + " is enrolled, but their key " +
                                   req.key_file + " does not exist: give it with --key"));
  auto key = load_or_create_key(req.key_file);
  if (!key) return std::unexpected(failure(key.error()));
  if (!*enrolled) {
    if (auto done = db.enroll_signer(req.signer, key->public_key_hex, req.origin); !done)
      return std::unexpected(failure(done.error()));
  } else if (**enrolled != key->public_key_hex) {
    return std::unexpected(failure("signer " + req.signer + " is enrolled with another key than " +
                                   req.key_file + ": use their own key"));
  }

  Certified out;
  report::Certificate& cert = out.certificate;
  cert = certificate_of(ev, decide(ev), req);
  json record_json = record_of(cert);
  record_json["excluded_runs"] = excluded_runs(ev);
  const std::string record = dump(record_json);
  cert.record_sha256 = store::sha256_hex(record);
  cert.signature_hex = sign_hex(*key, record);
  cert.public_key_hex = key->public_key_hex;

  // The copies carry the signature, so they are rendered after signing; their digests are
  // then signed too (the files manifest), and stored with the certificate.
  const std::string html = report::certificate_html(cert);
  auto pdf = report::certificate_pdf(cert);
  if (!pdf) return std::unexpected(failure("rendering the PDF: " + pdf.error()));
  const std::filesystem::path dir(req.out_dir.empty() ? "." : req.out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return std::unexpected(failure("cannot create " + dir.string() + ": " + ec.message()));
  const std::string base = cert.certificate_id;
  out.html_path = (dir / (base + ".html")).string();
  out.pdf_path = (dir / (base + ".pdf")).string();
  out.json_path = (dir / (base + ".json")).string();
  const std::string files =
      dump({{"certificate_id", cert.certificate_id},
            {"record_sha256", cert.record_sha256},
            {"html", {{"file", base + ".html"}, {"sha256", store::sha256_hex(html)}}},
            {"pdf", {{"file", base + ".pdf"}, {"sha256", store::sha256_hex(*pdf)}}}});
  const json envelope = {{"format", kFormat},
                         {"certificate_id", cert.certificate_id},
                         {"record", record},
                         {"record_sha256", cert.record_sha256},
                         {"signature", cert.signature_hex},
                         {"public_key", cert.public_key_hex},
                         {"files", files},
                         {"files_signature", sign_hex(*key, files)}};
  // Written under temporary names first and renamed only once the database holds the
  // certificate: a certification that loses a race (or fails) leaves no files behind and
  // cannot overwrite the copies of the one that won.
  const std::string temp = ".certifying-" + std::to_string(::getpid());
  const std::vector<std::pair<std::string, std::string>> files_out = {
      {out.html_path, html}, {out.pdf_path, *pdf}, {out.json_path, envelope.dump(2) + "\n"}};
  const auto remove_temps = [&] {
    for (const auto& [path, text] : files_out) std::filesystem::remove(path + temp, ec);
  };
  for (const auto& [path, text] : files_out)
    if (auto done = report::write_file_atomically(path + temp, text, /*durable=*/true); !done) {
      remove_temps();
      return std::unexpected(failure(done.error()));
    }

  store::CertificateRow row;
  row.id = cert.certificate_id;
  row.lot = cert.lot;
  row.decision = cert.decision;
  row.record = record;
  row.record_sha256 = cert.record_sha256;
  row.signature = cert.signature_hex;
  row.public_key = cert.public_key_hex;
  row.signer = cert.signer;
  row.signed_at = cert.signed_at;
  row.files = files;
  row.nonconforming = cert.nonconforming;
  const std::string detail = dump({{"certificate_id", cert.certificate_id},
                                   {"decision", cert.decision},
                                   {"record_sha256", cert.record_sha256},
                                   {"signature", cert.signature_hex},
                                   {"meaning", cert.signature_meaning},
                                   {"files_sha256", store::sha256_hex(files)}});
  if (auto stored = db.record_certificate(row, req.origin, detail); !stored) {
    remove_temps();
    return std::unexpected(failure(stored.error()));
  }
  for (const auto& [path, text] : files_out) {
    std::filesystem::rename(path + temp, path, ec);
    if (ec)
      return std::unexpected(failure("the certificate is recorded, but " + path + temp +
                                     " could not be renamed to " + path + ": " + ec.message()));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Verification

namespace {

struct Checker {
  Verification& v;
  void expect(bool ok, const std::string& what, const std::string& problem) {
    if (ok)
      v.checked.push_back(what);
    else
      v.problems.push_back(problem);
  }
};

std::string text_field(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void verify_copies(Checker& check, const json& files, const std::filesystem::path& dir) {
  for (const char* kind : {"html", "pdf"}) {
    const json entry = files.value(kind, json::object());
    const std::string name = text_field(entry, "file");
    const std::string want = text_field(entry, "sha256");
    if (name.empty() || name.find('/') != std::string::npos) {
      check.expect(false, "", std::string("the files manifest names no ") + kind + " copy");
      continue;
    }
    const std::filesystem::path path = dir / name;
    if (!std::filesystem::exists(path)) {
      check.expect(false, "", path.string() + ": missing");
      continue;
    }
    const std::string have = store::sha256_hex(read_text_file(path.string()).value_or(""));
    check.expect(
        have == want, path.filename().string() + " matches its signed digest",
        path.string() + ": changed after signing (SHA-256 " + have + ", signed " + want + ")");
  }
}

void verify_rows(Checker& check, const store::ResultsDb& db, const json& record) {
  const std::string lot_name = text_field(record, "lot");
  auto lot = db.get_lot(lot_name);
  if (!lot || !*lot) {
    check.expect(false, "", "lot " + lot_name + " is not in the database");
    return;
  }
  const json plan = record.value("plan", json::object());
  const store::LotRow& l = **lot;
  const bool plan_same =
      text_field(record, "model") == l.model && text_field(plan, "code_letter") == l.code_letter &&
      record.value("nonconforming", -1) == l.nonconforming.value_or(-2) &&
      plan.value("sample_size", -1) == l.sample_size &&
      plan.value("accept_number", -1) == l.accept_number &&
      plan.value("reject_number", -1) == l.reject_number &&
      plan.value("lot_size", -1) == l.lot_size && text_field(plan, "severity") == l.severity &&
      text_field(plan, "level") == l.level && plan.value("aql", -1.0) == l.aql;
  check.expect(
      plan_same, "the lot's sampling plan in the database is the signed one",
      "lot " + lot_name + ": its sampling plan in the database differs from the signed one");
  check.expect(l.state == text_field(record, "decision"), "the lot is closed as " + l.state,
               "lot " + lot_name + " is " + l.state + " in the database, the certificate says " +
                   text_field(record, "decision"));

  const json spec = record.value("spec", json::object());
  const std::string spec_sha = text_field(spec, "sha256");
  auto text = db.spec_text(spec_sha);
  const bool spec_ok =
      text && *text && store::sha256_hex(**text) == spec_sha && l.spec_sha256 == spec_sha;
  check.expect(spec_ok, "the spec text in the database still has SHA-256 " + spec_sha,
               "spec " + spec_sha + ": missing or changed in the database");

  int rollers = 0, changed = 0;
  for (const json& r : record.value("rollers", json::array())) {
    ++rollers;
    const std::int64_t run_id = r.value("run_id", std::int64_t{0});
    auto run = db.get_run(run_id);
    auto checks = db.checks_of(run_id);
    auto measurements = db.measurements_of(run_id);
    if (!run || !*run || !checks || !measurements) {
      ++changed;
      check.expect(false, "", "run " + std::to_string(run_id) + " is missing from the database");
      continue;
    }
    const std::string now = run_record_digest(**run, *checks, *measurements);
    if (now != text_field(r, "record_sha256")) {
      ++changed;
      check.expect(false, "",
                   "run " + std::to_string(run_id) + " (roller " + text_field(r, "serial") +
                       "): its database rows changed after certification (verdict now " +
                       (*run)->verdict + ")");
    }
  }
  if (changed == 0)
    check.expect(true,
                 "the database rows behind all " + std::to_string(rollers) +
                     " sampled rollers are unchanged",
                 "");
}

void verify_audit(Checker& check, const store::ResultsDb& db, std::int64_t audit_seq,
                  const std::string& record_sha) {
  const store::AuditVerification chain = db.verify_audit();
  check.expect(!chain.problem,
               "the audit chain holds (" + std::to_string(chain.entries) + " entries)",
               "audit chain: " + chain.problem.value_or(""));
  auto log = db.audit_log(-1);
  bool found = false;
  if (log)
    for (const auto& e : *log)
      if (e.seq == audit_seq && e.action == "lot.certify") {
        const json detail = json::parse(e.detail, nullptr, false);
        found = !detail.is_discarded() && text_field(detail, "record_sha256") == record_sha;
      }
  check.expect(
      found, "audit entry " + std::to_string(audit_seq) + " records this certificate",
      "audit entry " + std::to_string(audit_seq) + " does not record this certificate's digest");
}

// The key the audit chain recorded when `signer` was enrolled: a signers row replaced
// behind the database's back (not through enroll_signer) does not match it.
std::string enrolled_key_in_audit(const store::ResultsDb& db, const std::string& signer) {
  auto log = db.audit_log(-1);
  if (!log) return {};
  for (const auto& e : *log)
    if (e.action == "signer.enroll" && e.subject == "signer " + signer) {
      const json detail = json::parse(e.detail, nullptr, false);
      return detail.is_discarded() ? std::string() : text_field(detail, "public_key");
    }
  return {};
}

// "SIGNER PUBLIC-KEY-HEX" lines ('#' starts a comment): keys kept outside the database.
std::expected<std::map<std::string, std::string>, std::string> read_trusted_keys(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::unexpected(path + ": cannot read the trusted keys");
  std::map<std::string, std::string> keys;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    line = line.substr(0, line.find('#'));
    std::istringstream fields(line);
    std::string signer, key, extra;
    if (!(fields >> signer)) continue;
    if (!(fields >> key) || (fields >> extra) || key.size() != 64)
      return std::unexpected(path + ":" + std::to_string(n) +
                             ": expected 'SIGNER PUBLIC-KEY' (64 hex digits)");
    keys[signer] = key;
  }
  return keys;
}

std::expected<Verification, std::string> verify_envelope(const store::ResultsDb& db,
                                                         const std::string& cert_json,
                                                         const std::string& trusted_keys) {
  const std::string text = read_text_file(cert_json).value_or("");
  if (text.empty()) return std::unexpected(cert_json + ": cannot read");
  const json envelope = json::parse(text, nullptr, false);
  if (envelope.is_discarded() || !envelope.is_object())
    return std::unexpected(cert_json + ": not a certificate (not JSON)");
  if (text_field(envelope, "format") != kFormat)
    return std::unexpected(cert_json + ": not a certificate (format is not " +
                           std::string(kFormat) + ")");

  Verification v;
  Checker check{v};
  v.certificate_id = text_field(envelope, "certificate_id");
  const std::string record_text = text_field(envelope, "record");
  const std::string record_sha = text_field(envelope, "record_sha256");
  const std::string public_key = text_field(envelope, "public_key");
  const std::string files = text_field(envelope, "files");
  const json record = json::parse(record_text, nullptr, false);
  if (record.is_discarded()) return std::unexpected(cert_json + ": the record is not JSON");
  v.lot = text_field(record, "lot");
  v.decision = text_field(record, "decision");
  // Certificates signed before the field existed lack it (read as 0); their rigs' firmware
  // is on them either way.
  if (const auto n = record.find("virtual_rig_rollers");
      n != record.end() && n->is_number_integer())
    v.virtual_rig_rollers = n->get<int>();
  // Certificates signed before they named the analysis methods lack the object.
  if (const auto m = record.find("analysis_method"); m != record.end() && m->is_object()) {
    v.analysis_method = m->value("certifying_bench", 0);
    for (const json& share : m->value("sampled_rollers", json::array()))
      v.sampled_analysis_methods.push_back({share.value("version", 0), share.value("rollers", 0)});
  }

  check.expect(store::sha256_hex(record_text) == record_sha, "the record matches its SHA-256",
               "the record does not match its SHA-256: it was edited");
  check.expect(signature_valid(public_key, record_text, text_field(envelope, "signature")),
               "the Ed25519 signature of the record is valid",
               "the record's Ed25519 signature is not valid for its public key");
  check.expect(signature_valid(public_key, files, text_field(envelope, "files_signature")),
               "the Ed25519 signature of the files manifest is valid",
               "the files manifest's signature is not valid");
  check.expect(text_field(record, "certificate_id") == v.certificate_id,
               "the certificate id is the signed one",
               "the envelope's certificate id differs from the signed record's");
  const json manifest = json::parse(files, nullptr, false);
  if (manifest.is_discarded())
    check.expect(false, "", "the files manifest is not JSON");
  else
    verify_copies(check, manifest, std::filesystem::path(cert_json).parent_path());

  const std::string signer = text_field(record, "signer");
  auto enrolled = db.signer_key(signer);
  check.expect(enrolled && *enrolled && **enrolled == public_key,
               "the public key is the one enrolled for signer " + signer,
               "signer " + signer + ": the certificate's public key is not the enrolled one");
  check.expect(enrolled_key_in_audit(db, signer) == public_key,
               "the audit chain's signer.enroll entry names the same key",
               "signer " + signer + ": the audit chain enrolled another key (or none)");
  if (!trusted_keys.empty()) {
    auto keys = read_trusted_keys(trusted_keys);
    if (!keys) return std::unexpected(keys.error());
    const auto it = keys->find(signer);
    check.expect(
        it != keys->end() && it->second == public_key,
        "the key is the one " + trusted_keys + " trusts for " + signer,
        "signer " + signer + ": not signed with the key " + trusted_keys + " trusts for them");
  }

  auto stored = db.get_certificate(v.certificate_id);
  if (!stored || !*stored) {
    check.expect(false, "", v.certificate_id + " is not in the database");
  } else {
    const store::CertificateRow& row = **stored;
    check.expect(row.record == record_text && row.signature == text_field(envelope, "signature") &&
                     row.files == files,
                 "the database holds the same record, signature and files manifest",
                 v.certificate_id + ": the database's copy differs from this file");
    verify_audit(check, db, row.audit_seq, record_sha);
  }
  verify_rows(check, db, record);
  return v;
}

}  // namespace

std::expected<Verification, std::string> verify(const store::ResultsDb& db,
                                                const std::string& cert_json,
                                                const std::string& trusted_keys) {
  // A tampered certificate may be valid JSON of the wrong shape: that is a finding to
  // report (exit 1), not a crash.
  try {
    return verify_envelope(db, cert_json, trusted_keys);
  } catch (const json::exception& e) {
    return std::unexpected(cert_json + ": not a well-formed certificate (" + e.what() + ")");
  }
}

}  // namespace derma::lot
