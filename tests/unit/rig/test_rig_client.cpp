#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <thread>

#include "drivers/rig/rig_client.hpp"
#include "drivers/transport/serial_transport.hpp"
#include "scripted_rig.hpp"

using namespace derma;
using namespace std::chrono_literals;
using proto::MsgType;
using testing::ScriptedRig;

namespace {

// Short timeouts keep the suite fast; nothing below asserts on elapsed time. The reply
// timeout is generous so that a loaded machine never causes a retry the test did not
// expect; tests of retries shorten it.
rig::RigOptions fast_options() {
  rig::RigOptions options;
  options.reply_timeout = 1s;
  options.attempts = 3;
  options.watchdog = 0ms;  // no heartbeats unless a test wants them
  options.operation_timeout = 10s;
  return options;
}

std::unique_ptr<rig::RigClient> connect(const ScriptedRig& rig,
                                        rig::RigOptions options = fast_options()) {
  auto link = transport::SerialTransport::open(rig.path());
  REQUIRE(link.has_value());
  return std::make_unique<rig::RigClient>(std::move(*link), options);
}

proto::SampleBatch batch(std::uint32_t counter, std::size_t samples = 2) {
  proto::SampleBatch b;
  b.batch_counter = counter;
  b.first_sample_index = counter * static_cast<std::uint32_t>(samples);
  b.samples.resize(samples);
  for (std::size_t i = 0; i < samples; ++i) {
    b.samples[i].force_uN = static_cast<std::int32_t>(1000 * counter + i);
  }
  return b;
}

proto::OperationDone done_for(const proto::Frame& request, std::uint32_t frames_sent,
                              std::uint32_t items_sent) {
  proto::OperationDone done;
  done.request_seq = request.seq;
  done.operation = request.type;
  done.frames_sent = frames_sent;
  done.items_sent = items_sent;
  return done;
}

// A rig that acks a Roll and streams batches with the given counters, then OperationDone.
ScriptedRig::Handler rolling_rig(std::vector<std::uint32_t> counters, std::uint32_t frames_sent) {
  return [counters, frames_sent](const proto::Frame& frame, ScriptedRig& rig) {
    if (frame.type != MsgType::Roll) return testing::answer_like_a_healthy_rig(frame, rig);
    rig.reply(frame, proto::Ack{});
    for (auto counter : counters) rig.send(MsgType::SampleBatch, 0, batch(counter));
    rig.send(MsgType::OperationDone, 0, done_for(frame, frames_sent, 2 * frames_sent));
  };
}

}  // namespace

TEST_CASE("the handshake negotiates the watchdog and decodes the rig's identity") {
  ScriptedRig rig(testing::answer_like_a_healthy_rig);
  auto options = fast_options();
  options.watchdog = 800ms;
  auto client = connect(rig, options);

  const auto hello = client->handshake();
  REQUIRE(hello.has_value());
  CHECK(hello->rig_serial == "RIG-0007");
  CHECK(hello->firmware_version == "scripted 1.0");
  CHECK(hello->calibration_due == "2025-01-15");
  CHECK(hello->lanes == 8);
  CHECK(hello->watchdog_timeout_ms == 800);

  const auto sent = rig.received(MsgType::Hello);
  REQUIRE(sent.size() == 1);
  const auto request = proto::decode_hello(sent[0].payload);
  REQUIRE(request.has_value());
  CHECK(request->host_protocol_version == proto::kProtocolVersion);
  CHECK(request->watchdog_timeout_ms == 800);
  CHECK(client->describe() == rig.path());
}

