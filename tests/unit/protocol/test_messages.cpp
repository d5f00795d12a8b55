#include <catch2/catch.hpp>
#include <functional>
#include <stdexcept>
#include <string>

#include "drivers/protocol/messages.hpp"
#include "sample_messages.hpp"

using namespace derma::proto;
using namespace derma::proto::testing;

namespace {

template <typename T>
void require_decode_error(const Decoded<T>& decoded, const std::string& names_message,
                          const std::string& mentions = "") {
  REQUIRE_FALSE(decoded.has_value());
  INFO("error: " << decoded.error().what);
  CHECK(decoded.error().what.rfind(names_message + ":", 0) == 0);
  if (!mentions.empty()) CHECK(decoded.error().what.find(mentions) != std::string::npos);
}

// Every strict prefix and a one-byte extension of a valid payload must be refused.
template <typename T>
void require_exact_length(const Bytes& valid, Decoded<T> (*decode)(ByteView),
                          const std::string& message) {
  REQUIRE(decode(valid).has_value());
  for (std::size_t n = 0; n < valid.size(); ++n) {
    INFO(message << " truncated to " << n << " bytes");
    require_decode_error(decode(ByteView(valid.data(), n)), message);
  }
  Bytes longer = valid;
  longer.push_back(0x00);
  INFO(message << " with one extra byte");
  require_decode_error(decode(longer), message);
}

}  // namespace

TEST_CASE("every message survives an encode/decode round trip") {
  SECTION("Hello") {
    const Hello m{1, 750};
    CHECK(decode_hello(encode(m)).value() == m);
  }
  SECTION("SelectLane") {
    CHECK(decode_select_lane(encode(SelectLane{5})).value() == SelectLane{5});
  }
  SECTION("Roll") {
    CHECK(decode_roll(encode(sample_roll())).value() == sample_roll());
  }
  SECTION("Scan") {
    CHECK(decode_scan(encode(sample_scan())).value() == sample_scan());
  }
  SECTION("requests without payload") {
    CHECK(encode(StatusRequest{}).empty());
    CHECK(encode(Home{}).empty());
    CHECK(encode(Tare{}).empty());
    CHECK(encode(Abort{}).empty());
    CHECK(encode(Heartbeat{}).empty());
    CHECK(decode_status_request(Bytes{}).has_value());
    CHECK(decode_home(Bytes{}).has_value());
    CHECK(decode_tare(Bytes{}).has_value());
    CHECK(decode_abort(Bytes{}).has_value());
    CHECK(decode_heartbeat(Bytes{}).has_value());
  }
  SECTION("HelloReply") {
    CHECK(decode_hello_reply(encode(sample_hello_reply())).value() == sample_hello_reply());
  }
  SECTION("StatusReply") {
    CHECK(decode_status_reply(encode(sample_status_reply())).value() == sample_status_reply());
  }
  SECTION("Ack with every result") {
    for (int r = 0; r <= 9; ++r) {
      const Ack m{static_cast<Result>(r)};
      CHECK(decode_ack(encode(m)).value() == m);
    }
  }
  SECTION("SampleBatch, including the largest") {
    CHECK(decode_sample_batch(encode(sample_batch())).value() == sample_batch());
    CHECK(decode_sample_batch(encode(sample_batch(kMaxSamplesPerBatch))).value() ==
          sample_batch(kMaxSamplesPerBatch));
  }
  SECTION("ScanRows, including the largest and kNoData pixels") {
    CHECK(decode_scan_rows(encode(sample_scan_rows())).value() == sample_scan_rows());
    CHECK(decode_scan_rows(encode(sample_scan_rows(kMaxPixelsPerChunk))).value() ==
          sample_scan_rows(kMaxPixelsPerChunk));
  }
  SECTION("OperationDone with and without layers") {
    CHECK(decode_operation_done(encode(sample_scan_done())).value() == sample_scan_done());
    const OperationDone roll_done{Result::Aborted, 7, MsgType::Roll, 4000, 10, 0, 0, 0, 0, {}};
    CHECK(decode_operation_done(encode(roll_done)).value() == roll_done);
  }
  SECTION("Fault") {
    CHECK(decode_fault(encode(sample_fault())).value() == sample_fault());
  }
}

TEST_CASE("payloads have the exact sizes of the spec") {
  CHECK(encode(Hello{}).size() == 3);
  CHECK(encode(SelectLane{}).size() == 1);
  CHECK(encode(sample_roll()).size() == 19);
  CHECK(encode(sample_scan()).size() == 18);
  CHECK(encode(sample_status_reply()).size() == 22);
  CHECK(encode(Ack{}).size() == 1);
  CHECK(encode(sample_fault()).size() == 11);
  CHECK(encode(sample_batch(3)).size() == 11 + 3 * 20);
  CHECK(encode(sample_scan_rows(3)).size() == 10 + 3 * 4);
  CHECK(encode(sample_scan_done()).size() == 23 + 8 * 4);
  const HelloReply hr = sample_hello_reply();
  CHECK(encode(hr).size() == 53 + hr.firmware_version.size() + hr.rig_serial.size() +
                                 hr.calibration_date.size() + hr.calibration_due.size() +
                                 hr.phantom_lot.size());
  CHECK(encode(sample_batch(kMaxSamplesPerBatch)).size() <= 8192);
  CHECK(encode(sample_scan_rows(kMaxPixelsPerChunk)).size() <= 8192);
}

