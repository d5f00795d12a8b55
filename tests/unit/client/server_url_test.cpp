#include "bench/client/server_url.hpp"

#include <catch2/catch.hpp>

using derma::client::parse_server_url;

TEST_CASE("a plain http URL gives host and port and no prefix") {
  const auto url = parse_server_url("http://127.0.0.1:8735");
  REQUIRE(url);
  CHECK(url->host == "127.0.0.1");
  CHECK(url->port == 8735);
  CHECK(url->path_prefix.empty());
  CHECK(url->target("/api/v1/runs") == "/api/v1/runs");
  CHECK(url->host_header() == "127.0.0.1:8735");
}

TEST_CASE("an IPv6 literal in brackets and a path prefix are understood") {
  const auto url = parse_server_url("http://[::1]:9000/bench/");
  REQUIRE(url);
  CHECK(url->host == "::1");
  CHECK(url->port == 9000);
  CHECK(url->path_prefix == "/bench");
  CHECK(url->target("/api/v1/runs") == "/bench/api/v1/runs");
  CHECK(url->host_header() == "[::1]:9000");
  CHECK(url->to_string() == "http://[::1]:9000/bench");
}

TEST_CASE("without a port the URL means port 80, and without a scheme it means http") {
  const auto url = parse_server_url("bench-3.lab.example");
  REQUIRE(url);
  CHECK(url->host == "bench-3.lab.example");
  CHECK(url->port == 80);
  CHECK(url->host_header() == "bench-3.lab.example");
  const auto upper = parse_server_url("HTTP://Bench:8080/");
  REQUIRE(upper);
  CHECK(upper->port == 8080);
  CHECK(upper->path_prefix.empty());
}

TEST_CASE("URLs the client cannot use are refused with the reason") {
  const auto https = parse_server_url("https://bench:8735");
  REQUIRE_FALSE(https);
  CHECK(https.error().find("https") != std::string::npos);
  CHECK_FALSE(parse_server_url("ftp://bench"));
  CHECK_FALSE(parse_server_url("http://bench:0"));
  CHECK_FALSE(parse_server_url("http://bench:65536"));
  CHECK_FALSE(parse_server_url("http://bench:80a"));
  CHECK_FALSE(parse_server_url("http://bench:"));
  CHECK_FALSE(parse_server_url("http://:8735"));
  CHECK_FALSE(parse_server_url("http://[::1:8735"));
  CHECK_FALSE(parse_server_url("http://[::1]x"));
  CHECK_FALSE(parse_server_url("http://user:pw@bench:8735"));
  CHECK_FALSE(parse_server_url("http://bench:8735/x?y=1"));
  const auto bare_v6 = parse_server_url("http://::1:8735");
  REQUIRE_FALSE(bare_v6);
  CHECK(bare_v6.error().find("brackets") != std::string::npos);
}
