// Fuzz target: height maps from other instruments (bench/scanfile), judged as
// `bench analyze-scan` judges them: the file is read (an ASCII grid from text, or an X3P
// container from a file), made a square-pixel HeightMap and analysed against the
// DR-192-0.50 spec (channel detection, depth, density).
// Input: one byte of options (bit 0: X3P instead of ASCII grid; bit 1: transpose; bits 2-3:
// height unit; bits 4-7: X and Y pitches from a small table, equal or not), then the file.
// Properties: no crash, no exception, errors name the file and say what.
#include <array>
#include <string>

#include "bench/analysis/scan_checks.hpp"
#include "bench/scanfile/csv_grid.hpp"
#include "bench/scanfile/x3p_file.hpp"
#include "bench/suite/product_spec.hpp"
#include "tests/fuzz/fuzz_target.hpp"
#include "tests/fuzz/temp_file.hpp"

#ifndef DERMA_SOURCE_DIR
#error "DERMA_SOURCE_DIR must name the source tree (fixtures/specs)"
#endif

namespace {

using namespace derma;

const suite::ProductSpec& spec() {
  static const suite::ProductSpec loaded = [] {
    auto s = suite::load_product_spec(std::string(DERMA_SOURCE_DIR) +
                                      "/fixtures/specs/DR-192-0.50.yaml");
    if (!s) {
      std::fprintf(stderr, "scan_files fuzz target: %s\n", s.error().to_string().c_str());
      std::exit(2);
    }
    return *s;
  }();
  return loaded;
}

std::expected<scanfile::ScanSurface, scanfile::ScanFileError> read_surface(std::uint8_t options,
                                                                           const std::uint8_t* data,
                                                                           std::size_t size) {
  if (options & 1) {
    static fuzz::ScratchFile scratch(".x3p");
    return scanfile::read_x3p(scratch.write(data, size));
  }
  constexpr std::array<double, 4> kPitches_um = {25, 10, 50, 2.5};
  scanfile::CsvGridOptions grid;
  grid.transpose = (options & 2) != 0;
  grid.unit = static_cast<scanfile::HeightUnit>(((options >> 2) & 3) % 3);
  grid.pitch_x_um = kPitches_um[(options >> 4) & 3];
  grid.pitch_y_um = kPitches_um[(options >> 6) & 3];
  return scanfile::parse_csv_grid(std::string(reinterpret_cast<const char*>(data), size),
                                  "fuzz.csv", grid);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto surface = read_surface(data[0], data + 1, size - 1);
  if (!surface) {
    FUZZ_CHECK(!surface.error().file.empty() && !surface.error().message.empty(),
               "a scan file error does not name the file or say what");
    return 0;
  }
  FUZZ_CHECK(surface->height_um.size() == static_cast<std::size_t>(surface->nx) * surface->ny,
             "a scan surface's size is not nx x ny");
  const auto map = scanfile::to_height_map(*surface);
  if (!map) {
    FUZZ_CHECK(!map.error().empty(), "a height map error without a message");
    return 0;
  }
  const analysis::Analysis analysed =
      analysis::analyse_scan_only(*map, spec().geometry, spec().limits);
  FUZZ_CHECK(analysed.checks.size() == analysis::scan_only_check_ids().size(),
             "analyse_scan_only did not judge every scan-only check");
  return 0;
}
