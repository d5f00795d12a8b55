// The `--rig` argument, parsed in one place into the kind of link it names:
//   sim                 the virtual rig (the caller starts rigsim and opens its pty)
//   /dev/ttyACM0        a device path; any path, including a symlink to a pty
//   usb:SERIAL          the USB serial port whose serial number is SERIAL
//   tcp://HOST:PORT     a serial server's raw TCP port (ser2net `accepter: tcp,PORT`)
//   rfc2217://HOST:PORT a Telnet COM-port-control server (RFC 2217; ser2net
//                       `accepter: telnet(rfc2217),tcp,PORT`), which sets the line itself
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "drivers/transport/serial_transport.hpp"
#include "drivers/transport/transport.hpp"

namespace derma::transport {

struct SimAddress {};
struct DeviceAddress {
  std::string path;
};
struct UsbSerialAddress {
  std::string serial_number;
};
struct TcpAddress {
  std::string host;  // name or address; an IPv6 literal without its brackets
  std::uint16_t port = 0;
};
struct Rfc2217Address {
  std::string host;
  std::uint16_t port = 0;
};

using RigAddress =
    std::variant<SimAddress, DeviceAddress, UsbSerialAddress, TcpAddress, Rfc2217Address>;

// BadAddress errors quote the input and say what is wrong with it.
std::expected<RigAddress, TransportError> parse_rig_address(std::string_view text);

// The canonical text of an address (parse_rig_address(to_string(a)) gives back a).
std::string to_string(const RigAddress&);

// Opens the link an address names: a SerialTransport, TcpTransport or Rfc2217Transport (the
// settings' baud rate is the one RFC 2217 asks the server for). `sim` cannot be opened here
// (the caller starts rigsim and opens its link path as a DeviceAddress): Unsupported.
std::expected<std::unique_ptr<Transport>, TransportError> open_transport(
    const RigAddress& address, SerialSettings settings = {});

}  // namespace derma::transport
