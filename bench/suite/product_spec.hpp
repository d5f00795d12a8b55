// A product spec: what a roller model must achieve, with the limits of every check.
// Files live in fixtures/specs/MODEL.yaml; their comments justify each limit.
#pragma once

#include <expected>
#include <string>

#include "bench/analysis/checks.hpp"
#include "bench/analysis/records.hpp"
#include "bench/suite/input_error.hpp"

namespace derma::suite {

struct ProductSpec {
  std::string model;  // e.g. DR-192-0.50
  std::string description;
  analysis::RollerGeometry geometry;
  analysis::SpecLimits limits;
  std::string file;  // path it was loaded from
  std::string text;  // the file's exact bytes, embedded in captures and reports
};

std::expected<ProductSpec, InputError> load_product_spec(const std::string& path);
// The same from the text of a spec (e.g. embedded in a capture); `file` names it in errors.
std::expected<ProductSpec, InputError> parse_product_spec(const std::string& text,
                                                          const std::string& file);

}  // namespace derma::suite
