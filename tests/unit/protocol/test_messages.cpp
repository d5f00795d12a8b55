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

Decoded<Scan> decode_scan_v1(ByteView p) {
  return decode_scan(p, 1);
}
Decoded<Scan> decode_scan_v2(ByteView p) {
  return decode_scan(p, 2);
}

// A chunk whose heights are whole steps of step_nm, with kNoData pixels among them.
ScanRows stepped_rows(std::size_t count, std::uint16_t step_nm) {
  ScanRows m = sample_scan_rows(count);
  for (std::int32_t& h : m.height_nm)
    if (h != kNoData) h = h / step_nm * step_nm;
  return m;
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
  SECTION("Scan, in version 1 and in version 2 with either row encoding") {
    CHECK(decode_scan(encode(sample_scan(), 1), 1).value() == sample_scan());
    Scan delta = sample_scan();
    delta.row_encoding = RowEncoding::Delta;
    CHECK(decode_scan(encode(sample_scan())).value() == sample_scan());
    CHECK(decode_scan(encode(delta)).value() == delta);
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
  SECTION("ScanRowsDelta, including the largest and kNoData pixels") {
    CHECK(decode_scan_rows_delta(encode_delta(stepped_rows(123, 100), 100)).value() ==
          stepped_rows(123, 100));
    CHECK(decode_scan_rows_delta(encode_delta(stepped_rows(123, 1), 1)).value() ==
          stepped_rows(123, 1));
    CHECK(
        decode_scan_rows_delta(encode_delta(stepped_rows(kMaxPixelsPerDeltaChunk, 7), 7)).value() ==
        stepped_rows(kMaxPixelsPerDeltaChunk, 7));
  }
  SECTION("ScanRowsDelta at the extremes of int32, which need the longest varints") {
    ScanRows worst;
    worst.chunk_counter = 0xFFFFFFFF;
    worst.row = 65535;
    worst.col0 = 65536 - kMaxPixelsPerDeltaChunk;
    for (std::size_t i = 0; i < kMaxPixelsPerDeltaChunk; ++i)
      worst.height_nm.push_back(i % 3 == 2 ? kNoData : i % 2 ? INT32_MAX : INT32_MIN + 1);
    const Bytes wire = encode_delta(worst, 1);
    CHECK(wire.size() <= 8192);  // any chunk of the largest count fits a frame
    CHECK(decode_scan_rows_delta(wire).value() == worst);
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
  CHECK(encode(sample_scan(), 1).size() == 18);
  CHECK(encode(sample_scan(), 2).size() == 19);
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
  require_exact_length(encode(sample_scan(), 1), decode_scan_v1, "Scan");
  require_exact_length(encode(sample_scan(), 2), decode_scan_v2, "Scan");
  require_exact_length(encode_delta(stepped_rows(40, 100), 100), decode_scan_rows_delta,
                       "ScanRowsDelta");
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
    const Bytes v3_hello{3, 0xE8, 0x03, 0x55, 0x66};
    CHECK(decode_hello(v3_hello).value().host_protocol_version == 3);
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

TEST_CASE("a version-1 Scan cannot ask for delta rows, and a version-2 one names a bad encoding") {
  Scan delta = sample_scan();
  delta.row_encoding = RowEncoding::Delta;
  CHECK_THROWS_AS(encode(delta, 1), std::invalid_argument);
  Bytes bad = encode(sample_scan(), 2);
  bad.back() = 2;
  require_decode_error(decode_scan(bad, 2), "Scan", "row_encoding 0x02");
  // The 18 bytes of version 1 are not a version-2 Scan, nor the other way round.
  require_decode_error(decode_scan(encode(sample_scan(), 1), 2), "Scan",
                       "19 in protocol version 2");
  require_decode_error(decode_scan(encode(sample_scan(), 2), 1), "Scan",
                       "18 in protocol version 1");
}

TEST_CASE("ScanRowsDelta has the exact bytes of PROTOCOL.md's worked example") {
  ScanRows m;
  m.row = 3;
  m.height_nm = {12'300, 12'200, kNoData, 12'500, -100};
  const Bytes wire = encode_delta(m, 100);
  CHECK(wire == Bytes{0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05, 0x00, 0x64,
                      0x00,  // header
                      0xF7, 0x01, 0x02, 0x00, 0x07, 0xFC, 0x01});
  CHECK(decode_scan_rows_delta(wire).value() == m);
}

TEST_CASE("malformed ScanRowsDelta payloads are refused saying what is wrong") {
  // header: counter 0, row 0, col0 0, count (set below), step 100
  auto with = [](std::uint16_t count, Bytes varints, std::uint16_t step_nm = 100,
                 std::uint16_t col0 = 0) {
    Bytes p{0,
            0,
            0,
            0,
            0,
            0,
            static_cast<std::uint8_t>(col0),
            static_cast<std::uint8_t>(col0 >> 8),
            static_cast<std::uint8_t>(count),
            static_cast<std::uint8_t>(count >> 8),
            static_cast<std::uint8_t>(step_nm),
            static_cast<std::uint8_t>(step_nm >> 8)};
    for (std::uint8_t b : varints) p.push_back(b);  // (insert() trips GCC 12's -Warray-bounds)
    return p;
  };
  CHECK(decode_scan_rows_delta(with(2, {0x02, 0x00})).has_value());  // the valid base case
  SECTION("a varint cut off by the end of the payload") {
    require_decode_error(decode_scan_rows_delta(with(2, {0x02, 0x81})), "ScanRowsDelta",
                         "payload ends inside pixel 1 of 2");
  }
  SECTION("a count larger than the pixels present") {
    require_decode_error(decode_scan_rows_delta(with(3, {0x02, 0x00})), "ScanRowsDelta",
                         "ends inside pixel 2 of 3");
  }
  SECTION("bytes left after the pixels the count announces") {
    require_decode_error(decode_scan_rows_delta(with(1, {0x02, 0x00})), "ScanRowsDelta",
                         "1 bytes after the 1 pixels");
  }
  SECTION("a varint longer than 5 bytes") {
    require_decode_error(decode_scan_rows_delta(with(1, {0x81, 0x80, 0x80, 0x80, 0x80, 0x01})),
                         "ScanRowsDelta", "longer than 5 bytes");
  }
  SECTION("a non-canonical varint") {
    require_decode_error(decode_scan_rows_delta(with(1, {0x82, 0x00})), "ScanRowsDelta",
                         "non-canonical");
  }
  SECTION("differences that run a height out of the int32 range") {
    // Token 0x7FFFFFFFF, the largest a 5-byte varint holds: +2^34 - 1 steps.
    const Bytes biggest{0xFF, 0xFF, 0xFF, 0xFF, 0x7F};
    require_decode_error(decode_scan_rows_delta(with(1, biggest, 1)), "ScanRowsDelta",
                         "outside the int32 range");
    // 32'769 steps of 65'535 nm: 2'147'516'415 nm (token 65'539).
    require_decode_error(decode_scan_rows_delta(with(1, {0x83, 0x80, 0x04}, 65535)),
                         "ScanRowsDelta", "outside the int32 range");
  }
  SECTION("a height equal to kNoData must be sent as the no-data token") {
    // -2^31 in steps of 1: zigzag 2^32 - 1, token 2^32.
    require_decode_error(decode_scan_rows_delta(with(1, {0x80, 0x80, 0x80, 0x80, 0x10}, 1)),
                         "ScanRowsDelta", "outside the int32 range");
  }
  SECTION("count, step and columns out of range") {
    require_decode_error(decode_scan_rows_delta(with(0, {})), "ScanRowsDelta", "count 0");
    require_decode_error(decode_scan_rows_delta(with(1637, Bytes(1637, 0))), "ScanRowsDelta",
                         "count 1637");
    require_decode_error(decode_scan_rows_delta(with(1, {0x00}, 0)), "ScanRowsDelta", "step_nm 0");
    require_decode_error(decode_scan_rows_delta(with(2, {0x00, 0x00}, 100, 65535)), "ScanRowsDelta",
                         "col0 + count 65537");
  }
}

TEST_CASE("encoding a ScanRowsDelta the wire cannot carry throws") {
  CHECK_THROWS_AS(encode_delta(ScanRows{}, 100), std::length_error);
  CHECK_THROWS_AS(encode_delta(stepped_rows(kMaxPixelsPerDeltaChunk + 1, 100), 100),
                  std::length_error);
  CHECK_THROWS_AS(encode_delta(stepped_rows(3, 100), 0), std::invalid_argument);
  ScanRows off_step = stepped_rows(3, 100);
  off_step.height_nm[1] = 150;
  CHECK_THROWS_AS(encode_delta(off_step, 100), std::invalid_argument);
}
