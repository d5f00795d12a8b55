// Replay of captures that are damaged or were not written by the bench (found by fuzzing,
// tests/fuzz/capture_file.cpp): each is refused, or replayed, without reading out of bounds.
#include "bench/runner/replay.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "bench/store/capture.hpp"

using namespace derma;

namespace {

std::string capture_with(const std::string& name, const std::string& metadata,
                         const std::string& end = "") {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("replay-test-" + name + ".drcap")).string();
  auto writer = store::CaptureWriter::open(path);
  REQUIRE(writer);
  (*writer)->append_text(store::RecordKind::Metadata, metadata);
  if (!end.empty()) (*writer)->append_text(store::RecordKind::End, end);
  return path;
}

}  // namespace

TEST_CASE("a capture whose metadata names no suite, spec, roller or rig is refused as bad input") {
  const std::string path =
      capture_with("no-members", R"({"format": "dermabench-capture", "host": "h"})");
  const auto replayed = runner::replay_capture({path, std::nullopt});
  REQUIRE_FALSE(replayed);
  CHECK(replayed.error().bad_input);
  CHECK(replayed.error().message.find("embedded suite") != std::string::npos);
  std::filesystem::remove(path);
}

TEST_CASE("an End record without error or link counters replays without reading them") {
  const auto contents = store::read_capture(std::string(DERMA_SOURCE_DIR) +
                                            "/fixtures/captures/small-DR-192-0.50-v1.drcap");
  REQUIRE(contents);
  // The sample's records again, its End record replaced by one with only a verdict.
  const std::string path = std::filesystem::temp_directory_path() / "replay-test-bare-end.drcap";
  {
    auto writer = store::CaptureWriter::open(path);
    REQUIRE(writer);
    for (const store::CaptureRecord& record : contents->records)
      if (record.kind == store::RecordKind::End)
        (*writer)->append_text(store::RecordKind::End, R"({"verdict": "fail"})");
      else
        (*writer)->append(record.kind, record.data);
  }
  const auto replayed = runner::replay_capture({path, std::nullopt});
  REQUIRE(replayed);
  CHECK(replayed->link_counters.empty());
  std::filesystem::remove(path);
}
