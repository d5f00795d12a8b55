// Fuzz target: the YAML files a user hands the bench and the virtual rig. Every input is
// parsed as a suite (bench/suite/suite.hpp), as a product spec (product_spec.hpp) and as a
// roller definition (fixtures/rigsim/roller_definition.hpp); an accepted roller is then built
// into the needle model rigsim rolls (roller_model.hpp), as rigsim does at start.
// Properties: no crash, no exception, and every rejection names the file and says what.
#include <cmath>
#include <string>

#include "bench/suite/product_spec.hpp"
#include "bench/suite/suite.hpp"
#include "fixtures/rigsim/roller_model.hpp"
#include "tests/fuzz/fuzz_target.hpp"

namespace {

void check_input_error(const derma::suite::InputError& error, const std::string& file) {
  FUZZ_CHECK(error.file == file, "an input error does not name the file");
  FUZZ_CHECK(!error.message.empty(), "an input error does not say what is wrong");
}

void check_roller(const std::string& text) {
  const std::string source = "fuzz/roller.yaml";
  const auto roller = derma::rigsim::parse_roller(text, source);
  if (!roller) {
    FUZZ_CHECK(roller.error().message.starts_with(source + ":"),
               "a roller file error does not name the file");
    return;
  }
  const derma::rigsim::RollerModel model = derma::rigsim::build_roller_model(*roller, roller->seed);
  const auto& geometry = model.geometry();
  FUZZ_CHECK(
      model.needles.size() == static_cast<std::size_t>(geometry.discs) * geometry.needles_per_disc,
      "the roller model does not have discs x needles_per_disc needles");
  for (const derma::rigsim::Defect& defect : roller->defects) {
    if (defect.disc < 0) continue;  // a drum-level defect
    FUZZ_CHECK(defect.disc < geometry.discs && defect.index >= 0 &&
                   defect.index < geometry.needles_per_disc,
               "an accepted defect names a needle the roller does not have");
  }
  for (const derma::rigsim::Needle& needle : model.needles)
    FUZZ_CHECK(std::isfinite(needle.length_um) && std::isfinite(needle.insertion_force_mN),
               "a needle of an accepted roller has a non-finite length or force");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  const std::string suite_file = "fuzz/suite.yaml";
  std::string spec_path;
  const auto suite = derma::suite::parse_suite(text, suite_file, &spec_path);
  if (!suite) check_input_error(suite.error(), suite_file);

  const std::string spec_file = "fuzz/spec.yaml";
  const auto spec = derma::suite::parse_product_spec(text, spec_file);
  if (!spec) check_input_error(spec.error(), spec_file);

  check_roller(text);
  return 0;
}
