// The daemon's URL space (docs/api.md): which endpoint a method and target name, and who may
// call it. Pure functions, so the routing and the access rules are unit-tested without sockets.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "bench/api/tokens.hpp"

namespace derma::api {

enum class Endpoint {
  Health,          // GET /healthz
  Metrics,         // GET /metrics
  ListRuns,        // GET /api/v1/runs
  SubmitRuns,      // POST /api/v1/runs
  GetRun,          // GET /api/v1/runs/{id}
  CancelRun,       // POST /api/v1/runs/{id}/cancel
  RunEvents,       // GET /api/v1/runs/{id}/events
  RunFile,         // GET /api/v1/runs/{id}/report.json | junit.xml | report.html | capture
  Rig,             // GET /api/v1/rig
  ReplacePhantom,  // POST /api/v1/rig/phantom
  GetLot,          // GET /api/v1/lots/{lot}
  NotFound,
  MethodNotAllowed,
};

struct Route {
  Endpoint endpoint = Endpoint::NotFound;
  std::int64_t run_id = 0;
  std::string file;  // RunFile: report.json, junit.xml, report.html or capture
  std::string lot;   // GetLot: the lot number, percent-decoded
  std::map<std::string, std::string> query;
};

Route match_route(std::string_view method, std::string_view target);

// Percent-decoding of a query component ('+' is a space); nullopt when malformed.
std::optional<std::string> url_decode(std::string_view text);

// Who is calling: a token's owner, or nobody (no Authorization header).
struct Caller {
  const ApiToken* token = nullptr;
  bool bad_token = false;  // a token was presented but matches none
};

// "Bearer SECRET" -> the matching token.
Caller identify(std::string_view authorization_header, const TokenTable& tokens);

enum class Access { Allowed, Unauthorized, Forbidden };

// The access rules: reads are open on loopback, else they need any valid token; submit needs
// any role; cancel needs operator or engineer, or ci for a run it submitted itself;
// replacing the phantom needs operator or engineer.
// `run_owner` is the name of the token that submitted the run (cancel only).
Access authorize(Endpoint endpoint, const Caller& caller, bool loopback_only,
                 const std::string& run_owner = "");

bool changes_state(Endpoint endpoint);

}  // namespace derma::api
