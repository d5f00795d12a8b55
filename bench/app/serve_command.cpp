// `bench serve`: the daemon that owns one rig and runs suites for many clients (CI jobs,
// operators) over HTTP/JSON (docs/api.md).
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>
#include <thread>

#include "bench/api/daemon.hpp"
#include "bench/app/commands.hpp"
#include "bench/report/run_report.hpp"
#include "drivers/transport/rig_address.hpp"

namespace derma::app {

namespace asio = boost::asio;

namespace {

int usage_error(const std::string& message) {
  std::cerr << "bench serve: " << message << "\n";
  return report::kExitBadInput;
}

}  // namespace

int serve_command(const ServeCommand& cmd) {
  // HOST:PORT; an IPv6 host goes in brackets: [::1]:8735.
  const std::size_t colon = cmd.listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return usage_error("--listen must be HOST:PORT, got '" + cmd.listen + "'");
  std::string host = cmd.listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    std::size_t used = 0;
    port = std::stoi(cmd.listen.substr(colon + 1), &used);
    if (used != cmd.listen.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535)
    return usage_error("--listen: port must be 0-65535, got '" + cmd.listen.substr(colon + 1) +
                       "'");
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) return usage_error("--listen: '" + host + "' is not an IP address");

  api::DaemonConfig config;
  config.rig = cmd.rig;
  config.suites_dir = cmd.suites_dir;
  config.rollers_dir = cmd.rollers_dir;
  config.data_dir = cmd.data_dir;
  config.db_file = cmd.db_file;
  config.realtime = cmd.realtime;
  config.name = cmd.name;
  config.fleet_kind = cmd.fleet_kind;
  config.sim_rig_serial = cmd.sim_rig_serial;
  config.heartbeat = std::chrono::milliseconds(cmd.heartbeat_ms);
  config.lease = std::chrono::milliseconds(static_cast<long long>(cmd.lease_s * 1000));
  if (config.lease < 3 * config.heartbeat)
    return usage_error("--lease must last at least three heartbeats (--heartbeat-ms)");
  if (!cmd.sim_rig_serial.empty() && cmd.rig != "sim")
    return usage_error("--sim-rig-serial is for --rig sim: a device reports its own serial");
  config.loopback_only = address.is_loopback();
  if (!config.loopback_only && cmd.token_file.empty())
    return usage_error("listening on " + host +
                       " (beyond loopback) needs --token-file: every client must prove who it is");
  if (!cmd.token_file.empty()) {
    auto tokens = api::TokenTable::load(cmd.token_file);
    if (!tokens) return usage_error("invalid input: " + tokens.error());
    config.tokens = std::move(*tokens);
  } else {
    std::cerr << "bench serve: no --token-file: reads only, nobody can submit or cancel runs\n";
  }
  if (cmd.realtime && cmd.rig != "sim") return usage_error("--realtime needs --rig sim");
  // A malformed address is bad usage (exit 2), not a rig error: checked before opening.
  if (cmd.rig != "sim") {
    auto rig_address = transport::parse_rig_address(cmd.rig);
    if (!rig_address) return usage_error("--rig: " + rig_address.error().message);
  }

  // Signals are taken before any thread starts, so every thread inherits the mask and only
  // the io thread's signal_set sees them.
  asio::io_context io;
  asio::signal_set signals(io, SIGINT, SIGTERM);

  auto daemon = api::Daemon::open(std::move(config), io);
  if (!daemon) {
    std::cerr << "bench serve: " << daemon.error() << "\n";
    return report::kExitRigError;
  }
  api::Daemon& d = **daemon;
  if (d.interrupted_at_start() > 0)
    std::cerr << "bench serve: " << d.interrupted_at_start()
              << " run(s) left running by a previous daemon marked interrupted\n";

  api::ServerOptions options;
  options.body_limit_bytes = cmd.body_limit_bytes;
  options.max_connections = cmd.max_connections;
  options.on_response = [&d](unsigned status) { d.count_response(status); };
  auto server = api::HttpServer::listen(
      io, asio::ip::tcp::endpoint(address, static_cast<unsigned short>(port)),
      [&d](const api::HttpRequest& request) { return d.handle(request); }, options);
  if (!server) {
    std::cerr << "bench serve: " << server.error() << "\n";
    return report::kExitRigError;
  }
  const auto bound = (*server)->local_endpoint();
  const std::string shown = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                    : bound.address().to_string();
  char host_name[256] = "localhost";
  ::gethostname(host_name, sizeof host_name - 1);
  const std::string default_name = std::string(host_name) + ":" + std::to_string(bound.port());
  const std::string api_url =
      !cmd.api_url.empty() ? cmd.api_url
      : bound.address().is_unspecified()
          ? "http://" + std::string(host_name) + ":" + std::to_string(bound.port())
          : "http://" + shown + ":" + std::to_string(bound.port());
  if (auto started = d.start(default_name, api_url); !started) {
    std::cerr << "bench serve: " << started.error() << "\n";
    return report::kExitRigError;
  }
  std::cerr << "bench serve: listening on http://" << shown << ":" << bound.port() << " as "
            << d.name()
            << (cmd.fleet_kind.empty() ? "" : ", taking fleet jobs of kind " + cmd.fleet_kind)
            << std::endl;
  if (d.requeued_at_start() > 0)
    std::cerr << "bench serve: " << d.requeued_at_start() << " queued run(s) re-queued\n";

  // On SIGINT/SIGTERM: no new connections or runs; the running run is stopped at its current
  // step (the runner aborts motion and retracts Z) and recorded; then the io loop ends.
  std::thread stopper;
  signals.async_wait([&](const boost::system::error_code& error, int signal_number) {
    if (error) return;
    std::cerr << "bench serve: signal " << signal_number << ": stopping" << std::endl;
    (*server)->stop_accepting();
    stopper = std::thread([&] {
      d.stop();
      asio::post(io, [&] { io.stop(); });
    });
  });
  io.run();
  if (stopper.joinable()) stopper.join();
  std::cerr << "bench serve: stopped" << std::endl;
  return 0;
}

}  // namespace derma::app
