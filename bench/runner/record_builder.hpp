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

class ScanRecordBuilder {
 public:
  ScanRecordBuilder(const suite::ScanStep& step, double layer_thickness_um);
  void add(const proto::ScanRows& rows);
  // Shapes the map with the rig's final row/column count; pixels never received stay NaN.
  analysis::ScanRecord finish(const proto::OperationDone& done, std::uint64_t lost_chunks);

 private:
  struct Chunk {
    std::uint16_t row, col0;
    std::vector<std::int32_t> height_nm;
  };
  suite::ScanStep step_;
  double layer_thickness_um_ = 0;
  std::vector<Chunk> chunks_;
};

// The rig's identity as the report shows it, from its handshake reply.
void fill_rig_identity(report::RigIdentity& identity, const proto::HelloReply& hello);

proto::Roll to_request(const suite::RollStep&);
proto::Scan to_request(const suite::ScanStep&);

}  // namespace derma::runner
