#include "bench/client/submit.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "bench/client/http_client.hpp"
#include "bench/client/sse_reader.hpp"
#include "bench/report/run_report.hpp"

namespace derma::client {

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct DownloadSpec {
  const char* endpoint;
  const char* file_name;
};
constexpr DownloadSpec kDownloads[] = {{"report.json", "report.json"},
                                       {"junit.xml", "junit.xml"},
                                       {"report.html", "report.html"},
                                       {"capture", "capture.drcap"}};

std::string run_path(std::int64_t id) {
  return "/api/v1/runs/" + std::to_string(id);
}

std::string string_field(const nlohmann::json& j, const char* key) {
  if (j.is_object() && j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  return "";
}

int int_field(const nlohmann::json& j, const char* key, int fallback) {
  if (j.is_object() && j.contains(key) && j[key].is_number_integer()) return j[key].get<int>();
  return fallback;
}

std::string seconds_text(std::chrono::milliseconds duration) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(duration.count()) / 1000.0);
  return buf;
}

// The session with one server: the clients, the deadline, the console.
class Session {
 public:
  Session(const SubmitRequest& request, const SubmitOptions& options)
      : request_(request),
        options_(options),
        client_(request.server, request.token),
        control_(request.server, request.token) {
    if (request.timeout) deadline_ = Clock::now() + *request.timeout;
    client_.set_timeout(options.request_timeout);
    client_.set_interrupt([this] { return stop_reason() != Stop::None; });
    // Cancelling and downloading finished runs must work after Ctrl-C or the deadline.
    control_.set_timeout(std::min(options.request_timeout, std::chrono::milliseconds(10000)));
  }

  SubmitOutcome run();

 private:
  enum class Stop { None, Interrupted, TimedOut };
  enum class WatchEnd { Final, Stopped, Lost };

  Stop stop_reason() const {
    if (options_.stop_requested && options_.stop_requested->load()) return Stop::Interrupted;
    if (deadline_ && Clock::now() >= *deadline_) return Stop::TimedOut;
    return Stop::None;
  }

  void say(const std::string& line) const {
    if (options_.progress) options_.progress(line);
  }

  std::string prefix(const SubmittedRun& run) const {
    return request_.roller_serials.size() > 1 ? "[" + run.roller_serial + "] " : "";
  }

  // Sleeps, waking early when the submit is stopped.
  void pause(std::chrono::milliseconds duration) const {
    const auto until = Clock::now() + duration;
    while (Clock::now() < until && stop_reason() == Stop::None)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  bool submit(SubmitOutcome& outcome);
  WatchEnd watch(SubmittedRun& run, std::string& why_lost);
  void handle_event(const SseEvent& event, SubmittedRun& run, bool& ended);
  void download(SubmittedRun& run);
  void cancel_unfinished(SubmitOutcome& outcome);
  void settle(SubmittedRun& run);

  const SubmitRequest& request_;
  const SubmitOptions& options_;
  HttpClient client_;   // stops on Ctrl-C and at the deadline
  HttpClient control_;  // cancels and downloads: never interrupted
  std::optional<Clock::time_point> deadline_;
};

bool Session::submit(SubmitOutcome& outcome) {
  nlohmann::json body = {{"suite", request_.suite},
                         {"rollers", request_.roller_serials},
                         {"requester", request_.requester}};
  if (!request_.lot.empty()) body["lot"] = request_.lot;
  if (!request_.fleet.empty()) body["fleet"] = request_.fleet;
  const auto answer = client_.post_json("/api/v1/runs", body.dump());
  if (!answer) {
    if (answer.error().kind == HttpFailure::Interrupted) {
      outcome.exit_code = report::kExitAborted;
      outcome.error = stop_reason() == Stop::TimedOut
                          ? "timed out before the server accepted the runs"
                          : "interrupted before the server accepted the runs";
    } else {
      outcome.exit_code = report::kExitRigError;
      outcome.error = answer.error().message;
    }
    return false;
  }
  if (answer->status / 100 == 4) {
    outcome.exit_code = report::kExitBadInput;
    outcome.error = "the server refused the submission: " + describe_error_response(*answer);
    return false;
  }
  if (answer->status != 201 && answer->status != 200) {
    outcome.exit_code = report::kExitRigError;
    outcome.error = "the server failed: " + describe_error_response(*answer);
    return false;
  }
  const auto parsed = nlohmann::json::parse(answer->body, nullptr, false);
  const bool runs_listed = parsed.is_object() && parsed.contains("runs") &&
                           parsed["runs"].is_array() &&
                           parsed["runs"].size() == request_.roller_serials.size();
  if (!runs_listed) {
    outcome.exit_code = report::kExitRigError;
    outcome.error =
        "the server's answer does not list one run per roller: " + answer->body.substr(0, 300);
    return false;
  }
  for (std::size_t i = 0; i < request_.roller_serials.size(); ++i) {
    const auto& entry = parsed["runs"][i];
    SubmittedRun run;
    run.roller_serial = request_.roller_serials[i];
    run.suite = request_.suite;
    if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_number_integer()) {
      outcome.exit_code = report::kExitRigError;
      outcome.error = "the server's answer has a run without an id: " + entry.dump();
      return false;
    }
    run.id = entry["id"].get<std::int64_t>();
    run.state = string_field(entry, "state");
    run.out_dir = request_.roller_serials.size() > 1
                      ? (fs::path(request_.out_dir) / run.roller_serial).string()
                      : request_.out_dir;
    say(prefix(run) + "run " + std::to_string(run.id) + " (" + run.roller_serial + ") " +
        run.state + ": " + request_.server.to_string() + run_path(run.id));
    outcome.runs.push_back(std::move(run));
  }
  return true;
}

