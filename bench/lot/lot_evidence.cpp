#include "bench/lot/lot_evidence.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "bench/analysis/method.hpp"
#include "bench/analysis/statistics.hpp"

namespace derma::lot {

namespace {

bool conclusive(store::RunState s) {
  return s == store::RunState::Passed || s == store::RunState::Failed;
}

bool pending(store::RunState s) {
  return s == store::RunState::Queued || s == store::RunState::Running;
}

std::string date_part(const std::string& iso) {
  return iso.substr(0, std::min<std::size_t>(10, iso.size()));
}

std::string describe(const store::RunRow& run) {
  return "run " + std::to_string(run.id) + " (roller " +
         (run.roller_serial.empty() ? std::string("?") : run.roller_serial) + ")";
}

std::string failed_check_ids(const std::vector<store::CheckRow>& checks) {
  std::set<std::string> ids;
  for (const auto& c : checks)
    if (c.verdict != "pass") ids.insert(c.id);
  std::string text;
  for (const auto& id : ids) text += (text.empty() ? "" : ",") + id;
  return text;
}

std::vector<double> needle_means(const std::vector<store::MeasurementRow>& measurements) {
  std::vector<double> values;
  for (const auto& m : measurements)
    if (m.name == "needle_mean_depth") values.push_back(m.value);
  return values;
}

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

}  // namespace

nlohmann::json number_or_null(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

std::optional<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return text.str();
}

std::string run_record_digest(const store::RunRow& run, const std::vector<store::CheckRow>& checks,
                              const std::vector<store::MeasurementRow>& measurements) {
  // What the verdict rests on; not the bookkeeping (out_dir, requester) that may move.
  nlohmann::json record = {{"id", run.id},
                           {"state", store::to_string(run.state)},
                           {"verdict", run.verdict},
                           {"lot", run.lot},
                           {"roller_serial", run.roller_serial},
                           {"spec_model", run.spec_model},
                           {"spec_sha256", run.spec_sha256},
                           {"suite_name", run.suite_name},
                           {"operator", run.operator_name},
                           {"rig_serial", run.rig_serial},
                           {"firmware_version", run.firmware_version},
                           {"calibration_date", run.calibration_date},
                           {"calibration_due", run.calibration_due},
                           {"load_cell_factor", number_or_null(run.load_cell_factor)},
                           {"phantom_lot", run.phantom_lot},
                           {"software_version", run.software_version},
                           {"started_at", run.started_at},
                           {"finished_at", run.finished_at}};
  if (run.analysis_method != analysis::kUnversionedAnalysisMethod)
    record["analysis_method"] = run.analysis_method;
  nlohmann::json check_rows = nlohmann::json::array();
  for (const auto& c : checks)
    check_rows.push_back({{"roll", c.roll},
                          {"id", c.id},
                          {"verdict", c.verdict},
                          {"value", number_or_null(c.value)},
                          {"unit", c.unit},
                          {"lower_limit", number_or_null(c.lower_limit)},
                          {"upper_limit", number_or_null(c.upper_limit)}});
  nlohmann::json measurement_rows = nlohmann::json::array();
  for (const auto& m : measurements) {
    nlohmann::json row = {{"roll", m.roll},
                          {"check", m.check_id},
                          {"name", m.name},
                          {"value", m.value},
                          {"unit", m.unit}};
    if (m.disc) row["disc"] = *m.disc;
    if (m.needle) row["needle"] = *m.needle;
    if (m.n) row["n"] = *m.n;
    measurement_rows.push_back(std::move(row));
  }
  record["checks"] = std::move(check_rows);
  record["measurements"] = std::move(measurement_rows);
  return store::sha256_hex(record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

namespace {

// The p-quantile of the F distribution with (d1, d2) degrees of freedom, by bisection on its
// distribution function I_{d1 x / (d1 x + d2)}(d1 / 2, d2 / 2).
double f_quantile(double p, double d1, double d2) {
  const auto cdf = [&](double x) {
    return analysis::incomplete_beta(d1 / 2, d2 / 2, d1 * x / (d1 * x + d2));
  };
  double lo = 0, hi = 1;
  while (cdf(hi) < p && hi < 1e12) hi *= 2;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; ++i) {
    const double mid = (lo + hi) / 2;
    (cdf(mid) < p ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

// One-way ANOVA intra-class correlation of values grouped by roller, at its one-sided 95 %
// upper confidence limit (Searle: F_U = F * F_0.95(N - k, k - 1), ICC_U = (F_U - 1) /
// (F_U + n0 - 1)), in [0, 1].
double intra_class_correlation(const std::vector<std::vector<double>>& groups) {
  double n_total = 0, sum = 0, sum_sq_sizes = 0;
  for (const auto& g : groups) {
    n_total += static_cast<double>(g.size());
    sum_sq_sizes += static_cast<double>(g.size() * g.size());
    for (double v : g) sum += v;
  }
  const double k = static_cast<double>(groups.size());
  if (k < 2 || n_total <= k) return 0;
  const double grand = sum / n_total;
  double ss_between = 0, ss_within = 0;
  for (const auto& g : groups) {
    const analysis::Summary s = analysis::summarise(g);
    ss_between += static_cast<double>(g.size()) * (s.mean - grand) * (s.mean - grand);
    for (double v : g) ss_within += (v - s.mean) * (v - s.mean);
  }
  const double ms_between = ss_between / (k - 1);
  const double ms_within = ss_within / (n_total - k);
  const double n0 = (n_total - sum_sq_sizes / n_total) / (k - 1);  // unbalanced groups
  if (ms_within <= 0) return ms_between > 0 ? 1.0 : 0.0;
  const double f_upper = ms_between / ms_within * f_quantile(0.95, n_total - k, k - 1);
  return std::clamp((f_upper - 1) / (f_upper + n0 - 1), 0.0, 1.0);
}

}  // namespace

report::CertificateCapability depth_capability(const std::vector<CountedRoller>& rollers,
                                               const analysis::SpecLimits& limits) {
  std::vector<std::vector<double>> groups;
  std::vector<double> values;
  for (const auto& r : rollers) {
    auto means = needle_means(r.measurements);
    if (means.empty()) continue;
    values.insert(values.end(), means.begin(), means.end());
    groups.push_back(std::move(means));
  }
  report::CertificateCapability cap;
  cap.values = values.size();
  cap.rollers = groups.size();
  cap.lsl_um = limits.depth_lsl_um;
  cap.usl_um = limits.depth_usl_um;
  cap.min_cpk = limits.depth_min_cpk;
  if (values.size() < 2) return cap;
  const analysis::Summary s = analysis::summarise(values);
  cap.mean_um = s.mean;
  cap.sd_um = s.sd;
  const analysis::Capability c = analysis::capability(s, cap.lsl_um, cap.usl_um);
  cap.cpk = c.cpk;
  if (groups.size() < 2) return cap;  // no bound: between-roller spread unknown
  cap.icc = intra_class_correlation(groups);
  const double per_roller = static_cast<double>(values.size()) / static_cast<double>(groups.size());
  cap.effective_n = static_cast<double>(values.size()) / (1 + (per_roller - 1) * cap.icc);
  const auto n_eff = static_cast<std::size_t>(std::max(2.0, std::floor(cap.effective_n)));
  if (c.cpk) cap.cpk_lcb95 = analysis::cpk_lower_bound(*c.cpk, n_eff);
  cap.meets = cap.cpk_lcb95 && *cap.cpk_lcb95 >= cap.min_cpk;
  return cap;
}

std::expected<LotEvidence, std::string> gather_evidence(const store::ResultsDb& db,
                                                        const std::string& lot_name) {
  auto lot = db.get_lot(lot_name);
  if (!lot) return std::unexpected(lot.error());
  if (!*lot) return std::unexpected("lot " + lot_name + ": no such lot");
  LotEvidence ev;
  ev.lot = **lot;

  auto spec_text = db.spec_text(ev.lot.spec_sha256);
  if (!spec_text) return std::unexpected(spec_text.error());
  if (!*spec_text)
    return std::unexpected("lot " + lot_name + ": its spec " + ev.lot.spec_sha256 +
                           " is missing from the database");
  auto spec = suite::parse_product_spec(**spec_text, ev.lot.spec_file);
  if (!spec) return std::unexpected("lot " + lot_name + ": " + spec.error().to_string());
  ev.spec = std::move(*spec);

  auto runs = db.runs_of_lot(lot_name);
  if (!runs) return std::unexpected(runs.error());
  std::set<std::string> counted_serials;
  for (const store::RunRow& run : *runs) {
    if (pending(run.state)) {
      ev.pending.push_back(run);
    } else if (!conclusive(run.state)) {
      ev.inconclusive.push_back(run);
    } else if (counted_serials.contains(run.roller_serial)) {
      ev.retests.push_back(run);
    } else if (static_cast<int>(ev.counted.size()) >= ev.lot.sample_size) {
      ev.beyond_sample.push_back(run);
    } else {
      CountedRoller r;
      r.run = run;
      auto checks = db.checks_of(run.id);
      if (!checks) return std::unexpected(checks.error());
      auto measurements = db.measurements_of(run.id);
      if (!measurements) return std::unexpected(measurements.error());
      r.checks = std::move(*checks);
      r.measurements = std::move(*measurements);
      r.conforming = run.state == store::RunState::Passed;
      r.failed_checks = failed_check_ids(r.checks);
      for (const std::string& id : analysis::all_check_ids())
        if (std::none_of(r.checks.begin(), r.checks.end(),
                         [&](const store::CheckRow& c) { return c.id == id; }))
          r.missing_checks.push_back(id);
      const auto means = needle_means(r.measurements);
      if (!means.empty()) r.mean_depth_um = analysis::summarise(means).mean;
      r.record_sha256 = run_record_digest(r.run, r.checks, r.measurements);
      counted_serials.insert(run.roller_serial);
      if (!r.conforming) ++ev.nonconforming;
      ev.counted.push_back(std::move(r));
    }
  }
  ev.capability = depth_capability(ev.counted, ev.spec.limits);
  return ev;
}

bool ran_on_virtual_rig(const store::RunRow& run) {
  return run.firmware_version.starts_with("rigsim");
}

std::map<int, std::vector<std::int64_t>> runs_by_analysis_method(
    const std::vector<CountedRoller>& counted) {
  std::map<int, std::vector<std::int64_t>> runs;
  for (const CountedRoller& r : counted) runs[r.run.analysis_method].push_back(r.run.id);
  return runs;
}

std::vector<report::CertificateMethod> analysis_method_counts(
    const std::vector<CountedRoller>& counted) {
  std::vector<report::CertificateMethod> counts;
  for (const auto& [version, runs] : runs_by_analysis_method(counted))
    counts.push_back({version, static_cast<int>(runs.size())});
  return counts;
}

nlohmann::json analysis_methods_json(int certifying_bench,
                                     const std::vector<report::CertificateMethod>& sampled) {
  nlohmann::json methods = nlohmann::json::array();
  for (const auto& m : sampled) methods.push_back({{"version", m.version}, {"rollers", m.rollers}});
  return {{"certifying_bench", certifying_bench},
          {"sampled_rollers", methods},
          {"mixed", sampled.size() > 1}};
}

std::vector<std::string> refusals(const LotEvidence& ev, const std::string& today,
                                  const std::optional<std::string>& current_spec_text,
                                  const Allowances& allowed) {
  std::vector<std::string> why;
  const store::LotRow& lot = ev.lot;
  if (lot.state != "open") why.push_back("lot " + lot.lot + " is " + lot.state + " already");
  for (const auto& run : ev.pending)
    why.push_back(describe(run) + " is " + store::to_string(run.state) +
                  ", not final: wait for it or cancel it");
  const int n = static_cast<int>(ev.counted.size());
  if (n < lot.sample_size && ev.nonconforming < lot.reject_number)
    why.push_back("the sample is incomplete: " + std::to_string(n) + " of " +
                  std::to_string(lot.sample_size) + " rollers have a conclusive run");
  if (!current_spec_text)
    why.push_back("the lot's spec file " + lot.spec_file +
                  " cannot be read: whether the spec changed during the lot is unknown");
  else if (store::sha256_hex(*current_spec_text) != lot.spec_sha256)
    why.push_back("the spec changed during the lot: " + lot.spec_file + " no longer has SHA-256 " +
                  lot.spec_sha256 + " that the lot was created under");
  // A roller whose runs all failed to conclude (the rig or link failed, or someone stopped
  // them) is not silently replaced by another: it must be re-run to a verdict first.
  std::set<std::string> concluded;
  for (const CountedRoller& r : ev.counted) concluded.insert(r.run.roller_serial);
  for (const auto& run : ev.retests) concluded.insert(run.roller_serial);
  for (const auto& run : ev.beyond_sample) concluded.insert(run.roller_serial);
  std::set<std::string> unresolved;
  for (const auto& run : ev.inconclusive)
    if (!concluded.contains(run.roller_serial) && unresolved.insert(run.roller_serial).second)
      why.push_back("roller " + run.roller_serial + " has no conclusive run (" + describe(run) +
                    " ended " + store::to_string(run.state) + "): re-run it to a verdict");

  std::map<std::string, std::string> latest_due;  // rig serial -> calibration due, latest run
  for (const CountedRoller& r : ev.counted) {
    const store::RunRow& run = r.run;
    if (run.roller_serial.empty())
      why.push_back(describe(run) + " names no roller serial: it cannot count for a roller");
    if (r.conforming && !r.missing_checks.empty()) {
      std::string ids;
      for (const auto& id : r.missing_checks) ids += (ids.empty() ? "" : ", ") + id;
      why.push_back(describe(run) + " passed suite '" + run.suite_name + "' without the checks " +
                    ids + ": a lot needs the full validation of every sampled roller");
    }
    if (run.spec_sha256 != lot.spec_sha256)
      why.push_back("the spec changed during the lot: " + describe(run) + " ran under spec " +
                    run.spec_sha256 + ", the lot was created under " + lot.spec_sha256);
    if (run.calibration_due.empty())
      why.push_back(describe(run) + " has no load-cell calibration due date on record");
    else if (date_part(run.finished_at) > date_part(run.calibration_due))
      why.push_back(describe(run) + " ran on rig " + run.rig_serial +
                    " after its calibration was due (" + date_part(run.calibration_due) +
                    ", run finished " + run.finished_at + ")");
    latest_due[run.rig_serial] = run.calibration_due;
  }
  for (const auto& [rig, due] : latest_due)
    if (!due.empty() && today > date_part(due))
      why.push_back("rig " + rig + "'s load-cell calibration is past due (due " + date_part(due) +
                    "): recalibrate it before certifying");
  if (!allowed.virtual_rig) {
    std::set<std::string> virtual_rigs;
    std::size_t simulated = 0;
    for (const CountedRoller& r : ev.counted) {
      if (!ran_on_virtual_rig(r.run)) continue;
      ++simulated;
      virtual_rigs.insert(r.run.rig_serial + " (" + r.run.firmware_version + ")");
    }
    if (simulated > 0) {
      std::string rigs;
      for (const auto& rig : virtual_rigs) rigs += (rigs.empty() ? "" : ", ") + rig;
      why.push_back(std::to_string(simulated) + " of the " + std::to_string(ev.counted.size()) +
                    " counted runs were made on the virtual rig " + rigs +
                    ": simulated evidence cannot release a production lot (to demonstrate the "
                    "bench, certify with --allow-virtual-rig; the certificate then says so)");
    }
  }
  if (const auto methods = runs_by_analysis_method(ev.counted);
      methods.size() > 1 && !allowed.mixed_analysis_methods) {
    std::string shares;
    for (const auto& [version, runs] : methods) {
      shares += (shares.empty() ? "" : "; ") + std::string("method ") + std::to_string(version) +
                " judged " + std::to_string(runs.size()) + (runs.size() == 1 ? " run" : " runs");
      if (runs.size() <= 5) {
        std::string ids;
        for (const std::int64_t id : runs) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
        shares += " (" + ids + ")";
      }
    }
    why.push_back("the " + std::to_string(ev.counted.size()) +
                  " counted runs were judged by more than one analysis method (" + shares +
                  "): their verdicts and the pooled capability would mix definitions of the "
                  "measurement (to certify them together, certify with --allow-mixed-methods; "
                  "the certificate then says so)");
  }
  return why;
}

LotDecision decide(const LotEvidence& ev) {
  LotDecision d;
  const store::LotRow& lot = ev.lot;
  const int n = static_cast<int>(ev.counted.size());
  const bool attributes_ok = ev.nonconforming <= lot.accept_number && n >= lot.sample_size;
  if (ev.nonconforming >= lot.reject_number)
    d.reasons.push_back(std::to_string(ev.nonconforming) + " nonconforming roller(s) in " +
                        std::to_string(n) + " sampled reach the rejection number Re " +
                        std::to_string(lot.reject_number));
  else if (attributes_ok)
    d.reasons.push_back(std::to_string(ev.nonconforming) + " nonconforming roller(s) in " +
                        std::to_string(n) + " sampled, within the acceptance number Ac " +
                        std::to_string(lot.accept_number));
  const auto& cap = ev.capability;
  if (cap.cpk_lcb95)
    d.reasons.push_back("penetration depth Cpk " + fmt("%.2f", cap.cpk.value_or(0)) +
                        ", 95 % lower bound " + fmt("%.2f", *cap.cpk_lcb95) +
                        (cap.meets ? " meets" : " is below") + " the spec's minimum " +
                        fmt("%.2f", cap.min_cpk));
  else
    d.reasons.push_back("penetration depth capability has no confidence bound (" +
                        std::to_string(cap.values) + " needle depths from " +
                        std::to_string(cap.rollers) + " roller(s)): it does not meet " +
                        fmt("%.2f", cap.min_cpk));
  d.accepted = attributes_ok && cap.meets;
  return d;
}

}  // namespace derma::lot
