// Which reader a scan file needs: by --format, else by the file's extension.
#pragma once

#include <expected>
#include <string>

namespace derma::scanfile {

enum class ScanFormat { X3P, Csv };
const char* to_string(ScanFormat);

// "x3p" or "csv" (any case).
std::expected<ScanFormat, std::string> parse_scan_format(const std::string& name);

// .x3p -> X3P; .csv, .tsv, .txt, .asc, .dat -> CSV; else an error that asks for --format.
std::expected<ScanFormat, std::string> format_from_extension(const std::string& path);

}  // namespace derma::scanfile
