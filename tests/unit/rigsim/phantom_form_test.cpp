// The lane's form: tilt, curvature and waviness as configured, and the row-by-row relief the
// scan adds equal to the form's own.
#include "fixtures/rigsim/phantom_form.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "fixtures/rigsim/phantom.hpp"
#include "fixtures/rigsim/seeds.hpp"
#include "fixtures/rigsim/surface_presets.hpp"
#include "synth_test_support.hpp"

using namespace derma::rigsim;

TEST_CASE("the ideal lane is the plane rigsim always drew, and nothing more") {
  const Phantom phantom(derive_seed(42, Stream::Lane), phantom_preset("ideal")->form);
  for (int k = 0; k < kLanes; ++k) {
    // The historical draws: offset in [200, 400], slopes in [-1, 1] um/mm.
    std::mt19937_64 rng(
        derive_seed(derive_seed(42, Stream::Lane), Stream::Lane, static_cast<std::uint64_t>(k)));
    std::uniform_real_distribution<double> offset(200.0, 400.0), slope(-1.0, 1.0);
    const PhantomForm& form = phantom.lane(k).form;
    CHECK(form.plane.offset_um == offset(rng));
    CHECK(form.plane.slope_x_um_per_mm == slope(rng));
    CHECK(form.plane.slope_y_um_per_mm == slope(rng));
    CHECK(form.is_plane());
  }
}

TEST_CASE("lanes tilt up to the configured maximum on each axis") {
  PhantomFormSettings settings;
  settings.tilt_max_um_per_mm = std::tan(2.0 * M_PI / 180) * 1000;  // 2 degrees: 34.9 um/mm
  double steepest = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    const PhantomForm form = draw_lane_form(settings, seed, seed + 1);
    for (double s : {form.plane.slope_x_um_per_mm, form.plane.slope_y_um_per_mm}) {
      CHECK(std::abs(s) <= settings.tilt_max_um_per_mm);
      steepest = std::max(steepest, std::abs(s));
    }
  }
  CHECK(steepest > 0.95 * settings.tilt_max_um_per_mm);
}

TEST_CASE("a cylindrical former drops by its sagitta across the scan, a sphere both ways") {
  PhantomFormSettings settings;
  settings.tilt_max_um_per_mm = 0;
  settings.curvature = Curvature::Cylinder;
  settings.curvature_radius_mm = 25;
  settings.crown_y_mm = 10;
  const PhantomForm cylinder = draw_lane_form(settings, 1, 2);
  // 10 mm from the crown of a 25-mm cylinder: 25 - sqrt(25^2 - 10^2) mm lower.
  const double sagitta_um = 25'000 - std::sqrt(25'000.0 * 25'000 - 10'000.0 * 10'000);
  CHECK(sagitta_um == Approx(2'087.1).margin(0.1));
  // As the scanner sees it (no noise, 1-nm steps), at 20 um over y = 0 .. 20 mm.
  HeightMapSynth synth(cylinder, {}, ScanWindow{30'000, 0, 1, 1'001, 20}, test::exact_scanner(), 1,
                       2);
  const test::HeightMap map = test::synthesise(synth);
  CHECK(map.at(0, 500) - map.at(0, 0) == Approx(sagitta_um).margin(0.002));
  CHECK(map.at(0, 500) - map.at(0, 1000) == Approx(sagitta_um).margin(0.002));
  CHECK(cylinder.height_um(0, 10'000) == cylinder.height_um(100'000, 10'000));  // along X: level

  settings.curvature = Curvature::Sphere;
  settings.curvature_radius_mm = 400;
  const PhantomForm sphere = draw_lane_form(settings, 1, 2);
  const double drop_um = 400'000 - std::sqrt(400'000.0 * 400'000 - 10'000.0 * 10'000);
  CHECK(sphere.height_um(60'000, 10'000) - sphere.height_um(50'000, 10'000) == Approx(drop_um));
  CHECK(sphere.height_um(60'000, 10'000) - sphere.height_um(60'000, 20'000) == Approx(drop_um));
}

TEST_CASE("waviness stays within its amplitude, at wavelengths within the configured range") {
  PhantomFormSettings settings;
  settings.tilt_max_um_per_mm = 0;
  settings.waviness_um = 10;
  settings.wavelength_min_mm = 2;
  settings.wavelength_max_mm = 5;
  for (std::uint64_t seed = 0; seed < 8; ++seed) {
    const PhantomForm form = draw_lane_form(settings, seed, seed + 100);
    REQUIRE(form.waves.size() == static_cast<std::size_t>(kWaves));
    for (const Wave& w : form.waves) {
      CHECK(w.wavelength_mm >= 2);
      CHECK(w.wavelength_mm <= 5);
    }
    double highest = -1e9, lowest = 1e9;
    for (double x = 0; x <= kLaneLength_um; x += 50)
      for (double y = 0; y <= kLaneWidth_um; y += 250) {
        const double relief = form.relief_um(x, y);
        highest = std::max(highest, relief);
        lowest = std::min(lowest, relief);
      }
    INFO("seed " << seed);
    CHECK(highest <= 10);
    CHECK(lowest >= -10);
    CHECK(highest > 6);  // the waves add up somewhere along a 120-mm lane
    CHECK(lowest < -6);
  }
}

TEST_CASE("the scan's row-by-row relief equals the form's, and its slope bound holds") {
  PhantomFormSettings settings;
  settings.curvature = Curvature::Sphere;
  settings.curvature_radius_mm = 200;
  settings.waviness_um = 5;
  const PhantomForm form = draw_lane_form(settings, 3, 4);
  const FormRows rows(form, 1'000, 37, 300);
  std::vector<double> relief;
  double steepest_deg = 0;
  for (double x : {0.0, 12'345.0, 60'000.0, 119'000.0}) {
    rows.row(x, relief);
    for (int c = 0; c < 300; ++c) {
      const double y = 1'000 + 37.0 * c;
      CHECK(relief[static_cast<std::size_t>(c)] == Approx(form.relief_um(x, y)).margin(1e-9));
      const Gradient g = form.gradient(x, y);
      steepest_deg = std::max(steepest_deg, std::atan(std::hypot(g.x, g.y)) * 180 / M_PI);
      // The analytic gradient is the form's own.
      const double h = 0.01;
      CHECK(g.x ==
            Approx((form.height_um(x + h, y) - form.height_um(x - h, y)) / (2 * h)).margin(1e-6));
      CHECK(g.y ==
            Approx((form.height_um(x, y + h) - form.height_um(x, y - h)) / (2 * h)).margin(1e-6));
    }
  }
  CHECK(steepest_deg <= steepest_form_slope_deg(settings));
}
