#include "fixtures/rigsim/height_map_synth.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <vector>

#include "drivers/protocol/messages.hpp"
#include "fixtures/rigsim/phantom.hpp"

using namespace derma;
using rigsim::HeightMapSynth;

namespace {

// A flat, level lane surface and no pits: every pixel is the surface plus the noise.
std::vector<double> flat_noise_um(std::uint64_t seed, int rows, int cols) {
  rigsim::PhantomForm flat;
  flat.plane.offset_um = 100.0;
  HeightMapSynth synth(flat, {}, rigsim::ScanWindow{1'000, 0, rows, cols, 10},
                       rigsim::ScannerSettings{}, seed, seed);
  std::vector<double> noise;
  std::vector<std::int32_t> row;
  for (int r = 0; r < rows; ++r) {
    synth.row(r, row);
    for (std::int32_t h : row) noise.push_back(h / 1000.0 - 100.0);
  }
  return noise;
}

}  // namespace

TEST_CASE("the scanner's noise is Gaussian with the scanner's sigma") {
  const std::vector<double> noise = flat_noise_um(42, 200, 1000);
  double sum = 0, sum2 = 0;
  std::size_t within_1_1_sigma = 0, within_2_1_sigma = 0, beyond_3_1_sigma = 0;
  for (double n : noise) {
    sum += n;
    sum2 += n * n;
    // Heights come in 0.1-um steps: count steps, with bounds between them (0.55 um = 1.1 sigma).
    const long steps = std::lround(std::abs(n) * 1000.0 / rigsim::kScannerResolution_nm);
    within_1_1_sigma += steps <= 5;
    within_2_1_sigma += steps <= 10;
    beyond_3_1_sigma += steps > 15;
  }
  const double count = static_cast<double>(noise.size());
  const double mean = sum / count;
  const double sigma = std::sqrt(sum2 / count - mean * mean);
  CHECK(std::abs(mean) < 0.005);
  CHECK(sigma == Approx(rigsim::kScannerNoise_um).epsilon(0.01));
  // The shares a normal distribution puts within 1.1 and 2.1 sigma, and beyond 3.1 (0.19 %).
  CHECK(within_1_1_sigma / count == Approx(0.7287).margin(0.005));
  CHECK(within_2_1_sigma / count == Approx(0.9643).margin(0.003));
  CHECK(beyond_3_1_sigma / count == Approx(0.00194).margin(0.0005));
}

TEST_CASE("the scanner's noise is the same for the same seed and differs between seeds") {
  CHECK(flat_noise_um(7, 3, 101) == flat_noise_um(7, 3, 101));
  CHECK(flat_noise_um(7, 3, 101) != flat_noise_um(8, 3, 101));
}

TEST_CASE("pixels beyond the lane's width carry no data") {
  rigsim::PhantomForm flat;
  HeightMapSynth synth(flat, {}, rigsim::ScanWindow{1'000, rigsim::kLaneWidth_um - 20, 1, 5, 10},
                       rigsim::ScannerSettings{}, 1, 1);
  std::vector<std::int32_t> row;
  synth.row(0, row);
  REQUIRE(row.size() == 5);
  CHECK(row[0] != proto::kNoData);
  CHECK(row[2] != proto::kNoData);  // on the edge
  CHECK(row[3] == proto::kNoData);
  CHECK(row[4] == proto::kNoData);
}
