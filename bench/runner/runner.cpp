#include "bench/runner/runner.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "bench/analysis/checks.hpp"
#include "bench/analysis/method.hpp"
#include "bench/report/json_report.hpp"
#include "bench/report/junit_report.hpp"
#include "bench/report/report_files.hpp"
#include "bench/runner/record_builder.hpp"
#include "bench/runner/roll_judgement.hpp"
#include "bench/runner/station.hpp"
#include "bench/runner/virtual_rig.hpp"
#include "bench/store/capture.hpp"
#include "drivers/rig/rig_client.hpp"
#include "drivers/transport/rig_address.hpp"

namespace derma::runner {

namespace fs = std::filesystem;
using report::RunVerdict;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// What a long-lived client's decoder counted since `start`.
proto::LinkCounters counters_since(const proto::LinkCounters& start,
                                   const proto::LinkCounters& now) {
  proto::LinkCounters d;
  d.bytes_in = now.bytes_in - start.bytes_in;
  d.frames_ok = now.frames_ok - start.frames_ok;
  d.crc_errors = now.crc_errors - start.crc_errors;
  d.cobs_errors = now.cobs_errors - start.cobs_errors;
  d.oversize_frames = now.oversize_frames - start.oversize_frames;
  d.runt_frames = now.runt_frames - start.runt_frames;
  d.length_mismatches = now.length_mismatches - start.length_mismatches;
  d.version_errors = now.version_errors - start.version_errors;
  d.bytes_discarded = now.bytes_discarded - start.bytes_discarded;
  return d;
}

std::string utc_today_iso8601() {
  return utc_now_iso8601().substr(0, 10);
}

// Why the rig may not be used, if its calibration due date (YYYY-MM-DD) has passed or
// cannot be read. ISO dates compare as text.
std::optional<std::string> calibration_problem(const std::string& due, const std::string& today) {
  int year = 0, month = 0, day = 0;
  char tail = 0;
  if (due.size() != 10 ||
      std::sscanf(due.c_str(), "%4d-%2d-%2d%c", &year, &month, &day, &tail) != 3 || month < 1 ||
      month > 12 || day < 1 || day > 31)
    return "the rig reports calibration due date '" + due + "', which is not a YYYY-MM-DD date";
  if (due < today)
    return "the rig's load-cell calibration expired on " + due + " (today is " + today +
           "): recalibrate it before measuring";
  return std::nullopt;
}

// rigsim names the option whose YAML it rejected (`--scanner: line 1: ...`); the user wrote
// it as a section of the suite: say where.
std::string suite_sections_named_in(const std::string& rigsim_message, const suite::Suite& suite) {
  std::string where;
  const auto add = [&](const char* option, const char* key, const suite::VirtualRigSection& s) {
    if (s.yaml.empty() || rigsim_message.find(std::string(option) + ":") == std::string::npos)
      return;
    where += std::string(" (") + option + " is the suite's '" + key + "' at " + suite.file + ":" +
             std::to_string(s.line) + ")";
  };
  add("--phantom", "phantom", suite.phantom);
  add("--scanner", "scanner", suite.scanner);
  return where;
}

// Outcome of one step: empty = ok, else what went wrong and what it makes the run.
struct StepFailure {
  RunVerdict verdict = RunVerdict::Error;
  std::string message;
};

// A run in progress. One object per run keeps the step functions small.
class RunSession {
 public:
  RunSession(const suite::Suite& suite, const RunOptions& options)
      : suite_(suite), options_(options) {}

  ~RunSession() {
    // A borrowed client outlives the run: never leave it a tap into this run's capture.
    if (options_.borrowed_rig) options_.borrowed_rig->set_wire_tap({});
  }
  RunOutcome run();
  RunOutcome run_steps();

