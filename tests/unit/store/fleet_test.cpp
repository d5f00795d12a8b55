// The fleet's queue and heartbeats (bench/store/fleet.hpp), on SQLite and on PostgreSQL.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "bench/analysis/method.hpp"
#include "bench/store/results_db.hpp"
#include "tests/unit/store/store_test_support.hpp"

using namespace store_test;

namespace {

FleetMember a_member(const std::string& name, const std::string& kind, std::int64_t lease_ms) {
  FleetMember m;
  m.name = name;
  m.kind = kind;
  m.rig_address = "sim";
  m.api_url = "http://127.0.0.1:1/" + name;
  m.state = "idle";
  m.lease_ms = lease_ms;
  return m;
}

// Long enough for a 1-ms lease to run out by the database's clock.
void let_leases_run_out() {
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
}

}  // namespace

TEST_CASE("fleet jobs are claimed oldest first, once each, by daemons of their kind") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
  const auto first = *db->submit_fleet_job(a_run("R-1"), "dr-192");
  const auto second = *db->submit_fleet_job(a_run("R-2"), "dr-192");
  const auto other = *db->submit_fleet_job(a_run("R-3"), "dr-540");
  CHECK((*db->get_run(first.run_id))->rig_address == "fleet:dr-192");
  CHECK((*db->get_run(first.run_id))->fleet_job == first.job_id);

  auto a = db->claim_fleet_job(a_member("rig-a", "dr-192", 60000), "/data/a/runs");
  auto b = db->claim_fleet_job(a_member("rig-b", "dr-192", 60000), "/data/b/runs");
  auto c = db->claim_fleet_job(a_member("rig-c", "dr-192", 60000), "/data/c/runs");
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  REQUIRE(c.has_value());
  REQUIRE(a->has_value());
  REQUIRE(b->has_value());
  CHECK((**a).run_id == first.run_id);
  CHECK((**b).run_id == second.run_id);
  CHECK((**a).attempt == 1);
  CHECK_FALSE(c->has_value());  // the dr-540 job is not for a dr-192 rig
  const RunRow claimed = **db->get_run(first.run_id);
  CHECK(claimed.daemon == "rig-a");
  CHECK(claimed.rig_address == "sim");
  CHECK(claimed.state == RunState::Queued);  // claimed, not started

  auto d = db->claim_fleet_job(a_member("rig-d", "dr-540", 60000), "/data/d/runs");
  REQUIRE(d.has_value());
  REQUIRE(d->has_value());
  CHECK((**d).job_id == other.job_id);
  CHECK(db->active_fleet_jobs()->size() == 3);
}

TEST_CASE("a heartbeat records its daemon and renews its claims; fleet_rigs reports it") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
  const auto job = *db->submit_fleet_job(a_run("R-1"), "dr-192");
  FleetMember me = a_member("rig-a", "dr-192", 1);
  me.rig_serial = "SIM-A";
  me.calibration_due = "2027-06-01";
  REQUIRE(db->fleet_heartbeat(me).has_value());
  REQUIRE(db->claim_fleet_job(me, "/runs")->has_value());
  let_leases_run_out();
  // Renewed in time (a 1-s lease now), the claim survives a recovery pass.
  me.lease_ms = 1000;
  auto beat = db->fleet_heartbeat(me);
  REQUIRE(beat.has_value());
  CHECK(beat->claimed_runs == std::vector<std::int64_t>{job.run_id});
  CHECK(db->recover_fleet_jobs("rig-b")->empty());

  auto rigs = db->fleet_rigs();
  REQUIRE(rigs.has_value());
  REQUIRE(rigs->size() == 1);
  const FleetRig& r = rigs->front();
  CHECK(r.name == "rig-a");
  CHECK(r.rig_serial == "SIM-A");
  CHECK(r.calibration_due == "2027-06-01");
  CHECK(r.heartbeat_age_ms < 1000);
  CHECK_FALSE(r.lost());
  CHECK_FALSE(r.runner.empty());
}

