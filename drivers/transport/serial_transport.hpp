// A serial device (USB CDC-ACM, a UART, or a pty) opened with Boost.Asio's serial_port.
#pragma once

#include <boost/asio/serial_port.hpp>
#include <expected>
#include <memory>
#include <string>

#include "drivers/transport/transport.hpp"

namespace derma::transport {

struct SerialSettings {
  // Nominal: a USB CDC-ACM device ignores it, a pty stores it; a real UART runs at it.
  unsigned baud_rate = 921'600;
};

class SerialTransport final : public Transport {
 public:
  // Opens `path` (a symlink is followed), takes an exclusive lock on it, and sets it raw 8N1
  // at the requested baud with no flow control. Errors name the path and the system reason.
  static std::expected<std::unique_ptr<SerialTransport>, TransportError> open(
      const std::string& path, SerialSettings settings = {});

  ~SerialTransport() override;

  boost::asio::io_context& context() override { return *context_; }
  void async_read_some(boost::asio::mutable_buffer buffer, ReadHandler handler) override;
  std::expected<std::size_t, boost::system::error_code> read_arrived(
      boost::asio::mutable_buffer buffer) override;
  void async_write(boost::asio::const_buffer buffer, WriteHandler handler) override;
  void close() override;
  bool is_open() const override { return port_.is_open(); }
  std::string describe() const override { return path_; }

 private:
  SerialTransport(std::unique_ptr<boost::asio::io_context> context, std::string path);

  std::unique_ptr<boost::asio::io_context> context_;  // declared first: the port uses it
  boost::asio::serial_port port_;
  std::string path_;
};

}  // namespace derma::transport
