#include "bench/analysis/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace derma::analysis {

Summary summarise(std::span<const double> values) {
  Summary s;
  s.n = values.size();
  if (values.empty()) return s;
  // Two passes (mean, then squared deviations): the one-pass formula loses precision
  // when the mean is large against the spread, as depths of ~500 um with sd ~5 um are.
  double sum = 0;
  s.min = values.front();
  s.max = values.front();
  for (double v : values) {
    sum += v;
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
  }
  s.mean = sum / static_cast<double>(s.n);
  if (s.n < 2) return s;
  double ss = 0;
  for (double v : values) ss += (v - s.mean) * (v - s.mean);
  s.sd = std::sqrt(ss / static_cast<double>(s.n - 1));
  return s;
}

double median(std::span<const double> values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::vector<double> copy(values.begin(), values.end());
  const auto mid = copy.begin() + static_cast<std::ptrdiff_t>(copy.size() / 2);
  std::nth_element(copy.begin(), mid, copy.end());
  if (copy.size() % 2 == 1) return *mid;
  // Even count: the mean of the two middle values; the lower one is the max of the left half.
  const double upper = *mid;
  const double lower = *std::max_element(copy.begin(), mid);
  return 0.5 * (lower + upper);
}

double robust_sigma(std::span<const double> values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double m = median(values);
  std::vector<double> deviations;
  deviations.reserve(values.size());
  for (double v : values) deviations.push_back(std::abs(v - m));
  // 1.4826 makes the MAD an unbiased estimate of sigma for normally distributed data.
  return 1.4826 * median(deviations);
}

Capability capability(const Summary& s, std::optional<double> lsl, std::optional<double> usl) {
  Capability c;
  if (s.n < 2 || !(s.sd > 0)) return c;
  if (lsl && usl) c.cp = (*usl - *lsl) / (6.0 * s.sd);
  std::optional<double> cpl, cpu;
  if (lsl) cpl = (s.mean - *lsl) / (3.0 * s.sd);
  if (usl) cpu = (*usl - s.mean) / (3.0 * s.sd);
  if (cpl && cpu) {
    c.cpk = std::min(*cpl, *cpu);
  } else if (cpl) {
    c.cpk = cpl;
  } else if (cpu) {
    c.cpk = cpu;
  }
  return c;
}

bool solve_linear(std::vector<double>& a, std::vector<double>& b, int n) {
  auto at = [&](int r, int c) -> double& { return a[static_cast<std::size_t>(r) * n + c]; };
  double scale = 0;
  for (double v : a) scale = std::max(scale, std::abs(v));
  if (!(scale > 0)) return false;
  const double tiny = scale * 1e-12;
  for (int col = 0; col < n; ++col) {
    int pivot = col;
    for (int r = col + 1; r < n; ++r)
      if (std::abs(at(r, col)) > std::abs(at(pivot, col))) pivot = r;
    if (std::abs(at(pivot, col)) <= tiny) return false;
    if (pivot != col) {
      for (int c = 0; c < n; ++c) std::swap(at(col, c), at(pivot, c));
      std::swap(b[col], b[pivot]);
    }
    for (int r = col + 1; r < n; ++r) {
      const double f = at(r, col) / at(col, col);
      if (f == 0) continue;
      for (int c = col; c < n; ++c) at(r, c) -= f * at(col, c);
      b[r] -= f * b[col];
    }
  }
  for (int r = n - 1; r >= 0; --r) {
    double v = b[r];
    for (int c = r + 1; c < n; ++c) v -= at(r, c) * b[c];
    b[r] = v / at(r, r);
  }
  return true;
}

}  // namespace derma::analysis
