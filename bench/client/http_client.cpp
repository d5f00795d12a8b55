#include "bench/client/http_client.hpp"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

namespace derma::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
constexpr std::chrono::milliseconds kPollInterval{100};
constexpr std::size_t kReadChunkBytes = 16 * 1024;
}  // namespace

struct HttpClient::Io {
  asio::io_context context;
};

HttpClient::HttpClient(ServerUrl server, std::string bearer_token)
    : server_(std::move(server)), token_(std::move(bearer_token)), io_(std::make_unique<Io>()) {}

HttpClient::~HttpClient() = default;

void HttpClient::set_interrupt(std::function<bool()> interrupted) {
  interrupted_ = std::move(interrupted);
}

void HttpClient::set_timeout(std::chrono::milliseconds timeout) {
  timeout_ = timeout;
}

std::expected<HttpResponse, HttpError> HttpClient::get(const std::string& path) {
  return exchange(false, path, "", nullptr, timeout_);
}

std::expected<HttpResponse, HttpError> HttpClient::post_json(const std::string& path,
                                                             const std::string& json_body) {
  return exchange(true, path, json_body, nullptr, timeout_);
}

std::expected<HttpResponse, HttpError> HttpClient::stream_get(
    const std::string& path, const std::function<bool(std::string_view)>& on_bytes,
    std::chrono::milliseconds idle_timeout) {
  return exchange(false, path, "", &on_bytes, idle_timeout);
}

std::expected<HttpResponse, HttpError> HttpClient::exchange(
    bool post, const std::string& path, const std::string& json_body,
    const std::function<bool(std::string_view)>* on_bytes, std::chrono::milliseconds idle_timeout) {
  asio::io_context& ioc = io_->context;
  beast::tcp_stream stream(ioc);
  const std::string where = server_.to_string();

  // Runs the context until the pending operation has called back, the deadline passes or
  // the interrupt predicate fires; in the last two cases the socket is closed (the handler
  // then runs with operation_aborted) and the reason returned.
  bool done = false;
  const auto wait = [&](Clock::duration limit) -> std::optional<HttpError> {
    const auto deadline = Clock::now() + limit;
    while (!done) {
      ioc.run_for(kPollInterval);
      if (done) break;
      const bool interrupted = interrupted_ && interrupted_();
      if (interrupted || Clock::now() >= deadline) {
        beast::error_code ignored;
        stream.socket().close(ignored);
        ioc.restart();
        ioc.run();
        ioc.restart();
        if (interrupted) return HttpError{HttpFailure::Interrupted, "interrupted"};
        return HttpError{
            HttpFailure::Timeout,
            "no answer from " + where + " within " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(limit).count()) +
                " s"};
      }
    }
    ioc.restart();
    done = false;
    return std::nullopt;
  };

  // Connect.
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(server_.host, std::to_string(server_.port), ec);
  if (ec)
    return std::unexpected(HttpError{HttpFailure::Unreachable,
                                     "cannot resolve '" + server_.host + "': " + ec.message()});
  ioc.restart();
  stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  if (auto failed = wait(timeout_)) {
    if (failed->kind == HttpFailure::Timeout) failed->kind = HttpFailure::Unreachable;
    failed->message =
        failed->kind == HttpFailure::Interrupted
            ? failed->message
            : "cannot connect to " + where + ": no answer within " +
                  std::to_string(
                      std::chrono::duration_cast<std::chrono::seconds>(timeout_).count()) +
                  " s";
    return std::unexpected(*failed);
  }
  if (ec)
    return std::unexpected(
        HttpError{HttpFailure::Unreachable, "cannot connect to " + where + ": " + ec.message()});

  // Send.
  http::request<http::string_body> request{post ? http::verb::post : http::verb::get,
                                           server_.target(path), 11};
  request.set(http::field::host, server_.host_header());
  request.set(http::field::user_agent, std::string("bench-submit/") + DERMA_VERSION);
  request.set(http::field::connection, "close");
  if (!token_.empty()) request.set(http::field::authorization, "Bearer " + token_);
  if (post) {
    request.set(http::field::content_type, "application/json");
    request.body() = json_body;
  }
  request.prepare_payload();
  http::async_write(stream, request, [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  if (auto failed = wait(timeout_)) return std::unexpected(*failed);
  if (ec)
    return std::unexpected(
        HttpError{HttpFailure::Broken, "sending to " + where + " failed: " + ec.message()});

  // Receive: the header, then the body piece by piece.
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  http::async_read_header(stream, buffer, parser, [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  if (auto failed = wait(timeout_)) return std::unexpected(*failed);
  if (ec)
    return std::unexpected(
        HttpError{HttpFailure::Broken, "no HTTP answer from " + where + ": " + ec.message()});

  HttpResponse response;
  response.status = parser.get().result_int();
  response.content_type = std::string(parser.get()[http::field::content_type]);
  const bool streaming = on_bytes != nullptr && response.status / 100 == 2;
  std::array<char, kReadChunkBytes> chunk;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    http::async_read_some(stream, buffer, parser, [&](beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    if (auto failed = wait(idle_timeout)) return std::unexpected(*failed);
    if (ec == http::error::need_buffer) ec = {};
    if (ec)
      return std::unexpected(
          HttpError{HttpFailure::Broken,
                    "the connection to " + where + " dropped mid-answer: " + ec.message()});
    const std::string_view piece(chunk.data(), chunk.size() - parser.get().body().size);
    if (piece.empty()) continue;
    if (!streaming) {
      response.body.append(piece);
    } else if (!(*on_bytes)(piece)) {
      break;  // the caller has what it wanted; the connection closes with the stream
    }
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return response;
}

std::string describe_error_response(const HttpResponse& response) {
  std::string text = "HTTP " + std::to_string(response.status);
  const auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object()) {
    const auto& error = parsed["error"];
    if (error.contains("code") && error["code"].is_string())
      text += " " + error["code"].get<std::string>();
    if (error.contains("message") && error["message"].is_string())
      text += ": " + error["message"].get<std::string>();
    return text;
  }
  if (!response.body.empty()) text += ": " + response.body.substr(0, 300);
  return text;
}

}  // namespace derma::client
