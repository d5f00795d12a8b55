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
// The same median, computed in the caller's scratch buffer, whose contents it overwrites:
// no copy, for hot loops that collect values only to take their median.
double median_destructive(std::span<double> scratch);

// Robust estimate of the standard deviation: 1.4826 * median absolute deviation. Unlike
// the sd, a few extreme values (channels in a surface, spikes in a trace) hardly move it.
double robust_sigma(std::span<const double> values);
// The same, when the caller already knows the values' median.
double robust_sigma(std::span<const double> values, double median_of_values);

// Process capability against the limits that exist. Cp needs both limits; Cpk is the
// one-sided index (Cpl or Cpu) when only one limit exists. Neither exists when sd == 0 or
// n < 2, because the spread is then unknown rather than zero.
// A Cpk from a sample is itself uncertain: with 50 channels a true Cpk of 1.33 reads
// anywhere from about 1.1 to 1.6. cpk_lcb95 is the value the true Cpk exceeds with 95 %
// confidence (see cpk_lower_bound), the figure a capability claim can stand on.
struct Capability {
  std::optional<double> cp;
  std::optional<double> cpk;
  std::optional<double> cpl;  // (mean - LSL) / 3 sd, with a lower limit
  std::optional<double> cpu;  // (USL - mean) / 3 sd, with an upper limit
  std::optional<double> cpk_lcb95;
};
Capability capability(const Summary& s, std::optional<double> lsl, std::optional<double> usl);

// One-sided lower confidence bound of Cpk from n values, by Bissell's normal approximation
// (A. F. Bissell, "How reliable is your capability index?", Applied Statistics 39(3),
// 1990, pp. 331-340):
//     Cpk_lcb = Cpk - z(confidence) * sqrt(1 / (9 n) + Cpk^2 / (2 (n - 1)))
// with z the standard normal quantile (1.645 at 95 %). Empty for n < 2.
std::optional<double> cpk_lower_bound(double cpk, std::size_t n, double confidence = 0.95);

// Standard normal distribution: cumulative probability and its inverse (p in (0, 1);
// NaN outside). The quantile is Acklam's rational approximation polished by one Halley
// step on erfc, accurate to about 1e-15.
double normal_cdf(double z);
double normal_quantile(double p);

// Regularised incomplete beta function I_x(a, b) (a, b > 0, x in [0, 1]), by the
// continued fraction of Numerical Recipes (3rd ed., section 6.4).
double incomplete_beta(double a, double b, double x);

// Upper-tail probability P(F > f) of Fisher's F distribution with (df1, df2) degrees of
// freedom: the p-value of an ANOVA F test. 1 for f <= 0.
double f_upper_tail(double f, double df1, double df2);

// Solves the n x n system A x = b in place by Gaussian elimination with partial pivoting.
// Returns false when A is (numerically) singular: the caller's fit is not determined.
bool solve_linear(std::vector<double>& a, std::vector<double>& b, int n);

}  // namespace derma::analysis
