#include <algorithm>
#include <catch2/catch.hpp>
#include <random>

#include "drivers/protocol/frame.hpp"

using namespace derma::proto;

namespace {

Bytes iota_bytes(std::size_t n, std::uint8_t first) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(first + i);
  return b;
}

void require_round_trip(const Bytes& raw) {
  const Bytes encoded = cobs_encode(raw);
  INFO("raw size " << raw.size());
  REQUIRE(std::find(encoded.begin(), encoded.end(), 0) == encoded.end());
  REQUIRE(encoded.size() <= raw.size() + raw.size() / 254 + 1);
  const auto decoded = cobs_decode(encoded);
  REQUIRE(decoded.has_value());
  REQUIRE(*decoded == raw);
}

}  // namespace

TEST_CASE("COBS encodes the published examples byte for byte") {
  CHECK(cobs_encode(Bytes{}) == Bytes{0x01});
  CHECK(cobs_encode(Bytes{0x00}) == Bytes{0x01, 0x01});
  CHECK(cobs_encode(Bytes{0x00, 0x00}) == Bytes{0x01, 0x01, 0x01});
  CHECK(cobs_encode(Bytes{0x00, 0x11, 0x00}) == Bytes{0x01, 0x02, 0x11, 0x01});
  CHECK(cobs_encode(Bytes{0x11, 0x22, 0x00, 0x33}) == Bytes{0x03, 0x11, 0x22, 0x02, 0x33});
  CHECK(cobs_encode(Bytes{0x11, 0x00, 0x00, 0x00}) == Bytes{0x02, 0x11, 0x01, 0x01, 0x01});

  SECTION("254 non-zero bytes make one full block and no trailing empty block") {
    const Bytes raw = iota_bytes(254, 0x01);  // 01..FE
    Bytes expected{0xFF};
    expected.insert(expected.end(), raw.begin(), raw.end());
    CHECK(cobs_encode(raw) == expected);
  }
  SECTION("255 non-zero bytes start a second block") {
    const Bytes raw = iota_bytes(255, 0x01);  // 01..FF
    Bytes expected{0xFF};
    expected.insert(expected.end(), raw.begin(), raw.begin() + 254);
    expected.push_back(0x02);
    expected.push_back(0xFF);
    CHECK(cobs_encode(raw) == expected);
  }
  SECTION("a zero before 254 non-zero bytes") {
    Bytes raw{0x00};
    const Bytes tail = iota_bytes(254, 0x01);
    raw.insert(raw.end(), tail.begin(), tail.end());
    Bytes expected{0x01, 0xFF};
    expected.insert(expected.end(), tail.begin(), tail.end());
    CHECK(cobs_encode(raw) == expected);
  }
}

TEST_CASE("COBS round-trips runs of non-zero bytes around the 254-byte block size") {
  for (std::size_t n : {1u, 2u, 253u, 254u, 255u, 256u, 507u, 508u, 509u, 762u, 8202u}) {
    require_round_trip(Bytes(n, 0x5A));
    Bytes with_zero_after = Bytes(n, 0xFF);
    with_zero_after.push_back(0x00);
    require_round_trip(with_zero_after);
    Bytes with_zero_before{0x00};
    with_zero_before.insert(with_zero_before.end(), n, 0x01);
    require_round_trip(with_zero_before);
  }
}

TEST_CASE("COBS round-trips all-zero inputs of every length up to 600") {
  for (std::size_t n = 0; n <= 600; ++n) {
    const Bytes raw(n, 0x00);
    const Bytes encoded = cobs_encode(raw);
    REQUIRE(encoded == Bytes(n + 1, 0x01));
    require_round_trip(raw);
  }
}

TEST_CASE("COBS round-trips random data of many lengths and zero densities") {
  std::mt19937 rng(1234);
  for (int zero_per_mille : {0, 2, 50, 500, 1000}) {
    for (int trial = 0; trial < 60; ++trial) {
      const std::size_t n = std::uniform_int_distribution<std::size_t>(0, 1200)(rng);
      Bytes raw(n);
      for (auto& b : raw) {
        const bool zero = std::uniform_int_distribution<int>(0, 999)(rng) < zero_per_mille;
        b = zero ? 0 : static_cast<std::uint8_t>(std::uniform_int_distribution<int>(1, 255)(rng));
      }
      require_round_trip(raw);
    }
  }
}

TEST_CASE("COBS decoding rejects invalid encodings") {
  SECTION("an empty input is not an encoding of anything") {
    CHECK_FALSE(cobs_decode(Bytes{}));
  }
  SECTION("a zero byte inside the encoding") {
    CHECK_FALSE(cobs_decode(Bytes{0x03, 0x11, 0x00}));
    CHECK_FALSE(cobs_decode(Bytes{0x00}));
  }
  SECTION("a block that runs past the end") {
    CHECK_FALSE(cobs_decode(Bytes{0x05, 0x11, 0x22}));
    CHECK_FALSE(cobs_decode(Bytes{0x02, 0x11, 0x03, 0x22}));
  }
  SECTION("an empty final block after a full block, a second spelling of the same data") {
    Bytes encoded{0xFF};
    encoded.insert(encoded.end(), 254, 0x33);
    REQUIRE(cobs_decode(encoded));
    encoded.push_back(0x01);
    CHECK_FALSE(cobs_decode(encoded));
  }
}

TEST_CASE("cobs_decode_into reuses the output buffer and clears it first") {
  Bytes out{9, 9, 9};
  REQUIRE(cobs_decode_into(Bytes{0x03, 0x11, 0x22, 0x01}, out));
  CHECK(out == Bytes{0x11, 0x22, 0x00});
  CHECK_FALSE(cobs_decode_into(Bytes{0x04, 0x11}, out));
}
