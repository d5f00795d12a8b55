#include <algorithm>
#include <catch2/catch.hpp>
#include <random>

#include "bench/analysis/statistics.hpp"

using namespace derma::analysis;

TEST_CASE("summarise gives mean, sample sd, min and max") {
  const std::vector<double> v{2, 4, 4, 4, 5, 5, 7, 9};
  const Summary s = summarise(v);
  CHECK(s.n == 8);
  CHECK(s.mean == Approx(5.0));
  CHECK(s.sd == Approx(std::sqrt(32.0 / 7.0)));  // n - 1 in the denominator
  CHECK(s.min == 2);
  CHECK(s.max == 9);
}

TEST_CASE("summarise of one value has no spread, and of none has no count") {
  const std::vector<double> one{3.5};
  CHECK(summarise(one).sd == 0);
  CHECK(summarise(one).mean == 3.5);
  CHECK(summarise(std::vector<double>{}).n == 0);
}

TEST_CASE("median handles odd and even counts without reordering the input") {
  std::vector<double> odd{5, 1, 3};
  CHECK(median(odd) == 3);
  CHECK(odd == std::vector<double>{5, 1, 3});
  CHECK(median(std::vector<double>{4, 1, 3, 2}) == 2.5);
}

namespace {
double sorted_median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
}  // namespace

TEST_CASE("the median is exactly the middle of the sorted values, whatever their spread") {
  // The selection narrows by buckets of value; these shapes put the middle ranks across
  // bucket edges, in one crowded bucket, among duplicates and beside far outliers; large
  // inputs take their buckets' range from a sample, which shape 5 fills with outliers.
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0.0, 0.5);
  std::uniform_int_distribution<int> small(0, 3);
  for (std::size_t n : {1u, 2u, 3u, 64u, 65u, 66u, 257u, 1000u, 4566u, 4567u, 16384u, 16385u,
                        100000u}) {
    for (int shape = 0; shape < 6; ++shape) {
      std::vector<double> v(n);
      for (std::size_t i = 0; i < n; ++i) {
        switch (shape) {
          case 0:
            v[i] = noise(rng);
            break;  // surface noise
          case 1:
            v[i] = i % 20 == 0 ? -300 + noise(rng) : noise(rng);
            break;  // channels
          case 2:
            v[i] = small(rng);
            break;  // duplicates
          case 3:
            v[i] = 7.25;
            break;  // all equal
          case 4:
            v[i] = (i % 2 ? 1e6 : -1e6) + noise(rng);
            break;  // two clusters
          default:
            v[i] = i % 16 == 0 ? 1e6 + noise(rng) : noise(rng);
            break;  // every sampled value far from the middle
        }
      }
      INFO("n = " << n << ", shape " << shape);
      const double expected = sorted_median(v);
      CHECK(median(v) == expected);
      std::vector<double> scratch = v;
      CHECK(median_destructive(scratch) == expected);
      CHECK(robust_sigma(v, expected) == robust_sigma(v));
    }
  }
}

TEST_CASE("robust sigma matches the sd of normal data and ignores a few outliers") {
  std::mt19937 rng(7);
  std::normal_distribution<double> normal(10.0, 2.0);
  std::vector<double> v(20000);
  for (double& x : v) x = normal(rng);
  CHECK(robust_sigma(v) == Approx(2.0).epsilon(0.03));
  for (std::size_t i = 0; i < 400; ++i) v[i] = -1000;  // 2 % deep channels
  CHECK(robust_sigma(v) == Approx(2.0).epsilon(0.06));
  CHECK(summarise(v).sd > 100);  // what the plain sd would have said
}

TEST_CASE("Cp and Cpk follow the textbook formulas") {
  Summary s;
  s.n = 50;
  s.mean = 360;
  s.sd = 10;
  SECTION("two-sided") {
    const Capability c = capability(s, 300.0, 400.0);
    REQUIRE(c.cp);
    REQUIRE(c.cpk);
    CHECK(*c.cp == Approx(100.0 / 60.0));
    CHECK(*c.cpk == Approx(40.0 / 30.0));  // the nearer limit rules
  }
  SECTION("lower limit only gives Cpl and no Cp") {
    const Capability c = capability(s, 300.0, std::nullopt);
    CHECK_FALSE(c.cp);
    REQUIRE(c.cpk);
    CHECK(*c.cpk == Approx(2.0));
  }
  SECTION("no spread leaves capability undefined") {
    s.sd = 0;
    CHECK_FALSE(capability(s, 300.0, 400.0).cpk);
  }
}

