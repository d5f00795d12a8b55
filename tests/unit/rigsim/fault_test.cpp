// Fault injection in rigsim: the SPEC parser, the line damage (deterministic, with an
// honest account of what it damaged) and the firmware's side of the event faults.
#include "fixtures/rigsim/fault_injector.hpp"
#include "fixtures/rigsim/fault_plan.hpp"
#include "test_host.hpp"

using namespace derma;
using namespace derma::rigsim;
using derma::rigsim::test::TestHost;
using proto::MsgType;
using proto::Result;

namespace {
const char* kNominal = "nominal-DR-192-0.50.yaml";

proto::Bytes sample_batch_frame(std::uint32_t counter) {
  proto::SampleBatch b;
  b.batch_counter = counter;
  b.first_sample_index = counter * 10;
  b.samples.resize(10);
  for (std::size_t k = 0; k < b.samples.size(); ++k)
    b.samples[k].force_uN = static_cast<std::int32_t>(1000 * k + counter);
  return proto::encode_frame({proto::kProtocolVersion, MsgType::SampleBatch,
                              static_cast<std::uint16_t>(counter), proto::encode(b)});
}

proto::Bytes stream_of(int frames) {
  proto::Bytes out;
  for (int k = 0; k < frames; ++k) {
    const proto::Bytes f = sample_batch_frame(static_cast<std::uint32_t>(k));
    out.insert(out.end(), f.begin(), f.end());
  }
  return out;
}

LinkFault line(LinkFaultKind kind, double rate) {
  LinkFault f;
  f.kind = kind;
  f.rate = rate;
  return f;
}

std::vector<proto::Sample> samples_of(const proto::Frame& frame) {
  auto batch = proto::decode_sample_batch(frame.payload);
  REQUIRE(batch.has_value());
  return batch->samples;
}

std::vector<proto::Frame> decode_all(const proto::Bytes& bytes) {
  proto::FrameDecoder d;
  d.feed(bytes);
  std::vector<proto::Frame> out;
  while (auto f = d.next()) out.push_back(*f);
  return out;
}
}  // namespace

TEST_CASE("a fault spec parses into line faults and event faults with their moments") {
  auto plan = parse_fault_spec(
      "bit_errors:1e-6, drop_frames>host@scan1+20%:0.05, reboot@roll2+40%, vanish@home1:1500ms, "
      "estop@scan1, stall@roll1:2s, lose_ack@roll1");
  REQUIRE(plan.has_value());
  REQUIRE(plan->link.size() == 2);
  CHECK(plan->link[0].kind == LinkFaultKind::BitErrors);
  CHECK(plan->link[0].direction == LinkDirection::Both);
  CHECK(plan->link[0].rate == Approx(1e-6));
  CHECK_FALSE(plan->link[0].window.has_value());
  CHECK(plan->link[1].direction == LinkDirection::ToHost);
  REQUIRE(plan->link[1].window.has_value());
  CHECK(plan->link[1].window->operation == OperationKind::Scan);
  CHECK(plan->link[1].window->fraction == Approx(0.2));
  REQUIRE(plan->events.size() == 5);
  CHECK(plan->events[0].kind == EventFaultKind::Reboot);
  CHECK(plan->events[0].at.ordinal == 2);
  CHECK(plan->events[0].at.fraction == Approx(0.4));
  CHECK(plan->events[0].at.text() == "roll2+40%");
  CHECK(plan->events[1].duration_s == Approx(1.5));
  CHECK(plan->events[2].at.ordinal == 1);  // "scan" alone is the first scan
  CHECK(plan->events[3].duration_s == Approx(2.0));
  CHECK(parse_fault_spec("")->empty());
}

TEST_CASE("a bad fault spec names the item and what is wrong with it") {
  const std::pair<const char*, const char*> cases[] = {
      {"wobble@roll1", "unknown fault 'wobble'"},
      {"bit_errors", "needs a rate"},
      {"drop_frames:1.5", "needs a rate"},
      {"reboot", "needs a moment"},
      {"reboot@lunch", "must start with home, roll or scan"},
      {"reboot@roll0", "not an operation number"},
      {"reboot@roll1+100%", "0 to below 100"},
      {"reboot@home1+50%", "a home has no progress"},
      {"stall@roll1", "needs a duration"},
      {"vanish@roll1:soon", "must be like 2s"},
      {"reboot@roll1:2s", "takes no value"},
      {"freeze@scan1", "only during a roll"},
      {"truncate@roll1", "only during a scan"},
      {"reboot>host@roll1", "only line faults"},
      {"bit_errors>modem:1e-6", "direction must be"},
      {"lose_ack@roll1+10%", "no percentage"},
  };
  for (const auto& [spec, needle] : cases) {
    INFO(spec);
    auto plan = parse_fault_spec(spec);
    REQUIRE_FALSE(plan.has_value());
    CHECK_THAT(plan.error(), Catch::Contains(needle) && Catch::Contains(spec));
  }
}

