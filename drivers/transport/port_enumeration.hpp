// Serial ports present on this machine, as libserialport sees them, with their USB identity.
// Used by `bench ports` (table and JSON) and to resolve a `usb:SERIAL` rig address.
// libserialport skips pseudo-terminals, so a rigsim pty never shows up here.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "drivers/transport/transport.hpp"

namespace derma::transport {

enum class PortKind { Native, Usb, Bluetooth, Unknown };
const char* to_string(PortKind);

struct PortInfo {
  std::string name;         // device path, e.g. "/dev/ttyACM0"
  std::string description;  // libserialport's one-line description
  PortKind kind = PortKind::Unknown;
  // USB identity; empty for non-USB ports or when the OS does not report it.
  std::optional<std::uint16_t> usb_vid;
  std::optional<std::uint16_t> usb_pid;
  std::string manufacturer;
  std::string product;
  std::string serial_number;
};

// "2341:8036" (lower-case hex) or "" when the port has no USB identity.
std::string usb_id(const PortInfo&);

std::expected<std::vector<PortInfo>, TransportError> list_serial_ports();

// The device path of the one port whose USB serial number is `serial` (exact match).
// NotFound names the serial and lists the serials that were seen; BadAddress when several
// ports share the serial (a composite device), naming them.
std::expected<std::string, TransportError> find_port_by_usb_serial(const std::string& serial,
                                                                   std::span<const PortInfo> ports);

}  // namespace derma::transport
