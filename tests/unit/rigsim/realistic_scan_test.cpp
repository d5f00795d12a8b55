// The virtual rig with realistic phantoms and scanners, end to end: what the truth file says
// of every channel and scan, checked against the heights the scan streamed.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "fixtures/rigsim/truth.hpp"
#include "test_host.hpp"

using namespace derma;
using namespace derma::rigsim;
using derma::rigsim::test::TestHost;

namespace {

struct Scanned {
  proto::Scan scan;
  std::vector<std::int32_t> heights_nm;  // row-major
  double at_um(int r, int c) const {
    return heights_nm[static_cast<std::size_t>(r) * scan.width_um / scan.pitch_um + c] / 1000.0;
  }
};

// A roll and a scan of the first 10 mm of the rolled band, `width_um` wide, at `pitch_um`.
Scanned roll_and_scan(TestHost& host, std::uint16_t pitch_um, std::uint32_t width_um = 20'000) {
  host.hello();
  host.home();
  host.roll();
  Scanned out;
  out.scan = test::typical_scan();
  out.scan.length_um = 10'000;
  out.scan.width_um = width_um;
  out.scan.pitch_um = pitch_um;
  out.scan.row_encoding = proto::RowEncoding::Delta;
  host.scan(out.scan);
  for (const proto::Frame& f : host.of(proto::MsgType::ScanRowsDelta)) {
    const auto rows = proto::decode_scan_rows_delta(f.payload);
    REQUIRE(rows.has_value());
    out.heights_nm.insert(out.heights_nm.end(), rows->height_nm.begin(), rows->height_nm.end());
  }
  return out;
}

RollerDefinition with_presets(const std::string& file, const std::string& preset) {
  RollerDefinition def = test::fixture_roller(file);
  def.phantom = *phantom_preset(preset);
  def.scanner = *scanner_preset(preset);
  return def;
}

}  // namespace