void Session::handle_event(const SseEvent& event, SubmittedRun& run, bool& ended) {
  const auto data = nlohmann::json::parse(event.data, nullptr, false);
  if (event.type == "progress") {
    const std::string line = data.is_object() ? string_field(data, "line") : event.data;
    say(prefix(run) + line);
  } else if (event.type == "state") {
    const std::string state = string_field(data, "state");
    if (!state.empty() && state != run.state) {
      run.state = state;
      say(prefix(run) + "run " + std::to_string(run.id) + ": " + state);
    }
  } else if (event.type == "end") {
    if (data.is_object()) run.row = data;
    ended = true;
  }
}

Session::WatchEnd Session::watch(SubmittedRun& run, std::string& why_lost) {
  std::optional<Clock::time_point> unreachable_since;
  bool said_reconnecting = false;
  while (true) {
    if (stop_reason() != Stop::None) return WatchEnd::Stopped;

    // A fresh parser per connection: an event cut by a dropped connection is discarded.
    SseReader reader;
    bool ended = false;
    const auto on_bytes = [&](std::string_view bytes) {
      for (const SseEvent& event : reader.feed(bytes)) {
        handle_event(event, run, ended);
        if (ended) return false;
      }
      return true;
    };
    const auto streamed =
        client_.stream_get(run_path(run.id) + "/events", on_bytes, options_.stream_idle_timeout);
    if (ended && run.row.is_object()) {
      run.state = string_field(run.row, "state");
      if (is_final_state(run.state)) return WatchEnd::Final;
    }
    if (!streamed && streamed.error().kind == HttpFailure::Interrupted) return WatchEnd::Stopped;
    if (streamed && streamed->status == 404) {
      why_lost = "run " + std::to_string(run.id) +
                 " is unknown to the server: " + describe_error_response(*streamed);
      return WatchEnd::Lost;
    }
    std::string problem = !streamed ? streamed.error().message
                          : streamed->status / 100 == 2
                              ? "the event stream ended before the run did"
                              : describe_error_response(*streamed);

    // The stream is gone: is the run over, or is the server still there?
    const auto polled = client_.get(run_path(run.id));
    if (!polled && polled.error().kind == HttpFailure::Interrupted) return WatchEnd::Stopped;
    if (polled && polled->status == 200) {
      const auto row = nlohmann::json::parse(polled->body, nullptr, false);
      const std::string state = string_field(row, "state");
      if (is_final_state(state)) {
        run.row = row;
        run.state = state;
        return WatchEnd::Final;
      }
      unreachable_since.reset();
    } else {
      problem = polled ? describe_error_response(*polled) : polled.error().message;
      if (!unreachable_since) unreachable_since = Clock::now();
      if (Clock::now() - *unreachable_since >= options_.server_lost_after) {
        why_lost = "lost the server while run " + std::to_string(run.id) + " was " + run.state +
                   ": " + problem;
        return WatchEnd::Lost;
      }
    }
    if (!said_reconnecting) {
      say(prefix(run) + "event stream lost (" + problem + "); reconnecting");
      said_reconnecting = true;
    }
    pause(options_.reconnect_delay);
  }
}

