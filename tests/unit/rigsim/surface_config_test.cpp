// The roller file's `phantom:` and `scanner:` sections: presets, overrides, and errors as
// clear as the rest of the file's (FILE:LINE: problem).
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "fixtures/rigsim/roller_definition.hpp"
#include "fixtures/rigsim/surface_presets.hpp"

using namespace derma::rigsim;

namespace {

const char* kHead = R"(model: DR-192-0.50
serial: SIM-0001
geometry: {discs: 8, needles_per_disc: 24, drum_diameter_mm: 20.0, width_mm: 20.0,
           needle_length_mm: 0.50, needle_diameter_mm: 0.25}
)";

// The head (lines 1-4) and then `sections` from line 5 on.
std::string roller_with(const std::string& sections) {
  return std::string(kHead) + sections;
}

std::string error_of(const std::string& sections) {
  auto def = parse_roller(roller_with(sections), "bad.yaml");
  REQUIRE_FALSE(def.has_value());
  return def.error().message;
}

}  // namespace

TEST_CASE("without phantom or scanner sections a roller gets the default preset, typical") {
  CHECK(kDefaultPreset == "typical");
  auto def = parse_roller(kHead, "roller.yaml");
  REQUIRE(def.has_value());
  CHECK(def->phantom.preset == "typical");
  CHECK(def->scanner.preset == "typical");
  const PhantomSettings typical_phantom = *phantom_preset("typical");
  const ScannerConfig typical_scanner = *scanner_preset("typical");
  CHECK(def->phantom.channels.imprint == typical_phantom.channels.imprint);
  CHECK(def->phantom.form.curvature_radius_mm == typical_phantom.form.curvature_radius_mm);
  CHECK(def->phantom.form.waviness_um == typical_phantom.form.waviness_um);
  CHECK(def->scanner.settings.noise_sd_um == typical_scanner.settings.noise_sd_um);
  CHECK_FALSE(def->scanner.settings.reads_everything());
}

TEST_CASE("the ideal preset is the Gaussian-pit scan of before") {
  auto def = parse_roller(std::string(kHead) + "phantom: {preset: ideal}\nscanner: {preset: ideal}\n",
                          "roller.yaml");
  REQUIRE(def.has_value());
  CHECK_FALSE(def->phantom.channels.imprint);
  CHECK(def->phantom.form.tilt_max_um_per_mm == 1.0);
  CHECK(def->phantom.form.curvature_radius_mm == 0);
  CHECK(def->phantom.form.waviness_um == 0);
  CHECK(def->scanner.settings.noise_sd_um == 0.5);
  CHECK(def->scanner.settings.step_nm == 100);
  CHECK(def->scanner.settings.reads_everything());
  CHECK(def->scanner.settings.spikes_ppm == 0);
  CHECK(def->scanner.settings.dust_particles == 0);
}

TEST_CASE("a preset is the starting point and single keys override it") {
  auto def = parse_roller(roller_with(R"(phantom:
  preset: harsh
  rim_height_um: 2
  curvature: sphere
  curvature_radius_mm: 500
  waviness_wavelength_mm: [3, 4]
  tilt_max_deg: 0.5
scanner: {preset: typical, noise_sd_um: 0.3, step_nm: 50, floor_loss: 0.1}
)"),
                          "roller.yaml");
  REQUIRE(def.has_value());
  const PhantomSettings& p = def->phantom;
  CHECK(p.preset == "harsh");
  CHECK(p.channels.imprint);
  CHECK(p.channels.rim_height_um == 2);
  CHECK(p.channels.slot_retention == phantom_preset("harsh")->channels.slot_retention);
  CHECK(p.form.curvature == Curvature::Sphere);
  CHECK(p.form.curvature_radius_mm == 500);
  CHECK(p.form.waviness_um == 10);
  CHECK(p.form.wavelength_min_mm == 3);
  CHECK(p.form.wavelength_max_mm == 4);
  CHECK(p.form.tilt_max_um_per_mm == Approx(std::tan(0.5 * M_PI / 180) * 1000));
  const ScannerSettings& s = def->scanner.settings;
  CHECK(def->scanner.preset == "typical");
  CHECK(s.noise_sd_um == 0.3);
  CHECK(s.step_nm == 50);
  CHECK(s.floor_loss == 0.1);
  CHECK(s.steep_loss == scanner_preset("typical")->settings.steep_loss);
}

TEST_CASE("the needle's point is part of the geometry, with defaults") {
  auto plain = parse_roller(kHead, "roller.yaml");
  REQUIRE(plain.has_value());
  CHECK(plain->geometry.needle_tip_angle_deg == 30);
  CHECK(plain->geometry.needle_tip_radius_um == 15);
  std::string text = kHead;
  text.replace(text.find("needle_diameter_mm: 0.25}"), 25,
               "needle_diameter_mm: 0.25, needle_tip_angle_deg: 20, needle_tip_radius_um: 8}");
  auto def = parse_roller(text, "roller.yaml");
  REQUIRE(def.has_value());
  CHECK(def->geometry.needle_tip_angle_deg == 20);
  CHECK(def->geometry.needle_tip_radius_um == 8);
}

