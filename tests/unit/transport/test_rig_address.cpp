#include <catch2/catch.hpp>

#include "drivers/transport/port_enumeration.hpp"
#include "drivers/transport/rig_address.hpp"

using namespace derma::transport;

namespace {
RigAddress parsed(std::string_view text) {
  auto address = parse_rig_address(text);
  INFO(text);
  REQUIRE(address.has_value());
  return *address;
}
TransportError parse_error(std::string_view text) {
  auto address = parse_rig_address(text);
  INFO(text);
  REQUIRE_FALSE(address.has_value());
  return address.error();
}
}  // namespace

TEST_CASE("'sim' names the virtual rig") {
  CHECK(std::holds_alternative<SimAddress>(parsed("sim")));
}

TEST_CASE("any other plain string is a device path, symlinks and relative paths included") {
  for (const char* path : {"/dev/ttyACM0", "/tmp/rigsim-link", "rig.pty", "/dev/serial/by-id/x"}) {
    const auto address = parsed(path);
    REQUIRE(std::holds_alternative<DeviceAddress>(address));
    CHECK(std::get<DeviceAddress>(address).path == path);
  }
}

TEST_CASE("usb:SERIAL names a port by its USB serial number") {
  const auto address = parsed("usb:DR-RIG-0042");
  REQUIRE(std::holds_alternative<UsbSerialAddress>(address));
  CHECK(std::get<UsbSerialAddress>(address).serial_number == "DR-RIG-0042");
  CHECK(parse_error("usb:").message.find("missing serial number") != std::string::npos);
}

TEST_CASE("tcp:// and rfc2217:// addresses parse host and port") {
  SECTION("a host name") {
    const auto address = parsed("tcp://rig-3.lab:4001");
    REQUIRE(std::holds_alternative<TcpAddress>(address));
    CHECK(std::get<TcpAddress>(address).host == "rig-3.lab");
    CHECK(std::get<TcpAddress>(address).port == 4001);
  }
  SECTION("an IPv6 literal in brackets") {
    const auto address = parsed("rfc2217://[::1]:2217");
    REQUIRE(std::holds_alternative<Rfc2217Address>(address));
    CHECK(std::get<Rfc2217Address>(address).host == "::1");
    CHECK(std::get<Rfc2217Address>(address).port == 2217);
  }
}

TEST_CASE("malformed network addresses are rejected with the reason") {
  CHECK(parse_error("tcp://rig-3").message.find("missing ':PORT'") != std::string::npos);
  CHECK(parse_error("tcp://rig-3:0").message.find("1..65535") != std::string::npos);
  CHECK(parse_error("tcp://rig-3:70000").message.find("1..65535") != std::string::npos);
  CHECK(parse_error("tcp://rig-3:40x1").message.find("1..65535") != std::string::npos);
  CHECK(parse_error("tcp://:4001").message.find("empty host") != std::string::npos);
  CHECK(parse_error("tcp://::1:4001").message.find("brackets") != std::string::npos);
  CHECK(parse_error("ftp://rig:21").message.find("unknown scheme 'ftp'") != std::string::npos);
  const auto empty = parse_error("");
  CHECK(empty.kind == TransportError::Kind::BadAddress);
  CHECK(empty.message.find("empty") != std::string::npos);
}

TEST_CASE("an address prints back to the text it was parsed from") {
  for (const char* text :
       {"sim", "/dev/ttyACM0", "usb:SN1", "tcp://host:4001", "rfc2217://[fe80::1]:2217"}) {
    CHECK(to_string(parsed(text)) == text);
  }
}

TEST_CASE("the sim address cannot be opened as a link and says why") {
  const auto sim = open_transport(SimAddress{});
  REQUIRE_FALSE(sim.has_value());
  CHECK(sim.error().kind == TransportError::Kind::Unsupported);
  CHECK(sim.error().message.find("rigsim") != std::string::npos);
}

TEST_CASE("a USB serial number resolves to the one port that carries it") {
  std::vector<PortInfo> ports(3);
  ports[0].name = "/dev/ttyS0";
  ports[0].kind = PortKind::Native;
  ports[1].name = "/dev/ttyACM0";
  ports[1].kind = PortKind::Usb;
  ports[1].serial_number = "RIG-A";
  ports[2].name = "/dev/ttyACM1";
  ports[2].kind = PortKind::Usb;
  ports[2].serial_number = "RIG-B";

  SECTION("an exact match") {
    const auto path = find_port_by_usb_serial("RIG-B", ports);
    REQUIRE(path.has_value());
    CHECK(*path == "/dev/ttyACM1");
  }
  SECTION("no match names the serial and the serials present") {
    const auto path = find_port_by_usb_serial("RIG-C", ports);
    REQUIRE_FALSE(path.has_value());
    CHECK(path.error().kind == TransportError::Kind::NotFound);
    CHECK(path.error().message.find("'RIG-C'") != std::string::npos);
    CHECK(path.error().message.find("RIG-A (/dev/ttyACM0)") != std::string::npos);
  }
  SECTION("a serial shared by two ports is ambiguous") {
    ports[0].serial_number = "RIG-B";
    const auto path = find_port_by_usb_serial("RIG-B", ports);
    REQUIRE_FALSE(path.has_value());
    CHECK(path.error().message.find("ambiguous") != std::string::npos);
  }
}

TEST_CASE("a USB port shows its identity as lower-case VID:PID") {
  PortInfo port;
  CHECK(usb_id(port).empty());
  port.usb_vid = 0x2341;
  port.usb_pid = 0x8036;
  CHECK(usb_id(port) == "2341:8036");
}