void Session::download(SubmittedRun& run) {
  // A fleet run's files are on the daemon that ran it, which the row names.
  std::unique_ptr<HttpClient> elsewhere;
  if (const std::string files_url = string_field(run.row, "files_url"); !files_url.empty()) {
    auto server = parse_server_url(files_url);
    if (!server) {
      run.error =
          "run " + std::to_string(run.id) + ": files_url " + files_url + ": " + server.error();
      return;
    }
    elsewhere = std::make_unique<HttpClient>(*server, request_.token);
    elsewhere->set_timeout(options_.request_timeout);
  }
  HttpClient& files = elsewhere ? *elsewhere : control_;
  std::error_code ec;
  fs::create_directories(run.out_dir, ec);
  if (ec) {
    run.error = "cannot create " + run.out_dir + ": " + ec.message();
    return;
  }
  for (const auto& spec : kDownloads) {
    const fs::path file = fs::path(run.out_dir) / spec.file_name;
    const fs::path partial = file.string() + ".part";
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) {
      run.error = "cannot write " + partial.string();
      return;
    }
    const auto answer = files.stream_get(
        run_path(run.id) + "/" + spec.endpoint,
        [&](std::string_view bytes) {
          out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
          return static_cast<bool>(out);
        },
        options_.request_timeout);
    out.close();
    if (answer && answer->status == 200 && out) {
      fs::rename(partial, file, ec);
      if (!ec) run.downloaded.push_back(spec.file_name);
      continue;
    }
    fs::remove(partial, ec);
    if (answer && answer->status == 404) continue;  // this run made no such file
    say(prefix(run) + "could not download " + spec.file_name + ": " +
        (answer ? describe_error_response(*answer) : answer.error().message));
  }
  std::ifstream report_file(fs::path(run.out_dir) / "report.json");
  if (report_file) run.report = nlohmann::json::parse(report_file, nullptr, false);
  if (run.report.is_discarded()) run.report = nullptr;
}

// A running run being cancelled first makes the rig safe: wait a little for its final
// state, so the job log says `cancelled` (or how it really ended) rather than `cancelling`.
void Session::settle(SubmittedRun& run) {
  const auto until = Clock::now() + options_.cancel_settle_time;
  while (!is_final_state(run.state) && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto polled = control_.get(run_path(run.id));
    if (!polled || polled->status != 200) return;
    const auto row = nlohmann::json::parse(polled->body, nullptr, false);
    const std::string state = string_field(row, "state");
    if (state.empty()) return;
    run.row = row;
    run.state = state;
  }
  if (!string_field(run.row, "error").empty()) run.error = string_field(run.row, "error");
}

