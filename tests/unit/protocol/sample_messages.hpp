// One representative, non-trivial value of every message, shared by the protocol tests.
#pragma once

#include "drivers/protocol/messages.hpp"

namespace derma::proto::testing {

inline HelloReply sample_hello_reply() {
  HelloReply m;
  m.result = Result::Ok;
  m.protocol_version = 1;
  m.firmware_version = "rigsim 0.1.0";
  m.rig_serial = "RIG-0042";
  m.load_cell_factor_ppm = 1'002'345;
  m.calibration_date = "2024-03-01";
  m.calibration_due = "2025-03-01";
  m.capabilities = kCapLayeredPhantom | kCapTemperature;
  m.max_force_mN = 50'000;
  m.max_speed_um_per_s = 100'000;
  m.travel_x_um = 300'000;
  m.travel_z_um = 40'000;
  m.max_sample_rate_hz = 10'000;
  m.encoder_counts_per_rev = 4096;
  m.lanes = 6;
  m.lane_length_um = 200'000;
  m.lane_width_um = 30'000;
  m.min_scan_pitch_um = 5;
  m.phantom_lot = "PF-2024-117";
  m.phantom_layers = 8;
  m.layer_thickness_um = 130;
  m.watchdog_timeout_ms = 1000;
  return m;
}

inline StatusReply sample_status_reply() {
  return StatusReply{Result::Ok, RigState::Rolling, 1,      3, -1234, 5678,
                     12'500,     FaultCode::None,   987'654};
}

inline Roll sample_roll() {
  return Roll{10'000, 60'000, 20'000, 9'000, 3, 5'000};
}
inline Scan sample_scan() {
  return Scan{10'000, 0, 60'000, 20'000, 10};
}

inline SampleBatch sample_batch(std::size_t count = 37) {
  SampleBatch m;
  m.batch_counter = 17;
  m.first_sample_index = 17 * 37;
  m.pass = 2;
  for (std::size_t i = 0; i < count; ++i) {
    const auto k = static_cast<std::int32_t>(i);
    m.samples.push_back(Sample{9'000'000 + k, -250'000 - k, 10'000'000 + 20 * k, -5 + k,
                               static_cast<std::int16_t>(2150 - k),
                               static_cast<std::uint16_t>(i == 0 ? kSamplePassReversal : 0)});
  }
  return m;
}

inline ScanRows sample_scan_rows(std::size_t count = 123) {
  ScanRows m;
  m.chunk_counter = 5;
  m.row = 2;
  m.col0 = 2040;
  for (std::size_t i = 0; i < count; ++i) {
    m.height_nm.push_back(i % 17 == 0 ? kNoData : -static_cast<std::int32_t>(i * 1000));
  }
  return m;
}

inline OperationDone sample_scan_done() {
  return OperationDone{Result::Ok,    0xBEEF,
                       MsgType::Scan, 12'000'000,
                       6000,          6000,
                       2000,          10,
                       61'000,        {192, 190, 170, 120, 40, 3, 0, 0}};
}

inline FaultEvent sample_fault() {
  return FaultEvent{FaultCode::ForceOverload, RigState::Rolling, 45'000, 51'234};
}

}  // namespace derma::proto::testing
