#include "bench/client/server_url.hpp"

#include <cctype>

namespace derma::client {

namespace {

bool is_ipv6(const std::string& host) {
  return host.find(':') != std::string::npos;
}

std::expected<std::uint16_t, std::string> parse_port(const std::string& text) {
  if (text.empty() || text.size() > 5) return std::unexpected("port '" + text + "' is not 1-65535");
  unsigned value = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return std::unexpected("port '" + text + "' is not a number");
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::unexpected("port '" + text + "' is not 1-65535");
  return static_cast<std::uint16_t>(value);
}

bool valid_host_name(const std::string& host) {
  for (char c : host)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_')
      return false;
  return !host.empty();
}

}  // namespace

std::string ServerUrl::host_header() const {
  const std::string h = is_ipv6(host) ? "[" + host + "]" : host;
  return port == 80 ? h : h + ":" + std::to_string(port);
}

std::string ServerUrl::target(const std::string& path) const {
  return path_prefix + path;
}

std::string ServerUrl::to_string() const {
  const std::string h = is_ipv6(host) ? "[" + host + "]" : host;
  return "http://" + h + ":" + std::to_string(port) + path_prefix;
}

std::expected<ServerUrl, std::string> parse_server_url(const std::string& url) {
  std::string rest = url;
  const auto scheme_end = rest.find("://");
  if (scheme_end != std::string::npos) {
    std::string scheme = rest.substr(0, scheme_end);
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme == "https")
      return std::unexpected(
          "https is not supported: the bench server speaks plain http (put "
          "TLS in a reverse proxy and give its http address, or a tunnel)");
    if (scheme != "http") return std::unexpected("scheme '" + scheme + "' is not http");
    rest = rest.substr(scheme_end + 3);
  }
  if (rest.find_first_of("?#") != std::string::npos)
    return std::unexpected("a server URL has no query or fragment: '" + url + "'");

  const auto path_start = rest.find('/');
  std::string authority = rest.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "" : rest.substr(path_start);
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (authority.find('@') != std::string::npos)
    return std::unexpected("credentials in the URL are not supported: use --token-file");

  ServerUrl out;
  out.path_prefix = path;
  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos)
      return std::unexpected("IPv6 address without ']' in '" + url + "'");
    out.host = authority.substr(1, close - 1);
    const std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::unexpected("unexpected '" + after + "' after ']'");
      port_text = after.substr(1);
      if (port_text.empty()) return std::unexpected("empty port in '" + url + "'");
    }
    if (out.host.empty() ||
        out.host.find_first_not_of("0123456789abcdefABCDEF:.%") != std::string::npos)
      return std::unexpected("'" + out.host + "' is not an IPv6 address");
  } else {
    const auto colon = authority.find(':');
    if (colon != std::string::npos && authority.find(':', colon + 1) != std::string::npos)
      return std::unexpected("an IPv6 address goes in brackets: http://[" + authority + "]:PORT");
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return std::unexpected("empty port in '" + url + "'");
    }
    if (out.host.empty()) return std::unexpected("no host in '" + url + "'");
    if (!valid_host_name(out.host)) return std::unexpected("'" + out.host + "' is not a host name");
  }
  if (!port_text.empty()) {
    auto port = parse_port(port_text);
    if (!port) return std::unexpected(port.error());
    out.port = *port;
  }
  return out;
}

}  // namespace derma::client
