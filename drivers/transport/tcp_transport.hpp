// A rig behind a serial server's raw TCP port (`tcp://HOST:PORT`, as ser2net's
// `accepter: tcp,PORT` serves it): the socket carries the serial bytes unchanged, and the
// server owns the line settings. A dropped connection reads as `eof`/ECONNRESET, which
// is_disconnect() calls "disconnected", exactly as an unplugged serial port.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>

#include "drivers/transport/transport.hpp"

namespace derma::transport {

struct NetworkSettings {
  // Resolving and connecting; a host that does not answer at all fails after this.
  std::chrono::milliseconds connect_timeout{5000};
};

// "host:port", or "[v6::addr]:port" for an IPv6 literal.
std::string host_and_port(const std::string& host, std::uint16_t port);

// Resolves `host` and connects to the first of its addresses that accepts, within the
// timeout, with the socket on `context` (which must not be running elsewhere). Sets
// TCP_NODELAY (a request frame goes out at once) and keepalive probes (a silent network cut
// ends in ETIMEDOUT, i.e. "disconnected", rather than a link that hangs forever).
// Errors name `link_name` (e.g. "tcp://rig-3:4001") and the reason.
std::expected<boost::asio::ip::tcp::socket, TransportError> connect_tcp(
    boost::asio::io_context& context, const std::string& host, std::uint16_t port,
    const std::string& link_name, NetworkSettings settings);

class TcpTransport final : public Transport {
 public:
  static std::expected<std::unique_ptr<TcpTransport>, TransportError> open(
      const std::string& host, std::uint16_t port, NetworkSettings settings = {});

  ~TcpTransport() override;

  boost::asio::io_context& context() override { return *context_; }
  void async_read_some(boost::asio::mutable_buffer buffer, ReadHandler handler) override;
  void async_write(boost::asio::const_buffer buffer, WriteHandler handler) override;
  void close() override;
  bool is_open() const override { return socket_.is_open(); }
  std::string describe() const override { return name_; }  // "tcp://host:port"

 private:
  TcpTransport(std::unique_ptr<boost::asio::io_context> context,
               boost::asio::ip::tcp::socket socket, std::string name);

  std::unique_ptr<boost::asio::io_context> context_;  // declared first: the socket uses it
  boost::asio::ip::tcp::socket socket_;
  std::string name_;
};

}  // namespace derma::transport