TEST_CASE(
    "a claim whose lease ran out is taken back: unstarted it waits again, started it is "
    "interrupted and its job queued as a new run") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
  const auto waiting = *db->submit_fleet_job(a_run("R-1"), "dr-192");
  const auto started = *db->submit_fleet_job(a_run("R-2"), "dr-192");
  const FleetMember dying = a_member("rig-a", "dr-192", 1);
  REQUIRE(db->claim_fleet_job(dying, "/runs")->has_value());
  REQUIRE(db->claim_fleet_job(dying, "/runs")->has_value());
  REQUIRE(db->set_state(started.run_id, RunState::Running).has_value());
  let_leases_run_out();

  auto recovered = db->recover_fleet_jobs("rig-b");
  REQUIRE(recovered.has_value());
  REQUIRE(recovered->size() == 2);
  CHECK((*recovered)[0].run_state == "queued");
  CHECK((*recovered)[0].next_run_id == waiting.run_id);
  CHECK((*recovered)[1].run_state == "interrupted");
  const std::int64_t next = (*recovered)[1].next_run_id;
  CHECK(next != started.run_id);

  const RunRow gone = **db->get_run(started.run_id);
  CHECK(gone.state == RunState::Interrupted);
  CHECK(gone.error.find("rig-a") != std::string::npos);
  const RunRow again = **db->get_run(next);
  CHECK(again.state == RunState::Queued);
  CHECK(again.roller_serial == "R-2");
  CHECK(again.fleet_job == started.job_id);
  CHECK(again.rig_address == "fleet:dr-192");
  CHECK(again.analysis_method == analysis::kAnalysisMethodVersion);
  CHECK((*db->get_run(waiting.run_id))->daemon.empty());
  // The heartbeat of the daemon that lost them no longer lists them.
  CHECK(db->fleet_heartbeat(dying)->claimed_runs.empty());
  // Both are claimable again; the recovery is in the audit chain.
  CHECK(db->claim_fleet_job(a_member("rig-b", "dr-192", 60000), "/runs")->has_value());
  CHECK(db->verify_audit().entries == 2);
  CHECK_FALSE(db->verify_audit().problem.has_value());
}

TEST_CASE("a job is given up after its last attempt is interrupted") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
  const auto job = *db->submit_fleet_job(a_run("R-1"), "dr-192");
  for (int attempt = 1; attempt <= kMaxFleetAttempts; ++attempt) {
    auto claim = db->claim_fleet_job(a_member("rig-" + std::to_string(attempt), "dr-192", 1), "/r");
    REQUIRE(claim.has_value());
    REQUIRE(claim->has_value());
    CHECK((**claim).attempt == attempt);
    REQUIRE(db->set_state((**claim).run_id, RunState::Running).has_value());
    let_leases_run_out();
    REQUIRE(db->recover_fleet_jobs("watcher")->size() == 1);
  }
  auto state = db->fleet_job_of_run(job.run_id);
  REQUIRE(state.has_value());
  REQUIRE(state->has_value());
  CHECK((**state).state == FleetJobState::Failed);
  CHECK((**state).attempts == kMaxFleetAttempts);
  CHECK(db->active_fleet_jobs()->empty());
}

TEST_CASE("a finished run closes its job; a daemon leaving gives back what it has not started") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
  const auto done = *db->submit_fleet_job(a_run("R-1"), "dr-192");
  const auto unstarted = *db->submit_fleet_job(a_run("R-2"), "dr-192");
  const FleetMember me = a_member("rig-a", "dr-192", 60000);
  REQUIRE(db->fleet_heartbeat(me).has_value());
  REQUIRE(db->claim_fleet_job(me, "/runs")->has_value());
  REQUIRE(db->claim_fleet_job(me, "/runs")->has_value());
  // A job closes only once its run has ended, and only by the daemon holding it.
  CHECK(*db->finish_fleet_job(done.run_id, "rig-a") == FleetJobState::Claimed);
  CHECK_FALSE(*db->start_fleet_run(done.run_id, "rig-b"));  // not rig-b's to start
  REQUIRE(*db->start_fleet_run(done.run_id, "rig-a"));
  CHECK((*db->get_run(done.run_id))->state == RunState::Running);
  CHECK_FALSE(*db->release_fleet_run("rig-a", done.run_id));  // started: not given back
  REQUIRE(db->record_report(done.run_id, a_report(report::RunVerdict::Pass), "spec").has_value());
  CHECK(*db->finish_fleet_job(done.run_id, "rig-b") == FleetJobState::Claimed);
  CHECK(*db->finish_fleet_job(done.run_id, "rig-a") == FleetJobState::Done);
  CHECK((**db->fleet_job_of_run(done.run_id)).state == FleetJobState::Done);

  auto left = db->leave_fleet("rig-a");
  REQUIRE(left.has_value());
  CHECK(*left == 1);
  const FleetJob back = **db->fleet_job_of_run(unstarted.run_id);
  CHECK(back.state == FleetJobState::Queued);
  CHECK(back.claimed_by.empty());
  CHECK(db->fleet_rigs()->front().state == "stopped");
  CHECK_FALSE(db->fleet_rigs()->front().lost());
}