TEST_CASE("integers are little-endian on the wire") {
  const Roll roll{0x04030201, 0x08070605, 0x0C0B0A09, 0x100F0E0D, 0x11, 0x1312};
  CHECK(encode(roll) == Bytes{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B,
                              0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13});
  const FaultEvent fault{FaultCode::Watchdog, RigState::Scanning, -2, 0x01020304};
  CHECK(encode(fault) == Bytes{0x04, 0x00, 0x03, 0xFE, 0xFF, 0xFF, 0xFF, 0x04, 0x03, 0x02, 0x01});
}

TEST_CASE("decoders refuse payloads that are too short or too long, naming the message") {
  require_exact_length(encode(Hello{}), decode_hello, "Hello");
  require_exact_length(encode(SelectLane{2}), decode_select_lane, "SelectLane");
  require_exact_length(encode(sample_roll()), decode_roll, "Roll");
  require_exact_length(encode(sample_scan()), decode_scan, "Scan");
  require_exact_length(encode(sample_hello_reply()), decode_hello_reply, "HelloReply");
  require_exact_length(encode(sample_status_reply()), decode_status_reply, "StatusReply");
  require_exact_length(encode(Ack{}), decode_ack, "Ack");
  require_exact_length(encode(sample_batch(4)), decode_sample_batch, "SampleBatch");
  require_exact_length(encode(sample_scan_rows(4)), decode_scan_rows, "ScanRows");
  require_exact_length(encode(sample_scan_done()), decode_operation_done, "OperationDone");
  require_exact_length(encode(sample_fault()), decode_fault, "Fault");
  require_decode_error(decode_status_request(Bytes{1}), "Status");
  require_decode_error(decode_home(Bytes{1}), "Home");
  require_decode_error(decode_tare(Bytes{1}), "Tare");
  require_decode_error(decode_abort(Bytes{1}), "Abort");
  require_decode_error(decode_heartbeat(Bytes{1}), "Heartbeat");
}

TEST_CASE("a SampleBatch whose count disagrees with its size is refused with both numbers") {
  Bytes p = encode(sample_batch(3));
  p[9] = 4;  // count says 4, bytes hold 3
  require_decode_error(decode_sample_batch(p), "SampleBatch",
                       "payload 71 bytes, expected 11 + 20*count with count 4");
}

TEST_CASE("decoders refuse invalid enum values, naming message and field") {
  SECTION("StatusReply state, result, homed flag and fault code") {
    Bytes p = encode(sample_status_reply());
    p[1] = 5;
    require_decode_error(decode_status_reply(p), "StatusReply", "state 0x05");
    p = encode(sample_status_reply());
    p[0] = 10;
    require_decode_error(decode_status_reply(p), "StatusReply", "result 0x0A");
    p = encode(sample_status_reply());
    p[2] = 2;
    require_decode_error(decode_status_reply(p), "StatusReply", "homed");
    p = encode(sample_status_reply());
    p[16] = 8;
    require_decode_error(decode_status_reply(p), "StatusReply", "fault 0x0008");
  }
  SECTION("Ack result") {
    require_decode_error(decode_ack(Bytes{0xFF}), "Ack", "result 0xFF");
  }
  SECTION("HelloReply result") {
    Bytes p = encode(sample_hello_reply());
    p[0] = 42;
    require_decode_error(decode_hello_reply(p), "HelloReply", "result");
  }
  SECTION("OperationDone operation must be Home, Roll or Scan") {
    Bytes p = encode(sample_scan_done());
    p[3] = static_cast<std::uint8_t>(MsgType::Tare);
    require_decode_error(decode_operation_done(p), "OperationDone", "operation");
    p = encode(sample_scan_done());
    p[0] = 200;
    require_decode_error(decode_operation_done(p), "OperationDone", "result");
  }
  SECTION("Fault code and state; None is not a fault") {
    Bytes p = encode(sample_fault());
    p[0] = 0;
    require_decode_error(decode_fault(p), "Fault", "fault code 0x0000");
    p[0] = 9;
    require_decode_error(decode_fault(p), "Fault", "fault code");
    p = encode(sample_fault());
    p[2] = 7;
    require_decode_error(decode_fault(p), "Fault", "state_before");
  }
}

