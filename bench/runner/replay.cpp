#include "bench/runner/replay.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "bench/runner/record_builder.hpp"
#include "bench/runner/roll_judgement.hpp"
#include "bench/store/capture.hpp"
#include "bench/suite/suite.hpp"
#include "drivers/protocol/frame.hpp"
#include "drivers/protocol/stream_counter.hpp"

namespace derma::runner {

namespace {

using nlohmann::json;

// A member of a capture's JSON record, or an empty object when it is absent. operator[] of a
// const json with a missing key is undefined behaviour (nlohmann asserts in debug builds
// only), and a capture is untrusted input: found by fuzzing (docs/fuzzing.md).
const json& member(const json& object, const char* key) {
  static const json absent = json::object();
  if (!object.is_object()) return absent;
  const auto it = object.find(key);
  return it == object.end() ? absent : *it;
}

// Rebuilds a run from its capture: records in order, link bytes through a fresh decoder.
// Frames between two Step records belong to the step that the second one closes.
class Replayer {
 public:
  Replayer(const ReplayOptions& options) : options_(options) {}

  std::expected<report::RunReport, ReplayError> run();

 private:
  std::optional<ReplayError> read_metadata(const json& meta);
  std::optional<ReplayError> load_suite_and_spec(const json& meta);
  void on_link_bytes(const std::vector<std::uint8_t>& bytes);
  void on_frame(const proto::Frame& frame);
  void on_host_bytes(const std::vector<std::uint8_t>& bytes);
  void on_step_end(const json& step);
  void on_end(const json& end);
  void judge_the_run(bool capture_truncated);
  const suite::Step* current_step() const {
    return step_index_ < suite_.steps.size() ? &suite_.steps[step_index_] : nullptr;
  }
  template <typename T>
  const T* current_action() const {
    const suite::Step* step = current_step();
    return step ? std::get_if<T>(&step->action) : nullptr;
  }
  // The builder of the roll (scan) step under way, made at its first frame; null when the
  // current step is not a roll (scan): such frames are strays and are ignored, as live.
  RollRecordBuilder* roll_builder() {
    const auto* roll = current_action<suite::RollStep>();
    if (!roll) return nullptr;
    if (!roll_builder_) {
      roll_builder_.emplace(*roll, hello_.encoder_counts_per_rev);
      stream_counter_ = {};
    }
    return &*roll_builder_;
  }
  ScanRecordBuilder* scan_builder() {
    const auto* scan = current_action<suite::ScanStep>();
    if (!scan) return nullptr;
    if (!scan_builder_) {
      scan_builder_.emplace(*scan, hello_.layer_thickness_um);
      stream_counter_ = {};
    }
    return &*scan_builder_;
  }
  ReplayError corrupt(const std::string& what) const {
    return ReplayError{true, options_.capture_file + ": " + what};
  }

  const ReplayOptions& options_;
  report::RunReport report_;
  suite::Suite suite_;
  proto::FrameDecoder decoder_;       // rig -> host
  proto::FrameDecoder host_decoder_;  // host -> rig: what was asked, e.g. the lane
  std::optional<int> requested_lane_;
  proto::HelloReply hello_;

