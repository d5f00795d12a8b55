// Fuzz target: a capture file (bench/store/capture.hpp) re-analysed as `bench analyze` does
// (bench/runner/replay.hpp): the record reader, then the metadata JSON, the embedded suite
// and spec, the link bytes decoded again into rolls and scans, and every check.
// Properties: no crash, no exception, and a refusal says what is wrong.
#include <string>

#include "bench/runner/replay.hpp"
#include "bench/store/capture.hpp"
#include "tests/fuzz/fuzz_target.hpp"
#include "tests/fuzz/temp_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static derma::fuzz::ScratchFile scratch(".drcap");
  const std::string& path = scratch.write(data, size);

  const auto contents = derma::store::read_capture(path);
  if (!contents) {
    FUZZ_CHECK(contents.error().find(path) != std::string::npos,
               "a capture read error does not name the file");
    return 0;
  }
  std::size_t record_bytes = 8;  // the magic
  for (const auto& record : contents->records) record_bytes += 13 + record.data.size();
  FUZZ_CHECK(record_bytes <= size, "the records read are longer than the file");
  FUZZ_CHECK(contents->truncated == (record_bytes < size),
             "a capture with bytes after its last record is not marked truncated");

  derma::runner::ReplayOptions options;
  options.capture_file = path;
  const auto report = derma::runner::replay_capture(options);
  if (!report) FUZZ_CHECK(!report.error().message.empty(), "a replay error without a message");
  return 0;
}
