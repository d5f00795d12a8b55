#include "bench/runner/record_builder.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

using namespace derma;

TEST_CASE("a scan is never shaped larger than the rectangle that was asked for") {
  suite::ScanStep step;
  step.length_mm = 1.0;  // 50 rows at 20 um
  step.width_mm = 0.4;   // 20 columns
  step.pitch_um = 20;
  runner::ScanRecordBuilder builder(step, 0);
  proto::ScanRows rows;
  rows.row = 0;
  rows.height_nm = std::vector<std::int32_t>(20, -1000);
  builder.add(rows);
  proto::OperationDone done;
  done.operation = proto::MsgType::Scan;
  done.rows = 65535;  // a confused rig
  done.cols = 65535;
  done.pitch_um = 20;
  const analysis::ScanRecord scan = builder.finish(done, 0);
  CHECK(scan.map.rows == 50);
  CHECK(scan.map.cols == 20);
  CHECK(scan.map.at(0, 5) == Approx(-1.0));
  CHECK(std::isnan(scan.map.at(1, 5)));  // never received: no data, not zero
}

TEST_CASE("a rig that scanned fewer rows than asked gives the smaller map") {
  suite::ScanStep step;
  step.length_mm = 1.0;
  step.width_mm = 0.4;
  step.pitch_um = 20;
  runner::ScanRecordBuilder builder(step, 0);
  proto::OperationDone done;
  done.operation = proto::MsgType::Scan;
  done.rows = 10;
  done.cols = 20;
  done.pitch_um = 20;
  const analysis::ScanRecord scan = builder.finish(done, 0);
  CHECK(scan.map.rows == 10);
  CHECK(scan.map.cols == 20);
}

TEST_CASE("pixels of the asked rectangle that never arrived are counted as missing") {
  suite::ScanStep step;
  step.length_mm = 1.0;  // 50 rows at 20 um
  step.width_mm = 0.4;   // 20 columns
  step.pitch_um = 20;
  runner::ScanRecordBuilder builder(step, 0);
  const int rows_sent = GENERATE(50, 30, 0);
  for (int r = 0; r < rows_sent; ++r) {
    proto::ScanRows rows;
    rows.row = static_cast<std::uint16_t>(r);
    rows.height_nm = std::vector<std::int32_t>(20, proto::kNoData);  // unreadable: not missing
    builder.add(rows);
  }
  proto::OperationDone done;
  done.operation = proto::MsgType::Scan;
  done.rows = 50;  // the rig claims the whole rectangle
  done.cols = 20;
  done.pitch_um = 20;
  const analysis::ScanRecord scan = builder.finish(done, 0);
  CHECK(scan.pixels_missing == static_cast<std::uint64_t>((50 - rows_sent) * 20));
}

TEST_CASE("a map cut to fewer columns than asked keeps every pixel at its row and column") {
  suite::ScanStep step;
  step.length_mm = 0.1;  // 5 rows at 20 um
  step.width_mm = 0.2;   // 10 columns
  step.pitch_um = 20;
  runner::ScanRecordBuilder builder(step, 0);
  for (int r = 0; r < 5; ++r) {
    for (std::uint16_t col0 : {0, 4}) {  // two chunks per row; the second runs past the edge
      proto::ScanRows rows;
      rows.row = static_cast<std::uint16_t>(r);
      rows.col0 = col0;
      for (int c = col0; c < col0 + 8; ++c) rows.height_nm.push_back(-(r * 100 + c) * 1000);
      builder.add(rows);
    }
  }
  proto::OperationDone done;
  done.operation = proto::MsgType::Scan;
  done.rows = 4;
  done.cols = 6;
  done.pitch_um = 20;
  const analysis::ScanRecord scan = builder.finish(done, 0);
  REQUIRE(scan.map.rows == 4);
  REQUIRE(scan.map.cols == 6);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 6; ++c) CHECK(scan.map.at(r, c) == Approx(-(r * 100 + c)));
  // Asked 5 x 10 = 50 pixels; 24 lie in the map the rig shaped, the others do not count.
  CHECK(scan.pixels_missing == 50 - 24);
}

namespace {
// How many pixels nm_to_um converts differently from one double division each (the first
// few are named).
std::size_t differing_conversions(const std::vector<std::int32_t>& nm) {
  std::vector<float> um(nm.size());
  runner::nm_to_um(nm.data(), um.data(), nm.size());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < nm.size(); ++i) {
    const float expected =
        nm[i] == proto::kNoData ? analysis::HeightMap::kNoData : static_cast<float>(nm[i] / 1000.0);
    const bool same = std::isnan(expected) ? std::isnan(um[i]) : um[i] == expected;
    if (!same && differing++ < 5) FAIL_CHECK("h = " << nm[i] << " nm: " << um[i] << " um");
  }
  return differing;
}
}  // namespace

TEST_CASE("heights convert to um exactly as one double division each, whatever the block") {
  constexpr std::int32_t kExactNm = 1 << 24;
  SECTION("every height the fast path takes, |h| <= 2^24 nm") {
    std::vector<std::int32_t> nm;
    nm.reserve(2 * kExactNm + 1);
    for (std::int32_t h = -kExactNm; h <= kExactNm; ++h) nm.push_back(h);
    CHECK(differing_conversions(nm) == 0);
  }
  SECTION("kNoData and heights beyond 2^24 nm, inside blocks and in the tail") {
    std::vector<std::int32_t> nm(100);
    for (std::size_t i = 0; i < nm.size(); ++i)
      nm[i] = static_cast<std::int32_t>(i * 7919) - 300'000;
    const std::int32_t odd[] = {proto::kNoData, kExactNm + 1, -kExactNm - 1, INT32_MAX,
                                INT32_MIN + 1,  123'456'789,  -987'654'321};
    for (std::size_t k = 0; k < std::size(odd); ++k) {
      nm[20 + 3 * k] = odd[k];  // inside the second and third blocks of 16
      nm[96 + k % 4] = odd[k];  // the tail: 100 = 6 blocks + 4
    }
    CHECK(differing_conversions(nm) == 0);
  }
}
