#include "bench/runner/msa_runner.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "bench/runner/runner.hpp"

namespace derma::runner {

namespace fs = std::filesystem;

namespace {

// rigsim's phantom tray (fixtures/rollers/README.md).
constexpr int kVirtualTrayLanes = 8;
constexpr int kMaxRepeats = 50;

std::string text(const char* format, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, format, args...);
  return buf;
}

std::string needle_part_name(const std::string& roller, int disc, int index) {
  return text("%s d%d i%d", roller.c_str(), disc, index);
}

// The suite must roll once, on one lane, and measure penetration depth after it: more
// rolls would reuse the overridden lane, and without the check there is no measurand.
std::optional<std::string> check_suite(const suite::Suite& suite) {
  int rolls = 0;
  bool measures_depth = false;
  for (const suite::Step& step : suite.steps) {
    if (std::holds_alternative<suite::RollStep>(step.action)) ++rolls;
    if (const auto* checks = std::get_if<suite::ChecksStep>(&step.action))
      for (const std::string& id : checks->ids) measures_depth |= id == "penetration_depth";
  }
  if (rolls != 1)
    return text("%s: a gauge study needs a suite with exactly one roll step (this one has %d)",
                suite.file.c_str(), rolls);
  if (!measures_depth)
    return suite.file +
           ": the suite does not run the penetration_depth check, the study's measurand";
  return std::nullopt;
}

std::optional<std::string> check_options(const MsaOptions& o) {
  if (o.roller_files.empty()) return std::string("no roller: give --roller FILE at least once");
  if (o.lanes < 1 || o.lanes > kVirtualTrayLanes)
    return text("--lanes %d: the virtual rig's tray has lanes 0 to %d", o.lanes,
                kVirtualTrayLanes - 1);
  if (o.repeats < 2 || o.repeats > kMaxRepeats)
    return text("--repeats %d: repeatability needs at least 2 trials (at most %d)", o.repeats,
                kMaxRepeats);
  if (o.parts == MsaParts::Rollers && o.roller_files.size() < 2)
    return std::string(
        "one roller is one part: give two or more --roller files, or --parts needles");
  for (const std::string& file : o.roller_files)
    if (!fs::is_regular_file(file)) return "roller file " + file + ": no such file";
  return std::nullopt;
}

nlohmann::json optional_number(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json to_json(const analysis::VarianceComponent& c) {
  return {{"variance", c.variance},
          {"sd", c.sd},
          {"percent_contribution", c.percent_contribution},
          {"percent_of_total_variation", c.percent_of_total},
          {"percent_of_tolerance", optional_number(c.percent_tolerance)}};
}

nlohmann::json to_json(const analysis::GaugeStudy& s, double interaction_alpha) {
  nlohmann::json anova = nlohmann::json::array();
  for (const auto& row : s.anova)
    anova.push_back({{"source", row.source},
                     {"df", row.df},
                     {"ss", row.ss},
                     {"ms", row.ms},
                     {"f", optional_number(row.f)},
                     {"p", optional_number(row.p_value)}});
  return {
      {"grand_mean", s.grand_mean},
      {"anova", anova},
      {"interaction",
       {{"p_value", optional_number(s.interaction_p_value)},
        {"alpha", interaction_alpha},
        {"in_model", s.interaction_in_model}}},
      {"components",
       {{"repeatability_ev", to_json(s.repeatability)},
        {"appraiser_av", to_json(s.appraiser)},
        {"interaction_int", to_json(s.interaction)},
        {"reproducibility", to_json(s.reproducibility)},
        {"grr", to_json(s.grr)},
        {"part_pv", to_json(s.part)},
        {"total_tv", to_json(s.total)}}},
      {"percent_grr", s.grr.percent_of_total},
      {"percent_grr_tolerance", optional_number(s.grr.percent_tolerance)},
      {"ndc", optional_number(s.ndc)},
      {"distinct_categories",
       s.distinct_categories ? nlohmann::json(*s.distinct_categories) : nlohmann::json(nullptr)},
      {"acceptance", analysis::to_string(s.acceptance)},
      {"acceptance_tolerance", s.acceptance_tolerance
                                   ? nlohmann::json(analysis::to_string(*s.acceptance_tolerance))
                                   : nlohmann::json(nullptr)},
  };
}

// One run of the study: which part (roller), lane and trial, and what it gave.
struct RunRecord {
  std::size_t roller = 0;
  int lane = 0;
  int trial = 0;
  std::uint64_t session = 0;
  std::string dir;
  std::string verdict;
  std::vector<PartValue> values;
};

class MsaSession {
 public:
  MsaSession(const suite::Suite& suite, const MsaOptions& options)
      : suite_(suite), options_(options) {}
  MsaOutcome run();

 private:
  void progress(const std::string& line) const {
    if (options_.progress) options_.progress(line);
  }
  bool stop_requested() const { return options_.stop_requested && options_.stop_requested->load(); }
  // Runs the suite once; on failure sets outcome_ (exit code, error) and returns false.
  bool run_once(RunRecord& record);
  void tabulate();
  void write_json();

  const suite::Suite& suite_;
  const MsaOptions& options_;
  MsaOutcome outcome_;
  std::vector<std::string> roller_names_;  // "roller1 SIM-N192-050"
  std::vector<RunRecord> runs_;
};

bool MsaSession::run_once(RunRecord& record) {
  RunOptions run;
  run.rig_address = "sim";
  run.roller_file = options_.roller_files[record.roller];
  run.out_dir = record.dir;
  run.operator_name = options_.operator_name;
  run.realtime = options_.realtime;
  run.rigsim_session = record.session;
  run.lane_override = record.lane;
  run.stop_requested = options_.stop_requested;
  const RunOutcome result = run_suite(suite_, run);
  record.verdict = report::to_string(result.report.verdict);
  if (roller_names_[record.roller].empty())
    roller_names_[record.roller] =
        text("roller%zu %s", record.roller + 1, result.report.roller_serial.c_str());

  const std::string where =
      text("run %s (lane %d, trial %d)", record.dir.c_str(), record.lane, record.trial + 1);
  if (result.report.verdict == report::RunVerdict::Aborted) {
    outcome_.exit_code = report::kExitAborted;
    outcome_.error = where + " was aborted: " + result.report.error;
    return false;
  }
  // A roller that fails its spec is still measured; a run that measured nothing is not.
  if (result.report.verdict == report::RunVerdict::Error && result.report.rolls.empty()) {
    outcome_.exit_code =
        result.exit_code == report::kExitBadInput ? report::kExitBadInput : report::kExitRigError;
    outcome_.error = where + ": " + result.report.error;
    return false;
  }
  if (result.report.rolls.empty()) {
    outcome_.exit_code = report::kExitRigError;
    outcome_.error = where + ": the suite made no measurement";
    return false;
  }
  auto values =
      measure_parts(result.report.rolls.back(), roller_names_[record.roller], options_.parts);
  if (!values) {
    outcome_.exit_code = report::kExitRigError;
    outcome_.error = where + ": " + values.error();
    return false;
  }
  record.values = std::move(*values);
  return true;
}

// Builds the balanced table: a part that misses a value in any (lane, trial) cell is
// dropped (a needle whose channel fell on the scan's edge in one run), and named.
void MsaSession::tabulate() {
  analysis::GaugeStudyData& data = outcome_.data;
  data.trials = options_.repeats;
  for (int lane = 0; lane < options_.lanes; ++lane)
    data.appraisers.push_back(text("lane %d", lane));

  std::map<std::string, std::map<std::pair<int, int>, double>> cells;  // part -> (lane, trial)
  std::vector<std::string> order;  // parts in first-seen order (roller, then disc, index)
  for (const RunRecord& run : runs_)
    for (const PartValue& v : run.values) {
      auto [it, inserted] = cells.try_emplace(v.part);
      if (inserted) order.push_back(v.part);
      it->second[{run.lane, run.trial}] = v.value;
    }
  const std::size_t cells_per_part = std::size_t(options_.lanes) * std::size_t(options_.repeats);
  for (const std::string& part : order) {
    const auto& c = cells[part];
    if (c.size() != cells_per_part) {
      outcome_.dropped_parts.push_back(part);
      continue;
    }
    data.parts.push_back(part);
    for (int lane = 0; lane < options_.lanes; ++lane)
      for (int trial = 0; trial < options_.repeats; ++trial)
        data.values.push_back(c.at({lane, trial}));
  }
}

void MsaSession::write_json() {
  const analysis::SpecLimits& limits = suite_.spec.limits;
  nlohmann::json rollers = nlohmann::json::array();
  for (std::size_t i = 0; i < options_.roller_files.size(); ++i)
    rollers.push_back({{"file", options_.roller_files[i]}, {"name", roller_names_[i]}});
  nlohmann::json runs = nlohmann::json::array();
  for (const RunRecord& r : runs_) {
    nlohmann::json run = {
        {"roller", roller_names_[r.roller]}, {"lane", r.lane}, {"trial", r.trial + 1},
        {"rigsim_session", r.session},       {"dir", r.dir},   {"verdict", r.verdict}};
    if (options_.parts == MsaParts::Rollers && !r.values.empty())
      run["mean_depth_um"] = r.values.front().value;
    runs.push_back(std::move(run));
  }
  nlohmann::json measurements = nlohmann::json::array();
  const analysis::GaugeStudyData& d = outcome_.data;
  for (std::size_t p = 0; p < d.parts.size(); ++p)
    for (std::size_t a = 0; a < d.appraisers.size(); ++a)
      for (int t = 0; t < d.trials; ++t)
        measurements.push_back({{"part", d.parts[p]},
                                {"appraiser", d.appraisers[a]},
                                {"trial", t + 1},
                                {"value", d.at(p, a, std::size_t(t))}});
  const bool rollers_are_parts = options_.parts == MsaParts::Rollers;
  nlohmann::json& j = outcome_.json;
  j = {
      {"format", "dermabench-msa"},
      {"format_version", 1},
      {"method", "AIAG MSA 4th ed., ANOVA method (crossed, random parts and appraisers)"},
      {"suite", {{"name", suite_.name}, {"file", suite_.file}}},
      {"spec",
       {{"model", suite_.spec.model},
        {"file", suite_.spec.file},
        {"depth_lsl_um", limits.depth_lsl_um},
        {"depth_usl_um", limits.depth_usl_um}}},
      {"measurand", rollers_are_parts ? "mean penetration depth of the roller's channels"
                                      : "penetration depth of one needle's channels"},
      {"unit", "um"},
      {"design",
       {{"parts_are", to_string(options_.parts)},
        {"appraisers_are", "phantom lanes"},
        {"parts", d.parts.size()},
        {"appraisers", options_.lanes},
        {"trials", options_.repeats},
        {"runs", runs_.size()}}},
      {"rollers", rollers},
      {"runs", runs},
      {"dropped_parts", outcome_.dropped_parts},
      {"measurements", measurements},
      {"exit_code", outcome_.exit_code},
      {"error", outcome_.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(outcome_.error)},
      {"guidance",
       "%GRR < 10 % acceptable; 10-30 % may be acceptable for the application; > 30 % "
       "unacceptable; ndc should be 5 or more (AIAG MSA 4th ed.)"},
  };
  if (outcome_.study)
    j["study"] = to_json(*outcome_.study, analysis::GaugeStudyOptions{}.interaction_alpha);
  std::ofstream(fs::path(options_.out_dir) / "msa.json")
      << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

MsaOutcome MsaSession::run() {
  if (auto problem = check_options(options_); problem) {
    outcome_.exit_code = report::kExitBadInput;
    outcome_.error = *problem;
    return outcome_;
  }
  if (auto problem = check_suite(suite_); problem) {
    outcome_.exit_code = report::kExitBadInput;
    outcome_.error = *problem;
    return outcome_;
  }
  std::error_code ec;
  fs::create_directories(fs::path(options_.out_dir) / "runs", ec);
  if (ec) {
    outcome_.exit_code = report::kExitBadInput;
    outcome_.error = "cannot create output directory " + options_.out_dir + ": " + ec.message();
    return outcome_;
  }
  roller_names_.assign(options_.roller_files.size(), "");

  // Trial by trial over every part and lane, so a drift of the bench over the study's
  // time spreads over all parts instead of biasing one. Each run has its own rigsim
  // session, hence independent roll and scan noise.
  const std::size_t total =
      std::size_t(options_.repeats) * options_.roller_files.size() * std::size_t(options_.lanes);
  bool ok = true;
  for (int trial = 0; ok && trial < options_.repeats; ++trial)
    for (std::size_t roller = 0; ok && roller < options_.roller_files.size(); ++roller)
      for (int lane = 0; ok && lane < options_.lanes; ++lane) {
        if (stop_requested()) {
          outcome_.exit_code = report::kExitAborted;
          outcome_.error = "interrupted by the operator";
          ok = false;
          break;
        }
        RunRecord record;
        record.roller = roller;
        record.lane = lane;
        record.trial = trial;
        record.session = runs_.size() + 1;
        record.dir = (fs::path(options_.out_dir) / "runs" /
                      text("roller%zu-lane%d-trial%d", roller + 1, lane, trial + 1))
                         .string();
        progress(text("run %zu/%zu: roller %zu (%s), lane %d, trial %d", runs_.size() + 1, total,
                      roller + 1, options_.roller_files[roller].c_str(), lane, trial + 1));
        ok = run_once(record);
        runs_.push_back(std::move(record));
      }

  if (ok) {
    tabulate();
    analysis::GaugeStudyOptions study_options;
    const analysis::SpecLimits& limits = suite_.spec.limits;
    if (limits.depth_lsl_um > 0 && limits.depth_usl_um > limits.depth_lsl_um)
      study_options.tolerance = limits.depth_usl_um - limits.depth_lsl_um;
    auto study = analysis::gauge_rr_anova(outcome_.data, study_options);
    if (!study) {
      outcome_.exit_code = report::kExitRigError;
      outcome_.error = "the measurements do not make a gauge study: " + study.error();
    } else {
      outcome_.study = std::move(*study);
      outcome_.exit_code = outcome_.study->acceptance == analysis::GaugeAcceptance::Unacceptable
                               ? report::kExitFail
                               : report::kExitPass;
    }
  }
  write_json();
  return outcome_;
}

}  // namespace

const char* to_string(MsaParts parts) {
  return parts == MsaParts::Rollers ? "rollers" : "needles";
}

std::expected<std::vector<PartValue>, std::string> measure_parts(const report::RollAnalysis& roll,
                                                                 const std::string& roller_name,
                                                                 MsaParts parts) {
  const analysis::CheckResult* depth = nullptr;
  for (const auto& c : roll.analysis.checks)
    if (c.id == "penetration_depth") depth = &c;
  if (!depth) return std::unexpected(std::string("no penetration_depth check in the run"));
  if (depth->verdict == analysis::Verdict::Error)
    return std::unexpected("penetration depth could not be measured: " + depth->summary);
  std::vector<PartValue> values;
  if (parts == MsaParts::Rollers) {
    values.push_back({roller_name, depth->value});
    return values;
  }
  for (const auto& g : depth->per_needle)
    if (g.index && g.n > 0)
      values.push_back({needle_part_name(roller_name, g.disc, *g.index), g.mean});
  if (values.empty()) return std::unexpected(std::string("no needle's depth was measured"));
  return values;
}

MsaOutcome run_msa(const suite::Suite& suite, const MsaOptions& options) {
  MsaSession session(suite, options);
  return session.run();
}

}  // namespace derma::runner
