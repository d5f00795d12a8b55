// Acceptance sampling by attributes: ISO 2859-1:1999 single sampling plans indexed by AQL,
// with normal, tightened and reduced inspection and the switching rules between them.
// Pure: lot size, inspection level, AQL and severity in, a plan out; a history of lots in,
// the severity of the next lot out. The bench uses it to certify production lots of rollers
// (`bench lot create/status/certify`); docs/sampling.md explains the whole procedure.
//
// Edition: ISO 2859-1:1999 (Sampling procedures for inspection by attributes - Part 1:
// Sampling schemes indexed by acceptance quality limit (AQL) for lot-by-lot inspection).
// Its Table 1 (sample size code letters) and Tables 2-A (normal) and 2-B (tightened) carry
// the same plans as ANSI/ASQ Z1.4-2003's Tables I, II-A and II-B (both descend from
// MIL-STD-105E; docs/sampling.md says how that was checked). Its Table 2-C (reduced) does not:
// Z1.4 keeps reduced plans whose rejection number exceeds the acceptance number by more than
// one (a lot in the gap is accepted but normal inspection is reinstated); the 1999 ISO edition
// removed that gap, so here every plan has Re = Ac + 1 and a lot is either accepted or not.
//
// The tables are transcribed as printed, arrows included, in sampling_plan.cpp; the arrows
// are followed in code (use the first plan below / above the arrow, and THAT plan's sample
// size and code letter).
//
// AQLs up to 10 may be read as percent nonconforming items or as nonconformities per 100
// items; AQLs above 10 are nonconformities per 100 items only (a unit may carry several
// nonconformities). A roller's pass/fail verdict is a nonconforming item, so a lot of rollers
// uses an AQL of 10 or less.
#pragma once

#include <array>
#include <expected>
#include <span>
#include <string>
#include <string_view>