TEST_CASE("line damage is the same for the same seed however the bytes are sliced") {
  const proto::Bytes input = stream_of(200);
  const std::vector<LinkFault> faults = {line(LinkFaultKind::BitErrors, 1e-4),
                                         line(LinkFaultKind::DropFrames, 0.02),
                                         line(LinkFaultKind::SwapBytes, 1e-4)};
  LineDamage whole(faults, 99), sliced(faults, 99), other(faults, 100);
  proto::Bytes a, b, c;
  whole.pass(input, std::nullopt, a);
  for (std::size_t at = 0; at < input.size(); at += 37)
    sliced.pass(proto::ByteView(input).subspan(at, std::min<std::size_t>(37, input.size() - at)),
                std::nullopt, b);
  other.pass(input, std::nullopt, c);
  CHECK(a == b);
  CHECK(a != c);
  CHECK(whole.counters().injected() > 0);
  CHECK(whole.counters().data_frames_damaged > 0);
}

TEST_CASE("the line damage account matches what a receiver loses") {
  const proto::Bytes input = stream_of(300);
  SECTION("a clean line passes every byte") {
    LineDamage clean({line(LinkFaultKind::BitErrors, 0)}, 1);
    proto::Bytes out;
    clean.pass(input, std::nullopt, out);
    CHECK(out == input);
    CHECK(clean.counters().data_frames_damaged == 0);
  }
  for (auto kind :
       {LinkFaultKind::BitErrors, LinkFaultKind::DropBytes, LinkFaultKind::DupBytes,
        LinkFaultKind::SwapBytes, LinkFaultKind::DropFrames, LinkFaultKind::SwapFrames}) {
    SECTION(std::string("damage by ") + to_string(kind) + " is counted frame for frame") {
      // Rates that hit a few percent of the frames (many bytes of these frames are alike,
      // and a swap of two equal bytes changes nothing).
      const double rate = kind == LinkFaultKind::BitErrors    ? 2e-5
                          : kind >= LinkFaultKind::DropFrames ? 0.03
                          : kind == LinkFaultKind::SwapBytes  ? 1e-3
                                                              : 1e-4;
      LineDamage damage({line(kind, rate)}, 7);
      proto::Bytes out;
      damage.pass(input, std::nullopt, out);
      damage.release_held(out);
      // Frames that arrive intact and in order (the host drops counters that go backwards).
      std::uint32_t next = 0, delivered = 0;
      for (const auto& f : decode_all(out)) {
        const auto b = proto::decode_sample_batch(f.payload);
        REQUIRE(b.has_value());
        if (b->batch_counter < next) continue;
        next = b->batch_counter + 1;
        ++delivered;
      }
      CHECK(damage.counters().data_frames_damaged > 0);
      CHECK(300 - delivered == damage.counters().data_frames_damaged);
    }
  }
  SECTION("duplicated frames damage nothing") {
    LineDamage dup({line(LinkFaultKind::DupFrames, 0.1)}, 3);
    proto::Bytes out;
    dup.pass(input, std::nullopt, out);
    CHECK(dup.counters().frames_duplicated > 0);
    CHECK(dup.counters().data_frames_damaged == 0);
    CHECK(decode_all(out).size() == 300 + dup.counters().frames_duplicated);
  }
}

TEST_CASE("a line fault with a window acts only during that operation") {
  LinkFault f = line(LinkFaultKind::DropFrames, 1.0);
  f.window = FaultMoment{OperationKind::Scan, 1, 0.5};
  LineDamage damage({f}, 1);
  const proto::Bytes input = stream_of(4);
  proto::Bytes out;
  damage.pass(input, std::nullopt, out);
  damage.pass(input, Firmware::Progress{OperationKind::Roll, 1, 0.9}, out);
  damage.pass(input, Firmware::Progress{OperationKind::Scan, 1, 0.4}, out);
  CHECK(out.size() == 3 * input.size());
  damage.pass(input, Firmware::Progress{OperationKind::Scan, 1, 0.5}, out);
  CHECK(out.size() == 3 * input.size());
  CHECK(damage.counters().frames_dropped == 4);
}

TEST_CASE("event faults fire once, when their operation reaches their moment") {
  FaultInjector injector(*parse_fault_spec("reboot@roll2+40%,stall@scan1:1s"), 5);
  CHECK(injector.due(Firmware::Progress{OperationKind::Roll, 1, 0.9}, 0).empty());
  CHECK(injector.due(Firmware::Progress{OperationKind::Roll, 2, 0.3}, 0).empty());
  const auto fired = injector.due(Firmware::Progress{OperationKind::Roll, 2, 0.45}, 1.5);
  REQUIRE(fired.size() == 1);
  CHECK(fired[0].kind == EventFaultKind::Reboot);
  CHECK(injector.due(Firmware::Progress{OperationKind::Roll, 2, 0.5}, 1.6).empty());
  CHECK(injector.data_damaged());
  const auto report = injector.report();
  CHECK(report["events"][0]["fired"] == true);
  CHECK(report["events"][1]["fired"] == false);
}

