#include "bench/analysis/msa.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "bench/analysis/statistics.hpp"

namespace derma::analysis {

const char* to_string(GaugeAcceptance a) {
  switch (a) {
    case GaugeAcceptance::Acceptable:
      return "acceptable";
    case GaugeAcceptance::Conditional:
      return "conditionally acceptable";
    case GaugeAcceptance::Unacceptable:
      return "unacceptable";
  }
  return "?";
}

GaugeAcceptance gauge_acceptance(double percent_grr) {
  if (percent_grr < 10.0) return GaugeAcceptance::Acceptable;
  if (percent_grr <= 30.0) return GaugeAcceptance::Conditional;
  return GaugeAcceptance::Unacceptable;
}

namespace {

std::string describe_shape(const GaugeStudyData& d) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%zu parts x %zu appraisers x %d trials", d.parts.size(),
                d.appraisers.size(), d.trials);
  return buf;
}

std::optional<std::string> validate(const GaugeStudyData& d) {
  if (d.parts.size() < 2) return "a gauge study needs at least 2 parts (" + describe_shape(d) + ")";
  if (d.appraisers.empty()) return "a gauge study needs at least 1 appraiser";
  if (d.trials < 2)
    return "a gauge study needs at least 2 trials to see repeatability (" + describe_shape(d) + ")";
  const std::size_t expected = d.parts.size() * d.appraisers.size() * std::size_t(d.trials);
  if (d.values.size() != expected)
    return "the study has " + std::to_string(d.values.size()) + " values where " +
           describe_shape(d) + " needs " + std::to_string(expected);
  for (std::size_t i = 0; i < d.values.size(); ++i)
    if (!std::isfinite(d.values[i])) return "value " + std::to_string(i) + " is not a number";
  return std::nullopt;
}

// Sums of squares of the balanced two-way layout with replication.
struct SumsOfSquares {
  double grand_mean = 0;
  double part = 0, appraiser = 0, interaction = 0, error = 0, total = 0;
};

SumsOfSquares sums_of_squares(const GaugeStudyData& d) {
  const std::size_t p = d.parts.size(), o = d.appraisers.size();
  const std::size_t r = static_cast<std::size_t>(d.trials);
  std::vector<double> part_mean(p, 0.0), appraiser_mean(o, 0.0), cell_mean(p * o, 0.0);
  double sum = 0;
  for (std::size_t i = 0; i < p; ++i)
    for (std::size_t j = 0; j < o; ++j)
      for (std::size_t k = 0; k < r; ++k) {
        const double x = d.at(i, j, k);
        sum += x;
        part_mean[i] += x;
        appraiser_mean[j] += x;
        cell_mean[i * o + j] += x;
      }
  SumsOfSquares ss;
  ss.grand_mean = sum / double(p * o * r);
  for (double& m : part_mean) m /= double(o * r);
  for (double& m : appraiser_mean) m /= double(p * r);
  for (double& m : cell_mean) m /= double(r);
  // Deviations from the grand mean, not raw sums of squares: depths of ~300 um with a
  // spread of ~1 um would lose most of their digits in the textbook shortcut formulas.
  for (double m : part_mean) ss.part += double(o * r) * (m - ss.grand_mean) * (m - ss.grand_mean);
  for (double m : appraiser_mean)
    ss.appraiser += double(p * r) * (m - ss.grand_mean) * (m - ss.grand_mean);
  for (std::size_t i = 0; i < p; ++i)
    for (std::size_t j = 0; j < o; ++j) {
      const double cell = cell_mean[i * o + j];
      const double effect = cell - part_mean[i] - appraiser_mean[j] + ss.grand_mean;
      ss.interaction += double(r) * effect * effect;
      for (std::size_t k = 0; k < r; ++k) {
        const double x = d.at(i, j, k);
        ss.error += (x - cell) * (x - cell);
        ss.total += (x - ss.grand_mean) * (x - ss.grand_mean);
      }
    }
  return ss;
}

AnovaRow row(std::string source, int df, double ss) {
  return AnovaRow{std::move(source), df, ss, df > 0 ? ss / df : 0.0, std::nullopt, std::nullopt};
}

// F test of `tested` against `denominator`; a zero denominator makes any effect certain.
void f_test(AnovaRow& tested, const AnovaRow& denominator) {
  if (tested.df <= 0 || denominator.df <= 0) return;
  if (denominator.ms > 0) {
    tested.f = tested.ms / denominator.ms;
    tested.p_value = f_upper_tail(*tested.f, tested.df, denominator.df);
  } else {
    tested.f = tested.ms > 0 ? std::numeric_limits<double>::infinity() : 0.0;
    tested.p_value = tested.ms > 0 ? 0.0 : 1.0;
  }
}

