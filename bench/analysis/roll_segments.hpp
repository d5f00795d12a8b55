// Finding the parts of a recorded roll that the checks look at: when the drum was on the
// phantom, and where the carriage moved at its steady speed (away from the acceleration
// and deceleration ramps, where force and slip are not representative).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "bench/analysis/records.hpp"

namespace derma::analysis {

// A stretch of samples [begin, end) of one pass.
struct RollSegment {
  std::size_t begin = 0;
  std::size_t end = 0;
  int pass = 0;
  double speed_um_per_s = 0;  // mean signed speed over the segment
  std::size_t size() const { return end - begin; }
};

struct SteadyOptions {
  // Steady means |speed| within this fraction of the set speed.
  double speed_tolerance_fraction = 0.05;
  // Trimmed off each end of the steady run: the force loop settles after the ramp.
  double trim_fraction = 0.10;
  // Speed is differenced over this window, so X quantisation does not read as jitter.
  double velocity_window_s = 0.02;
  // Fewer samples than this is no steady stroke at all.
  std::size_t min_samples = 20;
  // The drum is on the phantom when force exceeds this fraction of the load.
  double contact_fraction = 0.5;
};

// Why the roll cannot be analysed (no samples, time going backwards, no encoder
// resolution), or nothing.
std::optional<std::string> roll_problem(const RollRecord& roll);

// The load the roll pressed with: the set point, or the median force if none was set.
double reference_load_mN(const RollRecord& roll);

bool in_contact(const RollSample& sample, double reference_load_mN, double contact_fraction);

// Carriage speed at every sample, central-differenced within its pass.
std::vector<double> carriage_speed_um_per_s(const RollRecord& roll, double window_s);

// The longest steady run of each pass, trimmed; passes without one are left out.
std::vector<RollSegment> find_steady_segments(const RollRecord& roll,
                                              const SteadyOptions& options = {});

// The X range the drum axis covered while in contact: where needles can have punctured.
struct XRange {
  double min_um = 0;
  double max_um = 0;
};
std::optional<XRange> rolled_x_range(const RollRecord& roll, double contact_fraction = 0.5);

// Number of passes the samples hold (distinct pass numbers), or the setting if no samples.
int pass_count(const RollRecord& roll);

}  // namespace derma::analysis
