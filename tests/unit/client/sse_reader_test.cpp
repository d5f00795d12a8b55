#include "bench/client/sse_reader.hpp"

#include <catch2/catch.hpp>

using derma::client::SseEvent;
using derma::client::SseReader;

namespace {

std::vector<SseEvent> feed_byte_by_byte(SseReader& reader, const std::string& stream) {
  std::vector<SseEvent> events;
  for (char c : stream)
    for (auto& e : reader.feed(std::string_view(&c, 1))) events.push_back(std::move(e));
  return events;
}

}  // namespace

TEST_CASE("an event split across reads comes out whole once its blank line arrives") {
  SseReader reader;
  CHECK(reader.feed("event: progr").empty());
  CHECK(reader.feed("ess\ndata: {\"line\": \"step 4").empty());
  CHECK(reader.feed("/6: roll\"}\n").empty());
  const auto events = reader.feed("\nevent: end\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == "progress");
  CHECK(events[0].data == "{\"line\": \"step 4/6: roll\"}");
}

TEST_CASE("the same stream gives the same events whatever the read boundaries") {
  const std::string stream =
      "event: state\ndata: {\"state\":\"running\"}\n\n: keep-alive\n\n"
      "event: progress\ndata: a\n\nevent: end\ndata: {}\n\n";
  SseReader whole;
  SseReader bytes;
  const auto at_once = whole.feed(stream);
  const auto one_by_one = feed_byte_by_byte(bytes, stream);
  REQUIRE(at_once.size() == 3);
  REQUIRE(one_by_one.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(at_once[i].type == one_by_one[i].type);
    CHECK(at_once[i].data == one_by_one[i].data);
  }
  CHECK(at_once[2].type == "end");
}

TEST_CASE("several data lines are joined with newlines") {
  SseReader reader;
  const auto events = reader.feed("data: first\ndata:second\ndata\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == "message");
  CHECK(events[0].data == "first\nsecond\n");
}

TEST_CASE("comments such as the keep-alive are counted and never become events") {
  SseReader reader;
  CHECK(reader.feed(": keep-alive\n\n: keep-alive\n\n").empty());
  CHECK(reader.comments_seen() == 2);
}

TEST_CASE("CRLF and lone CR end lines too") {
  SseReader reader;
  const auto all = reader.feed("event: state\r\ndata: x\r\n\r\nevent: end\rdata: y\r\r");
  REQUIRE(all.size() == 2);
  CHECK(all[0].type == "state");
  CHECK(all[0].data == "x");
  CHECK(all[1].type == "end");
  CHECK(all[1].data == "y");
}

TEST_CASE("a CRLF split between two reads is one line end, not a blank line") {
  SseReader reader;
  CHECK(reader.feed("data: a\r").empty());
  CHECK(reader.feed("\ndata: b\r").empty());
  const auto events = reader.feed("\n\r\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "a\nb");
}

TEST_CASE("an event with no data is not dispatched, and its type does not leak into the next") {
  SseReader reader;
  const auto events = reader.feed("event: state\n\ndata: plain\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == "message");
}

TEST_CASE("the last event id is kept and a leading byte-order mark is dropped") {
  SseReader reader;
  const auto events = reader.feed("\xEF\xBB\xBFid: 12\nevent: progress\ndata: z\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == "progress");
  CHECK(events[0].id == "12");
  CHECK(reader.last_event_id() == "12");
}
