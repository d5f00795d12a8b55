// A rig behind a Telnet COM-port-control server (`rfc2217://HOST:PORT`, as ser2net's
// `accepter: telnet(rfc2217),tcp,PORT` serves it). Opening negotiates BINARY and
// SUPPRESS-GO-AHEAD both ways and COM-PORT-OPTION (refusing anything else, e.g. ECHO), then
// sets the remote line to the rig's 921,600 baud 8N1 without flow control and waits until
// the server has acknowledged every setting with the value asked for. After that it is a
// byte pipe like any other transport: data bytes 0xFF are doubled on the way out and undone
// on the way in, and the server's later Telnet traffic (negotiations, NOTIFY-LINESTATE,
// NOTIFY-MODEMSTATE, a SIGNATURE request) is answered or ignored without reaching the
// reader. A dropped connection is "disconnected" (is_disconnect), as for the tcp:// link.
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <deque>
#include <expected>
#include <memory>
#include <optional>
#include <string>

#include "drivers/transport/com_port_control.hpp"
#include "drivers/transport/tcp_transport.hpp"
#include "drivers/transport/telnet_codec.hpp"
#include "drivers/transport/transport.hpp"

namespace derma::transport {

struct Rfc2217Settings {
  NetworkSettings network;
  rfc2217::LineSettings line;
  // Bound on the whole negotiation after connecting (servers answer in milliseconds).
  std::chrono::milliseconds negotiation_timeout{5000};
};

class Rfc2217Transport final : public Transport {
 public:
  // Connects and negotiates. A server that refuses COM-PORT-OPTION or BINARY, sets the line
  // otherwise than asked, hangs up or stays silent gives an error naming the address.
  static std::expected<std::unique_ptr<Rfc2217Transport>, TransportError> open(
      const std::string& host, std::uint16_t port, Rfc2217Settings settings = {});

  ~Rfc2217Transport() override;

  boost::asio::io_context& context() override { return *context_; }
  void async_read_some(boost::asio::mutable_buffer buffer, ReadHandler handler) override;
  void async_write(boost::asio::const_buffer buffer, WriteHandler handler) override;
  void close() override;
  bool is_open() const override { return socket_.is_open(); }
  std::string describe() const override { return name_; }  // "rfc2217://host:port"

 private:
  Rfc2217Transport(std::unique_ptr<boost::asio::io_context> context,
                   boost::asio::ip::tcp::socket socket, std::string name,
                   rfc2217::LineSettings line);

  std::optional<TransportError> negotiate(std::chrono::milliseconds timeout);

  // Reading: one socket read at a time, decoded into data (kept for the reader) and Telnet
  // events (answered here). The socket is read while a reader waits or while negotiating.
  void read_wire();
  void on_wire(const boost::system::error_code& ec, std::size_t n);
  void handle(const telnet::Event& event);
  void complete_read();  // hands pending data (or the error that ended the link) to the reader

  // Writing: data and our Telnet replies share one FIFO; at most one socket write at a time.
  struct Outgoing {
    telnet::Bytes wire;
    WriteHandler handler;       // empty for our own Telnet replies
    std::size_t data_size = 0;  // the caller's byte count, reported on completion
  };
  void send_control(telnet::Bytes wire);
  void write_next();

  std::unique_ptr<boost::asio::io_context> context_;  // declared first: the socket uses it
  boost::asio::ip::tcp::socket socket_;
  std::string name_;

  telnet::Decoder decoder_;
  telnet::OptionNegotiator options_;
  rfc2217::LineSettings line_;
  rfc2217::LineSettingsConfirmation confirmation_;
  std::optional<std::string> negotiation_problem_;  // set by handle() while negotiating
  bool negotiating_ = true;

  std::array<std::uint8_t, 4096> wire_buffer_{};
  bool wire_reading_ = false;
  telnet::Bytes pending_data_;            // decoded, not yet handed to the reader
  boost::system::error_code wire_error_;  // the read error that ended the link, if any
  std::optional<boost::asio::mutable_buffer> reader_buffer_;
  ReadHandler reader_;
  std::vector<telnet::Event> events_;  // scratch, reused

  std::deque<Outgoing> write_queue_;
  bool writing_ = false;
};

}  // namespace derma::transport