 private:
  void progress(const std::string& line) const {
    if (options_.progress) options_.progress(line);
  }
  std::optional<StepFailure> prepare_output();
  std::optional<StepFailure> connect();
  std::optional<StepFailure> open_link();
  std::optional<StepFailure> refuse_virtual_rig_only_keys();
  void write_metadata();
  std::optional<StepFailure> execute(const suite::Step& step);
  std::optional<StepFailure> do_roll(const suite::RollStep& step);
  std::optional<StepFailure> do_scan(const suite::ScanStep& step);
  std::optional<StepFailure> do_checks(const suite::ChecksStep& step);
  std::optional<StepFailure> from_rig_error(const rig::RigError& error) const;
  void record_step(const suite::Step& step, const std::string& status, double seconds,
                   const std::string& message);
  void leave_rig_safe();
  void write_outputs();  // finish_capture() then write_reports()
  void finish_capture();
  void write_reports();
  void check_outputs();
  bool stop_requested() const { return options_.stop_requested && options_.stop_requested->load(); }

  const suite::Suite& suite_;
  const RunOptions& options_;
  report::RunReport report_;
  std::unique_ptr<store::CaptureWriter> capture_;
  std::unique_ptr<VirtualRig> virtual_rig_;
  std::unique_ptr<rig::RigClient> owned_client_;  // opened by this run
  rig::RigClient* client_ = nullptr;              // owned_client_ or options_.borrowed_rig
  proto::LinkCounters counters_at_start_;         // a borrowed client's, when the run began
  proto::HelloReply identity_;
  std::string roller_text_;

