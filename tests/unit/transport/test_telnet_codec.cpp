#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "drivers/transport/com_port_control.hpp"
#include "drivers/transport/telnet_codec.hpp"

using namespace derma::transport;
using namespace derma::transport::telnet;

namespace {

struct Decoded {
  Bytes data;
  std::vector<Event> events;
};

// Feeds every chunk in turn to one decoder, as successive socket reads would.
Decoded decode(Decoder& decoder, const std::vector<Bytes>& chunks) {
  Decoded out;
  for (const Bytes& chunk : chunks) decoder.feed(chunk, out.data, out.events);
  return out;
}

Decoded decode(const std::vector<Bytes>& chunks) {
  Decoder decoder;
  return decode(decoder, chunks);
}

// Every way of cutting `wire` into two reads.
std::vector<std::vector<Bytes>> all_splits(const Bytes& wire) {
  std::vector<std::vector<Bytes>> splits;
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    splits.push_back({Bytes(wire.begin(), wire.begin() + static_cast<long>(cut)),
                      Bytes(wire.begin() + static_cast<long>(cut), wire.end())});
  }
  return splits;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

// What ser2net 4.3 sends first on a `telnet(rfc2217)` port (captured on loopback):
// WILL SGA, DO SGA, WILL ECHO, DONT ECHO, DO BINARY, WILL BINARY, DO COM-PORT-OPTION.
const Bytes kSer2netGreeting = {0xff, 0xfb, 0x03, 0xff, 0xfd, 0x03, 0xff, 0xfb, 0x01, 0xff, 0xfe,
                                0x01, 0xff, 0xfd, 0x00, 0xff, 0xfb, 0x00, 0xff, 0xfd, 0x2c};

// And its answer to our five line settings, led by an unasked NOTIFY-MODEMSTATE.
const Bytes kSer2netAcknowledgements = {
    0xff, 0xfa, 0x2c, 0x6b, 0x00, 0xff, 0xf0,                    // NOTIFY-MODEMSTATE 0
    0xff, 0xfd, 0x03,                                            // DO SGA, again
    0xff, 0xfa, 0x2c, 0x65, 0x00, 0x0e, 0x10, 0x00, 0xff, 0xf0,  // baud 921600
    0xff, 0xfa, 0x2c, 0x66, 0x08, 0xff, 0xf0,                    // 8 data bits
    0xff, 0xfa, 0x2c, 0x67, 0x01, 0xff, 0xf0,                    // no parity
    0xff, 0xfa, 0x2c, 0x68, 0x01, 0xff, 0xf0,                    // 1 stop bit
    0xff, 0xfa, 0x2c, 0x69, 0x01, 0xff, 0xf0,                    // no flow control
};

OptionNegotiator rig_client_options() {
  return OptionNegotiator({kOptionBinary, kOptionSuppressGoAhead, kOptionComPort},
                          {kOptionBinary, kOptionSuppressGoAhead});
}

}  // namespace

TEST_CASE("a data byte 0xFF is doubled on the way out and single again on the way in") {
  const Bytes data = {0x01, 0xff, 0x00, 0xff, 0xff, 0x0d, 0x0a, 0x7f};
  Bytes wire;
  escape_into(data, wire);
  CHECK(wire == Bytes{0x01, 0xff, 0xff, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0d, 0x0a, 0x7f});

  const Decoded decoded = decode({wire});
  CHECK(decoded.data == data);
  CHECK(decoded.events.empty());
}

TEST_CASE("an escaped 0xFF split across two reads is still one data byte") {
  const Bytes wire = {0x01, 0xff, 0xff, 0x02, 0xff, 0xff};
  for (const auto& split : all_splits(wire)) {
    const Decoded decoded = decode(split);
    CHECK(decoded.data == Bytes{0x01, 0xff, 0x02, 0xff});
    CHECK(decoded.events.empty());
  }
}

TEST_CASE("a negotiation split anywhere arrives whole, between the data around it") {
  const Bytes wire = {0x41, 0xff, kWill, kOptionEcho, 0x42};
  for (const auto& split : all_splits(wire)) {
    const Decoded decoded = decode(split);
    CHECK(decoded.data == Bytes{0x41, 0x42});
    REQUIRE(decoded.events.size() == 1);
    const auto* negotiation = std::get_if<Negotiation>(&decoded.events[0]);
    REQUIRE(negotiation != nullptr);
    CHECK(negotiation->verb == kWill);
    CHECK(negotiation->option == kOptionEcho);
  }
}

