#include "bench/client/submit.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bench/client/run_summary.hpp"
#include "fake_server.hpp"

using namespace derma::client;
using namespace derma::client::testing;
namespace fs = std::filesystem;

namespace {

const std::string kReportPass =
    R"({"verdict":"pass","exit_code":0,"error":null,"suite":{"name":"validate"},)"
    R"("roller":{"serial":"SN-1","model":"DR-192-0.50"},"spec":{"model":"DR-192-0.50"},)"
    R"("rig":{"serial":"RIG-1","firmware_version":"1.2.0"},"duration_s":12.5,"rolls":[{}],)"
    R"("checks":[{"id":"penetration_depth","verdict":"pass","value":498.2,"unit":"um",)"
    R"("lower_limit":450,"upper_limit":550,"summary":"ok","findings":[]}]})";
const std::string kReportFail =
    R"({"verdict":"fail","exit_code":1,"error":null,"suite":{"name":"validate"},)"
    R"("roller":{"serial":"SN-2","model":"DR-192-0.50"},"spec":{"model":"DR-192-0.50"},)"
    R"("rig":{"serial":"RIG-1","firmware_version":"1.2.0"},"duration_s":12.5,"rolls":[{}],)"
    R"("checks":[{"id":"penetration_depth","verdict":"fail","value":430.0,"unit":"um",)"
    R"("lower_limit":450,"upper_limit":550,"summary":"2 channels below LSL",)"
    R"("findings":[{"text":"needle 1/0: 380 um"}]}]})";
const std::string kCapture = std::string("DRCAP\0\1\n", 8) + "bytes";

std::string final_row(int id, const std::string& state, int exit_code) {
  return R"({"id":)" + std::to_string(id) + R"(,"state":")" + state + R"(","exit_code":)" +
         std::to_string(exit_code) + R"(,"error":""})";
}

std::string finished_stream(int id, const std::string& state, int exit_code) {
  const std::string ids = std::to_string(id);
  return event_stream("event: state\ndata: {\"id\":" + ids +
                      ",\"state\":\"running\"}\n\n"
                      ": keep-alive\n\n"
                      "event: progress\ndata: {\"id\":" +
                      ids +
                      ",\"line\":\"step 4/6: roll\"}\n\n"
                      "event: end\ndata: " +
                      final_row(id, state, exit_code) + "\n\n");
}

void serve_files(FakeServer& server, int id, const std::string& report) {
  const std::string base = "GET /api/v1/runs/" + std::to_string(id);
  server.on(base + "/report.json", {http_answer(200, report)});
  server.on(base + "/junit.xml", {http_answer(200, "<testsuites/>", "application/xml")});
  server.on(base + "/report.html", {http_answer(200, "<html></html>", "text/html")});
  server.on(base + "/capture", {http_answer(200, kCapture, "application/octet-stream")});
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Fixture {
  FakeServer server;
  fs::path out = fs::temp_directory_path() / ("derma-submit-test-" + std::to_string(::getpid()));
  std::vector<std::string> progress;
  SubmitOptions options;
  Fixture() {
    fs::remove_all(out);
    options.progress = [this](const std::string& line) { progress.push_back(line); };
    options.request_timeout = std::chrono::milliseconds(5000);
    options.reconnect_delay = std::chrono::milliseconds(20);
    options.cancel_settle_time = std::chrono::milliseconds(0);  // keep `cancelling` as answered
  }
  ~Fixture() { fs::remove_all(out); }

  SubmitRequest request(std::vector<std::string> rollers = {"SN-1"}) const {
    SubmitRequest r;
    r.server = *parse_server_url(server.url());
    r.token = "secret-token";
    r.suite = "validate-DR-192-0.50.yaml";
    r.roller_serials = std::move(rollers);
    r.requester = "ci job 42";
    r.out_dir = out.string();
    return r;
  }
  bool printed(const std::string& text) const {
    for (const auto& line : progress)
      if (line.find(text) != std::string::npos) return true;
    return false;
  }
};

}  // namespace

TEST_CASE("a passing run is submitted, followed to its end and its files downloaded") {
  Fixture f;
  f.server.on("POST /api/v1/runs", {http_answer(201, R"({"runs":[{"id":7,"state":"queued"}]})")});
  f.server.on("GET /api/v1/runs/7/events", {finished_stream(7, "passed", 0)});
  serve_files(f.server, 7, kReportPass);

  const auto outcome = submit_and_wait(f.request(), f.options);

  CHECK(outcome.exit_code == 0);
  CHECK(outcome.error.empty());
  REQUIRE(outcome.runs.size() == 1);
  CHECK(outcome.runs[0].state == "passed");
  CHECK(read_file(f.out / "report.json") == kReportPass);
  CHECK(read_file(f.out / "junit.xml") == "<testsuites/>");
  CHECK(read_file(f.out / "report.html") == "<html></html>");
  CHECK(read_file(f.out / "capture.drcap") == kCapture);
  CHECK(f.printed("step 4/6: roll"));
  CHECK(f.printed("running"));

  const auto requests = f.server.requests();
  REQUIRE_FALSE(requests.empty());
  CHECK(requests[0].method == "POST");
  CHECK(requests[0].authorization == "Bearer secret-token");
  const auto body = nlohmann::json::parse(requests[0].body);
  CHECK(body["suite"] == "validate-DR-192-0.50.yaml");
  CHECK(body["rollers"] == nlohmann::json::array({"SN-1"}));
  CHECK(body["requester"] == "ci job 42");

  const std::string summary = summary_of(outcome.runs[0]);
  CHECK(summary.find("penetration_depth    PASS         498.2  um     [450.0, 550.0]") !=
        std::string::npos);
  CHECK(summary.find("verdict: PASS (exit 0)") != std::string::npos);
}

TEST_CASE("two rollers are two runs, each with its own folder, and the worst exit code wins") {
  Fixture f;
  f.server.on(
      "POST /api/v1/runs",
      {http_answer(201, R"({"runs":[{"id":7,"state":"queued"},{"id":8,"state":"queued"}]})")});
  f.server.on("GET /api/v1/runs/7/events", {finished_stream(7, "passed", 0)});
  f.server.on("GET /api/v1/runs/8/events", {finished_stream(8, "failed", 1)});
  serve_files(f.server, 7, kReportPass);
  serve_files(f.server, 8, kReportFail);

  const auto outcome = submit_and_wait(f.request({"SN-1", "SN-2"}), f.options);

  CHECK(outcome.exit_code == 1);
  REQUIRE(outcome.runs.size() == 2);
  CHECK(outcome.runs[0].exit_code == 0);
  CHECK(outcome.runs[1].exit_code == 1);
  CHECK(read_file(f.out / "SN-1" / "report.json") == kReportPass);
  CHECK(read_file(f.out / "SN-2" / "report.json") == kReportFail);
  CHECK(f.printed("[SN-2] step 4/6: roll"));
  const std::string summary = summary_of(outcome.runs[1]);
  CHECK(summary.find("2 channels below LSL") != std::string::npos);
  CHECK(summary.find("needle 1/0: 380 um") != std::string::npos);
}

TEST_CASE("a submission the server refuses is bad input, with the server's message") {
  Fixture f;
  f.server.on(
      "POST /api/v1/runs",
      {http_answer(400, R"({"error":{"code":"bad_request","message":"unknown suite 'x.yaml'"}})")});
  const auto outcome = submit_and_wait(f.request(), f.options);
  CHECK(outcome.exit_code == 2);
  CHECK(outcome.runs.empty());
  CHECK(outcome.error.find("unknown suite 'x.yaml'") != std::string::npos);
}

TEST_CASE("a wrong token is bad input too") {
  Fixture f;
  f.server.on("POST /api/v1/runs",
              {http_answer(401, R"({"error":{"code":"unauthorized","message":"unknown token"}})")});
  const auto outcome = submit_and_wait(f.request(), f.options);
  CHECK(outcome.exit_code == 2);
  CHECK(outcome.error.find("unauthorized") != std::string::npos);
}

TEST_CASE("a server error on submission is a rig or server error") {
  Fixture f;
  f.server.on("POST /api/v1/runs",
              {http_answer(500, R"({"error":{"code":"internal","message":"database locked"}})")});
  const auto outcome = submit_and_wait(f.request(), f.options);
  CHECK(outcome.exit_code == 3);
  CHECK(outcome.error.find("database locked") != std::string::npos);
}

TEST_CASE("a server nobody listens on is unreachable: exit 3 naming the address") {
  SubmitRequest request;
  unsigned short closed_port = 0;
  {
    FakeServer gone;
    closed_port = gone.port();
  }
  request.server = *parse_server_url("http://127.0.0.1:" + std::to_string(closed_port));
  request.roller_serials = {"SN-1"};
  request.out_dir = "unused";
  const auto outcome = submit_and_wait(request, {});
  CHECK(outcome.exit_code == 3);
  CHECK(outcome.error.find("cannot connect to http://127.0.0.1:" + std::to_string(closed_port)) !=
        std::string::npos);
}

TEST_CASE("a dropped event stream is reconnected after reading the run's state again") {
  Fixture f;
  f.server.on("POST /api/v1/runs", {http_answer(201, R"({"runs":[{"id":7,"state":"queued"}]})")});
  f.server.on(
      "GET /api/v1/runs/7/events",
      {dropped_event_stream("event: progress\ndata: {\"id\":7,\"line\":\"step 1/6: home\"}\n\n"
                            "event: progress\ndata: {\"id\":7,\"li"),
       finished_stream(7, "failed", 1)});
  f.server.on("GET /api/v1/runs/7", {http_answer(200, R"({"id":7,"state":"running"})")});
  serve_files(f.server, 7, kReportFail);

  const auto outcome = submit_and_wait(f.request(), f.options);

  CHECK(outcome.exit_code == 1);
  CHECK(f.printed("step 1/6: home"));
  CHECK(f.printed("reconnecting"));
  CHECK(f.server.count("GET", "/api/v1/runs/7/events") == 2);
  CHECK(f.server.count("GET", "/api/v1/runs/7") >= 1);
}

TEST_CASE("a run that ended while the stream was down is taken from its state") {
  Fixture f;
  f.server.on("POST /api/v1/runs", {http_answer(201, R"({"runs":[{"id":7,"state":"queued"}]})")});
  f.server.on("GET /api/v1/runs/7/events", {event_stream("")});
  f.server.on("GET /api/v1/runs/7", {http_answer(200, final_row(7, "error", 3))});
  const auto outcome = submit_and_wait(f.request(), f.options);
  CHECK(outcome.exit_code == 3);
  REQUIRE(outcome.runs.size() == 1);
  CHECK(outcome.runs[0].state == "error");
}

TEST_CASE("past the timeout the run is cancelled on the server and the exit is aborted") {
  Fixture f;
  f.server.on("POST /api/v1/runs", {http_answer(201, R"({"runs":[{"id":7,"state":"queued"}]})")});
  f.server.on("GET /api/v1/runs/7/events", {event_stream("")});
  f.server.on("GET /api/v1/runs/7", {http_answer(200, R"({"id":7,"state":"running"})")});
  f.server.on("POST /api/v1/runs/7/cancel", {http_answer(202, R"({"id":7,"state":"cancelling"})")});
  auto request = f.request();
  request.timeout = std::chrono::milliseconds(300);

  const auto outcome = submit_and_wait(request, f.options);

  CHECK(outcome.exit_code == 4);
  CHECK(outcome.error.find("timed out") != std::string::npos);
  CHECK(f.server.count("POST", "/api/v1/runs/7/cancel") == 1);
  REQUIRE(outcome.runs.size() == 1);
  CHECK(outcome.runs[0].state == "cancelling");
}

TEST_CASE("Ctrl-C cancels every unfinished run on the server, queued ones included") {
  Fixture f;
  std::atomic<bool> stop{false};
  f.server.on(
      "POST /api/v1/runs",
      {http_answer(201, R"({"runs":[{"id":7,"state":"queued"},{"id":8,"state":"queued"}]})")});
  f.server.on("GET /api/v1/runs/7/events",
              {event_stream("event: progress\ndata: {\"id\":7,\"line\":\"step 2/6: tare\"}\n\n")});
  f.server.on("GET /api/v1/runs/7", {http_answer(200, R"({"id":7,"state":"running"})")});
  f.server.on("POST /api/v1/runs/7/cancel", {http_answer(202, R"({"id":7,"state":"cancelling"})")});
  f.server.on("POST /api/v1/runs/8/cancel", {http_answer(202, R"({"id":8,"state":"cancelled"})")});
  f.options.stop_requested = &stop;
  f.options.progress = [&](const std::string& line) {
    if (line.find("step 2/6") != std::string::npos) stop = true;  // the operator hits Ctrl-C
  };

  const auto outcome = submit_and_wait(f.request({"SN-1", "SN-2"}), f.options);

  CHECK(outcome.exit_code == 4);
  CHECK(f.server.count("POST", "/api/v1/runs/7/cancel") == 1);
  CHECK(f.server.count("POST", "/api/v1/runs/8/cancel") == 1);
  REQUIRE(outcome.runs.size() == 2);
  CHECK(outcome.runs[1].state == "cancelled");
}

TEST_CASE("a server that stays away while a run is followed ends the submit with exit 3") {
  Fixture f;
  f.server.on("POST /api/v1/runs", {http_answer(201, R"({"runs":[{"id":7,"state":"queued"}]})")});
  f.server.on("GET /api/v1/runs/7/events", {http_answer(503, "")});
  f.server.on("GET /api/v1/runs/7",
              {http_answer(503, R"({"error":{"code":"internal","message":"restarting"}})")});
  f.options.server_lost_after = std::chrono::milliseconds(100);
  const auto outcome = submit_and_wait(f.request(), f.options);
  CHECK(outcome.exit_code == 3);
  CHECK(outcome.error.find("restarting") != std::string::npos);
}

TEST_CASE("a run without a report is summarised from its state and error") {
  SubmittedRun run;
  run.id = 9;
  run.roller_serial = "SN-9";
  run.state = "cancelled";
  run.exit_code = 4;
  run.row = nlohmann::json::parse(R"({"suite_name":"validate","error":"cancelled by ci-main"})");
  const std::string summary = summary_of(run);
  CHECK(summary.find("roller SN-9, run 9") != std::string::npos);
  CHECK(summary.find("cancelled by ci-main") != std::string::npos);
  CHECK(summary.find("run 9: cancelled (exit 4)") != std::string::npos);
}

TEST_CASE("final states map to the exit codes of bench run") {
  CHECK(exit_code_for_state("passed", 0) == 0);
  CHECK(exit_code_for_state("failed", 1) == 1);
  CHECK(exit_code_for_state("error", 2) == 2);
  CHECK(exit_code_for_state("error", 3) == 3);
  CHECK(exit_code_for_state("error", -1) == 3);
  CHECK(exit_code_for_state("aborted", 4) == 4);
  CHECK(exit_code_for_state("cancelled", -1) == 4);
  CHECK(exit_code_for_state("interrupted", -1) == 4);
  CHECK(exit_code_for_state("running", -1) == 3);
  CHECK(worst_exit_code(1, 4) == 4);
  CHECK(worst_exit_code(0, 1) == 1);
}
