// Everything a run produced, in one value: what ran, on what, and the verdicts.
// The writers (JSON, JUnit XML, console) only format it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/analysis/checks.hpp"
#include "bench/analysis/method.hpp"

namespace derma::report {

enum class RunVerdict { Pass, Fail, Error, Aborted };
const char* to_string(RunVerdict);

// Exit codes of `bench run` (DESIGN section 6).
enum ExitCode : int {
  kExitPass = 0,
  kExitFail = 1,      // the roller failed a check
  kExitBadInput = 2,  // bad input or usage
  kExitRigError = 3,  // rig or link error, or a measurement that could not be made
  kExitAborted = 4,
};
int exit_code_for(RunVerdict);
struct RunReport;
// The run's: 2 when it was refused or stopped for bad input, else its verdict's.
int exit_code_for(const RunReport&);

struct StepRecord {
  std::string name;
  int line = 0;        // in the suite file
  std::string status;  // ok, failed, skipped
  double duration_s = 0;
  std::string message;
};

struct RigIdentity {
  std::string address;  // as given: sim, /dev/ttyACM0, ...
  std::string port;     // the device actually opened
  int protocol_version = 0;
  std::string firmware_version;
  std::string rig_serial;
  double load_cell_factor = 1.0;
  std::string calibration_date;
  std::string calibration_due;
  std::string phantom_lot;
};

// One point of a roll's force and height trace, for plots (see roll_trace.hpp).
struct TracePoint {
  double x_mm = 0;  // carriage position along the lane
  double force_mN = 0;
  double z_um = 0;
  int pass = 0;
};

// A steady stretch of the stroke that force_consistency and roll_slip judged.
struct SteadySpan {
  int pass = 0;
  double x_begin_mm = 0;  // where the stretch starts and ends, in the direction of travel
  double x_end_mm = 0;
  double t_begin_s = 0;
  double t_end_s = 0;
};

// The roll as a picture needs it: decimated (min/max per bucket, so spikes stay visible).
struct RollTrace {
  double load_set_mN = 0;   // the force set point of the roll
  std::size_t samples = 0;  // in the recorded roll, before decimation
  std::vector<TracePoint> points;
  std::vector<SteadySpan> steady;
};

// The checks of one `checks` step, on the roll and scan before it.
struct RollAnalysis {
  int roll_index = 0;  // 0-based roll of the run
  int lane = 0;
  double scan_delay_s = 0;
  std::vector<std::uint32_t> layer_punctures;
  analysis::Analysis analysis;
  RollTrace trace;
};

struct RunReport {
  RunVerdict verdict = RunVerdict::Error;
  std::string error;  // why the run is error/aborted, empty otherwise
  // The error is in what the run was given (suite, roller file, rig address, the virtual
  // rig's options), not in the rig: exit code 2, not 3.
  bool bad_input = false;

  std::string suite_name;
  std::string suite_file;
  std::string spec_model;
  std::string spec_file;
  std::string roller_serial;
  std::string roller_model;
  RigIdentity rig;

  std::string software_version;
  // The analysis method that judged this report and, for a capture analysed again, the one
  // that judged the run when it was recorded (bench/analysis/method.hpp).
  int analysis_method = analysis::kAnalysisMethodVersion;
  std::optional<int> recorded_analysis_method;
  bool method_differs() const {
    return recorded_analysis_method && *recorded_analysis_method != analysis_method;
  }
  std::string host_name;
  std::string operator_name;
  std::string started_at;  // ISO 8601 UTC
  std::string finished_at;
  double duration_s = 0;

  std::vector<StepRecord> steps;
  std::vector<RollAnalysis> rolls;
  std::map<std::string, std::uint64_t> link_counters;
  std::string capture_file;

  // Every check of every analysed roll, in order.
  std::vector<const analysis::CheckResult*> all_checks() const;
};

// fail if any check fails; else error if any check errs or none ran; else pass.
RunVerdict verdict_of_checks(const RunReport&);

}  // namespace derma::report
