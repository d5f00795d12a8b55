// bench-ingest: how fast the host takes in a sample stream, without any link in the way:
// the wire bytes of a 10 kHz roll (SampleBatch frames of 100 samples: the batch rigsim sends
// at 1 kHz; at 10 kHz it sends 409, fewer frames for the same bytes, so 100 is the harder
// case) are fed, in 4 kB reads as RigClient makes them, through what the live path
// does with them:
//   - the capture file: every read appended as a RigToHost record (a real file, with
//     the fdatasync at the end that a step boundary makes);
//   - the frame decoder (COBS, CRC-32C, header checks) and the SampleBatch parser;
//   - the stream counter (loss and duplicate accounting);
//   - RollRecordBuilder, which converts to physical units and keeps the roll's samples;
//   - streaming statistics of force and Z (Welford mean and variance), what a live view
//     or a drift alarm computes per sample.
// The capture's fdatasync at the end (a step boundary) is timed apart: it waits for the
// disk. Also prints the wire efficiency of the sample stream for the batch sizes in use.
//
//   bench-ingest [--samples N] [--repeat N] [--dir DIR]   (capture written to DIR, /tmp)
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "bench/benchmarks/bench_util.hpp"
#include "bench/benchmarks/sample_stream.hpp"
#include "bench/runner/record_builder.hpp"
#include "bench/store/capture.hpp"
#include "drivers/protocol/stream_counter.hpp"

