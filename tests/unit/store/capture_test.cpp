#include "bench/store/capture.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace derma::store;

TEST_CASE("a capture file gives back every record in order") {
  const fs::path path =
      fs::temp_directory_path() / ("capture-test-" + std::to_string(::getpid()) + ".drcap");
  {
    auto writer = CaptureWriter::open(path.string());
    REQUIRE(writer.has_value());
    (*writer)->append_text(RecordKind::Metadata, R"({"suite":"x"})");
    const std::uint8_t bytes[] = {0x00, 0x05, 0xff, 0x00};
    (*writer)->append(RecordKind::RigToHost, bytes);
    (*writer)->append(RecordKind::HostToRig, std::span<const std::uint8_t>());
    (*writer)->append_text(RecordKind::End, "{}");
  }
  auto contents = read_capture(path.string());
  REQUIRE(contents.has_value());
  CHECK_FALSE(contents->truncated);
  REQUIRE(contents->records.size() == 4);
  CHECK(contents->records[0].kind == RecordKind::Metadata);
  CHECK(contents->records[0].text() == R"({"suite":"x"})");
  CHECK(contents->records[1].data == std::vector<std::uint8_t>{0x00, 0x05, 0xff, 0x00});
  CHECK(contents->records[2].data.empty());
  CHECK(contents->records[1].t_ns <= contents->records[3].t_ns);

  SECTION("a capture cut short by a crash keeps the records before the cut") {
    fs::resize_file(path, fs::file_size(path) - 1);
    auto cut = read_capture(path.string());
    REQUIRE(cut.has_value());
    CHECK(cut->truncated);
    CHECK(cut->records.size() == 3);
  }
  SECTION("a file that is not a capture is refused, naming it") {
    std::ofstream(path, std::ios::trunc) << "hello world";
    auto bad = read_capture(path.string());
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().find(path.string()) != std::string::npos);
  }
  fs::remove(path);
}

TEST_CASE("link reads are gathered in memory and written to the file in large pieces") {
  // Each 4 kB read of the link used to become one write(2) of the capture: the buffer asked
  // for must really be the one in use (glibc's setvbuf ignores the size without a buffer).
  const fs::path path =
      fs::temp_directory_path() / ("capture-buffer-" + std::to_string(::getpid()) + ".drcap");
  auto writer = CaptureWriter::open(path.string());
  REQUIRE(writer.has_value());
  const std::uintmax_t synced = fs::file_size(path);  // the magic, synced by open()
  const std::vector<std::uint8_t> read(4095, 0x5a);
  for (int i = 0; i < 50; ++i) (*writer)->append(RecordKind::RigToHost, read);  // 205 kB
  CHECK(fs::file_size(path) == synced);
  (*writer)->sync();
  CHECK(fs::file_size(path) == (*writer)->bytes_written());
  writer->reset();
  fs::remove(path);
}
