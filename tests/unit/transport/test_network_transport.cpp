// tcp:// and rfc2217:// transports against scripted servers on loopback. The real ser2net
// is exercised end to end by tests/integration/test_remote_rig.py; these cover what a real
// server rarely does (refusing, mis-setting the line, hanging up mid-negotiation).
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "drivers/transport/rfc2217_transport.hpp"
#include "drivers/transport/rig_address.hpp"
#include "drivers/transport/tcp_transport.hpp"

using namespace derma::transport;
using Bytes = std::vector<std::uint8_t>;
using boost::asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// A one-connection server on 127.0.0.1 running `script` on its own thread. Its socket gives
// up on a read after 5 s, so a client that misbehaves fails the test instead of hanging it.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::function<void(tcp::socket&)> script)
      : acceptor_(io_, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0)),
        port_(acceptor_.local_endpoint().port()) {
    thread_ = std::thread([this, script = std::move(script)] {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      accepted_ = !ec;
      if (ec) return;
      const timeval limit{5, 0};
      ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
      script(socket);
    });
  }
  ~ScriptedServer() { wait(); }
  // Waits for the script to end; what it recorded may be read after this.
  void wait() {
    if (!thread_.joinable()) return;
    if (!accepted_) ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // unblocks accept()
    thread_.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  std::uint16_t port_;
  std::atomic<bool> accepted_{false};
  std::thread thread_;
};

bool contains(const Bytes& haystack, const Bytes& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

// Server side: reads until `needle` has arrived (or the peer closes, or 5 s pass).
Bytes read_until(tcp::socket& socket, const Bytes& needle, Bytes& seen) {
  std::array<std::uint8_t, 512> buffer{};
  boost::system::error_code ec;
  while (!contains(seen, needle)) {
    const std::size_t n = socket.read_some(boost::asio::buffer(buffer), ec);
    if (ec) break;
    seen.insert(seen.end(), buffer.begin(), buffer.begin() + static_cast<long>(n));
  }
  return seen;
}

void read_until_closed(tcp::socket& socket) {
  std::array<std::uint8_t, 512> buffer{};
  boost::system::error_code ec;
  while (!ec) socket.read_some(boost::asio::buffer(buffer), ec);
}

void send(tcp::socket& socket, const Bytes& bytes) {
  boost::system::error_code ignored;
  boost::asio::write(socket, boost::asio::buffer(bytes), ignored);
}

// Client side: runs the transport's context until one read completes.
std::pair<boost::system::error_code, Bytes> read_once(Transport& link) {
  std::array<std::uint8_t, 256> buffer{};
  boost::system::error_code result = boost::asio::error::timed_out;
  std::size_t got = 0;
  bool done = false;
  link.async_read_some(boost::asio::buffer(buffer), [&](auto ec, std::size_t n) {
    result = ec;
    got = n;
    done = true;
  });
  link.context().restart();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done && std::chrono::steady_clock::now() < deadline) link.context().run_for(20ms);
  return {result, Bytes(buffer.begin(), buffer.begin() + static_cast<long>(got))};
}

// Reads until `count` data bytes have arrived or a read fails.
Bytes read_exactly(Transport& link, std::size_t count) {
  Bytes data;
  while (data.size() < count) {
    auto [ec, bytes] = read_once(link);
    INFO(ec.message());
    REQUIRE_FALSE(ec);
    data.insert(data.end(), bytes.begin(), bytes.end());
  }
  return data;
}

std::pair<boost::system::error_code, std::size_t> write_once(Transport& link, const Bytes& bytes) {
  boost::system::error_code result = boost::asio::error::timed_out;
  std::size_t written = 0;
  bool done = false;
  link.async_write(boost::asio::buffer(bytes), [&](auto ec, std::size_t n) {
    result = ec;
    written = n;
    done = true;
  });
  link.context().restart();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done && std::chrono::steady_clock::now() < deadline) link.context().run_for(20ms);
  return {result, written};
}

// A port on loopback that nothing listens on (bound, then released).
std::uint16_t closed_port() {
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  return acceptor.local_endpoint().port();
}

// ser2net 4.3's greeting on a telnet(rfc2217) port, and the end of our line settings.
const Bytes kGreeting = {0xff, 0xfb, 0x03, 0xff, 0xfd, 0x03, 0xff, 0xfb, 0x01, 0xff, 0xfe,
                         0x01, 0xff, 0xfd, 0x00, 0xff, 0xfb, 0x00, 0xff, 0xfd, 0x2c};
const Bytes kSetControlNoFlow = {0xff, 0xfa, 0x2c, 0x05, 0x01, 0xff, 0xf0};

