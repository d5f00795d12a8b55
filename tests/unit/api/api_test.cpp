// The daemon's pure parts: routing, the access rules, token files and the queue.
#include <catch2/catch.hpp>
#include <thread>

#include "bench/api/daemon.hpp"
#include "bench/api/routes.hpp"
#include "bench/api/run_queue.hpp"
#include "bench/api/tokens.hpp"

using namespace derma::api;

namespace {

const char* kTokens = R"(tokens:
  - {name: ci-main, role: ci, token: "ci-secret-0123456789"}
  - {name: alice, role: operator, token: "operator-secret-0123456789"}
  - {name: bob, role: engineer, token: "engineer-secret-0123456789"}
)";

TokenTable table() {
  auto parsed = TokenTable::parse(kTokens, "tokens.yaml");
  REQUIRE(parsed);
  return *parsed;
}

}  // namespace

TEST_CASE("a lot's route names the lot, percent-decoded, and takes GET only") {
  const Route lot = match_route("GET", "/api/v1/lots/LOT%2D117");
  CHECK(lot.endpoint == Endpoint::GetLot);
  CHECK(lot.lot == "LOT-117");
  CHECK(match_route("POST", "/api/v1/lots/LOT-117").endpoint == Endpoint::MethodNotAllowed);
  CHECK(match_route("GET", "/api/v1/lots/%zz").endpoint == Endpoint::NotFound);
  CHECK(match_route("GET", "/api/v1/lots/A/B").endpoint == Endpoint::NotFound);
  CHECK_FALSE(changes_state(Endpoint::GetLot));
}

TEST_CASE("routes name the endpoint, the run id and the file") {
  CHECK(match_route("GET", "/healthz").endpoint == Endpoint::Health);
  CHECK(match_route("GET", "/metrics").endpoint == Endpoint::Metrics);
  CHECK(match_route("GET", "/api/v1/rig").endpoint == Endpoint::Rig);
  CHECK(match_route("POST", "/api/v1/runs").endpoint == Endpoint::SubmitRuns);
  const Route list = match_route("GET", "/api/v1/runs?state=queued&roller=SIM%2D1&limit=5");
  CHECK(list.endpoint == Endpoint::ListRuns);
  CHECK(list.query.at("state") == "queued");
  CHECK(list.query.at("roller") == "SIM-1");
  CHECK(list.query.at("limit") == "5");
  const Route run = match_route("GET", "/api/v1/runs/42");
  CHECK(run.endpoint == Endpoint::GetRun);
  CHECK(run.run_id == 42);
  CHECK(match_route("POST", "/api/v1/runs/7/cancel").endpoint == Endpoint::CancelRun);
  CHECK(match_route("GET", "/api/v1/runs/7/events").endpoint == Endpoint::RunEvents);
  const Route file = match_route("GET", "/api/v1/runs/7/junit.xml");
  CHECK(file.endpoint == Endpoint::RunFile);
  CHECK(file.file == "junit.xml");
  CHECK(match_route("GET", "/api/v1/runs/7/capture").file == "capture");
}

TEST_CASE("unknown paths are not found and wrong methods are refused") {
  CHECK(match_route("GET", "/").endpoint == Endpoint::NotFound);
  CHECK(match_route("GET", "/api/v1/runs/abc").endpoint == Endpoint::NotFound);
  CHECK(match_route("GET", "/api/v1/runs/0").endpoint == Endpoint::NotFound);
  CHECK(match_route("GET", "/api/v1/runs/-3").endpoint == Endpoint::NotFound);
  CHECK(match_route("GET", "/api/v1/runs/7/../../etc/passwd").endpoint == Endpoint::NotFound);
  CHECK(match_route("GET", "/api/v1/runs/7/secret.txt").endpoint == Endpoint::NotFound);
  CHECK(match_route("DELETE", "/api/v1/runs").endpoint == Endpoint::MethodNotAllowed);
  CHECK(match_route("GET", "/api/v1/runs/7/cancel").endpoint == Endpoint::MethodNotAllowed);
  CHECK(match_route("POST", "/healthz").endpoint == Endpoint::MethodNotAllowed);
}

TEST_CASE("malformed percent escapes are not decoded") {
  CHECK(url_decode("a%20b+c") == "a b c");
  CHECK_FALSE(url_decode("a%2"));
  CHECK_FALSE(url_decode("%zz"));
}

