#include "bench/scanfile/scan_file.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace derma::scanfile {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

const char* to_string(ScanFormat format) {
  return format == ScanFormat::X3P ? "x3p" : "csv";
}

std::expected<ScanFormat, std::string> parse_scan_format(const std::string& name) {
  const std::string n = lower(name);
  if (n == "x3p") return ScanFormat::X3P;
  if (n == "csv") return ScanFormat::Csv;
  return std::unexpected("unknown scan format '" + name + "' (use x3p or csv)");
}

std::expected<ScanFormat, std::string> format_from_extension(const std::string& path) {
  const std::string ext = lower(std::filesystem::path(path).extension().string());
  if (ext == ".x3p") return ScanFormat::X3P;
  for (const char* text_ext : {".csv", ".tsv", ".txt", ".asc", ".dat"})
    if (ext == text_ext) return ScanFormat::Csv;
  return std::unexpected("cannot tell the format of '" + path +
                         "' from its extension: give --format x3p or --format csv");
}

}  // namespace derma::scanfile
