#include "drivers/transport/rfc2217_transport.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <type_traits>
#include <utility>

namespace derma::transport {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using telnet::kOptionBinary;
using telnet::kOptionComPort;
using telnet::kOptionSuppressGoAhead;

// What a server said before hanging up (ser2net explains a busy or missing device in plain
// text), trimmed to one printable line for an error message.
std::string printable_text(const telnet::Bytes& bytes) {
  std::string text;
  for (std::uint8_t byte : bytes) {
    if (text.size() >= 200) break;
    if (byte == '\r' || byte == '\n') {
      if (!text.empty() && text.back() != ' ') text += ' ';
    } else if (byte >= 0x20 && byte < 0x7f) {
      text += static_cast<char>(byte);
    }
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace

Rfc2217Transport::Rfc2217Transport(std::unique_ptr<asio::io_context> context, tcp::socket socket,
                                   std::string name, rfc2217::LineSettings line)
    : context_(std::move(context)),
      socket_(std::move(socket)),
      name_(std::move(name)),
      // We send binary data and need no go-ahead signals either way; the server performs
      // COM-PORT-OPTION for us (RFC 2217: the client sends WILL, the server answers DO).
      options_({kOptionBinary, kOptionSuppressGoAhead, kOptionComPort},
               {kOptionBinary, kOptionSuppressGoAhead}),
      line_(line),
      confirmation_(line) {}

Rfc2217Transport::~Rfc2217Transport() {
  close();
}

std::expected<std::unique_ptr<Rfc2217Transport>, TransportError> Rfc2217Transport::open(
    const std::string& host, std::uint16_t port, Rfc2217Settings settings) {
  auto context = std::make_unique<asio::io_context>(1);
  const std::string name = "rfc2217://" + host_and_port(host, port);
  auto socket = connect_tcp(*context, host, port, name, settings.network);
  if (!socket) return std::unexpected(socket.error());
  std::unique_ptr<Rfc2217Transport> transport(
      new Rfc2217Transport(std::move(context), std::move(*socket), name, settings.line));
  if (auto problem = transport->negotiate(settings.negotiation_timeout))
    return std::unexpected(*problem);
  return transport;
}

// Runs the transport's own context until the server has agreed to every option we need and
// acknowledged every line setting, or something says it never will.
std::optional<TransportError> Rfc2217Transport::negotiate(std::chrono::milliseconds timeout) {
  const auto failure = [this](const std::string& why) {
    return TransportError{TransportError::Kind::Io,
                          "RFC 2217 negotiation with " + name_ + " failed: " + why};
  };
  send_control(options_.request_wanted());
  read_wire();
  bool settings_sent = false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (negotiation_problem_) return failure(*negotiation_problem_);
    if (options_.local_refused(kOptionComPort)) {
      return failure(
          "the server refuses COM-PORT-OPTION, so it cannot set the serial line "
          "(for a raw TCP port use tcp://)");
    }
    if (options_.local_refused(kOptionBinary) || options_.remote_refused(kOptionBinary))
      return failure("the server refuses BINARY, without which rig frames cannot pass intact");
    if (wire_error_) {
      const std::string said = printable_text(pending_data_);
      return failure("the server closed the connection (" + wire_error_.message() + ")" +
                     (said.empty() ? "" : ", saying \"" + said + "\""));
    }
    if (!settings_sent && options_.local_enabled(kOptionComPort)) {
      for (auto& request : rfc2217::line_setting_requests(line_)) send_control(std::move(request));
      settings_sent = true;
    }
    if (confirmation_.complete() && options_.local_enabled(kOptionBinary) &&
        options_.remote_enabled(kOptionBinary))
      break;
    if (context_->run_one_until(deadline) == 0 && std::chrono::steady_clock::now() >= deadline) {
      const std::string waiting_for = !settings_sent ? "DO COM-PORT-OPTION"
                                      : !confirmation_.complete()
                                          ? "the acknowledgement of " + confirmation_.missing()
                                          : "BINARY both ways";
      return failure("no answer within " + std::to_string(timeout.count()) + " ms (waiting for " +
                     waiting_for + ")");
    }
  }
  negotiating_ = false;
  context_->restart();
  spdlog::debug("{}: line set to {} baud, 8N1, no flow control", name_, line_.baud_rate);
  return std::nullopt;
}

// ---- reading ----------------------------------------------------------------------------------

void Rfc2217Transport::async_read_some(asio::mutable_buffer buffer, ReadHandler handler) {
  reader_buffer_ = buffer;
  reader_ = std::move(handler);
  if (!pending_data_.empty() || wire_error_) {
    // Never complete inside the initiating call (Asio's rule, which callers rely on).
    asio::post(*context_, [this] { complete_read(); });
    return;
  }
  read_wire();
}

void Rfc2217Transport::read_wire() {
  if (wire_reading_) return;
  wire_reading_ = true;
  socket_.async_read_some(asio::buffer(wire_buffer_), [this](const boost::system::error_code& ec,
                                                             std::size_t n) { on_wire(ec, n); });
}

void Rfc2217Transport::on_wire(const boost::system::error_code& ec, std::size_t n) {
  wire_reading_ = false;
  if (ec) {
    wire_error_ = ec;
    complete_read();
    return;
  }
  events_.clear();
  const std::size_t errors_before = decoder_.protocol_errors();
  decoder_.feed(telnet::ByteView(wire_buffer_.data(), n), pending_data_, events_);
  if (decoder_.protocol_errors() != errors_before)
    spdlog::debug("{}: skipped a malformed Telnet command", name_);
  for (const telnet::Event& event : events_) handle(event);
  complete_read();
  // Control traffic alone completes no read: keep reading for the reader still waiting.
  if (negotiating_ || reader_) read_wire();
}

void Rfc2217Transport::complete_read() {
  if (!reader_) return;
  std::size_t n = 0;
  boost::system::error_code ec;
  if (!pending_data_.empty()) {
    n = std::min(reader_buffer_->size(), pending_data_.size());
    std::memcpy(reader_buffer_->data(), pending_data_.data(), n);
    pending_data_.erase(pending_data_.begin(), pending_data_.begin() + static_cast<long>(n));
  } else if (wire_error_) {
    ec = wire_error_;  // data received before the error was handed over first
  } else {
    return;
  }
  ReadHandler handler = std::exchange(reader_, nullptr);
  reader_buffer_.reset();
  handler(ec, n);
}

void Rfc2217Transport::handle(const telnet::Event& event) {
  if (const auto* negotiation = std::get_if<telnet::Negotiation>(&event)) {
    spdlog::debug("{}: server sent {} {}", name_, telnet::verb_name(negotiation->verb),
                  telnet::option_name(negotiation->option));
    send_control(options_.on_negotiation(*negotiation));
    return;
  }
  const auto& sub = std::get<telnet::Subnegotiation>(event);
  const auto message = rfc2217::parse_server_message(sub);
  if (!message) {
    spdlog::debug("{}: ignoring a subnegotiation of {}", name_, telnet::option_name(sub.option));
    return;
  }
  using rfc2217::Command;
  switch (static_cast<Command>(message->command)) {
    case Command::Signature:
      // An empty SIGNATURE asks for ours; a non-empty one is the server's own.
      if (message->value.empty()) send_control(rfc2217::signature_reply("dermabench"));
      return;
    case Command::NotifyLineState:
    case Command::NotifyModemState:
    case Command::FlowControlSuspend:  // the line runs without flow control: nothing to pause
    case Command::FlowControlResume:
      spdlog::debug("{}: server sent {} (ignored)", name_, rfc2217::command_name(message->command));
      return;
    default:
      if (auto problem = confirmation_.on_message(*message)) {
        if (negotiating_)
          negotiation_problem_ = *problem;
        else
          spdlog::warn("{}: {}", name_, *problem);
      }
  }
}

// ---- writing ----------------------------------------------------------------------------------

void Rfc2217Transport::async_write(asio::const_buffer buffer, WriteHandler handler) {
  Outgoing outgoing;
  telnet::escape_into(
      telnet::ByteView(static_cast<const std::uint8_t*>(buffer.data()), buffer.size()),
      outgoing.wire);
  outgoing.handler = std::move(handler);
  outgoing.data_size = buffer.size();
  write_queue_.push_back(std::move(outgoing));
  if (!writing_) write_next();
}

void Rfc2217Transport::send_control(telnet::Bytes wire) {
  if (wire.empty()) return;
  write_queue_.push_back(Outgoing{std::move(wire), nullptr, 0});
  if (!writing_) write_next();
}

void Rfc2217Transport::write_next() {
  if (write_queue_.empty()) {
    writing_ = false;
    return;
  }
  writing_ = true;
  asio::async_write(socket_, asio::buffer(write_queue_.front().wire),
                    [this](const boost::system::error_code& ec, std::size_t) {
                      Outgoing done = std::move(write_queue_.front());
                      write_queue_.pop_front();
                      writing_ = false;
                      if (ec) {  // the link is gone: whatever waits behind fails the same way
                        std::deque<Outgoing> failed = std::exchange(write_queue_, {});
                        if (done.handler) done.handler(ec, 0);
                        for (Outgoing& waiting : failed)
                          if (waiting.handler) waiting.handler(ec, 0);
                        return;
                      }
                      if (done.handler) done.handler(ec, done.data_size);
                      if (!writing_) write_next();
                    });
}

void Rfc2217Transport::close() {
  if (!socket_.is_open()) return;
  boost::system::error_code ignored;
  socket_.cancel(ignored);
  socket_.close(ignored);
}

}  // namespace derma::transport
