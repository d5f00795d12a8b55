#include <catch2/catch.hpp>
#include <random>
#include <stdexcept>

#include "drivers/protocol/frame.hpp"
#include "sample_messages.hpp"

using namespace derma::proto;
using namespace derma::proto::testing;

namespace {

struct Decoding {
  std::vector<Frame> frames;
  LinkCounters counters;
};

// Feeds `wire` in pieces of `chunk` bytes (0 = all at once) and collects every frame.
Decoding decode_stream(ByteView wire, std::size_t chunk = 0) {
  FrameDecoder decoder;
  Decoding out;
  if (chunk == 0) chunk = wire.size() ? wire.size() : 1;
  for (std::size_t pos = 0; pos < wire.size(); pos += chunk) {
    decoder.feed(wire.subspan(pos, std::min(chunk, wire.size() - pos)));
    while (auto frame = decoder.next()) out.frames.push_back(std::move(*frame));
  }
  out.counters = decoder.counters();
  return out;
}

std::uint64_t error_count(const LinkCounters& c) {
  return c.crc_errors + c.cobs_errors + c.oversize_frames + c.runt_frames + c.length_mismatches +
         c.version_errors;
}

// One frame of every message type, with a distinct seq each.
std::vector<Frame> one_frame_of_every_type() {
  std::vector<Frame> frames;
  std::uint16_t seq = 100;
  auto add = [&](MsgType type, Bytes payload) {
    frames.push_back(Frame{kProtocolVersion, type, seq++, std::move(payload)});
  };
  add(MsgType::Hello, encode(Hello{1, 500}));
  add(MsgType::Status, encode(StatusRequest{}));
  add(MsgType::Home, encode(Home{}));
  add(MsgType::Tare, encode(Tare{}));
  add(MsgType::SelectLane, encode(SelectLane{4}));
  add(MsgType::Roll, encode(sample_roll()));
  add(MsgType::Scan, encode(sample_scan()));
  add(MsgType::Abort, encode(Abort{}));
  add(MsgType::Heartbeat, encode(Heartbeat{}));
  add(reply_type(MsgType::Hello), encode(sample_hello_reply()));
  add(reply_type(MsgType::Status), encode(sample_status_reply()));
  for (MsgType t : {MsgType::Home, MsgType::Tare, MsgType::SelectLane, MsgType::Roll, MsgType::Scan,
                    MsgType::Abort, MsgType::Heartbeat}) {
    add(reply_type(t), encode(Ack{Result::Busy}));
  }
  add(MsgType::SampleBatch, encode(sample_batch(kMaxSamplesPerBatch)));
  add(MsgType::ScanRows, encode(sample_scan_rows(kMaxPixelsPerChunk)));
  add(MsgType::ScanRowsDelta, encode_delta(sample_scan_rows(kMaxPixelsPerDeltaChunk), 1000));
  add(MsgType::OperationDone, encode(sample_scan_done()));
  add(MsgType::Fault, encode(sample_fault()));
  return frames;
}

Bytes wire_of(const std::vector<Frame>& frames) {
  Bytes wire;
  for (const Frame& f : frames) {
    const Bytes b = encode_frame(f);
    wire.insert(wire.end(), b.begin(), b.end());
  }
  return wire;
}

// The bytes between delimiters of a single encoded frame, COBS-decoded.
Bytes raw_of(const Bytes& wire) {
  REQUIRE(wire.back() == 0x00);
  return cobs_decode(ByteView(wire.data(), wire.size() - 1)).value();
}

Bytes wire_from_raw(const Bytes& raw) {
  Bytes wire = cobs_encode(raw);
  wire.push_back(0x00);
  return wire;
}

// Raw frame bytes with a correct CRC over whatever header and payload are given.
Bytes raw_with_crc(Bytes header_and_payload) {
  const std::uint32_t crc = crc32c(header_and_payload);
  for (int i = 0; i < 4; ++i)
    header_and_payload.push_back(static_cast<std::uint8_t>(crc >> (8 * i)));
  return header_and_payload;
}

}  // namespace

