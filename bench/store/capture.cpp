#include "bench/store/capture.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace derma::store {

namespace {
std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

template <typename T>
void put_le(std::uint8_t* out, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<std::uint8_t>(value >> (8 * i));
}
template <typename T>
T get_le(const std::uint8_t* in) {
  T value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) value |= static_cast<T>(in[i]) << (8 * i);
  return value;
}
constexpr std::size_t kRecordHeader = 1 + 8 + 4;
constexpr std::size_t kCaptureBuffer = 256 * 1024;
}  // namespace

std::expected<std::unique_ptr<CaptureWriter>, std::string> CaptureWriter::open(
    const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file)
    return std::unexpected("cannot create capture file " + path + ": " + std::strerror(errno));
  // A 256 kB buffer: the link is read 4 kB at a time (a pty's most), and stdio's default
  // buffer of that size made every read one write(2) (docs/performance.md). A killed process
  // still loses only what its buffer held of the step under way. The buffer is ours: given
  // a null one, glibc's setvbuf ignores the size and keeps its own 4 kB.
  auto buffer = std::make_unique_for_overwrite<char[]>(kCaptureBuffer);
  std::setvbuf(file, buffer.get(), _IOFBF, kCaptureBuffer);
  std::unique_ptr<CaptureWriter> writer(new CaptureWriter(file, std::move(buffer), path));
  if (std::fwrite(kCaptureMagic, 1, sizeof kCaptureMagic, file) != sizeof kCaptureMagic)
    return std::unexpected("cannot write capture file " + path + ": " + std::strerror(errno));
  writer->bytes_ = sizeof kCaptureMagic;
  // The new file's name must survive a power cut too, not only its bytes: sync the
  // directory entry once (fdatasync of the file does not cover it).
  writer->sync();
  const std::string dir = std::filesystem::path(path).parent_path().string();
  if (const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  return writer;
}

CaptureWriter::CaptureWriter(std::FILE* file, std::unique_ptr<char[]> buffer, std::string path)
    : buffer_(std::move(buffer)), file_(file), path_(std::move(path)), start_ns_(now_ns()) {}

CaptureWriter::~CaptureWriter() {
  sync();
  std::fclose(file_);
}

void CaptureWriter::append(RecordKind kind, std::span<const std::uint8_t> data) {
  std::uint8_t header[kRecordHeader];
  header[0] = static_cast<std::uint8_t>(kind);
  std::lock_guard lock(mutex_);
  put_le<std::uint64_t>(header + 1, now_ns() - start_ns_);
  put_le<std::uint32_t>(header + 9, static_cast<std::uint32_t>(data.size()));
  if (std::fwrite(header, 1, sizeof header, file_) != sizeof header) note_failure("write");
  // fwrite's buffer must not be null even for zero bytes (an empty span's data() may be).
  if (!data.empty() && std::fwrite(data.data(), 1, data.size(), file_) != data.size())
    note_failure("write");
  bytes_ += sizeof header + data.size();
}

void CaptureWriter::note_failure(const char* what) {
  if (error_.empty())
    error_ = std::string(what) + " of " + path_ + " failed: " + std::strerror(errno);
}

std::string CaptureWriter::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

void CaptureWriter::append_text(RecordKind kind, const std::string& text) {
  append(kind, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void CaptureWriter::sync() {
  std::lock_guard lock(mutex_);
  if (std::fflush(file_) != 0) note_failure("flush");
  if (::fdatasync(fileno(file_)) != 0) note_failure("fdatasync");
}

std::uint64_t CaptureWriter::bytes_written() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

std::expected<CaptureContents, std::string> read_capture(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected("cannot open capture file " + path);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  if (bytes.size() < sizeof kCaptureMagic || std::memcmp(bytes.data(), kCaptureMagic, 6) != 0)
    return std::unexpected(path + ": not a capture file (bad magic)");
  if (bytes[6] != kCaptureFormatVersion)
    return std::unexpected(path + ": capture format version " + std::to_string(bytes[6]) +
                           " is not supported (this build reads version " +
                           std::to_string(kCaptureFormatVersion) + ")");
  CaptureContents contents;
  std::size_t pos = sizeof kCaptureMagic;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < kRecordHeader) {
      contents.truncated = true;
      break;
    }
    CaptureRecord record;
    const std::uint8_t kind = bytes[pos];
    if (kind < 1 || kind > 5)
      return std::unexpected(path + ": unknown record kind " + std::to_string(kind) + " at byte " +
                             std::to_string(pos));
    record.kind = static_cast<RecordKind>(kind);
    record.t_ns = get_le<std::uint64_t>(&bytes[pos + 1]);
    const std::uint32_t size = get_le<std::uint32_t>(&bytes[pos + 9]);
    pos += kRecordHeader;
    if (bytes.size() - pos < size) {
      contents.truncated = true;
      break;
    }
    record.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                       bytes.begin() + static_cast<std::ptrdiff_t>(pos + size));
    pos += size;
    contents.records.push_back(std::move(record));
  }
  return contents;
}

}  // namespace derma::store
