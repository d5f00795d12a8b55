#include <unistd.h>

#include <array>
#include <boost/asio/error.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "drivers/transport/port_enumeration.hpp"
#include "drivers/transport/serial_transport.hpp"
#include "pty_pair.hpp"

using namespace derma::transport;
using derma::testing::PtyPair;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<SerialTransport> open_or_fail(const std::string& path) {
  auto opened = SerialTransport::open(path);
  INFO((opened ? std::string() : opened.error().message));
  REQUIRE(opened.has_value());
  return std::move(*opened);
}

// Runs the transport's context until one read completes (or a generous bound passes).
std::pair<boost::system::error_code, std::vector<std::uint8_t>> read_once(Transport& link) {
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
  return {result, std::vector<std::uint8_t>(buffer.begin(), buffer.begin() + got)};
}

boost::system::error_code write_once(Transport& link, const std::vector<std::uint8_t>& bytes) {
  boost::system::error_code result = boost::asio::error::timed_out;
  bool done = false;
  link.async_write(boost::asio::buffer(bytes), [&](auto ec, std::size_t) {
    result = ec;
    done = true;
  });
  link.context().restart();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done && std::chrono::steady_clock::now() < deadline) link.context().run_for(20ms);
  return result;
}

}  // namespace

TEST_CASE("opening a nonexistent device names the path and the system reason") {
  const auto opened = SerialTransport::open("/dev/ttyDOES-NOT-EXIST-7");
  REQUIRE_FALSE(opened.has_value());
  CHECK(opened.error().kind == TransportError::Kind::NotFound);
  CHECK(opened.error().message.find("/dev/ttyDOES-NOT-EXIST-7") != std::string::npos);
  CHECK(opened.error().message.find("No such file or directory") != std::string::npos);
}

TEST_CASE("opening something that is not a tty says so") {
  SECTION("a character device that is not a terminal") {
    const auto opened = SerialTransport::open("/dev/null");
    REQUIRE_FALSE(opened.has_value());
    CHECK(opened.error().kind == TransportError::Kind::NotATty);
    CHECK(opened.error().message.find("'/dev/null' is not a serial device") != std::string::npos);
  }
  SECTION("a regular file") {
    const auto file = std::filesystem::temp_directory_path() /
                      ("derma-not-a-tty-" + std::to_string(::getpid()) + ".txt");
    std::ofstream(file) << "hello";
    const auto opened = SerialTransport::open(file.string());
    std::filesystem::remove(file);
    REQUIRE_FALSE(opened.has_value());
    CHECK(opened.error().kind == TransportError::Kind::NotATty);
  }
}

TEST_CASE("a serial transport over a pty carries bytes both ways") {
  PtyPair pty;
  auto link = open_or_fail(pty.path());
  CHECK(link->describe() == pty.path());
  CHECK(link->is_open());

  const std::vector<std::uint8_t> to_rig{0x01, 0x00, 0x0a, 0x0d, 0xff, 0x11, 0x13};
  REQUIRE_FALSE(write_once(*link, to_rig));
  std::vector<std::uint8_t> at_rig;
  while (at_rig.size() < to_rig.size()) {
    const auto chunk = pty.read_some(2s);
    REQUIRE_FALSE(chunk.empty());
    at_rig.insert(at_rig.end(), chunk.begin(), chunk.end());
  }
  CHECK(at_rig == to_rig);  // raw: no CR/LF translation, no XON/XOFF eaten

  const std::vector<std::uint8_t> to_host{0x00, 0x0d, 0x0a, 0x03, 0x1a, 0x7f};
  pty.write_all(to_host);
  std::vector<std::uint8_t> at_host;
  while (at_host.size() < to_host.size()) {
    const auto [ec, chunk] = read_once(*link);
    REQUIRE_FALSE(ec);
    at_host.insert(at_host.end(), chunk.begin(), chunk.end());
  }
  CHECK(at_host == to_host);  // no echo, no signals from ^C/^Z
}

