#include "bench/api/routes.hpp"

#include <charconv>
#include <vector>

namespace derma::api {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const std::size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return parts;
}

std::optional<std::int64_t> parse_id(std::string_view text) {
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    auto key = url_decode(pair.substr(0, eq));
    auto value = url_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (key && value && !key->empty()) out[*key] = *value;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

Route with(Endpoint endpoint, std::string_view method, std::string_view wanted) {
  Route route;
  route.endpoint = method == wanted ? endpoint : Endpoint::MethodNotAllowed;
  return route;
}

}  // namespace

std::optional<std::string> url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

Route match_route(std::string_view method, std::string_view target) {
  const std::size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const auto parts = split_path(path);
  Route route;
  if (parts.size() == 1 && parts[0] == "healthz") {
    route = with(Endpoint::Health, method, "GET");
  } else if (parts.size() == 1 && parts[0] == "metrics") {
    route = with(Endpoint::Metrics, method, "GET");
  } else if (parts.size() >= 3 && parts[0] == "api" && parts[1] == "v1") {
    if (parts.size() == 3 && parts[2] == "rig") {
      route = with(Endpoint::Rig, method, "GET");
    } else if (parts.size() == 4 && parts[2] == "rig" && parts[3] == "phantom") {
      route = with(Endpoint::ReplacePhantom, method, "POST");
    } else if (parts.size() == 4 && parts[2] == "lots") {
      auto lot = url_decode(parts[3]);
      if (!lot || lot->empty()) return route;  // NotFound
      route = with(Endpoint::GetLot, method, "GET");
      route.lot = *lot;
    } else if (parts[2] == "runs" && parts.size() == 3) {
      if (method == "GET")
        route.endpoint = Endpoint::ListRuns;
      else if (method == "POST")
        route.endpoint = Endpoint::SubmitRuns;
      else
        route.endpoint = Endpoint::MethodNotAllowed;
    } else if (parts[2] == "runs" && parts.size() <= 5) {
      const auto id = parse_id(parts[3]);
      if (!id) return route;  // NotFound
      if (parts.size() == 4) {
        route = with(Endpoint::GetRun, method, "GET");
      } else if (parts[4] == "cancel") {
        route = with(Endpoint::CancelRun, method, "POST");
      } else if (parts[4] == "events") {
        route = with(Endpoint::RunEvents, method, "GET");
      } else if (parts[4] == "report.json" || parts[4] == "junit.xml" ||
                 parts[4] == "report.html" || parts[4] == "capture") {
        route = with(Endpoint::RunFile, method, "GET");
        route.file = std::string(parts[4]);
      } else {
        return route;
      }
      route.run_id = *id;
    }
  }
  if (question != std::string_view::npos) route.query = parse_query(target.substr(question + 1));
  return route;
}

Caller identify(std::string_view header, const TokenTable& tokens) {
  Caller caller;
  if (header.empty()) return caller;
  constexpr std::string_view kScheme = "Bearer ";
  if (header.size() <= kScheme.size() || header.substr(0, kScheme.size()) != kScheme) {
    caller.bad_token = true;
    return caller;
  }
  std::string_view secret = header.substr(kScheme.size());
  while (!secret.empty() && secret.back() == ' ') secret.remove_suffix(1);
  caller.token = tokens.find(secret);
  caller.bad_token = caller.token == nullptr;
  return caller;
}

bool changes_state(Endpoint endpoint) {
  return endpoint == Endpoint::SubmitRuns || endpoint == Endpoint::CancelRun ||
         endpoint == Endpoint::ReplacePhantom;
}

Access authorize(Endpoint endpoint, const Caller& caller, bool loopback_only,
                 const std::string& run_owner) {
  if (caller.bad_token) return Access::Unauthorized;
  if (!changes_state(endpoint)) {
    return loopback_only || caller.token ? Access::Allowed : Access::Unauthorized;
  }
  if (!caller.token) return Access::Unauthorized;
  if (endpoint == Endpoint::SubmitRuns) return Access::Allowed;
  const Role role = caller.token->role;
  if (role == Role::Operator || role == Role::Engineer) return Access::Allowed;
  if (endpoint == Endpoint::ReplacePhantom) return Access::Forbidden;
  return caller.token->name == run_owner ? Access::Allowed : Access::Forbidden;
}

}  // namespace derma::api
