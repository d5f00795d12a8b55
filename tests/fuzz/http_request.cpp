// Fuzz target: the daemon's HTTP request handling, end to end. The input is the raw bytes a
// client sends on one connection (any number of pipelined requests); they go over a real
// loopback socket into the real HttpServer (Boost.Beast parser, limits, keep-alive, event
// streams) and the real Daemon::handle (routes, tokens, access rules, JSON bodies, queries,
// the results database), exactly as `bench serve` wires them, with a results database in a
// temporary directory and no rig (the worker thread is never started, so a submitted run
// stays queued and nothing rolls).
// Properties: no crash, no leak, no hang; every byte the server sends back parses as HTTP/1.1
// responses; and no request is answered 5xx (a client's bytes are a 4xx at worst: a 500 means
// a handler threw on input it should have refused).
//
// Single-threaded: the fuzzer's thread runs the io_context between its own non-blocking
// socket writes and reads, so each input ends deterministically when the server closes the
// connection (the client half-closes after sending; the server closes on end of stream).
#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "bench/api/daemon.hpp"
#include "bench/api/http_server.hpp"
#include "bench/store/results_db.hpp"
#include "tests/fuzz/fuzz_target.hpp"

#ifndef DERMA_SOURCE_DIR
#error "DERMA_SOURCE_DIR must name the source tree (fixtures/suites, fixtures/rollers)"
#endif

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// Tokens of every role, so that the fuzzer (and the dictionary, http_request.dict) can reach
// the endpoints that change state.
constexpr const char* kTokens = R"(tokens:
  - {name: fuzz-ci, role: ci, token: "fuzz-ci-token-0123456789"}
  - {name: fuzz-operator, role: operator, token: "fuzz-operator-token-0123456789"}
  - {name: fuzz-engineer, role: engineer, token: "fuzz-engineer-token-0123456789"}
)";

void fail_setup(const std::string& what) {
  std::fprintf(stderr, "http_request fuzz target: %s\n", what.c_str());
  std::exit(2);
}

