// The `ideal` phantom and scanner presets reproduce the synthesis rigsim had before the
// phantom and scanner became realistic (Gaussian pits on a tilted plane, white noise of
// 0.5 um, 0.1-um steps, no unreadable point), byte for byte: other tests and recorded
// captures rely on those bytes. The digests below were taken from that synthesis (commit
// f0bda67) with g++ 12 on Debian bookworm; a change of libm's exp() could move them.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "fixtures/rigsim/truth.hpp"
#include "test_host.hpp"

using namespace derma;
using namespace derma::rigsim;
using derma::rigsim::test::TestHost;

namespace {

// FNV-1a, 64 bits: a digest of the heights as the host receives them.
struct Digest {
  std::uint64_t value = 0xcbf29ce484222325ull;
  void add(std::uint64_t word) {
    for (int k = 0; k < 8; ++k) {
      value ^= (word >> (8 * k)) & 0xffu;
      value *= 0x100000001b3ull;
    }
  }
};

// A roll of the suite's typical kind and a 12 x 20 mm scan (600 x 1000 pixels at 20 um) over
// its channels, in either row encoding: the digest of every height the scan streamed.
std::uint64_t scan_digest(const RollerDefinition& roller, proto::RowEncoding encoding) {
  TestHost host(roller, roller.seed);
  host.hello();
  host.home();
  host.roll();
  proto::Scan scan = test::typical_scan();
  scan.length_um = 12'000;
  scan.row_encoding = encoding;
  host.scan(scan);
  Digest digest;
  const bool delta = encoding == proto::RowEncoding::Delta;
  for (const proto::Frame& f :
       host.of(delta ? proto::MsgType::ScanRowsDelta : proto::MsgType::ScanRows)) {
    const auto rows =
        delta ? proto::decode_scan_rows_delta(f.payload) : proto::decode_scan_rows(f.payload);
    REQUIRE(rows.has_value());
    for (std::int32_t h : rows->height_nm) digest.add(static_cast<std::uint32_t>(h));
  }
  return digest.value;
}

}  // namespace

TEST_CASE("a scan with the ideal presets is byte-identical to the Gaussian-pit synthesis") {
  const RollerDefinition roller = test::ideal_fixture_roller("nominal-DR-192-0.50.yaml");
  CHECK(scan_digest(roller, proto::RowEncoding::Int32) == 0xd1185fc31ef4fe6bull);
  CHECK(scan_digest(roller, proto::RowEncoding::Delta) == 0xd1185fc31ef4fe6bull);
  const RollerDefinition fine = test::ideal_fixture_roller("nominal-DR-540-0.50.yaml");
  CHECK(scan_digest(fine, proto::RowEncoding::Delta) == 0xe555fc23bd891810ull);
}
