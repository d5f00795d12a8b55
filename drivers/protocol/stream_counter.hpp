// Loss accounting of one stream (the SampleBatch batches of a Roll, the ScanRows chunks of
// a Scan), by the rules of PROTOCOL.md: counters start at 0 per operation and step by 1;
// a jump is frames lost in the middle, a counter that goes back is a duplicate to drop, and
// OperationDone's frames_sent finds frames lost at the tail. The live client and replay of
// a capture both count with this, so they agree on every loss.
#pragma once

#include <algorithm>
#include <cstdint>

namespace derma::proto {

class StreamCounter {
 public:
  enum class Verdict { Deliver, Duplicate };

  // Call for every stream frame, in arrival order.
  Verdict accept(std::uint32_t counter) {
    if (counter < next_) return Verdict::Duplicate;
    gap_lost_ += counter - next_;
    next_ = counter + 1;
    ++received_;
    return Verdict::Deliver;
  }

  // Frames lost, once the rig's OperationDone says how many it sent. Gaps and the
  // shortfall overlap (a gap is also missing from the received count): the larger counts.
  std::uint32_t lost(std::uint32_t frames_sent) const {
    const std::uint32_t shortfall = frames_sent > received_ ? frames_sent - received_ : 0;
    return std::max(gap_lost_, shortfall);
  }

  std::uint32_t expected_next() const { return next_; }
  std::uint32_t received() const { return received_; }
  std::uint32_t gap_lost() const { return gap_lost_; }

 private:
  std::uint32_t next_ = 0;
  std::uint32_t received_ = 0;
  std::uint32_t gap_lost_ = 0;
};

}  // namespace derma::proto