// A temporary data directory (tmpfs when there is one: the database syncs every commit),
// removed when the process ends normally.
struct TempDir {
  fs::path path;
  TempDir() {
    const fs::path base =
        fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string pattern = (base / "derma-fuzz-http-XXXXXX").string();
    if (!mkdtemp(pattern.data())) fail_setup("cannot create a temporary directory");
    path = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

// Run 1 is a finished run with its files, so the fuzzer can reach the read endpoints that
// need one (report downloads, a final run's event stream, a run's checks).
void add_finished_run(const fs::path& data_dir) {
  auto db = derma::store::ResultsDb::open((data_dir / "dermabench.db").string());
  if (!db) fail_setup("results database: " + db.error());
  derma::store::NewRun run;
  run.suite_file = "validate-DR-192-0.50.yaml";
  run.suite_name = "validate-DR-192-0.50";
  run.spec_model = "DR-192-0.50";
  run.roller_serial = "SIM-N192-050";
  run.requester = "fuzz";
  run.rig_address = "sim";
  run.out_dir = (data_dir / "runs").string();
  auto id = (*db)->create_run(run);
  if (!id) fail_setup("create_run: " + id.error());
  if (auto set = (*db)->set_state(*id, derma::store::RunState::Running); !set)
    fail_setup("set_state: " + set.error());
  if (auto set = (*db)->set_state(*id, derma::store::RunState::Error, "fuzz fixture"); !set)
    fail_setup("set_state: " + set.error());
  const fs::path dir = data_dir / "runs" / std::to_string(*id);
  fs::create_directories(dir);
  std::ofstream(dir / "report.json") << "{\"verdict\": \"error\"}\n";
  std::ofstream(dir / "junit.xml") << "<testsuites/>\n";
  std::ofstream(dir / "report.html") << "<!doctype html><title>run</title>\n";
  std::ofstream(dir / "capture.drcap") << "DRCAP";
}

struct Fixture {
  TempDir data;
  asio::io_context io;
  std::unique_ptr<derma::api::Daemon> daemon;
  std::shared_ptr<derma::api::HttpServer> server;
  tcp::endpoint endpoint;

  Fixture() {
    spdlog::set_level(spdlog::level::off);  // the daemon logs every 4xx/5xx it answers
    fs::create_directories(data.path / "runs");
    add_finished_run(data.path);
    derma::api::DaemonConfig config;
    config.rig = "sim";
    config.suites_dir = std::string(DERMA_SOURCE_DIR) + "/fixtures/suites";
    config.rollers_dir = std::string(DERMA_SOURCE_DIR) + "/fixtures/rollers";
    config.data_dir = data.path.string();
    auto tokens = derma::api::TokenTable::parse(kTokens, "fuzz-tokens.yaml");
    if (!tokens) fail_setup(tokens.error());
    config.tokens = *tokens;
    auto opened = derma::api::Daemon::open(config, io);
    if (!opened) fail_setup(opened.error());
    daemon = std::move(*opened);
    // bench serve's own wiring (bench/app/serve_command.cpp), with small limits so that the
    // fuzzer reaches them.
    derma::api::ServerOptions options;
    options.body_limit_bytes = 4096;
    options.header_limit_bytes = 2048;
    derma::api::Daemon* d = daemon.get();
    options.on_response = [d](unsigned status) { d->count_response(status); };
    auto listening = derma::api::HttpServer::listen(
        io, tcp::endpoint(asio::ip::address_v4::loopback(), 0),
        [d](const derma::api::HttpRequest& request) { return d->handle(request); }, options);
    if (!listening) fail_setup(listening.error());
    server = *listening;
    endpoint = server->local_endpoint();
  }
  ~Fixture() {
    server.reset();
    daemon.reset();
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// Sends `request` on a fresh connection, half-closes, and returns everything the server sent
// until it closed the connection.
std::string exchange(Fixture& f, std::string_view request) {
  tcp::socket client(f.io);
  boost::system::error_code ec;
  client.connect(f.endpoint, ec);
  FUZZ_CHECK(!ec, "cannot connect to the server");
  client.non_blocking(true);

  std::string received;
  std::size_t sent = 0;
  bool half_closed = false;
  auto last_progress = std::chrono::steady_clock::now();
  for (;;) {
    bool progress = false;
    if (sent < request.size()) {
      const std::size_t n = client.write_some(asio::buffer(request.substr(sent)), ec);
      if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
        half_closed = true;  // the server closed early (e.g. after a 400): stop sending
        sent = request.size();
      } else {
        sent += n;
        progress = n > 0;
      }
    } else if (!half_closed) {
      client.shutdown(tcp::socket::shutdown_send, ec);
      half_closed = true;
    }
    char buffer[8192];
    const std::size_t n = client.read_some(asio::buffer(buffer), ec);
    if (ec == asio::error::eof ||
        (ec && ec != asio::error::would_block && ec != asio::error::try_again)) {
      break;  // the server closed: the exchange is over
    }
    received.append(buffer, n);
    progress = progress || n > 0;
    // Let the server work: handlers ready now, or wait a little for the next one.
    if (f.io.poll() > 0 || progress) {
      last_progress = std::chrono::steady_clock::now();
    } else if (f.io.run_one_for(20ms) > 0) {
      last_progress = std::chrono::steady_clock::now();
    } else {
      // Not a timing assertion: a safety net far beyond any real exchange (microseconds),
      // which turns a connection the server never closes into a named finding.
      FUZZ_CHECK(std::chrono::steady_clock::now() - last_progress < 10s,
                 "the server keeps a half-closed connection open");
    }
  }
  client.close(ec);
  f.io.poll();  // lets the server see the close of an event stream
  return received;
}

// Every response the server sent must parse; none may be a 5xx other than 503 (busy).
void check_responses(const std::string& received) {
  boost::beast::flat_buffer buffer;
  auto bytes = buffer.prepare(received.size());
  asio::buffer_copy(bytes, asio::buffer(received));
  buffer.commit(received.size());
  while (buffer.size() > 0) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    parser.eager(true);
    boost::system::error_code ec;
    std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    while (!ec && !parser.is_done() && buffer.size() > 0) {
      used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (used == 0) break;
    }
    if (!ec && !parser.is_done()) parser.put_eof(ec);  // a body that ends with the connection
    FUZZ_CHECK(!ec, "the server sent bytes that are not an HTTP response");
    FUZZ_CHECK(parser.is_done(), "the server sent a truncated HTTP response");
    const unsigned status = parser.get().result_int();
    FUZZ_CHECK(status < 500 || status == 503, "a request was answered with a 5xx");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Fixture& f = fixture();
  const std::string received =
      exchange(f, std::string_view(reinterpret_cast<const char*>(data), size));
  check_responses(received);
  return 0;
}
