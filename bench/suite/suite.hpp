// A validation suite: which product spec it judges against and the steps to run on the rig.
//
//   suite: validate-DR-192-0.50
//   spec: ../specs/DR-192-0.50.yaml          # relative to the suite file
//   steps:
//     - home
//     - tare
//     - lane: 0
//     - roll: {start_mm: 10, stroke_mm: 80, speed_mm_s: 20, load_N: 10, passes: 1}
//     - scan: {x_mm: 12, y_mm: 0, length_mm: 70, width_mm: 20, pitch_um: 20}
//     - checks: [all]                         # judges the latest roll and scan
//
// Optional top-level keys: `description`, `watchdog_ms` (the rig's heartbeat, default 1000),
// and for the virtual rig only (`bench run --rig sim`; a real rig refuses such a suite):
//   faults: [reboot@roll1+40%]                # faults it injects (fixtures/rigsim/FAULTS.md)
//   phantom: {preset: harsh}                  # its phantom and scanner, as in a roller file
//   scanner: {preset: harsh, noise_sd_um: 1}  #   (fixtures/rollers/README.md): they replace
//                                             #   the mounted roller file's sections
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "bench/suite/input_error.hpp"
#include "bench/suite/product_spec.hpp"

namespace derma::suite {

struct HomeStep {};
struct TareStep {};
struct LaneStep {
  int lane = 0;
};
struct RollStep {
  double start_mm = 10;
  double stroke_mm = 80;
  double speed_mm_s = 20;
  double load_N = 10;
  int passes = 1;
  int sample_rate_hz = 1000;
};
struct ScanStep {
  double x_mm = 0;
  double y_mm = 0;
  double length_mm = 0;
  double width_mm = 0;
  int pitch_um = 20;
};
struct ChecksStep {
  std::vector<std::string> ids;
};  // ids of analysis::all_check_ids()

using StepAction = std::variant<HomeStep, TareStep, LaneStep, RollStep, ScanStep, ChecksStep>;

struct Step {
  StepAction action;
  std::string name;  // "home", "roll", ... as written
  int line = 0;      // where it is in the suite file
};

// A section of the suite that bench hands to the virtual rig without reading it (rigsim
// --phantom / --scanner YAML): rigsim reads and checks it.
struct VirtualRigSection {
  std::string yaml;  // the section's YAML in flow style, e.g. {preset: harsh}; empty = none
  int line = 0;      // where it is in the suite file
};

struct Suite {
  std::string name;
  std::string description;
  std::string file;
  std::string text;  // the file's exact bytes, embedded in captures
  ProductSpec spec;
  int watchdog_ms = 1000;
  // Faults the virtual rig injects during this suite (fixtures/rigsim/FAULTS.md), as a
  // SPEC; rigsim checks it. Only with --rig sim: a device refuses such a suite.
  std::string faults;
  int faults_line = 0;
  // The virtual rig's phantom and scanner during this suite (`phantom:`, `scanner:`): they
  // replace the roller file's sections. Only with --rig sim: a device refuses such a suite.
  VirtualRigSection phantom;
  VirtualRigSection scanner;
  int spec_line = 0;  // where the suite names its spec
  std::vector<Step> steps;
};

// Loads the suite and the spec it names; every error names file, line and problem.
std::expected<Suite, InputError> load_suite(const std::string& path);

// Parses a suite's text without loading its spec (replay takes the spec from the capture).
// `spec_path` receives the spec's path resolved against `file`'s directory.
std::expected<Suite, InputError> parse_suite(const std::string& text, const std::string& file,
                                             std::string* spec_path);

// A device refuses a suite that asks for what only the virtual rig does (`faults:`,
// `phantom:`, `scanner:`): the first such key, located in the suite file, saying so; nothing
// when the suite runs on any rig. `rig_address` is the device's, for the message.
std::optional<InputError> virtual_rig_only_key(const Suite&, const std::string& rig_address);

// Re-judges the suite against another spec (bench run --spec, bench analyze --spec).
std::expected<Suite, InputError> with_spec(Suite suite, const std::string& spec_path);

}  // namespace derma::suite