TEST_CASE("requests with values outside their documented range are refused") {
  auto roll_with = [](auto change) {
    Roll r = sample_roll();
    change(r);
    return decode_roll(encode(r));
  };
  require_decode_error(roll_with([](Roll& r) { r.passes = 0; }), "Roll", "passes");
  require_decode_error(roll_with([](Roll& r) { r.stroke_um = 0; }), "Roll", "stroke_um");
  require_decode_error(roll_with([](Roll& r) { r.speed_um_per_s = 0; }), "Roll", "speed_um_per_s");
  require_decode_error(roll_with([](Roll& r) { r.load_mN = 0; }), "Roll", "load_mN");
  require_decode_error(roll_with([](Roll& r) { r.sample_rate_hz = 0; }), "Roll", "sample_rate_hz");

  Scan s = sample_scan();
  s.pitch_um = 0;
  require_decode_error(decode_scan(encode(s)), "Scan", "pitch_um");
  s = sample_scan();
  s.length_um = 5;  // less than one pitch: no row
  require_decode_error(decode_scan(encode(s)), "Scan", "rows");
  s = sample_scan();
  s.pitch_um = 1;
  s.width_um = 70'000;  // 70000 columns do not fit a u16
  require_decode_error(decode_scan(encode(s)), "Scan", "cols");

  require_decode_error(decode_sample_batch(Bytes(11, 0)), "SampleBatch", "count 0");
  require_decode_error(decode_scan_rows(Bytes(10, 0)), "ScanRows", "count 0");
}

TEST_CASE("a reply that is not Ok may be its result byte alone") {
  CHECK(decode_status_reply(Bytes{static_cast<std::uint8_t>(Result::NotReady)}).value().result ==
        Result::NotReady);
  CHECK(decode_hello_reply(Bytes{static_cast<std::uint8_t>(Result::BadRequest)}).value().result ==
        Result::BadRequest);
  require_decode_error(decode_status_reply(Bytes{0}), "StatusReply");
  require_decode_error(decode_hello_reply(Bytes{0}), "HelloReply");
}

TEST_CASE("version negotiation reads only the frozen bytes of another version") {
  SECTION("a Hello of another version decodes to just its version, whatever follows") {
    const Bytes v2_hello{2, 0xE8, 0x03, 0x55, 0x66};
    CHECK(decode_hello(v2_hello).value().host_protocol_version == 2);
  }
  SECTION("a VersionMismatch HelloReply reports the rig's version") {
    HelloReply m = sample_hello_reply();
    m.result = Result::VersionMismatch;
    m.protocol_version = 3;
    Bytes p = encode(m);
    p.push_back(0x77);  // a future layout may be longer
    const auto decoded = decode_hello_reply(p);
    REQUIRE(decoded);
    CHECK(decoded->result == Result::VersionMismatch);
    CHECK(decoded->protocol_version == 3);
    require_decode_error(decode_hello_reply(Bytes{8}), "HelloReply", "VersionMismatch");
  }
}

TEST_CASE("a HelloReply string running past the payload end is refused") {
  Bytes p = encode(sample_hello_reply());
  p[2] = 200;  // firmware_version length
  require_decode_error(decode_hello_reply(p), "HelloReply", "ends inside a field");
}

TEST_CASE("encoding what the wire cannot carry throws") {
  HelloReply m = sample_hello_reply();
  m.rig_serial = std::string(256, 'x');
  CHECK_THROWS_AS(encode(m), std::length_error);
  CHECK_THROWS_AS(encode(SampleBatch{}), std::length_error);
  CHECK_THROWS_AS(encode(sample_batch(kMaxSamplesPerBatch + 1)), std::length_error);
  CHECK_THROWS_AS(encode(ScanRows{}), std::length_error);
  CHECK_THROWS_AS(encode(sample_scan_rows(kMaxPixelsPerChunk + 1)), std::length_error);
  OperationDone done;
  done.layer_punctures.resize(256);
  CHECK_THROWS_AS(encode(done), std::length_error);
}

TEST_CASE("enums and message types have readable names") {
  CHECK(std::string(to_string(MsgType::SampleBatch)) == "SampleBatch");
  CHECK(std::string(to_string(reply_type(MsgType::Hello))) == "HelloReply");
  CHECK(std::string(to_string(static_cast<MsgType>(0x3E))) == "UnknownMsgType");
  CHECK(std::string(to_string(Result::VersionMismatch)) == "VersionMismatch");
  CHECK(std::string(to_string(static_cast<Result>(99))) == "UnknownResult");
  CHECK(std::string(to_string(FaultCode::Watchdog)) == "Watchdog");
  CHECK(std::string(to_string(RigState::Scanning)) == "Scanning");
}

TEST_CASE("message type classes follow the numbering rule") {
  CHECK(is_request(MsgType::Heartbeat));
  CHECK_FALSE(is_request(MsgType::Fault));
  CHECK(is_reply(reply_type(MsgType::Roll)));
  CHECK(is_stream_or_event(MsgType::ScanRows));
  CHECK_FALSE(is_stream_or_event(reply_type(MsgType::Hello)));
}
