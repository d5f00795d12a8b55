// A test double of the bench server for the client's unit tests: a loopback HTTP server on
// its own thread that answers each "METHOD /target" with the next of its canned raw
// responses (the last one repeats) and records every request. One request per connection,
// then the connection is closed, as the client asks. The real daemon is tested end to end
// by tests/integration/test_submit.py.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace derma::client::testing {

struct RecordedRequest {
  std::string method, target, authorization, body;
};

inline std::string http_answer(int status, const std::string& body,
                               const std::string& content_type = "application/json") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         body;
}

// An event stream that ends when the server closes the connection.
inline std::string event_stream(const std::string& events) {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
         "Connection: close\r\n\r\n" +
         events;
}

// A chunked event stream cut off mid-chunk: a connection dropped under the client.
inline std::string dropped_event_stream(const std::string& events) {
  char size[16];
  std::snprintf(size, sizeof size, "%zx", events.size() + 100);
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: "
         "chunked\r\n\r\n" +
         std::string(size) + "\r\n" + events;
}

class FakeServer {
 public:
  FakeServer() : acceptor_(context_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeServer() {
    stopping_ = true;
    boost::system::error_code ignored;
    boost::asio::ip::tcp::socket wake(context_);
    wake.connect(acceptor_.local_endpoint(), ignored);
    thread_.join();
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }

  void on(const std::string& method_and_target, std::vector<std::string> answers) {
    std::lock_guard lock(mutex_);
    routes_[method_and_target] = std::deque<std::string>(answers.begin(), answers.end());
  }

  std::vector<RecordedRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int count(const std::string& method, const std::string& target) const {
    int n = 0;
    for (const auto& r : requests())
      if (r.method == method && r.target == target) ++n;
    return n;
  }

 private:
  void serve() {
    namespace http = boost::beast::http;
    while (!stopping_) {
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket socket(context_);
      acceptor_.accept(socket, ec);
      if (ec || stopping_) continue;
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> request;
      http::read(socket, buffer, request, ec);
      if (ec) continue;
      const std::string key =
          std::string(request.method_string()) + " " + std::string(request.target());
      std::string answer =
          http_answer(404, R"({"error":{"code":"not_found","message":"no route"}})");
      {
        std::lock_guard lock(mutex_);
        requests_.push_back({std::string(request.method_string()), std::string(request.target()),
                             std::string(request[http::field::authorization]), request.body()});
        auto route = routes_.find(key);
        if (route != routes_.end() && !route->second.empty()) {
          answer = route->second.front();
          if (route->second.size() > 1) route->second.pop_front();
        }
      }
      boost::asio::write(socket, boost::asio::buffer(answer), ec);
      socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    }
  }

  boost::asio::io_context context_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::map<std::string, std::deque<std::string>> routes_;
  std::vector<RecordedRequest> requests_;
};

}  // namespace derma::client::testing
