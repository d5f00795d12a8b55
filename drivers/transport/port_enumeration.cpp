#include "drivers/transport/port_enumeration.hpp"

#include <libserialport.h>

#include <cstdio>
#include <memory>

namespace derma::transport {
namespace {

// libserialport returns borrowed C strings that may be null.
std::string text(const char* s) {
  return s ? std::string(s) : std::string();
}

std::string last_libserialport_error() {
  char* message = sp_last_error_message();
  std::string result = text(message);
  sp_free_error_message(message);
  return result;
}

PortKind kind_of(sp_transport transport) {
  switch (transport) {
    case SP_TRANSPORT_NATIVE:
      return PortKind::Native;
    case SP_TRANSPORT_USB:
      return PortKind::Usb;
    case SP_TRANSPORT_BLUETOOTH:
      return PortKind::Bluetooth;
  }
  return PortKind::Unknown;
}

PortInfo describe_port(const sp_port* port) {
  PortInfo info;
  info.name = text(sp_get_port_name(port));
  info.description = text(sp_get_port_description(port));
  info.kind = kind_of(sp_get_port_transport(port));
  if (info.kind != PortKind::Usb) return info;
  int vid = 0;
  int pid = 0;
  if (sp_get_port_usb_vid_pid(port, &vid, &pid) == SP_OK) {
    info.usb_vid = static_cast<std::uint16_t>(vid);
    info.usb_pid = static_cast<std::uint16_t>(pid);
  }
  info.manufacturer = text(sp_get_port_usb_manufacturer(port));
  info.product = text(sp_get_port_usb_product(port));
  info.serial_number = text(sp_get_port_usb_serial(port));
  return info;
}

}  // namespace

const char* to_string(PortKind kind) {
  switch (kind) {
    case PortKind::Native:
      return "native";
    case PortKind::Usb:
      return "usb";
    case PortKind::Bluetooth:
      return "bluetooth";
    case PortKind::Unknown:
      return "unknown";
  }
  return "unknown";
}

std::string usb_id(const PortInfo& port) {
  if (!port.usb_vid || !port.usb_pid) return {};
  char buffer[10];
  std::snprintf(buffer, sizeof buffer, "%04x:%04x", *port.usb_vid, *port.usb_pid);
  return buffer;
}

std::expected<std::vector<PortInfo>, TransportError> list_serial_ports() {
  sp_port** raw_list = nullptr;
  if (sp_list_ports(&raw_list) != SP_OK) {
    return std::unexpected(TransportError{
        TransportError::Kind::Io, "cannot enumerate serial ports: " + last_libserialport_error()});
  }
  const std::unique_ptr<sp_port*, decltype(&sp_free_port_list)> list(raw_list, &sp_free_port_list);
  std::vector<PortInfo> ports;
  for (sp_port** it = list.get(); *it != nullptr; ++it) ports.push_back(describe_port(*it));
  return ports;
}

std::expected<std::string, TransportError> find_port_by_usb_serial(
    const std::string& serial, std::span<const PortInfo> ports) {
  std::vector<const PortInfo*> matches;
  std::string seen;
  for (const PortInfo& port : ports) {
    if (port.serial_number.empty()) continue;
    if (port.serial_number == serial) matches.push_back(&port);
    seen += (seen.empty() ? "" : ", ") + port.serial_number + " (" + port.name + ")";
  }
  if (matches.size() == 1) return matches.front()->name;
  if (matches.empty()) {
    return std::unexpected(
        TransportError{TransportError::Kind::NotFound,
                       "no serial port has USB serial number '" + serial +
                           "'; USB serials present: " + (seen.empty() ? "none" : seen)});
  }
  std::string names;
  for (const PortInfo* port : matches) names += (names.empty() ? "" : ", ") + port->name;
  return std::unexpected(TransportError{
      TransportError::Kind::BadAddress,
      "USB serial number '" + serial + "' is ambiguous: ports " + names + " share it"});
}

}  // namespace derma::transport
