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