  int lane_ = 0;
  int roll_count_ = 0;
  std::optional<analysis::RollRecord> last_roll_;
  std::optional<analysis::ScanRecord> last_scan_;
  bool output_failed_ = false;  // report files could not be written
};

std::optional<StepFailure> RunSession::prepare_output() {
  std::error_code ec;
  fs::create_directories(options_.out_dir, ec);
  if (ec)
    return StepFailure{RunVerdict::Error,
                       "cannot create output directory " + options_.out_dir + ": " + ec.message()};
  auto capture =
      store::CaptureWriter::open((fs::path(options_.out_dir) / "capture.drcap").string());
  if (!capture) return StepFailure{RunVerdict::Error, capture.error()};
  capture_ = std::move(*capture);
  report_.capture_file = capture_->path();
  return std::nullopt;
}

// Opens the rig the run's address names (starting the virtual rig for `sim`).
std::optional<StepFailure> RunSession::open_link() {
  auto address = transport::parse_rig_address(options_.rig_address);
  if (!address) {
    report_.bad_input = true;
    return StepFailure{RunVerdict::Error, address.error().message};
  }
  std::string device;
  const bool sim = std::holds_alternative<transport::SimAddress>(*address);
  if (!sim) {
    if (auto refused = refuse_virtual_rig_only_keys()) return refused;
  }
  if (sim) {
    progress("starting the virtual rig with roller " + options_.roller_file);
    VirtualRigOptions sim;
    sim.roller_file = options_.roller_file;
    sim.truth_file = (fs::path(options_.out_dir) / "rigsim-truth.json").string();
    sim.realtime = options_.realtime;
    sim.session = options_.rigsim_session;
    sim.faults = suite_.faults;
    if (!options_.rigsim_faults.empty())
      sim.faults += (sim.faults.empty() ? "" : ",") + options_.rigsim_faults;
    sim.phantom = suite_.phantom.yaml;
    sim.scanner = suite_.scanner.yaml;
    sim.seed = options_.rigsim_seed;
    sim.rig_serial = options_.rigsim_serial;
    auto started = VirtualRig::start(sim);
    if (!started) {
      report_.bad_input = started.error().bad_input;
      return StepFailure{RunVerdict::Error,
                         "virtual rig: " + started.error().message +
                             suite_sections_named_in(started.error().message, suite_)};
    }
    virtual_rig_ = std::move(*started);
    address = transport::DeviceAddress{virtual_rig_->link_path()};
  }
  auto link = transport::open_transport(*address);
  if (!link)
    return StepFailure{RunVerdict::Error,
                       "cannot open rig " + options_.rig_address + ": " + link.error().message};
  report_.rig.port = (*link)->describe();

  rig::RigOptions rig_options;
  rig_options.watchdog = std::chrono::milliseconds(suite_.watchdog_ms);
  owned_client_ = std::make_unique<rig::RigClient>(std::move(*link), rig_options);
  client_ = owned_client_.get();
  return std::nullopt;
}

// A device cannot do what only the virtual rig does (the suite's faults, phantom, scanner).
std::optional<StepFailure> RunSession::refuse_virtual_rig_only_keys() {
  auto refused = suite::virtual_rig_only_key(suite_, options_.rig_address);
  if (!refused) return std::nullopt;
  report_.bad_input = true;
  return StepFailure{RunVerdict::Error, refused->to_string()};
}

std::optional<StepFailure> RunSession::connect() {
  if (options_.borrowed_rig) {
    if (auto refused = refuse_virtual_rig_only_keys()) return refused;  // a held device
    client_ = options_.borrowed_rig;
    counters_at_start_ = client_->link_counters();
    report_.rig.port = client_->describe();
  } else if (auto failure = open_link()) {
    return failure;
  }
  // Swapped in for this run only (taken off again at its end). With a borrowed client the
  // Hello below is sent again, so the capture holds the identity the replay reads.
  client_->set_wire_tap([this](rig::Direction direction, proto::ByteView bytes) {
    capture_->append(direction == rig::Direction::RigToHost ? store::RecordKind::RigToHost
                                                            : store::RecordKind::HostToRig,
                     bytes);
  });
  auto hello = client_->handshake();
  if (!hello) return from_rig_error(hello.error());
  identity_ = *hello;
  fill_rig_identity(report_.rig, *hello);
  // A rig past its load-cell calibration measures force with an unknown error: its
  // verdicts cannot be trusted, so it runs nothing (PROTOCOL.md section 9).
  if (auto problem = calibration_problem(hello->calibration_due, utc_today_iso8601()))
    return StepFailure{RunVerdict::Error, *problem};
  progress("connected to rig " + hello->rig_serial + " (" + hello->firmware_version + ") on " +
           report_.rig.port + ", calibration due " + hello->calibration_due);
  return std::nullopt;
}

void RunSession::write_metadata() {
  nlohmann::json meta = {
      {"format", "dermabench-capture"},
      {"capture_format_version", store::kCaptureFormatVersion},
      {"software_version", DERMA_VERSION},
      {"analysis_method", analysis::kAnalysisMethodVersion},
      {"started_at", report_.started_at},
      {"host", report_.host_name},
      {"operator", report_.operator_name},
      {"suite", {{"name", suite_.name}, {"file", suite_.file}, {"text", suite_.text}}},
      {"spec",
       {{"model", suite_.spec.model}, {"file", suite_.spec.file}, {"text", suite_.spec.text}}},
      {"roller",
       {{"serial", report_.roller_serial},
        {"model", report_.roller_model},
        {"file", options_.roller_file},
        {"text", roller_text_}}},
      {"rig", {{"address", options_.rig_address}}},
  };
  capture_->append_text(store::RecordKind::Metadata,
                        meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  capture_->sync();
}

std::optional<StepFailure> RunSession::from_rig_error(const rig::RigError& error) const {
  if (stop_requested())
    return StepFailure{RunVerdict::Aborted, "interrupted by the operator: " + error.message};
  if (error.kind == rig::RigError::Kind::Rejected && error.result == proto::Result::Aborted)
    return StepFailure{RunVerdict::Aborted, error.message};
  return StepFailure{RunVerdict::Error, std::string("rig error (") + rig::to_string(error.kind) +
                                            "): " + error.message};
}

std::optional<StepFailure> RunSession::do_roll(const suite::RollStep& step) {
  RollRecordBuilder builder(step, identity_.encoder_counts_per_rev);
  const double expected = step.stroke_mm / step.speed_mm_s * step.sample_rate_hz * step.passes;
  std::size_t received = 0;
  int next_report_percent = 25;
  auto outcome = client_->roll(to_request(step), [&](const proto::SampleBatch& batch) {
    builder.add(batch);
    received += batch.samples.size();
    // Progress at quarters; the estimate ignores ramps, so cap it below 100 %.
    const int percent =
        static_cast<int>(std::min(99.0, 100.0 * received / std::max(1.0, expected)));
    if (percent >= next_report_percent) {
      progress("  roll " + std::to_string(roll_count_) + ": " +
               std::to_string(next_report_percent) + " %");
      next_report_percent += 25;
    }
  });
  if (!outcome) return from_rig_error(outcome.error());
  last_roll_ = builder.finish(outcome->frames_lost);
  last_scan_.reset();
  if (outcome->frames_lost > 0)
    progress("  warning: " + std::to_string(outcome->frames_lost) +
             " sample batches lost on the link");
  ++roll_count_;
  return std::nullopt;
}

std::optional<StepFailure> RunSession::do_scan(const suite::ScanStep& step) {
  ScanRecordBuilder builder(step, identity_.layer_thickness_um);
  const int expected_rows = std::max(1, static_cast<int>(proto::scan_rows(to_request(step))));
  int next_report_percent = 25;
  auto outcome = client_->scan(to_request(step), [&](const proto::ScanRows& rows) {
    builder.add(rows);
    const int percent = 100 * (rows.row + 1) / expected_rows;
    if (percent >= next_report_percent && next_report_percent < 100) {
      progress("  scan: " + std::to_string(next_report_percent) + " % of " +
               std::to_string(expected_rows) + " rows");
      next_report_percent += 25;
    }
  });
  if (!outcome) return from_rig_error(outcome.error());
  last_scan_ = builder.finish(outcome->done, outcome->frames_lost);
  if (outcome->frames_lost > 0)
    progress("  warning: " + std::to_string(outcome->frames_lost) +
             " scan chunks lost on the link");
  return std::nullopt;
}

std::optional<StepFailure> RunSession::do_checks(const suite::ChecksStep& step) {
  // The suite loader guarantees a roll and a scan precede every checks step.
  report_.rolls.push_back(
      judge_roll(*last_roll_, *last_scan_, suite_.spec, step.ids, roll_count_ - 1, lane_));
  return std::nullopt;
}

std::optional<StepFailure> RunSession::execute(const suite::Step& step) {
  struct Visitor {
    RunSession& s;
    std::optional<StepFailure> operator()(const suite::HomeStep&) {
      auto r = s.client_->home();
      return r ? std::nullopt : s.from_rig_error(r.error());
    }
    std::optional<StepFailure> operator()(const suite::TareStep&) {
      auto r = s.client_->tare();
      return r ? std::nullopt : s.from_rig_error(r.error());
    }
    std::optional<StepFailure> operator()(const suite::LaneStep& lane) {
      const int chosen = s.options_.lane_override.value_or(lane.lane);
      auto r = s.client_->select_lane(static_cast<std::uint8_t>(chosen));
      if (r) s.lane_ = chosen;
      return r ? std::nullopt : s.from_rig_error(r.error());
    }
    std::optional<StepFailure> operator()(const suite::RollStep& roll) { return s.do_roll(roll); }
    std::optional<StepFailure> operator()(const suite::ScanStep& scan) { return s.do_scan(scan); }
    std::optional<StepFailure> operator()(const suite::ChecksStep& checks) {
      return s.do_checks(checks);
    }
  };
  return std::visit(Visitor{*this}, step.action);
}

void RunSession::record_step(const suite::Step& step, const std::string& status, double seconds,
                             const std::string& message) {
  report_.steps.push_back({step.name, step.line, status, seconds, message});
  capture_->append_text(store::RecordKind::Step,
                        nlohmann::json{{"step", step.name},
                                       {"line", step.line},
                                       {"status", status},
                                       {"duration_s", seconds},
                                       {"message", message}}
                            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  capture_->sync();  // everything up to the last completed step survives a crash
}

void RunSession::leave_rig_safe() {
  if (!client_) return;
  if (auto r = client_->abort(); !r)
    spdlog::warn("could not send Abort to leave the rig safe: {}", r.error().message);
}

void RunSession::write_outputs() {
  finish_capture();
  write_reports();
}

// When the run ended and the link's counters, into the report and the capture's End record.
void RunSession::finish_capture() {
  report_.finished_at = utc_now_iso8601();
  if (client_) {
    proto::LinkCounters c = client_->link_counters();
    if (options_.borrowed_rig) c = counters_since(counters_at_start_, c);
    report_.link_counters = {{"bytes_in", c.bytes_in},
                             {"frames_ok", c.frames_ok},
                             {"crc_errors", c.crc_errors},
                             {"cobs_errors", c.cobs_errors},
                             {"oversize_frames", c.oversize_frames},
                             {"runt_frames", c.runt_frames},
                             {"length_mismatches", c.length_mismatches},
                             {"version_errors", c.version_errors},
                             {"bytes_discarded", c.bytes_discarded}};
  }
  const nlohmann::json json = report::to_json(report_);
  if (capture_) {
    // The End record is the capture's last: no link bytes after it (the rig may still be
    // answering a heartbeat or streaming the tail of an aborted roll). set_wire_tap runs on
    // the client's I/O thread, so once it returns nothing more is appended.
    if (client_) client_->set_wire_tap({});
    // Replay recomputes everything it can from the link bytes; what only the live run
    // knows (when it ended, the link counters as the client saw them) is kept here.
    capture_->append_text(store::RecordKind::End,
                          nlohmann::json{{"verdict", json["verdict"]},
                                         {"error", json["error"]},
                                         {"finished_at", json["finished_at"]},
                                         {"duration_s", json["duration_s"]},
                                         {"link", json["link"]}}
                              .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    capture_->sync();
  }
}

void RunSession::write_reports() {
  if (options_.out_dir.empty()) return;
  if (auto written = report::write_report_files(report_, options_.out_dir); !written) {
    spdlog::error("{}", written.error());
    output_failed_ = true;
  }
}

// A run whose record is incomplete is not a pass: the capture or the report could not
// be written in full (disk full, file size limit, I/O error).
void RunSession::check_outputs() {
  if (capture_ && !capture_->error().empty()) {
    report_.verdict = RunVerdict::Error;
    report_.error = "the capture file is incomplete: " + capture_->error();
  }
}

// Nothing may escape a run: an unexpected exception (a bug, a full disk) still ends in an
// error verdict with the rig left safe and whatever could be written written.
RunOutcome RunSession::run() {
  try {
    return run_steps();
  } catch (const std::exception& e) {
    report_.verdict = RunVerdict::Error;
    report_.error = std::string("internal error, run stopped: ") + e.what();
    spdlog::error("{}", report_.error);
    try {
      leave_rig_safe();
      write_outputs();
    } catch (const std::exception& again) {
      spdlog::error("could not write the report of the failed run: {}", again.what());
    }
    RunOutcome outcome;
    outcome.exit_code = report::kExitRigError;
    outcome.report = report_;
    return outcome;
  }
}

RunOutcome RunSession::run_steps() {
  const auto t0 = std::chrono::steady_clock::now();
  report_.suite_name = suite_.name;
  report_.suite_file = suite_.file;
  report_.spec_model = suite_.spec.model;
  report_.spec_file = suite_.spec.file;
  report_.software_version = DERMA_VERSION;
  report_.recorded_analysis_method = analysis::kAnalysisMethodVersion;  // recorded and judged now
  report_.host_name = host_name();
  report_.operator_name = options_.operator_name;
  report_.started_at = utc_now_iso8601();
  report_.rig.address = options_.rig_address;
  report_.roller_serial = options_.roller_serial;
  if (!options_.roller_file.empty()) {
    roller_text_ = read_text(options_.roller_file);
    try {  // best effort: rigsim itself validates the roller file and says what is wrong
      const YAML::Node roller = YAML::Load(roller_text_);
      if (roller["serial"]) report_.roller_serial = roller["serial"].as<std::string>();
      if (roller["model"]) report_.roller_model = roller["model"].as<std::string>();
    } catch (const YAML::Exception&) {
    }
  }

  // The capture starts with what the run is (suite, spec, roller), before any byte of the
  // link, so that even a run that never connects leaves an auditable record.
  std::optional<StepFailure> failure = prepare_output();
  if (failure) report_.bad_input = true;
  if (!failure) write_metadata();
  if (!failure) failure = connect();
  if (!failure) {
    capture_->append_text(store::RecordKind::Metadata,
                          nlohmann::json{{"rig", {{"port", report_.rig.port}}}}.dump(
                              -1, ' ', false, nlohmann::json::error_handler_t::replace));
  }

  // A watcher turns an operator's interrupt into an Abort while a step blocks on the rig.
  std::atomic<bool> finished{false};
  std::thread watcher;
  if (!failure && options_.stop_requested) {
    watcher = std::thread([&] {
      while (!finished.load()) {
        if (stop_requested()) {
          if (client_) (void)client_->abort();
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }

  for (std::size_t i = 0; !failure && i < suite_.steps.size(); ++i) {
    const suite::Step& step = suite_.steps[i];
    if (stop_requested()) {
      // Recorded like a failed step, so the capture says where the run stopped.
      failure = StepFailure{RunVerdict::Aborted,
                            "interrupted by the operator before step '" + step.name + "'"};
      record_step(step, "failed", 0, failure->message);
      for (std::size_t j = i + 1; j < suite_.steps.size(); ++j)
        report_.steps.push_back({suite_.steps[j].name, suite_.steps[j].line, "skipped", 0, ""});
      break;
    }
    progress("step " + std::to_string(i + 1) + "/" + std::to_string(suite_.steps.size()) + ": " +
             step.name);
    const auto s0 = std::chrono::steady_clock::now();
    failure = execute(step);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
    if (failure) {
      failure->message = "step '" + step.name + "' (" + suite_.file + ":" +
                         std::to_string(step.line) + "): " + failure->message;
      record_step(step, "failed", seconds, failure->message);
      for (std::size_t j = i + 1; j < suite_.steps.size(); ++j)
        report_.steps.push_back({suite_.steps[j].name, suite_.steps[j].line, "skipped", 0, ""});
    } else {
      record_step(step, "ok", seconds, "");
    }
  }
  finished = true;
  if (watcher.joinable()) watcher.join();

  if (failure) {
    leave_rig_safe();
    report_.verdict = failure->verdict;
    report_.error = failure->message;
  } else {
    report_.verdict = report::verdict_of_checks(report_);
    if (report_.all_checks().empty()) report_.error = "the suite ran no checks: nothing was judged";
  }
  report_.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  check_outputs();
  finish_capture();
  if (options_.borrowed_rig && client_) client_->set_wire_tap({});  // the holder keeps it open
  client_ = nullptr;
  owned_client_.reset();  // closes the link before the virtual rig goes away
  // rigsim writes its truth file and exits while the reports are written (a few ms each).
  if (virtual_rig_) virtual_rig_->request_stop();
  write_reports();
  virtual_rig_.reset();

  RunOutcome outcome;
  outcome.exit_code = report::exit_code_for(report_);
  if (output_failed_ && outcome.exit_code == report::kExitPass)
    outcome.exit_code = report::kExitRigError;
  outcome.report = std::move(report_);
  return outcome;
}

}  // namespace

RunOutcome run_suite(const suite::Suite& suite, const RunOptions& options) {
  RunSession session(suite, options);
  return session.run();
}

}  // namespace derma::runner