TEST_CASE("solve_linear solves a system and refuses a singular one") {
  std::vector<double> a{2, 1, 1, 3};
  std::vector<double> b{3, 5};
  REQUIRE(solve_linear(a, b, 2));
  CHECK(b[0] == Approx(0.8));
  CHECK(b[1] == Approx(1.4));
  std::vector<double> singular{1, 2, 2, 4};
  std::vector<double> rhs{1, 2};
  CHECK_FALSE(solve_linear(singular, rhs, 2));
}

TEST_CASE("capability also reports Cpl, Cpu and the 95 % lower bound of Cpk") {
  Summary s;
  s.n = 50;
  s.mean = 360;
  s.sd = 10;
  const Capability c = capability(s, 300.0, 400.0);
  REQUIRE(c.cpl);
  REQUIRE(c.cpu);
  CHECK(*c.cpl == Approx(2.0));
  CHECK(*c.cpu == Approx(40.0 / 30.0));
  REQUIRE(c.cpk_lcb95);
  CHECK(*c.cpk_lcb95 == Approx(*cpk_lower_bound(*c.cpk, 50)));
  CHECK(*c.cpk_lcb95 < *c.cpk);
}

TEST_CASE("the lower bound of Cpk follows Bissell's approximation") {
  // By hand: 1.33 - 1.6449 * sqrt(1 / (9 * 50) + 1.33^2 / (2 * 49)) = 1.33 - 0.2342.
  REQUIRE(cpk_lower_bound(1.33, 50));
  CHECK(*cpk_lower_bound(1.33, 50) == Approx(1.0958).margin(1e-4));
  SECTION("more data tightens the bound") {
    CHECK(*cpk_lower_bound(1.33, 500) > *cpk_lower_bound(1.33, 50));
  }
  SECTION("a higher confidence lowers it") {
    CHECK(*cpk_lower_bound(1.33, 50, 0.99) < *cpk_lower_bound(1.33, 50, 0.95));
  }
  SECTION("one value bounds nothing") {
    CHECK_FALSE(cpk_lower_bound(1.33, 1));
  }
}

TEST_CASE("the normal quantile inverts the normal distribution to table precision") {
  CHECK(normal_quantile(0.5) == Approx(0.0).margin(1e-15));
  CHECK(normal_quantile(0.95) == Approx(1.6448536269514722).epsilon(1e-12));
  CHECK(normal_quantile(0.975) == Approx(1.959963984540054).epsilon(1e-12));
  CHECK(normal_quantile(0.001) == Approx(-3.090232306167813).epsilon(1e-12));
  CHECK(normal_cdf(normal_quantile(1e-9)) == Approx(1e-9).epsilon(1e-9));
  CHECK(std::isnan(normal_quantile(0.0)));
  CHECK(std::isnan(normal_quantile(1.0)));
}

TEST_CASE("the F distribution's upper tail matches closed forms and table values") {
  SECTION("with 2 numerator degrees of freedom the tail is (1 + 2f/d2)^(-d2/2)") {
    CHECK(f_upper_tail(3.0, 2, 10) == Approx(std::pow(1.6, -5.0)).epsilon(1e-10));
    CHECK(f_upper_tail(0.5, 2, 7) == Approx(std::pow(1 + 1.0 / 7, -3.5)).epsilon(1e-10));
  }
  SECTION("5 % and 1 % critical values of F tables") {
    CHECK(f_upper_tail(3.3258, 5, 10) == Approx(0.05).margin(1e-4));
    CHECK(f_upper_tail(5.3903, 2, 30) == Approx(0.01).margin(1e-4));
    CHECK(f_upper_tail(4.9646, 1, 10) == Approx(0.05).margin(1e-4));
  }
  SECTION("no effect is certain to be exceeded") {
    CHECK(f_upper_tail(0.0, 3, 8) == 1.0);
  }
  SECTION("I_x(1, 1) is x") {
    CHECK(incomplete_beta(1, 1, 0.3) == Approx(0.3));
  }
}