TEST_CASE("a subnegotiation is parsed with its escaped 0xFF undone, however the reads split it") {
  // SET-BAUDRATE 255 as a server would acknowledge it: the value's 0xFF is doubled.
  const Bytes wire = subnegotiation(kOptionComPort, Bytes{101, 0x00, 0x00, 0x00, 0xff});
  CHECK(wire == Bytes{0xff, 0xfa, 44, 101, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xf0});

  SECTION("split in two anywhere") {
    for (const auto& split : all_splits(wire)) {
      const Decoded decoded = decode(split);
      REQUIRE(decoded.events.size() == 1);
      const auto& sub = std::get<Subnegotiation>(decoded.events[0]);
      CHECK(sub.option == kOptionComPort);
      CHECK(sub.payload == Bytes{101, 0x00, 0x00, 0x00, 0xff});
      CHECK(decoded.data.empty());
    }
  }
  SECTION("fed one byte at a time") {
    std::vector<Bytes> bytes;
    for (std::uint8_t byte : wire) bytes.push_back({byte});
    const Decoded decoded = decode(bytes);
    REQUIRE(decoded.events.size() == 1);
    CHECK(std::get<Subnegotiation>(decoded.events[0]).payload == Bytes{101, 0, 0, 0, 0xff});
  }
}

TEST_CASE("one-byte Telnet commands are swallowed and malformed ones skipped and counted") {
  Decoder decoder;
  // NOP and GA are commands a byte pipe ignores; IAC 0x41 is no command at all.
  const Decoded decoded = decode(decoder, {{0x01, 0xff, 241, 0x02, 0xff, 249, 0x03, 0xff, 0x41}});
  CHECK(decoded.data == Bytes{0x01, 0x02, 0x03});
  CHECK(decoded.events.empty());
  CHECK(decoder.protocol_errors() == 1);
}

TEST_CASE("a subnegotiation cut short by another command is dropped and the command still read") {
  Decoder decoder;
  const Decoded decoded =
      decode(decoder, {{0xff, kSb, kOptionComPort, 106, 0x10, 0xff, kDo, kOptionBinary, 0x55}});
  REQUIRE(decoded.events.size() == 1);
  CHECK(std::get<Negotiation>(decoded.events[0]).verb == kDo);
  CHECK(decoded.data == Bytes{0x55});
  CHECK(decoder.protocol_errors() == 1);
}

TEST_CASE("an endless subnegotiation is dropped rather than buffered without bound") {
  Decoder decoder;
  Bytes wire = {0xff, kSb, kOptionComPort};
  wire.resize(wire.size() + Decoder::kMaxSubnegotiationBytes + 100, 0x07);
  wire.insert(wire.end(), {0xff, kSe, 0x33});
  const Decoded decoded = decode(decoder, {wire});
  CHECK(decoded.events.empty());
  CHECK(decoded.data == Bytes{0x33});
  CHECK(decoder.protocol_errors() == 1);
}

TEST_CASE("the client asks once for the options it needs") {
  OptionNegotiator options = rig_client_options();
  CHECK(options.request_wanted() ==
        concat({negotiation(kWill, kOptionBinary), negotiation(kWill, kOptionSuppressGoAhead),
                negotiation(kWill, kOptionComPort), negotiation(kDo, kOptionBinary),
                negotiation(kDo, kOptionSuppressGoAhead)}));
  CHECK(options.request_wanted().empty());  // asked already: not again
}

TEST_CASE("options the client does not want are refused, and only once") {
  OptionNegotiator options = rig_client_options();
  // The server offers to echo and asks us for a terminal type (option 24).
  CHECK(options.on_negotiation({kWill, kOptionEcho}) == negotiation(kDont, kOptionEcho));
  CHECK(options.on_negotiation({kDo, 24}) == negotiation(kWont, 24));
  CHECK_FALSE(options.remote_enabled(kOptionEcho));
  CHECK_FALSE(options.local_enabled(24));
  // Its acknowledgement of the refusal is not answered (that would loop).
  CHECK(options.on_negotiation({kWont, kOptionEcho}).empty());
  CHECK(options.on_negotiation({kDont, 24}).empty());
}

TEST_CASE("ser2net's greeting crossing our requests settles with one refusal and no loop") {
  OptionNegotiator options = rig_client_options();
  options.request_wanted();
  Bytes replies;
  for (const Event& event : decode({kSer2netGreeting}).events) {
    const Bytes reply = options.on_negotiation(std::get<Negotiation>(event));
    replies.insert(replies.end(), reply.begin(), reply.end());
  }
  CHECK(replies == negotiation(kDont, kOptionEcho));
  CHECK(options.local_enabled(kOptionBinary));
  CHECK(options.remote_enabled(kOptionBinary));
  CHECK(options.local_enabled(kOptionSuppressGoAhead));
  CHECK(options.remote_enabled(kOptionSuppressGoAhead));
  CHECK(options.local_enabled(kOptionComPort));
  CHECK_FALSE(options.remote_enabled(kOptionEcho));
}

TEST_CASE("a wanted option the peer offers first is accepted once") {
  OptionNegotiator options = rig_client_options();
  CHECK(options.on_negotiation({kDo, kOptionComPort}) == negotiation(kWill, kOptionComPort));
  CHECK(options.local_enabled(kOptionComPort));
  CHECK(options.on_negotiation({kDo, kOptionComPort}).empty());
  // Our own request is then not sent again.
  const Bytes requests = options.request_wanted();
  const Bytes will_com_port = negotiation(kWill, kOptionComPort);
  CHECK(std::search(requests.begin(), requests.end(), will_com_port.begin(), will_com_port.end()) ==
        requests.end());
  CHECK_FALSE(requests.empty());  // the other wanted options are still asked for
}

