#include "bench/scanfile/csv_grid.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/analysis/text.hpp"

namespace derma::scanfile {

using analysis::text;

namespace {

struct UnitName {
  std::string_view name;
  HeightUnit unit;
};
// Micro as "u", as the micro sign (U+00B5, Gwyddion's) or as the Greek mu (U+03BC).
constexpr UnitName kUnitNames[] = {
    {"um", HeightUnit::Micrometre},      {"\u00b5m", HeightUnit::Micrometre},
    {"\u03bcm", HeightUnit::Micrometre}, {"mm", HeightUnit::Millimetre},
    {"nm", HeightUnit::Nanometre},       {"m", HeightUnit::Metre}};

std::optional<HeightUnit> unit_named(std::string_view name) {
  for (const UnitName& u : kUnitNames)
    if (u.name == name) return u.unit;
  return std::nullopt;
}

}  // namespace

std::expected<HeightUnit, std::string> parse_height_unit(const std::string& name) {
  if (auto unit = unit_named(name)) return *unit;
  return std::unexpected("unknown height unit '" + name + "' (use um, mm, nm or m)");
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
    case HeightUnit::Metre:
      return 1e6;
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

// ---- Gwyddion's ASCII data matrix header ----------------------------------------------

enum class HeaderKey { Channel, Width, Height, ValueUnits };
constexpr const char* kHeaderKeyNames[] = {"Channel", "Width", "Height", "Value units"};

struct HeaderLabel {
  HeaderKey key;
  std::string_view label;
};
// As Gwyddion writes them: in English, or translated (cs, de, es, fr, it, ja, ko, pt, ru),
// the same labels Gwyddion's own reader of this export knows.
constexpr HeaderLabel kHeaderLabels[] = {
    {HeaderKey::Channel, "Channel:"},
    {HeaderKey::Channel, "Kan\u00e1l:"},
    {HeaderKey::Channel, "Kanal:"},
    {HeaderKey::Channel, "Canal:"},
    {HeaderKey::Channel, "Canal :"},
    {HeaderKey::Channel, "Canale:"},
    {HeaderKey::Channel, "\u30c1\u30e3\u30cd\u30eb\uff1a"},
    {HeaderKey::Channel, "\ucc44\ub110:"},
    {HeaderKey::Channel, "\u041a\u0430\u043d\u0430\u043b:"},
    {HeaderKey::Width, "Width:"},
    {HeaderKey::Width, "\u0160\u00ed\u0159ka:"},
    {HeaderKey::Width, "Breite:"},
    {HeaderKey::Width, "Anchura:"},
    {HeaderKey::Width, "Largeur :"},
    {HeaderKey::Width, "Larghezza:"},
    {HeaderKey::Width, "\u5e45:"},
    {HeaderKey::Width, "\ud3ed:"},
    {HeaderKey::Width, "Largura:"},
    {HeaderKey::Width, "\u0428\u0438\u0440\u0438\u043d\u0430:"},
    {HeaderKey::Height, "Height:"},
    {HeaderKey::Height, "V\u00fd\u0161ka:"},
    {HeaderKey::Height, "H\u00f6he:"},
    {HeaderKey::Height, "Altura:"},
    {HeaderKey::Height, "Hauteur :"},
    {HeaderKey::Height, "Altezza:"},
    {HeaderKey::Height, "\u9ad8\u3055\uff1a"},
    {HeaderKey::Height, "\ub192\uc774:"},
    {HeaderKey::Height, "\u0412\u044b\u0441\u043e\u0442\u0430:"},
    {HeaderKey::ValueUnits, "Value units:"},
    {HeaderKey::ValueUnits, "Jednotky hodnot:"},
    {HeaderKey::ValueUnits, "Einheiten:"},
    {HeaderKey::ValueUnits, "Unit\u00e9s :"},
    {HeaderKey::ValueUnits, "unit\u00e0 valore:"},
    {HeaderKey::ValueUnits, "\u5024\u306e\u5358\u4f4d:"},
    {HeaderKey::ValueUnits, "\uac12 \ub2e8\uc704:"},
    {HeaderKey::ValueUnits, "Unidades de valor:"},
    {HeaderKey::ValueUnits,
     "\u0415\u0434\u0438\u043d\u0438\u0446\u044b "
     "\u0438\u0437\u043c\u0435\u0440\u0435\u043d\u0438\u044f:"},
};

struct HeaderLine {
  HeaderKey key;
  std::string_view value;
};

// "# Width: 10.025 mm" -> {Width, "10.025 mm"}; nullopt for any other comment.
std::optional<HeaderLine> header_line(std::string_view comment) {
  comment.remove_prefix(1);  // '#'
  comment = trim(comment);
  for (const HeaderLabel& h : kHeaderLabels) {
    if (!comment.starts_with(h.label)) continue;
    const std::string_view rest = comment.substr(h.label.size());
    if (!rest.empty() && rest.front() != ' ' && rest.front() != '\t') continue;
    return HeaderLine{h.key, trim(rest)};
  }
  return std::nullopt;
}

// "10.025 mm" or "4,000 \u00b5m" (a number, with a decimal comma where Gwyddion printed
// it in a locale that has one, and a length unit) in um.
std::optional<double> length_um(std::string_view text) {
  const std::size_t space = text.find_first_of(" \t");
  if (space == std::string_view::npos) return std::nullopt;
  std::string number(text.substr(0, space));
  if (number.find('.') == std::string::npos && std::count(number.begin(), number.end(), ',') == 1)
    number[number.find(',')] = '.';
  const auto unit = unit_named(trim(text.substr(space)));
  double value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (!unit || ec != std::errc() || end != number.data() + number.size() || !std::isfinite(value))
    return std::nullopt;
  return value * um_per(*unit);
}

// The pitch a header extent gives: extent / points, rid of the division's binary
// round-off (the header has far fewer than 10 digits), so that 1.001 mm / 11 is 91 um
// and not 90.99999999999999.
double header_pitch_um(double extent_um, int points) {
  char digits[32];
  const double pitch = extent_um / points;
  const auto printed =
      std::to_chars(digits, digits + sizeof digits, pitch, std::chars_format::general, 10);
  double rounded = pitch;
  std::from_chars(digits, printed.ptr, rounded);
  return rounded;
}

// The header lines read before the data, each with its line number (0 = not there).
class GwyddionHeader {
 public:
  // A header line before the data; what is wrong with it, if anything.
  std::optional<std::string> take(const HeaderLine& h, int line_number) {
    const auto k = static_cast<std::size_t>(h.key);
    if (line_[k] > 0)
      return text("a second Gwyddion '%s' header line (the first is line %d)", kHeaderKeyNames[k],
                  line_[k]);
    line_[k] = line_number;
    value_[k] = std::string(h.value);
    if (h.key != HeaderKey::Width && h.key != HeaderKey::Height) return std::nullopt;
    const auto extent = length_um(h.value);
    if (!extent)
      return text(
          "Gwyddion header %s is '%s': not a length (a number, then m, mm, um, \u00b5m "
          "or nm)",
          kHeaderKeyNames[k], value_[k].c_str());
    if (!(*extent > 0))
      return text("Gwyddion header %s is '%s': it must be positive", kHeaderKeyNames[k],
                  value_[k].c_str());
    (h.key == HeaderKey::Width ? width_um_ : height_um_) = *extent;
    return std::nullopt;
  }
  int line(HeaderKey key) const { return line_[static_cast<std::size_t>(key)]; }
  bool has(HeaderKey key) const { return line(key) > 0; }
  const std::string& value(HeaderKey key) const { return value_[static_cast<std::size_t>(key)]; }
  double width_um() const { return width_um_; }
  double height_um() const { return height_um_; }

 private:
  int line_[4] = {};
  std::string value_[4];
  double width_um_ = 0, height_um_ = 0;
};

}  // namespace

std::expected<ScanSurface, ScanFileError> parse_csv_grid(const std::string& content,
                                                         const std::string& file,
                                                         const CsvGridOptions& options) {
  const auto fail = [&](int line, int column, std::string message) {
    return std::unexpected(ScanFileError{file, line, column, std::move(message)});
  };
  GwyddionHeader header;
  std::vector<std::string> notes;
  double scale = 1.0;         // um per value, settled at the first data line
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
    if (stripped.empty()) continue;
    if (stripped.front() == '#') {
      const auto key = header_line(stripped);
      if (!key) continue;  // a comment
      if (lines_read > 0)
        return fail(line_number, 0,
                    "a Gwyddion header after the data: the file holds several channels "
                    "(Gwyddion's concatenated export); export the height channel alone");
      if (auto problem = header.take(*key, line_number)) return fail(line_number, 0, *problem);
      continue;
    }

    if (lines_read == 0) {
      separator = separator_of(line);
      // The header is complete: its extents come as a pair, its unit is used or replaced.
      for (const auto& [key, other] : {std::pair{HeaderKey::Width, HeaderKey::Height},
                                       std::pair{HeaderKey::Height, HeaderKey::Width}})
        if (header.has(key) && !header.has(other))
          return fail(header.line(key), 0,
                      text("a Gwyddion %s header line without a %s one: the pitch needs both",
                           kHeaderKeyNames[static_cast<int>(key)],
                           kHeaderKeyNames[static_cast<int>(other)]));
      HeightUnit unit = options.unit.value_or(HeightUnit::Micrometre);
      if (header.has(HeaderKey::ValueUnits)) {
        const std::string& named = header.value(HeaderKey::ValueUnits);
        if (options.unit) {
          notes.push_back("the height unit given replaces the Gwyddion header's Value units '" +
                          named + "'");
        } else if (auto from_header = unit_named(named)) {
          unit = *from_header;
          notes.push_back("heights in " + named + ", from the Gwyddion header's Value units");
        } else {
          return fail(header.line(HeaderKey::ValueUnits), 0,
                      "Gwyddion header Value units are '" + named +
                          "', not a length (m, mm, um, \u00b5m or nm): the values are not "
                          "heights");
        }
      }
      scale = um_per(unit);
    }
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

  // The pitch along the lines' cells and across the lines, then on the lane's axes.
  double pitch_x_um = options.pitch_x_um, pitch_y_um = options.pitch_y_um;
  if (header.has(HeaderKey::Width)) {
    const double cell_pitch_um = header_pitch_um(header.width_um(), cells_per_line);
    const double line_pitch_um = header_pitch_um(header.height_um(), lines_read);
    const double header_x_um = options.transpose ? cell_pitch_um : line_pitch_um;
    const double header_y_um = options.transpose ? line_pitch_um : cell_pitch_um;
    if (pitch_x_um > 0 || pitch_y_um > 0)
      notes.push_back(text("the pitch given replaces the Gwyddion header's %g x %g um", header_x_um,
                           header_y_um));
    else
      notes.push_back(
          text("pitch from the Gwyddion header: Width over %d cells, Height over "
               "%d lines",
               cells_per_line, lines_read));
    if (!(pitch_x_um > 0)) pitch_x_um = header_x_um;
    if (!(pitch_y_um > 0)) pitch_y_um = header_y_um;
  }

  ScanSurface surface;
  surface.format = "CSV";
  surface.pitch_x_um = pitch_x_um;
  surface.pitch_y_um = pitch_y_um;
  surface.x0_um = options.x0_um;
  surface.y0_um = options.y0_um;
  surface.notes = std::move(notes);
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
