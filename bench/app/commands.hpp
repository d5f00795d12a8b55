// The subcommands of `bench`, each a function from parsed options to an exit code.
#pragma once

#include <limits>
#include <string>
#include <vector>

namespace derma::app {

struct RunCommand {
  std::string suite_file;
  std::string rig;
  std::string roller_file;
  std::string roller_serial;
  std::string out_dir;
  std::string spec_override;
  std::string operator_name;
  std::string faults;
  bool realtime = false;
  bool quiet = false;
};
int run_suite_command(const RunCommand&);

struct AnalyzeCommand {
  std::string capture_file;
  std::string out_dir;
  std::string spec_override;
};
int analyze_capture_command(const AnalyzeCommand&);

// Judges a height map measured on another instrument; NaN = option not given.
struct AnalyzeScanCommand {
  std::string scan_file;
  std::string spec_file;
  std::string out_dir;
  std::string format;  // x3p, csv, or empty: from the extension
  std::string unit;    // ASCII grids: um (default), mm, nm
  double pitch_um = std::numeric_limits<double>::quiet_NaN();
  double pitch_x_um = std::numeric_limits<double>::quiet_NaN();
  double pitch_y_um = std::numeric_limits<double>::quiet_NaN();
  double origin_x_mm = std::numeric_limits<double>::quiet_NaN();
  double origin_y_mm = std::numeric_limits<double>::quiet_NaN();
  bool transpose = false;
  std::string roller_serial;
  std::string operator_name;
  bool quiet = false;
};
int analyze_scan_command(const AnalyzeScanCommand&);

// A gauge R&R study of the bench on the virtual rig (bench/runner/msa_runner.hpp).
struct MsaCommand {
  std::string suite_file;
  std::string rig;
  std::vector<std::string> roller_files;
  int repeats = 2;
  int lanes = 2;
  std::string parts = "rollers";  // rollers or needles
  std::string out_dir;
  std::string operator_name;
  bool realtime = false;
  bool quiet = false;
};
int msa_command(const MsaCommand&);

struct PortsCommand {
  bool json = false;
};
int list_ports_command(const PortsCommand&);

}  // namespace derma::app