Bytes acknowledgements(Bytes baud = {0x00, 0x0e, 0x10, 0x00}) {
  Bytes out = {0xff, 0xfa, 0x2c, 0x65};
  out.insert(out.end(), baud.begin(), baud.end());
  out.insert(out.end(), {0xff, 0xf0, 0xff, 0xfa, 0x2c, 0x66, 0x08, 0xff, 0xf0, 0xff,
                         0xfa, 0x2c, 0x67, 0x01, 0xff, 0xf0, 0xff, 0xfa, 0x2c, 0x68,
                         0x01, 0xff, 0xf0, 0xff, 0xfa, 0x2c, 0x69, 0x01, 0xff, 0xf0});
  return out;
}

std::string name_of(std::uint16_t port, const char* scheme) {
  return std::string(scheme) + "://127.0.0.1:" + std::to_string(port);
}

}  // namespace

TEST_CASE("a tcp link carries bytes both ways unchanged and a server hanging up is a disconnect") {
  Bytes from_client;
  ScriptedServer server([&](tcp::socket& socket) {
    send(socket, {0x00, 0xff, 0x01, 0x0d});
    read_until(socket, {0x0d, 0x0a}, from_client);
    // Closing here is ser2net going away.
  });
  auto opened = open_transport(TcpAddress{"127.0.0.1", server.port()});
  INFO((opened ? "" : opened.error().message));
  REQUIRE(opened.has_value());
  Transport& link = **opened;
  CHECK(link.describe() == name_of(server.port(), "tcp"));
  CHECK(link.is_open());

  CHECK(read_exactly(link, 4) == Bytes{0x00, 0xff, 0x01, 0x0d});
  const auto [write_ec, written] = write_once(link, {0xff, 0x00, 0x0d, 0x0a});
  CHECK_FALSE(write_ec);
  CHECK(written == 4);

  const auto [ec, rest] = read_once(link);
  CHECK(ec == boost::asio::error::eof);
  CHECK(is_disconnect(ec));
  link.close();
  server.wait();
  CHECK(from_client == Bytes{0xff, 0x00, 0x0d, 0x0a});
}

TEST_CASE("connecting where nothing listens names the address and says the server is not there") {
  const std::uint16_t port = closed_port();
  for (const std::string& text : {name_of(port, "tcp"), name_of(port, "rfc2217")}) {
    auto address = parse_rig_address(text);
    REQUIRE(address.has_value());
    const auto opened = open_transport(*address);
    REQUIRE_FALSE(opened.has_value());
    CHECK(opened.error().kind == TransportError::Kind::NotFound);
    CHECK(opened.error().message.find(text) != std::string::npos);
    CHECK(opened.error().message.find("refused") != std::string::npos);
  }
}

TEST_CASE("a host name that does not resolve is reported with the address") {
  const auto opened = TcpTransport::open("no-such-host.invalid", 4001);
  REQUIRE_FALSE(opened.has_value());
  CHECK(opened.error().kind == TransportError::Kind::NotFound);
  CHECK(opened.error().message.find("no-such-host.invalid") != std::string::npos);
}

TEST_CASE("an rfc2217 link sets the line, then passes 0xFF both ways past the server's chatter") {
  Bytes negotiation;
  Bytes from_client;
  ScriptedServer server([&](tcp::socket& socket) {
    send(socket, kGreeting);
    read_until(socket, kSetControlNoFlow, negotiation);
    send(socket, acknowledgements());
    // Data 10 FF 11 with a NOTIFY-LINESTATE in the middle, in writes that cut an escaped
    // 0xFF and the subnegotiation in two.
    send(socket, {0x10, 0xff});
    std::this_thread::sleep_for(30ms);
    send(socket, {0xff, 0xff, 0xfa, 0x2c, 0x6a});
    std::this_thread::sleep_for(30ms);
    send(socket, {0x60, 0xff, 0xf0, 0x11});
    read_until(socket, {0x21}, from_client);
  });
  auto opened = Rfc2217Transport::open("127.0.0.1", server.port());
  INFO((opened ? "" : opened.error().message));
  REQUIRE(opened.has_value());
  Transport& link = **opened;
  CHECK(link.describe() == name_of(server.port(), "rfc2217"));

  CHECK(read_exactly(link, 3) == Bytes{0x10, 0xff, 0x11});
  const auto [write_ec, written] = write_once(link, {0x20, 0xff, 0x21});
  CHECK_FALSE(write_ec);
  CHECK(written == 3);  // the caller's count, not the escaped one

  const auto [ec, rest] = read_once(link);
  CHECK(is_disconnect(ec));
  server.wait();
  CHECK(from_client == Bytes{0x20, 0xff, 0xff, 0x21});
  // What the server heard: our options, ECHO refused, and the five line settings.
  CHECK(contains(negotiation, {0xff, 0xfb, 0x2c}));  // WILL COM-PORT-OPTION
  CHECK(contains(negotiation, {0xff, 0xfb, 0x00}));  // WILL BINARY
  CHECK(contains(negotiation, {0xff, 0xfd, 0x00}));  // DO BINARY
  CHECK(contains(negotiation, {0xff, 0xfe, 0x01}));  // DONT ECHO
  CHECK(contains(negotiation, {0xff, 0xfa, 0x2c, 0x01, 0x00, 0x0e, 0x10, 0x00, 0xff, 0xf0}));
  CHECK(contains(negotiation, {0xff, 0xfa, 0x2c, 0x02, 0x08, 0xff, 0xf0}));
  CHECK(contains(negotiation, {0xff, 0xfa, 0x2c, 0x03, 0x01, 0xff, 0xf0}));
  CHECK(contains(negotiation, {0xff, 0xfa, 0x2c, 0x04, 0x01, 0xff, 0xf0}));
}

