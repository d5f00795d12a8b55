// For readers that take a path (capture files, X3P containers): the fuzz input is written to
// one scratch file per process (on tmpfs when there is one), removed when the process ends.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace derma::fuzz {

class ScratchFile {
 public:
  explicit ScratchFile(const std::string& suffix) {
    namespace fs = std::filesystem;
    const fs::path base =
        fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    path_ = (base / ("derma-fuzz-" + std::to_string(::getpid()) + suffix)).string();
  }
  ~ScratchFile() { std::remove(path_.c_str()); }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  // Replaces the file's content with `size` bytes; returns its path.
  const std::string& write(const std::uint8_t* data, std::size_t size) {
    std::FILE* file = std::fopen(path_.c_str(), "wb");
    if (!file || (size > 0 && std::fwrite(data, 1, size, file) != size) || std::fclose(file) != 0) {
      std::fprintf(stderr, "fuzz: cannot write %s\n", path_.c_str());
      std::exit(2);
    }
    return path_;
  }

 private:
  std::string path_;
};

}  // namespace derma::fuzz
