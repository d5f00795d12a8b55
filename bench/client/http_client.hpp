// A tiny HTTP/1.1 client for the bench server's API (Boost.Beast, plain http): one
// connection per request, bodies read as they arrive so that event streams and large
// captures work the same way as small JSON answers.
//
// Every wait is bounded: connecting and each read have a time limit, and an interrupt
// predicate (Ctrl-C, a CI job's own deadline) is polled while waiting, so a dead server
// never hangs the caller.
#pragma once

#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "bench/client/server_url.hpp"

namespace derma::client {

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;  // empty for a 2xx answer to stream_get (its bytes went to the callback)
};

enum class HttpFailure {
  Unreachable,  // name not resolved, connection refused, no route
  Timeout,      // no answer (or no byte of a stream) within the limit
  Interrupted,  // the interrupt predicate said stop
  Broken,       // the connection dropped mid-answer or the answer is not HTTP
};

struct HttpError {
  HttpFailure kind = HttpFailure::Broken;
  std::string message;
};

class HttpClient {
 public:
  explicit HttpClient(ServerUrl server, std::string bearer_token = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Polled every 100 ms while waiting for the network; true ends the request (Interrupted).
  void set_interrupt(std::function<bool()> interrupted);
  // Limit for connecting and for each wait for bytes of an answer (default 30 s).
  void set_timeout(std::chrono::milliseconds timeout);

  std::expected<HttpResponse, HttpError> get(const std::string& path);
  std::expected<HttpResponse, HttpError> post_json(const std::string& path,
                                                   const std::string& json_body);

  // A GET whose 2xx body is handed to on_bytes piece by piece as it arrives, until the
  // answer ends or on_bytes returns false (then the connection is closed: success). No byte
  // within idle_timeout is a Timeout. A non-2xx answer is returned whole, in body.
  std::expected<HttpResponse, HttpError> stream_get(
      const std::string& path, const std::function<bool(std::string_view)>& on_bytes,
      std::chrono::milliseconds idle_timeout);

  const ServerUrl& server() const { return server_; }

 private:
  struct Io;
  std::expected<HttpResponse, HttpError> exchange(
      bool post, const std::string& path, const std::string& json_body,
      const std::function<bool(std::string_view)>* on_bytes,
      std::chrono::milliseconds idle_timeout);

  ServerUrl server_;
  std::string token_;
  std::function<bool()> interrupted_;
  std::chrono::milliseconds timeout_{30000};
  std::unique_ptr<Io> io_;
};

// "HTTP 400: unknown suite 'x.yaml'" from an error answer of the API ({"error": {...}}),
// else the status and the start of the body.
std::string describe_error_response(const HttpResponse&);

}  // namespace derma::client
