// `bench analyze-scan FILE --spec SPEC --out DIR`: judges a height map measured on another
// instrument (X3P or ASCII grid) with the scan-only checks, and writes the same
// report.json / junit.xml as `bench run`. Exit codes as bench run: 0 pass, 1 fail, 2 bad
// input or usage, 3 a check could not be computed.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "bench/analysis/scan_checks.hpp"
#include "bench/app/commands.hpp"
#include "bench/app/run_recording.hpp"
#include "bench/report/console_summary.hpp"
#include "bench/report/json_report.hpp"
#include "bench/report/junit_report.hpp"
#include "bench/runner/station.hpp"
#include "bench/scanfile/csv_grid.hpp"
#include "bench/scanfile/scan_file.hpp"
#include "bench/scanfile/x3p_file.hpp"
#include "bench/suite/product_spec.hpp"

namespace derma::app {

namespace fs = std::filesystem;

namespace {

int usage_error(const std::string& message) {
  std::cerr << "bench analyze-scan: " << message << "\n";
  return report::kExitBadInput;
}

bool given(double value) {
  return !std::isnan(value);
}

constexpr const char* kNoPitch =
    "the ASCII grid gives no pitch (no Gwyddion Width and Height header): give --pitch-um P "
    "(or --pitch-x-um and --pitch-y-um)";

// The grid pitch of a CSV file, from --pitch-um or --pitch-x-um and --pitch-y-um; {0, 0}
// when none is given, for the file's header to give it.
std::expected<std::pair<double, double>, std::string> csv_pitch(const AnalyzeScanCommand& cmd) {
  const bool square = given(cmd.pitch_um);
  const bool x = given(cmd.pitch_x_um), y = given(cmd.pitch_y_um);
  if (square && (x || y))
    return std::unexpected("give either --pitch-um or --pitch-x-um with --pitch-y-um, not both");
  if (!square && !x && !y) return std::pair{0.0, 0.0};
  if (!square && !(x && y))
    return std::unexpected("give --pitch-x-um with --pitch-y-um (or --pitch-um for both)");
  const double px = square ? cmd.pitch_um : cmd.pitch_x_um;
  const double py = square ? cmd.pitch_um : cmd.pitch_y_um;
  if (!(px > 0) || !(py > 0) || !std::isfinite(px) || !std::isfinite(py))
    return std::unexpected("the pitch must be a positive number of um");
  return std::pair{px, py};
}

std::expected<scanfile::ScanSurface, int> read_surface(const AnalyzeScanCommand& cmd,
                                                       scanfile::ScanFormat format) {
  std::expected<scanfile::ScanSurface, scanfile::ScanFileError> surface;
  if (format == scanfile::ScanFormat::X3P) {
    // The container states its own pitch and unit: options that contradict it are refused.
    if (given(cmd.pitch_um) || given(cmd.pitch_x_um) || given(cmd.pitch_y_um))
      return std::unexpected(usage_error(
          "an X3P file gives its own pitch (CX/CY increments): --pitch options are for ASCII "
          "grids"));
    if (!cmd.unit.empty())
      return std::unexpected(
          usage_error("an X3P file stores heights in metres: --unit is for ASCII grids"));
    if (cmd.transpose)
      return std::unexpected(usage_error("--transpose is for ASCII grids (X3P says its axes)"));
    surface = scanfile::read_x3p(cmd.scan_file);
  } else {
    auto pitch = csv_pitch(cmd);
    if (!pitch) return std::unexpected(usage_error(pitch.error()));
    scanfile::CsvGridOptions options;
    if (!cmd.unit.empty()) {
      auto unit = scanfile::parse_height_unit(cmd.unit);
      if (!unit) return std::unexpected(usage_error(unit.error()));
      options.unit = *unit;
    }
    options.pitch_x_um = pitch->first;
    options.pitch_y_um = pitch->second;
    options.transpose = cmd.transpose;
    surface = scanfile::read_csv_grid(cmd.scan_file, options);
  }
  if (!surface) {
    std::cerr << "bench analyze-scan: invalid input: " << surface.error().to_string() << "\n";
    return std::unexpected(report::kExitBadInput);
  }
  // Neither the options nor the file's header gave a pitch.
  if (!(surface->pitch_x_um > 0) || !(surface->pitch_y_um > 0))
    return std::unexpected(usage_error(kNoPitch));
  if (given(cmd.origin_x_mm)) surface->x0_um = cmd.origin_x_mm * 1000.0;
  if (given(cmd.origin_y_mm)) surface->y0_um = cmd.origin_y_mm * 1000.0;
  return std::move(*surface);
}

std::string not_applicable_note() {
  std::string note = "not applicable without a recorded roll, left out:";
  for (const auto& check : analysis::scan_only_not_applicable())
    note += " " + check.id + " (" + check.reason + ");";
  note.back() = '.';
  return note;
}

}  // namespace

int analyze_scan_command(const AnalyzeScanCommand& cmd) {
  const auto t0 = std::chrono::steady_clock::now();
  auto format = cmd.format.empty() ? scanfile::format_from_extension(cmd.scan_file)
                                   : scanfile::parse_scan_format(cmd.format);
  if (!format) return usage_error(format.error());
  if ((given(cmd.origin_x_mm) && !std::isfinite(cmd.origin_x_mm)) ||
      (given(cmd.origin_y_mm) && !std::isfinite(cmd.origin_y_mm)))
    return usage_error("the origin must be a finite number of mm");
  auto spec = suite::load_product_spec(cmd.spec_file);
  if (!spec) {
    std::cerr << "bench analyze-scan: invalid input: " << spec.error().to_string() << "\n";
    return report::kExitBadInput;
  }

  report::RunReport run;
  run.started_at = runner::utc_now_iso8601();
  const auto r0 = std::chrono::steady_clock::now();
  auto surface = read_surface(cmd, *format);
  if (!surface) return surface.error();
  auto map = scanfile::to_height_map(*surface);
  if (!map) {
    std::cerr << "bench analyze-scan: invalid input: " << cmd.scan_file << ": " << map.error()
              << "\n";
    return report::kExitBadInput;
  }
  const double read_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - r0).count();

