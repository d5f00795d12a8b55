#include "bench/analysis/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
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

namespace {

// The k-th smallest value (0-based) of `v`, and the one ranked just below it, exactly as
// std::nth_element would place them, in a few streaming passes instead of nth_element's
// branchy partitioning (3-5x faster on the few thousand values of a channel's
// surroundings). Bucket select: values are counted into equal-width buckets over a range
// [lo, hi], those beyond it into the end buckets; the bucket index never decreases as the
// value grows, so every value of a lower bucket ranks below every value of a higher one,
// and only the bucket holding rank k needs looking into. Its values are swapped to the
// front of `v` and the search repeats on them until few are left for nth_element. NaNs
// have no rank: with one present this falls back to plain nth_element, as median() always
// did.
struct Ranked {
  double kth = 0;
  double below = 0;  // rank k - 1; meaningful only for k > 0
};

struct BucketRange {
  double lo = 0, hi = 0;
  bool usable() const { return lo < hi && std::isfinite(hi - lo); }
};

// In two lanes: with one running min and max, each value waits for the comparison of the
// one before it.
BucketRange min_max(std::span<const double> v) {
  BucketRange a{v[0], v[0]}, b = a;
  std::size_t i = 0;
  for (; i + 2 <= v.size(); i += 2) {
    a.lo = std::min(a.lo, v[i]);
    a.hi = std::max(a.hi, v[i]);
    b.lo = std::min(b.lo, v[i + 1]);
    b.hi = std::max(b.hi, v[i + 1]);
  }
  if (i < v.size()) {
    a.lo = std::min(a.lo, v[i]);
    a.hi = std::max(a.hi, v[i]);
  }
  // A NaN first value makes the range unusable; later NaNs are found while counting.
  return {std::min(a.lo, b.lo), std::max(a.hi, b.hi)};
}

// On a large input the range is read off an evenly spaced sample: the sample's values ranked
// 47 % of it either side of k's place (for a median, the 3rd to the 97th percentile).
// [min, max] would let a few far values (the channels among a map's half a million surface
// residuals) crowd nearly every value into one bucket, costing several passes to separate
// them. The range still holds nearly all values, so that few share an end bucket (counting
// into the same bucket again and again is slow: each increment waits for the last). Whatever
// the sample, the selection stays exact: a rank k beyond the range lands in an end bucket,
// which the next pass narrows down like any other.
constexpr std::size_t kSampled = 16384;  // inputs at least this large take the sampled range
BucketRange sampled_range(std::span<const double> v, std::size_t k) {
  constexpr std::size_t kSample = 1024, kMargin = kSample * 47 / 100;
  double sample[kSample];
  const std::size_t n = v.size();
  for (std::size_t i = 0; i < kSample; ++i) sample[i] = v[i * n / kSample];
  const std::size_t at = k * kSample / n;
  const std::size_t lo_rank = at > kMargin ? at - kMargin : 0;
  const std::size_t hi_rank = std::min(kSample - 1, at + kMargin);
  if (std::any_of(sample, sample + kSample, [](double x) { return x != x; })) return {};
  std::nth_element(sample, sample + hi_rank, sample + kSample);
  std::nth_element(sample, sample + lo_rank, sample + hi_rank);
  return {sample[lo_rank], sample[hi_rank]};
}

Ranked select_rank(std::span<double> v, const std::size_t k_wanted) {
  constexpr std::size_t kBuckets = 256;
  // Below this, nth_element: on more values (a form cell's 64) its mispredicted branches cost
  // more than bucket passes (the 6,400 cell medians of a 16-megapixel map: 4.5 -> 3.0 ms).
  constexpr std::size_t kSmall = 8;
  std::size_t k = k_wanted, n = v.size();
  // The values ranked below the k-th all lie in v[0, below_scope): the input of the deepest
  // pass that left some values in lower buckets (passes only swap within their input).
  std::size_t below_scope = n;
  // Each value's bucket, worked out once per pass: the partition reads it back instead of
  // computing it again (that was half of a pass's work).
  // (On the stack for the inputs of a few thousand values that most medians have.)
  constexpr std::size_t kOnStack = 4096;
  unsigned char on_stack[kOnStack];
  std::vector<unsigned char> on_heap(n > kOnStack ? n : 0);
  unsigned char* const bucket_of = n > kOnStack ? on_heap.data() : on_stack;
  static_assert(kBuckets <= 256);
  for (int level = 0; level < 4 && n > kSmall; ++level) {
    const std::span<const double> values(v.data(), n);
    BucketRange range = n >= kSampled ? sampled_range(values, k) : BucketRange{};
    if (!range.usable()) range = min_max(values);  // also when the sample's values are all equal
    if (!range.usable()) break;
    const double lo = range.lo, hi = range.hi;
    // About two values a bucket on small inputs: clearing and scanning 256 counters would
    // cost more than the values (a form cell has 64).
    const std::size_t buckets = std::clamp<std::size_t>(n / 2, 16, kBuckets);
    const double scale = static_cast<double>(buckets) / (hi - lo);
    // Values beyond the range go to the end buckets. A NaN goes to bucket 0 here, but its
    // presence stops the search before any swap. Converted through int: a double to an
    // unsigned 64-bit integer takes several instructions on x86-64, to int one.
    const auto bucket = [&](double x) {
      const double at = std::min(std::max(0.0, (x - lo) * scale), double(buckets - 1));
      return static_cast<unsigned char>(static_cast<int>(at));
    };
    std::uint32_t count[kBuckets];
    std::fill_n(count, buckets, 0);
    bool has_nan = false;
    for (std::size_t i = 0; i < n; ++i) {
      bucket_of[i] = bucket(v[i]);
      ++count[bucket_of[i]];
      has_nan |= v[i] != v[i];
    }
    if (has_nan) break;
    std::size_t b = 0, before = 0;
    while (before + count[b] <= k) before += count[b++];
    // Swapped, not overwritten: `v` keeps every value, which the rank below may need. Without
    // a branch (bucket b often holds a tenth of the values: a branch on it mispredicts):
    // v[kept .. i) hold values of other buckets, so exchanging v[i] with v[kept] always keeps
    // every value, and `kept` moves on only when v[i] was in bucket b.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double x = v[i];
      v[i] = v[kept];
      v[kept] = x;
      kept += bucket_of[i] == b;
    }
    if (before > 0) below_scope = n;
    k -= before;
    n = kept;
  }
  const auto first = v.begin();
  const auto kth = first + static_cast<std::ptrdiff_t>(k);
  std::nth_element(first, kth, first + static_cast<std::ptrdiff_t>(n));
  Ranked out;
  out.kth = *kth;
  if (k > 0) {
    out.below = *std::max_element(first, kth);
  } else if (k_wanted > 0) {
    // Rank k - 1 lies in a lower bucket (equal values share a bucket, so it is smaller
    // than the k-th): the largest of the values below the k-th, all of them in the deepest
    // pass's input that had lower buckets. Not rare (the k-th is often first in a bucket of
    // a few), so not a pass over all of `v`.
    double below = -std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < below_scope; ++i)
      below = v[i] < out.kth ? std::max(below, v[i]) : below;
    out.below = below;
  }
  return out;
}

}  // namespace

