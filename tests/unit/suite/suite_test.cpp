#include "bench/suite/suite.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace derma;

namespace {

// A scratch directory with a valid spec, where each test writes its own suite.
struct Scratch {
  fs::path dir;
  Scratch() {
    dir = fs::temp_directory_path() / ("suite-test-" + std::to_string(::getpid()) + "-" +
                                       std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::create_directories(dir / "specs");
    fs::copy_file(fs::path(DERMA_SOURCE_DIR) / "fixtures/specs/DR-192-0.50.yaml",
                  dir / "specs/DR-192-0.50.yaml");
  }
  ~Scratch() { fs::remove_all(dir); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  }
};

const std::string kGoodSteps = R"(steps:
  - home
  - tare
  - lane: 2
  - roll: {start_mm: 10, stroke_mm: 80, speed_mm_s: 20, load_N: 10}
  - scan: {x_mm: 12, y_mm: 0, length_mm: 70, width_mm: 20, pitch_um: 20}
  - checks: [penetration_depth, roll_slip]
)";

}  // namespace

TEST_CASE("every shipped suite loads, and each model has a full validation suite") {
  int validation_suites = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(DERMA_SOURCE_DIR) / "fixtures/suites")) {
    INFO(entry.path());
    auto suite = suite::load_suite(entry.path().string());
    REQUIRE(suite.has_value());
    CHECK(!suite->spec.model.empty());
    const std::string name = entry.path().filename().string();
    if (name.rfind("validate-", 0) != 0) continue;
    // validate-MODEL.yaml, or a variant of it: validate-MODEL-CONDITIONS.yaml
    const std::string canonical = "validate-" + suite->spec.model + ".yaml";
    if (name == canonical)
      ++validation_suites;
    else
      CHECK(name.rfind("validate-" + suite->spec.model + "-", 0) == 0);
    const auto& last = suite->steps.back();
    REQUIRE(std::holds_alternative<suite::ChecksStep>(last.action));
    CHECK(std::get<suite::ChecksStep>(last.action).ids == analysis::all_check_ids());
  }
  int specs = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(DERMA_SOURCE_DIR) / "fixtures/specs")) {
    ++specs;
    const std::string model = entry.path().stem().string();
    CHECK(fs::exists(fs::path(DERMA_SOURCE_DIR) / "fixtures/suites" /
                     ("validate-" + model + ".yaml")));
  }
  CHECK(validation_suites == specs);
}

TEST_CASE("a suite's spec path is relative to the suite file") {
  Scratch s;
  fs::create_directories(s.dir / "suites");
  const auto path =
      s.write("suites/a.yaml", "suite: a\nspec: ../specs/DR-192-0.50.yaml\n" + kGoodSteps);
  auto suite = suite::load_suite(path);
  REQUIRE(suite.has_value());
  CHECK(suite->spec.model == "DR-192-0.50");
  CHECK(suite->spec.geometry.needle_count() == 192);
  REQUIRE(suite->steps.size() == 6);
  CHECK(std::get<suite::LaneStep>(suite->steps[2].action).lane == 2);
  const auto& roll = std::get<suite::RollStep>(suite->steps[3].action);
  CHECK(roll.load_N == 10);
  CHECK(roll.passes == 1);  // default
  CHECK(suite->steps[3].line == 7);
}

