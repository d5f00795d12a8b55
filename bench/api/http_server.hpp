// A small HTTP/1.1 server on Boost.Beast: asynchronous, on the io_context's thread, with
// request size limits, keep-alive, read timeouts, and Server-Sent Event streams. It knows
// nothing of runs: a Handler turns each request into a response or an event stream.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace derma::api {

struct HttpRequest {
  std::string method;  // GET, POST, ...
  std::string target;  // path and query, as sent
  std::string authorization;
  std::string content_type;
  std::string body;
  std::string remote_address;  // peer IP, for the audit log
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  // When set, the body is this file, streamed from disk (captures can be large) and `body`
  // is ignored. A file that cannot be opened answers 404.
  std::string body_file;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// {"error": {"code": ..., "message": ...}} with the status that matches the code.
HttpResponse error_response(unsigned status, const std::string& code, const std::string& message);

// An open text/event-stream. Use only on the io_context's thread.
class EventStream {
 public:
  virtual ~EventStream() = default;
  // Queues one event ("event: NAME\ndata: DATA\n\n") or a comment line.
  virtual void send_event(const std::string& name, const std::string& data) = 0;
  virtual void send_comment(const std::string& text) = 0;
  // Closes once everything queued is written.
  virtual void finish() = 0;
  virtual bool is_open() const = 0;
};

// The handler's answer to a request for an event stream: once the response header is sent,
// `attach` receives the stream (on the io thread) and keeps it as long as it likes.
struct EventStreamReply {
  std::function<void(std::shared_ptr<EventStream>)> attach;
};

using Reply = std::variant<HttpResponse, EventStreamReply>;
using Handler = std::function<Reply(const HttpRequest&)>;

struct ServerOptions {
  std::size_t body_limit_bytes = 1 << 20;  // larger bodies get 413
  std::size_t header_limit_bytes = 16 << 10;
  std::chrono::seconds read_timeout{30};  // a request must arrive whole within this
  std::chrono::seconds idle_timeout{60};  // keep-alive connections close after this
  std::chrono::seconds heartbeat{15};     // ": keep-alive" on event streams
  // Open connections, event streams included; beyond this a new one gets 503 and is closed,
  // so a flood of clients cannot use up the process's file descriptors.
  std::size_t max_connections = 256;
  std::function<void(unsigned status)> on_response;  // metrics
};

class HttpServer {
 public:
  // Binds and starts accepting on the io_context (which the caller runs).
  static std::expected<std::shared_ptr<HttpServer>, std::string> listen(
      boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& where, Handler handler,
      ServerOptions options);
  ~HttpServer();

  boost::asio::ip::tcp::endpoint local_endpoint() const;
  // Stops accepting new connections (open ones finish their current exchange).
  void stop_accepting();

 private:
  struct Impl;
  explicit HttpServer(std::shared_ptr<Impl>);
  std::shared_ptr<Impl> impl_;
};

}  // namespace derma::api