double median_destructive(std::span<double> scratch) {
  if (scratch.empty()) return std::numeric_limits<double>::quiet_NaN();
  const std::size_t n = scratch.size();
  const Ranked r = select_rank(scratch, n / 2);
  if (n % 2 == 1) return r.kth;
  // Even count: the mean of the two middle values.
  return 0.5 * (r.below + r.kth);
}

double median(std::span<const double> values) {
  std::vector<double> copy(values.begin(), values.end());
  return median_destructive(copy);
}

double robust_sigma(std::span<const double> values, double median_of_values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::vector<double> deviations;
  deviations.reserve(values.size());
  for (double v : values) deviations.push_back(std::abs(v - median_of_values));
  // 1.4826 makes the MAD an unbiased estimate of sigma for normally distributed data.
  return 1.4826 * median_destructive(deviations);
}

double robust_sigma(std::span<const double> values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  return robust_sigma(values, median(values));
}

Capability capability(const Summary& s, std::optional<double> lsl, std::optional<double> usl) {
  Capability c;
  if (s.n < 2 || !(s.sd > 0)) return c;
  if (lsl && usl) c.cp = (*usl - *lsl) / (6.0 * s.sd);
  std::optional<double> cpl, cpu;
  if (lsl) cpl = (s.mean - *lsl) / (3.0 * s.sd);
  if (usl) cpu = (*usl - s.mean) / (3.0 * s.sd);
  c.cpl = cpl;
  c.cpu = cpu;
  if (cpl && cpu) {
    c.cpk = std::min(*cpl, *cpu);
  } else if (cpl) {
    c.cpk = cpl;
  } else if (cpu) {
    c.cpk = cpu;
  }
  if (c.cpk) c.cpk_lcb95 = cpk_lower_bound(*c.cpk, s.n, 0.95);
  return c;
}

std::optional<double> cpk_lower_bound(double cpk, std::size_t n, double confidence) {
  if (n < 2 || !(confidence > 0 && confidence < 1)) return std::nullopt;
  const double nn = static_cast<double>(n);
  // Bissell (1990): the sampling variance of Cpk-hat is about 1/(9n) + Cpk^2/(2(n-1)).
  const double se = std::sqrt(1.0 / (9.0 * nn) + cpk * cpk / (2.0 * (nn - 1.0)));
  return cpk - normal_quantile(confidence) * se;
}

double normal_cdf(double z) {
  return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

double normal_quantile(double p) {
  if (!(p > 0 && p < 1)) return std::numeric_limits<double>::quiet_NaN();
  // P. J. Acklam's rational approximations (relative error < 1.15e-9) for the central
  // region and the two tails.
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double p_low = 0.02425;
  double x = 0;
  if (p < p_low) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - p_low) {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  // One Halley step on the exact CDF brings it to full double precision.
  const double e = normal_cdf(x) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

namespace {

// Continued fraction of the incomplete beta function (modified Lentz's method).
double beta_continued_fraction(double a, double b, double x) {
  constexpr double tiny = 1e-300;
  constexpr double eps = 1e-15;
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (std::abs(d) < tiny) d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 10000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::abs(del - 1) < eps) break;
  }
  return h;
}

}  // namespace

double incomplete_beta(double a, double b, double x) {
  if (!(a > 0 && b > 0) || !(x >= 0 && x <= 1)) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0 || x == 1) return x;
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  const double front = std::exp(log_front);
  // The continued fraction converges fast for x < (a + 1) / (a + b + 2); else use the
  // symmetry I_x(a, b) = 1 - I_{1-x}(b, a).
  if (x < (a + 1) / (a + b + 2)) return front * beta_continued_fraction(a, b, x) / a;
  return 1 - front * beta_continued_fraction(b, a, 1 - x) / b;
}

double f_upper_tail(double f, double df1, double df2) {
  if (!(f > 0)) return 1.0;
  if (std::isinf(f)) return 0.0;
  // P(F > f) = I_{df2 / (df2 + df1 f)}(df2 / 2, df1 / 2).
  return incomplete_beta(df2 / 2, df1 / 2, df2 / (df2 + df1 * f));
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