TEST_CASE("bad suites are rejected with file, line and the problem") {
  Scratch s;
  const std::string head = "suite: a\nspec: specs/DR-192-0.50.yaml\n";

  SECTION("a YAML syntax error") {
    const auto path = s.write("bad.yaml", head + "steps: [home,\n  - {roll: }\n");
    auto suite = suite::load_suite(path);
    REQUIRE_FALSE(suite.has_value());
    CHECK(suite.error().file == path);
    CHECK(suite.error().line > 0);
    CHECK(suite.error().message.find("YAML syntax") != std::string::npos);
  }
  SECTION("a value that is not a number names the key and its line") {
    const auto path = s.write("bad.yaml", head +
                                              "steps:\n  - home\n  - roll: {start_mm: 10, "
                                              "stroke_mm: 80, speed_mm_s: fast, load_N: 10}\n");
    auto suite = suite::load_suite(path);
    REQUIRE_FALSE(suite.has_value());
    CHECK(suite.error().line == 5);
    CHECK(suite.error().message.find("speed_mm_s") != std::string::npos);
    CHECK(suite.error().message.find("'fast'") != std::string::npos);
  }
  SECTION("a misspelt key is an error, not a silent default") {
    const auto path = s.write("bad.yaml", head +
                                              "steps:\n  - home\n  - roll: {start_mm: 10, "
                                              "stroke_mm: 80, speed_mm_s: 20, load_n: 10}\n");
    auto suite = suite::load_suite(path);
    REQUIRE_FALSE(suite.has_value());
    CHECK(suite.error().message.find("unknown key 'load_n'") != std::string::npos);
  }
  SECTION("an unknown step") {
    const auto path = s.write("bad.yaml", head + "steps:\n  - home\n  - dance\n");
    auto suite = suite::load_suite(path);
    REQUIRE_FALSE(suite.has_value());
    CHECK(suite.error().line == 5);
    CHECK(suite.error().message.find("unknown step 'dance'") != std::string::npos);
  }
  SECTION("an unknown check id") {
    const auto path =
        s.write("bad.yaml", head + kGoodSteps.substr(0, kGoodSteps.find("  - checks")) +
                                "  - checks: [needle_colour]\n");
    auto suite = suite::load_suite(path);
    REQUIRE_FALSE(suite.has_value());
    CHECK(suite.error().message.find("unknown check 'needle_colour'") != std::string::npos);
  }
  SECTION("motion before home") {
    const auto path = s.write(
        "bad.yaml",
        head + "steps:\n  - roll: {start_mm: 10, stroke_mm: 80, speed_mm_s: 20, load_N: 10}\n");
    auto suite = suite::load_suite(path);
    REQUIRE_FALSE(suite.has_value());
    CHECK(suite.error().message.find("before any 'home'") != std::string::npos);
  }
  SECTION("checks without a scan") {
    const auto path =
        s.write("bad.yaml", head +
                                "steps:\n  - home\n  - roll: {start_mm: 10, stroke_mm: 80, "
                                "speed_mm_s: 20, load_N: 10}\n  - checks: [all]\n");
    auto suite = suite::load_suite(path);
    REQUIRE_FALSE(suite.has_value());
    CHECK(suite.error().line == 6);
  }
  SECTION("a missing spec file names the path") {
    const auto path = s.write("bad.yaml", "suite: a\nspec: specs/NOPE.yaml\n" + kGoodSteps);
    auto suite = suite::load_suite(path);
    REQUIRE_FALSE(suite.has_value());
    CHECK(suite.error().line == 2);
    CHECK(suite.error().message.find("NOPE.yaml") != std::string::npos);
  }
  SECTION("a missing suite file") {
    auto suite = suite::load_suite((s.dir / "absent.yaml").string());
    REQUIRE_FALSE(suite.has_value());
    CHECK(suite.error().message == "cannot open file");
  }
  SECTION("an out-of-range number names its unit and range") {
    const auto path = s.write("bad.yaml", head +
                                              "steps:\n  - home\n  - roll: {start_mm: 10, "
                                              "stroke_mm: 80, speed_mm_s: 20, load_N: -3}\n");
    auto suite = suite::load_suite(path);
    REQUIRE_FALSE(suite.has_value());
    CHECK(suite.error().message.find("out of range") != std::string::npos);
    CHECK(suite.error().to_string().find("bad.yaml:5:") != std::string::npos);
  }
}

