// Framing of the wire protocol: header + payload + CRC-32C, COBS-encoded, 0x00-delimited.
// See PROTOCOL.md section "Framing".
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "drivers/protocol/messages.hpp"

namespace derma::proto {

inline constexpr std::size_t kHeaderSize = 6;     // version u8, type u8, seq u16, length u16
inline constexpr std::size_t kCrcSize = 4;        // CRC-32C over header + payload
inline constexpr std::size_t kMaxPayload = 8192;  // larger frames are rejected as oversize
// Longest raw frame (header + payload + CRC) and its longest COBS encoding (one code byte
// per started 254-byte block). Anything longer before a delimiter is an oversize frame.
inline constexpr std::size_t kMaxRawFrame = kHeaderSize + kMaxPayload + kCrcSize;
inline constexpr std::size_t kMaxEncodedFrame = kMaxRawFrame + kMaxRawFrame / 254 + 1;

struct Frame {
  std::uint8_t version = kProtocolVersion;
  MsgType type = MsgType::Heartbeat;
  std::uint16_t seq = 0;
  Bytes payload;

  bool operator==(const Frame&) const = default;
};

// Whole wire bytes of one frame: COBS(header + payload + crc) followed by 0x00.
Bytes encode_frame(const Frame&);
// Appends the wire bytes of one frame to `out` (avoids an allocation on hot paths).
// Both throw std::length_error for a payload longer than kMaxPayload (a programming error).
void append_frame(Bytes& out, MsgType type, std::uint16_t seq, ByteView payload,
                  std::uint8_t version = kProtocolVersion);

// Counters a receiver keeps so that every damaged or lost frame is visible.
struct LinkCounters {
  std::uint64_t bytes_in = 0;
  std::uint64_t frames_ok = 0;
  std::uint64_t crc_errors = 0;         // CRC mismatch after a valid COBS decode
  std::uint64_t cobs_errors = 0;        // invalid COBS code sequence
  std::uint64_t oversize_frames = 0;    // longer than kMaxPayload + overhead before a delimiter
  std::uint64_t runt_frames = 0;        // shorter than header + CRC
  std::uint64_t length_mismatches = 0;  // header length disagrees with the bytes received
  std::uint64_t version_errors = 0;     // unknown protocol version
  std::uint64_t bytes_discarded = 0;    // non-delimiter bytes of every rejected frame

  bool operator==(const LinkCounters&) const = default;
};

// Incremental decoder: feed it any slicing of the byte stream, pop whole frames.
// Resynchronises on the next 0x00 after garbage; never throws on bad input.
// Frames of a version this code does not speak (speaks_version: 1 and 2) are dropped
// (version_errors), except Hello and HelloReply frames of any version >= 1, so that a rig
// can answer VersionMismatch.
// Memory stays bounded: at most kMaxEncodedFrame bytes of an unfinished frame are kept;
// decoded frames wait in a queue until next() takes them.
class FrameDecoder {
 public:
  void feed(ByteView bytes);
  // Next complete valid frame, if any. Invalid frames are counted and skipped.
  std::optional<Frame> next();
  const LinkCounters& counters() const { return counters_; }
  // Encoded bytes held for an unfinished frame; never above kMaxEncodedFrame.
  std::size_t pending_bytes() const { return pending_.size(); }

 private:
  void accumulate(ByteView segment);
  void end_of_frame(ByteView last_segment);
  void decode_encoded(ByteView encoded);
  void reject(std::uint64_t& counter, std::size_t encoded_size);

  Bytes pending_;            // encoded bytes of a frame split across feed() calls
  bool discarding_ = false;  // true after an oversize run until the next delimiter
  Bytes scratch_;            // COBS-decoded frame, reused to avoid allocations
  std::deque<Frame> ready_;  // valid frames not yet taken by next()
  LinkCounters counters_;
};

// COBS (Cheshire & Baker 1999). cobs_decode returns nullopt on an invalid encoding: a zero
// byte, a block running past the end, or the non-canonical empty block after a 0xFF block.
Bytes cobs_encode(ByteView raw);
void cobs_encode_append(Bytes& out, ByteView raw);
std::optional<Bytes> cobs_decode(ByteView encoded);
// Same, into `out` (cleared first; its capacity is reused). Returns false if invalid.
bool cobs_decode_into(ByteView encoded, Bytes& out);

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, init and xorout 0xFFFFFFFF).
// crc32c("123456789") == 0xE3069283.
// Uses the CPU's crc32 instruction where it has one (x86-64 with SSE4.2).
std::uint32_t crc32c(ByteView bytes, std::uint32_t crc = 0);
// The table-driven computation every CPU can run (crc32c's fallback; tested against it).
std::uint32_t crc32c_portable(ByteView bytes, std::uint32_t crc = 0);

}  // namespace derma::proto
