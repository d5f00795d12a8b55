// bench lot create | status | certify | verify: production lots, their sampling plan, and a
// signed certificate of conformance (bench/lot, docs/lots.md).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bench/app/commands.hpp"
#include "bench/app/run_recording.hpp"
#include "bench/lot/certification.hpp"
#include "bench/lot/lot_evidence.hpp"
#include "bench/lot/lot_plan.hpp"
#include "bench/lot/lot_status.hpp"
#include "bench/report/certificate_text.hpp"
#include "bench/report/run_report.hpp"
#include "bench/store/results_db.hpp"
#include "bench/suite/product_spec.hpp"

namespace derma::app {

namespace {

using nlohmann::json;

int fail(const char* command, const std::string& why, int code = report::kExitBadInput) {
  std::cerr << "bench lot " << command << ": " << why << "\n";
  return code;
}

std::string default_spec_file(const std::string& model) {
  return "fixtures/specs/" + model + ".yaml";
}

// ~/.config/dermabench/keys/SIGNER.ed25519 ($XDG_CONFIG_HOME when set).
std::string default_key_file(const std::string& signer) {
  std::filesystem::path base;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
    base = xdg;
  else if (const char* home = std::getenv("HOME"); home && *home)
    base = std::filesystem::path(home) / ".config";
  else
    base = ".";
  return (base / "dermabench" / "keys" / (signer + ".ed25519")).string();
}

std::string fixed(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string optional_fixed(const std::optional<double>& v, int decimals) {
  return v ? fixed(*v, decimals) : std::string("-");
}

std::string plan_line(const store::LotRow& l) {
  return "ISO 2859-1 single sampling, level " + l.level + ", AQL " + fixed(l.aql, 3) + ", " +
         l.severity + " inspection: code " + l.code_letter + ", sample " +
         std::to_string(l.sample_size) + " of " + std::to_string(l.lot_size) + ", accept " +
         std::to_string(l.accept_number) + " / reject " + std::to_string(l.reject_number);
}

}  // namespace

int lot_create_command(const LotCommand& cmd) {
  if (!lot::valid_name(cmd.lot))
    return fail("create", "lot '" + cmd.lot + "': use letters, digits, '.', '_' or '-' (1-64)");
  const std::string spec_file =
      cmd.spec_file.empty() ? default_spec_file(cmd.model) : cmd.spec_file;
  auto spec = suite::load_product_spec(spec_file);
  if (!spec)
    return fail("create", spec.error().to_string() +
                              (cmd.spec_file.empty() ? " (give the spec with --spec FILE)" : ""));
  if (spec->model != cmd.model)
    return fail("create", spec_file + " is the spec of " + spec->model + ", not of " + cmd.model);
  auto db = store::ResultsDb::open(resolve_db_path(cmd.db_path));
  if (!db) return fail("create", db.error());

  lot::LotPlanRequest req;
  req.lot = cmd.lot;
  req.model = cmd.model;
  req.spec_file = spec_file;
  req.spec_text = spec->text;
  req.lot_size = cmd.lot_size;
  req.aql = cmd.aql;
  req.level = cmd.level;
  req.created_by = user_name();
  req.reduced_approved = cmd.approve_reduced;
  req.production_steady = !cmd.production_irregular;
  std::string note;
  auto planned = lot::plan_lot(**db, req, &note);
  if (!planned) return fail("create", planned.error());
  auto created = (*db)->create_lot(*planned, req.created_by, "cli");
  if (!created) return fail("create", created.error());
  if (cmd.json) {
    json out = lot::lot_row_json(*created);
    out["severity_reason"] = note;
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << "lot " << created->lot << " (" << created->model << "): " << plan_line(*created)
              << "\n"
              << "severity: " << note << "\n"
              << "spec: " << created->spec_file << " sha256 " << created->spec_sha256 << "\n"
              << "attach runs with `bench run ... --db DB --lot " << created->lot
              << "` or `bench submit ... --lot " << created->lot << "`\n";
  }
  return 0;
}

int lot_status_command(const LotCommand& cmd) {
  auto db = open_existing("lot status", resolve_db_path(cmd.db_path));
  if (!db) return report::kExitBadInput;
  auto status = lot::lot_status(*db, cmd.lot);
  if (!status) return fail("status", status.error());
  if (cmd.json) {
    std::cout << status->json.dump(2) << "\n";
    return 0;
  }
  const lot::LotEvidence& ev = status->evidence;
  const store::LotRow& l = ev.lot;
  const auto& cap = ev.capability;
  std::cout << "lot " << l.lot << " (" << l.model << "), " << l.state << "\n"
            << "plan: " << plan_line(l) << "\n"
            << "sampled: " << ev.counted.size() << " of " << l.sample_size << " rollers, "
            << ev.nonconforming << " nonconforming";
  if (!ev.pending.empty()) std::cout << ", " << ev.pending.size() << " run(s) not final";
  if (!ev.inconclusive.empty())
    std::cout << ", " << ev.inconclusive.size() << " inconclusive run(s) not counted";
  if (!ev.retests.empty()) std::cout << ", " << ev.retests.size() << " retest(s) not counted";
  std::cout << "\n";
  if (!ev.counted.empty())
    std::cout << "analysis method: "
              << report::certificate_text::sampled_methods_text(
                     lot::analysis_method_counts(ev.counted))
              << "\n";
  std::cout << "penetration depth: Cpk " << optional_fixed(cap.cpk, 2) << ", 95 % lower bound "
            << optional_fixed(cap.cpk_lcb95, 2) << " (min " << fixed(cap.min_cpk, 2) << ") over "
            << cap.values << " needle means of " << cap.rollers << " rollers\n";
  for (const auto& r : ev.counted)
    if (!r.conforming)
      std::cout << "  nonconforming: roller " << r.run.roller_serial << " (run " << r.run.id
                << "): " << r.failed_checks << "\n";
  if (l.state != "open") return 0;
  if (status->blocking.empty())
    std::cout << "ready to certify: the decision would be "
              << (status->decision.accepted ? "ACCEPTED" : "REJECTED") << "\n";
  else
    for (const auto& why : status->blocking) std::cout << "not ready: " << why << "\n";
  return 0;
}

int lot_certify_command(const LotCommand& cmd) {
  auto db = open_existing("lot certify", resolve_db_path(cmd.db_path));
  if (!db) return report::kExitBadInput;
  lot::CertifyRequest req;
  req.lot = cmd.lot;
  req.signer = cmd.signer;
  req.meaning = cmd.meaning;
  req.key_file = cmd.key_file.empty() ? default_key_file(cmd.signer) : cmd.key_file;
  req.out_dir = cmd.out_dir;
  req.allowed.virtual_rig = cmd.allow_virtual_rig;
  req.allowed.mixed_analysis_methods = cmd.allow_mixed_methods;
  auto certified = lot::certify(*db, req);
  if (!certified) {
    const auto& e = certified.error();
    if (!e.refused) return fail("certify", e.reasons.empty() ? "failed" : e.reasons.front());
    std::cerr << "bench lot certify: refused: lot " << cmd.lot << " cannot be certified:\n";
    for (const auto& why : e.reasons) std::cerr << "  - " << why << "\n";
    return kExitRefused;
  }
  const report::Certificate& c = certified->certificate;
  std::cout << c.certificate_id << ": lot " << c.lot << " "
            << (c.decision == "accepted" ? "ACCEPTED" : "REJECTED") << ", signed by " << c.signer
            << " (" << c.signature_meaning << ") at " << c.signed_at << "\n";
  for (const auto& why : c.reasons) std::cout << "  " << why << "\n";
  std::cout << "certificate: " << certified->json_path << ", " << certified->html_path << ", "
            << certified->pdf_path << "\n";
  return c.decision == "accepted" ? 0 : 1;
}

int lot_verify_command(const LotCommand& cmd) {
  auto db = open_existing("lot verify", resolve_db_path(cmd.db_path));
  if (!db) return report::kExitBadInput;
  auto v = lot::verify(*db, cmd.certificate_file, cmd.trusted_keys);
  if (!v) return fail("verify", v.error());
  if (cmd.json) {
    std::cout << json{{"certificate_id", v->certificate_id},
                      {"lot", v->lot},
                      {"decision", v->decision},
                      {"virtual_rig_rollers", v->virtual_rig_rollers},
                      {"analysis_method",
                       v->analysis_method == 0  // signed before certificates named it
                           ? json(nullptr)
                           : lot::analysis_methods_json(v->analysis_method,
                                                        v->sampled_analysis_methods)},
                      {"verified", v->problems.empty()},
                      {"checked", v->checked},
                      {"problems", v->problems}}
                     .dump(2)
              << "\n";
  } else {
    for (const auto& ok : v->checked) std::cout << "ok: " << ok << "\n";
    for (const auto& bad : v->problems) std::cout << "TAMPERED: " << bad << "\n";
    if (v->virtual_rig_rollers > 0)
      std::cout << "note: a demonstration certificate: " << v->virtual_rig_rollers
                << " sampled rollers were tested on the virtual rig; it releases nothing\n";
    if (v->sampled_analysis_methods.size() > 1)
      std::cout << "note: the sampled rollers were judged by different analysis methods: "
                << report::certificate_text::sampled_methods_text(v->sampled_analysis_methods)
                << "\n";
    if (v->analysis_method == 0)
      std::cout << "note: signed before certificates named the analysis method: see each run "
                   "(bench show RUN)\n";
    std::cout << v->certificate_id << " (lot " << v->lot << ", " << v->decision
              << "): " << (v->problems.empty() ? "verified" : "verification FAILED") << "\n";
  }
  return v->problems.empty() ? 0 : 1;
}

}  // namespace derma::app
