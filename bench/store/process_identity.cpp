#include "bench/store/process_identity.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace derma::store {

namespace {

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown-host";
  return name;
}

// Field 22 of /proc/PID/stat (starttime); nullopt when there is no such process.
std::optional<std::string> start_time_of(const std::string& pid) {
  std::ifstream file("/proc/" + pid + "/stat");
  std::string stat;
  if (!std::getline(file, stat)) return std::nullopt;
  // The command name (field 2) is in parentheses and may hold spaces: count after its end.
  const std::size_t name_end = stat.rfind(')');
  if (name_end == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(name_end + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i)
    if (!(rest >> field)) return std::nullopt;
  return field;
}

}  // namespace

std::string this_process_identity() {
  const std::string pid = std::to_string(::getpid());
  return host_name() + "/" + pid + "/" + start_time_of(pid).value_or("?");
}

bool process_is_gone(const std::string& identity) {
  if (identity.empty()) return true;
  if (identity == this_process_identity()) return true;
  const std::size_t start_sep = identity.rfind('/');
  const std::size_t pid_sep = start_sep == std::string::npos || start_sep == 0
                                  ? std::string::npos
                                  : identity.rfind('/', start_sep - 1);
  if (pid_sep == std::string::npos) return true;  // not written by bench: cannot be alive
  if (identity.substr(0, pid_sep) != host_name()) return false;
  const std::string pid = identity.substr(pid_sep + 1, start_sep - pid_sep - 1);
  if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) return true;
  return start_time_of(pid) != identity.substr(start_sep + 1);
}

}  // namespace derma::store
