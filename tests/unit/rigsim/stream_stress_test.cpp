// rigsim --stream-stress (benchmarks only, bench/benchmarks/link_benchmark.cpp): rolls
// stream the commanded motion without the physics, so that the link sets the pace.
#include <catch2/catch.hpp>

#include "test_host.hpp"

using namespace derma;
using namespace derma::rigsim;
using derma::rigsim::test::TestHost;
using proto::MsgType;

TEST_CASE("a stream-stress roll streams the commanded motion with no noise and no channels") {
  FirmwareConfig config;
  config.stream_stress = true;
  const RollerDefinition roller = test::fixture_roller("nominal-DR-192-0.50.yaml");
  TestHost host(roller, roller.seed, config);
  host.hello();
  host.home();
  host.frames.clear();
  const proto::Roll request = test::typical_roll();
  host.roll(request);

  std::uint32_t samples = 0;
  std::int32_t last_x_nm = 0;
  bool force_is_commanded = true, x_never_goes_back = true;
  for (const auto& frame : host.of(MsgType::SampleBatch)) {
    const auto batch = proto::decode_sample_batch(frame.payload);
    REQUIRE(batch.has_value());
    CHECK(batch->first_sample_index == samples);
    for (const proto::Sample& s : batch->samples) {
      force_is_commanded &= s.force_uN == static_cast<std::int32_t>(request.load_mN) * 1000;
      x_never_goes_back &= s.x_nm >= last_x_nm;
      last_x_nm = s.x_nm;
      ++samples;
    }
  }
  CHECK(force_is_commanded);
  CHECK(x_never_goes_back);
  CHECK(last_x_nm == static_cast<std::int32_t>(request.start_x_um + request.stroke_um) * 1000);
  CHECK(host.last_done().items_sent == samples);
  CHECK(host.fw.phantom().lane(0).channels.empty());  // nothing to scan: not a measurement
}