TEST_CASE("a token file gives every token its name and role") {
  const TokenTable tokens = table();
  REQUIRE(tokens.tokens().size() == 3);
  const ApiToken* ci = tokens.find("ci-secret-0123456789");
  REQUIRE(ci);
  CHECK(ci->name == "ci-main");
  CHECK(ci->role == Role::Ci);
  CHECK(tokens.find("operator-secret-0123456789")->role == Role::Operator);
  CHECK_FALSE(tokens.find("ci-secret-012345678"));
  CHECK_FALSE(tokens.find("ci-secret-0123456789x"));
  CHECK_FALSE(tokens.find(""));
}

TEST_CASE("a bad token file is refused naming file, line and problem") {
  SECTION("unknown role") {
    auto t = TokenTable::parse("tokens:\n  - {name: x, role: admin, token: \"0123456789abcdef\"}\n",
                               "t.yaml");
    REQUIRE_FALSE(t);
    CHECK(t.error().find("t.yaml:2") != std::string::npos);
    CHECK(t.error().find("'admin' is not a role") != std::string::npos);
  }
  SECTION("short secret") {
    auto t = TokenTable::parse("tokens:\n  - {name: x, role: ci, token: short}\n", "t.yaml");
    REQUIRE_FALSE(t);
    CHECK(t.error().find("too short") != std::string::npos);
  }
  SECTION("missing field") {
    auto t = TokenTable::parse("tokens:\n  - {name: x, role: ci}\n", "t.yaml");
    REQUIRE_FALSE(t);
    CHECK(t.error().find("missing 'token'") != std::string::npos);
  }
  SECTION("duplicate name") {
    auto t = TokenTable::parse(
        "tokens:\n  - {name: x, role: ci, token: \"0123456789abcdef\"}\n"
        "  - {name: x, role: ci, token: \"0123456789abcdefg\"}\n",
        "t.yaml");
    REQUIRE_FALSE(t);
    CHECK(t.error().find("appears twice") != std::string::npos);
  }
  SECTION("not YAML") {
    auto t = TokenTable::parse("tokens: [\n", "t.yaml");
    REQUIRE_FALSE(t);
    CHECK(t.error().rfind("t.yaml:", 0) == 0);
  }
}

TEST_CASE("constant-time comparison still tells equal from different") {
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "abcd"));
  CHECK_FALSE(constant_time_equal("", "a"));
  CHECK(constant_time_equal("", ""));
}

TEST_CASE("state changes need a token; reads are open only on loopback") {
  const TokenTable tokens = table();
  const Caller nobody = identify("", tokens);
  const Caller wrong = identify("Bearer nope-nope-nope-nope", tokens);
  const Caller basic = identify("Basic abc", tokens);
  const Caller ci = identify("Bearer ci-secret-0123456789", tokens);
  CHECK(authorize(Endpoint::SubmitRuns, nobody, true) == Access::Unauthorized);
  CHECK(authorize(Endpoint::SubmitRuns, wrong, true) == Access::Unauthorized);
  CHECK(authorize(Endpoint::SubmitRuns, basic, true) == Access::Unauthorized);
  CHECK(authorize(Endpoint::SubmitRuns, ci, true) == Access::Allowed);
  CHECK(authorize(Endpoint::ListRuns, nobody, true) == Access::Allowed);
  CHECK(authorize(Endpoint::ListRuns, nobody, false) == Access::Unauthorized);
  CHECK(authorize(Endpoint::Health, nobody, false) == Access::Unauthorized);
  CHECK(authorize(Endpoint::ListRuns, ci, false) == Access::Allowed);
  CHECK(authorize(Endpoint::ListRuns, wrong, true) == Access::Unauthorized);
}

TEST_CASE("ci may cancel only its own runs; operators and engineers any run") {
  const TokenTable tokens = table();
  const Caller ci = identify("Bearer ci-secret-0123456789", tokens);
  const Caller op = identify("Bearer operator-secret-0123456789", tokens);
  const Caller eng = identify("Bearer engineer-secret-0123456789", tokens);
  CHECK(authorize(Endpoint::CancelRun, ci, true, "ci-main") == Access::Allowed);
  CHECK(authorize(Endpoint::CancelRun, ci, true, "alice") == Access::Forbidden);
  CHECK(authorize(Endpoint::CancelRun, op, true, "ci-main") == Access::Allowed);
  CHECK(authorize(Endpoint::CancelRun, eng, true, "") == Access::Allowed);
}

