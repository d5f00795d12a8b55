// Plain ASCII height grids, as most profilometer software exports them.
//
// Layout: one map row per line, and rows run along the lane X (the roll direction): line k
// holds the heights at x = x0 + k * pitch_x, cell j the one at y = y0 + j * pitch_y.
// Files written the other way round (one line per Y) are read with transpose = true.
// Cells are separated by ';', tab, ',' or whitespace (the first of these found in the
// first data line; a decimal comma is therefore not supported). Lines whose first
// non-blank character is '#' are headers or comments; blank lines are skipped. An empty
// cell or NaN (any case) is a point the instrument could not read. The grid carries no
// pitch: the caller gives it.
#pragma once

#include <expected>
#include <string>

#include "bench/scanfile/scan_surface.hpp"

namespace derma::scanfile {

enum class HeightUnit { Micrometre, Millimetre, Nanometre };
// "um", "mm" or "nm"; nullopt-like error text otherwise.
std::expected<HeightUnit, std::string> parse_height_unit(const std::string& name);

struct CsvGridOptions {
  double pitch_x_um = 0;  // between lines (or cells, transposed)
  double pitch_y_um = 0;
  double x0_um = 0;
  double y0_um = 0;
  HeightUnit unit = HeightUnit::Micrometre;
  bool transpose = false;  // lines run along Y instead
};

// text is the file's content; file names it in errors.
std::expected<ScanSurface, ScanFileError> parse_csv_grid(const std::string& text,
                                                         const std::string& file,
                                                         const CsvGridOptions& options);
std::expected<ScanSurface, ScanFileError> read_csv_grid(const std::string& path,
                                                        const CsvGridOptions& options);

}  // namespace derma::scanfile