TEST_CASE("a frame is header, payload and CRC-32C, COBS-encoded and 0x00-terminated") {
  const Frame frame{1, MsgType::SelectLane, 0x1234, Bytes{0x07}};
  const Bytes wire = encode_frame(frame);
  CHECK(std::count(wire.begin(), wire.end(), 0x00) == 1);
  const Bytes raw = raw_of(wire);
  REQUIRE(raw.size() == kHeaderSize + 1 + kCrcSize);
  CHECK(Bytes(raw.begin(), raw.begin() + 7) == Bytes{0x01, 0x05, 0x34, 0x12, 0x01, 0x00, 0x07});
  const std::uint32_t crc = crc32c(ByteView(raw.data(), 7));
  CHECK(Bytes(raw.begin() + 7, raw.end()) ==
        Bytes{static_cast<std::uint8_t>(crc), static_cast<std::uint8_t>(crc >> 8),
              static_cast<std::uint8_t>(crc >> 16), static_cast<std::uint8_t>(crc >> 24)});

  Bytes appended{0xAA};
  append_frame(appended, frame.type, frame.seq, frame.payload, 1);
  CHECK(Bytes(appended.begin() + 1, appended.end()) == wire);
}

// Golden bytes computed independently (a bitwise CRC-32C and COBS in Python) and printed
// in PROTOCOL.md: the spec, this code and any second implementation must agree on them.
TEST_CASE("the worked examples of PROTOCOL.md encode byte for byte as documented") {
  SECTION("a Heartbeat with seq 1") {
    const Bytes wire = encode_frame(Frame{1, MsgType::Heartbeat, 1, {}});
    CHECK(raw_of(wire) == Bytes{0x01, 0x09, 0x01, 0x00, 0x00, 0x00, 0x16, 0xD9, 0x29, 0x98});
    CHECK(wire == Bytes{0x04, 0x01, 0x09, 0x01, 0x01, 0x01, 0x05, 0x16, 0xD9, 0x29, 0x98, 0x00});
  }
  SECTION("a Hello with seq 1 asking for a 1000 ms watchdog") {
    Bytes wire;
    append_frame(wire, MsgType::Hello, 1, encode(Hello{1, 1000}), 1);
    CHECK(wire == Bytes{0x04, 0x01, 0x01, 0x01, 0x02, 0x03, 0x08, 0x01, 0xE8, 0x03, 0x3D, 0x22,
                        0x8D, 0x76, 0x00});
  }
  SECTION("a version-2 ScanRowsDelta with seq 0x17 (section 3.3)") {
    ScanRows rows;
    rows.row = 3;
    rows.height_nm = {12'300, 12'200, kNoData, 12'500, -100};
    Bytes wire;
    append_frame(wire, MsgType::ScanRowsDelta, 0x17, encode_delta(rows, 100), 2);
    CHECK(wire == Bytes{0x04, 0x02, 0x44, 0x17, 0x02, 0x13, 0x01, 0x01, 0x01, 0x01, 0x02,
                        0x03, 0x01, 0x01, 0x02, 0x05, 0x02, 0x64, 0x04, 0xF7, 0x01, 0x02,
                        0x08, 0x07, 0xFC, 0x01, 0x8E, 0x8F, 0xC9, 0x40, 0x00});
  }
}

TEST_CASE("frames of every message type round-trip through the decoder and the payload decoders") {
  const std::vector<Frame> sent = one_frame_of_every_type();
  const Decoding got = decode_stream(wire_of(sent));
  REQUIRE(got.frames == sent);
  CHECK(got.counters.frames_ok == sent.size());
  CHECK(error_count(got.counters) == 0);
  CHECK(got.counters.bytes_discarded == 0);

  for (const Frame& f : got.frames) {
    INFO(to_string(f.type));
    switch (static_cast<std::uint8_t>(f.type)) {
      case 0x01:
        CHECK(decode_hello(f.payload).value() == Hello{1, 500});
        break;
      case 0x02:
        CHECK(decode_status_request(f.payload));
        break;
      case 0x03:
        CHECK(decode_home(f.payload));
        break;
      case 0x04:
        CHECK(decode_tare(f.payload));
        break;
      case 0x05:
        CHECK(decode_select_lane(f.payload).value() == SelectLane{4});
        break;
      case 0x06:
        CHECK(decode_roll(f.payload).value() == sample_roll());
        break;
      case 0x07:
        CHECK(decode_scan(f.payload).value() == sample_scan());
        break;
      case 0x08:
        CHECK(decode_abort(f.payload));
        break;
      case 0x09:
        CHECK(decode_heartbeat(f.payload));
        break;
      case 0x81:
        CHECK(decode_hello_reply(f.payload).value() == sample_hello_reply());
        break;
      case 0x82:
        CHECK(decode_status_reply(f.payload).value() == sample_status_reply());
        break;
      case 0x40:
        CHECK(decode_sample_batch(f.payload).value() == sample_batch(kMaxSamplesPerBatch));
        break;
      case 0x41:
        CHECK(decode_scan_rows(f.payload).value() == sample_scan_rows(kMaxPixelsPerChunk));
        break;
      case 0x44:
        CHECK(decode_scan_rows_delta(f.payload).value() ==
              sample_scan_rows(kMaxPixelsPerDeltaChunk));
        break;
      case 0x42:
        CHECK(decode_operation_done(f.payload).value() == sample_scan_done());
        break;
      case 0x43:
        CHECK(decode_fault(f.payload).value() == sample_fault());
        break;
      default:
        CHECK(decode_ack(f.payload).value() == Ack{Result::Busy});
        break;
    }
  }
}

TEST_CASE("every single-bit flip of an encoded frame is detected and never yields a wrong frame") {
  // A frame small enough to flip every bit, and one spanning several COBS blocks.
  const Frame small{kProtocolVersion, MsgType::Roll, 7, encode(sample_roll())};
  const Frame large{kProtocolVersion, MsgType::SampleBatch, 8, encode(sample_batch(30))};
  // Followers let a flipped delimiter show up: they are the only frames allowed out.
  const Frame follower1{kProtocolVersion, MsgType::Heartbeat, 501, {}};
  const Frame follower2{kProtocolVersion, MsgType::Status, 502, {}};
  const Bytes tail = wire_of({follower1, follower2});

  for (const Frame& original : {small, large}) {
    const Bytes wire = encode_frame(original);
    for (std::size_t byte = 0; byte < wire.size(); ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        Bytes corrupted = wire;
        corrupted[byte] ^= static_cast<std::uint8_t>(1u << bit);
        corrupted.insert(corrupted.end(), tail.begin(), tail.end());
        const Decoding got = decode_stream(corrupted);
        INFO("byte " << byte << " bit " << bit);
        for (const Frame& f : got.frames) REQUIRE((f == follower1 || f == follower2));
        REQUIRE(error_count(got.counters) >= 1);
        REQUIRE(got.frames.back() == follower2);
      }
    }
  }
}

