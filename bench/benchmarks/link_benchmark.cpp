// bench-link: the host against the virtual rig over a real pty, end to end through the
// live path (SerialTransport, RigClient's io thread, the capture tap, RollRecordBuilder):
//  1. stress: rigsim --stream-stress (not real time, the motion without the physics, whose
//     2-3 us per sample would otherwise be what is measured) streams a long 10 kHz roll
//     as fast as the pty takes it; the host must keep up at >= 75 MB/s of wire bytes
//     with no lost batch;
//  2. UART rate: rigsim --realtime streams a 4 kHz roll (80 kB/s of samples, about the
//     most a 921,600-baud UART carries), and the host's CPU use over the roll is measured.
// Both processes share the machine's cores; the host's CPU share is from getrusage (all
// of its threads), rigsim's from its own accounting after it exits.
//
//   bench-link [--roller FILE] [--samples N] [--dir DIR]
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/benchmarks/bench_util.hpp"
#include "bench/runner/record_builder.hpp"
#include "bench/runner/virtual_rig.hpp"
#include "bench/store/capture.hpp"
#include "drivers/rig/rig_client.hpp"
#include "drivers/transport/rig_address.hpp"

namespace {

using namespace derma;
using namespace derma::benchmarks;

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

struct RollFigures {
  bool ok = false;
  std::string error;
  double wall_s = 0, host_cpu_s = 0, rig_cpu_s = 0;
  std::uint64_t wire_bytes = 0, samples = 0, lost = 0;
};

// rigsim, started here (not through runner::VirtualRig) for the --stream-stress flag, on
// a pty linked from a private directory; stopped with SIGTERM, its CPU time collected.
class Rigsim {
 public:
  Rigsim(const std::string& roller, bool realtime, bool stress) {
    char dir_template[] = "/tmp/bench-link-XXXXXX";
    if (!::mkdtemp(dir_template)) return;
    dir_ = dir_template;
    link_ = dir_ + "/rig";
    auto rigsim = runner::find_rigsim();
    if (!rigsim) return;
    std::vector<std::string> args{*rigsim, "--roller",    roller, "--link",
                                  link_,   "--log-level", "warn"};
    if (realtime) args.push_back("--realtime");
    if (stress) args.push_back("--stream-stress");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    for (int i = 0; i < 500 && !std::filesystem::exists(link_); ++i) ::usleep(10'000);
  }
  ~Rigsim() {
    stop();
    std::filesystem::remove_all(dir_);
  }
  // Stops rigsim; returns the CPU time it used.
  double stop() {
    if (pid_ <= 0) return 0;
    ::kill(pid_, SIGTERM);
    int status = 0;
    rusage u{};
    ::wait4(pid_, &status, 0, &u);
    pid_ = -1;
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
  }
  bool ready() const { return pid_ > 0 && std::filesystem::exists(link_); }
  const std::string& link() const { return link_; }

 private:
  pid_t pid_ = -1;
  std::string dir_, link_;
};

RollFigures roll_over_pty(const std::string& roller, bool realtime, bool stress,
                          const suite::RollStep& step, const std::string& capture_path) {
  RollFigures out;
  Rigsim rig(roller, realtime, stress);
  if (!rig.ready()) {
    out.error = "rigsim did not start";
    return out;
  }
  auto link = transport::open_transport(transport::DeviceAddress{rig.link()});
  if (!link) {
    out.error = "open: " + link.error().message;
    return out;
  }
  auto capture = store::CaptureWriter::open(capture_path);
  if (!capture) {
    out.error = capture.error();
    return out;
  }
  auto client = std::make_unique<rig::RigClient>(std::move(*link), rig::RigOptions{});
  client->set_wire_tap([&](rig::Direction d, proto::ByteView bytes) {
    (*capture)->append(d == rig::Direction::RigToHost ? store::RecordKind::RigToHost
                                                      : store::RecordKind::HostToRig,
                       bytes);
  });
  const auto fail = [&](const char* what, const rig::RigError& e) {
    out.error = std::string(what) + ": " + e.message;
    return out;
  };
  if (auto r = client->handshake(); !r) return fail("handshake", r.error());
  if (auto r = client->home(); !r) return fail("home", r.error());
  if (auto r = client->tare(); !r) return fail("tare", r.error());
  if (auto r = client->select_lane(0); !r) return fail("lane", r.error());

  runner::RollRecordBuilder builder(step, 4096);
  const std::uint64_t bytes0 = client->link_counters().bytes_in;
  const double cpu0 = process_cpu_seconds();
  const auto wall0 = Clock::now();
  auto outcome = client->roll(runner::to_request(step),
                              [&](const proto::SampleBatch& batch) { builder.add(batch); });
  out.wall_s = seconds_since(wall0);
  out.host_cpu_s = process_cpu_seconds() - cpu0;
  if (!outcome) return fail("roll", outcome.error());
  (*capture)->sync();
  out.wire_bytes = client->link_counters().bytes_in - bytes0;
  out.samples = builder.finish(outcome->frames_lost).samples.size();
  out.lost = outcome->frames_lost;
  out.ok = out.samples == outcome->done.items_sent;
  if (!out.ok) out.error = "samples received differ from the rig's count";
  client.reset();              // close the link first: rigsim's exit is then no surprise
  out.rig_cpu_s = rig.stop();  // includes its start-up and the handshake: a small excess
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string roller, dir = "/tmp";
  long samples = 2'000'000;
  int takes = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--roller" && i + 1 < argc) {
      roller = argv[++i];
    } else if (arg == "--samples" && i + 1 < argc) {
      samples = std::atol(argv[++i]);
    } else if (arg == "--takes" && i + 1 < argc) {
      takes = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: bench-link --roller FILE [--samples N] [--takes N] [--dir DIR]\n");
      return 2;
    }
  }
  if (roller.empty()) {
    std::fprintf(stderr, "bench-link: --roller FILE is required (e.g. fixtures/rollers/...)\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);  // the rig client's connect lines are not figures
  const std::string capture_path =
      (std::filesystem::path(dir) / ("bench-link-" + std::to_string(::getpid()) + ".drcap"))
          .string();
  Targets targets;

  // 1. Stress: a slow stroke at 10 kHz, so the roll is all samples; rigsim not paced.
  suite::RollStep stress;
  stress.sample_rate_hz = 10'000;
  stress.start_mm = 5;
  stress.speed_mm_s = 100.0 / (double(samples) / stress.sample_rate_hz);
  stress.stroke_mm = 100;
  stress.load_N = 10;
  // Several takes, judged on the median: two processes handing 4 kB to each other through the
  // kernel vary by 10-20 % from one take to the next on a shared virtual machine.
  std::vector<RollFigures> runs;
  for (int take = 0; take < takes; ++take)
    runs.push_back(roll_over_pty(roller, false, true, stress, capture_path));
  std::printf(
      "end to end over a pty, rigsim streaming a 10 kHz roll as fast as it can (%d takes):\n",
      takes);
  std::vector<double> mb_s, host_cpu, rig_cpu;
  std::uint64_t lost = 0;
  const auto failed = std::find_if(runs.begin(), runs.end(), [](const auto& s) { return !s.ok; });
  targets.require("every take's roll completed", failed == runs.end(),
                  failed == runs.end() ? "" : failed->error);
  for (const RollFigures& s : runs) {
    if (!s.ok || s.wall_s <= 0) continue;  // judged FAIL above; no figures from it
    lost += s.lost;
    mb_s.push_back(s.wire_bytes / 1e6 / s.wall_s);
    host_cpu.push_back(100.0 * s.host_cpu_s / s.wall_s);
    rig_cpu.push_back(100.0 * s.rig_cpu_s / s.wall_s);
  }
  Targets::note("wire bytes from the rig, each take", runs.front().wire_bytes / 1e6, "MB");
  Targets::note("samples, each take", double(runs.front().samples), "");
  targets.check("lost batches, all takes", double(lost), "", Targets::Better::Lower, 0);
  Targets::note("host throughput (wall), slowest take", min_of(mb_s), "MB/s");
  Targets::note("host throughput (wall), fastest take", max_of(mb_s), "MB/s");
  targets.check("host throughput (wall), median", median_of(mb_s), "MB/s", Targets::Better::Higher,
                75.0);
  Targets::note("host CPU while streaming (all threads), median", median_of(host_cpu), "%");
  Targets::note("rigsim CPU while streaming, median", median_of(rig_cpu), "%");

  // 2. UART rate: rigsim --realtime, 4 kHz for 4 s of rolling.
  suite::RollStep uart;
  uart.sample_rate_hz = 4000;
  const RollFigures u = roll_over_pty(roller, true, false, uart, capture_path);
  std::filesystem::remove(capture_path);
  std::printf("end to end over a pty at a UART's rate (rigsim --realtime, 4 kHz samples):\n");
  targets.require("roll completed", u.ok, u.error);
  Targets::note("stream rate (wire bytes / roll time)", u.wire_bytes / 1e3 / u.wall_s, "kB/s");
  Targets::note("  share of a 921,600-baud UART", 100.0 * u.wire_bytes / u.wall_s / 92160.0, "%");
  targets.check("lost batches", double(u.lost), "", Targets::Better::Lower, 0);
  targets.check("host CPU at the UART's rate (all threads)", 100.0 * u.host_cpu_s / u.wall_s, "%",
                Targets::Better::Lower, 5.0);
  return targets.exit_code();
}