namespace derma::analysis {

inline constexpr std::string_view kSamplingEdition = "ISO 2859-1:1999";

enum class InspectionLevel { S1, S2, S3, S4, I, II, III };
enum class Severity { Normal, Tightened, Reduced };

const char* to_string(InspectionLevel);  // "S-1" ... "S-4", "I", "II", "III"
const char* to_string(Severity);         // "normal", "tightened", "reduced"

// "S-1", "S1", "s-1", ..., "I", "II", "III" (any case).
std::expected<InspectionLevel, std::string> inspection_level_from(std::string_view text);
// "normal", "tightened", "reduced" (any case).
std::expected<Severity, std::string> severity_from(std::string_view text);

// The 26 AQLs of the master tables, in percent (0.010 ... 1000), tightest first.
inline constexpr std::array<double, 26> kAqls = {
    0.010, 0.015, 0.025, 0.040, 0.065, 0.10, 0.15, 0.25, 0.40, 0.65, 1.0, 1.5, 2.5,
    4.0,   6.5,   10,    15,    25,    40,   65,   100,  150,  250,  400, 650, 1000};

// An AQL written as a number ("1.0", "1", "0.65", ".65", "0.010") that is one of kAqls.
std::expected<double, std::string> aql_from(std::string_view text);
// The AQL as the standard prints it ("0.010", "0.65", "1.0", "10"); "?" for a non-AQL.
const char* aql_label(double aql);

// Table 1: the sample size code letter (A ... R, no I or O) of a lot of lot_size units
// (2 or more) at an inspection level.
std::expected<char, std::string> code_letter(int lot_size, InspectionLevel level);

// One cell of a master table after its arrows are followed: the plan's code letter, its
// sample size and Ac/Re. code_letter is Table 1's letter (A ... R); tightened inspection can
// lead to letter S (3 150). Errors: an unknown letter or AQL.
struct MasterPlan {
  char code_letter = 'A';
  int sample_size = 0;
  int accept_number = 0;
  int reject_number = 1;
};
std::expected<MasterPlan, std::string> master_plan(Severity severity, char code_letter, double aql);

// The sample size of a code letter in the table of a severity (reduced: A 2 ... R 800).
std::expected<int, std::string> sample_size_of(Severity severity, char code_letter);

struct SamplingPlan {
  std::string edition{kSamplingEdition};
  std::string table;  // "Table 2-A" (normal), "Table 2-B" (tightened), "Table 2-C" (reduced)
  int lot_size = 0;
  InspectionLevel level = InspectionLevel::II;
  double aql = 1.0;
  Severity severity = Severity::Normal;
  char lot_code_letter = 'A';  // Table 1's letter for the lot size and level
  char code_letter = 'A';      // the plan's letter, after following the table's arrows
  int plan_sample_size = 0;    // the plan's sample size n, as the table gives it
  // Units to inspect: n, or the whole lot when n >= lot size (hundred_percent).
  int sample_size = 0;
  int accept_number = 0;  // Ac: accept the lot with this many nonconforming or fewer
  int reject_number = 1;  // Re: reject it with this many or more (Re = Ac + 1)
  // The standard's footnote: "if sample size equals or exceeds lot size, carry out 100 %
  // inspection". Every unit is inspected and the lot is still judged by Ac and Re.
  bool hundred_percent = false;
  // AQL above 10: the count is nonconformities per 100 items, not nonconforming items.
  bool counts_nonconformities = false;
};

// The single sampling plan for a lot. Errors name the bad input: a lot size below 2, an AQL
// that is not one of kAqls.
std::expected<SamplingPlan, std::string> single_sampling_plan(int lot_size, InspectionLevel level,
                                                              double aql, Severity severity);

// One line for people: "ISO 2859-1:1999 Table 2-A (normal), level II, AQL 1.0, lot 1000:
// code J, inspect 80, accept 2, reject 3".
std::string describe(const SamplingPlan& plan);

enum class LotDecision { Accepted, Rejected };
const char* to_string(LotDecision);  // "accepted", "rejected"

// Accepted when the nonconforming count in the sample is at most Ac. A negative count is
// an error.
std::expected<LotDecision, std::string> decide(const SamplingPlan& plan, int nonconforming);

// What the switching rules need to know about one inspected lot (on original inspection:
// a resubmitted lot is not a new entry).
struct LotOutcome {
  Severity severity = Severity::Normal;  // the inspection the lot was judged under
  LotDecision decision = LotDecision::Accepted;
  int accept_number = 0;  // Ac of the plan used
  // Normal inspection, Ac >= 2: the lot would also have been accepted had the AQL been one
  // step tighter, i.e. with the Ac of the next tighter AQL for the same sample (clause
  // 9.3.3.2 a) 1)). Ignored otherwise.
  bool accepted_one_step_tighter = false;
  // Set on the first lot inspected after a discontinuation (9.4), once the responsible
  // authority has agreed that the supplier's corrective action is likely to be effective.
  bool resumes_after_discontinuation = false;
};

// The outcome of inspecting a lot under `plan` with `nonconforming` found in the sample.
std::expected<LotOutcome, std::string> lot_outcome(const SamplingPlan& plan, int nonconforming);

// Where the switching rules (clause 9) stand after a history of consecutive lots of one
// product (oldest first), i.e. how the NEXT lot is to be inspected.
struct SwitchingState {
  Severity severity = Severity::Normal;  // for the next lot
  int lots = 0;                          // lots in the history
  // Normal inspection: the switching score (9.3.3.2), 0 at the start of normal inspection.
  int switching_score = 0;
  // Normal inspection: lots not accepted among the last (up to) five on normal inspection.
  int rejected_in_last_five_normal = 0;
  // Tightened inspection: consecutive accepted lots (5 reinstate normal, 9.3.2) and lots
  // not accepted since tightened inspection began (5 discontinue inspection, 9.4).
  int consecutive_accepted_tightened = 0;
  int rejected_on_tightened = 0;
  // 9.4: no lot may be inspected under this standard until the supplier has improved the
  // product and the responsible authority agrees the action is likely to be effective;
  // inspection then resumes tightened.
  bool discontinued = false;
  std::string reason;  // why the next lot is inspected as it is, with the clause
};

// The switching state after `history`. The optional transitions are the caller's to decide:
// normal -> reduced needs a switching score of 30 or more AND production at a steady rate
// (`production_steady`) AND the responsible authority's approval (`reduced_approved`, false
// by default: reduced inspection is never the bench's own choice); reduced -> normal also
// happens when production is not steady. The history must follow the rules: a lot inspected
// under a severity the rules did not allow at that point is an error naming the lot (1-based).
// Discretionary moves recorded in the history are allowed: normal -> reduced once the score
// reached 30, and reduced -> normal at any time (production irregular, other conditions).
std::expected<SwitchingState, std::string> switching_state(std::span<const LotOutcome> history,
                                                           bool production_steady = true,
                                                           bool reduced_approved = false);

}  // namespace derma::analysis
