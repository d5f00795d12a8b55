// The Telnet layer of an RFC 2217 link (RFC 854 framing, RFC 855 subnegotiation, RFC 1143
// option negotiation), as a pure codec: bytes in, data and events out, no I/O. The
// rfc2217 transport feeds it what the socket reads and writes what it returns.
//
// On the wire a data byte 0xFF (IAC) is doubled; everything else after an IAC is a command:
//   IAC WILL|WONT|DO|DONT OPTION          option negotiation
//   IAC SB OPTION bytes... IAC SE         subnegotiation (0xFF inside is doubled too)
//   IAC NOP|DM|BRK|IP|AO|AYT|EC|EL|GA     one-byte commands, ignored by a byte pipe
// With BINARY negotiated both ways (as ser2net offers) CR and NUL are plain data bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace derma::transport::telnet {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// Command bytes (RFC 854).
inline constexpr std::uint8_t kIac = 255;
inline constexpr std::uint8_t kDont = 254;
inline constexpr std::uint8_t kDo = 253;
inline constexpr std::uint8_t kWont = 252;
inline constexpr std::uint8_t kWill = 251;
inline constexpr std::uint8_t kSb = 250;
inline constexpr std::uint8_t kSe = 240;

// Options a serial client meets.
inline constexpr std::uint8_t kOptionBinary = 0;           // RFC 856: 8-bit clean data
inline constexpr std::uint8_t kOptionEcho = 1;             // RFC 857: refused, a rig echoes nothing
inline constexpr std::uint8_t kOptionSuppressGoAhead = 3;  // RFC 858: full duplex
inline constexpr std::uint8_t kOptionComPort = 44;         // RFC 2217: COM-PORT-OPTION

// "WILL", "DO", ... for messages; "command 241" for anything else.
std::string verb_name(std::uint8_t verb);
// "BINARY", "COM-PORT-OPTION", ... or "option 24".
std::string option_name(std::uint8_t option);

// Appends `data` to `out` with every 0xFF doubled, ready to send.
void escape_into(ByteView data, Bytes& out);

// IAC VERB OPTION.
Bytes negotiation(std::uint8_t verb, std::uint8_t option);
// IAC SB OPTION payload (0xFF doubled) IAC SE.
Bytes subnegotiation(std::uint8_t option, ByteView payload);

struct Negotiation {
  std::uint8_t verb = 0;  // kWill, kWont, kDo or kDont
  std::uint8_t option = 0;
};
struct Subnegotiation {
  std::uint8_t option = 0;
  Bytes payload;  // unescaped
};
using Event = std::variant<Negotiation, Subnegotiation>;

// Splits the byte stream from the peer into data and events. Commands may be split across
// any number of feeds (a read can end between IAC and its second byte).
class Decoder {
 public:
  // A subnegotiation longer than this is not RFC 2217's; it is dropped, not buffered forever.
  static constexpr std::size_t kMaxSubnegotiationBytes = 512;

  // Appends the data bytes of `wire` to `data` and the commands it completes to `events`.
  void feed(ByteView wire, Bytes& data, std::vector<Event>& events);

  // Malformed input seen so far (IAC followed by a byte that is no command, an over-long or
  // unterminated subnegotiation): each is skipped, and counted so a log can say so.
  std::size_t protocol_errors() const { return protocol_errors_; }

 private:
  enum class State { Data, Iac, Verb, SbOption, SbData, SbIac };
  State state_ = State::Data;
  std::uint8_t verb_ = 0;
  Subnegotiation sub_;
  bool sub_overflow_ = false;
  std::size_t protocol_errors_ = 0;
};

// Which options this end wants on, and the RFC 1143 ("Q method") state of each, so that
// every request is answered exactly once and negotiation can never loop. "Local" options
// are the ones this end performs (WILL/WONT from us, DO/DONT from the peer); "remote" ones
// the peer performs (DO/DONT from us, WILL/WONT from the peer).
class OptionNegotiator {
 public:
  // Options not listed are refused (DONT to WILL, WONT to DO) and stay off.
  OptionNegotiator(std::vector<std::uint8_t> wanted_local, std::vector<std::uint8_t> wanted_remote);

  // The requests that open the negotiation: WILL for every wanted local option, DO for every
  // wanted remote one. Idempotent: an option already asked for is not asked again.
  Bytes request_wanted();

  // The reply to the peer's negotiation (possibly none: acknowledgements are not answered).
  Bytes on_negotiation(const Negotiation& negotiation);

  bool local_enabled(std::uint8_t option) const { return local_[option] == Q::Yes; }
  bool remote_enabled(std::uint8_t option) const { return remote_[option] == Q::Yes; }
  // The peer said no to an option we asked for (WONT/DONT answering our request).
  bool local_refused(std::uint8_t option) const { return local_refused_[option]; }
  bool remote_refused(std::uint8_t option) const { return remote_refused_[option]; }

 private:
  enum class Q : std::uint8_t { No, Yes, WantNo, WantYes };
  bool wants_local(std::uint8_t option) const;
  bool wants_remote(std::uint8_t option) const;

  std::vector<std::uint8_t> wanted_local_;
  std::vector<std::uint8_t> wanted_remote_;
  std::array<Q, 256> local_{};
  std::array<Q, 256> remote_{};
  std::array<bool, 256> local_refused_{};
  std::array<bool, 256> remote_refused_{};
};

}  // namespace derma::transport::telnet
