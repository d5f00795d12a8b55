// Descriptive statistics and process capability for the checks. Small and separate so
// the formulas (sample sd, Cp, Cpk, robust sigma) are tested on their own.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace derma::analysis {

struct Summary {
  std::size_t n = 0;
  double mean = 0;
  double sd = 0;  // sample standard deviation (n - 1); 0 when n < 2
  double min = 0;
  double max = 0;
};

Summary summarise(std::span<const double> values);

// Median of the values (copied: the input is left untouched). NaN for an empty input.
double median(std::span<const double> values);

// Robust estimate of the standard deviation: 1.4826 * median absolute deviation. Unlike
// the sd, a few extreme values (channels in a surface, spikes in a trace) hardly move it.
double robust_sigma(std::span<const double> values);

// Process capability against the limits that exist. Cp needs both limits; Cpk is the
// one-sided index (Cpl or Cpu) when only one limit exists. Neither exists when sd == 0 or
// n < 2, because the spread is then unknown rather than zero.
struct Capability {
  std::optional<double> cp;
  std::optional<double> cpk;
};
Capability capability(const Summary& s, std::optional<double> lsl, std::optional<double> usl);

// Solves the n x n system A x = b in place by Gaussian elimination with partial pivoting.
// Returns false when A is (numerically) singular: the caller's fit is not determined.
bool solve_linear(std::vector<double>& a, std::vector<double>& b, int n);

}  // namespace derma::analysis
