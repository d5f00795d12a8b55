#include "fixtures/rigsim/truth.hpp"
#include "test_host.hpp"

using namespace derma;
using namespace derma::rigsim;
using derma::rigsim::test::TestHost;
using proto::MsgType;
using proto::Result;

namespace {
const char* kNominal = "nominal-DR-192-0.50.yaml";
}

TEST_CASE("the handshake reports the rig's identity, calibration and limits") {
  TestHost host(kNominal);
  host.hello(1500);
  const auto replies = host.of(proto::reply_type(MsgType::Hello));
  REQUIRE(replies.size() == 1);
  auto r = proto::decode_hello_reply(replies[0].payload);
  REQUIRE(r.has_value());
  CHECK(r->result == Result::Ok);
  CHECK(replies[0].seq == host.seq);
  CHECK(r->firmware_version == "rigsim 0.1.0");
  CHECK(r->rig_serial == "RIGSIM-01");
  CHECK(r->calibration_date == "2026-06-01");
  CHECK(r->calibration_due == "2027-06-01");
  CHECK((r->capabilities & proto::kCapLayeredPhantom) != 0);
  CHECK((r->capabilities & proto::kCapTemperature) != 0);
  CHECK(r->max_force_mN == 50'000);
  CHECK(r->max_speed_um_per_s == 100'000);
  CHECK(r->travel_x_um == 150'000);
  CHECK(r->travel_z_um == 20'000);
  CHECK(r->max_sample_rate_hz == 10'000);
  CHECK(r->encoder_counts_per_rev == 4096);
  CHECK(r->lanes == 8);
  CHECK(r->min_scan_pitch_um == 5);
  CHECK(r->phantom_lot == "PF-2026-11-A");
  CHECK(r->phantom_layers == 8);
  CHECK(r->layer_thickness_um == 130);
  CHECK(r->watchdog_timeout_ms == 1500);
}

TEST_CASE("a smaller tray and another phantom lot are reported and enforced") {
  FirmwareConfig config;
  config.lanes = 2;
  config.phantom_lot = "LOT-B";
  const RollerDefinition roller = test::fixture_roller(kNominal);
  TestHost host(roller, roller.seed, config);
  host.hello();
  auto r = proto::decode_hello_reply(host.of(proto::reply_type(MsgType::Hello))[0].payload);
  REQUIRE(r.has_value());
  CHECK(r->lanes == 2);
  CHECK(r->phantom_lot == "LOT-B");
  host.home();
  host.send(MsgType::SelectLane, proto::SelectLane{1});
  CHECK(host.last_ack(MsgType::SelectLane) == Result::Ok);
  host.send(MsgType::SelectLane, proto::SelectLane{2});
  CHECK(host.last_ack(MsgType::SelectLane) == Result::OutOfRange);
}

TEST_CASE("a Hello of another protocol version gets VersionMismatch with the rig's version") {
  TestHost host(kNominal);
  proto::Frame f;
  f.version = 3;
  f.type = MsgType::Hello;
  f.seq = 1;
  f.payload = {3, 0xE8, 0x03};
  host.fw.receive(proto::encode_frame(f), host.now_ms);
  host.pump();
  const auto replies = host.of(proto::reply_type(MsgType::Hello));
  REQUIRE(replies.size() == 1);
  REQUIRE(replies[0].payload.size() >= 2);
  CHECK(replies[0].payload[0] == static_cast<std::uint8_t>(Result::VersionMismatch));
  CHECK(replies[0].payload[1] == proto::kProtocolVersion);
  // And the session is not established.
  host.send(MsgType::Home, proto::Home{});
  CHECK(host.last_ack(MsgType::Home) == Result::NotReady);
}

TEST_CASE(
    "a version-1 host gets a version-1 session: every frame in version 1, scans as ScanRows") {
  TestHost host(kNominal);
  host.version = 1;
  host.hello();
  host.home();
  host.roll();
  proto::Scan small = test::typical_scan();
  small.length_um = 400;  // 20 rows
  host.scan(small);
  for (const proto::Frame& f : host.frames) CHECK(f.version == 1);
  CHECK(proto::decode_hello_reply(host.of(proto::reply_type(MsgType::Hello)).at(0).payload)
            ->protocol_version == 1);
  CHECK(host.of(MsgType::ScanRows).size() == 20);
  CHECK(host.of(MsgType::ScanRowsDelta).empty());
  // A version-2 Scan (19 bytes) in a version-1 frame is malformed.
  host.send_raw(MsgType::Scan, ++host.seq, proto::encode(small, 2));
  CHECK(host.last_ack(MsgType::Scan) == Result::BadRequest);
}

TEST_CASE("a scan asking for delta rows streams ScanRowsDelta with the heights ScanRows carries") {
  std::vector<std::int32_t> heights[2];
  std::size_t wire_bytes[2] = {};
  for (int k = 0; k < 2; ++k) {
    TestHost host(kNominal);
    host.hello();
    host.home();
    host.roll();
    proto::Scan scan = test::typical_scan();
    scan.length_um = 2'000;  // 100 rows x 1000 columns at 20 um, with channels
    scan.row_encoding = k == 0 ? proto::RowEncoding::Int32 : proto::RowEncoding::Delta;
    const std::size_t before = host.wire.size();
    host.scan(scan);
    wire_bytes[k] = host.wire.size() - before;
    const MsgType type = k == 0 ? MsgType::ScanRows : MsgType::ScanRowsDelta;
    CHECK(host.of(k == 0 ? MsgType::ScanRowsDelta : MsgType::ScanRows).empty());
    for (const proto::Frame& f : host.of(type)) {
      CHECK(f.version == 2);
      const auto rows =
          k == 0 ? proto::decode_scan_rows(f.payload) : proto::decode_scan_rows_delta(f.payload);
      REQUIRE(rows.has_value());
      heights[k].insert(heights[k].end(), rows->height_nm.begin(), rows->height_nm.end());
    }
    CHECK(host.last_done().items_sent == 100'000);
  }
  REQUIRE(heights[0].size() == 100'000);
  CHECK(heights[1] == heights[0]);
  // Whole steps of the scanner's resolution, and about a byte a pixel instead of four.
  for (std::int32_t h : heights[0]) {
    if (h != proto::kNoData && h % kScannerResolution_nm != 0) FAIL("height " << h << " nm");
  }
  CHECK(wire_bytes[1] * 3 < wire_bytes[0]);
}

TEST_CASE("the rig boots with Reboot latched and says so once") {
  TestHost host(kNominal);
  host.pump();
  REQUIRE(host.frames.size() == 1);
  CHECK(host.frames[0].type == MsgType::Fault);
  CHECK(proto::decode_fault(host.frames[0].payload)->fault == proto::FaultCode::Reboot);
}

TEST_CASE("motion is refused before Hello, while Reboot is latched, and before a completed Home") {
  TestHost host(kNominal);
  host.send(MsgType::Roll, test::typical_roll());
  CHECK(host.last_ack(MsgType::Roll) == Result::NotReady);
  host.send(MsgType::Home, proto::Home{});
  CHECK(host.last_ack(MsgType::Home) == Result::NotReady);
  host.hello();
  host.send(MsgType::Roll, test::typical_roll());
  CHECK(host.last_ack(MsgType::Roll) == Result::FaultActive);
  // An aborted Home clears the fault but leaves the rig not homed.
  host.send(MsgType::Home, proto::Home{});
  CHECK(host.last_ack(MsgType::Home) == Result::Ok);
  host.send(MsgType::Abort, proto::Abort{});
  host.run();
  host.send(MsgType::Roll, test::typical_roll());
  CHECK(host.last_ack(MsgType::Roll) == Result::NotHomed);
  host.send(MsgType::SelectLane, proto::SelectLane{1});
  CHECK(host.last_ack(MsgType::SelectLane) == Result::NotHomed);
  CHECK_FALSE(host.fw.busy());
  CHECK(host.fw.rolls().empty());
}

TEST_CASE("malformed and out-of-range requests get BadRequest and OutOfRange") {
  TestHost host(kNominal);
  host.hello();
  host.home();
  proto::Roll r = test::typical_roll();
  r.passes = 0;
  host.send(MsgType::Roll, r);
  CHECK(host.last_ack(MsgType::Roll) == Result::BadRequest);
  r = test::typical_roll();
  r.stroke_um = 115'000;  // past the end of the 120 mm lane
  host.send(MsgType::Roll, r);
  CHECK(host.last_ack(MsgType::Roll) == Result::OutOfRange);
  host.send(MsgType::SelectLane, proto::SelectLane{8});
  CHECK(host.last_ack(MsgType::SelectLane) == Result::OutOfRange);
  host.send_raw(MsgType::Status, ++host.seq, proto::Bytes{1, 2});
  const auto status = host.of(proto::reply_type(MsgType::Status)).back();
  CHECK(status.payload == proto::Bytes{static_cast<std::uint8_t>(Result::BadRequest)});
  host.send_raw(static_cast<MsgType>(0x20), ++host.seq, {});
  CHECK(host.last_ack(static_cast<MsgType>(0x20)) == Result::UnknownType);
  const std::size_t before = host.frames.size();
  host.send_raw(MsgType::OperationDone, ++host.seq, {});  // not a request: ignored
  CHECK(host.frames.size() == before);
}

TEST_CASE("stream and event frames carry the rig's own frame counter as seq") {
  TestHost host(kNominal);
  host.hello();
  host.home();
  host.roll();
  std::uint16_t expected = 0;
  for (const auto& f : host.frames) {
    if (!proto::is_stream_or_event(f.type)) continue;
    CHECK(f.seq == expected);
    ++expected;
  }
  CHECK(expected > 40);  // Reboot, Home's done, a roll's 44 batches and its done
}

TEST_CASE("Home replies at once and finishes with OperationDone carrying its seq") {
  TestHost host(kNominal);
  host.hello();
  const std::uint16_t seq = host.send(MsgType::Home, proto::Home{});
  CHECK(host.last_ack(MsgType::Home) == Result::Ok);
  CHECK(host.of(MsgType::OperationDone).empty());
  host.run();
  const auto done = host.last_done();
  CHECK(done.result == Result::Ok);
  CHECK(done.operation == MsgType::Home);
  CHECK(done.request_seq == seq);
}

TEST_CASE("a retried Roll with the same seq gets the same reply and produces one roll") {
  TestHost host(kNominal);
  host.hello();
  host.home();
  const auto payload = proto::encode(test::typical_roll());
  const std::uint16_t seq = ++host.seq;
  host.send_raw(MsgType::Roll, seq, payload);
  for (int k = 0; k < 5; ++k) host.fw.step(host.now_ms);
  host.pump();
  host.send_raw(MsgType::Roll, seq, payload);  // the host lost the Ack and retries
  host.run();
  const auto acks = host.of(proto::reply_type(MsgType::Roll));
  REQUIRE(acks.size() == 2);
  CHECK(acks[0].payload == acks[1].payload);
  CHECK(acks[1].seq == seq);
  CHECK(host.fw.rolls().size() == 1);
  CHECK(host.of(MsgType::OperationDone).size() == 2);  // Home's and the one roll's
  CHECK(host.last_done().result == Result::Ok);
}

TEST_CASE("a new request with a fresh seq while rolling is refused as Busy") {
  TestHost host(kNominal);
  host.hello();
  host.home();
  host.send(MsgType::Roll, test::typical_roll());
  host.send(MsgType::Roll, test::typical_roll());
  CHECK(host.last_ack(MsgType::Roll) == Result::Busy);
  host.run();
  CHECK(host.fw.rolls().size() == 1);
}

TEST_CASE("Abort during a roll ends it with Aborted after the Abort's Ack") {
  TestHost host(kNominal);
  host.hello();
  host.home();
  const std::uint16_t roll_seq = host.send(MsgType::Roll, test::typical_roll());
  for (int k = 0; k < 20; ++k) host.fw.step(host.now_ms);
  host.pump();
  const std::size_t batches_before = host.of(MsgType::SampleBatch).size();
  host.send(MsgType::Abort, proto::Abort{});
  CHECK(host.last_ack(MsgType::Abort) == Result::Ok);
  CHECK_FALSE(host.fw.busy());
  host.run();
  const auto done = host.last_done();
  CHECK(done.result == Result::Aborted);
  CHECK(done.request_seq == roll_seq);
  CHECK(done.frames_sent == batches_before);
  CHECK(host.of(MsgType::SampleBatch).size() == batches_before);
  // The Ack comes before the OperationDone.
  std::size_t ack_at = 0, done_at = 0;
  for (std::size_t k = 0; k < host.frames.size(); ++k) {
    if (host.frames[k].type == proto::reply_type(MsgType::Abort)) ack_at = k;
    if (host.frames[k].type == MsgType::OperationDone) done_at = k;
  }
  CHECK(ack_at < done_at);
  REQUIRE(host.fw.rolls().size() == 1);
  CHECK(host.fw.rolls()[0].aborted);
}

TEST_CASE("the watchdog stops a roll when the host falls silent, and Home clears the fault") {
  TestHost host(kNominal);
  host.hello(200);
  host.home();
  host.send(MsgType::Roll, test::typical_roll());
  for (int k = 0; k < 10; ++k) host.fw.step(host.now_ms);
  host.pump();
  CHECK(host.fw.busy());

  SECTION("a host that keeps talking keeps the roll going") {
    host.now_ms += 150;
    host.send(MsgType::Heartbeat, proto::Heartbeat{});
    host.now_ms += 150;
    host.fw.step(host.now_ms);
    CHECK(host.fw.busy());
  }
  SECTION("a silent host") {
    host.now_ms += 201;
    host.fw.step(host.now_ms);
    host.pump();
    CHECK_FALSE(host.fw.busy());
    const auto faults = host.of(MsgType::Fault);
    REQUIRE(faults.size() == 2);  // Reboot at boot, then the watchdog
    auto fault = proto::decode_fault(faults[1].payload);
    REQUIRE(fault.has_value());
    CHECK(fault->fault == proto::FaultCode::Watchdog);
    CHECK(fault->state_before == proto::RigState::Rolling);
    CHECK(host.last_done().result == Result::FaultActive);
    CHECK(host.last_done().operation == MsgType::Roll);
    // The Fault event comes before the OperationDone.
    CHECK(host.frames.back().type == MsgType::OperationDone);

    host.send(MsgType::Status, proto::StatusRequest{});
    auto status =
        proto::decode_status_reply(host.of(proto::reply_type(MsgType::Status)).back().payload);
    REQUIRE(status.has_value());
    CHECK(status->fault == proto::FaultCode::Watchdog);
    CHECK(status->state == proto::RigState::Faulted);
    CHECK(status->homed == 0);

    host.send(MsgType::Roll, test::typical_roll());
    CHECK(host.last_ack(MsgType::Roll) == Result::FaultActive);
    host.home();
    host.send(MsgType::Roll, test::typical_roll());
    CHECK(host.last_ack(MsgType::Roll) == Result::Ok);
  }
}

TEST_CASE("stream counters start at 0 for every operation and increase by one") {
  TestHost host(kNominal);
  host.hello();
  host.home();
  for (int roll = 0; roll < 2; ++roll) {
    host.send(MsgType::SelectLane, proto::SelectLane{static_cast<std::uint8_t>(roll)});
    host.frames.clear();
    host.roll();
    const auto batches = host.of(MsgType::SampleBatch);
    REQUIRE(batches.size() > 40);  // 4.3 s at 1 kHz in batches of 100 ms
    std::uint32_t next_index = 0;
    std::uint32_t items = 0;
    for (std::size_t k = 0; k < batches.size(); ++k) {
      auto b = proto::decode_sample_batch(batches[k].payload);
      REQUIRE(b.has_value());
      CHECK(b->batch_counter == k);
      CHECK(b->first_sample_index == next_index);
      next_index += static_cast<std::uint32_t>(b->samples.size());
      items += static_cast<std::uint32_t>(b->samples.size());
    }
    const auto done = host.last_done();
    CHECK(done.frames_sent == batches.size());
    CHECK(done.items_sent == items);
  }
  host.frames.clear();
  proto::Scan small = test::typical_scan();
  small.length_um = 1'000;
  small.width_um = 30'000;
  small.pitch_um = 10;  // 3000 columns: wider than one chunk, rows are split
  host.scan(small);
  const auto chunks = host.of(MsgType::ScanRows);
  REQUIRE(!chunks.empty());
  for (std::size_t k = 0; k < chunks.size(); ++k)
    CHECK(proto::decode_scan_rows(chunks[k].payload)->chunk_counter == k);
  CHECK(chunks.size() == 100 * 2);  // 100 rows of 3000 pixels: 2040 + 960
  CHECK(host.last_done().items_sent == 100 * 3000);
}

TEST_CASE("a scan before any roll on the lane is NotReady") {
  TestHost host(kNominal);
  host.hello();
  host.home();
  host.send(MsgType::Scan, test::typical_scan());
  CHECK(host.last_ack(MsgType::Scan) == Result::NotReady);
}

TEST_CASE("the same roller, seed and commands give byte-identical streams and truth") {
  const auto session = [](std::uint64_t seed) {
    TestHost host(test::fixture_roller(kNominal), seed);
    host.hello();
    host.home();
    host.roll();
    proto::Scan small = test::typical_scan();
    small.length_um = 10'000;  // a strip is enough to compare bytes
    host.scan(small);
    return std::make_pair(host.wire, truth_json(host.fw).dump());
  };
  const auto a = session(7);
  const auto b = session(7);
  const auto c = session(8);
  CHECK(a.first == b.first);
  CHECK(a.second == b.second);
  CHECK(a.first != c.first);
}
