// RFC 2217 COM-PORT-OPTION messages, carried in Telnet subnegotiations (telnet_codec.hpp):
// setting the remote serial line and reading the server's acknowledgements. Pure, no I/O.
//
// The client sends IAC SB COM-PORT-OPTION <command> <value> IAC SE; the server answers each
// with <command + 100> and the value it actually set. It may also send, unasked,
// NOTIFY-LINESTATE / NOTIFY-MODEMSTATE (line and modem events), FLOWCONTROL-SUSPEND /
// -RESUME, or a SIGNATURE request; a rig link needs none of these, so they are tolerated.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "drivers/transport/telnet_codec.hpp"

namespace derma::transport::rfc2217 {

// Client-to-server command codes; the server's are these plus kServerOffset.
enum class Command : std::uint8_t {
  Signature = 0,
  SetBaudRate = 1,
  SetDataSize = 2,
  SetParity = 3,
  SetStopSize = 4,
  SetControl = 5,
  NotifyLineState = 6,
  NotifyModemState = 7,
  FlowControlSuspend = 8,
  FlowControlResume = 9,
  SetLineStateMask = 10,
  SetModemStateMask = 11,
  PurgeData = 12,
};
inline constexpr std::uint8_t kServerOffset = 100;

// "SET-BAUDRATE", ...; "command 42" for an unknown code.
std::string command_name(std::uint8_t client_code);

// Value codes of RFC 2217 section 3 (0 would mean "ask the current value").
inline constexpr std::uint8_t kParityNone = 1;
inline constexpr std::uint8_t kStopBitsOne = 1;
inline constexpr std::uint8_t kControlNoFlowControl = 1;

// What the rig link needs: the protocol's UART is 921,600 baud 8N1 without flow control.
struct LineSettings {
  std::uint32_t baud_rate = 921'600;
  std::uint8_t data_bits = 8;
  std::uint8_t parity = kParityNone;
  std::uint8_t stop_bits = kStopBitsOne;
  std::uint8_t control = kControlNoFlowControl;  // SET-CONTROL value: outbound flow control
};

// One subnegotiation per setting: SET-BAUDRATE (4 bytes, network order), SET-DATASIZE,
// SET-PARITY, SET-STOPSIZE, SET-CONTROL; each ready to send.
std::vector<telnet::Bytes> line_setting_requests(const LineSettings& settings);

// A COM-PORT-OPTION message from the server: `command` is the client code it answers or
// notifies (the wire code minus 100).
struct ServerMessage {
  std::uint8_t command = 0;
  telnet::Bytes value;
};
// nullopt for another option's subnegotiation, or a code below 100 (a client's code).
std::optional<ServerMessage> parse_server_message(const telnet::Subnegotiation& sub);

// Our answer to the server's SIGNATURE request (an empty SIGNATURE): our name.
telnet::Bytes signature_reply(const std::string& signature);

// Follows the server's acknowledgements of line_setting_requests().
class LineSettingsConfirmation {
 public:
  explicit LineSettingsConfirmation(LineSettings wanted) : wanted_(wanted) {}

  // Records the server's message. Returns a description when the server acknowledged a
  // setting with a value other than the one asked for (it could not set the line so).
  // Messages that are no acknowledgement of a line setting are ignored.
  std::optional<std::string> on_message(const ServerMessage& message);

  bool complete() const { return acknowledged_ == kAll; }
  // The settings not acknowledged yet, e.g. "SET-PARITY, SET-CONTROL".
  std::string missing() const;

 private:
  static constexpr unsigned kAll = 0b11111;  // bits 0..4: commands 1..5
  LineSettings wanted_;
  unsigned acknowledged_ = 0;
};

}  // namespace derma::transport::rfc2217
