// Plain ASCII height grids, as most profilometer software exports them.
//
// Layout: one map row per line, and rows run along the lane X (the roll direction): line k
// holds the heights at x = x0 + k * pitch_x, cell j the one at y = y0 + j * pitch_y.
// Files written the other way round (one line per Y) are read with transpose = true.
// Cells are separated by ';', tab, ',' or whitespace (the first of these found in the
// first data line; a decimal comma is therefore not supported). Lines whose first
// non-blank character is '#' are headers or comments; blank lines are skipped. An empty
// cell or NaN (any case) is a point the instrument could not read.
//
// Pitch and unit: given by the caller, or read from the comment header of Gwyddion's
// "ASCII data matrix (.txt)" export, the four lines it writes before the data:
//     # Channel: Height
//     # Width: 10.025 mm        extent along a line: cell pitch = Width / cells per line
//     # Height: 10.475 mm       extent across lines: line pitch = Height / number of lines
//     # Value units: m          the heights' unit
// (Gwyddion's convention: real size / number of pixels). The labels may be in any
// language Gwyddion translates them to ("Breite:", "Šířka:", ...); a header number may
// have a decimal comma; lengths are in m, mm, um, µm or nm. Gwyddion's image lines are
// its Y lines, so its Width runs along the bench's Y unless transpose is set: the header
// gives the pitch along and across the file's lines, and transpose decides, as for any
// grid, which of them is the lane X. A pitch or unit the caller gives replaces the
// header's (and ScanSurface::notes says so). Width and Height must both be there and be
// well-formed even when replaced (a malformed header is a file that is not what it seems);
// Value units that are not a length are refused only when they are used. A Gwyddion
// header after the data (its "concatenate all channels" export) is refused: one channel a
// file. Without a pitch from either, the surface's pitches are 0 (to_height_map refuses
// that): the caller has to ask for one.
#pragma once

#include <expected>
#include <optional>
#include <string>

#include "bench/scanfile/scan_surface.hpp"

namespace derma::scanfile {

enum class HeightUnit { Micrometre, Millimetre, Nanometre, Metre };
// "um" (or "µm"), "mm", "nm" or "m"; otherwise an error naming the units there are.
std::expected<HeightUnit, std::string> parse_height_unit(const std::string& name);

struct CsvGridOptions {
  double pitch_x_um = 0;  // between lines (or cells, transposed); 0 = from the header
  double pitch_y_um = 0;  // 0 = from the header
  double x0_um = 0;
  double y0_um = 0;
  std::optional<HeightUnit> unit;  // nullopt = from the header, else um
  bool transpose = false;          // lines run along Y instead
};

// text is the file's content; file names it in errors.
std::expected<ScanSurface, ScanFileError> parse_csv_grid(const std::string& text,
                                                         const std::string& file,
                                                         const CsvGridOptions& options);
std::expected<ScanSurface, ScanFileError> read_csv_grid(const std::string& path,
                                                        const CsvGridOptions& options);

}  // namespace derma::scanfile
