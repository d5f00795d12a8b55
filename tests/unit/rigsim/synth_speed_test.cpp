// How long synthesising the validation scan takes per preset (70 x 20 mm at 20 um: 3.5 Mpx).
// A measurement, not a test: hidden, run it with `test_rigsim "[.speed]"`.
#include <catch2/catch.hpp>
#include <chrono>
#include <iostream>
#include <string>

#include "fixtures/rigsim/height_map_synth.hpp"
#include "test_host.hpp"

using namespace derma::rigsim;

TEST_CASE("synthesis time of a 3.5-megapixel scan per preset", "[.speed]") {
  for (const char* preset : {"ideal", "typical", "harsh"}) {
    RollerDefinition def = test::fixture_roller("nominal-DR-192-0.50.yaml");
    def.phantom = *phantom_preset(preset);
    def.scanner = *scanner_preset(preset);
    test::TestHost host(def, def.seed);
    host.hello();
    host.home();
    host.roll();
    derma::proto::Scan tiny = test::typical_scan();
    tiny.length_um = 20;  // builds the channels' shapes; the timed scan follows
    host.scan(tiny);
    const Lane& lane = host.fw.phantom().lane(0);
    std::vector<ChannelShape> shapes;
    for (const Channel& c : lane.channels) shapes.push_back(*c.scan_shape);
    const derma::proto::Scan scan = test::typical_scan();
    const ScanWindow window{double(scan.x0_um), double(scan.y0_um), 3500, 1000,
                            double(scan.pitch_um)};
    double best_ms = 1e9;
    std::vector<std::int32_t> row;
    for (int rep = 0; rep < 7; ++rep) {
      HeightMapSynth synth(lane.form, shapes, window, def.scanner.settings, 7, 9);
      const auto t0 = std::chrono::steady_clock::now();
      for (int r = 0; r < window.rows; ++r) synth.row(r, row);
      const auto t1 = std::chrono::steady_clock::now();
      best_ms = std::min(best_ms, std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::cout << preset << ": " << shapes.size() << " channels, 3.5 Mpx in " << best_ms
              << " ms (best of 7)\n";
  }
}
