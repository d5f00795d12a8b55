#include "bench/api/rig_owner.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "bench/api/metrics.hpp"
#include "bench/api/reconnect_backoff.hpp"
#include "bench/api/run_queue.hpp"

using namespace derma::api;
using std::chrono::milliseconds;

TEST_CASE("reconnect backoff starts at once, then doubles from 0.5 s up to 10 s") {
  const ReconnectBackoff backoff;
  CHECK(backoff.delay_after(0) == milliseconds(0));
  CHECK(backoff.delay_after(1) == milliseconds(500));
  CHECK(backoff.delay_after(2) == milliseconds(1000));
  CHECK(backoff.delay_after(3) == milliseconds(2000));
  CHECK(backoff.delay_after(4) == milliseconds(4000));
  CHECK(backoff.delay_after(5) == milliseconds(8000));
  CHECK(backoff.delay_after(6) == milliseconds(10000));
  CHECK(backoff.delay_after(1000) == milliseconds(10000));
}

TEST_CASE("a queue can be waited on without taking, so a run stays queued until the rig is back") {
  RunQueue queue;
  CHECK_FALSE(queue.try_take());
  queue.push(1);
  REQUIRE(queue.wait_for_work());
  CHECK(queue.position(1) == 1);  // still waiting, still cancellable as queued
  CHECK(queue.try_take() == 1);
  CHECK(queue.running() == 1);
  queue.push(2);
  CHECK_FALSE(queue.try_take());  // one at a time
  queue.finish(1);
  CHECK(queue.cancel(2) == CancelOutcome::CancelledInQueue);
  CHECK_FALSE(queue.try_take());  // cancelled meanwhile: nothing to take
  queue.close();
  CHECK_FALSE(queue.wait_for_work());
}

TEST_CASE("a rig owner whose device is missing reports it disconnected and lends nothing") {
  RigOwner owner(derma::transport::DeviceAddress{"/nonexistent/rig-tty"}, "/nonexistent/rig-tty");
  owner.start();
  // The first attempt is made at once; wait for its error rather than for a time.
  while (owner.status().last_error.empty()) std::this_thread::sleep_for(milliseconds(10));
  const RigOwnerStatus status = owner.status();
  CHECK(status.state == RigLinkState::Disconnected);
  CHECK(status.last_error.find("/nonexistent/rig-tty") != std::string::npos);
  CHECK_FALSE(status.identity);
  CHECK(status.reconnects == 0);
  int asked = 0;
  CHECK_FALSE(owner.acquire([&] { return ++asked > 2; }));
  owner.stop();
}

TEST_CASE("metrics show whether the rig is connected and how often it was reconnected") {
  Metrics metrics;
  const std::string text = metrics.render(0, true, 3);
  CHECK(text.find("dermabench_rig_connected 1\n") != std::string::npos);
  CHECK(text.find("dermabench_rig_reconnects_total 3\n") != std::string::npos);
}
