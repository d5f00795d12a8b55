// Strict, located reading of YAML documents: every value is read through a YamlField that
// knows its file, its key path and its line, so that every error names all three.
// Unknown keys are errors: a misspelt limit must not silently fall back to a default.
#pragma once

#include <yaml-cpp/yaml.h>

#include <expected>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "bench/suite/input_error.hpp"

namespace derma::suite {

// Thrown inside the loaders only; converted to std::expected at their boundary.
struct InputErrorException {
  InputError error;
};

class YamlField {
 public:
  YamlField(YAML::Node node, std::string path, const std::string& file)
      : node_(std::move(node)), path_(std::move(path)), file_(&file) {}

  const std::string& path() const { return path_; }
  const YAML::Node& node() const { return node_; }
  bool is_map() const { return node_.IsMap(); }
  bool is_sequence() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }

  // Child of a map; `required` ones fail with "missing key" when absent.
  YamlField child(const std::string& key) const;
  std::optional<YamlField> optional_child(const std::string& key) const;
  std::vector<YamlField> items() const;  // elements of a sequence

  // Fails naming the first key of this map that is not in `known`.
  void expect_keys(std::initializer_list<const char*> known) const;

  std::string as_string() const;
  double as_number() const;
  // A number within [min, max], the message naming the unit.
  double as_number_in(double min, double max, const char* unit) const;
  int as_int_in(int min, int max) const;

  [[noreturn]] void fail(const std::string& message) const;

 private:
  YAML::Node node_;
  std::string path_;
  const std::string* file_;
};

// The whole file as text ("cannot open file" names it otherwise).
std::expected<std::string, InputError> read_text_file(const std::string& path);
// Parses a YAML document whose top level must be a mapping; syntax errors come back
// located in `file` (the name the text came from).
std::expected<YAML::Node, InputError> parse_yaml_text(const std::string& text,
                                                      const std::string& file);

}  // namespace derma::suite
