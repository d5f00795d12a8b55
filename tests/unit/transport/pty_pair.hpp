// A real pseudo-terminal pair for tests: the host side opens `path()` like any serial device,
// the test plays the rig on the master fd. Also used by tests/unit/rig.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace derma::testing {

class PtyPair {
 public:
  PtyPair() {
    char name[256] = {};
    if (::openpty(&master_, &slave_, name, nullptr, nullptr) != 0) {
      throw std::runtime_error("openpty failed");
    }
    path_ = name;
    // Raw line, or the pty echoes the host's bytes back to it and mangles CR/LF.
    termios tio{};
    ::tcgetattr(slave_, &tio);
    ::cfmakeraw(&tio);
    ::tcsetattr(slave_, TCSANOW, &tio);
  }
  ~PtyPair() { close_peer(); }
  PtyPair(const PtyPair&) = delete;
  PtyPair& operator=(const PtyPair&) = delete;

  const std::string& path() const { return path_; }
  int master_fd() const { return master_; }

  // Both fds of the rig side: the host's next read sees the line hang up.
  void close_peer() {
    if (master_ >= 0) ::close(master_);
    if (slave_ >= 0) ::close(slave_);
    master_ = slave_ = -1;
  }

  void write_all(const std::vector<std::uint8_t>& bytes) const {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(master_, bytes.data() + done, bytes.size() - done);
      if (n < 0) throw std::runtime_error("write to pty master failed");
      done += static_cast<std::size_t>(n);
    }
  }

  // Whatever arrives within `timeout` (empty if nothing); returns as soon as some bytes came.
  std::vector<std::uint8_t> read_some(std::chrono::milliseconds timeout) const {
    pollfd pfd{master_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return {};
    std::vector<std::uint8_t> buffer(4096);
    const ssize_t n = ::read(master_, buffer.data(), buffer.size());
    buffer.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return buffer;
  }

 private:
  int master_ = -1;
  int slave_ = -1;  // kept open so the master does not read EIO when the host closes
  std::string path_;
};

}  // namespace derma::testing
