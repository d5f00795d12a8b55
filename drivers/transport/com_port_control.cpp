#include "drivers/transport/com_port_control.hpp"

namespace derma::transport::rfc2217 {
namespace {

telnet::Bytes com_port(Command command, const telnet::Bytes& value) {
  telnet::Bytes payload{static_cast<std::uint8_t>(command)};
  payload.insert(payload.end(), value.begin(), value.end());
  return telnet::subnegotiation(telnet::kOptionComPort, payload);
}

std::string describe_value(const telnet::Bytes& value) {
  if (value.size() == 4) {
    const std::uint32_t number = (std::uint32_t{value[0]} << 24) | (std::uint32_t{value[1]} << 16) |
                                 (std::uint32_t{value[2]} << 8) | value[3];
    return std::to_string(number);
  }
  if (value.size() == 1) return std::to_string(value[0]);
  return std::to_string(value.size()) + " bytes";
}

}  // namespace

std::string command_name(std::uint8_t client_code) {
  switch (static_cast<Command>(client_code)) {
    case Command::Signature:
      return "SIGNATURE";
    case Command::SetBaudRate:
      return "SET-BAUDRATE";
    case Command::SetDataSize:
      return "SET-DATASIZE";
    case Command::SetParity:
      return "SET-PARITY";
    case Command::SetStopSize:
      return "SET-STOPSIZE";
    case Command::SetControl:
      return "SET-CONTROL";
    case Command::NotifyLineState:
      return "NOTIFY-LINESTATE";
    case Command::NotifyModemState:
      return "NOTIFY-MODEMSTATE";
    case Command::FlowControlSuspend:
      return "FLOWCONTROL-SUSPEND";
    case Command::FlowControlResume:
      return "FLOWCONTROL-RESUME";
    case Command::SetLineStateMask:
      return "SET-LINESTATE-MASK";
    case Command::SetModemStateMask:
      return "SET-MODEMSTATE-MASK";
    case Command::PurgeData:
      return "PURGE-DATA";
  }
  return "command " + std::to_string(client_code);
}

std::vector<telnet::Bytes> line_setting_requests(const LineSettings& s) {
  const std::uint32_t baud = s.baud_rate;
  return {
      com_port(Command::SetBaudRate,
               {static_cast<std::uint8_t>(baud >> 24), static_cast<std::uint8_t>(baud >> 16),
                static_cast<std::uint8_t>(baud >> 8), static_cast<std::uint8_t>(baud)}),
      com_port(Command::SetDataSize, {s.data_bits}),
      com_port(Command::SetParity, {s.parity}),
      com_port(Command::SetStopSize, {s.stop_bits}),
      com_port(Command::SetControl, {s.control}),
  };
}

std::optional<ServerMessage> parse_server_message(const telnet::Subnegotiation& sub) {
  if (sub.option != telnet::kOptionComPort || sub.payload.empty()) return std::nullopt;
  if (sub.payload[0] < kServerOffset) return std::nullopt;
  return ServerMessage{static_cast<std::uint8_t>(sub.payload[0] - kServerOffset),
                       telnet::Bytes(sub.payload.begin() + 1, sub.payload.end())};
}

telnet::Bytes signature_reply(const std::string& signature) {
  return com_port(Command::Signature, telnet::Bytes(signature.begin(), signature.end()));
}

std::optional<std::string> LineSettingsConfirmation::on_message(const ServerMessage& message) {
  telnet::Bytes expected;
  switch (static_cast<Command>(message.command)) {
    case Command::SetBaudRate: {
      const std::uint32_t baud = wanted_.baud_rate;
      expected = {static_cast<std::uint8_t>(baud >> 24), static_cast<std::uint8_t>(baud >> 16),
                  static_cast<std::uint8_t>(baud >> 8), static_cast<std::uint8_t>(baud)};
      break;
    }
    case Command::SetDataSize:
      expected = {wanted_.data_bits};
      break;
    case Command::SetParity:
      expected = {wanted_.parity};
      break;
    case Command::SetStopSize:
      expected = {wanted_.stop_bits};
      break;
    case Command::SetControl:
      expected = {wanted_.control};
      break;
    default:
      return std::nullopt;
  }
  if (message.value != expected) {
    return "the server answered " + command_name(message.command) + " with " +
           describe_value(message.value) + ", not the " + describe_value(expected) + " asked for";
  }
  acknowledged_ |= 1u << (message.command - 1);
  return std::nullopt;
}

std::string LineSettingsConfirmation::missing() const {
  std::string names;
  for (std::uint8_t command = 1; command <= 5; ++command) {
    if (acknowledged_ & (1u << (command - 1))) continue;
    if (!names.empty()) names += ", ";
    names += command_name(command);
  }
  return names;
}

}  // namespace derma::transport::rfc2217
