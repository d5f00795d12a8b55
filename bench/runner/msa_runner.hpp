// `bench msa`: a gauge repeatability and reproducibility study of the bench itself. The
// suite runs on every roller (the parts), on each of several phantom lanes (the
// appraisers: the condition a run can change) and several times over (the trials). Every
// run is a fresh virtual rig session: a lane can take one roll only, so each run gets a
// new phantom tray, and the session number gives it noise of its own. The penetration
// depth each run measured feeds the ANOVA of bench/analysis/msa.hpp; DIR/msa.json holds
// the design, every measurement, the ANOVA table and AIAG's verdict, and DIR/runs/ the
// report and capture of every run.
#pragma once

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench/analysis/msa.hpp"
#include "bench/report/run_report.hpp"
#include "bench/suite/suite.hpp"

namespace derma::runner {

// What a part is: a whole roller (measurand: its mean channel depth) or one needle of a
// roller (measurand: the depth of that needle's channels; 192 parts from one roller).
enum class MsaParts { Rollers, Needles };
const char* to_string(MsaParts);

struct MsaOptions {
  std::vector<std::string> roller_files;  // the parts (or their needles)
  int lanes = 2;                          // appraisers: lanes 0 .. lanes - 1
  int repeats = 2;                        // trials per part and lane
  MsaParts parts = MsaParts::Rollers;
  std::string out_dir;
  std::string operator_name;
  bool realtime = false;
  std::function<void(const std::string&)> progress;   // may be empty
  const std::atomic<bool>* stop_requested = nullptr;  // SIGINT: stop after the current run
};

// One measurement a run contributes: part name -> value (um).
struct PartValue {
  std::string part;
  double value = 0;
};

// The measurand of one roll: the penetration_depth check's mean for a roller part, or per
// needle the mean depth of its complete matched channels (a needle that left none in this
// roll is absent). Empty with an error when the roll has no usable depth measurement.
std::expected<std::vector<PartValue>, std::string> measure_parts(const report::RollAnalysis& roll,
                                                                 const std::string& roller_name,
                                                                 MsaParts parts);

struct MsaOutcome {
  int exit_code = 0;  // 0 acceptable or conditional, 1 unacceptable, 2 input, 3 rig, 4 aborted
  std::string error;  // why there is no study, when there is none
  std::optional<analysis::GaugeStudy> study;
  analysis::GaugeStudyData data;
  std::vector<std::string> dropped_parts;  // needles missing from some run
  nlohmann::json json;                     // the content of DIR/msa.json
};

// Checks the design (the suite rolls once and measures penetration_depth; lanes fit the
// tray), runs the study and writes DIR/msa.json. Never throws for rig or input problems.
MsaOutcome run_msa(const suite::Suite& suite, const MsaOptions& options);

}  // namespace derma::runner