TEST_CASE("a truncated frame is dropped and counted, and the next frame still decodes") {
  const Bytes wire =
      encode_frame(Frame{kProtocolVersion, MsgType::ScanRows, 3, encode(sample_scan_rows(300))});
  const Bytes next = encode_frame(Frame{kProtocolVersion, MsgType::Heartbeat, 4, {}});
  for (std::size_t cut = 1; cut < wire.size(); ++cut) {
    Bytes stream(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(wire.size() - 1 - cut));
    stream.push_back(0x00);
    stream.insert(stream.end(), next.begin(), next.end());
    const Decoding got = decode_stream(stream);
    INFO("cut " << cut << " bytes");
    REQUIRE(got.frames.size() == 1);
    CHECK(got.frames[0].seq == 4);
    CHECK(error_count(got.counters) ==
          (cut == wire.size() - 1 ? 0u : 1u));  // all cut: an empty frame
  }
}

TEST_CASE("the decoder resynchronises after random garbage and later frames still decode") {
  std::mt19937 rng(7);
  const std::vector<Frame> frames = one_frame_of_every_type();
  for (int trial = 0; trial < 50; ++trial) {
    Bytes stream;
    const std::size_t garbage_len = std::uniform_int_distribution<std::size_t>(1, 3000)(rng);
    for (std::size_t i = 0; i < garbage_len; ++i)
      stream.push_back(static_cast<std::uint8_t>(rng()));
    stream.push_back(0x00);  // what a receiver sees when a sender resyncs: a delimiter
    const Bytes good = wire_of(frames);
    stream.insert(stream.end(), good.begin(), good.end());
    const Decoding got = decode_stream(stream, 97);
    REQUIRE(got.frames == frames);
    CHECK(got.counters.bytes_in == stream.size());
  }
}