  std::error_code ec;
  fs::create_directories(cmd.out_dir, ec);
  if (ec) return usage_error("cannot create output directory " + cmd.out_dir + ": " + ec.message());

  run.suite_name = "analyze-scan";
  run.suite_file = cmd.scan_file;
  run.spec_model = spec->model;
  run.spec_file = spec->file;
  run.roller_model = spec->model;
  run.roller_serial = cmd.roller_serial;
  run.rig.address = "file";
  run.rig.port = cmd.scan_file;
  run.rig.rig_serial = surface->instrument.empty() ? "-" : surface->instrument;
  run.rig.firmware_version = surface->format;
  run.software_version = DERMA_VERSION;
  run.host_name = runner::host_name();
  run.operator_name = cmd.operator_name;
  if (run.operator_name.empty()) run.operator_name = user_name();

  char summary[256];
  std::snprintf(summary, sizeof summary,
                "%s, %d x %d points at %g x %g um (analysed at %g um), %zu unreadable",
                surface->format.c_str(), surface->nx, surface->ny, surface->pitch_x_um,
                surface->pitch_y_um, map->pitch_um,
                surface->height_um.size() - surface->valid_points());
  std::string read_message = summary;
  for (const std::string& note : surface->notes) read_message += "; " + note;
  run.steps.push_back({"read scan", 0, "ok", read_s, read_message});

  const auto a0 = std::chrono::steady_clock::now();
  report::RollAnalysis analysed;
  analysed.analysis = analysis::analyse_scan_only(*map, spec->geometry, spec->limits);
  const double analyse_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - a0).count();
  run.rolls.push_back(std::move(analysed));
  const std::string note = not_applicable_note();
  run.steps.push_back({"scan checks", 0, "ok", analyse_s, note});

  run.verdict = report::verdict_of_checks(run);
  run.finished_at = runner::utc_now_iso8601();
  run.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const nlohmann::json json = report::to_json(run);
  std::ofstream json_file(fs::path(cmd.out_dir) / "report.json");
  json_file << json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  std::ofstream junit_file(fs::path(cmd.out_dir) / "junit.xml");
  junit_file << report::to_junit_xml(run);
  if (!json_file.flush() || !junit_file.flush()) {
    std::cerr << "bench analyze-scan: cannot write the reports in " << cmd.out_dir << "\n";
    return report::kExitRigError;
  }

  if (!cmd.quiet) std::cout << "read " << cmd.scan_file << ": " << read_message << "\n";
  std::cout << report::console_summary(run);
  if (!cmd.quiet) {
    std::string ids;
    for (const auto& check : analysis::scan_only_not_applicable())
      ids += (ids.empty() ? "" : ", ") + check.id;
    std::cout << "note: " << ids
              << " need a recorded roll (lattice or samples): left out, see report.json steps\n";
  }
  std::cout << "report: " << cmd.out_dir << "/report.json, " << cmd.out_dir << "/junit.xml\n";
  return report::exit_code_for(run.verdict);
}

}  // namespace derma::app
