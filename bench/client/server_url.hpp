// The address of a bench server as a CI job gives it: http://HOST[:PORT][/PREFIX].
// HOST may be a name, an IPv4 literal or an IPv6 literal in brackets ([::1]); PREFIX is a
// path a reverse proxy may put in front of the API (/bench -> /bench/api/v1/runs).
// Only http:// (the daemon speaks plain HTTP; TLS belongs to a proxy in front of it).
#pragma once

#include <cstdint>
#include <expected>
#include <string>

namespace derma::client {

struct ServerUrl {
  std::string host;  // without brackets: ::1, 127.0.0.1, bench.example
  std::uint16_t port = 80;
  std::string path_prefix;  // "" or "/something" (no trailing slash)

  // The value of the Host header: host[:port], IPv6 literals bracketed.
  std::string host_header() const;
  // prefix + path, path starting with '/'.
  std::string target(const std::string& path) const;
  // http://host:port/prefix, for messages.
  std::string to_string() const;
};

// Parses URL; the error says what is wrong with it ("--server ..." is up to the caller).
std::expected<ServerUrl, std::string> parse_server_url(const std::string& url);

}  // namespace derma::client
