// Helpers for tests of the phantom's and scanner's models: whole height maps from a
// HeightMapSynth, and a scanner that shows the surface exactly (no noise, 1-nm steps).
#pragma once

#include <cstdint>
#include <vector>

#include "drivers/protocol/messages.hpp"
#include "fixtures/rigsim/height_map_synth.hpp"

namespace derma::rigsim::test {

// Heights in um (kNoData stays a NaN), row-major.
struct HeightMap {
  ScanWindow window;
  std::vector<double> um;
  double at(int r, int c) const { return um[static_cast<std::size_t>(r * window.cols + c)]; }
  bool read(int r, int c) const { return at(r, c) == at(r, c); }
  double x_um(int r) const { return window.x0_um + r * window.pitch_um; }
  double y_um(int c) const { return window.y0_um + c * window.pitch_um; }
};

inline HeightMap synthesise(HeightMapSynth& synth) {
  HeightMap map{synth.window(), {}};
  std::vector<std::int32_t> row;
  for (int r = 0; r < map.window.rows; ++r) {
    synth.row(r, row);
    for (std::int32_t h : row) map.um.push_back(h == proto::kNoData ? NAN : h / 1000.0);
  }
  return map;
}

// A scanner that reads everything exactly: no noise, steps of 1 nm.
inline ScannerSettings exact_scanner() {
  ScannerSettings s;
  s.noise_sd_um = 0;
  s.step_nm = 1;
  return s;
}

// A level plane 300 um above the datum.
inline PhantomForm level_form() {
  PhantomForm form;
  form.plane.offset_um = 300;
  return form;
}

}  // namespace derma::rigsim::test
