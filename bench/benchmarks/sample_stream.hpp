// A synthetic roll's sample stream as the rig puts it on the wire: SampleBatch frames of a
// chosen batch size, with sensor values that look like a roll (so COBS sees realistic
// bytes: few zeros in forces and positions, some in flags and temperatures).
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

#include "drivers/protocol/frame.hpp"
#include "drivers/protocol/messages.hpp"

namespace derma::benchmarks {

struct StreamShape {
  std::uint32_t samples = 1'000'000;
  std::uint32_t batch_size = 100;
  double sample_rate_hz = 10'000;
};

inline proto::Bytes synthesise_sample_stream(const StreamShape& shape) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 1.0);
  proto::Bytes wire;
  wire.reserve(static_cast<std::size_t>(shape.samples) * 21 + 1024);
  std::uint32_t counter = 0;
  for (std::uint32_t first = 0; first < shape.samples; first += shape.batch_size) {
    proto::SampleBatch batch;
    batch.batch_counter = counter;
    batch.first_sample_index = first;
    const std::uint32_t n = std::min(shape.batch_size, shape.samples - first);
    for (std::uint32_t i = 0; i < n; ++i) {
      const double t = (first + i) / shape.sample_rate_hz;
      proto::Sample s;
      s.force_uN = static_cast<std::int32_t>(10'200'000 + 50'000 * noise(rng));
      s.z_nm = static_cast<std::int32_t>(10'400'000 + 200 * noise(rng));
      s.x_nm = static_cast<std::int32_t>(10'000'000 + 20'000'000 * t);
      s.encoder_counts = static_cast<std::int32_t>(4096 * 20.0 * t / (M_PI * 20.0));
      s.temperature_cdegC = static_cast<std::int16_t>(3200 + noise(rng));
      batch.samples.push_back(s);
    }
    proto::append_frame(wire, proto::MsgType::SampleBatch, static_cast<std::uint16_t>(counter),
                        proto::encode(batch));
    ++counter;
  }
  return wire;
}

// Wire bytes of one SampleBatch frame of n samples, and the share of them that is sample
// data (what the rig measured), as the protocol frames it.
struct Efficiency {
  std::size_t wire_bytes = 0;
  double sample_share = 0;   // 20 n / wire bytes
  double payload_share = 0;  // (11 + 20 n) / wire bytes: the message, without the framing
};
inline Efficiency batch_efficiency(std::uint32_t n) {
  StreamShape shape;
  shape.samples = n;
  shape.batch_size = n;
  const proto::Bytes wire = synthesise_sample_stream(shape);
  Efficiency e;
  e.wire_bytes = wire.size();
  e.sample_share = double(n * proto::kSampleWireSize) / double(wire.size());
  e.payload_share =
      double(proto::kSampleBatchHeaderSize + n * proto::kSampleWireSize) / double(wire.size());
  return e;
}

}  // namespace derma::benchmarks