TEST_CASE("a dropped reply is retried with the same sequence number and succeeds") {
  std::atomic<int> seen = 0;
  ScriptedRig rig([&](const proto::Frame& frame, ScriptedRig& r) {
    if (frame.type == MsgType::Status && seen++ == 0) return;  // the first reply is "lost"
    testing::answer_like_a_healthy_rig(frame, r);
  });
  auto options = fast_options();
  options.reply_timeout = 80ms;
  auto client = connect(rig, options);

  REQUIRE(client->status().has_value());
  const auto tries = rig.received(MsgType::Status);
  REQUIRE(tries.size() >= 2);  // more only if the machine stalled past a reply timeout
  for (const auto& frame : tries) CHECK(frame.seq == tries[0].seq);
  CHECK(client->client_counters().retries >= 1);

  SECTION("and the next request gets a new sequence number") {
    REQUIRE(client->tare().has_value());
    CHECK(rig.received(MsgType::Tare).at(0).seq == static_cast<std::uint16_t>(tries[0].seq + 1));
  }
}

TEST_CASE("a rig that never answers gives Timeout after every attempt") {
  ScriptedRig rig([](const proto::Frame&, ScriptedRig&) {});
  auto options = fast_options();
  options.reply_timeout = 60ms;
  auto client = connect(rig, options);

  const auto status = client->status();
  REQUIRE_FALSE(status.has_value());
  CHECK(status.error().kind == rig::RigError::Kind::Timeout);
  CHECK(status.error().message.find("after 3 attempts") != std::string::npos);
  CHECK(status.error().message.find(rig.path()) != std::string::npos);

  REQUIRE(rig.wait_for(MsgType::Status, 3));
  const auto tries = rig.received(MsgType::Status);
  CHECK(tries.size() == 3);
  for (const auto& frame : tries) CHECK(frame.seq == tries[0].seq);
  CHECK(client->client_counters().timeouts == 1);
}

TEST_CASE("a rig's non-Ok result is reported as Rejected with that result") {
  ScriptedRig rig([](const proto::Frame& frame, ScriptedRig& r) {
    if (frame.type == MsgType::SelectLane)
      return r.reply(frame, proto::Ack{proto::Result::OutOfRange});
    // The short form: a reply that is not Ok may be just its result byte.
    if (frame.type == MsgType::Status)
      return r.reply(frame, proto::Ack{proto::Result::FaultActive});
    testing::answer_like_a_healthy_rig(frame, r);
  });
  auto client = connect(rig);

  const auto lane = client->select_lane(42);
  REQUIRE_FALSE(lane.has_value());
  CHECK(lane.error().kind == rig::RigError::Kind::Rejected);
  CHECK(lane.error().result == proto::Result::OutOfRange);
  CHECK(lane.error().message.find("OutOfRange") != std::string::npos);
  const auto request = proto::decode_select_lane(rig.received(MsgType::SelectLane).at(0).payload);
  REQUIRE(request.has_value());
  CHECK(request->lane == 42);

  const auto status = client->status();
  REQUIRE_FALSE(status.has_value());
  CHECK(status.error().kind == rig::RigError::Kind::Rejected);
  CHECK(status.error().result == proto::Result::FaultActive);
}