TEST_CASE("phantom and scanner section errors name the file, the line and the problem") {
  using Catch::Contains;
  SECTION("an unknown preset") {
    const std::string e = error_of("phantom:\n  preset: rough\n");
    CHECK_THAT(e, Contains("bad.yaml:6:"));
    CHECK_THAT(e, Contains("unknown phantom preset 'rough' (expected ideal, typical or harsh)"));
  }
  SECTION("an unknown key (a typo must not pass as an extra key)") {
    const std::string e = error_of("scanner:\n  preset: typical\n  nois_sd_um: 0.2\n");
    CHECK_THAT(e, Contains("bad.yaml:7:"));
    CHECK_THAT(e, Contains("unknown key 'scanner.nois_sd_um'"));
    CHECK_THAT(e, Contains("noise_sd_um"));
  }
  SECTION("a number out of range") {
    const std::string e = error_of("scanner:\n  steep_loss: 1.5\n");
    CHECK_THAT(e, Contains("bad.yaml:6:"));
    CHECK_THAT(e, Contains("'scanner.steep_loss' = 1.5 is out of range [0, 1]"));
  }
  SECTION("a negative waviness") {
    const std::string e = error_of("phantom: {preset: typical, waviness_um: -3}\n");
    CHECK_THAT(e, Contains("bad.yaml:5:"));
    CHECK_THAT(e, Contains("waviness_um"));
    CHECK_THAT(e, Contains("negative"));
  }
  SECTION("a step that is not a whole number of nm") {
    const std::string e = error_of("scanner:\n  step_nm: 2.5\n");
    CHECK_THAT(e, Contains("bad.yaml:6:"));
    CHECK_THAT(e, Contains("'scanner.step_nm' must be an integer"));
  }
  SECTION("a floor rounding wider than half the needle's radius") {
    const std::string e = error_of("phantom:\n  preset: typical\n  floor_rounding_um: 80\n");
    CHECK_THAT(e, Contains("bad.yaml:7:"));
    CHECK_THAT(e, Contains("out of range [0, 62.5] um"));
  }
  SECTION("a rim on a Gaussian pit") {
    const std::string e = error_of("phantom:\n  preset: ideal\n  rim_height_um: 3\n");
    CHECK_THAT(e, Contains("bad.yaml:6:"));
    CHECK_THAT(e, Contains("needs channel_shape: imprint"));
  }
  SECTION("an unknown channel shape or curvature") {
    CHECK_THAT(error_of("phantom: {channel_shape: square}\n"),
               Contains("unknown phantom.channel_shape 'square' (expected gaussian or imprint)"));
    CHECK_THAT(error_of("phantom: {curvature: saddle}\n"),
               Contains("unknown phantom.curvature 'saddle'"));
  }
  SECTION("a former tighter than 25 mm, or too small for the lane") {
    const std::string tight =
        error_of("phantom:\n  curvature: cylinder\n  curvature_radius_mm: 20\n");
    CHECK_THAT(tight, Contains("bad.yaml:7:"));
    CHECK_THAT(tight, Contains("below the tightest former, 25 mm"));
    const std::string sphere =
        error_of("phantom:\n  curvature: sphere\n  curvature_radius_mm: 40\n");
    CHECK_THAT(sphere, Contains("bad.yaml:7:"));
    CHECK_THAT(sphere, Contains("a sphere must reach the lane's farthest point"));
  }
  SECTION("wavelengths that are not [shortest, longest]") {
    CHECK_THAT(error_of("phantom:\n  waviness_wavelength_mm: [5, 2]\n"),
               Contains("bad.yaml:6: 'phantom.waviness_wavelength_mm': the longest"));
    CHECK_THAT(error_of("phantom:\n  waviness_wavelength_mm: 3\n"),
               Contains("must be a list of two numbers"));
  }
  SECTION("a section that is not a map") {
    CHECK_THAT(error_of("scanner: typical\n"), Contains("bad.yaml:5: 'scanner' must be a map"));
  }
  SECTION("a form steeper than the scanner reads") {
    const std::string e =
        error_of("phantom: {preset: harsh}\nscanner: {preset: harsh, acceptance_deg: 60}\n");
    CHECK_THAT(e, Contains("bad.yaml:5:"));
    CHECK_THAT(e, Contains("the phantom's form reaches a slope of"));
  }
}

// rigsim --phantom / --scanner (e.g. a suite's sections): each replaces the file's section of
// the same name, read and checked by the same code, its errors naming the option.
namespace {

const char* kHarshRoller = R"(model: DR-192-0.50
serial: SIM-H
geometry: {discs: 8, needles_per_disc: 24, drum_diameter_mm: 20.0, width_mm: 20.0,
           needle_length_mm: 0.50, needle_diameter_mm: 0.25}
phantom: {preset: harsh}
scanner: {preset: harsh}
)";

