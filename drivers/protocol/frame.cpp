// Frames: header + payload + CRC-32C, COBS-encoded, 0x00-delimited. See PROTOCOL.md.
#include "drivers/protocol/frame.hpp"

#include <array>
#include <cstring>
#include <stdexcept>
#include <string>

namespace derma::proto {

namespace {

constexpr std::uint8_t kDelimiter = 0x00;

void check_payload_size(std::size_t size) {
  if (size > kMaxPayload) {
    throw std::length_error("frame payload of " + std::to_string(size) +
                            " bytes exceeds the maximum of " + std::to_string(kMaxPayload));
  }
}

// Appends COBS(header + payload + crc) and the delimiter without building the raw frame.
void append_wire_frame(Bytes& out, std::uint8_t version, MsgType type, std::uint16_t seq,
                       ByteView payload) {
  check_payload_size(payload.size());
  const auto length = static_cast<std::uint16_t>(payload.size());
  const std::array<std::uint8_t, kHeaderSize> header = {
      version,
      static_cast<std::uint8_t>(type),
      static_cast<std::uint8_t>(seq & 0xFFu),
      static_cast<std::uint8_t>(seq >> 8),
      static_cast<std::uint8_t>(length & 0xFFu),
      static_cast<std::uint8_t>(length >> 8),
  };
  const std::uint32_t crc = crc32c(payload, crc32c(header));
  const std::array<std::uint8_t, kCrcSize> trailer = {
      static_cast<std::uint8_t>(crc), static_cast<std::uint8_t>(crc >> 8),
      static_cast<std::uint8_t>(crc >> 16), static_cast<std::uint8_t>(crc >> 24)};

  // The COBS encoder takes one contiguous span: concatenate into a per-thread scratch
  // buffer, which keeps its capacity, so sending allocates nothing after the first frame.
  thread_local Bytes raw;
  raw.clear();
  raw.reserve(kMaxRawFrame);
  raw.insert(raw.end(), header.begin(), header.end());
  raw.insert(raw.end(), payload.begin(), payload.end());
  raw.insert(raw.end(), trailer.begin(), trailer.end());
  cobs_encode_append(out, raw);
  out.push_back(kDelimiter);
}

std::uint16_t load_le16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | p[1] << 8);
}

std::uint32_t load_le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}

// Hello and its reply must get through a version filter, or a rig could never tell a host
// of another version that it does not speak it (PROTOCOL.md, "Versioning").
bool passes_version_filter(std::uint8_t version, MsgType type) {
  if (speaks_version(version)) return true;
  return version >= 1 && (type == MsgType::Hello || type == reply_type(MsgType::Hello));
}

}  // namespace

Bytes encode_frame(const Frame& frame) {
  Bytes out;
  append_wire_frame(out, frame.version, frame.type, frame.seq, frame.payload);
  return out;
}

void append_frame(Bytes& out, MsgType type, std::uint16_t seq, ByteView payload,
                  std::uint8_t version) {
  append_wire_frame(out, version, type, seq, payload);
}

void FrameDecoder::feed(ByteView bytes) {
  counters_.bytes_in += bytes.size();
  const std::uint8_t* p = bytes.data();
  const std::uint8_t* const end = p + bytes.size();
  while (p != end) {
    const auto* delimiter = static_cast<const std::uint8_t*>(
        std::memchr(p, kDelimiter, static_cast<std::size_t>(end - p)));
    if (delimiter == nullptr) {
      accumulate(ByteView(p, end));
      return;
    }
    end_of_frame(ByteView(p, delimiter));
    p = delimiter + 1;
  }
}

std::optional<Frame> FrameDecoder::next() {
  if (ready_.empty()) return std::nullopt;
  Frame frame = std::move(ready_.front());
  ready_.pop_front();
  return frame;
}

// Keeps bytes of an unfinished frame, but never more than the longest valid frame: past
// that the frame is oversize whatever follows, so it is dropped up to the next delimiter.
void FrameDecoder::accumulate(ByteView segment) {
  if (discarding_) {
    counters_.bytes_discarded += segment.size();
    return;
  }
  if (pending_.size() + segment.size() > kMaxEncodedFrame) {
    ++counters_.oversize_frames;
    counters_.bytes_discarded += pending_.size() + segment.size();
    pending_.clear();
    discarding_ = true;
    return;
  }
  pending_.insert(pending_.end(), segment.begin(), segment.end());
}

void FrameDecoder::end_of_frame(ByteView last_segment) {
  if (discarding_) {
    counters_.bytes_discarded += last_segment.size();
    discarding_ = false;  // the delimiter resynchronises us
    return;
  }
  if (pending_.empty()) {  // common case: the whole frame arrived in one feed()
    decode_encoded(last_segment);
    return;
  }
  accumulate(last_segment);
  if (discarding_) {
    discarding_ = false;
    return;
  }
  decode_encoded(pending_);
  pending_.clear();
}

void FrameDecoder::reject(std::uint64_t& counter, std::size_t encoded_size) {
  ++counter;
  counters_.bytes_discarded += encoded_size;
}

void FrameDecoder::decode_encoded(ByteView encoded) {
  if (encoded.empty()) return;  // two delimiters in a row: a flush, not an error
  if (encoded.size() > kMaxEncodedFrame) return reject(counters_.oversize_frames, encoded.size());
  if (!cobs_decode_into(encoded, scratch_)) return reject(counters_.cobs_errors, encoded.size());
  const std::size_t raw_size = scratch_.size();
  if (raw_size < kHeaderSize + kCrcSize) return reject(counters_.runt_frames, encoded.size());

  const std::uint8_t* raw = scratch_.data();
  const std::size_t body_size = raw_size - kCrcSize;
  if (crc32c(ByteView(raw, body_size)) != load_le32(raw + body_size)) {
    return reject(counters_.crc_errors, encoded.size());
  }
  const std::uint8_t version = raw[0];
  const auto type = static_cast<MsgType>(raw[1]);
  if (!passes_version_filter(version, type))
    return reject(counters_.version_errors, encoded.size());
  const std::size_t length = load_le16(raw + 4);
  if (length != body_size - kHeaderSize) {
    return reject(counters_.length_mismatches, encoded.size());
  }
  if (length > kMaxPayload) return reject(counters_.oversize_frames, encoded.size());

  Frame frame;
  frame.version = version;
  frame.type = type;
  frame.seq = load_le16(raw + 2);
  frame.payload.assign(raw + kHeaderSize, raw + body_size);
  ready_.push_back(std::move(frame));
  ++counters_.frames_ok;
}

}  // namespace derma::proto