TEST_CASE("a roll delivers its batches in order and counts the lost ones") {
  SECTION("a gap in the batch counter") {
    ScriptedRig rig(rolling_rig({0, 1, 3, 4}, 5));
    auto client = connect(rig);
    std::vector<std::uint32_t> delivered;
    const auto outcome = client->roll(
        proto::Roll{}, [&](const proto::SampleBatch& b) { delivered.push_back(b.batch_counter); });
    REQUIRE(outcome.has_value());
    CHECK(delivered == std::vector<std::uint32_t>{0, 1, 3, 4});
    CHECK(outcome->frames_received == 4);
    CHECK(outcome->frames_lost == 1);
    CHECK(outcome->items_received == 8);
    CHECK(outcome->done.frames_sent == 5);
  }
  SECTION("a lost last batch, seen only in the rig's count") {
    ScriptedRig rig(rolling_rig({0, 1, 2}, 4));
    auto client = connect(rig);
    const auto outcome = client->roll(proto::Roll{}, [](const proto::SampleBatch&) {});
    REQUIRE(outcome.has_value());
    CHECK(outcome->frames_lost == 1);
  }
  SECTION("a duplicated batch is delivered once") {
    ScriptedRig rig(rolling_rig({0, 1, 1, 2}, 3));
    auto client = connect(rig);
    std::vector<std::uint32_t> delivered;
    const auto outcome = client->roll(
        proto::Roll{}, [&](const proto::SampleBatch& b) { delivered.push_back(b.batch_counter); });
    REQUIRE(outcome.has_value());
    CHECK(delivered == std::vector<std::uint32_t>{0, 1, 2});
    CHECK(outcome->frames_lost == 0);
  }
  SECTION("a complete stream loses nothing") {
    ScriptedRig rig(rolling_rig({0, 1, 2}, 3));
    auto client = connect(rig);
    const auto outcome = client->roll(proto::Roll{}, [](const proto::SampleBatch&) {});
    REQUIRE(outcome.has_value());
    CHECK(outcome->frames_lost == 0);
    CHECK(outcome->frames_received == 3);
  }
}

TEST_CASE("a scan delivers its rows and the rig's account of the height map") {
  ScriptedRig rig([](const proto::Frame& frame, ScriptedRig& r) {
    if (frame.type != MsgType::Scan) return testing::answer_like_a_healthy_rig(frame, r);
    r.reply(frame, proto::Ack{});
    for (std::uint16_t row = 0; row < 3; ++row) {
      proto::ScanRows rows;
      rows.chunk_counter = row;
      rows.row = row;
      rows.height_nm = {1, 2, 3, proto::kNoData};
      r.send(MsgType::ScanRows, 0, rows);
    }
    auto done = done_for(frame, 3, 12);
    done.rows = 3;
    done.cols = 4;
    done.pitch_um = 10;
    done.scan_delay_ms = 1500;
    r.send(MsgType::OperationDone, 0, done);
  });
  auto client = connect(rig);
  std::vector<std::uint16_t> rows_seen;
  const auto outcome =
      client->scan(proto::Scan{0, 0, 30, 40, 10},
                   [&](const proto::ScanRows& rows) { rows_seen.push_back(rows.row); });
  REQUIRE(outcome.has_value());
  CHECK(rows_seen == std::vector<std::uint16_t>{0, 1, 2});
  CHECK(outcome->items_received == 12);
  CHECK(outcome->frames_lost == 0);
  CHECK(outcome->done.rows == 3);
  CHECK(outcome->done.cols == 4);
  CHECK(outcome->done.scan_delay_ms == 1500);
}

TEST_CASE("a scan asking for delta rows decodes ScanRowsDelta into the same rows") {
  ScriptedRig rig([](const proto::Frame& frame, ScriptedRig& r) {
    if (frame.type != MsgType::Scan) return testing::answer_like_a_healthy_rig(frame, r);
    const auto scan = proto::decode_scan(frame.payload, frame.version);
    REQUIRE(scan.has_value());
    CHECK(scan->row_encoding == proto::RowEncoding::Delta);
    r.reply(frame, proto::Ack{});
    proto::ScanRows rows;
    rows.height_nm = {-1200, proto::kNoData, 300, 400};
    r.send_payload(MsgType::ScanRowsDelta, 0, proto::encode_delta(rows, 100));
    auto done = done_for(frame, 1, 4);
    done.rows = 1;
    done.cols = 4;
    r.send(MsgType::OperationDone, 0, done);
  });
  auto client = connect(rig);
  proto::Scan scan{0, 0, 10, 40, 10};
  scan.row_encoding = proto::RowEncoding::Delta;
  std::vector<std::int32_t> heights;
  const auto outcome =
      client->scan(scan, [&](const proto::ScanRows& rows) { heights = rows.height_nm; });
  REQUIRE(outcome.has_value());
  CHECK(heights == std::vector<std::int32_t>{-1200, proto::kNoData, 300, 400});
  CHECK(outcome->items_received == 4);
}

