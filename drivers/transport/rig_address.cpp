#include "drivers/transport/rig_address.hpp"

#include <charconv>

#include "drivers/transport/port_enumeration.hpp"
#include "drivers/transport/rfc2217_transport.hpp"
#include "drivers/transport/tcp_transport.hpp"

namespace derma::transport {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
// C++20 deduces this from an aggregate initialiser; clang 16 (the fuzz build) does not yet.
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

TransportError bad_address(std::string_view text, const std::string& why) {
  return {TransportError::Kind::BadAddress,
          "invalid rig address '" + std::string(text) + "': " + why};
}

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

// "host:port" or "[v6::addr]:port"; the port is required (there is no standard one).
std::expected<HostPort, TransportError> parse_host_port(std::string_view text,
                                                        std::string_view rest) {
  std::string_view host;
  std::string_view port_text;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) {
      return std::unexpected(bad_address(text, "unterminated '[' in IPv6 host"));
    }
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.starts_with(':')) {
      return std::unexpected(bad_address(text, "expected ':PORT' after the IPv6 host"));
    }
    port_text = after.substr(1);
  } else {
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      return std::unexpected(bad_address(text, "missing ':PORT' (e.g. tcp://rig-3:4001)"));
    }
    host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return std::unexpected(bad_address(text, "an IPv6 host must be written in [brackets]"));
    }
  }
  if (host.empty()) return std::unexpected(bad_address(text, "empty host"));
  if (!port_text.empty() && port_text.back() == '/') port_text.remove_suffix(1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port == 0 || port > 65535) {
    return std::unexpected(
        bad_address(text, "port '" + std::string(port_text) + "' is not a number in 1..65535"));
  }
  return HostPort{std::string(host), static_cast<std::uint16_t>(port)};
}

}  // namespace

std::expected<RigAddress, TransportError> parse_rig_address(std::string_view text) {
  if (text.empty()) return std::unexpected(bad_address(text, "empty"));
  if (text == "sim") return SimAddress{};

  if (text.starts_with("usb:")) {
    std::string serial(text.substr(4));
    if (serial.empty()) {
      return std::unexpected(bad_address(text, "missing serial number after 'usb:'"));
    }
    return UsbSerialAddress{std::move(serial)};
  }

  if (const auto scheme_end = text.find("://"); scheme_end != std::string_view::npos) {
    const std::string_view scheme = text.substr(0, scheme_end);
    const std::string_view rest = text.substr(scheme_end + 3);
    if (scheme != "tcp" && scheme != "rfc2217") {
      return std::unexpected(bad_address(
          text, "unknown scheme '" + std::string(scheme) + "' (expected tcp:// or rfc2217://)"));
    }
    auto host_port = parse_host_port(text, rest);
    if (!host_port) return std::unexpected(host_port.error());
    if (scheme == "tcp") return TcpAddress{host_port->host, host_port->port};
    return Rfc2217Address{host_port->host, host_port->port};
  }

  return DeviceAddress{std::string(text)};
}

std::string to_string(const RigAddress& address) {
  return std::visit(
      Overloaded{
          [](const SimAddress&) { return std::string("sim"); },
          [](const DeviceAddress& a) { return a.path; },
          [](const UsbSerialAddress& a) { return "usb:" + a.serial_number; },
          [](const TcpAddress& a) { return "tcp://" + host_and_port(a.host, a.port); },
          [](const Rfc2217Address& a) { return "rfc2217://" + host_and_port(a.host, a.port); },
      },
      address);
}

std::expected<std::unique_ptr<Transport>, TransportError> open_transport(const RigAddress& address,
                                                                         SerialSettings settings) {
  using Opened = std::expected<std::unique_ptr<Transport>, TransportError>;
  const auto open_device = [&](const std::string& path) -> Opened {
    auto serial = SerialTransport::open(path, settings);
    if (!serial) return std::unexpected(serial.error());
    return std::unique_ptr<Transport>(std::move(*serial));
  };
  return std::visit(
      Overloaded{
          [&](const SimAddress&) -> Opened {
            return std::unexpected(TransportError{
                TransportError::Kind::Unsupported,
                "the 'sim' rig has no device of its own: start rigsim and open its link path"});
          },
          [&](const DeviceAddress& a) { return open_device(a.path); },
          [&](const UsbSerialAddress& a) -> Opened {
            auto ports = list_serial_ports();
            if (!ports) return std::unexpected(ports.error());
            auto path = find_port_by_usb_serial(a.serial_number, *ports);
            if (!path) return std::unexpected(path.error());
            return open_device(*path);
          },
          [&](const TcpAddress& a) -> Opened {
            auto tcp = TcpTransport::open(a.host, a.port);
            if (!tcp) return std::unexpected(tcp.error());
            return std::unique_ptr<Transport>(std::move(*tcp));
          },
          [&](const Rfc2217Address& a) -> Opened {
            Rfc2217Settings rfc;
            rfc.line.baud_rate = settings.baud_rate;
            auto telnet = Rfc2217Transport::open(a.host, a.port, rfc);
            if (!telnet) return std::unexpected(telnet.error());
            return std::unique_ptr<Transport>(std::move(*telnet));
          },
      },
      address);
}

}  // namespace derma::transport