TEST_CASE("a rebooted firmware needs Hello and Home again and announces the reboot") {
  TestHost host(kNominal);
  host.hello();
  host.home();
  host.send(MsgType::Roll, test::typical_roll());
  for (int k = 0; k < 20; ++k) host.fw.step(host.now_ms);
  host.pump();
  host.frames.clear();
  host.fw.reboot();
  host.pump();
  CHECK_FALSE(host.fw.busy());
  REQUIRE(host.of(MsgType::Fault).size() == 1);
  CHECK(proto::decode_fault(host.of(MsgType::Fault)[0].payload)->fault == proto::FaultCode::Reboot);
  CHECK(host.of(MsgType::OperationDone).empty());  // the roll died with the firmware
  REQUIRE(host.fw.rolls().size() == 1);
  CHECK(host.fw.rolls()[0].aborted);

  host.send(MsgType::Home, proto::Home{});
  CHECK(host.last_ack(MsgType::Home) == Result::NotReady);
  host.send(MsgType::Status, proto::StatusRequest{});
  auto status =
      proto::decode_status_reply(host.of(proto::reply_type(MsgType::Status)).back().payload);
  REQUIRE(status.has_value());
  CHECK(status->fault == proto::FaultCode::Reboot);
  CHECK(status->homed == 0);
  CHECK(status->uptime_ms == 0);  // a new boot
  host.hello();
  host.home();
  host.send(MsgType::SelectLane, proto::SelectLane{1});
  host.roll();
  CHECK(host.last_done().result == Result::Ok);
}

TEST_CASE("an e-stop held down keeps Home from clearing it until it is released") {
  TestHost host(kNominal);
  host.hello();
  host.home();
  host.send(MsgType::Roll, test::typical_roll());
  host.fw.set_estop(true);
  host.fw.latch_fault(proto::FaultCode::EStop);
  host.pump();
  CHECK(host.last_done().result == Result::FaultActive);
  host.send(MsgType::Home, proto::Home{});
  CHECK(host.last_ack(MsgType::Home) == Result::FaultActive);
  host.fw.set_estop(false);
  host.home();
  CHECK(host.last_done().result == Result::Ok);
}

TEST_CASE("a load cell that saturates or freezes shows it in the samples") {
  TestHost host(kNominal);
  host.hello();
  host.home();
  host.send(MsgType::Roll, test::typical_roll());
  for (int k = 0; k < 30; ++k) host.fw.step(host.now_ms);
  host.pump();
  const std::size_t before = host.of(MsgType::SampleBatch).size();
  SECTION("saturated: full scale and flagged") {
    host.fw.set_load_cell(Firmware::LoadCell::Saturated);
    host.run();
    const auto batches = host.of(MsgType::SampleBatch);
    for (std::size_t k = before; k < batches.size(); ++k)
      for (const auto& s : samples_of(batches[k])) {
        CHECK(s.force_uN == Firmware::kLoadCellFullScale_uN);
        CHECK((s.flags & proto::kSampleForceSaturated) != 0);
      }
  }
  SECTION("frozen: one value, unflagged, to the end of the roll only") {
    host.fw.set_load_cell(Firmware::LoadCell::Frozen);
    host.run();
    const auto batches = host.of(MsgType::SampleBatch);
    const auto first = samples_of(batches[before])[0].force_uN;
    for (std::size_t k = before; k < batches.size(); ++k)
      for (const auto& s : samples_of(batches[k])) {
        CHECK(s.force_uN == first);
        CHECK((s.flags & proto::kSampleForceSaturated) == 0);
      }
    host.send(MsgType::SelectLane, proto::SelectLane{1});
    host.frames.clear();
    host.roll();
    const auto next_roll = host.of(MsgType::SampleBatch);
    REQUIRE(next_roll.size() > 2);
    const auto next = samples_of(next_roll[next_roll.size() / 2]);  // mid-roll, force held
    CHECK(next[0].force_uN != next[1].force_uN);                    // recovered
  }
}

TEST_CASE("a truncated scan ends Ok with the rows asked but fewer pixels sent") {
  TestHost host(kNominal);
  host.hello();
  host.home();
  host.roll();
  proto::Scan small = test::typical_scan();
  small.length_um = 2'000;
  small.pitch_um = 20;  // 100 rows x 1000 columns
  host.send(MsgType::Scan, small);
  for (int k = 0; k < 40; ++k) host.fw.step(host.now_ms);
  host.fw.truncate_scan();
  host.pump();
  CHECK_FALSE(host.fw.busy());
  const auto done = host.last_done();
  CHECK(done.result == Result::Ok);
  CHECK(done.rows == 100);
  CHECK(done.cols == 1000);
  CHECK(done.items_sent == 40u * 1000u);
  CHECK(done.frames_sent == host.of(MsgType::ScanRows).size());
}