TEST_CASE("a rig that speaks only version 1 is asked again in it, and scans in ScanRows") {
  ScriptedRig rig([](const proto::Frame& frame, ScriptedRig& r) {
    if (frame.type == MsgType::Hello) {
      proto::HelloReply reply = testing::healthy_hello(0);
      reply.protocol_version = 1;
      if (frame.version != 1) reply.result = proto::Result::VersionMismatch;
      return r.reply(frame, reply);
    }
    if (frame.type != MsgType::Scan) return testing::answer_like_a_healthy_rig(frame, r);
    CHECK(frame.version == 1);
    CHECK(proto::decode_scan(frame.payload, 1).has_value());  // 18 bytes, no row_encoding
    r.reply(frame, proto::Ack{});
    auto done = done_for(frame, 0, 0);
    done.result = proto::Result::Aborted;
    r.send(MsgType::OperationDone, 0, done);
  });
  rig.frame_version = 1;
  auto client = connect(rig);
  const auto hello = client->handshake();
  REQUIRE(hello.has_value());
  CHECK(hello->protocol_version == 1);
  const auto hellos = rig.received(MsgType::Hello);
  REQUIRE(hellos.size() == 2);
  CHECK(hellos[0].version == proto::kProtocolVersion);
  CHECK(hellos[1].version == 1);
  CHECK(proto::decode_hello(hellos[1].payload)->host_protocol_version == 1);

  proto::Scan scan{0, 0, 10, 40, 10};
  scan.row_encoding = proto::RowEncoding::Delta;  // not in version 1: the client asks for Int32
  (void)client->scan(scan, [](const proto::ScanRows&) {});
  REQUIRE(rig.received(MsgType::Scan).size() >= 1);
}

TEST_CASE("a rig that speaks only a newer version is refused naming both") {
  ScriptedRig rig([](const proto::Frame& frame, ScriptedRig& r) {
    proto::HelloReply reply = testing::healthy_hello(0);
    reply.result = proto::Result::VersionMismatch;
    reply.protocol_version = 9;
    r.reply(frame, reply);
  });
  auto client = connect(rig);
  const auto hello = client->handshake();
  REQUIRE_FALSE(hello.has_value());
  CHECK(hello.error().message.find("the rig speaks protocol version 9, this host 1..2") !=
        std::string::npos);
  CHECK(rig.received(MsgType::Hello).size() == 1);
}

TEST_CASE("an OperationDone that overtakes a lost Ack still completes the operation") {
  ScriptedRig rig([](const proto::Frame& frame, ScriptedRig& r) {
    if (frame.type != MsgType::Roll) return testing::answer_like_a_healthy_rig(frame, r);
    if (r.received(MsgType::Roll).size() > 1) return;  // a retry of a roll already done
    r.send(MsgType::SampleBatch, 0, batch(0));
    r.send(MsgType::OperationDone, 0, done_for(frame, 1, 2));
  });
  auto client = connect(rig);
  const auto outcome = client->roll(proto::Roll{}, [](const proto::SampleBatch&) {});
  REQUIRE(outcome.has_value());
  CHECK(outcome->frames_received == 1);
}

