#include "bench/runner/roll_judgement.hpp"

#include "bench/analysis/checks.hpp"
#include "bench/analysis/roll_segments.hpp"
#include "bench/report/roll_trace.hpp"

namespace derma::runner {

report::RollAnalysis judge_roll(const analysis::RollRecord& roll, const analysis::ScanRecord& scan,
                                const suite::ProductSpec& spec,
                                const std::vector<std::string>& check_ids, int roll_index,
                                int lane) {
  report::RollAnalysis judged;
  judged.roll_index = roll_index;
  judged.lane = lane;
  judged.scan_delay_s = scan.scan_delay_s;
  judged.layer_punctures = scan.layer_punctures;
  judged.analysis = analysis::analyse_roll(roll, scan, spec.geometry, spec.limits, check_ids);
  // The same steady segments analyse_roll judged force and slip on, for the report's plot.
  std::vector<analysis::RollSegment> steady;
  if (!analysis::roll_problem(roll)) steady = analysis::find_steady_segments(roll);
  judged.trace = report::make_roll_trace(roll, steady);
  return judged;
}

}  // namespace derma::runner