TEST_CASE("a symlink to a pty opens like the pty and keeps its own name") {
  PtyPair pty;
  const auto link_path = std::filesystem::temp_directory_path() /
                         ("derma-test-rig-link-" + std::to_string(::getpid()));
  std::filesystem::remove(link_path);
  std::filesystem::create_symlink(pty.path(), link_path);
  auto opened = SerialTransport::open(link_path.string());
  std::filesystem::remove(link_path);
  REQUIRE(opened.has_value());
  CHECK((*opened)->describe() == link_path.string());
}

TEST_CASE("closing the rig side of the link is seen as a disconnect") {
  PtyPair pty;
  auto link = open_or_fail(pty.path());
  pty.close_peer();

  SECTION("by a read") {
    const auto [ec, bytes] = read_once(*link);
    INFO(ec.message());
    CHECK(is_disconnect(ec));
  }
  SECTION("by a write") {
    const auto ec = write_once(*link, std::vector<std::uint8_t>(64, 0x55));
    INFO(ec.message());
    CHECK(is_disconnect(ec));
  }
}

TEST_CASE("what has already arrived is read at once, and nothing is not waited for") {
  PtyPair pty;
  auto link = open_or_fail(pty.path());
  std::array<std::uint8_t, 4096> buffer{};
  // Nothing sent yet: 0 bytes, straight away (a blocking read would hang the test).
  auto got = link->read_arrived(boost::asio::buffer(buffer));
  REQUIRE(got.has_value());
  CHECK(*got == 0);

  const std::vector<std::uint8_t> sent{0x00, 0x11, 0x22, 0x33, 0x44};
  pty.write_all(sent);
  // The pty hands the bytes to the line discipline asynchronously: allow it a moment.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  std::vector<std::uint8_t> received;
  while (received.size() < sent.size() && std::chrono::steady_clock::now() < deadline) {
    got = link->read_arrived(boost::asio::buffer(buffer));
    REQUIRE(got.has_value());
    received.insert(received.end(), buffer.begin(), buffer.begin() + static_cast<long>(*got));
  }
  CHECK(received == sent);

  SECTION("a link gone is an error that counts as a disconnect, not 0 bytes") {
    pty.close_peer();
    got = link->read_arrived(boost::asio::buffer(buffer));
    REQUIRE_FALSE(got.has_value());
    INFO(got.error().message());
    CHECK(is_disconnect(got.error()));
  }
}

TEST_CASE("a port held by another client is reported busy") {
  PtyPair pty;
  auto first = open_or_fail(pty.path());
  const auto second = SerialTransport::open(pty.path());
  REQUIRE_FALSE(second.has_value());
  CHECK(second.error().kind == TransportError::Kind::Busy);
  CHECK(second.error().message.find(pty.path()) != std::string::npos);

  first->close();
  CHECK_FALSE(first->is_open());
  CHECK(SerialTransport::open(pty.path()).has_value());
}

TEST_CASE("only link-loss errors count as a disconnect") {
  CHECK(is_disconnect(boost::asio::error::eof));
  CHECK(is_disconnect(boost::system::error_code(EIO, boost::system::system_category())));
  CHECK(is_disconnect(boost::system::error_code(EPIPE, boost::system::system_category())));
  CHECK_FALSE(is_disconnect(boost::asio::error::operation_aborted));
  CHECK_FALSE(is_disconnect(boost::system::error_code(EAGAIN, boost::system::system_category())));
  CHECK_FALSE(is_disconnect({}));
}

TEST_CASE("port enumeration works and skips pseudo-terminals") {
  PtyPair pty;
  const auto ports = list_serial_ports();
  REQUIRE(ports.has_value());
  for (const PortInfo& port : *ports) {
    CHECK(port.name != pty.path());
    CHECK_FALSE(port.name.empty());
  }
}