void Session::cancel_unfinished(SubmitOutcome& outcome) {
  // Latest first: a running run's cancel waits for it to settle, and meanwhile the daemon
  // would start the next queued one (a virtual-rig validation takes a tenth of a second), so
  // in submission order the queue could run to its end before its cancels arrived.
  for (auto it = outcome.runs.rbegin(); it != outcome.runs.rend(); ++it) {
    SubmittedRun& run = *it;
    if (is_final_state(run.state)) continue;
    const auto answer = control_.post_json(run_path(run.id) + "/cancel", "{}");
    if (answer && answer->status / 100 == 2) {
      const auto parsed = nlohmann::json::parse(answer->body, nullptr, false);
      const std::string state = string_field(parsed, "state");
      say(prefix(run) + "run " + std::to_string(run.id) + " " +
          (state.empty() ? "cancelled" : state) + " on the server");
      run.state = state.empty() ? "cancelling" : state;
      run.exit_code = report::kExitAborted;
      settle(run);
      continue;
    }
    if (answer && answer->status == 409) {  // it ended meanwhile: keep its real outcome
      const auto polled = control_.get(run_path(run.id));
      if (polled && polled->status == 200) {
        run.row = nlohmann::json::parse(polled->body, nullptr, false);
        run.state = string_field(run.row, "state");
        run.exit_code = exit_code_for_state(run.state, int_field(run.row, "exit_code", -1));
        download(run);
        continue;
      }
    }
    run.exit_code = report::kExitAborted;
    run.error = "could not cancel run " + std::to_string(run.id) + " on the server: " +
                (answer ? describe_error_response(*answer) : answer.error().message);
    say(prefix(run) + run.error);
  }
}

SubmitOutcome Session::run() {
  SubmitOutcome outcome;
  if (!submit(outcome)) return outcome;

  for (SubmittedRun& run : outcome.runs) {
    std::string why_lost;
    WatchEnd end = watch(run, why_lost);
    // A fleet job whose rig's daemon died is queued again as a new run: follow the job.
    while (end == WatchEnd::Final && run.state == "interrupted" && run.row.contains("next_run") &&
           run.row["next_run"].is_number_integer()) {
      const auto next = run.row["next_run"].get<std::int64_t>();
      say(prefix(run) + "run " + std::to_string(run.id) + " was interrupted (" +
          string_field(run.row, "error") + "); the fleet queued its job again as run " +
          std::to_string(next));
      run.interrupted_attempts.push_back(run.id);
      run.id = next;
      run.state = "queued";
      run.row = nullptr;
      end = watch(run, why_lost);
    }
    if (end == WatchEnd::Stopped) {
      outcome.error = stop_reason() == Stop::TimedOut
                          ? "timed out after " + seconds_text(*request_.timeout) +
                                " s: cancelling the unfinished runs"
                          : "interrupted: cancelling the unfinished runs";
      say(outcome.error);
      cancel_unfinished(outcome);
      outcome.exit_code = report::kExitAborted;
      for (const auto& r : outcome.runs)
        outcome.exit_code = worst_exit_code(outcome.exit_code, r.exit_code);
      return outcome;
    }
    if (end == WatchEnd::Lost) {
      run.error = why_lost;
      run.exit_code = report::kExitRigError;
      outcome.error = why_lost;
      outcome.exit_code = report::kExitRigError;
      return outcome;
    }
    run.exit_code = exit_code_for_state(run.state, int_field(run.row, "exit_code", -1));
    const std::string row_error = string_field(run.row, "error");
    if (!row_error.empty()) run.error = row_error;
    download(run);
    const bool judged = run.state == "passed" || run.state == "failed";
    if (judged && run.report.is_null()) {
      run.error = "the run " + run.state + " but its report.json could not be downloaded";
      run.exit_code = report::kExitRigError;
    }
  }
  outcome.exit_code = report::kExitPass;
  for (const auto& r : outcome.runs)
    outcome.exit_code = worst_exit_code(outcome.exit_code, r.exit_code);
  return outcome;
}

}  // namespace

bool is_final_state(const std::string& state) {
  return state == "passed" || state == "failed" || state == "error" || state == "aborted" ||
         state == "cancelled" || state == "interrupted";
}

int exit_code_for_state(const std::string& state, int reported_exit_code) {
  if (state == "passed") return report::kExitPass;
  if (state == "failed") return report::kExitFail;
  if (state == "error")
    return reported_exit_code == report::kExitBadInput ? report::kExitBadInput
                                                       : report::kExitRigError;
  if (state == "aborted" || state == "cancelled" || state == "interrupted")
    return report::kExitAborted;
  return report::kExitRigError;
}

int worst_exit_code(int a, int b) {
  return std::max(a, b);
}

SubmitOutcome submit_and_wait(const SubmitRequest& request, const SubmitOptions& options) {
  Session session(request, options);
  return session.run();
}

}  // namespace derma::client
