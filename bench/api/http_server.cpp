#include "bench/api/http_server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <nlohmann/json.hpp>

namespace derma::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

HttpResponse error_response(unsigned status, const std::string& code, const std::string& message) {
  HttpResponse response;
  response.status = status;
  // Messages may quote a client's bytes (a URL): invalid UTF-8 becomes U+FFFD, not a throw.
  const nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return response;
}

namespace {

// One open connection (a request/response session or an event stream) counted against
// ServerOptions::max_connections for as long as the slot lives. io thread only.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(std::shared_ptr<std::size_t> open) : open_(std::move(open)) { ++*open_; }
  ~ConnectionSlot() { --*open_; }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

 private:
  std::shared_ptr<std::size_t> open_;
};

// An event stream owns the socket once the header is written. A pending read on the socket
// tells when the client goes away; a timer sends the heartbeat comment.
class SseStream : public EventStream, public std::enable_shared_from_this<SseStream> {
 public:
  SseStream(tcp::socket socket, std::chrono::seconds heartbeat,
            std::unique_ptr<ConnectionSlot> slot)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        heartbeat_(heartbeat),
        slot_(std::move(slot)) {}

  void start(std::string header) {
    queue_.push_back(std::move(header));
    watch_for_close();
    arm_heartbeat();
    write_next();
  }

  void send_event(const std::string& name, const std::string& data) override {
    if (!open_ || finishing_) return;
    queue_.push_back("event: " + name + "\ndata: " + data + "\n\n");
    write_next();
  }
  void send_comment(const std::string& text) override {
    if (!open_ || finishing_) return;
    queue_.push_back(": " + text + "\n\n");
    write_next();
  }
  void finish() override {
    finishing_ = true;
    if (!writing_) shut();
  }
  bool is_open() const override { return open_ && !finishing_; }

 private:
  void write_next() {
    if (writing_ || queue_.empty() || !open_) return;
    writing_ = true;
    asio::async_write(socket_, asio::buffer(queue_.front()),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        self->writing_ = false;
                        self->queue_.pop_front();
                        if (ec) return self->shut();
                        if (!self->queue_.empty()) return self->write_next();
                        if (self->finishing_) self->shut();
                      });
  }
  void watch_for_close() {
    socket_.async_read_some(asio::buffer(sink_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->shut();
                              self->watch_for_close();  // clients send nothing: ignore it
                            });
  }
  void arm_heartbeat() {
    timer_.expires_after(heartbeat_);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || !self->open_) return;
      self->send_comment("keep-alive");
      self->arm_heartbeat();
    });
  }
  void shut() {
    if (!open_) return;
    open_ = false;
    slot_.reset();  // the stream may outlive its socket in a subscriber list
    timer_.cancel();
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  std::chrono::seconds heartbeat_;
  std::unique_ptr<ConnectionSlot> slot_;
  std::deque<std::string> queue_;
  char sink_[256];
  bool writing_ = false;
  bool finishing_ = false;
  bool open_ = true;
};