std::string option_error_of(const SurfaceSections& replacing, const char* roller = kHead) {
  auto def = parse_roller(roller, "roller.yaml", replacing);
  REQUIRE_FALSE(def.has_value());
  CHECK(def.error().in_option);
  return def.error().message;
}

}  // namespace

TEST_CASE("rigsim's --phantom and --scanner replace the roller file's sections of the same name") {
  SECTION("a harsh scanner whatever the roller file says") {
    SurfaceSections replacing;
    replacing.scanner = "{preset: harsh}";
    auto def = parse_roller(kHead, "roller.yaml", replacing);
    REQUIRE(def.has_value());
    CHECK(def->scanner.preset == "harsh");
    CHECK(def->scanner.settings.floor_loss == scanner_preset("harsh")->settings.floor_loss);
    CHECK(def->phantom.preset == "typical");  // the file's (here its default), untouched
  }
  SECTION("the option replaces the whole section: keys it does not give are its preset's") {
    SurfaceSections replacing;
    replacing.phantom = "{preset: harsh, curvature_radius_mm: 50}";
    replacing.scanner = "{preset: ideal}";
    auto def = parse_roller(
        roller_with("phantom: {preset: ideal, waviness_um: 2}\nscanner: {preset: harsh}\n"),
        "roller.yaml", replacing);
    REQUIRE(def.has_value());
    CHECK(def->phantom.preset == "harsh");
    CHECK(def->phantom.form.curvature_radius_mm == 50);
    CHECK(def->phantom.form.waviness_um == phantom_preset("harsh")->form.waviness_um);
    CHECK(def->scanner.preset == "ideal");
    CHECK(def->scanner.settings.reads_everything());
  }
  SECTION("an ideal phantom and scanner on a harsh roller file") {
    SurfaceSections replacing;
    replacing.phantom = "{preset: ideal}";
    replacing.scanner = "{preset: ideal}";
    auto def = parse_roller(kHarshRoller, "harsh.yaml", replacing);
    REQUIRE(def.has_value());
    CHECK_FALSE(def->phantom.channels.imprint);
    CHECK(def->scanner.settings.reads_everything());
  }
  SECTION("a file without the sections, and no options: the default preset still") {
    auto def = parse_roller(kHead, "roller.yaml", SurfaceSections{});
    REQUIRE(def.has_value());
    CHECK(def->scanner.preset == kDefaultPreset);
  }
}

TEST_CASE("rigsim's --phantom and --scanner errors name the option, its line and the problem") {
  using Catch::Contains;
  SurfaceSections replacing;
  SECTION("an unknown key") {
    replacing.scanner = "{preset: harsh, noize_um: 3}";
    const std::string e = option_error_of(replacing);
    CHECK_THAT(e, Contains("--scanner: line 1: unknown key 'scanner.noize_um'"));
    CHECK_THAT(e, Contains("noise_sd_um"));
  }
  SECTION("a block-style section's line") {
    replacing.phantom = "preset: typical\nrim_width: 9\n";
    CHECK_THAT(
        option_error_of(replacing),
        Contains("--phantom: line 2: 'phantom.rim_width' = 9 opening radii is out of range"));
  }
  SECTION("an unknown preset") {
    replacing.phantom = "{preset: rough}";
    CHECK_THAT(option_error_of(replacing),
               Contains("--phantom: line 1: unknown phantom preset 'rough'"));
  }
  SECTION("a range that depends on the mounted roller's needle") {
    replacing.phantom = "{floor_rounding_um: 80}";
    CHECK_THAT(option_error_of(replacing), Contains("out of range [0, 62.5] um"));
  }
  SECTION("a YAML syntax error") {
    replacing.scanner = "{preset: harsh";
    CHECK_THAT(option_error_of(replacing), Contains("--scanner: line 1: YAML syntax error"));
  }
  SECTION("not a map, or nothing") {
    replacing.scanner = "harsh";
    CHECK_THAT(option_error_of(replacing), Contains("--scanner: line 1: 'scanner' must be a map"));
    replacing.scanner = "";
    CHECK_THAT(option_error_of(replacing), Contains("'scanner' must be a map"));
  }
  SECTION("a form steeper than the scanner reads: located at the option, naming both origins") {
    replacing.scanner = "{preset: harsh, acceptance_deg: 60}";
    const std::string e = option_error_of(replacing, kHarshRoller);
    CHECK_THAT(e, Contains("--scanner: line 1: the phantom's form reaches a slope of"));
    CHECK_THAT(e, Contains("(phantom from roller.yaml, scanner from --scanner)"));
  }
}

TEST_CASE("a roller file's section is checked even when an option replaces it") {
  SurfaceSections replacing;
  replacing.scanner = "{preset: ideal}";
  auto def = parse_roller(roller_with("scanner:\n  nois_sd_um: 0.2\n"), "bad.yaml", replacing);
  REQUIRE_FALSE(def.has_value());
  CHECK_FALSE(def.error().in_option);
  CHECK_THAT(def.error().message, Catch::Contains("bad.yaml:6: unknown key 'scanner.nois_sd_um'"));
}