TEST_CASE("a telnet server that refuses COM-PORT-OPTION is no RFC 2217 server, and says so") {
  ScriptedServer server([&](tcp::socket& socket) {
    // A plain telnet port: binary yes, COM port control no.
    send(socket, {0xff, 0xfb, 0x00, 0xff, 0xfd, 0x00, 0xff, 0xfe, 0x2c});
    read_until_closed(socket);
  });
  const auto opened = Rfc2217Transport::open("127.0.0.1", server.port());
  REQUIRE_FALSE(opened.has_value());
  CHECK(opened.error().message.find(name_of(server.port(), "rfc2217")) != std::string::npos);
  CHECK(opened.error().message.find("refuses COM-PORT-OPTION") != std::string::npos);
  CHECK(opened.error().message.find("tcp://") != std::string::npos);
}

TEST_CASE("a server that sets another baud rate than asked fails the open naming both rates") {
  ScriptedServer server([&](tcp::socket& socket) {
    Bytes seen;
    send(socket, kGreeting);
    read_until(socket, kSetControlNoFlow, seen);
    send(socket, acknowledgements({0x00, 0x01, 0xc2, 0x00}));  // 115200
    read_until_closed(socket);
  });
  const auto opened = Rfc2217Transport::open("127.0.0.1", server.port());
  REQUIRE_FALSE(opened.has_value());
  CHECK(opened.error().message.find("SET-BAUDRATE with 115200, not the 921600") !=
        std::string::npos);
}

TEST_CASE("a server that hangs up while negotiating is quoted in the error") {
  ScriptedServer server([&](tcp::socket& socket) {
    const std::string text = "Port's device already in use\r\n";
    send(socket, Bytes(text.begin(), text.end()));
  });
  const auto opened = Rfc2217Transport::open("127.0.0.1", server.port());
  REQUIRE_FALSE(opened.has_value());
  CHECK(opened.error().message.find("closed the connection") != std::string::npos);
  CHECK(opened.error().message.find("\"Port's device already in use\"") != std::string::npos);
}

TEST_CASE("a server that never answers the negotiation fails it naming what was awaited") {
  ScriptedServer server([&](tcp::socket& socket) { read_until_closed(socket); });
  Rfc2217Settings settings;
  settings.negotiation_timeout = 200ms;
  const auto opened = Rfc2217Transport::open("127.0.0.1", server.port(), settings);
  REQUIRE_FALSE(opened.has_value());
  CHECK(opened.error().message.find("waiting for DO COM-PORT-OPTION") != std::string::npos);
}

TEST_CASE("closing an rfc2217 link hands a waiting reader operation_aborted") {
  ScriptedServer server([&](tcp::socket& socket) {
    Bytes seen;
    send(socket, kGreeting);
    read_until(socket, kSetControlNoFlow, seen);
    send(socket, acknowledgements());
    read_until_closed(socket);
  });
  auto opened = Rfc2217Transport::open("127.0.0.1", server.port());
  REQUIRE(opened.has_value());
  Transport& link = **opened;
  std::array<std::uint8_t, 16> buffer{};
  boost::system::error_code result;
  bool done = false;
  link.async_read_some(boost::asio::buffer(buffer), [&](auto ec, std::size_t) {
    result = ec;
    done = true;
  });
  link.context().restart();
  link.context().poll();
  CHECK_FALSE(done);
  link.close();
  CHECK_FALSE(link.is_open());
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done && std::chrono::steady_clock::now() < deadline) link.context().run_for(20ms);
  CHECK(result == boost::asio::error::operation_aborted);
}
