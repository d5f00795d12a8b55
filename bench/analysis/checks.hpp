// The checks of DESIGN section 5: pure functions from recorded data and spec limits to
// verdicts. Each check explains itself: value, unit, limits, verdict and findings that
// name the needle (disc, index) or the property at fault.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bench/analysis/records.hpp"

namespace derma::analysis {

// Limits of a product spec, in the units the checks report. Absent = not limited.
struct SpecLimits {
  // penetration_depth: per-channel limits on depth, and the capability bar.
  double depth_lsl_um = 0;
  double depth_usl_um = 0;
  double depth_min_cpk = 1.33;
  // channel_density: channels per cm^2 per pass.
  double density_min_per_cm2 = 0;
  double density_max_per_cm2 = 0;
  // missing_channels: needles that left no channel.
  int missing_max = 0;
  // force_consistency: CV of normal force over the steady stroke, and drift end vs start.
  double force_cv_max_percent = 5;
  double force_drift_max_percent = 3;
  // depth_uniformity: around the revolution (runout amplitude of a cos fit) and across
  // the width (slope of depth against disc position).
  double runout_max_um = 20;
  double tilt_max_um_per_mm = 1.5;
  // roll_slip: |X travel - drum angle * radius| / X travel.
  double slip_max_percent = 2;
  // scan delay bound: a scan later than this after the roll is an error (phantom recovers).
  double scan_delay_max_s = 600;
};

enum class Verdict { Pass, Fail, Error };
const char* to_string(Verdict);

struct Finding {
  std::optional<int> disc;  // the needle at fault, when one is
  std::optional<int> index;
  std::string text;  // e.g. "needle d3 i7: no channel where the lattice predicts one"
};

struct CheckResult {
  std::string id;  // penetration_depth, channel_density, ...
  Verdict verdict = Verdict::Error;
  double value = 0;  // the headline figure compared with the limits
  std::string unit;  // "um", "1/cm2", "count", "%", "um/mm"
  std::optional<double> lower_limit;
  std::optional<double> upper_limit;
  std::string summary;  // one line for people: what was measured, why the verdict
  std::vector<Finding> findings;
  // Secondary figures (mean, sd, min, max, cpk, ...): name, value, unit.
  struct Figure {
    std::string name;
    double value;
    std::string unit;
  };
  std::vector<Figure> figures;
  // Distribution of the measured quantity per group (penetration_depth: channel depths per
  // disc and per needle, in the check's unit), so a drifting disc or a weak needle shows
  // without re-analysing the run. index is empty for a per-disc group.
  struct Group {
    int disc = 0;
    std::optional<int> index;
    std::size_t n = 0;
    double mean = 0;
    double sd = 0;  // sample sd; 0 for n < 2
    double min = 0;
    double max = 0;
  };
  std::vector<Group> per_disc;
  std::vector<Group> per_needle;
};

// What could be measured of a channel (docs/measurement.md, "Unreadable points").
enum class ChannelState {
  Measured,         // floor read, reference surface around it read: depth stands
  CutByEdge,        // cut by the map's edge (the window's doing): left out
  CutByGap,         // part of it hidden by an unreadable area running on beyond it
  NoReference,      // too little readable surface around it, inside the map, for a reference
  FloorUnreadable,  // its floor lies in unreadable points: depth unknown, position known
};
const char* to_string(ChannelState);

// A channel found in the height map, and the needle it was matched to.
struct Channel {
  double x_um = 0;  // floor (where the tip reached) when read, else the opening's centre
  double y_um = 0;
  // Local reference surface minus the channel's floor (docs/measurement.md); meaningful
  // only when measured().
  double depth_um = 0;
  double area_um2 = 0;  // opening area below the detection threshold
  ChannelState state = ChannelState::Measured;
  // Shares of the channel's floor and wall points the scanner could read (0-1).
  double floor_readable_share = 1;
  double wall_readable_share = 1;
  std::optional<int> disc;  // matched needle (none = unexpected channel)
  std::optional<int> index;

  bool measured() const { return state == ChannelState::Measured; }
  // Cut by the map's edge: position and depth unreliable, left out of every check.
  bool partial() const { return state == ChannelState::CutByEdge; }
  // Inside the scan but not measured (hidden in part, no reference, floor lost): its depth is
  // unknown, so no check of depth may pass on it (docs/measurement.md section 4).
  bool unmeasured() const { return !measured() && !partial(); }
};

// Where the roller's lattice says a needle should have left a channel, from the recorded
// encoder and X samples of the roll.
struct PredictedChannel {
  int disc = 0;
  int index = 0;
  double x_um = 0;
  double y_um = 0;
  double drum_angle_rad = 0;  // needle's angle on the drum (phi), for runout analysis
  int pass = 0;
};

struct Analysis {
  std::vector<Channel> channels;
  std::vector<PredictedChannel> predicted;
  std::vector<CheckResult> checks;
};

// The ids of DESIGN section 5, in report order.
const std::vector<std::string>& all_check_ids();

// Runs the named checks (unknown ids give an Error result naming the id) on one roll and
// the scan of its lane.
Analysis analyse_roll(const RollRecord& roll, const ScanRecord& scan,
                      const RollerGeometry& geometry, const SpecLimits& limits,
                      const std::vector<std::string>& check_ids);

}  // namespace derma::analysis