TEST_CASE("a suite's phantom and scanner are kept as YAML for the virtual rig") {
  Scratch s;
  const std::string head = "suite: a\nspec: specs/DR-192-0.50.yaml\n";
  SECTION("without them, nothing is passed on") {
    auto suite = suite::load_suite(s.write("plain.yaml", head + kGoodSteps));
    REQUIRE(suite.has_value());
    CHECK(suite->phantom.yaml.empty());
    CHECK(suite->scanner.yaml.empty());
    CHECK_FALSE(suite::virtual_rig_only_key(*suite, "/dev/ttyACM0").has_value());
  }
  SECTION("each section in flow style on one line, with its line in the suite") {
    auto suite = suite::load_suite(
        s.write("surface.yaml", head +
                                    "phantom: {preset: harsh, curvature_radius_mm: 50}\n"
                                    "scanner:\n"
                                    "  preset: typical   # a comment is not passed on\n"
                                    "  noise_sd_um: 1\n"
                                    "  waves: [2, 5]\n" +
                                    kGoodSteps));
    REQUIRE(suite.has_value());
    CHECK(suite->phantom.yaml == "{preset: harsh, curvature_radius_mm: 50}");
    CHECK(suite->phantom.line == 3);
    // bench does not read the contents (an unknown key is rigsim's to report).
    CHECK(suite->scanner.yaml == "{preset: typical, noise_sd_um: 1, waves: [2, 5]}");
    CHECK(suite->scanner.line == 4);
    CHECK(suite->text.find("phantom: {preset: harsh") != std::string::npos);  // captured as is
  }
  SECTION("an empty section is no section") {
    auto suite = suite::load_suite(s.write("empty.yaml", head + "scanner:\n" + kGoodSteps));
    REQUIRE(suite.has_value());
    CHECK(suite->scanner.yaml.empty());
  }
  SECTION("a misspelt top-level key is still an error") {
    auto suite =
        suite::load_suite(s.write("typo.yaml", head + "scaner: {preset: harsh}\n" + kGoodSteps));
    REQUIRE_FALSE(suite.has_value());
    CHECK(suite.error().message.find("unknown key 'scaner'") != std::string::npos);
  }
}

TEST_CASE("a real rig refuses a suite that asks for the virtual rig's faults, phantom or scanner") {
  Scratch s;
  const std::string head = "suite: a\nspec: specs/DR-192-0.50.yaml\n";
  const auto refusal = [&](const std::string& key_line) {
    const auto path = s.write("sim-only.yaml", head + key_line + kGoodSteps);
    auto suite = suite::load_suite(path);
    REQUIRE(suite.has_value());
    auto refused = suite::virtual_rig_only_key(*suite, "/dev/ttyACM0");
    REQUIRE(refused.has_value());
    CHECK(refused->file == path);
    CHECK(refused->line == 3);
    CHECK(refused->message.find("--rig sim, not on /dev/ttyACM0") != std::string::npos);
    return refused->message;
  };
  CHECK(refusal("phantom: {preset: harsh}\n").find("'phantom' sets the virtual rig's phantom") !=
        std::string::npos);
  CHECK(refusal("scanner:\n  preset: ideal\n").find("'scanner' sets the virtual rig's scanner") !=
        std::string::npos);
  CHECK(refusal("faults: [reboot@roll1+40%]\n").find("'faults' are injected by the virtual rig") !=
        std::string::npos);
}

TEST_CASE("a spec whose limits contradict each other is rejected") {
  Scratch s;
  std::ifstream in(s.dir / "specs/DR-192-0.50.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto pos = text.find("lsl_um: 260");
  REQUIRE(pos != std::string::npos);
  text.replace(pos, 11, "lsl_um: 900");
  const auto path = s.write("specs/broken.yaml", text);
  auto spec = suite::load_product_spec(path);
  REQUIRE_FALSE(spec.has_value());
  CHECK(spec.error().message.find("usl_um must be greater than lsl_um") != std::string::npos);
}