TEST_CASE("garbage directly before a frame costs at most that one frame") {
  const std::vector<Frame> frames = one_frame_of_every_type();
  Bytes stream{0x13, 0x37, 0xC0, 0xDE};  // no delimiter: glued onto the first frame
  const Bytes good = wire_of(frames);
  stream.insert(stream.end(), good.begin(), good.end());
  const Decoding got = decode_stream(stream);
  REQUIRE(got.frames.size() == frames.size() - 1);
  CHECK(std::equal(got.frames.begin(), got.frames.end(), frames.begin() + 1));
  CHECK(error_count(got.counters) == 1);
  CHECK(got.counters.bytes_discarded == 4 + encode_frame(frames[0]).size() - 1);
}

TEST_CASE("feeding byte by byte or in random slices gives exactly what bulk feeding gives") {
  Bytes stream = wire_of(one_frame_of_every_type());
  const Bytes junk{0x05, 0x11, 0x00, 0x00, 0x42, 0x00};  // a cobs error, a flush, a runt
  stream.insert(stream.begin() + 40, junk.begin(), junk.end());
  stream.insert(stream.end(), junk.begin(), junk.end());

  const Decoding bulk = decode_stream(stream);
  const Decoding bytewise = decode_stream(stream, 1);
  CHECK(bytewise.frames == bulk.frames);
  CHECK(bytewise.counters == bulk.counters);

  std::mt19937 rng(3);
  FrameDecoder decoder;
  std::vector<Frame> sliced;
  for (std::size_t pos = 0; pos < stream.size();) {
    const std::size_t n =
        std::min(stream.size() - pos, std::uniform_int_distribution<std::size_t>(0, 700)(rng));
    decoder.feed(ByteView(stream.data() + pos, n));
    pos += n;
    while (auto f = decoder.next()) sliced.push_back(std::move(*f));
  }
  CHECK(sliced == bulk.frames);
  CHECK(decoder.counters() == bulk.counters);
}

