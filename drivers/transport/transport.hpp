// Transport: a byte pipe to a rig, whatever carries it (a serial device, a raw TCP port of a
// serial server, or an RFC 2217 Telnet COM port).
// It knows nothing of frames or messages; drivers/protocol and drivers/rig sit on top.
//
// Each transport owns the io_context its I/O objects live on, so an opened transport can be
// handed whole to a driver (RigClient) that runs that context on its own thread.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <expected>
#include <functional>
#include <string>

namespace derma::transport {

// Why a transport could not be opened or resolved. `message` names the path or address.
struct TransportError {
  enum class Kind {
    NotFound,          // no such device, no port with that USB serial number, no such host,
                       // or nothing listening on that TCP port
    PermissionDenied,  // the device exists but this user may not open it
    NotATty,           // the path exists but is not a serial device
    Busy,              // another process holds the port
    BadAddress,        // the rig address string cannot be parsed
    Unsupported,       // a valid address that names no link of its own (`sim`)
    Io,                // any other error while opening or configuring (incl. RFC 2217
                       // negotiation)
  };
  Kind kind = Kind::Io;
  std::string message;
};
const char* to_string(TransportError::Kind);

class Transport {
 public:
  using ReadHandler = std::function<void(const boost::system::error_code&, std::size_t)>;
  using WriteHandler = std::function<void(const boost::system::error_code&, std::size_t)>;

  virtual ~Transport() = default;

  // The context the handlers run on; whoever drives the transport runs it.
  virtual boost::asio::io_context& context() = 0;
  // Reads at least one byte into `buffer` (which must outlive the operation).
  virtual void async_read_some(boost::asio::mutable_buffer buffer, ReadHandler handler) = 0;
  // Reads what has already arrived into `buffer` without waiting: the byte count, 0 when
  // nothing has, or the read's error. Only between asynchronous reads, never while one is
  // pending. A reader that just filled its buffer calls it to take what a rig streaming flat
  // out has sent meanwhile, instead of a round trip through epoll per buffer
  // (docs/performance.md). Links that do not offer it answer 0: they are read
  // asynchronously only.
  virtual std::expected<std::size_t, boost::system::error_code> read_arrived(
      boost::asio::mutable_buffer) {
    return 0;
  }
  // Writes all of `buffer` (which must outlive the operation). At most one write at a time.
  virtual void async_write(boost::asio::const_buffer buffer, WriteHandler handler) = 0;
  // Cancels pending operations (their handlers see operation_aborted) and releases the port.
  virtual void close() = 0;
  virtual bool is_open() const = 0;
  // Human-readable name of the link for messages and logs, e.g. "/dev/ttyACM0" or
  // "tcp://rig-3:4001".
  virtual std::string describe() const = 0;
};

// True for the errors that mean the other end went away: EOF on a read, EIO/EPIPE/ENXIO/
// ENODEV on a read or write (an unplugged USB device, a closed pty); ECONNRESET, ETIMEDOUT or
// an unreachable host or network on a TCP link (a serial server stopped or cut off). Such a
// link is dead for good; the remedy is to reopen it, not to retry the operation.
bool is_disconnect(const boost::system::error_code& ec);

}  // namespace derma::transport
