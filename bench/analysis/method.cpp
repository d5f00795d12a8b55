#include "bench/analysis/method.hpp"

namespace derma::analysis {

const char* analysis_method_summary(int version) {
  switch (version) {
    case 1:
      return "method 1: Gaussian pit model (ln-depth quadratic on 5 x 5 pixels, global plane)";
    case 2:
      return "method 2: local reference ring, bounded floor, unreadable floors unmeasured "
             "(docs/measurement.md)";
    default:
      return "unknown method version";
  }
}

}  // namespace derma::analysis
