// The HTTP server against real sockets on loopback: it survives bad bytes and failing
// handlers, caps its open connections, and streams files.
#include "bench/api/http_server.hpp"

#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace derma::api;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// A server on 127.0.0.1:<any port>, its io_context run on a thread of its own.
class RunningServer {
 public:
  RunningServer(Handler handler, ServerOptions options = {}) {
    auto server = HttpServer::listen(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                                     std::move(handler), std::move(options));
    REQUIRE(server);
    server_ = *server;
    port_ = server_->local_endpoint().port();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~RunningServer() {
    asio::post(io_, [this] {
      server_->stop_accepting();
      io_.stop();
    });
    thread_.join();
  }
  unsigned short port() const { return port_; }

 private:
  asio::io_context io_;
  std::shared_ptr<HttpServer> server_;
  unsigned short port_ = 0;
  std::thread thread_;
};

tcp::socket connect_to(asio::io_context& io, unsigned short port) {
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  return socket;
}

// Everything the server sends until it closes the connection.
std::string read_all(tcp::socket& socket) {
  std::string text;
  char chunk[4096];
  boost::system::error_code ec;
  for (;;) {
    const std::size_t n = socket.read_some(asio::buffer(chunk), ec);
    text.append(chunk, n);
    if (ec) return text;
  }
}

// One request with "Connection: close"; the whole answer.
std::string exchange(unsigned short port, const std::string& request_line,
                     const std::string& extra = "") {
  asio::io_context io;
  tcp::socket socket = connect_to(io, port);
  boost::system::error_code ec;  // a refused connection may be closed before the write
  asio::write(socket,
              asio::buffer(request_line + "\r\nHost: x\r\nConnection: close\r\n" + extra + "\r\n"),
              ec);
  return read_all(socket);
}

HttpResponse ok(const std::string& body) {
  HttpResponse response;
  response.body = body;
  return response;
}

}  // namespace

TEST_CASE("an error quoting a URL with invalid UTF-8 is answered, the bytes replaced") {
  RunningServer server([](const HttpRequest& request) -> Reply {
    return error_response(404, "not_found", "no such endpoint: " + request.target);
  });
  const std::string answer = exchange(server.port(), "GET /\xff\xfe HTTP/1.1");
  CHECK(answer.rfind("HTTP/1.1 404", 0) == 0);
  CHECK(answer.find("no such endpoint: /\xEF\xBF\xBD\xEF\xBF\xBD") != std::string::npos);
  // The server is still there.
  CHECK(exchange(server.port(), "GET /again HTTP/1.1").rfind("HTTP/1.1 404", 0) == 0);
}

TEST_CASE("a handler that throws gets a 500 with a JSON error, and the server goes on") {
  RunningServer server([](const HttpRequest& request) -> Reply {
    if (request.target == "/boom") throw std::runtime_error("the database is gone");
    return ok("fine\n");
  });
  const std::string answer = exchange(server.port(), "GET /boom HTTP/1.1");
  CHECK(answer.rfind("HTTP/1.1 500", 0) == 0);
  CHECK(answer.find(R"({"error":{"code":"internal","message":"the database is gone"}})") !=
        std::string::npos);
  CHECK(exchange(server.port(), "GET /fine HTTP/1.1").find("fine\n") != std::string::npos);
}

TEST_CASE("connections beyond the cap get 503 until one closes, event streams included") {
  // Kept open, as the daemon does; owned by the handler so that it goes before the server's
  // io_context. io thread only.
  auto streams = std::make_shared<std::vector<std::shared_ptr<EventStream>>>();
  ServerOptions options;
  options.max_connections = 1;
  RunningServer server(
      [streams](const HttpRequest& request) -> Reply {
        if (request.target == "/events")
          return EventStreamReply{[streams](std::shared_ptr<EventStream> stream) {
            streams->push_back(std::move(stream));
          }};
        return ok("fine\n");
      },
      options);
  streams.reset();

  asio::io_context io;
  tcp::socket subscriber = connect_to(io, server.port());
  asio::write(subscriber, asio::buffer(std::string("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")));
  std::string header;
  while (header.find("\r\n\r\n") == std::string::npos) {
    char chunk[256];
    header.append(chunk, subscriber.read_some(asio::buffer(chunk)));
  }
  REQUIRE(header.rfind("HTTP/1.1 200", 0) == 0);

  // The stream holds the only slot: a new connection is refused without being read.
  tcp::socket refused = connect_to(io, server.port());
  const std::string answer = read_all(refused);
  CHECK(answer.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(answer.find(R"("code":"unavailable")") != std::string::npos);

  // Once the subscriber leaves, the slot is free again (the server notices the close on its
  // own schedule: ask until it has).
  subscriber.close();
  std::string later;
  for (int attempt = 0; attempt < 500 && later.find("fine\n") == std::string::npos; ++attempt) {
    later = exchange(server.port(), "GET /fine HTTP/1.1");
    if (later.find("fine\n") == std::string::npos)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(later.find("fine\n") != std::string::npos);
}

TEST_CASE("a file body is streamed from disk and a file that cannot be opened is not found") {
  const auto path = std::filesystem::temp_directory_path() /
                    ("derma-http-file-" + std::to_string(::getpid()) + ".bin");
  std::string content(300000, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7);
  std::ofstream(path, std::ios::binary) << content;

  RunningServer server([&path](const HttpRequest& request) -> Reply {
    HttpResponse response;
    response.content_type = "application/octet-stream";
    response.body_file = request.target == "/file" ? path.string() : path.string() + ".missing";
    return response;
  });
  const std::string answer = exchange(server.port(), "GET /file HTTP/1.1");
  CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(answer.find("Content-Length: 300000\r\n") != std::string::npos);
  CHECK(answer.size() >= content.size());
  CHECK(answer.substr(answer.size() - content.size()) == content);
  CHECK(exchange(server.port(), "GET /missing HTTP/1.1").rfind("HTTP/1.1 404", 0) == 0);
  std::filesystem::remove(path);
}
