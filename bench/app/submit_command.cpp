// `bench submit`: a CI job's way onto the bench (bench/client/submit.hpp).
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "bench/app/commands.hpp"
#include "bench/app/run_recording.hpp"
#include "bench/client/run_summary.hpp"
#include "bench/client/submit.hpp"
#include "bench/report/run_report.hpp"

namespace derma::app {

namespace {

std::atomic<bool> g_stop_requested{false};
extern "C" void on_submit_stop_signal(int) {
  g_stop_requested = true;
}

int usage_error(const std::string& message) {
  std::cerr << "bench submit: " << message << "\n";
  return report::kExitBadInput;
}

std::string trimmed(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

}  // namespace

int submit_command(const SubmitCommand& cmd) {
  auto server = client::parse_server_url(cmd.server);
  if (!server) return usage_error("--server " + cmd.server + ": " + server.error());
  if (cmd.roller_serials.empty()) return usage_error("give at least one --roller SERIAL");
  if (cmd.token.empty() == cmd.token_file.empty())
    return usage_error("give exactly one of --token-file FILE and --token TOKEN");
  if (!(cmd.timeout_s > 0)) return usage_error("--timeout must be a positive number of seconds");

  client::SubmitRequest request;
  request.server = *server;
  request.suite = cmd.suite;
  request.roller_serials = cmd.roller_serials;
  request.out_dir = cmd.out_dir;
  request.token = cmd.token;
  if (!cmd.token_file.empty()) {
    std::ifstream file(cmd.token_file);
    if (!file) return usage_error("--token-file " + cmd.token_file + ": cannot read it");
    std::ostringstream text;
    text << file.rdbuf();
    request.token = trimmed(text.str());
    if (request.token.empty() || request.token.find_first_of(" \t\r\n") != std::string::npos)
      return usage_error("--token-file " + cmd.token_file +
                         ": must hold the token alone (one line, no spaces)");
  }
  request.requester = cmd.requester;
  request.lot = cmd.lot;
  request.fleet = cmd.fleet;
  if (request.requester.empty()) request.requester = user_name();
  if (cmd.timeout_s < 1e9)
    request.timeout = std::chrono::milliseconds(static_cast<long long>(cmd.timeout_s * 1000));

  std::signal(SIGINT, on_submit_stop_signal);
  std::signal(SIGTERM, on_submit_stop_signal);

  client::SubmitOptions options;
  options.stop_requested = &g_stop_requested;
  if (!cmd.quiet)
    options.progress = [](const std::string& line) { std::cerr << line << std::endl; };

  const client::SubmitOutcome outcome = client::submit_and_wait(request, options);
  for (const auto& run : outcome.runs) {
    std::cout << client::summary_of(run);
    if (!run.downloaded.empty()) {
      std::cout << "files in " << run.out_dir << ":";
      for (const auto& name : run.downloaded) std::cout << " " << name;
      std::cout << "\n";
    }
  }
  if (!outcome.error.empty()) std::cerr << "bench submit: " << outcome.error << "\n";
  if (outcome.runs.size() > 1)
    std::cout << "bench submit: " << outcome.runs.size() << " runs, exit " << outcome.exit_code
              << "\n";
  return outcome.exit_code;
}

}  // namespace derma::app
