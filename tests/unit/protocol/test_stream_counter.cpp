#include <catch2/catch.hpp>

#include "drivers/protocol/stream_counter.hpp"

using derma::proto::StreamCounter;
using V = StreamCounter::Verdict;

TEST_CASE("a complete stream loses nothing") {
  StreamCounter c;
  for (std::uint32_t i = 0; i < 5; ++i) CHECK(c.accept(i) == V::Deliver);
  CHECK(c.lost(5) == 0);
}

TEST_CASE("a counter jump counts the frames lost in the middle") {
  StreamCounter c;
  c.accept(0);
  c.accept(3);
  c.accept(4);
  CHECK(c.gap_lost() == 2);
  CHECK(c.lost(5) == 2);  // the shortfall (5 - 3) is the same loss, not an extra one
}

TEST_CASE("frames lost at the tail are found from the rig's frames_sent") {
  StreamCounter c;
  c.accept(0);
  c.accept(1);
  CHECK(c.lost(4) == 2);
}

TEST_CASE("a repeated frame is dropped as a duplicate and not counted as received") {
  StreamCounter c;
  c.accept(0);
  c.accept(1);
  CHECK(c.accept(1) == V::Duplicate);
  CHECK(c.received() == 2);
  CHECK(c.lost(2) == 0);
}