TEST_CASE("an endless run without a delimiter is bounded in memory and counted once as oversize") {
  FrameDecoder decoder;
  const Bytes chunk(1000, 0x42);
  for (int i = 0; i < 100; ++i) {
    decoder.feed(chunk);
    REQUIRE(decoder.pending_bytes() <= kMaxEncodedFrame);
  }
  CHECK_FALSE(decoder.next());
  CHECK(decoder.counters().oversize_frames == 1);

  const Bytes good = encode_frame(Frame{kProtocolVersion, MsgType::Heartbeat, 9, {}});
  Bytes end_of_run{0x00};
  end_of_run.insert(end_of_run.end(), good.begin(), good.end());
  decoder.feed(end_of_run);
  const auto frame = decoder.next();
  REQUIRE(frame);
  CHECK(frame->seq == 9);
  CHECK(decoder.counters().bytes_discarded == 100'000);
  CHECK(decoder.counters().oversize_frames == 1);
}

TEST_CASE("a frame of exactly the maximum payload decodes, however it is sliced") {
  Bytes payload(kMaxPayload);
  for (std::size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<std::uint8_t>(1 + i % 255);
  const Frame big{kProtocolVersion, MsgType::ScanRows, 1, payload};
  const Bytes wire = encode_frame(big);
  CHECK(wire.size() - 1 <= kMaxEncodedFrame);
  CHECK(decode_stream(wire).frames == std::vector<Frame>{big});
  CHECK(decode_stream(wire, 1).frames == std::vector<Frame>{big});
}

TEST_CASE("a payload over the maximum cannot be sent, and is refused when received") {
  const Bytes too_big(kMaxPayload + 1, 0x00);
  CHECK_THROWS_AS(encode_frame(Frame{kProtocolVersion, MsgType::ScanRows, 1, too_big}),
                  std::length_error);
  Bytes out;
  CHECK_THROWS_AS(append_frame(out, MsgType::ScanRows, 1, too_big), std::length_error);

  // Zeros encode to one byte each, so this consistent frame fits the encoded bound.
  Bytes raw{0x01, 0x41, 0x01, 0x00, 0x01, 0x20};  // length 0x2001 = 8193
  raw.insert(raw.end(), kMaxPayload + 1, 0x00);
  const Decoding got = decode_stream(wire_from_raw(raw_with_crc(raw)));
  CHECK(got.frames.empty());
  CHECK(got.counters.oversize_frames == 1);
}

TEST_CASE("damaged frames are dropped and counted under their own cause") {
  const Bytes heartbeat_raw =
      raw_of(encode_frame(Frame{kProtocolVersion, MsgType::Heartbeat, 1, {}}));

  SECTION("a corrupt CRC drops the frame and counts it") {
    Bytes raw = heartbeat_raw;
    raw.back() ^= 0x10;
    const Decoding got = decode_stream(wire_from_raw(raw));
    CHECK(got.frames.empty());
    CHECK(got.counters.crc_errors == 1);
    CHECK(got.counters.bytes_discarded == cobs_encode(raw).size());
  }
  SECTION("a frame shorter than header and CRC is a runt") {
    const Decoding got = decode_stream(wire_from_raw(Bytes{0x01, 0x09, 0x00, 0x00, 0x00}));
    CHECK(got.frames.empty());
    CHECK(got.counters.runt_frames == 1);
  }
  SECTION("a header length that disagrees with the bytes received") {
    const Decoding got =
        decode_stream(wire_from_raw(raw_with_crc({0x01, 0x05, 0x01, 0x00, 0x02, 0x00, 0x03})));
    CHECK(got.frames.empty());
    CHECK(got.counters.length_mismatches == 1);
  }
  SECTION("an invalid COBS sequence") {
    const Decoding got = decode_stream(Bytes{0x09, 0x01, 0x02, 0x00});
    CHECK(got.frames.empty());
    CHECK(got.counters.cobs_errors == 1);
    CHECK(got.counters.bytes_discarded == 3);
  }
  SECTION("an unknown protocol version") {
    const Decoding got = decode_stream(encode_frame(Frame{3, MsgType::Heartbeat, 1, {}}));
    CHECK(got.frames.empty());
    CHECK(got.counters.version_errors == 1);
    CHECK(decode_stream(encode_frame(Frame{0, MsgType::Hello, 1, encode(Hello{})}))
              .counters.version_errors == 1);
  }
}

TEST_CASE("Hello and HelloReply of another version pass so that versions can be negotiated") {
  const Frame hello_v3{3, MsgType::Hello, 1, Bytes{3, 0x10, 0x00, 0x99}};
  const Frame reply_v4{4, reply_type(MsgType::Hello), 1, Bytes{8, 4}};
  const Decoding got = decode_stream(wire_of({hello_v3, reply_v4}));
  CHECK(got.frames == std::vector<Frame>{hello_v3, reply_v4});
  CHECK(got.counters.version_errors == 0);
}

TEST_CASE("frames of both spoken versions, 1 and 2, pass; append_frame writes the version asked") {
  Bytes wire;
  append_frame(wire, MsgType::Heartbeat, 1, {}, 1);
  append_frame(wire, MsgType::Heartbeat, 2, {});
  const Decoding got = decode_stream(wire);
  REQUIRE(got.frames.size() == 2);
  CHECK(got.frames[0].version == 1);
  CHECK(got.frames[1].version == kProtocolVersion);
  CHECK(kProtocolVersion == 2);
  CHECK(got.counters.version_errors == 0);
}

TEST_CASE("empty frames between delimiters are a flush, not an error") {
  Bytes stream{0x00, 0x00, 0x00};
  const Bytes good = encode_frame(Frame{kProtocolVersion, MsgType::Heartbeat, 2, {}});
  stream.insert(stream.end(), good.begin(), good.end());
  stream.insert(stream.end(), {0x00, 0x00});
  const Decoding got = decode_stream(stream);
  CHECK(got.frames.size() == 1);
  CHECK(error_count(got.counters) == 0);
  CHECK(got.counters.bytes_discarded == 0);
  CHECK(got.counters.bytes_in == stream.size());
}

TEST_CASE("a frame type the receiver does not know is still delivered, for an UnknownType reply") {
  const Frame future{kProtocolVersion, static_cast<MsgType>(0x2A), 5, Bytes{1, 2, 3}};
  CHECK(decode_stream(encode_frame(future)).frames == std::vector<Frame>{future});
}
