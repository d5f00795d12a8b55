#include "bench/report/report_files.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "bench/report/html_report.hpp"
#include "bench/report/json_report.hpp"
#include "bench/report/junit_report.hpp"

namespace derma::report {

namespace {

std::expected<void, std::string> write_atomically(const std::filesystem::path& path,
                                                  const std::string& text) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return std::unexpected("cannot write " + tmp.string() + ": " + std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec)
    return std::unexpected("cannot rename " + tmp.string() + " to " + path.string() + ": " +
                           ec.message());
  return {};
}

}  // namespace

std::expected<void, std::string> write_report_files(const RunReport& report,
                                                    const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return std::unexpected("cannot create " + dir + ": " + ec.message());
  const std::filesystem::path base(dir);
  if (auto r = write_atomically(
          base / "report.json",
          to_json(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
      !r)
    return r;
  if (auto r = write_atomically(base / "report.html", to_html(report)); !r) return r;
  return write_atomically(base / "junit.xml", to_junit_xml(report));
}

}  // namespace derma::report
