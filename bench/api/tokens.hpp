// API tokens of `bench serve`: who may do what. Loaded from the YAML file given with
// --token-file:
//
//   tokens:
//     - {name: ci-main, role: ci, token: "..."}
//     - {name: alice, role: operator, token: "..."}
//
// Roles: operator (runs the rig), engineer (writes suites, may cancel anything), ci (submits
// runs and may cancel only its own). Presented tokens are compared in constant time.
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace derma::api {

enum class Role { Operator, Engineer, Ci };
const char* to_string(Role);
std::optional<Role> role_from(std::string_view);

struct ApiToken {
  std::string name;
  Role role = Role::Ci;
  std::string secret;
};

// Compares every byte of the longer input whatever the contents, so the time taken does not
// tell an attacker how many leading bytes of a guess were right.
bool constant_time_equal(std::string_view a, std::string_view b);

class TokenTable {
 public:
  // Errors name the file, the line and the problem ("tokens.yaml:4: tokens[1].role: ...").
  static std::expected<TokenTable, std::string> parse(const std::string& text,
                                                      const std::string& file);
  static std::expected<TokenTable, std::string> load(const std::string& path);

  // The token whose secret equals `presented`; every token is compared (no early exit).
  const ApiToken* find(std::string_view presented) const;
  bool empty() const { return tokens_.empty(); }
  const std::vector<ApiToken>& tokens() const { return tokens_; }

 private:
  std::vector<ApiToken> tokens_;
};

}  // namespace derma::api