namespace {

using namespace derma;
using namespace derma::benchmarks;

// Welford's running mean and variance: one pass, no stored samples.
struct RunningStats {
  std::uint64_t n = 0;
  double mean = 0, m2 = 0;
  void add(double x) {
    ++n;
    const double d = x - mean;
    mean += d / double(n);
    m2 += d * (x - mean);
  }
};

struct IngestResult {
  double cpu_s = 0, wall_s = 0, sync_s = 0;
  std::uint64_t samples = 0, lost = 0, crc_errors = 0;
};

IngestResult ingest(const proto::Bytes& wire, std::uint32_t wire_samples,
                    const std::string& capture_path) {
  IngestResult result;
  auto capture = store::CaptureWriter::open(capture_path);
  if (!capture) {
    std::fprintf(stderr, "bench-ingest: %s\n", capture.error().c_str());
    std::exit(2);
  }
  suite::RollStep step;  // the roll the stream belongs to: 100 s at 10 kHz for 1 M samples
  step.sample_rate_hz = 10'000;
  step.speed_mm_s = 1.0;
  step.stroke_mm = (wire_samples / 10'000.0 - 1.0) * step.speed_mm_s;
  runner::RollRecordBuilder builder(step, 4096);
  proto::FrameDecoder decoder;
  proto::StreamCounter counter;
  RunningStats force, z;

  const auto wall0 = Clock::now();
  const double cpu0 = thread_cpu_seconds();
  constexpr std::size_t kRead = 4096;  // RigClient's read buffer
  for (std::size_t at = 0; at < wire.size(); at += kRead) {
    const proto::ByteView chunk(wire.data() + at, std::min(kRead, wire.size() - at));
    (*capture)->append(store::RecordKind::RigToHost, chunk);
    decoder.feed(chunk);
    while (auto frame = decoder.next()) {
      auto batch = proto::decode_sample_batch(frame->payload);
      if (!batch || counter.accept(batch->batch_counter) != proto::StreamCounter::Verdict::Deliver)
        continue;
      builder.add(*batch);
      for (const proto::Sample& s : batch->samples) {
        force.add(s.force_uN / 1000.0);
        z.add(s.z_nm / 1000.0);
      }
    }
  }
  const analysis::RollRecord record = builder.finish(counter.gap_lost());
  result.cpu_s = thread_cpu_seconds() - cpu0;
  result.wall_s = seconds_since(wall0);
  // The step boundary's fdatasync waits for the disk, not for the host: timed apart.
  const auto sync0 = Clock::now();
  (*capture)->sync();
  result.sync_s = seconds_since(sync0);
  result.samples = record.samples.size();
  result.lost = counter.gap_lost();
  result.crc_errors = decoder.counters().crc_errors;
  if (force.n != result.samples || !(force.m2 > 0) || !(z.m2 > 0)) result.lost = ~0ull;
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  StreamShape shape;
  int repeat = 5;
  std::string dir = "/tmp";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--samples" && i + 1 < argc) {
      shape.samples = static_cast<std::uint32_t>(std::atol(argv[++i]));
    } else if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: bench-ingest [--samples N] [--repeat N] [--dir DIR]\n");
      return 2;
    }
  }
  const proto::Bytes wire = synthesise_sample_stream(shape);
  const std::string capture_path =
      (std::filesystem::path(dir) / ("bench-ingest-" + std::to_string(::getpid()) + ".drcap"))
          .string();
  std::printf("sample ingest: %u samples in batches of %u, %.1f MB of wire frames, capture in %s\n",
              shape.samples, shape.batch_size, wire.size() / 1e6, dir.c_str());

  std::vector<double> cpu_mb_s, wall_mb_s, sync_ms;
  bool complete = true;
  for (int k = 0; k < repeat + 1; ++k) {
    const IngestResult r = ingest(wire, shape.samples, capture_path);
    complete = complete && r.samples == shape.samples && r.lost == 0 && r.crc_errors == 0;
    if (k == 0) continue;  // warm-up: first touch of the builder's memory, page cache
    cpu_mb_s.push_back(wire.size() / 1e6 / r.cpu_s);
    wall_mb_s.push_back(wire.size() / 1e6 / r.wall_s);
    sync_ms.push_back(r.sync_s * 1e3);
  }
  std::filesystem::remove(capture_path);

  Targets targets;
  targets.require("every sample ingested, none lost", complete);
  Targets::note("ingest, wall (median of " + std::to_string(repeat) + ")", median_of(wall_mb_s),
                "MB/s");
  targets.check("ingest, CPU (median of " + std::to_string(repeat) + ")", median_of(cpu_mb_s),
                "MB/s", Targets::Better::Higher, 150.0);
  Targets::note("  = times a 921,600-baud UART (92,160 B/s)", median_of(cpu_mb_s) * 1e6 / 92160.0,
                "x");
  Targets::note("then fdatasync of the capture (disk-bound, median)", median_of(sync_ms), "ms");

  std::printf("wire efficiency of the sample stream (sample bytes / wire bytes):\n");
  struct Case {
    const char* what;
    std::uint32_t n;
  };
  // rigsim sends 100 ms of samples per batch, at most 409 (Firmware::on_roll); before, 10 ms.
  for (const Case c : {Case{"10 ms batches at 1 kHz (rigsim before: 10 samples)", 10},
                       Case{"rigsim at 1 kHz (100 ms batches: 100 samples)", 100},
                       Case{"PROTOCOL.md example (200 samples)", 200},
                       Case{"rigsim at 4 kHz (UART maximum: 400 samples)", 400},
                       Case{"rigsim at 10 kHz (largest batch: 409 samples)", 409}}) {
    const Efficiency e = batch_efficiency(c.n);
    Targets::note(
        std::string(c.what) + ", payload share " +
            std::to_string(static_cast<int>(e.payload_share * 1000 + 0.5) / 10.0).substr(0, 4) +
            " %",
        100.0 * e.sample_share, "%");
  }
  targets.check("sample stream at 1 kHz as rigsim sends it",
                100.0 * batch_efficiency(100).sample_share, "%", Targets::Better::Higher, 90.0);
  targets.check("sample stream at 10 kHz as rigsim sends it",
                100.0 * batch_efficiency(409).sample_share, "%", Targets::Better::Higher, 90.0);
  return targets.exit_code();
}
