// COBS, Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999), canonical form:
// a block of 254 non-zero bytes (code 0xFF) carries no implied zero, and a new block is
// only started when more data follows it.
#include <algorithm>
#include <cstring>

#include "drivers/protocol/frame.hpp"

namespace derma::proto {

namespace {
constexpr std::uint8_t kFullBlockCode = 0xFF;  // 254 data bytes, no implied zero
}

void cobs_encode_append(Bytes& out, ByteView raw) {
  // Grow geometrically: an exact reserve per call would make appending many frames quadratic.
  const std::size_t needed = out.size() + raw.size() + raw.size() / 254 + 2;
  if (out.capacity() < needed) out.reserve(std::max(needed, 2 * out.capacity()));
  std::size_t code_pos = out.size();
  out.push_back(0);  // placeholder for the first block's code
  std::uint8_t code = 1;
  bool block_open = true;
  for (std::uint8_t byte : raw) {
    if (!block_open) {  // the previous block was full: open the next one lazily
      code_pos = out.size();
      out.push_back(0);
      code = 1;
      block_open = true;
    }
    if (byte == 0) {
      out[code_pos] = code;
      code_pos = out.size();
      out.push_back(0);
      code = 1;
    } else {
      out.push_back(byte);
      if (++code == kFullBlockCode) {
        out[code_pos] = kFullBlockCode;
        block_open = false;
      }
    }
  }
  if (block_open) out[code_pos] = code;
}

Bytes cobs_encode(ByteView raw) {
  Bytes out;
  cobs_encode_append(out, raw);
  return out;
}

// Decodes into `out` (cleared first, capacity kept). Returns false on an invalid encoding.
bool cobs_decode_into(ByteView encoded, Bytes& out) {
  out.clear();
  if (encoded.empty()) return false;
  if (std::memchr(encoded.data(), 0, encoded.size()) != nullptr) return false;
  const std::uint8_t* p = encoded.data();
  const std::size_t n = encoded.size();
  std::size_t i = 0;
  std::uint8_t previous_code = 0;
  while (i < n) {
    const std::uint8_t code = p[i++];
    const std::size_t data_len = code - 1u;
    if (data_len > n - i) return false;  // block runs past the end
    const bool last_block = i + data_len == n;
    // An empty last block after a full block is a second spelling of the same data;
    // refusing it keeps decoding one-to-one, so no altered frame decodes to the same bytes.
    if (last_block && code == 1 && previous_code == kFullBlockCode) return false;
    out.insert(out.end(), p + i, p + i + data_len);
    i += data_len;
    if (!last_block && code != kFullBlockCode) out.push_back(0);
    previous_code = code;
  }
  return true;
}

std::optional<Bytes> cobs_decode(ByteView encoded) {
  Bytes out;
  if (!cobs_decode_into(encoded, out)) return std::nullopt;
  return out;
}

}  // namespace derma::proto
