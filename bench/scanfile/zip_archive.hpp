// The zip container of an X3P file, through libzip: read named entries whole, and write
// a new archive from named byte strings.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

struct zip;

namespace derma::scanfile {

class ZipReader {
 public:
  // Errors read as "not a zip archive", "no such file", ...: the caller adds the file name.
  static std::expected<ZipReader, std::string> open(const std::string& path);

  bool contains(const std::string& name) const;
  // Every entry's name as the archive stores it (folders end in '/'), in archive order.
  std::vector<std::string> names() const;
  // Uncompressed size as the archive declares it; nullopt when the entry does not exist.
  std::optional<std::uint64_t> size_of(const std::string& name) const;
  // The whole entry; an error when it is missing, larger than max_bytes, or damaged (CRC).
  std::expected<std::string, std::string> read(const std::string& name,
                                               std::uint64_t max_bytes) const;

 private:
  struct Closer {
    void operator()(zip* archive) const;
  };
  explicit ZipReader(zip* archive) : archive_(archive) {}
  std::unique_ptr<zip, Closer> archive_;
};

// Writes a new archive (deflated entries) at path, replacing any file there.
std::expected<void, std::string> write_zip(
    const std::string& path, const std::vector<std::pair<std::string, std::string>>& entries);

}  // namespace derma::scanfile
