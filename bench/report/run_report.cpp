#include "bench/report/run_report.hpp"

namespace derma::report {

const char* to_string(RunVerdict verdict) {
  switch (verdict) {
    case RunVerdict::Pass:
      return "pass";
    case RunVerdict::Fail:
      return "fail";
    case RunVerdict::Error:
      return "error";
    case RunVerdict::Aborted:
      return "aborted";
  }
  return "error";
}

int exit_code_for(RunVerdict verdict) {
  switch (verdict) {
    case RunVerdict::Pass:
      return kExitPass;
    case RunVerdict::Fail:
      return kExitFail;
    case RunVerdict::Error:
      return kExitRigError;
    case RunVerdict::Aborted:
      return kExitAborted;
  }
  return kExitRigError;
}

int exit_code_for(const RunReport& report) {
  return report.bad_input ? kExitBadInput : exit_code_for(report.verdict);
}

std::vector<const analysis::CheckResult*> RunReport::all_checks() const {
  std::vector<const analysis::CheckResult*> out;
  for (const auto& roll : rolls)
    for (const auto& check : roll.analysis.checks) out.push_back(&check);
  return out;
}

RunVerdict verdict_of_checks(const RunReport& report) {
  const auto checks = report.all_checks();
  if (checks.empty()) return RunVerdict::Error;  // nothing measured is never a pass
  // A failed check rejects the roller whatever else happened; a check that could not be
  // computed makes the run an error; only a full set of passes is a pass.
  bool any_error = false;
  for (const auto* check : checks) {
    if (check->verdict == analysis::Verdict::Fail) return RunVerdict::Fail;
    any_error = any_error || check->verdict == analysis::Verdict::Error;
  }
  return any_error ? RunVerdict::Error : RunVerdict::Pass;
}

}  // namespace derma::report
