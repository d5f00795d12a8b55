#include "bench/api/tokens.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

namespace derma::api {

const char* to_string(Role role) {
  switch (role) {
    case Role::Operator:
      return "operator";
    case Role::Engineer:
      return "engineer";
    case Role::Ci:
      return "ci";
  }
  return "?";
}

std::optional<Role> role_from(std::string_view text) {
  if (text == "operator") return Role::Operator;
  if (text == "engineer") return Role::Engineer;
  if (text == "ci") return Role::Ci;
  return std::nullopt;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  const std::size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

namespace {

std::string where(const std::string& file, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return file + (mark.line >= 0 ? ":" + std::to_string(mark.line + 1) : "");
}

std::expected<std::string, std::string> text_field(const YAML::Node& entry, const char* key,
                                                   const std::string& path,
                                                   const std::string& file) {
  const YAML::Node value = entry[key];
  if (!value) return std::unexpected(where(file, entry) + ": " + path + ": missing '" + key + "'");
  if (!value.IsScalar() || value.Scalar().empty())
    return std::unexpected(where(file, value) + ": " + path + "." + key +
                           ": must be a non-empty string");
  return value.Scalar();
}

}  // namespace

std::expected<TokenTable, std::string> TokenTable::parse(const std::string& text,
                                                         const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return std::unexpected(file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!root.IsMap() || !root["tokens"] || !root["tokens"].IsSequence())
    return std::unexpected(file + ": expected a map with a list 'tokens: [{name, role, token}]'");
  TokenTable table;
  std::set<std::string> names;
  int i = 0;
  for (const YAML::Node& entry : root["tokens"]) {
    const std::string path = "tokens[" + std::to_string(i++) + "]";
    if (!entry.IsMap()) return std::unexpected(where(file, entry) + ": " + path + ": not a map");
    auto name = text_field(entry, "name", path, file);
    if (!name) return std::unexpected(name.error());
    auto role_text = text_field(entry, "role", path, file);
    if (!role_text) return std::unexpected(role_text.error());
    auto secret = text_field(entry, "token", path, file);
    if (!secret) return std::unexpected(secret.error());
    const auto role = role_from(*role_text);
    if (!role)
      return std::unexpected(where(file, entry["role"]) + ": " + path + ".role: '" + *role_text +
                             "' is not a role (operator, engineer, ci)");
    if (secret->size() < 16)
      return std::unexpected(where(file, entry["token"]) + ": " + path +
                             ".token: too short (at least 16 characters)");
    if (!names.insert(*name).second)
      return std::unexpected(where(file, entry) + ": " + path + ".name: '" + *name +
                             "' appears twice");
    for (const ApiToken& other : table.tokens_)
      if (other.secret == *secret)
        return std::unexpected(where(file, entry["token"]) + ": " + path +
                               ".token: same secret as '" + other.name + "'");
    table.tokens_.push_back({*name, *role, *secret});
  }
  if (table.tokens_.empty()) return std::unexpected(file + ": 'tokens' is empty");
  return table;
}

std::expected<TokenTable, std::string> TokenTable::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(path + ": cannot read the token file");
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

const ApiToken* TokenTable::find(std::string_view presented) const {
  const ApiToken* found = nullptr;
  for (const ApiToken& token : tokens_)
    if (constant_time_equal(token.secret, presented) && !found) found = &token;
  return found;
}

}  // namespace derma::api
