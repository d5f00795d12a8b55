// Writes the seed inputs of tests/fuzz/corpus that are best made by the code's own encoders:
// every message of the protocol (its payload, for the messages target, and its wire frame,
// for frame_decoder, alone and as a stream with garbage between frames) and a small X3P
// container (scan_files). Run: fuzz_seed_corpus tests/fuzz/corpus (docs/fuzzing.md).
// Text seeds (suites, specs, rollers, HTTP requests, ASCII grids) are plain files.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench/scanfile/x3p_file.hpp"
#include "drivers/protocol/frame.hpp"
#include "drivers/protocol/messages.hpp"

namespace fs = std::filesystem;
using namespace derma;
using proto::Bytes;
using proto::MsgType;

namespace {

void write(const fs::path& path, const Bytes& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

struct Seed {
  std::string name;
  MsgType type;
  int decoder;  // index in tests/fuzz/message_codec.hpp's kDecoders
  Bytes payload;
  std::uint8_t version = proto::kProtocolVersion;  // of its frame
};

std::vector<Seed> protocol_seeds() {
  proto::HelloReply hello;
  hello.firmware_version = "rigsim 0.1.0";
  hello.rig_serial = "RIG-0042";
  hello.calibration_date = "2026-03-01";
  hello.calibration_due = "2027-03-01";
  hello.capabilities = proto::kCapLayeredPhantom | proto::kCapTemperature;
  hello.max_force_mN = 50'000;
  hello.max_speed_um_per_s = 100'000;
  hello.travel_x_um = 300'000;
  hello.travel_z_um = 40'000;
  hello.max_sample_rate_hz = 10'000;
  hello.encoder_counts_per_rev = 4096;
  hello.lanes = 8;
  hello.lane_length_um = 200'000;
  hello.lane_width_um = 30'000;
  hello.min_scan_pitch_um = 5;
  hello.phantom_lot = "PF-2026-11-A";
  hello.phantom_layers = 8;
  hello.layer_thickness_um = 130;
  hello.watchdog_timeout_ms = 1000;
  proto::HelloReply mismatch;
  mismatch.result = proto::Result::VersionMismatch;
  mismatch.protocol_version = 2;

  proto::SampleBatch batch;
  batch.batch_counter = 3;
  batch.first_sample_index = 30;
  batch.pass = 1;
  for (int i = 0; i < 10; ++i)
    batch.samples.push_back({9'000'000 + i, -250'000 - i, 10'000'000 + 20 * i, i, 2150, 0});
  proto::ScanRows rows;
  rows.chunk_counter = 1;
  rows.row = 4;
  rows.col0 = 0;
  for (int i = 0; i < 16; ++i) rows.height_nm.push_back(i == 5 ? proto::kNoData : -1000 * i);
  proto::Scan delta_scan{12'000, 0, 2'000, 2'000, 20};
  delta_scan.row_encoding = proto::RowEncoding::Delta;
  proto::OperationDone scan_done{proto::Result::Ok, 7, MsgType::Scan, 4000, 2, 40, 100, 20, 61'000,
                                 {192, 150, 20}};
  proto::OperationDone roll_done{proto::Result::Ok, 6, MsgType::Roll, 8000, 20, 0, 0, 0, 0, {}};

  return {
      {"hello", MsgType::Hello, 0, encode(proto::Hello{1, 1000})},
      {"status", MsgType::Status, 1, encode(proto::StatusRequest{})},
      {"home", MsgType::Home, 2, encode(proto::Home{})},
      {"tare", MsgType::Tare, 3, encode(proto::Tare{})},
      {"select_lane", MsgType::SelectLane, 4, encode(proto::SelectLane{3})},
      {"roll", MsgType::Roll, 5, encode(proto::Roll{10'000, 60'000, 20'000, 9'000, 2, 1000})},
      {"scan", MsgType::Scan, 6, encode(proto::Scan{12'000, 0, 2'000, 2'000, 20})},
      {"scan_delta_rows", MsgType::Scan, 6, encode(delta_scan)},
      {"scan_v1", MsgType::Scan, 16, encode(proto::Scan{12'000, 0, 2'000, 2'000, 20}, 1), 1},
      {"abort", MsgType::Abort, 7, encode(proto::Abort{})},
      {"heartbeat", MsgType::Heartbeat, 8, encode(proto::Heartbeat{})},
      {"hello_reply", proto::reply_type(MsgType::Hello), 9, encode(hello)},
      {"hello_reply_version_mismatch", proto::reply_type(MsgType::Hello), 9, encode(mismatch)},
      {"status_reply", proto::reply_type(MsgType::Status), 10,
       encode(proto::StatusReply{proto::Result::Ok, proto::RigState::Rolling, 1, 3, -1234, 5678,
                                 12'500, proto::FaultCode::None, 987'654})},
      {"ack", proto::reply_type(MsgType::Roll), 11, encode(proto::Ack{proto::Result::Ok})},
      {"ack_busy", proto::reply_type(MsgType::Home), 11, encode(proto::Ack{proto::Result::Busy})},
      {"sample_batch", MsgType::SampleBatch, 12, encode(batch)},
      {"scan_rows", MsgType::ScanRows, 13, encode(rows)},
      {"scan_rows_delta", MsgType::ScanRowsDelta, 17, encode_delta(rows, 1000)},
      {"operation_done_scan", MsgType::OperationDone, 14, encode(scan_done)},
      {"operation_done_roll", MsgType::OperationDone, 14, encode(roll_done)},
      {"fault", MsgType::Fault, 15,
       encode(proto::FaultEvent{proto::FaultCode::ForceOverload, proto::RigState::Rolling, 41'000,
                                52'000})},
  };
}

void write_protocol(const fs::path& corpus) {
  Bytes stream;
  std::uint16_t seq = 1;
  for (const Seed& seed : protocol_seeds()) {
    Bytes message{static_cast<std::uint8_t>(seed.decoder)};
    message.insert(message.end(), seed.payload.begin(), seed.payload.end());
    write(corpus / "messages" / seed.name, message);
    const Bytes frame = proto::encode_frame({seed.version, seed.type, seq++, seed.payload});
    write(corpus / "frame_decoder" / seed.name, frame);
    // A stream as a host reads it: frames, line noise, a frame cut short, a stray delimiter.
    stream.insert(stream.end(), frame.begin(), frame.end());
    if (seq % 4 == 0) stream.insert(stream.end(), {0x13, 0x37, 0xFF, 0x00, 0x00});
    if (seq % 7 == 0) stream.insert(stream.end(), frame.begin(), frame.begin() + frame.size() / 2);
  }
  write(corpus / "frame_decoder" / "stream_with_noise", stream);
}

void write_x3p(const fs::path& corpus) {
  // 24 x 20 points at 25 um with two pits; the first byte of a scan_files input is its
  // options byte, bit 0 set = X3P.
  scanfile::ScanSurface surface;
  surface.nx = 24;
  surface.ny = 20;
  surface.pitch_x_um = surface.pitch_y_um = 25;
  surface.format = "X3P";
  for (int x = 0; x < surface.nx; ++x)
    for (int y = 0; y < surface.ny; ++y) {
      const double d1 = std::hypot(x - 6, y - 6), d2 = std::hypot(x - 17, y - 13);
      surface.height_um.push_back(static_cast<float>(d1 < 3   ? -300 + 60 * d1
                                                     : d2 < 3 ? -250 + 50 * d2
                                                              : 0));
    }
  surface.height_um[5] = std::nanf("");
  const fs::path scratch = fs::temp_directory_path() / "derma-fuzz-seed.x3p";
  for (auto type : {scanfile::X3PDataType::Float32, scanfile::X3PDataType::Int16}) {
    scanfile::X3PWriteOptions options;
    options.z_type = type;
    if (auto written = scanfile::write_x3p(scratch.string(), surface, options); !written) {
      std::fprintf(stderr, "fuzz_seed_corpus: %s\n", written.error().c_str());
      std::exit(1);
    }
    std::ifstream in(scratch, std::ios::binary);
    Bytes bytes{0x01};
    bytes.insert(bytes.end(), std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    write(corpus / "scan_files" /
              (std::string("small_") + scanfile::x3p_type_code(type) + ".x3p.seed"),
          bytes);
  }
  fs::remove(scratch);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seed_corpus CORPUS_DIR\n");
    return 2;
  }
  write_protocol(argv[1]);
  write_x3p(argv[1]);
  return 0;
}
