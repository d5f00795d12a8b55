// Judging one roll: the checks of a `checks` step on the roll and scan before it, packed
// with what the report shows about that roll. Live runs and replay both call this, so a
// replayed report is the live one.
#pragma once

#include <string>
#include <vector>

#include "bench/analysis/records.hpp"
#include "bench/report/run_report.hpp"
#include "bench/suite/product_spec.hpp"

namespace derma::runner {

report::RollAnalysis judge_roll(const analysis::RollRecord& roll, const analysis::ScanRecord& scan,
                                const suite::ProductSpec& spec,
                                const std::vector<std::string>& check_ids, int roll_index,
                                int lane);

}  // namespace derma::runner
