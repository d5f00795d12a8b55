#include "drivers/transport/serial_transport.hpp"

#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>

namespace derma::transport {
namespace {

namespace asio = boost::asio;

TransportError open_error(const std::string& path, const boost::system::error_code& ec) {
  const std::string reason = ec.message();
  switch (ec.value()) {
    case ENOENT:
    case ENXIO:
    case ENODEV:
      return {TransportError::Kind::NotFound, "cannot open serial port '" + path + "': " + reason};
    case EACCES:
    case EPERM:
      return {TransportError::Kind::PermissionDenied, "cannot open serial port '" + path +
                                                          "': " + reason +
                                                          " (is the user in the 'dialout' group?)"};
    case ENOTTY:
    case EISDIR:
    case EINVAL:
      return {TransportError::Kind::NotATty, "'" + path + "' is not a serial device: " + reason};
    case EBUSY:
      return {TransportError::Kind::Busy, "serial port '" + path + "' is busy: " + reason};
    default:
      return {TransportError::Kind::Io, "cannot open serial port '" + path + "': " + reason};
  }
}

// An advisory lock keeps two bench processes from talking to one rig at once (their
// interleaved frames would be rejected or, worse, misattributed).
std::expected<void, TransportError> lock_exclusively(int fd, const std::string& path) {
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return {};
  const int err = errno;
  if (err == EWOULDBLOCK) {
    return std::unexpected(
        TransportError{TransportError::Kind::Busy,
                       "serial port '" + path + "' is in use by another process (locked)"});
  }
  // Some device nodes do not support flock; the port still works, so carry on.
  spdlog::debug("flock on '{}' failed: {}", path, std::strerror(err));
  return {};
}

}  // namespace

const char* to_string(TransportError::Kind kind) {
  switch (kind) {
    case TransportError::Kind::NotFound:
      return "not found";
    case TransportError::Kind::PermissionDenied:
      return "permission denied";
    case TransportError::Kind::NotATty:
      return "not a tty";
    case TransportError::Kind::Busy:
      return "busy";
    case TransportError::Kind::BadAddress:
      return "bad address";
    case TransportError::Kind::Unsupported:
      return "unsupported";
    case TransportError::Kind::Io:
      return "i/o error";
  }
  return "unknown";
}

bool is_disconnect(const boost::system::error_code& ec) {
  if (ec == asio::error::eof) return true;
  if (ec.category() != boost::system::system_category()) return false;
  switch (ec.value()) {
    case EIO:
    case EPIPE:
    case ENXIO:
    case ENODEV:
    case EBADF:  // the descriptor vanished under us
    // A network link (tcp://, rfc2217://): the server went away, or the network did.
    case ECONNRESET:
    case ECONNABORTED:
    case ETIMEDOUT:  // keepalive probes unanswered
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENETDOWN:
      return true;
    default:
      return false;
  }
}

SerialTransport::SerialTransport(std::unique_ptr<asio::io_context> context, std::string path)
    : context_(std::move(context)), port_(*context_), path_(std::move(path)) {}

SerialTransport::~SerialTransport() {
  close();
}

std::expected<std::unique_ptr<SerialTransport>, TransportError> SerialTransport::open(
    const std::string& path, SerialSettings settings) {
  auto context = std::make_unique<asio::io_context>(1);
  std::unique_ptr<SerialTransport> transport(new SerialTransport(std::move(context), path));
  auto& port = transport->port_;

  boost::system::error_code ec;
  // Asio opens O_RDWR|O_NONBLOCK|O_NOCTTY, then tcgetattr (ENOTTY for a non-tty) and sets
  // the line raw: no echo, no canonical mode, no CR/LF translation, 8 data bits.
  port.open(path, ec);
  if (ec) return std::unexpected(open_error(path, ec));

  if (auto locked = lock_exclusively(port.native_handle(), path); !locked) {
    return std::unexpected(locked.error());
  }

  using base = asio::serial_port_base;
  const auto configure = [&](const auto& option,
                             const char* what) -> std::expected<void, TransportError> {
    port.set_option(option, ec);
    if (!ec) return {};
    return std::unexpected(TransportError{
        TransportError::Kind::Io,
        "cannot set " + std::string(what) + " on serial port '" + path + "': " + ec.message()});
  };
  for (auto step : {configure(base::baud_rate(settings.baud_rate), "baud rate"),
                    configure(base::character_size(8), "character size"),
                    configure(base::parity(base::parity::none), "parity"),
                    configure(base::stop_bits(base::stop_bits::one), "stop bits"),
                    configure(base::flow_control(base::flow_control::none), "flow control")}) {
    if (!step) return std::unexpected(step.error());
  }
  spdlog::debug("opened serial port '{}' at {} baud, 8N1, no flow control", path,
                settings.baud_rate);
  return transport;
}

void SerialTransport::async_read_some(asio::mutable_buffer buffer, ReadHandler handler) {
  port_.async_read_some(buffer, std::move(handler));
}

std::expected<std::size_t, boost::system::error_code> SerialTransport::read_arrived(
    asio::mutable_buffer buffer) {
  // Asio opened the device O_NONBLOCK, so this never waits (its serial_port has no
  // non-blocking read of its own in Boost 1.74). End of file and errors as async reads see them.
  const ssize_t got = ::read(port_.native_handle(), buffer.data(), buffer.size());
  if (got > 0) return static_cast<std::size_t>(got);
  if (got == 0) return std::unexpected(asio::error::eof);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
  return std::unexpected(boost::system::error_code(errno, boost::system::system_category()));
}

void SerialTransport::async_write(asio::const_buffer buffer, WriteHandler handler) {
  asio::async_write(port_, buffer, std::move(handler));
}

void SerialTransport::close() {
  if (!port_.is_open()) return;
  boost::system::error_code ignored;
  port_.cancel(ignored);
  port_.close(ignored);
}

}  // namespace derma::transport
