#include <catch2/catch.hpp>
#include <cmath>

#include "bench/analysis/msa.hpp"

using namespace derma::analysis;

namespace {

// The gasket-thickness study of the SAS/QC GAGE application (Table A.1, "patterned after
// an example given in ASQC Automotive Division/AIAG (1990)"): 10 parts, operators
// George, Jane and Robert, 2 trials each, in mm.
GaugeStudyData gasket_study() {
  const double table[10][6] = {
      {0.65, 0.60, 0.55, 0.55, 0.50, 0.55}, {1.00, 1.00, 1.05, 0.95, 1.05, 1.00},
      {0.85, 0.80, 0.80, 0.75, 0.80, 0.80}, {0.85, 0.95, 0.80, 0.75, 0.80, 0.80},
      {0.55, 0.45, 0.40, 0.40, 0.45, 0.50}, {1.00, 1.00, 1.00, 1.05, 1.00, 1.05},
      {0.95, 0.95, 0.95, 0.90, 0.95, 0.95}, {0.85, 0.80, 0.75, 0.70, 0.80, 0.80},
      {1.00, 1.00, 1.00, 0.95, 1.05, 1.05}, {0.60, 0.70, 0.55, 0.50, 0.85, 0.80}};
  GaugeStudyData d;
  for (int i = 1; i <= 10; ++i) d.parts.push_back(std::to_string(i));
  d.appraisers = {"George", "Jane", "Robert"};
  d.trials = 2;
  for (const auto& part : table)
    for (double v : part) d.values.push_back(v);  // operator-major, trial-minor: our layout
  return d;
}

}  // namespace

TEST_CASE("gauge R&R by ANOVA reproduces the published gasket study") {
  GaugeStudyOptions options;
  options.tolerance = 0.4;  // specification 0.6-1.0 mm
  const auto study = gauge_rr_anova(gasket_study(), options);
  REQUIRE(study);
  // SAS/QC's variance-components report of this data (5.15 sigma): EV = 0.1851,
  // AV = 0.1555, %EV of tolerance 46.27 %, %AV 38.88 %.
  CHECK(5.15 * study->repeatability.sd == Approx(0.1851).margin(5e-5));
  CHECK(5.15 * study->appraiser.sd == Approx(0.1555).margin(5e-5));
  CHECK(100 * 5.15 * study->repeatability.sd / 0.4 == Approx(46.27).margin(0.01));
  CHECK(100 * 5.15 * study->appraiser.sd / 0.4 == Approx(38.88).margin(0.01));

  SECTION("the ANOVA table, worked by hand") {
    REQUIRE(study->anova.size() == 5);               // the interaction stays in the model
    CHECK(study->anova[0].ss == Approx(2.0587083));  // parts, 9 df
    CHECK(study->anova[1].ss == Approx(0.048));      // operators, 2 df
    CHECK(study->anova[2].ss == Approx(0.1036667));  // interaction, 18 df
    CHECK(study->anova[3].ss == Approx(0.03875));    // repeatability, 30 df
    CHECK(study->anova[4].ss == Approx(2.249125));   // total, 59 df
    CHECK(study->anova[2].df == 18);
    CHECK(study->anova[3].df == 30);
    REQUIRE(study->anova[2].f);
    CHECK(*study->anova[2].f == Approx(4.4587814));
    REQUIRE(study->interaction_p_value);
    CHECK(*study->interaction_p_value == Approx(0.000156).margin(2e-6));
    CHECK(study->interaction_in_model);
  }
  SECTION("the components, %GRR, ndc and the verdict") {
    CHECK(study->interaction.sd == Approx(0.0472631).epsilon(1e-5));
    CHECK(study->grr.sd == Approx(0.0666146).epsilon(1e-5));
    CHECK(study->part.sd == Approx(0.1927806).epsilon(1e-5));
    CHECK(study->total.sd == Approx(0.2039653).epsilon(1e-5));
    CHECK(study->grr.percent_of_total == Approx(32.66).margin(0.01));
    CHECK(study->part.percent_of_total == Approx(94.52).margin(0.01));
    REQUIRE(study->grr.percent_tolerance);
    CHECK(*study->grr.percent_tolerance == Approx(100 * 6 * 0.0666146 / 0.4).epsilon(1e-5));
    REQUIRE(study->ndc);
    CHECK(*study->ndc == Approx(4.08).margin(0.005));
    CHECK(study->distinct_categories == 4);
    CHECK(study->acceptance == GaugeAcceptance::Unacceptable);  // 32.7 % > 30 %
    CHECK(study->reproducibility.variance ==
          Approx(study->appraiser.variance + study->interaction.variance));
  }
}

