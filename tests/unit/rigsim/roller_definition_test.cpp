#include "fixtures/rigsim/roller_definition.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "fixtures/rigsim/roller_model.hpp"

using namespace derma::rigsim;

namespace {
const char* kValid = R"(model: DR-192-0.50
serial: SIM-0001
geometry: {discs: 8, needles_per_disc: 24, drum_diameter_mm: 20.0, width_mm: 20.0,
           needle_length_mm: 0.50, needle_diameter_mm: 0.25}
variation: {length_sd_um: 8}
seed: 42
defects:
  - {kind: missing, disc: 3, index: 7}
  - {kind: bent, disc: 1, index: 0, length_loss_um: 150}
  - {kind: blunt, disc: 5, index: 12, force_factor: 3.0}
  - {kind: eccentric, runout_um: 80}
  - {kind: tilt, um_per_mm: 4}
  - {kind: slip, fraction: 0.05}
)";

std::string with_defect(const std::string& defect) {
  std::string text = kValid;
  return text.substr(0, text.find("defects:")) +
         "defects:\n  - {kind: missing, disc: 0, index: 0}\n  - " + defect + "\n";
}
}  // namespace

TEST_CASE("a roller file with every defect kind parses into its defects") {
  auto def = parse_roller(kValid, "roller.yaml");
  REQUIRE(def.has_value());
  CHECK(def->model == "DR-192-0.50");
  CHECK(def->serial == "SIM-0001");
  CHECK(def->geometry.needle_count() == 192);
  CHECK(def->length_sd_um == 8);
  CHECK(def->seed == 42);
  REQUIRE(def->defects.size() == 6);
  CHECK(def->defects[0].kind == DefectKind::Missing);
  CHECK(def->defects[0].disc == 3);
  CHECK(def->defects[0].index == 7);
  CHECK(def->defects[1].kind == DefectKind::Bent);
  CHECK(def->defects[1].length_loss_um == 150);
  CHECK(def->defects[2].kind == DefectKind::Blunt);
  CHECK(def->defects[2].force_factor == 3.0);
  CHECK(def->runout_um() == 80);
  CHECK(def->tilt_um_per_mm() == 4);
  CHECK(def->slip_fraction() == Approx(0.05));
  CHECK(def->defects[5].line == 13);
}

TEST_CASE("the needle defects change exactly the needles they name") {
  auto def = parse_roller(kValid, "roller.yaml");
  REQUIRE(def.has_value());
  const RollerModel model = build_roller_model(*def, def->seed);
  CHECK(model.needle(3, 7).missing);
  CHECK_FALSE(model.needle(3, 8).missing);
  CHECK(model.needle(1, 0).length_um < 400);
  CHECK(model.needle(5, 12).force_factor == 3.0);
  CHECK(model.needle(5, 11).force_factor == 1.0);
}

TEST_CASE("roller file errors name the file, the line and the problem") {
  SECTION("unknown defect kind") {
    auto def = parse_roller(with_defect("{kind: warped, disc: 1, index: 1}"), "bad.yaml");
    REQUIRE_FALSE(def.has_value());
    CHECK_THAT(def.error().message, Catch::Contains("bad.yaml:9:"));
    CHECK_THAT(def.error().message, Catch::Contains("unknown defect kind 'warped'"));
  }
  SECTION("disc out of range") {
    auto def = parse_roller(with_defect("{kind: missing, disc: 8, index: 1}"), "bad.yaml");
    REQUIRE_FALSE(def.has_value());
    CHECK_THAT(def.error().message, Catch::Contains("bad.yaml:9:"));
    CHECK_THAT(def.error().message, Catch::Contains("disc"));
    CHECK_THAT(def.error().message, Catch::Contains("out of range [0, 7]"));
  }
  SECTION("negative length") {
    std::string text = kValid;
    text.replace(text.find("needle_length_mm: 0.50"), 22, "needle_length_mm: -0.5");
    auto def = parse_roller(text, "bad.yaml");
    REQUIRE_FALSE(def.has_value());
    CHECK_THAT(def.error().message, Catch::Contains("bad.yaml:4:"));
    CHECK_THAT(def.error().message, Catch::Contains("negative"));
  }
  SECTION("missing key") {
    auto def = parse_roller("model: X\nserial: Y\n", "bad.yaml");
    REQUIRE_FALSE(def.has_value());
    CHECK_THAT(def.error().message, Catch::Contains("missing key 'geometry'"));
  }
  SECTION("a defect without its magnitude") {
    auto def = parse_roller(with_defect("{kind: bent, disc: 1, index: 1}"), "bad.yaml");
    REQUIRE_FALSE(def.has_value());
    CHECK_THAT(def.error().message, Catch::Contains("length_loss_um"));
  }
  SECTION("YAML syntax error") {
    auto def = parse_roller("model: [unclosed\n", "bad.yaml");
    REQUIRE_FALSE(def.has_value());
    CHECK_THAT(def.error().message, Catch::Contains("bad.yaml:"));
  }
  SECTION("a file that does not exist") {
    auto def = load_roller_file("/nonexistent/roller.yaml");
    REQUIRE_FALSE(def.has_value());
    CHECK_THAT(def.error().message, Catch::Contains("/nonexistent/roller.yaml"));
  }
}

TEST_CASE("every roller file in fixtures/rollers loads") {
  int count = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(DERMA_SOURCE_DIR) + "/fixtures/rollers")) {
    if (entry.path().extension() != ".yaml") continue;
    INFO(entry.path());
    auto def = load_roller_file(entry.path());
    CHECK(def.has_value());
    ++count;
  }
  CHECK(count >= 11);
}

TEST_CASE(
    "the penetration model gives about 65 % at the recommended load and less for blunt needles") {
  RollerGeometry g;  // DR-192-0.50
  CHECK(penetration_fraction(g, 10'000, 1.0) == Approx(0.65).margin(0.01));
  CHECK(penetration_fraction(g, load_for_fraction_mN(g, 0.65), 1.0) == Approx(0.65));
  const double blunt = penetration_fraction(g, 10'000, 3.0);
  const double loss = 1.0 - blunt / penetration_fraction(g, 10'000, 1.0);
  CHECK(loss > 0.30);
  CHECK(loss < 0.50);
  CHECK(penetration_fraction(g, 12'000, 1.0) > penetration_fraction(g, 10'000, 1.0));
}