TEST_CASE("only operators and engineers may replace the rig's phantom") {
  const TokenTable tokens = table();
  const Caller nobody;
  const Caller ci = identify("Bearer ci-secret-0123456789", tokens);
  const Caller op = identify("Bearer operator-secret-0123456789", tokens);
  const Caller eng = identify("Bearer engineer-secret-0123456789", tokens);
  CHECK(match_route("POST", "/api/v1/rig/phantom").endpoint == Endpoint::ReplacePhantom);
  CHECK(match_route("GET", "/api/v1/rig/phantom").endpoint == Endpoint::MethodNotAllowed);
  CHECK(authorize(Endpoint::ReplacePhantom, nobody, true) == Access::Unauthorized);
  CHECK(authorize(Endpoint::ReplacePhantom, ci, true) == Access::Forbidden);
  CHECK(authorize(Endpoint::ReplacePhantom, op, true) == Access::Allowed);
  CHECK(authorize(Endpoint::ReplacePhantom, eng, false) == Access::Allowed);
}

TEST_CASE("suite names that climb out of the suites directory are refused") {
  CHECK(is_safe_relative_path("validate-DR-192-0.50.yaml"));
  CHECK(is_safe_relative_path("lab/validate.yaml"));
  CHECK_FALSE(is_safe_relative_path("../secret.yaml"));
  CHECK_FALSE(is_safe_relative_path("lab/../../x.yaml"));
  CHECK_FALSE(is_safe_relative_path("/etc/passwd"));
  CHECK_FALSE(is_safe_relative_path(""));
  CHECK_FALSE(is_safe_relative_path("a\\..\\b"));
}

TEST_CASE("roller files are found by their serial") {
  const std::string dir = std::string(DERMA_SOURCE_DIR) + "/fixtures/rollers";
  const auto nominal = find_roller_file(dir, "SIM-N192-050");
  REQUIRE(nominal);
  CHECK(nominal->find("nominal-DR-192-0.50.yaml") != std::string::npos);
  CHECK_FALSE(find_roller_file(dir, "NO-SUCH-SERIAL"));
}

TEST_CASE("the queue runs one at a time, first in first out") {
  RunQueue queue;
  REQUIRE(queue.push(1));
  REQUIRE(queue.push(2));
  REQUIRE(queue.push(3));
  CHECK(queue.length() == 3);
  CHECK(queue.position(3) == 3);
  CHECK(queue.take() == 1);
  CHECK(queue.running() == 1);
  CHECK(queue.position(2) == 1);
  CHECK_FALSE(queue.position(1));

  // A second taker waits until the running run is finished.
  std::optional<std::int64_t> second;
  std::thread taker([&] { second = queue.take(); });
  queue.finish(1);
  taker.join();
  CHECK(second == 2);
  CHECK(queue.length() == 1);
}

TEST_CASE("cancelling a queued run removes it; a running run gets its stop flag") {
  RunQueue queue;
  queue.push(1);
  queue.push(2);
  REQUIRE(queue.take() == 1);
  CHECK_FALSE(queue.stop_flag()->load());
  CHECK(queue.cancel(2) == CancelOutcome::CancelledInQueue);
  CHECK(queue.length() == 0);
  CHECK(queue.cancel(2) == CancelOutcome::NotActive);
  CHECK(queue.cancel(1) == CancelOutcome::StopRequested);
  CHECK(queue.stop_flag()->load());
  CHECK(queue.cancel_requested());
  queue.finish(1);
  CHECK_FALSE(queue.stop_flag()->load());
  CHECK(queue.cancel(99) == CancelOutcome::NotActive);
}

TEST_CASE("closing the queue stops the running run, wakes the worker and refuses new runs") {
  RunQueue queue;
  queue.push(1);
  queue.push(2);
  REQUIRE(queue.take() == 1);
  queue.close();
  CHECK(queue.stop_flag()->load());
  CHECK_FALSE(queue.cancel_requested());  // a shutdown is not a cancel
  CHECK_FALSE(queue.push(3));
  queue.finish(1);
  CHECK_FALSE(queue.take());
  CHECK(queue.length() == 1);  // run 2 stays queued (in the database) for the next start
}