TEST_CASE("a run its daemon stopped unjudged is run again as a new attempt") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
  const auto job = *db->submit_fleet_job(a_run("R-1"), "dr-192");
  REQUIRE(db->claim_fleet_job(a_member("rig-a", "dr-192", 60000), "/runs")->has_value());
  REQUIRE(*db->start_fleet_run(job.run_id, "rig-a"));
  REQUIRE(db->record_report(job.run_id, a_report(report::RunVerdict::Aborted), "spec"));
  CHECK(*db->finish_fleet_job(job.run_id, "rig-a", /*retry=*/true) == FleetJobState::Queued);
  const FleetJob again = **db->fleet_job_of_run(job.run_id);
  CHECK(again.state == FleetJobState::Queued);
  CHECK(again.run_id != job.run_id);
  CHECK((*db->get_run(again.run_id))->state == RunState::Queued);
  CHECK((*db->get_run(job.run_id))->state == RunState::Aborted);  // the attempt stays on record
}

TEST_CASE("a cancel asked of a claimed job is kept when the job is taken back") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
  const auto waiting = *db->submit_fleet_job(a_run("R-1"), "dr-192");
  const auto started = *db->submit_fleet_job(a_run("R-2"), "dr-192");
  const FleetMember dying = a_member("rig-a", "dr-192", 1);
  REQUIRE(db->claim_fleet_job(dying, "/runs")->has_value());
  REQUIRE(db->claim_fleet_job(dying, "/runs")->has_value());
  REQUIRE(*db->start_fleet_run(started.run_id, "rig-a"));
  CHECK(*db->cancel_fleet_run(waiting.run_id, "ci") == FleetCancel::Requested);
  CHECK(*db->cancel_fleet_run(started.run_id, "ci") == FleetCancel::Requested);
  let_leases_run_out();
  REQUIRE(db->recover_fleet_jobs("rig-b")->size() == 2);
  CHECK((**db->fleet_job_of_run(waiting.run_id)).state == FleetJobState::Cancelled);
  CHECK((*db->get_run(waiting.run_id))->state == RunState::Cancelled);
  CHECK((**db->fleet_job_of_run(started.run_id)).state == FleetJobState::Cancelled);
  CHECK((*db->get_run(started.run_id))->state == RunState::Interrupted);
  CHECK(db->active_fleet_jobs()->empty());  // neither is run again
}

TEST_CASE("cancelling an interrupted attempt cancels its job's current run") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
  const auto job = *db->submit_fleet_job(a_run("R-1"), "dr-192");
  REQUIRE(db->claim_fleet_job(a_member("rig-a", "dr-192", 1), "/runs")->has_value());
  REQUIRE(*db->start_fleet_run(job.run_id, "rig-a"));
  let_leases_run_out();
  const auto recovered = *db->recover_fleet_jobs("rig-b");
  REQUIRE(recovered.size() == 1);
  CHECK(*db->cancel_fleet_run(job.run_id, "ci") == FleetCancel::CancelledQueued);
  CHECK((*db->get_run(recovered[0].next_run_id))->state == RunState::Cancelled);
}

TEST_CASE("a claimed run that never started can be given back by its daemon only") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
  const auto job = *db->submit_fleet_job(a_run("R-1"), "dr-192");
  REQUIRE(db->claim_fleet_job(a_member("rig-a", "dr-192", 60000), "/runs")->has_value());
  CHECK_FALSE(*db->release_fleet_run("rig-b", job.run_id));
  CHECK(*db->release_fleet_run("rig-a", job.run_id));
  const FleetJob back = **db->fleet_job_of_run(job.run_id);
  CHECK(back.state == FleetJobState::Queued);
  CHECK((*db->get_run(job.run_id))->rig_address == "fleet:dr-192");
}

TEST_CASE("cancelling a fleet run: a waiting job is cancelled, a claimed one is asked to stop") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << name_of(backend));
  TestStore store(backend);
  auto db = open_db(store.location());
  const auto claimed = *db->submit_fleet_job(a_run("R-1"), "dr-192");
  const auto waiting = *db->submit_fleet_job(a_run("R-2"), "dr-192");
  const FleetMember me = a_member("rig-a", "dr-192", 60000);
  REQUIRE(db->claim_fleet_job(me, "/runs")->has_value());

  CHECK(*db->cancel_fleet_run(waiting.run_id, "cancelled by ci") == FleetCancel::CancelledQueued);
  CHECK((*db->get_run(waiting.run_id))->state == RunState::Cancelled);
  CHECK(*db->cancel_fleet_run(claimed.run_id, "cancelled by ci") == FleetCancel::Requested);
  CHECK(db->fleet_heartbeat(me)->cancel_requested == std::vector<std::int64_t>{claimed.run_id});
  CHECK(*db->cancel_fleet_run(waiting.run_id, "again") == FleetCancel::AlreadyOver);
  const auto plain = *db->create_run(a_run("R-3"));
  CHECK(*db->cancel_fleet_run(plain, "no job") == FleetCancel::NotFleet);
}
