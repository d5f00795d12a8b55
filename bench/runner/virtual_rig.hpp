// `--rig sim`: starts the rigsim executable privately on a pty of its own and hands back
// the path of its link, which the runner then opens like any serial device.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>

namespace derma::runner {

struct VirtualRigOptions {
  std::string roller_file;
  std::string truth_file;  // rigsim --truth; empty = none
  bool realtime = false;
  std::uint64_t session = 0;          // rigsim --session, when not 0
  std::string faults;                 // rigsim --faults, when not empty
  std::string phantom;                // rigsim --phantom (YAML), when not empty
  std::string scanner;                // rigsim --scanner (YAML), when not empty
  std::optional<std::uint64_t> seed;  // rigsim --seed
  std::string rig_serial;             // rigsim --serial, when not empty
};

struct LaunchError {
  bool bad_input = false;  // rigsim rejected its input, e.g. the roller file (its exit code 2)
  std::string message;
};

class VirtualRig {
 public:
  static std::expected<std::unique_ptr<VirtualRig>, LaunchError> start(const VirtualRigOptions&);
  ~VirtualRig();  // SIGTERM (unless request_stop() sent it), wait, remove the private directory
  // Asks rigsim to stop (SIGTERM) without waiting: it writes its truth file and exits while
  // the caller does something else; the destructor then waits for it.
  void request_stop();
  VirtualRig(const VirtualRig&) = delete;
  VirtualRig& operator=(const VirtualRig&) = delete;

  const std::string& link_path() const { return link_path_; }
  pid_t pid() const { return pid_; }

 private:
  VirtualRig(pid_t pid, std::string dir, std::string link)
      : pid_(pid), dir_(std::move(dir)), link_path_(std::move(link)) {}
  pid_t pid_;
  bool stop_requested_ = false;
  std::string dir_;
  std::string link_path_;
};

// rigsim beside our own executable (build tree or install), else the one on PATH.
std::expected<std::string, std::string> find_rigsim();

}  // namespace derma::runner
