#include <catch2/catch.hpp>
#include <random>
#include <string_view>

#include "drivers/protocol/frame.hpp"

using namespace derma::proto;

namespace {

ByteView as_bytes(std::string_view s) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

// Bit-at-a-time reference straight from the definition, to check the sliced tables.
std::uint32_t crc32c_bitwise(ByteView bytes) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::uint8_t b : bytes) {
    c ^= b;
    for (int bit = 0; bit < 8; ++bit) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
  }
  return ~c;
}

}  // namespace

TEST_CASE("CRC-32C of \"123456789\" is the standard check value 0xE3069283") {
  CHECK(crc32c(as_bytes("123456789")) == 0xE3069283u);
}

TEST_CASE("CRC-32C matches the iSCSI test vectors of RFC 3720") {
  CHECK(crc32c(Bytes(32, 0x00)) == 0x8A9136AAu);
  CHECK(crc32c(Bytes(32, 0xFF)) == 0x62A8AB43u);
  Bytes ascending(32);
  for (std::size_t i = 0; i < 32; ++i) ascending[i] = static_cast<std::uint8_t>(i);
  CHECK(crc32c(ascending) == 0x46DD794Eu);
}

TEST_CASE("CRC-32C of nothing is zero") {
  CHECK(crc32c(Bytes{}) == 0u);
}

TEST_CASE("CRC-32C slicing-by-8 agrees with the bitwise definition at every length and alignment") {
  std::mt19937 rng(99);
  Bytes data(600);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t n = 0; n + offset <= 200; ++n) {
      const ByteView view(data.data() + offset, n);
      REQUIRE(crc32c(view) == crc32c_bitwise(view));
      REQUIRE(crc32c_portable(view) == crc32c_bitwise(view));
    }
  }
  CHECK(crc32c(data) == crc32c_bitwise(data));
  CHECK(crc32c_portable(data) == crc32c_bitwise(data));
}

TEST_CASE("CRC-32C's hardware and portable paths agree, piecewise too") {
  std::mt19937 rng(7);
  Bytes data(9000);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  const ByteView all(data);
  CHECK(crc32c_portable(as_bytes("123456789")) == 0xE3069283u);
  for (std::size_t split : {0, 1, 7, 8, 9, 4095, 8999, 9000}) {
    const std::uint32_t first = crc32c(all.first(split));
    CHECK(first == crc32c_portable(all.first(split)));
    CHECK(crc32c(all.subspan(split), first) == crc32c_portable(all.subspan(split), first));
  }
}

TEST_CASE("CRC-32C can be computed piecewise by passing the running value") {
  const auto all = as_bytes("the quick brown fox jumps over the lazy dog");
  for (std::size_t split = 0; split <= all.size(); ++split) {
    REQUIRE(crc32c(all.subspan(split), crc32c(all.first(split))) == crc32c(all));
  }
}