  std::size_t step_index_ = 0;
  int lane_ = 0;
  int roll_count_ = 0;
  std::optional<RollRecordBuilder> roll_builder_;
  std::optional<ScanRecordBuilder> scan_builder_;
  proto::StreamCounter stream_counter_;
  std::optional<analysis::RollRecord> last_roll_;
  std::optional<analysis::ScanRecord> last_scan_;
  bool ended_ = false;
  std::string end_verdict_;
};

std::optional<ReplayError> Replayer::load_suite_and_spec(const json& meta) {
  const std::string suite_file = member(meta, "suite").value("file", "suite.yaml");
  auto suite = suite::parse_suite(member(meta, "suite").value("text", ""), suite_file, nullptr);
  if (!suite) return corrupt("embedded suite: " + suite.error().to_string());
  suite_ = std::move(*suite);
  auto spec = options_.spec_file
                  ? suite::load_product_spec(*options_.spec_file)
                  : suite::parse_product_spec(member(meta, "spec").value("text", ""),
                                              member(meta, "spec").value("file", "spec.yaml"));
  if (!spec) {
    const std::string where = options_.spec_file ? "" : options_.capture_file + ": embedded spec: ";
    return ReplayError{true, where + spec.error().to_string()};
  }
  suite_.spec = std::move(*spec);
  return std::nullopt;
}

std::optional<ReplayError> Replayer::read_metadata(const json& meta) {
  if (meta.value("format", "") != "dermabench-capture")
    return corrupt("first record is not dermabench-capture metadata");
  if (auto error = load_suite_and_spec(meta)) return error;
  report_.suite_name = suite_.name;
  report_.suite_file = suite_.file;
  report_.spec_model = suite_.spec.model;
  report_.spec_file = suite_.spec.file;
  report_.software_version = meta.value("software_version", "");
  // The method that judged the run when it was recorded: before captures said, version 1.
  report_.recorded_analysis_method =
      meta.value("analysis_method", analysis::kUnversionedAnalysisMethod);
  report_.host_name = meta.value("host", "");
  report_.operator_name = meta.value("operator", "");
  report_.started_at = meta.value("started_at", "");
  report_.roller_serial = member(meta, "roller").value("serial", "");
  report_.roller_model = member(meta, "roller").value("model", "");
  report_.rig.address = member(meta, "rig").value("address", "");
  return std::nullopt;
}

void Replayer::on_link_bytes(const std::vector<std::uint8_t>& bytes) {
  decoder_.feed(bytes);
  while (auto frame = decoder_.next()) on_frame(*frame);
}

void Replayer::on_host_bytes(const std::vector<std::uint8_t>& bytes) {
  host_decoder_.feed(bytes);
  while (auto frame = host_decoder_.next()) {
    if (frame->type != proto::MsgType::SelectLane) continue;
    if (auto lane = proto::decode_select_lane(frame->payload)) requested_lane_ = lane->lane;
  }
}

void Replayer::on_frame(const proto::Frame& frame) {
  using proto::MsgType;
  if (frame.type == proto::reply_type(MsgType::Hello)) {
    auto hello = proto::decode_hello_reply(frame.payload);
    if (hello && hello->result == proto::Result::Ok) {
      hello_ = *hello;
      fill_rig_identity(report_.rig, hello_);
    }
    return;
  }
  switch (frame.type) {
    case MsgType::SampleBatch:
      if (auto batch = proto::decode_sample_batch(frame.payload); batch && roll_builder()) {
        if (stream_counter_.accept(batch->batch_counter) == proto::StreamCounter::Verdict::Deliver)
          roll_builder_->add(*batch);
      }
      return;
    case MsgType::ScanRows:
    case MsgType::ScanRowsDelta:
      if (auto rows = frame.type == MsgType::ScanRows
                          ? proto::decode_scan_rows(frame.payload)
                          : proto::decode_scan_rows_delta(frame.payload);
          rows && scan_builder()) {
        if (stream_counter_.accept(rows->chunk_counter) == proto::StreamCounter::Verdict::Deliver)
          scan_builder_->add(*rows);
      }
      return;
    case MsgType::OperationDone: {
      auto done = proto::decode_operation_done(frame.payload);
      if (!done || done->result != proto::Result::Ok) return;
      if (done->operation == MsgType::Roll && roll_builder()) {
        last_roll_ = roll_builder_->finish(stream_counter_.lost(done->frames_sent));
        last_scan_.reset();
        roll_builder_.reset();
        ++roll_count_;
      } else if (done->operation == MsgType::Scan && scan_builder()) {
        last_scan_ = scan_builder_->finish(*done, stream_counter_.lost(done->frames_sent));
        scan_builder_.reset();
      }
      return;
    }
    default:
      return;
  }
}

void Replayer::on_step_end(const json& step) {
  report::StepRecord record{step.value("step", ""), step.value("line", 0), step.value("status", ""),
                            step.value("duration_s", 0.0), step.value("message", "")};
  const suite::Step* suite_step = current_step();
  if (record.status == "ok" && suite_step) {
    // The lane actually selected is the one the host asked for (bench msa overrides the
    // suite's), read back from the request bytes.
    if (const auto* lane = std::get_if<suite::LaneStep>(&suite_step->action))
      lane_ = requested_lane_.value_or(lane->lane);
    const auto* checks = std::get_if<suite::ChecksStep>(&suite_step->action);
    if (checks && last_roll_ && last_scan_)
      report_.rolls.push_back(
          judge_roll(*last_roll_, *last_scan_, suite_.spec, checks->ids, roll_count_ - 1, lane_));
  }
  report_.steps.push_back(std::move(record));
  if (report_.steps.back().status == "failed") {
    // The live run skipped the rest; the report lists them the same way.
    for (std::size_t j = step_index_ + 1; j < suite_.steps.size(); ++j)
      report_.steps.push_back({suite_.steps[j].name, suite_.steps[j].line, "skipped", 0, ""});
  }
  ++step_index_;
}

void Replayer::on_end(const json& end) {
  ended_ = true;
  end_verdict_ = end.value("verdict", "");
  if (member(end, "error").is_string()) report_.error = member(end, "error").get<std::string>();
  report_.finished_at = end.value("finished_at", "");
  report_.duration_s = end.value("duration_s", 0.0);
  if (member(end, "link").is_object())
    for (const auto& [name, value] : member(end, "link").items())
      report_.link_counters[name] = value.get<std::uint64_t>();
}

// The run's verdict. Only a run that did every step of its suite is judged again from its
// data (so --spec can re-judge it); a run that broke off keeps the verdict it had, since
// the data of the steps it never ran would otherwise simply be missing from the judgement
// and a partial run could pass.
void Replayer::judge_the_run(bool capture_truncated) {
  const std::size_t recorded = report_.steps.size();  // failed steps add their skipped ones
  const std::size_t planned = suite_.steps.size();
  const bool step_failed = std::any_of(report_.steps.begin(), report_.steps.end(),
                                       [](const auto& s) { return s.status == "failed"; });
  if (!ended_) {
    report_.verdict = report::RunVerdict::Error;
    report_.error =
        "the capture ends before the run did (crash or kill): " + std::to_string(recorded) +
        " steps recorded" + (capture_truncated ? ", last record cut short" : "");
    return;
  }
  const bool completed = !step_failed && recorded >= planned;
  const std::string run_error = report_.error;  // from the End record
  // A completed run ends "error" with no message when a check could not be computed:
  // that verdict came from the checks and is judged again like any other.
  const bool broke_off =
      end_verdict_ == "aborted" || (end_verdict_ == "error" && (!completed || !run_error.empty()));
  if (!completed && !step_failed) {
    // The live run stopped without recording why (an interrupt or a crash between
    // steps): the rest of the suite is missing, listed as skipped like after a failure.
    const std::string why = "the run ended after " + std::to_string(recorded) + " of " +
                            std::to_string(planned) + " steps";
    for (std::size_t j = recorded; j < planned; ++j)
      report_.steps.push_back({suite_.steps[j].name, suite_.steps[j].line, "skipped", 0, ""});
    report_.error = run_error.empty() ? why : why + ": " + run_error;
  }
  if (broke_off) {
    report_.verdict =
        end_verdict_ == "aborted" ? report::RunVerdict::Aborted : report::RunVerdict::Error;
    if (report_.error.empty())
      report_.error = end_verdict_ == "aborted" ? "the run was aborted" : "the run ended in error";
    return;
  }
  if (!completed) {
    // The End record says pass or fail, yet steps are missing or failed: never a pass.
    report_.verdict = report::RunVerdict::Error;
    if (report_.error.empty())
      report_.error = "the run ended with a failed step but a '" + end_verdict_ + "' verdict";
    return;
  }
  report_.verdict = report::verdict_of_checks(report_);
  report_.error = report_.all_checks().empty() ? "the suite ran no checks: nothing was judged" : "";
}

std::expected<report::RunReport, ReplayError> Replayer::run() {
  auto contents = store::read_capture(options_.capture_file);
  if (!contents) return std::unexpected(ReplayError{true, contents.error()});
  const auto& records = contents->records;
  if (records.empty() || records.front().kind != store::RecordKind::Metadata)
    return std::unexpected(corrupt("no metadata record at the start"));
  try {
    if (auto error = read_metadata(json::parse(records.front().text())))
      return std::unexpected(*error);
    for (std::size_t i = 1; i < records.size(); ++i) {
      const store::CaptureRecord& record = records[i];
      switch (record.kind) {
        case store::RecordKind::RigToHost:
          on_link_bytes(record.data);
          break;
        case store::RecordKind::HostToRig:
          on_host_bytes(record.data);
          break;
        case store::RecordKind::Metadata: {
          const json more = json::parse(record.text());
          if (more.contains("rig") && more["rig"].contains("port"))
            report_.rig.port = more["rig"]["port"];
          break;
        }
        case store::RecordKind::Step:
          on_step_end(json::parse(record.text()));
          break;
        case store::RecordKind::End:
          on_end(json::parse(record.text()));
          break;
      }
    }
  } catch (const json::exception& e) {
    return std::unexpected(corrupt(std::string("malformed JSON record: ") + e.what()));
  }
  report_.capture_file = options_.capture_file;

  judge_the_run(contents->truncated);
  return report_;
}

}  // namespace

std::expected<report::RunReport, ReplayError> replay_capture(const ReplayOptions& options) {
  Replayer replayer(options);
  return replayer.run();
}

}  // namespace derma::runner
