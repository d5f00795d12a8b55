// Framing of the wire protocol: header + payload + CRC-32C, COBS-encoded, 0x00-delimited.
// See PROTOCOL.md section "Framing".
#pragma once

#include "drivers/protocol/messages.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace derma::proto {

inline constexpr std::size_t kHeaderSize = 6;       // version u8, type u8, seq u16, length u16
inline constexpr std::size_t kCrcSize = 4;          // CRC-32C over header + payload
inline constexpr std::size_t kMaxPayload = 8192;    // larger frames are rejected as oversize

struct Frame {
  std::uint8_t version = kProtocolVersion;
  MsgType type = MsgType::Heartbeat;
  std::uint16_t seq = 0;
  Bytes payload;
};

// Whole wire bytes of one frame: COBS(header + payload + crc) followed by 0x00.
Bytes encode_frame(const Frame&);
// Appends the wire bytes of one frame to `out` (avoids an allocation on hot paths).
void append_frame(Bytes& out, MsgType type, std::uint16_t seq, ByteView payload);

// Counters a receiver keeps so that every damaged or lost frame is visible.
struct LinkCounters {
  std::uint64_t bytes_in = 0;
  std::uint64_t frames_ok = 0;
  std::uint64_t crc_errors = 0;        // CRC mismatch after a valid COBS decode
  std::uint64_t cobs_errors = 0;       // invalid COBS code sequence
  std::uint64_t oversize_frames = 0;   // longer than kMaxPayload + overhead before a delimiter
  std::uint64_t runt_frames = 0;       // shorter than header + CRC
  std::uint64_t length_mismatches = 0; // header length disagrees with the bytes received
  std::uint64_t version_errors = 0;    // unknown protocol version
  std::uint64_t bytes_discarded = 0;   // bytes thrown away while resynchronising
};

// Incremental decoder: feed it any slicing of the byte stream, pop whole frames.
// Resynchronises on the next 0x00 after garbage; never throws on bad input.
class FrameDecoder {
 public:
  void feed(ByteView bytes);
  // Next complete valid frame, if any. Invalid frames are counted and skipped.
  std::optional<Frame> next();
  const LinkCounters& counters() const { return counters_; }

 private:
  Bytes pending_;          // bytes of the frame being accumulated (still COBS-encoded)
  std::size_t scan_pos_ = 0;
  bool discarding_ = false;  // true after an oversize run until the next delimiter
  Bytes buffer_;           // undelimited input not yet split into frames
  std::size_t read_pos_ = 0;
  LinkCounters counters_;
};

// COBS (Cheshire & Baker 1999). cobs_decode returns nullopt on an invalid encoding.
Bytes cobs_encode(ByteView raw);
std::optional<Bytes> cobs_decode(ByteView encoded);

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, init and xorout 0xFFFFFFFF).
// crc32c("123456789") == 0xE3069283.
std::uint32_t crc32c(ByteView bytes, std::uint32_t crc = 0);

}  // namespace derma::proto
