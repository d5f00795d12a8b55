#include "bench/runner/record_builder.hpp"

#include <algorithm>
#include <cmath>

namespace derma::runner {

namespace {
std::uint32_t to_um(double mm) {
  return static_cast<std::uint32_t>(std::lround(mm * 1000.0));
}
}  // namespace

void fill_rig_identity(report::RigIdentity& identity, const proto::HelloReply& hello) {
  identity.protocol_version = hello.protocol_version;
  identity.firmware_version = hello.firmware_version;
  identity.rig_serial = hello.rig_serial;
  identity.load_cell_factor = hello.load_cell_factor_ppm / 1e6;
  identity.calibration_date = hello.calibration_date;
  identity.calibration_due = hello.calibration_due;
  identity.phantom_lot = hello.phantom_lot;
}

proto::Roll to_request(const suite::RollStep& step) {
  proto::Roll roll;
  roll.start_x_um = to_um(step.start_mm);
  roll.stroke_um = to_um(step.stroke_mm);
  roll.speed_um_per_s = to_um(step.speed_mm_s);
  roll.load_mN = static_cast<std::uint32_t>(std::lround(step.load_N * 1000.0));
  roll.passes = static_cast<std::uint8_t>(step.passes);
  roll.sample_rate_hz = static_cast<std::uint16_t>(step.sample_rate_hz);
  return roll;
}

proto::Scan to_request(const suite::ScanStep& step) {
  proto::Scan scan;
  scan.x0_um = to_um(step.x_mm);
  scan.y0_um = to_um(step.y_mm);
  scan.length_um = to_um(step.length_mm);
  scan.width_um = to_um(step.width_mm);
  scan.pitch_um = static_cast<std::uint16_t>(step.pitch_um);
  return scan;
}

RollRecordBuilder::RollRecordBuilder(const suite::RollStep& step,
                                     std::uint32_t encoder_counts_per_rev) {
  record_.encoder_counts_per_rev = encoder_counts_per_rev;
  record_.settings.start_x_um = step.start_mm * 1000;
  record_.settings.stroke_um = step.stroke_mm * 1000;
  record_.settings.speed_um_per_s = step.speed_mm_s * 1000;
  record_.settings.load_mN = step.load_N * 1000;
  record_.settings.passes = step.passes;
  record_.settings.sample_rate_hz = step.sample_rate_hz;
  sample_period_s_ = 1.0 / step.sample_rate_hz;
  // Room for the whole roll up front (the strokes plus a second for touch-down, ramps and
  // lift-off): growing by doubling would copy the samples again and again and, while it
  // copies, hold the old and the new array at once (docs/performance.md). Capped at 4 M
  // samples (256 MB of address space, taken up only as samples arrive); beyond, it grows.
  if (step.speed_mm_s > 0 && step.sample_rate_hz > 0) {
    const double seconds = step.stroke_mm / step.speed_mm_s * std::max(1, step.passes) + 1.0;
    record_.samples.reserve(static_cast<std::size_t>(std::min(seconds * step.sample_rate_hz, 4e6)));
  }
}

void RollRecordBuilder::add(const proto::SampleBatch& batch) {
  // Samples are placed by their index, so a lost batch leaves a time gap, not a shift.
  for (std::size_t i = 0; i < batch.samples.size(); ++i) {
    const proto::Sample& s = batch.samples[i];
    analysis::RollSample out;
    out.t_s = (batch.first_sample_index + i) * sample_period_s_;
    out.force_mN = s.force_uN / 1000.0;
    out.z_um = s.z_nm / 1000.0;
    out.x_um = s.x_nm / 1000.0;
    out.encoder_counts = s.encoder_counts;
    out.temperature_C = s.temperature_cdegC / 100.0;
    out.pass = batch.pass;
    out.force_saturated = (s.flags & proto::kSampleForceSaturated) != 0;
    record_.samples.push_back(out);
  }
}

analysis::RollRecord RollRecordBuilder::finish(std::uint64_t lost_batches) {
  record_.lost_batches = lost_batches;
  return std::move(record_);
}

ScanRecordBuilder::ScanRecordBuilder(const suite::ScanStep& step, double layer_thickness_um)
    : step_(step), layer_thickness_um_(layer_thickness_um) {}

void ScanRecordBuilder::add(const proto::ScanRows& rows) {
  chunks_.push_back(Chunk{rows.row, rows.col0, rows.height_nm});
}

analysis::ScanRecord ScanRecordBuilder::finish(const proto::OperationDone& done,
                                               std::uint64_t lost_chunks) {
  analysis::ScanRecord scan;
  scan.scan_delay_s = done.scan_delay_ms / 1000.0;
  scan.layer_punctures = done.layer_punctures;
  scan.layer_thickness_um = layer_thickness_um_;
  scan.lost_chunks = lost_chunks;
  analysis::HeightMap& map = scan.map;
  // The rig says how many rows and columns it scanned; never more than were asked for,
  // so a confused rig cannot make the host allocate an arbitrary map.
  const proto::Scan asked = to_request(step_);
  map.rows = std::min<int>(done.rows, static_cast<int>(proto::scan_rows(asked)));
  map.cols = std::min<int>(done.cols, static_cast<int>(proto::scan_cols(asked)));
  map.pitch_um = done.pitch_um ? done.pitch_um : step_.pitch_um;
  map.x0_um = step_.x_mm * 1000;
  map.y0_um = step_.y_mm * 1000;
  map.height_um.assign(static_cast<std::size_t>(map.rows) * map.cols, analysis::HeightMap::kNoData);
  // Which pixels arrived at all (a pixel the scanner could not read arrives as kNoData and
  // is an honest hole; one that never arrived means the map is not what was asked for).
  std::vector<bool> arrived(map.height_um.size(), false);
  for (const Chunk& chunk : chunks_) {
    if (chunk.row >= map.rows) continue;  // beyond what the rig says it scanned: ignore
    for (std::size_t i = 0; i < chunk.height_nm.size(); ++i) {
      const std::size_t col = chunk.col0 + i;
      if (col >= static_cast<std::size_t>(map.cols)) break;
      const std::size_t at = static_cast<std::size_t>(chunk.row) * map.cols + col;
      arrived[at] = true;
      const std::int32_t h = chunk.height_nm[i];
      if (h != proto::kNoData) map.height_um[at] = static_cast<float>(h / 1000.0);
    }
  }
  chunks_.clear();
  const std::uint64_t asked_pixels =
      static_cast<std::uint64_t>(proto::scan_rows(asked)) * proto::scan_cols(asked);
  const std::uint64_t received =
      static_cast<std::uint64_t>(std::count(arrived.begin(), arrived.end(), true));
  scan.pixels_missing = asked_pixels - std::min(asked_pixels, received);
  return scan;
}

}  // namespace derma::runner
