#include "bench/runner/record_builder.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace derma::runner {

namespace {
std::uint32_t to_um(double mm) {
  return static_cast<std::uint32_t>(std::lround(mm * 1000.0));
}

void nm_to_um_exact(const std::int32_t* height_nm, float* height_um, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    const std::int32_t h = height_nm[i];
    height_um[i] =
        h == proto::kNoData ? analysis::HeightMap::kNoData : static_cast<float>(h / 1000.0);
  }
}
}  // namespace

void nm_to_um(const std::int32_t* height_nm, float* height_um, std::size_t count) {
  // Blocks of 16 so that GCC vectorises the float division at -O2 (a scalar double division
  // per pixel was most of a scan's conversion). For |h| <= 2^24 nm, float(h) is exact and
  // float(h) / 1000.0f is the same float as (float)(h / 1000.0): the double quotient rounded
  // to float is the correctly rounded one (53 >= 2 * 24 + 2 bits), so the map is unchanged;
  // tests/unit/runner/record_builder_test.cpp checks every such h. A block holding anything
  // else (kNoData, or a height beyond 16.7 mm) is converted again the exact way.
  constexpr std::size_t kBlock = 16;
  constexpr std::int32_t kExactNm = 1 << 24;
  std::size_t i = 0;
  for (; i + kBlock <= count; i += kBlock) {
    int outside = 0;
    for (std::size_t k = 0; k < kBlock; ++k) {
      const std::int32_t h = height_nm[i + k];
      outside |= static_cast<int>(h < -kExactNm) | static_cast<int>(h > kExactNm);
      height_um[i + k] = static_cast<float>(h) / 1000.0f;
    }
    if (outside) nm_to_um_exact(height_nm + i, height_um + i, kBlock);
  }
  nm_to_um_exact(height_nm + i, height_um + i, count - i);
}

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
  // About 1 byte a pixel instead of 4 (PROTOCOL.md 3.3); a version-1 rig sends ScanRows.
  scan.row_encoding = proto::RowEncoding::Delta;
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
    : step_(step), layer_thickness_um_(layer_thickness_um) {
  const proto::Scan asked = to_request(step_);
  asked_rows_ = static_cast<int>(std::min<std::uint32_t>(proto::scan_rows(asked), 65535));
  asked_cols_ = static_cast<int>(std::min<std::uint32_t>(proto::scan_cols(asked), 65535));
}

void ScanRecordBuilder::add(const proto::ScanRows& rows) {
  // Only pixels inside the rectangle asked for are kept: a confused rig cannot make the
  // host allocate an arbitrary map.
  if (rows.row >= asked_rows_ || rows.col0 >= asked_cols_) return;
  if (height_um_.empty()) {  // on the first chunk: a scan that streams nothing costs nothing
    const std::size_t pixels = static_cast<std::size_t>(asked_rows_) * asked_cols_;
    height_um_.assign(pixels, analysis::HeightMap::kNoData);
    arrived_.assign((pixels + 63) / 64, 0);
  }
  const std::size_t count = std::min<std::size_t>(
      rows.height_nm.size(), static_cast<std::size_t>(asked_cols_ - rows.col0));
  const std::size_t at = static_cast<std::size_t>(rows.row) * asked_cols_ + rows.col0;
  nm_to_um(rows.height_nm.data(), height_um_.data() + at, count);
  mark_arrived(at, count);
}

void ScanRecordBuilder::mark_arrived(std::size_t first, std::size_t count) {
  for (std::size_t bit = first, end = first + count; bit < end;) {
    const std::size_t in_word = bit % 64;
    const std::size_t n = std::min<std::size_t>(64 - in_word, end - bit);
    const std::uint64_t ones = n == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << n) - 1);
    arrived_[bit / 64] |= ones << in_word;
    bit += n;
  }
}

std::uint64_t ScanRecordBuilder::count_arrived(std::size_t first, std::size_t count) const {
  std::uint64_t arrived = 0;
  for (std::size_t bit = first, end = first + count; bit < end;) {
    const std::size_t in_word = bit % 64;
    const std::size_t n = std::min<std::size_t>(64 - in_word, end - bit);
    const std::uint64_t ones = n == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << n) - 1);
    arrived += static_cast<std::uint64_t>(std::popcount((arrived_[bit / 64] >> in_word) & ones));
    bit += n;
  }
  return arrived;
}

analysis::ScanRecord ScanRecordBuilder::finish(const proto::OperationDone& done,
                                               std::uint64_t lost_chunks) {
  analysis::ScanRecord scan;
  scan.scan_delay_s = done.scan_delay_ms / 1000.0;
  scan.layer_punctures = done.layer_punctures;
  scan.layer_thickness_um = layer_thickness_um_;
  scan.lost_chunks = lost_chunks;
  analysis::HeightMap& map = scan.map;
  // The rig says how many rows and columns it scanned; never more than were asked for.
  map.rows = std::min<int>(done.rows, asked_rows_);
  map.cols = std::min<int>(done.cols, asked_cols_);
  map.pitch_um = done.pitch_um ? done.pitch_um : step_.pitch_um;
  map.x0_um = step_.x_mm * 1000;
  map.y0_um = step_.y_mm * 1000;
  // Which pixels arrived at all (a pixel the scanner could not read arrives as kNoData and
  // is an honest hole; one that never arrived means the map is not what was asked for).
  std::uint64_t received = 0;
  if (height_um_.empty()) {
    map.height_um.assign(static_cast<std::size_t>(map.rows) * map.cols,
                         analysis::HeightMap::kNoData);
  } else if (map.rows == asked_rows_ && map.cols == asked_cols_) {
    received = count_arrived(0, height_um_.size());
    map.height_um = std::move(height_um_);  // the usual case: the map is already in place
  } else {
    // The rig scanned less than asked: keep the top-left map.rows x map.cols pixels.
    map.height_um.resize(static_cast<std::size_t>(map.rows) * map.cols);
    for (int r = 0; r < map.rows; ++r) {
      const std::size_t from = static_cast<std::size_t>(r) * asked_cols_;
      std::copy_n(height_um_.begin() + static_cast<std::ptrdiff_t>(from), map.cols,
                  map.height_um.begin() + static_cast<std::ptrdiff_t>(r) * map.cols);
      received += count_arrived(from, static_cast<std::size_t>(map.cols));
    }
  }
  height_um_ = {};
  arrived_ = {};
  const proto::Scan asked = to_request(step_);
  const std::uint64_t asked_pixels =
      static_cast<std::uint64_t>(proto::scan_rows(asked)) * proto::scan_cols(asked);
  scan.pixels_missing = asked_pixels - std::min(asked_pixels, received);
  return scan;
}

}  // namespace derma::runner
