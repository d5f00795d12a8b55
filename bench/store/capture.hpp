// The capture file: every byte of a run's link, in order, with the suite, spec and rig
// identity it ran with, so that any run can be re-analysed and audited from the file alone.
//
// Format (version 1), little-endian:
//   magic   8 bytes  "DRCAP\x00\x01\n"   (the \x01 is the format version)
//   records, each:
//     kind  u8       RecordKind
//     t_ns  u64      nanoseconds since the capture was opened (steady clock)
//     size  u32      bytes of data
//     data  size bytes
// Metadata, Step and End records carry UTF-8 JSON; RigToHost / HostToRig carry raw link
// bytes exactly as read or written (framing errors included, so a replay sees them too).
//
// Durability (the fsync policy; docs/reliability.md): records are written through a FILE
// buffer. The writer flushes and fdatasync()s when the file is created (and fsyncs its
// directory, so the name survives a power cut), after the run's metadata, after every
// step's Step record, after the End record, and at close. So:
//  - a killed process (SIGKILL, crash) loses at most the link bytes of the step under way
//    that were still in the FILE buffer (256 kB); the kernel keeps everything flushed;
//  - a power cut or kernel crash loses at most what was written since the last step
//    boundary; every completed step, with its Step record, is on the disk;
//  - a record cut short by either is a truncated tail that read_capture() reports and
//    skips, so the capture always replays (bench analyze) up to the last completed step.
// No sync per link chunk: the cost would be one disk flush per few kB of samples, and the
// step is the unit a replay judges anyway.
#pragma once

#include <cstdint>
#include <cstdio>
#include <expected>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace derma::store {

inline constexpr char kCaptureMagic[8] = {'D', 'R', 'C', 'A', 'P', 0x00, 0x01, '\n'};
inline constexpr std::uint8_t kCaptureFormatVersion = 1;

enum class RecordKind : std::uint8_t {
  Metadata = 1,   // JSON: suite (name, file, text), spec (model, file, text), roller, host
  RigToHost = 2,  // raw bytes read from the link
  HostToRig = 3,  // raw bytes written to the link
  Step = 4,       // JSON: a step started or ended, with its outcome
  End = 5,        // JSON: the run's verdict and link counters
};

struct CaptureRecord {
  RecordKind kind = RecordKind::Metadata;
  std::uint64_t t_ns = 0;
  std::vector<std::uint8_t> data;
  std::string text() const { return std::string(data.begin(), data.end()); }
};

class CaptureWriter {
 public:
  static std::expected<std::unique_ptr<CaptureWriter>, std::string> open(const std::string& path);
  ~CaptureWriter();
  CaptureWriter(const CaptureWriter&) = delete;
  CaptureWriter& operator=(const CaptureWriter&) = delete;

  // Thread-safe: the link's io thread and the runner both write.
  void append(RecordKind kind, std::span<const std::uint8_t> data);
  void append_text(RecordKind kind, const std::string& text);
  // Flush and fdatasync: everything appended so far survives a crash.
  void sync();
  const std::string& path() const { return path_; }
  // The first write, flush or sync failure, sticky; empty while every byte made it.
  std::string error() const;
  std::uint64_t bytes_written() const;

 private:
  CaptureWriter(std::FILE* file, std::unique_ptr<char[]> buffer, std::string path);
  mutable std::mutex mutex_;
  std::unique_ptr<char[]> buffer_;  // stdio's buffer for file_, freed after fclose
  std::FILE* file_ = nullptr;
  std::string path_;
  std::uint64_t bytes_ = 0;
  std::uint64_t start_ns_ = 0;
  std::string error_;  // first failure (guarded by mutex_)
  void note_failure(const char* what);
};

// Reads every complete record. A truncated tail (crash mid-write) is not an error: the
// records before it are returned and `truncated` is set.
struct CaptureContents {
  std::vector<CaptureRecord> records;
  bool truncated = false;
};
std::expected<CaptureContents, std::string> read_capture(const std::string& path);

}  // namespace derma::store
