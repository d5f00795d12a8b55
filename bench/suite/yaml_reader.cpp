#include "bench/suite/yaml_reader.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

namespace derma::suite {

namespace {
std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}
}  // namespace

[[noreturn]] void YamlField::fail(const std::string& message) const {
  const YAML::Mark mark = node_.Mark();
  InputError error{*file_, mark.line >= 0 ? mark.line + 1 : 0,
                   mark.column >= 0 ? mark.column + 1 : 0,
                   (path_.empty() ? "" : path_ + ": ") + message};
  throw InputErrorException{std::move(error)};
}

YamlField YamlField::child(const std::string& key) const {
  auto found = optional_child(key);
  if (!found) fail("missing required key '" + key + "'");
  return *found;
}

std::optional<YamlField> YamlField::optional_child(const std::string& key) const {
  if (!node_.IsMap()) fail("expected a mapping with key '" + key + "'");
  YAML::Node value = node_[key];
  if (!value.IsDefined() || value.IsNull()) return std::nullopt;
  return YamlField(value, join_path(path_, key), *file_);
}

std::vector<YamlField> YamlField::items() const {
  if (!node_.IsSequence()) fail("expected a list");
  std::vector<YamlField> out;
  for (std::size_t i = 0; i < node_.size(); ++i)
    out.emplace_back(node_[i], path_ + "[" + std::to_string(i) + "]", *file_);
  return out;
}

void YamlField::expect_keys(std::initializer_list<const char*> known) const {
  if (!node_.IsMap()) fail("expected a mapping");
  for (const auto& entry : node_) {
    const std::string key = entry.first.as<std::string>();
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (ok) continue;
    std::string list;
    for (const char* k : known) list += std::string(list.empty() ? "" : ", ") + k;
    YamlField(entry.first, path_, *file_)
        .fail("unknown key '" + key + "' (expected one of: " + list + ")");
  }
}

std::string YamlField::as_string() const {
  if (!node_.IsScalar()) fail("expected a text value");
  return node_.Scalar();
}

double YamlField::as_number() const {
  if (!node_.IsScalar()) fail("expected a number");
  const std::string& text = node_.Scalar();
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !std::isfinite(value))
    fail("expected a number, got '" + text + "'");
  return value;
}

double YamlField::as_number_in(double min, double max, const char* unit) const {
  const double value = as_number();
  if (value < min || value > max) {
    std::ostringstream msg;
    msg << value << " " << unit << " is out of range [" << min << ", " << max << "] " << unit;
    fail(msg.str());
  }
  return value;
}

int YamlField::as_int_in(int min, int max) const {
  const double value = as_number();
  if (value != std::floor(value)) fail("expected a whole number, got '" + node_.Scalar() + "'");
  if (value < min || value > max)
    fail(std::to_string(static_cast<long long>(value)) + " is out of range [" +
         std::to_string(min) + ", " + std::to_string(max) + "]");
  return static_cast<int>(value);
}

std::expected<std::string, InputError> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(InputError{path, 0, 0, "cannot open file"});
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::expected<YAML::Node, InputError> parse_yaml_text(const std::string& text,
                                                      const std::string& file) {
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap())
      return std::unexpected(InputError{file, 0, 0, "expected a YAML mapping at the top level"});
    return root;
  } catch (const YAML::Exception& e) {
    return std::unexpected(
        InputError{file, e.mark.line + 1, e.mark.column + 1, "YAML syntax: " + e.msg});
  }
}

}  // namespace derma::suite