VarianceComponent component(double variance) {
  VarianceComponent c;
  c.variance = std::max(0.0, variance);
  c.sd = std::sqrt(c.variance);
  return c;
}

}  // namespace

std::expected<GaugeStudy, std::string> gauge_rr_anova(const GaugeStudyData& data,
                                                      const GaugeStudyOptions& options) {
  if (auto problem = validate(data)) return std::unexpected(*problem);
  if (options.tolerance && !(*options.tolerance > 0))
    return std::unexpected(std::string("the tolerance (USL - LSL) must be positive"));

  const int p = static_cast<int>(data.parts.size());
  const int o = static_cast<int>(data.appraisers.size());
  const int r = data.trials;
  const SumsOfSquares ss = sums_of_squares(data);

  GaugeStudy study;
  study.parts = p;
  study.appraisers = o;
  study.trials = r;
  study.grand_mean = ss.grand_mean;

  AnovaRow part_row = row("part", p - 1, ss.part);
  AnovaRow appraiser_row = row("appraiser", o - 1, ss.appraiser);
  AnovaRow interaction_row = row("part_x_appraiser", (p - 1) * (o - 1), ss.interaction);
  AnovaRow error_row = row("repeatability", p * o * (r - 1), ss.error);
  const AnovaRow total_row = row("total", p * o * r - 1, ss.total);

  // Keep the interaction only if the data show it (one appraiser has none to show).
  if (o > 1) {
    f_test(interaction_row, error_row);
    study.interaction_p_value = interaction_row.p_value;
    study.interaction_in_model = interaction_row.p_value.value_or(1.0) <= options.interaction_alpha;
  }

  double ev2 = 0, int2 = 0, av2 = 0, pv2 = 0;
  if (study.interaction_in_model) {
    f_test(part_row, interaction_row);
    f_test(appraiser_row, interaction_row);
    ev2 = error_row.ms;
    int2 = (interaction_row.ms - error_row.ms) / r;
    av2 = (appraiser_row.ms - interaction_row.ms) / (p * r);
    pv2 = (part_row.ms - interaction_row.ms) / (o * r);
    study.anova = {part_row, appraiser_row, interaction_row, error_row, total_row};
  } else {
    AnovaRow pooled =
        row("repeatability", error_row.df + interaction_row.df, error_row.ss + interaction_row.ss);
    f_test(part_row, pooled);
    ev2 = pooled.ms;
    pv2 = (part_row.ms - pooled.ms) / (o * r);
    study.anova = {part_row};
    if (o > 1) {
      f_test(appraiser_row, pooled);
      av2 = (appraiser_row.ms - pooled.ms) / (p * r);
      study.anova.push_back(appraiser_row);
    }
    study.anova.push_back(pooled);
    study.anova.push_back(total_row);
  }

  study.repeatability = component(ev2);
  study.appraiser = component(av2);
  study.interaction = component(int2);
  study.reproducibility = component(study.appraiser.variance + study.interaction.variance);
  study.grr = component(study.repeatability.variance + study.reproducibility.variance);
  study.part = component(pv2);
  study.total = component(study.grr.variance + study.part.variance);

  for (VarianceComponent* c : {&study.repeatability, &study.appraiser, &study.interaction,
                               &study.reproducibility, &study.grr, &study.part, &study.total}) {
    if (study.total.variance > 0) {
      c->percent_contribution = 100.0 * c->variance / study.total.variance;
      c->percent_of_total = 100.0 * c->sd / study.total.sd;
    }
    if (options.tolerance)
      c->percent_tolerance = 100.0 * options.study_sigmas * c->sd / *options.tolerance;
  }
  if (study.grr.sd > 0) {
    study.ndc = 1.41 * study.part.sd / study.grr.sd;
    study.distinct_categories = std::max(1, static_cast<int>(std::floor(*study.ndc)));
  }
  // No variation at all (every value equal) says nothing good about the gauge.
  study.acceptance = study.total.variance > 0 ? gauge_acceptance(study.grr.percent_of_total)
                                              : GaugeAcceptance::Unacceptable;
  if (study.grr.percent_tolerance)
    study.acceptance_tolerance = gauge_acceptance(*study.grr.percent_tolerance);
  return study;
}

}  // namespace derma::analysis
