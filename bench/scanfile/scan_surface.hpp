// A height map as another instrument measured it, before the bench's conventions apply:
// its own pitch along each axis (profilometers need not sample a square grid), origin and
// unit already converted to um. to_height_map() turns it into the analysis' HeightMap.
#pragma once

#include <expected>
#include <string>
#include <vector>

#include "bench/analysis/records.hpp"

namespace derma::scanfile {

// What is wrong with a scan file, and where: "scan.csv:12:5: cell is 'abc', not a number".
struct ScanFileError {
  std::string file;     // as the user named it
  int line = 0;         // 1-based, text formats only; 0 when the problem is the whole file
  int column = 0;       // 1-based cell number in the line; 0 when unknown
  std::string message;  // what is wrong, naming the entry or element concerned

  std::string to_string() const {
    std::string where = file;
    if (line > 0) where += ":" + std::to_string(line);
    if (line > 0 && column > 0) where += ":" + std::to_string(column);
    return where + ": " + message;
  }
};

// Orientation is the bench's: point (ix, iy) is at lane x = x0_um + ix * pitch_x_um (along
// the roll) and y = y0_um + iy * pitch_y_um (across it), stored at ix * ny + iy.
struct ScanSurface {
  int nx = 0;
  int ny = 0;
  double pitch_x_um = 0;
  double pitch_y_um = 0;
  double x0_um = 0;
  double y0_um = 0;
  std::vector<float> height_um;  // larger = higher; NaN = no data
  std::string format;            // "X3P" or "CSV"
  std::string instrument;        // manufacturer and model, when the file says
  // How the reader read the file where that is worth telling: values taken from a text
  // header or given instead of it, main.xml found in a folder. For the console and report.
  std::vector<std::string> notes;

  float at(int ix, int iy) const { return height_um[static_cast<std::size_t>(ix) * ny + iy]; }
  std::size_t valid_points() const;
};

// The analysis needs square pixels. A surface sampled at different X and Y pitches is
// resampled (bilinear, no-data wherever a neighbour is no-data) onto a square grid at the
// finer of the two pitches, so no detail is thrown away.
std::expected<analysis::HeightMap, std::string> to_height_map(const ScanSurface& surface);

}  // namespace derma::scanfile
