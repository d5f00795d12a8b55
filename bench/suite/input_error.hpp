// A problem with a file the user gave us (suite, spec, roller): where it is and what it is.
#pragma once

#include <string>

namespace derma::suite {

struct InputError {
  std::string file;     // as the user named it
  int line = 0;         // 1-based; 0 when the problem is the whole file
  int column = 0;       // 1-based; 0 when unknown
  std::string message;  // what is wrong, naming the key, e.g. "steps[3].roll.speed_mm_s: ..."

  // "suite.yaml:12:5: steps[3].roll: speed_mm_s must be a number, got 'fast'"
  std::string to_string() const {
    std::string where = file;
    if (line > 0) where += ":" + std::to_string(line);
    if (line > 0 && column > 0) where += ":" + std::to_string(column);
    return where + ": " + message;
  }
};

}  // namespace derma::suite
