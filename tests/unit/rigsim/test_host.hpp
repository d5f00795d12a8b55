// A scripted host for driving the Firmware directly with bytes, no pty involved.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "drivers/protocol/frame.hpp"
#include "drivers/protocol/messages.hpp"
#include "fixtures/rigsim/firmware.hpp"
#include "fixtures/rigsim/roller_definition.hpp"
#include "fixtures/rigsim/roller_model.hpp"

namespace derma::rigsim::test {

inline RollerDefinition fixture_roller(const std::string& name) {
  auto def = load_roller_file(std::string(DERMA_SOURCE_DIR) + "/fixtures/rollers/" + name);
  REQUIRE(def.has_value());
  return *def;
}

// The same roller on the ideal phantom and scanner (Gaussian pits, every point read), for the
// tests of what the ideal model promises exactly.
inline RollerDefinition ideal_fixture_roller(const std::string& name) {
  RollerDefinition def = fixture_roller(name);
  def.phantom = *phantom_preset("ideal");
  def.scanner = *scanner_preset("ideal");
  return def;
}

// The suite's typical roll and scan.
inline proto::Roll typical_roll() {
  proto::Roll r;
  r.start_x_um = 10'000;
  r.stroke_um = 80'000;
  r.speed_um_per_s = 20'000;
  r.load_mN = 10'000;
  r.passes = 1;
  r.sample_rate_hz = 1000;
  return r;
}
inline proto::Scan typical_scan() {
  proto::Scan s;
  s.x0_um = 12'000;
  s.y0_um = 0;
  s.length_um = 70'000;
  s.width_um = 20'000;
  s.pitch_um = 20;
  return s;
}

class TestHost {
 public:
  explicit TestHost(const RollerDefinition& def, std::uint64_t seed, FirmwareConfig config = {})
      : fw(build_roller_model(def, seed), std::move(config)) {}
  explicit TestHost(const std::string& roller_file)
      : TestHost(fixture_roller(roller_file), fixture_roller(roller_file).seed) {}

  template <typename Msg>
  std::uint16_t send(proto::MsgType type, const Msg& msg) {
    if constexpr (std::is_same_v<Msg, proto::Scan>)
      return send_raw(type, ++seq, proto::encode(msg, version));  // its layout has a version
    else
      return send_raw(type, ++seq, proto::encode(msg));
  }
  std::uint16_t send_raw(proto::MsgType type, std::uint16_t s, const proto::Bytes& payload) {
    proto::Frame f;
    f.version = version;
    f.type = type;
    f.seq = s;
    f.payload = payload;
    fw.receive(proto::encode_frame(f), now_ms);
    pump();
    return s;
  }
  void pump() {
    const proto::Bytes out = fw.take_output();
    wire.insert(wire.end(), out.begin(), out.end());
    decoder.feed(out);
    while (auto f = decoder.next()) frames.push_back(std::move(*f));
  }
  // Runs the current operation to its end.
  void run() {
    while (fw.step(now_ms)) pump();
    pump();
  }
  std::vector<proto::Frame> of(proto::MsgType type) const {
    std::vector<proto::Frame> out;
    for (const auto& f : frames)
      if (f.type == type) out.push_back(f);
    return out;
  }
  proto::Result last_ack(proto::MsgType request) const {
    const auto replies = of(proto::reply_type(request));
    REQUIRE(!replies.empty());
    return proto::decode_ack(replies.back().payload)->result;
  }
  proto::OperationDone last_done() const {
    const auto done = of(proto::MsgType::OperationDone);
    REQUIRE(!done.empty());
    auto d = proto::decode_operation_done(done.back().payload);
    REQUIRE(d.has_value());
    return *d;
  }
  void hello(std::uint16_t watchdog_ms = 0) {
    send(proto::MsgType::Hello, proto::Hello{version, watchdog_ms});
  }
  void home() {
    send(proto::MsgType::Home, proto::Home{});
    run();
  }
  void roll(const proto::Roll& r = typical_roll()) {
    send(proto::MsgType::Roll, r);
    REQUIRE(last_ack(proto::MsgType::Roll) == proto::Result::Ok);
    run();
  }
  void scan(const proto::Scan& s = typical_scan()) {
    send(proto::MsgType::Scan, s);
    REQUIRE(last_ack(proto::MsgType::Scan) == proto::Result::Ok);
    run();
  }

  Firmware fw;
  proto::FrameDecoder decoder;
  std::vector<proto::Frame> frames;
  proto::Bytes wire;
  std::uint16_t seq = 0;
  std::uint64_t now_ms = 1000;
  std::uint8_t version = proto::kProtocolVersion;  // of the frames (and Hello) the host sends
};

}  // namespace derma::rigsim::test
