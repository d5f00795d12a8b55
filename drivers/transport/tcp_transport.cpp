#include "drivers/transport/tcp_transport.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <optional>

namespace derma::transport {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// Probe an idle link after 5 s, every 2 s, and give up after 3 unanswered probes: a cut
// cable or a dead server is noticed within about 11 s even while nothing is sent.
void enable_keepalive(tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  socket.set_option(asio::socket_base::keep_alive(true), ignored);
  const int fd = socket.native_handle();
  const int idle_s = 5, interval_s = 2, probes = 3;
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof interval_s);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
}

TransportError connect_error(const std::string& link_name, const boost::system::error_code& ec) {
  if (ec == asio::error::connection_refused) {
    return {TransportError::Kind::NotFound,
            "cannot connect to " + link_name + ": " + ec.message() +
                " (is the serial server running and serving that port?)"};
  }
  return {TransportError::Kind::Io, "cannot connect to " + link_name + ": " + ec.message()};
}

}  // namespace

std::string host_and_port(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::expected<tcp::socket, TransportError> connect_tcp(asio::io_context& context,
                                                       const std::string& host, std::uint16_t port,
                                                       const std::string& link_name,
                                                       NetworkSettings settings) {
  boost::system::error_code ec;
  tcp::resolver resolver(context);
  const auto endpoints =
      resolver.resolve(host, std::to_string(port), tcp::resolver::numeric_service, ec);
  if (ec) {
    return std::unexpected(
        TransportError{TransportError::Kind::NotFound,
                       "cannot resolve host '" + host + "' of " + link_name + ": " + ec.message()});
  }

  tcp::socket socket(context);
  std::optional<boost::system::error_code> result;
  asio::async_connect(
      socket, endpoints,
      [&result](const boost::system::error_code& e, const tcp::endpoint&) { result = e; });
  context.restart();
  context.run_for(settings.connect_timeout);
  if (!result) {  // no answer in time: cancel, and let the handler see that
    socket.close(ec);
    context.restart();
    context.run();
  }
  context.restart();
  if (!result || *result) {
    if (!result || *result == asio::error::operation_aborted) {
      return std::unexpected(TransportError{
          TransportError::Kind::Io, "cannot connect to " + link_name + ": no answer within " +
                                        std::to_string(settings.connect_timeout.count()) + " ms"});
    }
    return std::unexpected(connect_error(link_name, *result));
  }
  enable_keepalive(socket);
  return socket;
}

TcpTransport::TcpTransport(std::unique_ptr<asio::io_context> context, tcp::socket socket,
                           std::string name)
    : context_(std::move(context)), socket_(std::move(socket)), name_(std::move(name)) {}

TcpTransport::~TcpTransport() {
  close();
}

std::expected<std::unique_ptr<TcpTransport>, TransportError> TcpTransport::open(
    const std::string& host, std::uint16_t port, NetworkSettings settings) {
  auto context = std::make_unique<asio::io_context>(1);
  const std::string name = "tcp://" + host_and_port(host, port);
  auto socket = connect_tcp(*context, host, port, name, settings);
  if (!socket) return std::unexpected(socket.error());
  spdlog::debug("connected to {}", name);
  return std::unique_ptr<TcpTransport>(
      new TcpTransport(std::move(context), std::move(*socket), name));
}

void TcpTransport::async_read_some(asio::mutable_buffer buffer, ReadHandler handler) {
  socket_.async_read_some(buffer, std::move(handler));
}

void TcpTransport::async_write(asio::const_buffer buffer, WriteHandler handler) {
  asio::async_write(socket_, buffer, std::move(handler));
}

void TcpTransport::close() {
  if (!socket_.is_open()) return;
  boost::system::error_code ignored;
  socket_.cancel(ignored);
  socket_.close(ignored);
}

}  // namespace derma::transport