// One client connection: read a request, answer it, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Handler& handler, const ServerOptions& options,
          std::unique_ptr<ConnectionSlot> slot)
      : stream_(std::move(socket)), handler_(handler), options_(options), slot_(std::move(slot)) {
    beast::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string();
  }

  void read_request(bool first) {
    parser_.emplace();
    parser_->body_limit(options_.body_limit_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(options_.header_limit_bytes));
    // A fresh connection gets the request timeout; an idle keep-alive one the idle timeout.
    stream_.expires_after(first ? options_.read_timeout : options_.idle_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_request(ec); });
  }

 private:
  void on_request(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted)
      return close();
    if (ec == http::error::body_limit) {
      return respond(error_response(413, "payload_too_large",
                                    "request body larger than " +
                                        std::to_string(options_.body_limit_bytes) + " bytes"),
                     false);
    }
    if (ec == http::error::header_limit)
      return respond(error_response(400, "bad_request", "request header too large"), false);
    if (ec)
      return respond(error_response(400, "bad_request", "malformed HTTP request: " + ec.message()),
                     false);

    const http::request<http::string_body> message = parser_->release();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    request.authorization = std::string(message[http::field::authorization]);
    request.content_type = std::string(message[http::field::content_type]);
    request.body = message.body();
    request.remote_address = remote_;
    const bool keep_alive = message.keep_alive();

    // A handler that throws answers 500: one bad request must not end the daemon.
    Reply reply;
    try {
      reply = handler_(request);
    } catch (const std::exception& e) {
      reply = error_response(500, "internal", e.what());
    }
    if (auto* events = std::get_if<EventStreamReply>(&reply)) return open_stream(*events);
    respond(std::move(std::get<HttpResponse>(reply)), keep_alive);
  }

  void respond(HttpResponse reply, bool keep_alive) {
    if (!reply.body_file.empty()) {
      http::file_body::value_type file;
      beast::error_code ec;
      file.open(reply.body_file.c_str(), beast::file_mode::scan, ec);
      if (ec)
        return respond(error_response(404, "not_found", "cannot open the file: " + ec.message()),
                       keep_alive);
      auto response = std::make_shared<http::response<http::file_body>>();
      response->body() = std::move(file);
      return send(std::move(response), reply, keep_alive);
    }
    auto response = std::make_shared<http::response<http::string_body>>();
    response->body() = std::move(reply.body);
    send(std::move(response), reply, keep_alive);
  }

  template <class Body>
  void send(std::shared_ptr<http::response<Body>> response, const HttpResponse& reply,
            bool keep_alive) {
    if (options_.on_response) options_.on_response(reply.status);
    response->result(reply.status);
    response->version(11);
    response->set(http::field::server, "dermabench");
    response->set(http::field::content_type, reply.content_type);
    for (const auto& [name, value] : reply.headers) response->set(name, value);
    response->keep_alive(keep_alive);
    response->prepare_payload();
    stream_.expires_after(options_.read_timeout);
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response](beast::error_code ec, std::size_t) {
                        if (ec) return self->close();
                        if (!response->keep_alive()) return self->drain_and_close();
                        self->read_request(false);
                      });
  }

  // A client that is refused mid-body (413, 400) may still be sending: closing at once would
  // reset the connection before it reads the answer. Stop sending, discard what arrives for a
  // little while, then close.
  void drain_and_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(5));
    drained_ = 0;
    drain();
  }
  void drain() {
    stream_.async_read_some(asio::buffer(sink_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > 64 * self->options_.body_limit_bytes)
                                return self->stream_.close();
                              self->drain();
                            });
  }

  void open_stream(const EventStreamReply& events) {
    if (options_.on_response) options_.on_response(200);
    stream_.expires_never();
    auto sse =
        std::make_shared<SseStream>(stream_.release_socket(), options_.heartbeat, std::move(slot_));
    sse->start(
        "HTTP/1.1 200 OK\r\nServer: dermabench\r\nContent-Type: text/event-stream\r\n"
        "Cache-Control: no-cache\r\nConnection: close\r\n\r\n");
    events.attach(sse);
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Handler handler_;
  ServerOptions options_;
  std::unique_ptr<ConnectionSlot> slot_;
  std::string remote_;
  char sink_[4096];
  std::size_t drained_ = 0;
};

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io, Handler h, ServerOptions o)
      : acceptor(io), retry_timer(io), handler(std::move(h)), options(std::move(o)) {}

  void accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (ec) return self->accept_later();
      if (*self->open_connections >= self->options.max_connections)
        self->refuse(std::move(socket));
      else
        std::make_shared<Session>(std::move(socket), self->handler, self->options,
                                  std::make_unique<ConnectionSlot>(self->open_connections))
            ->read_request(true);
      self->accept();
    });
  }

  // An accept error (EMFILE, ENFILE, ENOBUFS) repeats at once while its cause lasts: retrying
  // immediately would spin the io thread at full CPU. Wait a little for descriptors to free.
  void accept_later() {
    retry_timer.expires_after(std::chrono::milliseconds(100));
    retry_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || !self->acceptor.is_open()) return;
      self->accept();
    });
  }

  // Beyond max_connections: a best-effort 503 written without waiting, then the connection
  // closes. The client may see a reset instead if its request was already in flight.
  void refuse(tcp::socket socket) {
    static const std::string body =
        error_response(503, "unavailable", "too many open connections: try again").body;
    static const std::string answer =
        "HTTP/1.1 503 Service Unavailable\r\nServer: dermabench\r\n"
        "Content-Type: application/json\r\nConnection: close\r\nRetry-After: 1\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    if (options.on_response) options.on_response(503);
    beast::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(asio::buffer(answer), ignored);
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  Handler handler;
  ServerOptions options;
  std::shared_ptr<std::size_t> open_connections = std::make_shared<std::size_t>(0);
};

std::expected<std::shared_ptr<HttpServer>, std::string> HttpServer::listen(
    asio::io_context& io, const tcp::endpoint& where, Handler handler, ServerOptions options) {
  auto impl = std::make_shared<Impl>(io, std::move(handler), std::move(options));
  beast::error_code ec;
  impl->acceptor.open(where.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(where, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return std::unexpected("cannot listen on " + where.address().to_string() + ":" +
                           std::to_string(where.port()) + ": " + ec.message());
  impl->accept();
  return std::shared_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() {
  stop_accepting();
}

tcp::endpoint HttpServer::local_endpoint() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec);
}

void HttpServer::stop_accepting() {
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
  impl_->retry_timer.cancel();
}

}  // namespace derma::api
