// An incremental parser of a Server-Sent Events stream (text/event-stream, WHATWG HTML
// section 9.2): bytes go in as the network delivers them (an event may be split anywhere,
// even between the CR and LF of a line end), complete events come out.
//
//   event: progress            <- the event's type (default "message")
//   data: {"line": "step 4/6"} <- data lines, joined with '\n' when there are several
//   id: 12                     <- remembered as last_event_id
//   : keep-alive               <- a comment: counted, otherwise ignored
//   (empty line)               <- dispatches the event
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace derma::client {

struct SseEvent {
  std::string type = "message";
  std::string data;
  std::string id;  // the last event id in force when the event was dispatched
};

class SseReader {
 public:
  // Consumes bytes; returns the events they complete, in order.
  std::vector<SseEvent> feed(std::string_view bytes);

  std::size_t comments_seen() const { return comments_seen_; }
  const std::string& last_event_id() const { return last_event_id_; }

 private:
  void process_line(const std::string& line, std::vector<SseEvent>& out);

  std::string line_;         // the line being read, without its end
  bool after_cr_ = false;    // the previous byte was a CR: a following LF is its pair
  bool first_bytes_ = true;  // a leading UTF-8 BOM is dropped
  std::string event_type_;
  std::string data_;
  bool has_data_ = false;
  std::string last_event_id_;
  std::size_t comments_seen_ = 0;
};

}  // namespace derma::client
