#include "bench/client/sse_reader.hpp"

namespace derma::client {

std::vector<SseEvent> SseReader::feed(std::string_view bytes) {
  std::vector<SseEvent> out;
  if (first_bytes_ && !bytes.empty()) {
    if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
    first_bytes_ = false;
  }
  for (char c : bytes) {
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;  // the LF of a CRLF already ended the line
    }
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      process_line(line_, out);
      line_.clear();
    } else {
      line_ += c;
    }
  }
  return out;
}

void SseReader::process_line(const std::string& line, std::vector<SseEvent>& out) {
  if (line.empty()) {  // dispatch
    if (has_data_) {
      SseEvent event;
      if (!event_type_.empty()) event.type = event_type_;
      event.data = data_;
      event.id = last_event_id_;
      out.push_back(std::move(event));
    }
    event_type_.clear();
    data_.clear();
    has_data_ = false;
    return;
  }
  if (line.front() == ':') {
    ++comments_seen_;
    return;
  }
  const auto colon = line.find(':');
  const std::string field = line.substr(0, colon);
  std::string value;
  if (colon != std::string::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.erase(0, 1);
  }
  if (field == "event") {
    event_type_ = value;
  } else if (field == "data") {
    if (has_data_) data_ += '\n';
    data_ += value;
    has_data_ = true;
  } else if (field == "id") {
    if (value.find('\0') == std::string::npos) last_event_id_ = value;
  }
  // "retry" and unknown fields are ignored: reconnection timing is the client's own.
}

}  // namespace derma::client
