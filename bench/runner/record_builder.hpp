// Turns the rig's stream frames (raw integers) into the analysis records (physical units).
// Used live by the runner and, on a capture file, by replay: both must build the same
// records from the same frames.
#pragma once

#include <vector>

#include "bench/analysis/records.hpp"
#include "bench/report/run_report.hpp"
#include "bench/suite/suite.hpp"
#include "drivers/protocol/messages.hpp"

namespace derma::runner {

class RollRecordBuilder {
 public:
  RollRecordBuilder(const suite::RollStep& step, std::uint32_t encoder_counts_per_rev);
  void add(const proto::SampleBatch& batch);
  // lost = frames the link lost (counter gaps and tail), from the stream outcome.
  analysis::RollRecord finish(std::uint64_t lost_batches);

 private:
  analysis::RollRecord record_;
  double sample_period_s_ = 0.001;
};

// Pixels go straight into a map of the rectangle asked for as they arrive (no copy of the
// chunks is kept: docs/performance.md); finish() then cuts it to what the rig says it scanned.
class ScanRecordBuilder {
 public:
  ScanRecordBuilder(const suite::ScanStep& step, double layer_thickness_um);
  void add(const proto::ScanRows& rows);
  // Shapes the map with the rig's final row/column count; pixels never received stay NaN.
  analysis::ScanRecord finish(const proto::OperationDone& done, std::uint64_t lost_chunks);

 private:
  suite::ScanStep step_;
  double layer_thickness_um_ = 0;
  int asked_rows_ = 0;
  int asked_cols_ = 0;
  std::vector<float> height_um_;  // asked_rows_ x asked_cols_, row-major; NaN = no data
  // One bit per pixel, set where it arrived (kNoData counts as arrived).
  std::vector<std::uint64_t> arrived_;
  void mark_arrived(std::size_t first, std::size_t count);
  std::uint64_t count_arrived(std::size_t first, std::size_t count) const;
};

// The rig's identity as the report shows it, from its handshake reply.
void fill_rig_identity(report::RigIdentity& identity, const proto::HelloReply& hello);

// A scan's heights in nm (proto::kNoData where unread) to the map's um (HeightMap::kNoData):
// exactly static_cast<float>(h / 1000.0), several pixels at a time.
void nm_to_um(const std::int32_t* height_nm, float* height_um, std::size_t count);

proto::Roll to_request(const suite::RollStep&);
proto::Scan to_request(const suite::ScanStep&);

}  // namespace derma::runner