TEST_CASE("the truth's depth is the form at the channel's centre minus the floor the scan shows") {
  // Every kind, on typical phantoms, seen by a scanner that shows the surface exactly.
  for (const char* file : {"nominal-DR-192-0.50.yaml", "nominal-DR-192-1.50.yaml"}) {
    for (const char* preset : {"ideal", "typical"}) {
      INFO(file << " " << preset);
      RollerDefinition def = with_presets(file, preset);
      def.scanner.settings.noise_sd_um = 0;
      def.scanner.settings.step_nm = 1;
      TestHost host(def, def.seed);
      const Scanned scanned = roll_and_scan(host, 5, 10'000);  // 4 Mpx, 4 discs
      const Lane& lane = host.fw.phantom().lane(0);
      const proto::Scan& s = scanned.scan;
      int checked = 0;
      for (const Channel& c : lane.channels) {
        const int r = static_cast<int>(std::lround((c.x_um - s.x0_um) / s.pitch_um));
        const int col = static_cast<int>(std::lround((c.y_um - s.y0_um) / s.pitch_um));
        if (r < 0 || r >= static_cast<int>(s.length_um / s.pitch_um) || col < 0 ||
            col >= static_cast<int>(s.width_um / s.pitch_um))
          continue;
        REQUIRE(c.scan_depth_um.has_value());
        REQUIRE(c.scan_shape.has_value());
        // The pixel nearest the centre is at most 3.5 um off it: on the floor's cap (or the
        // Gaussian's bottom, 1 - exp(-3.5^2 / 2 62.5^2) = 0.16 % of the depth higher) that is
        // within 1.5 um of the floor.
        const double depth_seen = lane.form.height_um(c.x_um, c.y_um) - scanned.at_um(r, col);
        CHECK(depth_seen == Approx(*c.scan_depth_um).margin(1.5));
        CHECK(depth_seen <= *c.scan_depth_um + 0.001);
        ++checked;
      }
      CHECK(checked > 10);
    }
  }
}

TEST_CASE("the channels' kinds follow the needles: funnels from 0.50-mm, cylinders from 1.50-mm") {
  const auto kinds_of = [](const char* file) {
    RollerDefinition def = with_presets(file, "typical");
    TestHost host(def, def.seed);
    roll_and_scan(host, 20);
    std::vector<ChannelKind> kinds;
    for (const Channel& c : host.fw.phantom().lane(0).channels) kinds.push_back(c.scan_shape->kind);
    return kinds;
  };
  for (ChannelKind k : kinds_of("nominal-DR-192-0.50.yaml")) CHECK(k == ChannelKind::Cone);
  for (ChannelKind k : kinds_of("nominal-DR-192-1.50.yaml")) CHECK(k == ChannelKind::ConeCylinder);
}

TEST_CASE("the truth file describes each channel's shape and floor and each scan's settings") {
  RollerDefinition def = test::fixture_roller("harsh-DR-192-0.50.yaml");
  def.scanner.settings.floor_loss = 0.2;  // enough unreadable floors among ~30 channels
  TestHost host(def, def.seed);
  const Scanned scanned = roll_and_scan(host, 20);
  const nlohmann::json truth = truth_json(host.fw);

  REQUIRE(truth["scans"].size() == 1);
  const nlohmann::json& scan = truth["scans"][0];
  CHECK(scan["phantom"]["preset"] == "harsh");
  CHECK(scan["phantom"]["channel_shape"] == "imprint");
  CHECK(scan["phantom"]["curvature"] == "cylinder");
  CHECK(scan["phantom"]["curvature_radius_mm"] == 25);
  CHECK(scan["scanner"]["preset"] == "harsh");
  CHECK(scan["scanner"]["steep_loss"] == 0.35);
  CHECK(scan["scanner"]["floor_loss"] == 0.2);
  CHECK(scan["dust"].size() == 3);
  CHECK(scan["unreadable_pixels"]["steep"].get<int>() > 0);
  CHECK(scan["unreadable_pixels"]["floor"].get<int>() > 0);
  CHECK(truth["roller"]["geometry"]["needle_tip_angle_deg"] == 30.0);

  // The pixels the scan streamed as unreadable are the ones the truth counts.
  std::uint64_t unreadable = 0;
  for (std::int32_t h : scanned.heights_nm) unreadable += h == proto::kNoData;
  CHECK(unreadable == scan["unreadable_pixels"]["steep"].get<std::uint64_t>() +
                          scan["unreadable_pixels"]["floor"].get<std::uint64_t>() +
                          scan["unreadable_pixels"]["random"].get<std::uint64_t>());

  int in_scan = 0, floors_lost = 0;
  for (const nlohmann::json& c : truth["channels"]) {
    const nlohmann::json& shape = c["shape"];
    CHECK(shape["kind"] == "cone");
    CHECK(shape["opening_radius_um"].get<double>() <= 125.0);
    CHECK(shape["length_x_um"].get<double>() > 2 * shape["opening_radius_um"].get<double>());
    CHECK(shape["rim_height_um"] == 8.0);
    CHECK(shape["floor_radius_um"] == 25.0);
    if (c["floor_readable"].is_null()) {
      const double x = c["x_um"].get<double>();
      CHECK((x < 12'000 + 30 || x > 12'000 + 10'000 - 30));  // outside the scan
      continue;
    }
    ++in_scan;
    const double share = c["floor_readable"].get<double>();
    CHECK(c["floor_pixels"].get<int>() > 0);
    if (c["floor_lost"].get<bool>()) {
      ++floors_lost;
      CHECK(share == 0);
    } else {
      CHECK(share >= 0.0);
      CHECK(share <= 1.0);
    }
  }
  CHECK(in_scan > 20);
  CHECK(floors_lost > 0);
  CHECK(floors_lost < in_scan);
}

TEST_CASE("realistic scans are the same bytes for the same roller, seed and commands") {
  for (const char* file : {"typical-DR-192-0.50.yaml", "harsh-DR-192-0.50.yaml"}) {
    INFO(file);
    const RollerDefinition def = test::fixture_roller(file);
    TestHost a(def, def.seed), b(def, def.seed), other(def, def.seed + 1);
    const Scanned sa = roll_and_scan(a, 20), sb = roll_and_scan(b, 20),
                  so = roll_and_scan(other, 20);
    CHECK(sa.heights_nm == sb.heights_nm);
    CHECK(sa.heights_nm != so.heights_nm);
    CHECK(truth_json(a.fw).dump() == truth_json(b.fw).dump());
  }
}
