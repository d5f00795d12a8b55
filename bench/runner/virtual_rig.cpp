#include "bench/runner/virtual_rig.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace derma::runner {

namespace fs = std::filesystem;

std::expected<std::string, std::string> find_rigsim() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path beside = self.parent_path() / "rigsim";
    if (::access(beside.c_str(), X_OK) == 0) return beside.string();
  }
  if (const char* path = std::getenv("PATH")) {
    std::stringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      const fs::path candidate = fs::path(dir.empty() ? "." : dir) / "rigsim";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
  }
  return std::unexpected(std::string("cannot find the rigsim executable beside bench or on PATH"));
}

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// posix_spawn, not fork + exec: in the daemon other threads allocate all the time, and a
// forked child that allocated before exec (building argv) could wait for ever on a lock
// another thread held at the fork: rigsim then never started (seen in a CI run under ASan,
// "did not create its link within 15 s"). posix_spawn does nothing in the child but
// redirect stderr (to the log file, so the parent can quote rigsim's own message) and exec.
pid_t spawn(const std::string& exe, const std::vector<std::string>& args, const fs::path& log,
            int& error) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(exe.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  error = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return error == 0 ? pid : -1;
}

}  // namespace

std::expected<std::unique_ptr<VirtualRig>, LaunchError> VirtualRig::start(
    const VirtualRigOptions& options) {
  auto exe = find_rigsim();
  if (!exe) return std::unexpected(LaunchError{false, exe.error()});
  char dir_template[] = "/tmp/dermabench-rig-XXXXXX";
  if (!::mkdtemp(dir_template))
    return std::unexpected(LaunchError{
        false, std::string("cannot create a directory for rigsim: ") + std::strerror(errno)});
  const fs::path dir = dir_template;
  const fs::path link = dir / "rig";
  const fs::path log = dir / "rigsim.log";

  std::vector<std::string> args = {"--roller", options.roller_file, "--link", link.string()};
  if (!options.truth_file.empty()) args.insert(args.end(), {"--truth", options.truth_file});
  if (options.realtime) args.push_back("--realtime");
  if (options.session != 0) args.insert(args.end(), {"--session", std::to_string(options.session)});
  if (!options.faults.empty()) args.insert(args.end(), {"--faults", options.faults});
  if (!options.phantom.empty()) args.insert(args.end(), {"--phantom", options.phantom});
  if (!options.scanner.empty()) args.insert(args.end(), {"--scanner", options.scanner});
  if (options.seed) args.insert(args.end(), {"--seed", std::to_string(*options.seed)});
  if (!options.rig_serial.empty()) args.insert(args.end(), {"--serial", options.rig_serial});
  int error = 0;
  const pid_t pid = spawn(*exe, args, log, error);
  if (pid < 0) {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    return std::unexpected(
        LaunchError{false, "cannot start rigsim " + *exe + ": " + std::strerror(error)});
  }
  std::unique_ptr<VirtualRig> rig(new VirtualRig(pid, dir.string(), link.string()));

  // Wait for the link to appear; a rigsim that exits instead tells us why on stderr.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    if (fs::is_symlink(link, ec)) return rig;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      rig->pid_ = -1;
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      std::string message = read_file(log);
      if (message.empty())
        message = "rigsim exited with code " + std::to_string(code) + " before serving";
      return std::unexpected(LaunchError{code == 2, message});
    }
    // 1 ms: rigsim is usually up within a few, and every ms here is a ms of every run.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return std::unexpected(
      LaunchError{false, "rigsim did not create its link " + link.string() + " within 15 s"});
}

void VirtualRig::request_stop() {
  if (pid_ > 0 && !stop_requested_) ::kill(pid_, SIGTERM);
  stop_requested_ = true;
}

VirtualRig::~VirtualRig() {
  if (pid_ > 0) {
    request_stop();
    int status = 0;
    // Give it up to 2 s to write its truth file and remove its link (it takes a few ms:
    // looked at every ms), then make sure it is gone.
    for (int i = 0; i < 2000 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (::waitpid(pid_, &status, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

}  // namespace derma::runner