TEST_CASE("a fault event ends the running operation with Kind::Fault") {
  ScriptedRig rig([](const proto::Frame& frame, ScriptedRig& r) {
    if (frame.type != MsgType::Roll) return testing::answer_like_a_healthy_rig(frame, r);
    r.reply(frame, proto::Ack{});
    r.send(MsgType::SampleBatch, 0, batch(0));
    r.send(MsgType::Fault, 0,
           proto::FaultEvent{proto::FaultCode::ForceOverload, proto::RigState::Rolling, 41'000,
                             52'000});
  });
  auto client = connect(rig);
  const auto outcome = client->roll(proto::Roll{}, [](const proto::SampleBatch&) {});
  REQUIRE_FALSE(outcome.has_value());
  CHECK(outcome.error().kind == rig::RigError::Kind::Fault);
  CHECK(outcome.error().fault == proto::FaultCode::ForceOverload);
  CHECK(outcome.error().message.find("ForceOverload") != std::string::npos);
}

TEST_CASE("an operation that ends with a non-Ok result is Rejected with that result") {
  ScriptedRig rig([](const proto::Frame& frame, ScriptedRig& r) {
    if (frame.type != MsgType::Home) return testing::answer_like_a_healthy_rig(frame, r);
    r.reply(frame, proto::Ack{});
    auto done = done_for(frame, 0, 0);
    done.result = proto::Result::Aborted;
    r.send(MsgType::OperationDone, 0, done);
  });
  auto client = connect(rig);
  const auto homed = client->home();
  REQUIRE_FALSE(homed.has_value());
  CHECK(homed.error().kind == rig::RigError::Kind::Rejected);
  CHECK(homed.error().result == proto::Result::Aborted);
}

TEST_CASE("abort from another thread stops a running roll") {
  std::atomic<std::uint16_t> roll_seq = 0;
  ScriptedRig rig([&](const proto::Frame& frame, ScriptedRig& r) {
    if (frame.type == MsgType::Roll) {
      roll_seq = frame.seq;
      r.reply(frame, proto::Ack{});
      r.send(MsgType::SampleBatch, 0, batch(0));
      return;  // rolls until aborted
    }
    if (frame.type == MsgType::Abort) {
      r.reply(frame, proto::Ack{});
      proto::OperationDone done;
      done.result = proto::Result::Aborted;
      done.request_seq = roll_seq;
      done.operation = MsgType::Roll;
      r.send(MsgType::OperationDone, 0, done);
      return;
    }
    testing::answer_like_a_healthy_rig(frame, r);
  });
  auto client = connect(rig);
  std::promise<void> first_batch;
  auto rolling = std::async(std::launch::async, [&] {
    return client->roll(proto::Roll{}, [&](const proto::SampleBatch&) { first_batch.set_value(); });
  });
  first_batch.get_future().wait();
  CHECK(client->abort().has_value());
  const auto outcome = rolling.get();
  REQUIRE_FALSE(outcome.has_value());
  CHECK(outcome.error().result == proto::Result::Aborted);
}

TEST_CASE("a second operation while one runs is refused by the host") {
  ScriptedRig rig([](const proto::Frame& frame, ScriptedRig& r) {
    if (frame.type == MsgType::Home) return r.reply(frame, proto::Ack{});  // homes for ever
    testing::answer_like_a_healthy_rig(frame, r);
  });
  auto client = connect(rig);
  std::promise<rig::RigResult<void>> homing;
  client->async_home([&](rig::RigResult<void> r) { homing.set_value(std::move(r)); });
  REQUIRE(rig.wait_for(MsgType::Home, 1));

  const auto second = client->roll(proto::Roll{}, [](const proto::SampleBatch&) {});
  REQUIRE_FALSE(second.has_value());
  CHECK(second.error().result == proto::Result::Busy);
  CHECK(rig.received(MsgType::Roll).empty());

  client.reset();  // closing fails the running operation instead of leaving it hanging
  const auto home = homing.get_future().get();
  REQUIRE_FALSE(home.has_value());
  CHECK(home.error().kind == rig::RigError::Kind::Disconnected);
}

TEST_CASE("an operation that never finishes times out and is aborted") {
  ScriptedRig rig([](const proto::Frame& frame, ScriptedRig& r) {
    if (frame.type == MsgType::Home) return r.reply(frame, proto::Ack{});  // never done
    testing::answer_like_a_healthy_rig(frame, r);
  });
  auto options = fast_options();
  options.operation_timeout = 100ms;
  auto client = connect(rig, options);
  const auto homed = client->home();
  REQUIRE_FALSE(homed.has_value());
  CHECK(homed.error().kind == rig::RigError::Kind::Timeout);
  CHECK(rig.wait_for(MsgType::Abort, 1));
}

TEST_CASE("closing the client during an operation sends Abort") {
  ScriptedRig rig([](const proto::Frame& frame, ScriptedRig& r) {
    if (frame.type == MsgType::Roll) return r.reply(frame, proto::Ack{});  // rolls until aborted
    testing::answer_like_a_healthy_rig(frame, r);
  });
  auto client = connect(rig);
  std::promise<rig::RigResult<rig::StreamOutcome>> rolling;
  client->async_roll(proto::Roll{}, nullptr, [&](auto r) { rolling.set_value(std::move(r)); });
  REQUIRE(rig.wait_for(MsgType::Roll, 1));
  client.reset();
  CHECK(rig.wait_for(MsgType::Abort, 1));
  CHECK_FALSE(rolling.get_future().get().has_value());
}

TEST_CASE("the rig hanging up fails the running and every later call with Disconnected") {
  ScriptedRig rig([](const proto::Frame& frame, ScriptedRig& r) {
    if (frame.type == MsgType::Home) {
      r.reply(frame, proto::Ack{});
      r.hang_up();
      return;
    }
    testing::answer_like_a_healthy_rig(frame, r);
  });
  // Timeouts far longer than the test: only prompt disconnect detection ends these calls
  // as Disconnected rather than Timeout.
  auto options = fast_options();
  options.reply_timeout = 10s;
  options.operation_timeout = 60s;
  auto client = connect(rig, options);

  const auto homed = client->home();
  REQUIRE_FALSE(homed.has_value());
  CHECK(homed.error().kind == rig::RigError::Kind::Disconnected);
  CHECK(homed.error().message.find(rig.path()) != std::string::npos);
  CHECK(client->disconnected());

  const auto status = client->status();
  REQUIRE_FALSE(status.has_value());
  CHECK(status.error().kind == rig::RigError::Kind::Disconnected);
}

TEST_CASE("heartbeats keep the watchdog fed while the client is idle") {
  ScriptedRig rig(testing::answer_like_a_healthy_rig);
  auto options = fast_options();
  options.watchdog = 100ms;
  auto client = connect(rig, options);
  REQUIRE(client->handshake().has_value());

  REQUIRE(rig.wait_for(MsgType::Heartbeat, 3));
  const auto beats = rig.received(MsgType::Heartbeat);
  CHECK(beats.at(0).seq != beats.at(1).seq);
  CHECK(client->client_counters().heartbeats_sent >= 3);
}

TEST_CASE("no heartbeat is sent when the watchdog is off") {
  ScriptedRig rig(testing::answer_like_a_healthy_rig);
  auto client = connect(rig);  // watchdog 0
  REQUIRE(client->handshake().has_value());
  REQUIRE(client->status().has_value());
  REQUIRE(client->status().has_value());
  CHECK(rig.received(MsgType::Heartbeat).empty());
  CHECK(client->client_counters().heartbeats_sent == 0);
}

TEST_CASE("the wire tap sees every byte in both directions") {
  ScriptedRig rig(rolling_rig({0, 1}, 2));
  auto client = connect(rig);
  std::mutex mutex;
  proto::FrameDecoder to_rig;
  proto::FrameDecoder to_host;
  client->set_wire_tap([&](rig::Direction direction, proto::ByteView bytes) {
    std::lock_guard lock(mutex);
    (direction == rig::Direction::HostToRig ? to_rig : to_host).feed(bytes);
  });
  REQUIRE(client->handshake().has_value());
  REQUIRE(client->roll(proto::Roll{}, nullptr).has_value());

  std::lock_guard lock(mutex);
  std::vector<MsgType> sent;
  while (auto frame = to_rig.next()) sent.push_back(frame->type);
  std::vector<MsgType> received;
  while (auto frame = to_host.next()) received.push_back(frame->type);
  CHECK(sent == std::vector<MsgType>{MsgType::Hello, MsgType::Roll});
  CHECK(received == std::vector<MsgType>{proto::reply_type(MsgType::Hello),
                                         proto::reply_type(MsgType::Roll), MsgType::SampleBatch,
                                         MsgType::SampleBatch, MsgType::OperationDone});
  CHECK(client->link_counters().frames_ok == 5);
}

TEST_CASE("requests from several threads reach the rig one at a time") {
  // The rig's de-duplication remembers only the last request, so a second request sent
  // before the first is answered would make a retry of the first run again.
  std::atomic<bool> overlapped = false;
  std::atomic<int> unanswered = 0;
  ScriptedRig rig([&](const proto::Frame& frame, ScriptedRig& r) {
    if (unanswered > 0) overlapped = true;
    ++unanswered;
    std::this_thread::sleep_for(5ms);  // long enough for the other threads to try
    --unanswered;
    testing::answer_like_a_healthy_rig(frame, r);
  });
  auto client = connect(rig);
  std::vector<std::future<bool>> callers;
  for (int t = 0; t < 4; ++t) {
    callers.push_back(std::async(std::launch::async, [&] {
      bool all_ok = true;
      for (int i = 0; i < 5; ++i) all_ok = all_ok && client->status().has_value();
      return all_ok;
    }));
  }
  for (auto& caller : callers) CHECK(caller.get());
  CHECK_FALSE(overlapped);
  const auto statuses = rig.received(MsgType::Status);
  REQUIRE(statuses.size() == 20);
  for (std::size_t i = 1; i < statuses.size(); ++i) {
    CHECK(statuses[i].seq == static_cast<std::uint16_t>(statuses[i - 1].seq + 1));
  }
}

TEST_CASE("a roll whose stream stops is stalled, aborted and reported as Timeout") {
  ScriptedRig rig([](const proto::Frame& frame, ScriptedRig& r) {
    if (frame.type != MsgType::Roll) return testing::answer_like_a_healthy_rig(frame, r);
    r.reply(frame, proto::Ack{});
    r.send(MsgType::SampleBatch, 0, batch(0));  // and then silence
  });
  auto options = fast_options();
  options.stall_timeout = 100ms;
  options.operation_timeout = 60s;  // far away: only the stall can end this roll in time
  auto client = connect(rig, options);
  const auto outcome = client->roll(proto::Roll{}, nullptr);
  REQUIRE_FALSE(outcome.has_value());
  CHECK(outcome.error().kind == rig::RigError::Kind::Timeout);
  CHECK(outcome.error().message.find("stalled") != std::string::npos);
  CHECK(rig.wait_for(MsgType::Abort, 1));
}

TEST_CASE("a Home whose OperationDone is lost on the line is settled by asking Status") {
  const bool homed = GENERATE(true, false);
  ScriptedRig rig([homed](const proto::Frame& frame, ScriptedRig& r) {
    if (frame.type == MsgType::Home) return r.reply(frame, proto::Ack{});  // its done is lost
    if (frame.type == MsgType::Status) {
      proto::StatusReply status;
      status.state = homed ? proto::RigState::Idle : proto::RigState::Faulted;
      status.homed = homed ? 1 : 0;
      status.fault = homed ? proto::FaultCode::None : proto::FaultCode::EStop;
      return r.reply(frame, status);
    }
    testing::answer_like_a_healthy_rig(frame, r);
  });
  auto options = fast_options();
  options.stall_timeout = 100ms;  // how long a Home may stay silent before Status is asked
  auto client = connect(rig, options);
  const auto result = client->home();
  CHECK(rig.wait_for(MsgType::Status, 1));
  if (homed) {
    CHECK(result.has_value());
  } else {
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().kind == rig::RigError::Kind::Fault);
    CHECK(result.error().fault == proto::FaultCode::EStop);
  }
}