TEST_CASE("a request the server refuses is recorded as refused") {
  OptionNegotiator options = rig_client_options();
  options.request_wanted();
  CHECK(options.on_negotiation({kDont, kOptionComPort}).empty());
  CHECK(options.local_refused(kOptionComPort));
  CHECK_FALSE(options.local_enabled(kOptionComPort));
  CHECK_FALSE(options.local_refused(kOptionBinary));
}

TEST_CASE("a server turning an enabled option off is agreed to once") {
  OptionNegotiator options = rig_client_options();
  options.request_wanted();
  options.on_negotiation({kWill, kOptionBinary});
  REQUIRE(options.remote_enabled(kOptionBinary));
  CHECK(options.on_negotiation({kWont, kOptionBinary}) == negotiation(kDont, kOptionBinary));
  CHECK_FALSE(options.remote_enabled(kOptionBinary));
  CHECK(options.on_negotiation({kWont, kOptionBinary}).empty());
}

// ---- RFC 2217 COM-PORT-OPTION ---------------------------------------------------------------

TEST_CASE("the rig's line settings go out as 921600 baud in network order, 8N1, no flow control") {
  const auto requests = rfc2217::line_setting_requests({});
  REQUIRE(requests.size() == 5);
  CHECK(requests[0] == Bytes{0xff, 0xfa, 44, 1, 0x00, 0x0e, 0x10, 0x00, 0xff, 0xf0});
  CHECK(requests[1] == Bytes{0xff, 0xfa, 44, 2, 8, 0xff, 0xf0});
  CHECK(requests[2] == Bytes{0xff, 0xfa, 44, 3, 1, 0xff, 0xf0});
  CHECK(requests[3] == Bytes{0xff, 0xfa, 44, 4, 1, 0xff, 0xf0});
  CHECK(requests[4] == Bytes{0xff, 0xfa, 44, 5, 1, 0xff, 0xf0});
}

TEST_CASE("a baud rate containing a 0xFF byte is escaped inside its subnegotiation") {
  rfc2217::LineSettings settings;
  settings.baud_rate = 0x0001'C2FF;
  const auto requests = rfc2217::line_setting_requests(settings);
  CHECK(requests[0] == Bytes{0xff, 0xfa, 44, 1, 0x00, 0x01, 0xc2, 0xff, 0xff, 0xff, 0xf0});
}

TEST_CASE(
    "ser2net's acknowledgements confirm every line setting and its notifications are no acks") {
  rfc2217::LineSettingsConfirmation confirmation({});
  CHECK(confirmation.missing() ==
        "SET-BAUDRATE, SET-DATASIZE, SET-PARITY, SET-STOPSIZE, SET-CONTROL");
  std::vector<std::uint8_t> seen;
  for (const Event& event : decode({kSer2netAcknowledgements}).events) {
    const auto* sub = std::get_if<Subnegotiation>(&event);
    if (!sub) continue;
    const auto message = rfc2217::parse_server_message(*sub);
    REQUIRE(message.has_value());
    seen.push_back(message->command);
    CHECK_FALSE(confirmation.on_message(*message).has_value());
  }
  CHECK(seen == std::vector<std::uint8_t>{7, 1, 2, 3, 4, 5});
  CHECK(confirmation.complete());
  CHECK(confirmation.missing().empty());
}

TEST_CASE("an acknowledgement with another value than asked names the setting and both values") {
  rfc2217::LineSettingsConfirmation confirmation({});
  const auto problem = confirmation.on_message({1, {0x00, 0x01, 0xc2, 0x00}});  // 115200
  REQUIRE(problem.has_value());
  CHECK(problem->find("SET-BAUDRATE") != std::string::npos);
  CHECK(problem->find("115200") != std::string::npos);
  CHECK(problem->find("921600") != std::string::npos);
  CHECK_FALSE(confirmation.complete());
  CHECK(confirmation.missing().starts_with("SET-BAUDRATE"));
}

TEST_CASE("only COM-PORT-OPTION messages in the server's code range are server messages") {
  CHECK_FALSE(rfc2217::parse_server_message({kOptionBinary, {101, 0, 0, 0, 1}}).has_value());
  CHECK_FALSE(rfc2217::parse_server_message({kOptionComPort, {1, 0, 0, 0, 1}}).has_value());
  CHECK_FALSE(rfc2217::parse_server_message({kOptionComPort, {}}).has_value());
  const auto notify = rfc2217::parse_server_message({kOptionComPort, {106, 0x60}});
  REQUIRE(notify.has_value());
  CHECK(rfc2217::command_name(notify->command) == "NOTIFY-LINESTATE");
  CHECK(notify->value == Bytes{0x60});
}

TEST_CASE("a signature request is answered with our name") {
  CHECK(rfc2217::signature_reply("dermabench") ==
        concat({{0xff, 0xfa, 44, 0},
                Bytes{'d', 'e', 'r', 'm', 'a', 'b', 'e', 'n', 'c', 'h'},
                {0xff, 0xf0}}));
}
