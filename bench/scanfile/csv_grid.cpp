#include "bench/scanfile/csv_grid.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

#include "bench/analysis/text.hpp"

namespace derma::scanfile {

using analysis::text;

std::expected<HeightUnit, std::string> parse_height_unit(const std::string& name) {
  if (name == "um") return HeightUnit::Micrometre;
  if (name == "mm") return HeightUnit::Millimetre;
  if (name == "nm") return HeightUnit::Nanometre;
  return std::unexpected("unknown height unit '" + name + "' (use um, mm or nm)");
}

namespace {

double um_per(HeightUnit unit) {
  switch (unit) {
    case HeightUnit::Micrometre:
      return 1.0;
    case HeightUnit::Millimetre:
      return 1000.0;
    case HeightUnit::Nanometre:
      return 0.001;
  }
  return 1.0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// 0 = runs of whitespace.
char separator_of(std::string_view line) {
  for (char candidate : {';', '\t', ','})
    if (line.find(candidate) != std::string_view::npos) return candidate;
  return 0;
}

std::vector<std::string_view> split(std::string_view line, char separator) {
  std::vector<std::string_view> cells;
  if (separator == 0) {
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      if (i == line.size()) break;
      std::size_t j = i;
      while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
      cells.push_back(line.substr(i, j - i));
      i = j;
    }
    return cells;
  }
  std::size_t start = 0;
  while (true) {
    const std::size_t end = line.find(separator, start);
    cells.push_back(trim(line.substr(start, end - start)));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return cells;
}

bool is_no_data(std::string_view cell) {
  if (cell.empty()) return true;
  if (cell.size() != 3) return false;
  return std::tolower(static_cast<unsigned char>(cell[0])) == 'n' &&
         std::tolower(static_cast<unsigned char>(cell[1])) == 'a' &&
         std::tolower(static_cast<unsigned char>(cell[2])) == 'n';
}

}  // namespace

std::expected<ScanSurface, ScanFileError> parse_csv_grid(const std::string& content,
                                                         const std::string& file,
                                                         const CsvGridOptions& options) {
  const auto fail = [&](int line, int column, std::string message) {
    return std::unexpected(ScanFileError{file, line, column, std::move(message)});
  };
  const double scale = um_per(options.unit);
  std::vector<float> values;  // as the lines run
  int lines_read = 0, cells_per_line = 0, first_data_line = 0;
  char separator = 0;

  std::string_view rest = content;
  int line_number = 0;
  while (!rest.empty()) {
    const std::size_t newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view stripped = trim(line);
    if (stripped.empty() || stripped.front() == '#') continue;

    if (lines_read == 0) separator = separator_of(line);
    const auto cells = split(line, separator);
    if (lines_read == 0) {
      cells_per_line = static_cast<int>(cells.size());
      first_data_line = line_number;
    } else if (static_cast<int>(cells.size()) != cells_per_line) {
      return fail(line_number, 0,
                  text("ragged grid: this line has %zu cells, the first data line (line %d) "
                       "has %d",
                       cells.size(), first_data_line, cells_per_line));
    }
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::string_view cell = cells[c];
      if (is_no_data(cell)) {
        values.push_back(analysis::HeightMap::kNoData);
        continue;
      }
      double value = 0;
      const char* begin = cell.data() + (cell.front() == '+' ? 1 : 0);
      const auto [end, ec] = std::from_chars(begin, cell.data() + cell.size(), value);
      if (ec != std::errc() || end != cell.data() + cell.size() || !std::isfinite(value))
        return fail(line_number, static_cast<int>(c + 1),
                    text("cell %zu is '%.*s', not a number (empty or NaN marks no data)", c + 1,
                         static_cast<int>(std::min<std::size_t>(cell.size(), 40)), cell.data()));
      values.push_back(static_cast<float>(value * scale));
    }
    ++lines_read;
  }
  if (lines_read < 2 || cells_per_line < 2)
    return fail(0, 0,
                text("%d data lines of %d cells: a height map needs at least 2 x 2 points",
                     lines_read, cells_per_line));

  ScanSurface surface;
  surface.format = "CSV";
  surface.pitch_x_um = options.pitch_x_um;
  surface.pitch_y_um = options.pitch_y_um;
  surface.x0_um = options.x0_um;
  surface.y0_um = options.y0_um;
  if (!options.transpose) {
    surface.nx = lines_read;
    surface.ny = cells_per_line;
    surface.height_um = std::move(values);
    return surface;
  }
  surface.nx = cells_per_line;
  surface.ny = lines_read;
  surface.height_um.resize(values.size());
  for (int line = 0; line < lines_read; ++line)
    for (int cell = 0; cell < cells_per_line; ++cell)
      surface.height_um[static_cast<std::size_t>(cell) * lines_read + line] =
          values[static_cast<std::size_t>(line) * cells_per_line + cell];
  return surface;
}

std::expected<ScanSurface, ScanFileError> read_csv_grid(const std::string& path,
                                                        const CsvGridOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(ScanFileError{path, 0, 0, "cannot be opened"});
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return std::unexpected(ScanFileError{path, 0, 0, "cannot be read"});
  return parse_csv_grid(content.str(), path, options);
}

}  // namespace derma::scanfile