TEST_CASE("an interaction the data do not show is pooled into repeatability") {
  // x = 10 + part effect (-1, 0, 1) + appraiser effect (-0.5, 0.5) +/- 0.1 by trial:
  // no interaction at all, so SS_PO = 0 and the error is pooled over 6 + 2 df.
  GaugeStudyData d;
  d.parts = {"a", "b", "c"};
  d.appraisers = {"lane 0", "lane 1"};
  d.trials = 2;
  for (double part : {-1.0, 0.0, 1.0})
    for (double appraiser : {-0.5, 0.5})
      for (double trial : {0.1, -0.1}) d.values.push_back(10 + part + appraiser + trial);
  const auto study = gauge_rr_anova(d);
  REQUIRE(study);
  CHECK_FALSE(study->interaction_in_model);
  REQUIRE(study->interaction_p_value);
  CHECK(*study->interaction_p_value == Approx(1.0));
  REQUIRE(study->anova.size() == 4);  // part, appraiser, pooled repeatability, total
  CHECK(study->anova[2].df == 8);
  // By hand: MS_pooled = 0.12 / 8; AV^2 = (3 - 0.015) / 6; PV^2 = (4 - 0.015) / 4.
  CHECK(study->repeatability.variance == Approx(0.015));
  CHECK(study->appraiser.variance == Approx(0.4975));
  CHECK(study->interaction.variance == 0);
  CHECK(study->part.variance == Approx(0.99625));
  CHECK(study->grr.variance == Approx(0.5125));
  CHECK(study->grand_mean == Approx(10.0));
}

TEST_CASE("one appraiser makes a repeatability-only study") {
  GaugeStudyData d;
  d.parts = {"roller 1", "roller 2"};
  d.appraisers = {"lane 0"};
  d.trials = 3;
  d.values = {300, 301, 302, 310, 311, 312};
  const auto study = gauge_rr_anova(d);
  REQUIRE(study);
  CHECK_FALSE(study->interaction_p_value);
  CHECK(study->appraiser.variance == 0);
  // By hand: within-part variance 1 (4 df); SS_P = 3 * (5^2 + 5^2) = 150 on 1 df, so
  // PV^2 = (150 - 1) / 3.
  CHECK(study->repeatability.variance == Approx(1.0));
  CHECK(study->part.variance == Approx(149.0 / 3.0));
}

TEST_CASE("AIAG's guidance on %GRR sorts gauges into three classes") {
  CHECK(gauge_acceptance(9.9) == GaugeAcceptance::Acceptable);
  CHECK(gauge_acceptance(10.0) == GaugeAcceptance::Conditional);
  CHECK(gauge_acceptance(30.0) == GaugeAcceptance::Conditional);
  CHECK(gauge_acceptance(30.1) == GaugeAcceptance::Unacceptable);
  CHECK(std::string(to_string(GaugeAcceptance::Conditional)) == "conditionally acceptable");
}

TEST_CASE("a table that is not a gauge study is refused with the reason") {
  GaugeStudyData d = gasket_study();
  SECTION("one trial shows no repeatability") {
    d.trials = 1;
    d.values.resize(30);
    const auto study = gauge_rr_anova(d);
    REQUIRE_FALSE(study);
    CHECK_THAT(study.error(), Catch::Contains("at least 2 trials"));
  }
  SECTION("a missing value") {
    d.values.pop_back();
    const auto study = gauge_rr_anova(d);
    REQUIRE_FALSE(study);
    CHECK_THAT(study.error(), Catch::Contains("59 values"));
  }
  SECTION("a value that is not a number") {
    d.values[7] = std::nan("");
    REQUIRE_FALSE(gauge_rr_anova(d));
  }
  SECTION("a single part") {
    d.parts.resize(1);
    d.values.resize(6);
    REQUIRE_FALSE(gauge_rr_anova(d));
  }
}
