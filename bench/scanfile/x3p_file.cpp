#include "bench/scanfile/x3p_file.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <pugixml.hpp>
#include <string_view>

#include "bench/analysis/text.hpp"
#include "bench/scanfile/md5.hpp"
#include "bench/scanfile/zip_archive.hpp"

namespace derma::scanfile {

using analysis::text;

char x3p_type_code(X3PDataType type) {
  switch (type) {
    case X3PDataType::Int16:
      return 'I';
    case X3PDataType::Int32:
      return 'L';
    case X3PDataType::Float32:
      return 'F';
    case X3PDataType::Float64:
      return 'D';
  }
  return '?';
}

std::size_t x3p_type_size(X3PDataType type) {
  switch (type) {
    case X3PDataType::Int16:
      return 2;
    case X3PDataType::Int32:
    case X3PDataType::Float32:
      return 4;
    case X3PDataType::Float64:
      return 8;
  }
  return 0;
}

namespace {

constexpr std::uint64_t kMaxMainXmlBytes = 64ull << 20;
// 2^28 points (16 times the 16-megapixel maps the bench is sized for) keeps a hostile
// SizeX x SizeY from asking for more memory than the machine has.
constexpr std::uint64_t kMaxPoints = 1ull << 28;

// ---- main.xml -----------------------------------------------------------------------

// Element names may carry the namespace prefix (p:Record1) or not: compare local names.
std::string_view local_name(const pugi::xml_node& node) {
  std::string_view name = node.name();
  const auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node child(const pugi::xml_node& parent, std::string_view name) {
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling())
    if (c.type() == pugi::node_element && local_name(c) == name) return c;
  return {};
}

std::string trimmed_text(const pugi::xml_node& node) {
  std::string s = node.text().get();
  const auto not_space = [](unsigned char ch) { return !std::isspace(ch); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

std::optional<double> parse_number(const std::string& s) {
  double value = 0;
  const char* begin = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
  const auto [end, ec] = std::from_chars(begin, s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

// Walks main.xml, naming the element path in every complaint.
class MainXml {
 public:
  explicit MainXml(pugi::xml_node root) : root_(root) {}

  // The element at a slash-separated path below the root, e.g. "Record1/Axes/CX".
  pugi::xml_node at(std::string_view path) const {
    pugi::xml_node node = root_;
    while (node && !path.empty()) {
      const auto slash = path.find('/');
      node = child(node, path.substr(0, slash));
      path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    }
    return node;
  }
  std::expected<std::string, std::string> required_text(const std::string& path) const {
    const pugi::xml_node node = at(path);
    if (!node) return std::unexpected("main.xml has no " + path);
    return trimmed_text(node);
  }
  std::expected<double, std::string> number(const std::string& path,
                                            std::optional<double> fallback = std::nullopt) const {
    const pugi::xml_node node = at(path);
    if (!node) {
      if (fallback) return *fallback;
      return std::unexpected("main.xml has no " + path);
    }
    const std::string s = trimmed_text(node);
    // An empty element (<Offset/>, as some exporters write an offset of zero) counts as
    // absent where the standard lets the element be left out.
    if (s.empty()) {
      if (fallback) return *fallback;
      return std::unexpected("main.xml " + path + " is empty");
    }
    const auto value = parse_number(s);
    if (!value) return std::unexpected("main.xml " + path + " is '" + s + "', not a number");
    return *value;
  }
  std::expected<std::uint64_t, std::string> count(const std::string& path) const {
    auto value = number(path);
    if (!value) return std::unexpected(value.error());
    if (*value < 1 || *value != std::floor(*value) || *value > double(kMaxPoints))
      return std::unexpected(text("main.xml %s is %g: it must be a whole number from 1 to %llu",
                                  path.c_str(), *value,
                                  static_cast<unsigned long long>(kMaxPoints)));
    return static_cast<std::uint64_t>(*value);
  }

 private:
  pugi::xml_node root_;
};

struct Axis {
  double increment = 1;
  double offset = 0;
};

// An incremental lateral axis (CX, CY): a regular grid, which is all the bench can analyse.
std::expected<Axis, std::string> lateral_axis(const MainXml& xml, const std::string& name) {
  const std::string base = "Record1/Axes/" + name;
  auto type = xml.required_text(base + "/AxisType");
  if (!type) return std::unexpected(type.error());
  if (*type != "I")
    return std::unexpected(
        text("main.xml %s/AxisType is '%s': only incremental axes (I) are "
             "supported, since the analysis needs a regular grid",
             base.c_str(), type->c_str()));
  auto increment = xml.number(base + "/Increment");
  if (!increment) return std::unexpected(increment.error());
  if (!(*increment > 0))
    return std::unexpected(
        text("main.xml %s/Increment is %g m: it must be positive", base.c_str(), *increment));
  auto offset = xml.number(base + "/Offset", 0.0);
  if (!offset) return std::unexpected(offset.error());
  return Axis{*increment, *offset};
}

std::expected<X3PDataType, std::string> z_data_type(const MainXml& xml) {
  auto type = xml.required_text("Record1/Axes/CZ/DataType");
  if (!type) return std::unexpected(type.error());
  if (*type == "I") return X3PDataType::Int16;
  if (*type == "L") return X3PDataType::Int32;
  if (*type == "F") return X3PDataType::Float32;
  if (*type == "D") return X3PDataType::Float64;
  return std::unexpected("main.xml Record1/Axes/CZ/DataType is '" + *type +
                         "': supported are I (int16), L (int32), F (float32) and D (float64)");
}

// ---- point data ---------------------------------------------------------------------

template <typename Unsigned>
Unsigned little_endian(const unsigned char* p) {
  Unsigned v = 0;
  for (std::size_t i = 0; i < sizeof(Unsigned); ++i) v |= Unsigned(p[i]) << (8 * i);
  return v;
}

double raw_value(X3PDataType type, const unsigned char* p) {
  switch (type) {
    case X3PDataType::Int16:
      return static_cast<std::int16_t>(little_endian<std::uint16_t>(p));
    case X3PDataType::Int32:
      return static_cast<std::int32_t>(little_endian<std::uint32_t>(p));
    case X3PDataType::Float32:
      return std::bit_cast<float>(little_endian<std::uint32_t>(p));
    case X3PDataType::Float64:
      return std::bit_cast<double>(little_endian<std::uint64_t>(p));
  }
  return std::numeric_limits<double>::quiet_NaN();
}

template <typename Unsigned>
void put_little_endian(std::string& out, Unsigned v) {
  for (std::size_t i = 0; i < sizeof(Unsigned); ++i)
    out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

bool is_md5_hex(const std::string& s) {
  return s.size() == 32 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c); });
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ---- the container's layout -----------------------------------------------------------

// Where main.xml is, and which entries its links name. ISO 25178-72 puts main.xml at the
// root of the zip and names the other entries (bindata/data.bin, md5checksum.hex) by paths
// relative to that root, which the openGPS library looks up as they are written. Zipping
// the folder that holds an X3P's files, as people and some exporters do, puts them all one
// folder down: main.xml is then taken from the one top-level folder that has it, and each
// link is looked up beside it first and from the archive's root second (for files that
// name their entries with the folder).
class Container {
 public:
  static std::expected<Container, std::string> locate(const ZipReader& zip) {
    if (zip.contains("main.xml")) return Container(zip, "");
    constexpr std::string_view kMain = "/main.xml";
    std::vector<std::string> top_level, deeper;  // entries named FOLDER/.../main.xml
    for (const std::string& name : zip.names()) {
      if (name.size() <= kMain.size() || !name.ends_with(kMain)) continue;
      const std::size_t folder_end = name.size() - kMain.size() + 1;  // after its '/'
      (name.find('/') + 1 == folder_end ? top_level : deeper).push_back(name);
    }
    if (top_level.size() == 1)
      return Container(zip, top_level.front().substr(0, top_level.front().find('/') + 1));
    if (top_level.size() > 1) {
      std::string names;
      for (const std::string& name : top_level) names += (names.empty() ? "'" : ", '") + name + "'";
      return std::unexpected("the archive has no main.xml at its root but one in each of " +
                             std::to_string(top_level.size()) + " top-level folders (" + names +
                             "): ambiguous, it is not one X3P file");
    }
    std::string message =
        "the archive has no main.xml, neither at its root nor in a top-level folder: not an "
        "X3P file";
    if (!deeper.empty())
      message += " (it has '" + deeper.front() + "', deeper than a zipped folder puts it)";
    return std::unexpected(message);
  }

  // "" at the root, else the top-level folder with its '/'.
  const std::string& folder() const { return folder_; }
  std::string main_entry() const { return folder_ + "main.xml"; }

  // The entry a link in main.xml names: beside main.xml, else from the archive's root.
  std::optional<std::string> entry(const std::string& link) const {
    if (!folder_.empty() && zip_->contains(folder_ + link)) return folder_ + link;
    if (zip_->contains(link)) return link;
    return std::nullopt;
  }
  std::string missing(const std::string& link) const {
    std::string out = "'" + link + "', which the archive does not contain";
    if (!folder_.empty())
      out += " (neither beside main.xml, as '" + folder_ + link + "', nor from its root)";
    return out;
  }

 private:
  Container(const ZipReader& zip, std::string folder) : zip_(&zip), folder_(std::move(folder)) {}
  const ZipReader* zip_;
  std::string folder_;
};

// Record4: md5checksum.hex holds the digest of main.xml (optionally followed by a name).
std::optional<std::string> main_checksum_problem(const MainXml& xml, const ZipReader& zip,
                                                 const Container& container,
                                                 const std::string& main_bytes) {
  const pugi::xml_node record4 = xml.at("Record4/ChecksumFile");
  if (!record4) return std::nullopt;
  const std::string link = trimmed_text(record4);
  if (link.empty()) return std::nullopt;
  const auto name = container.entry(link);
  if (!name) return "main.xml Record4 names the checksum file " + container.missing(link);
  auto content = zip.read(*name, 4096);
  if (!content) return content.error();
  std::string digest = content->substr(0, content->find_first_of(" \t\r\n*"));
  if (!is_md5_hex(digest))
    return "checksum file '" + *name + "' does not start with an MD5 digest (32 hex digits)";
  if (lower(digest) != md5_hex(main_bytes))
    return "main.xml does not match its MD5 checksum in '" + *name +
           "': the container was damaged or edited";
  return std::nullopt;
}

std::string instrument_of(const MainXml& xml) {
  std::string out = trimmed_text(xml.at("Record2/Instrument/Manufacturer"));
  const std::string model = trimmed_text(xml.at("Record2/Instrument/Model"));
  if (!model.empty()) out += (out.empty() ? "" : " ") + model;
  return out;
}

}  // namespace

std::expected<ScanSurface, ScanFileError> read_x3p(const std::string& path) {
  const auto fail = [&](std::string message) {
    return std::unexpected(ScanFileError{path, 0, 0, std::move(message)});
  };
  auto zip = ZipReader::open(path);
  if (!zip) return fail(zip.error());
  const auto container = Container::locate(*zip);
  if (!container) return fail(container.error());
  auto main_bytes = zip->read(container->main_entry(), kMaxMainXmlBytes);
  if (!main_bytes) return fail(main_bytes.error());

  pugi::xml_document document;
  const pugi::xml_parse_result parsed =
      document.load_buffer(main_bytes->data(), main_bytes->size());
  if (!parsed) {
    const std::string before = main_bytes->substr(0, static_cast<std::size_t>(parsed.offset));
    const auto line = 1 + std::count(before.begin(), before.end(), '\n');
    return fail(text("main.xml is not well-formed XML: %s (line %ld)", parsed.description(),
                     static_cast<long>(line)));
  }
  const pugi::xml_node root = document.document_element();
  if (local_name(root) != "ISO5436_2")
    return fail("main.xml's root element is <" + std::string(root.name()) +
                ">, not <ISO5436_2>: not an X3P file");
  const MainXml xml(root);
  if (auto problem = main_checksum_problem(xml, *zip, *container, *main_bytes))
    return fail(*problem);

  auto feature = xml.required_text("Record1/FeatureType");
  if (!feature) return fail(feature.error());
  if (*feature != "SUR")
    return fail("main.xml Record1/FeatureType is '" + *feature +
                "': only areal surfaces (SUR) can be analysed, not profiles (PRF) or point "
                "clouds (PCL)");
  auto x_axis = lateral_axis(xml, "CX");
  if (!x_axis) return fail(x_axis.error());
  auto y_axis = lateral_axis(xml, "CY");
  if (!y_axis) return fail(y_axis.error());
  auto z_type = z_data_type(xml);
  if (!z_type) return fail(z_type.error());
  auto z_increment = xml.number("Record1/Axes/CZ/Increment", 1.0);
  if (!z_increment) return fail(z_increment.error());
  auto z_offset = xml.number("Record1/Axes/CZ/Offset", 0.0);
  if (!z_offset) return fail(z_offset.error());

  auto size_x = xml.count("Record3/MatrixDimension/SizeX");
  if (!size_x) return fail(size_x.error());
  auto size_y = xml.count("Record3/MatrixDimension/SizeY");
  if (!size_y) return fail(size_y.error());
  auto size_z = xml.count("Record3/MatrixDimension/SizeZ");
  if (!size_z) return fail(size_z.error());
  if (*size_z != 1)
    return fail(
        text("main.xml Record3/MatrixDimension/SizeZ is %llu: only single-layer maps "
             "are supported",
             static_cast<unsigned long long>(*size_z)));
  const std::uint64_t points = *size_x * *size_y;
  if (points > kMaxPoints)
    return fail(text("%llu x %llu points: more than the %llu this reader accepts",
                     static_cast<unsigned long long>(*size_x),
                     static_cast<unsigned long long>(*size_y),
                     static_cast<unsigned long long>(kMaxPoints)));

  if (!xml.at("Record3/DataLink")) {
    if (xml.at("Record3/DataList"))
      return fail(
          "main.xml stores its points in the XML (Record3/DataList): only binary point "
          "data (Record3/DataLink) is supported");
    return fail("main.xml has no Record3/DataLink");
  }
  auto data_link = xml.required_text("Record3/DataLink/PointDataLink");
  if (!data_link) return fail(data_link.error());
  const auto data_name = container->entry(*data_link);
  if (!data_name) return fail("main.xml links the point data to " + container->missing(*data_link));
  const std::size_t type_size = x3p_type_size(*z_type);
  const std::uint64_t expected_bytes = points * type_size;
  const std::uint64_t stored_bytes = zip->size_of(*data_name).value_or(0);
  if (stored_bytes != expected_bytes)
    return fail(
        text("'%s' holds %llu bytes, but SizeX x SizeY x %zu-byte %c points = %llu x "
             "%llu x %zu = %llu bytes",
             data_name->c_str(), static_cast<unsigned long long>(stored_bytes), type_size,
             x3p_type_code(*z_type), static_cast<unsigned long long>(*size_x),
             static_cast<unsigned long long>(*size_y), type_size,
             static_cast<unsigned long long>(expected_bytes)));
  auto data = zip->read(*data_name, expected_bytes);
  if (!data) return fail(data.error());
  if (const pugi::xml_node md5 = xml.at("Record3/DataLink/MD5ChecksumPointData")) {
    const std::string declared = lower(trimmed_text(md5));
    if (declared != md5_hex(*data))
      return fail("the MD5 of '" + *data_name + "' (" + md5_hex(*data) +
                  ") does not match MD5ChecksumPointData in main.xml (" + declared +
                  "): the point data was damaged or edited");
  }

  std::string valid;
  if (const pugi::xml_node link = xml.at("Record3/DataLink/ValidPointsLink")) {
    const auto valid_name = container->entry(trimmed_text(link));
    if (!valid_name)
      return fail("main.xml links the valid points to " + container->missing(trimmed_text(link)));
    const std::string& name = *valid_name;
    const std::uint64_t expected_valid = (points + 7) / 8;
    const std::uint64_t stored_valid = zip->size_of(name).value_or(0);
    if (stored_valid != expected_valid)
      return fail(text("'%s' holds %llu bytes, but one bit per point needs %llu", name.c_str(),
                       static_cast<unsigned long long>(stored_valid),
                       static_cast<unsigned long long>(expected_valid)));
    auto bits = zip->read(name, expected_valid);
    if (!bits) return fail(bits.error());
    if (const pugi::xml_node md5 = xml.at("Record3/DataLink/MD5ChecksumValidPoints");
        md5 && lower(trimmed_text(md5)) != md5_hex(*bits))
      return fail("the MD5 of '" + name +
                  "' does not match MD5ChecksumValidPoints in main.xml: the valid-points "
                  "bitmap was damaged or edited");
    valid = std::move(*bits);
  }

  ScanSurface surface;
  surface.format = "X3P";
  surface.instrument = instrument_of(xml);
  if (!container->folder().empty())
    surface.notes.push_back("main.xml read from the archive's folder '" + container->folder() +
                            "'");
  surface.nx = static_cast<int>(*size_x);
  surface.ny = static_cast<int>(*size_y);
  surface.pitch_x_um = x_axis->increment * 1e6;
  surface.pitch_y_um = y_axis->increment * 1e6;
  surface.x0_um = x_axis->offset * 1e6;
  surface.y0_um = y_axis->offset * 1e6;
  surface.height_um.assign(points, analysis::HeightMap::kNoData);
  const auto* bytes = reinterpret_cast<const unsigned char*>(data->data());
  const auto* valid_bits = reinterpret_cast<const unsigned char*>(valid.data());
  // File order: X fastest. Bench order: row = X, so point (x, y) goes to x * ny + y.
  for (std::uint64_t i = 0; i < points; ++i) {
    if (!valid.empty() && !(valid_bits[i / 8] & (1u << (i % 8)))) continue;
    const double z_m = raw_value(*z_type, bytes + i * type_size) * *z_increment + *z_offset;
    if (!std::isfinite(z_m)) continue;
    const std::uint64_t x = i % *size_x, y = i / *size_x;
    surface.height_um[x * *size_y + y] = static_cast<float>(z_m * 1e6);
  }
  return surface;
}

// ---- writing ------------------------------------------------------------------------

void X3PParts::update_main_checksum() {
  checksum_hex = md5_hex(main_xml) + " *main.xml\n";
}

std::vector<std::pair<std::string, std::string>> X3PParts::entries() const {
  std::vector<std::pair<std::string, std::string>> out{{"main.xml", main_xml},
                                                       {options.data_entry, data_bin}};
  if (!valid_bin.empty()) out.emplace_back(options.valid_entry, valid_bin);
  out.emplace_back(options.checksum_entry, checksum_hex);
  return out;
}

namespace {

double default_increment_m(X3PDataType type) {
  switch (type) {
    case X3PDataType::Int16:
      return 1e-7;
    case X3PDataType::Int32:
      return 1e-9;
    default:
      return 1.0;
  }
}

std::string encode_points(const ScanSurface& s, X3PDataType type, double increment_m,
                          std::vector<bool>& valid) {
  std::string out;
  out.reserve(s.height_um.size() * x3p_type_size(type));
  valid.assign(s.height_um.size(), true);
  for (int y = 0; y < s.ny; ++y) {
    for (int x = 0; x < s.nx; ++x) {
      const double z_m = double(s.at(x, y)) * 1e-6;
      const std::size_t i = static_cast<std::size_t>(y) * s.nx + x;
      valid[i] = std::isfinite(z_m);
      switch (type) {
        case X3PDataType::Float32:
          put_little_endian(out, std::bit_cast<std::uint32_t>(static_cast<float>(z_m)));
          break;
        case X3PDataType::Float64:
          put_little_endian(out, std::bit_cast<std::uint64_t>(z_m));
          break;
        case X3PDataType::Int16: {
          const double raw =
              valid[i] ? std::clamp(std::round(z_m / increment_m), -32768.0, 32767.0) : 0;
          put_little_endian(out, static_cast<std::uint16_t>(static_cast<std::int16_t>(raw)));
          break;
        }
        case X3PDataType::Int32: {
          const double raw =
              valid[i] ? std::clamp(std::round(z_m / increment_m), -2147483648.0, 2147483647.0) : 0;
          put_little_endian(out, static_cast<std::uint32_t>(static_cast<std::int32_t>(raw)));
          break;
        }
      }
    }
  }
  return out;
}

struct StringWriter : pugi::xml_writer {
  std::string out;
  void write(const void* data, size_t size) override {
    out.append(static_cast<const char*>(data), size);
  }
};

void add_text(pugi::xml_node parent, const char* name, const std::string& value) {
  parent.append_child(name).text().set(value.c_str());
}

std::string number_text(double value) {
  return text("%.17g", value);
}

}  // namespace

X3PParts make_x3p_parts(const ScanSurface& s, const X3PWriteOptions& options) {
  X3PParts parts;
  parts.options = options;
  const bool integer = options.z_type == X3PDataType::Int16 || options.z_type == X3PDataType::Int32;
  const double increment_m = integer
                                 ? (options.z_increment_m > 0 ? options.z_increment_m
                                                              : default_increment_m(options.z_type))
                                 : 1.0;
  std::vector<bool> valid;
  parts.data_bin = encode_points(s, options.z_type, increment_m, valid);
  const bool any_invalid = std::find(valid.begin(), valid.end(), false) != valid.end();
  if (options.always_valid_points || (integer && any_invalid)) {
    parts.valid_bin.assign((valid.size() + 7) / 8, '\0');
    for (std::size_t i = 0; i < valid.size(); ++i)
      if (valid[i])
        parts.valid_bin[i / 8] = static_cast<char>(parts.valid_bin[i / 8] | (1 << (i % 8)));
  }

  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("p:ISO5436_2");
  root.append_attribute("xmlns:p") = "http://www.opengps.eu/2008/ISO5436_2";
  pugi::xml_node record1 = root.append_child("Record1");
  add_text(record1, "Revision", "ISO5436 - 2000");
  add_text(record1, "FeatureType", "SUR");
  pugi::xml_node axes = record1.append_child("Axes");
  const auto lateral = [&](const char* name, double pitch_um, double origin_um) {
    pugi::xml_node axis = axes.append_child(name);
    add_text(axis, "AxisType", "I");
    add_text(axis, "DataType", "D");
    add_text(axis, "Increment", number_text(pitch_um * 1e-6));
    add_text(axis, "Offset", number_text(origin_um * 1e-6));
  };
  lateral("CX", s.pitch_x_um, s.x0_um);
  lateral("CY", s.pitch_y_um, s.y0_um);
  pugi::xml_node cz = axes.append_child("CZ");
  add_text(cz, "AxisType", "A");
  add_text(cz, "DataType", std::string(1, x3p_type_code(options.z_type)));
  if (integer) add_text(cz, "Increment", number_text(increment_m));
  add_text(cz, "Offset", "0");
  pugi::xml_node record2 = root.append_child("Record2");
  add_text(record2, "Creator", "dermabench");
  pugi::xml_node instrument = record2.append_child("Instrument");
  add_text(instrument, "Manufacturer", "dermabench");
  add_text(instrument, "Model", s.instrument.empty() ? "export" : s.instrument);
  pugi::xml_node record3 = root.append_child("Record3");
  pugi::xml_node dims = record3.append_child("MatrixDimension");
  add_text(dims, "SizeX", std::to_string(s.nx));
  add_text(dims, "SizeY", std::to_string(s.ny));
  add_text(dims, "SizeZ", "1");
  pugi::xml_node link = record3.append_child("DataLink");
  add_text(link, "PointDataLink", options.data_entry);
  add_text(link, "MD5ChecksumPointData", md5_hex(parts.data_bin));
  if (!parts.valid_bin.empty()) {
    add_text(link, "ValidPointsLink", options.valid_entry);
    add_text(link, "MD5ChecksumValidPoints", md5_hex(parts.valid_bin));
  }
  pugi::xml_node record4 = root.append_child("Record4");
  add_text(record4, "ChecksumFile", options.checksum_entry);

  StringWriter writer;
  doc.save(writer, "  ", pugi::format_default | pugi::format_no_declaration);
  parts.main_xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + writer.out;
  parts.update_main_checksum();
  return parts;
}

std::expected<void, std::string> write_x3p(const std::string& path, const X3PParts& parts) {
  return write_zip(path, parts.entries());
}

std::expected<void, std::string> write_x3p(const std::string& path, const ScanSurface& surface,
                                           const X3PWriteOptions& options) {
  return write_x3p(path, make_x3p_parts(surface, options));
}

}  // namespace derma::scanfile
