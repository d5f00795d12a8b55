// Measurement-system analysis: a crossed gauge repeatability and reproducibility study by
// the ANOVA method of AIAG's MSA reference manual (4th ed., 2010, chapter III section B).
// Pure: a table of measurements in, variance components and the AIAG guidance out.
//
// Every part is measured by every appraiser (here: a phantom lane, the condition a roll
// can change) `trials` times. The two-way random-effects model with interaction
//     x_ijk = mu + P_i + O_j + (PO)_ij + E_ijk
// gives, from the ANOVA mean squares (p parts, o appraisers, r trials):
//     repeatability  EV^2  = MS_E
//     interaction    INT^2 = (MS_PO - MS_E) / r
//     appraiser      AV^2  = (MS_O - MS_PO) / (p r)
//     part           PV^2  = (MS_P - MS_PO) / (o r)
// When the interaction is not significant (F test p-value above alpha) it is pooled into
// the error term and dropped from the model, as AIAG and Minitab do:
//     MS_pooled = (SS_PO + SS_E) / (df_PO + df_E),  EV^2 = MS_pooled,
//     AV^2 = (MS_O - MS_pooled) / (p r),  PV^2 = (MS_P - MS_pooled) / (o r).
// Negative estimates are reported as 0. GRR^2 = EV^2 + AV^2 + INT^2, TV^2 = GRR^2 + PV^2,
// ndc = 1.41 PV / GRR, %X = 100 X / TV and, given a tolerance, 100 * 6 X / (USL - LSL).
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <vector>

namespace derma::analysis {

// The measurements of a crossed study, balanced: one value per (part, appraiser, trial).
struct GaugeStudyData {
  std::vector<std::string> parts;       // names, for reports
  std::vector<std::string> appraisers;  // names, for reports
  int trials = 0;
  std::vector<double> values;  // [(part * appraisers + appraiser) * trials + trial]

  std::size_t index(std::size_t part, std::size_t appraiser, std::size_t trial) const {
    return (part * appraisers.size() + appraiser) * static_cast<std::size_t>(trials) + trial;
  }
  double at(std::size_t part, std::size_t appraiser, std::size_t trial) const {
    return values[index(part, appraiser, trial)];
  }
};

struct GaugeStudyOptions {
  // USL - LSL of the characteristic, for %GRR of tolerance; empty = not reported.
  std::optional<double> tolerance;
  // The interaction is kept in the model only when its F test's p-value is at or below
  // this (Minitab's default "alpha to remove interaction term").
  double interaction_alpha = 0.05;
  // Multiple of sigma spanning the tolerance (AIAG 4th ed. and Minitab: 6).
  double study_sigmas = 6.0;
};

struct AnovaRow {
  std::string source;  // part, appraiser, part_x_appraiser, repeatability, total
  int df = 0;
  double ss = 0;
  double ms = 0;
  std::optional<double> f;        // F statistic where it is tested
  std::optional<double> p_value;  // P(F > f)
};

// One source of variation: its estimated variance and what it means to the study.
struct VarianceComponent {
  double variance = 0;                      // estimated, clamped at 0
  double sd = 0;                            // sqrt(variance): EV, AV, ... in AIAG's terms
  double percent_contribution = 0;          // 100 variance / total variance
  double percent_of_total = 0;              // 100 sd / TV (AIAG's %EV, %AV, %GRR, %PV)
  std::optional<double> percent_tolerance;  // 100 * study_sigmas * sd / tolerance
};

// AIAG's guidance on %GRR: under 10 % acceptable; 10 to 30 % may be acceptable depending
// on the application, the cost of the gauge and of repair; over 30 % unacceptable.
enum class GaugeAcceptance { Acceptable, Conditional, Unacceptable };
const char* to_string(GaugeAcceptance);
GaugeAcceptance gauge_acceptance(double percent_grr);

struct GaugeStudy {
  int parts = 0;
  int appraisers = 0;
  int trials = 0;
  double grand_mean = 0;
  // The full model's table (part, appraiser, interaction, repeatability, total), and the
  // decision on the interaction.
  std::vector<AnovaRow> anova;
  std::optional<double> interaction_p_value;  // empty with one appraiser
  bool interaction_in_model = false;

  VarianceComponent repeatability;    // EV
  VarianceComponent appraiser;        // AV
  VarianceComponent interaction;      // INT (0 when pooled)
  VarianceComponent reproducibility;  // AV and INT together
  VarianceComponent grr;              // GRR
  VarianceComponent part;             // PV
  VarianceComponent total;            // TV
  // 1.41 PV / GRR, and AIAG's integer number of distinct categories (truncated; at least
  // 1). Empty when GRR is 0: the gauge then resolves any number of categories.
  std::optional<double> ndc;
  std::optional<int> distinct_categories;
  GaugeAcceptance acceptance = GaugeAcceptance::Unacceptable;  // on %GRR of TV
  std::optional<GaugeAcceptance> acceptance_tolerance;         // on %GRR of tolerance
};

// Fails (with the reason) when the table is not a study: fewer than 2 parts or 2 trials,
// no appraiser, a value count that does not match, or a value that is not finite.
std::expected<GaugeStudy, std::string> gauge_rr_anova(const GaugeStudyData& data,
                                                      const GaugeStudyOptions& options = {});

}  // namespace derma::analysis
