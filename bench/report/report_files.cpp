#include "bench/report/report_files.hpp"

#include <fcntl.h>
#include <unistd.h>

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
  return write_file_atomically(path.string(), text);
}

// fsync of a file or directory by path; false when it cannot be opened or synced.
bool sync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return false;
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  return synced;
}

}  // namespace

std::expected<void, std::string> write_file_atomically(const std::string& path_text,
                                                       const std::string& text, bool durable) {
  return write_file_atomically(
      path_text, [&](std::ostream& out) { out << text; }, durable);
}

std::expected<void, std::string> write_file_atomically(
    const std::string& path_text, const std::function<void(std::ostream&)>& write, bool durable) {
  const std::filesystem::path path(path_text);
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    write(out);
    out.flush();
    if (!out) return std::unexpected("cannot write " + tmp.string() + ": " + std::strerror(errno));
  }
  if (durable && !sync_path(tmp.string(), O_RDONLY))
    return std::unexpected("cannot sync " + tmp.string() + ": " + std::strerror(errno));
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec)
    return std::unexpected("cannot rename " + tmp.string() + " to " + path.string() + ": " +
                           ec.message());
  const std::string dir = path.has_parent_path() ? path.parent_path().string() : ".";
  if (durable && !sync_path(dir, O_RDONLY | O_DIRECTORY))
    return std::unexpected("cannot sync directory " + dir + ": " + std::strerror(errno));
  return {};
}

std::expected<void, std::string> write_report_files(const RunReport& report,
                                                    const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return std::unexpected("cannot create " + dir + ": " + ec.message());
  const std::filesystem::path base(dir);
  // Streamed roll by roll: a long run's report as one JSON tree would be its peak of memory.
  if (auto r = write_file_atomically((base / "report.json").string(),
                                     [&](std::ostream& out) {
                                       write_json(out, report);
                                       out << '\n';
                                     });
      !r)
    return r;
  if (auto r = write_file_atomically((base / "report.html").string(),
                                     [&](std::ostream& out) { write_html(out, report); });
      !r)
    return r;
  return write_atomically(base / "junit.xml", to_junit_xml(report));
}

}  // namespace derma::report
