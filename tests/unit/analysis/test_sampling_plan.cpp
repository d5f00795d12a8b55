#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "bench/analysis/sampling_plan.hpp"

using namespace derma::analysis;

// The expected values below are a second, independent reading of ISO 2859-1:1999 (Tables 1,
// 2-A, 2-B, 2-C, arrows already followed): the plan each cell leads to, written as the
// plan's code letter and its acceptance number (Re = Ac + 1 throughout this edition). They
// were cross-checked against a transcription of the identical national adoption
// GB/T 2828.1-2012 and, for normal and tightened inspection, against the ANSI/ASQ Z1.4
// tables of the AQLSchemes R package (one cell differs there, see "tightened A at AQL 10").
// sampling_plan.cpp holds the first reading: the tables as printed, arrows and all.

namespace {

constexpr const char* kLettersAtoR = "ABCDEFGHJKLMNPQR";

// Columns: the 26 AQLs 0.010 ... 1000. Cell: resolved code letter + Ac.
const std::vector<std::string> kNormalExpected = {
    "Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 E0 D0 C0 B0 A0 C1 B1 A1 A2 A3 A5 A7 A10 A14 A21 A30",     // A
    "Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 E0 D0 C0 B0 A0 C1 B1 B2 B3 B5 B7 B10 B14 B21 B30 B44",    // B
    "Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 E0 D0 C0 B0 D1 C1 C2 C3 C5 C7 C10 C14 C21 C30 C44 B44",   // C
    "Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 E0 D0 C0 E1 D1 D2 D3 D5 D7 D10 D14 D21 D30 D44 C44 B44",  // D
    "Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 E0 D0 F1 E1 E2 E3 E5 E7 E10 E14 E21 E30 E44 D44 C44 B44",
    "Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 E0 G1 F1 F2 F3 F5 F7 F10 F14 F21 E21 E30 E44 D44 C44 B44",
    "Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 H1 G1 G2 G3 G5 G7 G10 G14 G21 F21 E21 E30 E44 D44 C44 B44",
    "Q0 P0 N0 M0 L0 K0 J0 H0 G0 J1 H1 H2 H3 H5 H7 H10 H14 H21 G21 F21 E21 E30 E44 D44 C44 B44",
    "Q0 P0 N0 M0 L0 K0 J0 H0 K1 J1 J2 J3 J5 J7 J10 J14 J21 H21 G21 F21 E21 E30 E44 D44 C44 B44",
    "Q0 P0 N0 M0 L0 K0 J0 L1 K1 K2 K3 K5 K7 K10 K14 K21 J21 H21 G21 F21 E21 E30 E44 D44 C44 B44",
    "Q0 P0 N0 M0 L0 K0 M1 L1 L2 L3 L5 L7 L10 L14 L21 K21 J21 H21 G21 F21 E21 E30 E44 D44 C44 B44",
    "Q0 P0 N0 M0 L0 N1 M1 M2 M3 M5 M7 M10 M14 M21 L21 K21 J21 H21 G21 F21 E21 E30 E44 D44 C44 B44",
    "Q0 P0 N0 M0 P1 N1 N2 N3 N5 N7 N10 N14 N21 M21 L21 K21 J21 H21 G21 F21 E21 E30 E44 D44 C44 B44",
    "Q0 P0 N0 Q1 P1 P2 P3 P5 P7 P10 P14 P21 N21 M21 L21 K21 J21 H21 G21 F21 E21 E30 E44 D44 C44 "
    "B44",
    "Q0 P0 R1 Q1 Q2 Q3 Q5 Q7 Q10 Q14 Q21 P21 N21 M21 L21 K21 J21 H21 G21 F21 E21 E30 E44 D44 C44 "
    "B44",
    "Q0 P0 R1 R2 R3 R5 R7 R10 R14 R21 Q21 P21 N21 M21 L21 K21 J21 H21 G21 F21 E21 E30 E44 D44 C44 "
    "B44",
};

const std::vector<std::string> kTightenedExpected = {
    "R0 Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 E0 D0 C0 B0 A0 C1 B1 A1 A2 A3 A5 A8 A12 A18 A27",
    "R0 Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 E0 D0 C0 B0 D1 C1 B1 B2 B3 B5 B8 B12 B18 B27 B41",
    "R0 Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 E0 D0 C0 E1 D1 C1 C2 C3 C5 C8 C12 C18 C27 C41 B41",
    "R0 Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 E0 D0 F1 E1 D1 D2 D3 D5 D8 D12 D18 D27 D41 C41 B41",
    "R0 Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 E0 G1 F1 E1 E2 E3 E5 E8 E12 E18 E27 E41 D41 C41 B41",
    "R0 Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 H1 G1 F1 F2 F3 F5 F8 F12 F18 E18 E27 E41 D41 C41 B41",
    "R0 Q0 P0 N0 M0 L0 K0 J0 H0 G0 J1 H1 G1 G2 G3 G5 G8 G12 G18 F18 E18 E27 E41 D41 C41 B41",
    "R0 Q0 P0 N0 M0 L0 K0 J0 H0 K1 J1 H1 H2 H3 H5 H8 H12 H18 G18 F18 E18 E27 E41 D41 C41 B41",
    "R0 Q0 P0 N0 M0 L0 K0 J0 L1 K1 J1 J2 J3 J5 J8 J12 J18 H18 G18 F18 E18 E27 E41 D41 C41 B41",
    "R0 Q0 P0 N0 M0 L0 K0 M1 L1 K1 K2 K3 K5 K8 K12 K18 J18 H18 G18 F18 E18 E27 E41 D41 C41 B41",
    "R0 Q0 P0 N0 M0 L0 N1 M1 L1 L2 L3 L5 L8 L12 L18 K18 J18 H18 G18 F18 E18 E27 E41 D41 C41 B41",
    "R0 Q0 P0 N0 M0 P1 N1 M1 M2 M3 M5 M8 M12 M18 L18 K18 J18 H18 G18 F18 E18 E27 E41 D41 C41 B41",
    "R0 Q0 P0 N0 Q1 P1 N1 N2 N3 N5 N8 N12 N18 M18 L18 K18 J18 H18 G18 F18 E18 E27 E41 D41 C41 B41",
    "R0 Q0 P0 R1 Q1 P1 P2 P3 P5 P8 P12 P18 N18 M18 L18 K18 J18 H18 G18 F18 E18 E27 E41 D41 C41 B41",
    "R0 Q0 S1 R1 Q1 Q2 Q3 Q5 Q8 Q12 Q18 P18 N18 M18 L18 K18 J18 H18 G18 F18 E18 E27 E41 D41 C41 "
    "B41",
    "R0 Q0 S1 R1 R2 R3 R5 R8 R12 R18 Q18 P18 N18 M18 L18 K18 J18 H18 G18 F18 E18 E27 E41 D41 C41 "
    "B41",
};

const std::vector<std::string> kReducedExpected = {
    "Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 E0 D0 C0 B0 A0 D1 C1 A1 A2 A3 A5 A7 A10 A14 A21 A30",
    "Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 E0 D0 C0 B0 A0 D1 C1 B1 B2 B3 B5 B7 B10 B14 B21 B30",
    "Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 E0 D0 C0 B0 E1 D1 C1 C2 C3 C5 C6 C8 C10 C14 C21 B30",
    "Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 E0 D0 C0 F1 E1 D1 D2 D3 D5 D6 D8 D10 D14 D21 C21 B30",
    "Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 E0 D0 G1 F1 E1 E2 E3 E5 E6 E8 E10 E14 E21 D21 C21 B30",
    "Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 E0 H1 G1 F1 F2 F3 F5 F6 F8 F10 E10 E14 E21 D21 C21 B30",
    "Q0 P0 N0 M0 L0 K0 J0 H0 G0 F0 J1 H1 G1 G2 G3 G5 G6 G8 G10 F10 E10 E14 E21 D21 C21 B30",
    "Q0 P0 N0 M0 L0 K0 J0 H0 G0 K1 J1 H1 H2 H3 H5 H6 H8 H10 G10 F10 E10 E14 E21 D21 C21 B30",
    "Q0 P0 N0 M0 L0 K0 J0 H0 L1 K1 J1 J2 J3 J5 J6 J8 J10 H10 G10 F10 E10 E14 E21 D21 C21 B30",
    "Q0 P0 N0 M0 L0 K0 J0 M1 L1 K1 K2 K3 K5 K6 K8 K10 J10 H10 G10 F10 E10 E14 E21 D21 C21 B30",
    "Q0 P0 N0 M0 L0 K0 N1 M1 L1 L2 L3 L5 L6 L8 L10 K10 J10 H10 G10 F10 E10 E14 E21 D21 C21 B30",
    "Q0 P0 N0 M0 L0 P1 N1 M1 M2 M3 M5 M6 M8 M10 L10 K10 J10 H10 G10 F10 E10 E14 E21 D21 C21 B30",
    "Q0 P0 N0 M0 Q1 P1 N1 N2 N3 N5 N6 N8 N10 M10 L10 K10 J10 H10 G10 F10 E10 E14 E21 D21 C21 B30",
    "Q0 P0 N0 R1 Q1 P1 P2 P3 P5 P6 P8 P10 N10 M10 L10 K10 J10 H10 G10 F10 E10 E14 E21 D21 C21 B30",
    "Q0 P0 N0 R1 Q1 Q2 Q3 Q5 Q6 Q8 Q10 P10 N10 M10 L10 K10 J10 H10 G10 F10 E10 E14 E21 D21 C21 B30",
    "Q0 P0 N0 R1 R2 R3 R5 R6 R8 R10 Q10 P10 N10 M10 L10 K10 J10 H10 G10 F10 E10 E14 E21 D21 C21 "
    "B30",
};

std::vector<std::string> split(const std::string& row) {
  std::vector<std::string> cells;
  std::string cell;
  for (char c : row) {
    if (c == ' ') {
      if (!cell.empty()) cells.push_back(cell);
      cell.clear();
    } else {
      cell += c;
    }
  }
  if (!cell.empty()) cells.push_back(cell);
  return cells;
}

void check_master_table(Severity severity, const std::vector<std::string>& expected) {
  REQUIRE(expected.size() == 16);
  for (int row = 0; row < 16; ++row) {
    const char letter = kLettersAtoR[row];
    const auto cells = split(expected[row]);
    REQUIRE(cells.size() == kAqls.size());
    for (std::size_t column = 0; column < kAqls.size(); ++column) {
      INFO(to_string(severity) << " inspection, code letter " << letter << ", AQL "
                               << aql_label(kAqls[column]) << ", expected " << cells[column]);
      const auto plan = master_plan(severity, letter, kAqls[column]);
      REQUIRE(plan);
      CHECK(plan->code_letter == cells[column][0]);
      CHECK(plan->accept_number == std::stoi(cells[column].substr(1)));
      CHECK(plan->reject_number == plan->accept_number + 1);
      CHECK(plan->sample_size == sample_size_of(severity, plan->code_letter).value());
    }
  }
}

SamplingPlan plan_for(int lot_size, InspectionLevel level, double aql, Severity severity) {
  const auto plan = single_sampling_plan(lot_size, level, aql, severity);
  REQUIRE(plan);
  return *plan;
}

LotOutcome lot(Severity severity, bool accepted, int accept_number = 1,
               bool accepted_one_step_tighter = false) {
  LotOutcome outcome;
  outcome.severity = severity;
  outcome.decision = accepted ? LotDecision::Accepted : LotDecision::Rejected;
  outcome.accept_number = accept_number;
  outcome.accepted_one_step_tighter = accepted_one_step_tighter;
  return outcome;
}

// Lots on normal inspection from a pattern: 'A' accepted, 'R' not accepted (Ac 1).
std::vector<LotOutcome> normal_lots(const std::string& pattern) {
  std::vector<LotOutcome> lots;
  for (char c : pattern) lots.push_back(lot(Severity::Normal, c == 'A'));
  return lots;
}

void append(std::vector<LotOutcome>& history, Severity severity, const std::string& pattern) {
  for (char c : pattern) history.push_back(lot(severity, c == 'A'));
}

SwitchingState state_after(const std::vector<LotOutcome>& history, bool steady = true,
                           bool approved = false) {
  const auto state = switching_state(history, steady, approved);
  INFO((state ? std::string() : state.error()));
  REQUIRE(state);
  return *state;
}

}  // namespace

TEST_CASE("Table 1 gives the code letter of every lot size range at every inspection level") {
  // Rows: the upper end of each lot size range; columns S-1, S-2, S-3, S-4, I, II, III.
  const std::vector<std::pair<int, std::string>> table = {
      {8, "AAAAAAB"},      {15, "AAAAABC"},     {25, "AABBBCD"},        {50, "ABBCCDE"},
      {90, "BBCCCEF"},     {150, "BBCDDFG"},    {280, "BCDEEGH"},       {500, "BCDEFHJ"},
      {1200, "CCEFGJK"},   {3200, "CDEGHKL"},   {10000, "CDFGJLM"},     {35000, "CDFHKMN"},
      {150000, "DEGJLNP"}, {500000, "DEGJMPQ"}, {2000000000, "DEHKNQR"}};
  const InspectionLevel levels[] = {InspectionLevel::S1, InspectionLevel::S2, InspectionLevel::S3,
                                    InspectionLevel::S4, InspectionLevel::I,  InspectionLevel::II,
                                    InspectionLevel::III};
  int lower = 2;
  for (const auto& [upper, letters] : table) {
    for (int level = 0; level < 7; ++level) {
      INFO("lot size " << lower << " to " << upper << ", level " << to_string(levels[level]));
      CHECK(code_letter(lower, levels[level]).value() == letters[level]);
      CHECK(code_letter(upper, levels[level]).value() == letters[level]);
    }
    lower = upper + 1;
  }
  SECTION("the issue's example: a lot of 501 to 1 200 at level II is code J") {
    CHECK(code_letter(501, InspectionLevel::II).value() == 'J');
    CHECK(code_letter(1200, InspectionLevel::II).value() == 'J');
    CHECK(code_letter(1201, InspectionLevel::II).value() == 'K');
  }
  SECTION("a lot of fewer than 2 units is refused with the reason") {
    for (int size : {1, 0, -5}) {
      const auto letter = code_letter(size, InspectionLevel::II);
      REQUIRE_FALSE(letter);
      CHECK_THAT(letter.error(), Catch::Contains("Table 1 starts at lots of 2"));
    }
  }
}

TEST_CASE("every code letter has the standard's sample size in each of the three tables") {
  const int normal[] = {2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000};
  const int reduced[] = {2, 2, 2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800};
  for (int i = 0; i < 16; ++i) {
    INFO("code letter " << kLettersAtoR[i]);
    CHECK(sample_size_of(Severity::Normal, kLettersAtoR[i]).value() == normal[i]);
    CHECK(sample_size_of(Severity::Tightened, kLettersAtoR[i]).value() == normal[i]);
    CHECK(sample_size_of(Severity::Reduced, kLettersAtoR[i]).value() == reduced[i]);
  }
  CHECK(sample_size_of(Severity::Tightened, 'S').value() == 3150);
  CHECK_FALSE(sample_size_of(Severity::Normal, 'S'));
  CHECK_FALSE(sample_size_of(Severity::Normal, 'I'));
}

TEST_CASE("Table 2-A (normal) matches an independent reading in every cell") {
  check_master_table(Severity::Normal, kNormalExpected);
}

TEST_CASE("Table 2-B (tightened) matches an independent reading in every cell") {
  check_master_table(Severity::Tightened, kTightenedExpected);
}

TEST_CASE("Table 2-C (reduced) matches an independent reading in every cell") {
  check_master_table(Severity::Reduced, kReducedExpected);
}

TEST_CASE("plans read off the printed tables, arrows followed to the plan they point at") {
  struct Case {
    Severity severity;
    char letter;
    double aql;
    char plan_letter;
    int n, ac, re;
    const char* why;
  };
  const Case cases[] = {
      {Severity::Normal, 'J', 1.0, 'J', 80, 2, 3, "the issue's example"},
      {Severity::Normal, 'K', 0.65, 'K', 125, 2, 3, "a plain cell"},
      {Severity::Normal, 'A', 6.5, 'A', 2, 0, 1, "the smallest sample"},
      {Severity::Normal, 'L', 0.010, 'Q', 1250, 0, 1, "long down arrow to Q"},
      {Severity::Normal, 'A', 10, 'C', 5, 1, 2, "down arrow through B to C"},
      {Severity::Normal, 'A', 15, 'B', 3, 1, 2, "down arrow to B"},
      {Severity::Normal, 'B', 6.5, 'A', 2, 0, 1, "up arrow after 0/1"},
      {Severity::Normal, 'J', 0.25, 'H', 50, 0, 1, "up arrow to H"},
      {Severity::Normal, 'J', 0.40, 'K', 125, 1, 2, "down arrow to K"},
      {Severity::Normal, 'F', 100, 'E', 13, 21, 22, "up arrow in the upper right"},
      {Severity::Normal, 'R', 0.010, 'Q', 1250, 0, 1, "R has no 0/1: up to Q"},
      {Severity::Normal, 'R', 0.015, 'P', 800, 0, 1, "up twice to P"},
      {Severity::Normal, 'Q', 0.025, 'R', 2000, 1, 2, "down to R's 1/2"},
      {Severity::Normal, 'K', 1000, 'B', 3, 44, 45, "far upper right"},
      {Severity::Normal, 'A', 1000, 'A', 2, 30, 31, "A's last cell"},
      {Severity::Normal, 'E', 150, 'E', 13, 30, 31, "E's 30/31"},
      {Severity::Normal, 'H', 2.5, 'H', 50, 3, 4, "level II, 281 to 500"},
      {Severity::Normal, 'G', 4.0, 'G', 32, 3, 4, "level II, 151 to 280"},
      {Severity::Normal, 'M', 0.15, 'M', 315, 1, 2, ""},
      {Severity::Normal, 'N', 0.25, 'N', 500, 3, 4, ""},
      {Severity::Normal, 'P', 1.5, 'P', 800, 21, 22, ""},
      {Severity::Tightened, 'J', 1.0, 'J', 80, 1, 2, "one step stricter than normal"},
      {Severity::Tightened, 'K', 0.65, 'K', 125, 1, 2, ""},
      {Severity::Tightened, 'Q', 0.025, 'S', 3150, 1, 2, "the only way to code letter S"},
      {Severity::Tightened, 'R', 0.025, 'S', 3150, 1, 2, ""},
      {Severity::Tightened, 'R', 0.015, 'Q', 1250, 0, 1, "S is blank: up to Q"},
      {Severity::Tightened, 'A', 10, 'A', 2, 0, 1, "tightened A at AQL 10"},
      {Severity::Tightened, 'B', 10, 'D', 8, 1, 2, "down twice to D"},
      {Severity::Tightened, 'E', 6.5, 'E', 13, 1, 2, ""},
      {Severity::Tightened, 'F', 100, 'E', 13, 18, 19, "up arrow in the upper right"},
      {Severity::Tightened, 'H', 10, 'H', 50, 8, 9, ""},
      {Severity::Reduced, 'J', 1.0, 'J', 32, 1, 2, "reduced sample of J is 32"},
      {Severity::Reduced, 'K', 0.65, 'K', 50, 1, 2, ""},
      {Severity::Reduced, 'K', 2.5, 'K', 50, 5, 6, ""},
      {Severity::Reduced, 'K', 4.0, 'K', 50, 6, 7, "6/7: no Ac/Re gap in 1999"},
      {Severity::Reduced, 'K', 6.5, 'K', 50, 8, 9, "8/9: no Ac/Re gap in 1999"},
      {Severity::Reduced, 'Q', 0.025, 'N', 200, 0, 1, "long up arrow across P, Q, R"},
      {Severity::Reduced, 'A', 10, 'D', 3, 1, 2, "down three times to D"},
      {Severity::Reduced, 'C', 25, 'C', 2, 2, 3, "C differs from A and B at the same n"},
      {Severity::Reduced, 'B', 25, 'B', 2, 1, 2, ""},
  };
  for (const Case& c : cases) {
    INFO(to_string(c.severity) << " " << c.letter << " at AQL " << aql_label(c.aql) << ": "
                               << c.why);
    const auto plan = master_plan(c.severity, c.letter, c.aql);
    REQUIRE(plan);
    CHECK(plan->code_letter == c.plan_letter);
    CHECK(plan->sample_size == c.n);
    CHECK(plan->accept_number == c.ac);
    CHECK(plan->reject_number == c.re);
  }
}

TEST_CASE("a lot's plan names the edition, table, letters and sample to inspect") {
  const SamplingPlan plan = plan_for(1000, InspectionLevel::II, 1.0, Severity::Normal);
  CHECK(plan.edition == "ISO 2859-1:1999");
  CHECK(plan.table == "Table 2-A");
  CHECK(plan.lot_code_letter == 'J');
  CHECK(plan.code_letter == 'J');
  CHECK(plan.sample_size == 80);
  CHECK(plan.plan_sample_size == 80);
  CHECK(plan.accept_number == 2);
  CHECK(plan.reject_number == 3);
  CHECK_FALSE(plan.hundred_percent);
  CHECK_FALSE(plan.counts_nonconformities);
  CHECK(describe(plan) ==
        "ISO 2859-1:1999 Table 2-A (normal), level II, AQL 1.0, lot 1000: code J, inspect 80, "
        "accept 2, reject 3");

  SECTION("an arrow changes the code letter and the sample size") {
    const SamplingPlan arrowed = plan_for(1000, InspectionLevel::II, 0.40, Severity::Normal);
    CHECK(arrowed.lot_code_letter == 'J');
    CHECK(arrowed.code_letter == 'K');
    CHECK(arrowed.sample_size == 125);
    CHECK_THAT(describe(arrowed), Catch::Contains("code K (arrow from J)"));
  }
  SECTION("the same lot tightened and reduced") {
    CHECK(plan_for(1000, InspectionLevel::II, 1.0, Severity::Tightened).table == "Table 2-B");
    const SamplingPlan reduced = plan_for(1000, InspectionLevel::II, 1.0, Severity::Reduced);
    CHECK(reduced.table == "Table 2-C");
    CHECK(reduced.sample_size == 32);
    CHECK(reduced.accept_number == 1);
  }
  SECTION("AQLs above 10 count nonconformities per 100 items") {
    CHECK(plan_for(1000, InspectionLevel::II, 15, Severity::Normal).counts_nonconformities);
    CHECK_FALSE(plan_for(1000, InspectionLevel::II, 10, Severity::Normal).counts_nonconformities);
  }
}

TEST_CASE("a sample as large as the lot means inspecting every unit") {
  // Lot of 10 at level II is code B; AQL 0.65 points down to F (20 units, 0/1).
  const SamplingPlan plan = plan_for(10, InspectionLevel::II, 0.65, Severity::Normal);
  CHECK(plan.code_letter == 'F');
  CHECK(plan.plan_sample_size == 20);
  CHECK(plan.hundred_percent);
  CHECK(plan.sample_size == 10);
  CHECK(plan.accept_number == 0);
  CHECK_THAT(describe(plan), Catch::Contains("inspect all 10 (100 %"));
  SECTION("equal counts as well") {
    const SamplingPlan equal = plan_for(20, InspectionLevel::S4, 0.65, Severity::Normal);
    CHECK(equal.code_letter == 'F');
    CHECK(equal.hundred_percent);
    CHECK(equal.sample_size == 20);
  }
  SECTION("one unit more is sampled") {
    CHECK_FALSE(plan_for(21, InspectionLevel::S4, 0.65, Severity::Normal).hundred_percent);
  }
}

TEST_CASE("bad plan inputs are refused with a message naming them") {
  const auto no_aql = single_sampling_plan(1000, InspectionLevel::II, 1.2, Severity::Normal);
  REQUIRE_FALSE(no_aql);
  CHECK_THAT(no_aql.error(), Catch::Contains("AQL 1.2 is not one of the standard's AQLs"));
  const auto no_lot = single_sampling_plan(0, InspectionLevel::II, 1.0, Severity::Normal);
  REQUIRE_FALSE(no_lot);
  CHECK_THAT(no_lot.error(), Catch::Contains("lot size 0"));
  const auto no_letter = master_plan(Severity::Normal, 'O', 1.0);
  REQUIRE_FALSE(no_letter);
  CHECK_THAT(no_letter.error(), Catch::Contains("code letter 'O'"));
}

TEST_CASE("AQLs, inspection levels and severities parse from text") {
  SECTION("AQLs as written in the tables or as plain numbers") {
    CHECK(aql_from("1.0").value() == 1.0);
    CHECK(aql_from("1").value() == 1.0);
    CHECK(aql_from("0.65").value() == 0.65);
    CHECK(aql_from(".65").value() == 0.65);
    CHECK(aql_from("0.010").value() == 0.010);
    CHECK(aql_from("0.01").value() == 0.010);
    CHECK(aql_from("1000").value() == 1000);
    CHECK(std::string(aql_label(0.01)) == "0.010");
    CHECK(std::string(aql_label(1)) == "1.0");
    CHECK(std::string(aql_label(10)) == "10");
  }
  SECTION("anything else is an error that says why") {
    CHECK_THAT(aql_from("1.2").error(), Catch::Contains("not one of the standard's AQLs"));
    CHECK_THAT(aql_from("0.1%").error(), Catch::Contains("not a number"));
    CHECK_THAT(aql_from("").error(), Catch::Contains("not a number"));
    CHECK_THAT(aql_from("one").error(), Catch::Contains("not a number"));
    CHECK_FALSE(aql_from("-1"));
    CHECK_FALSE(aql_from("1e1"));
  }
  SECTION("inspection levels") {
    CHECK(inspection_level_from("II").value() == InspectionLevel::II);
    CHECK(inspection_level_from("iii").value() == InspectionLevel::III);
    CHECK(inspection_level_from("S-3").value() == InspectionLevel::S3);
    CHECK(inspection_level_from("s4").value() == InspectionLevel::S4);
    CHECK(std::string(to_string(InspectionLevel::S1)) == "S-1");
    CHECK_THAT(inspection_level_from("IV").error(),
               Catch::Contains("not one of S-1, S-2, S-3, S-4, I, II, III"));
  }
  SECTION("severities") {
    CHECK(severity_from("Tightened").value() == Severity::Tightened);
    CHECK(std::string(to_string(Severity::Reduced)) == "reduced");
    CHECK_FALSE(severity_from("strict"));
  }
}

TEST_CASE("a lot is accepted up to Ac nonconforming and rejected from Re") {
  const SamplingPlan plan = plan_for(1000, InspectionLevel::II, 1.0, Severity::Normal);
  CHECK(decide(plan, 0).value() == LotDecision::Accepted);
  CHECK(decide(plan, 2).value() == LotDecision::Accepted);
  CHECK(decide(plan, 3).value() == LotDecision::Rejected);
  CHECK(decide(plan, 80).value() == LotDecision::Rejected);
  CHECK_THAT(decide(plan, -1).error(), Catch::Contains("negative"));
}

TEST_CASE("a lot outcome knows whether one AQL step tighter would also have accepted it") {
  SECTION("J at AQL 1.0 is 2/3; one step tighter, J at 0.65, is 1/2 on the same 80") {
    const SamplingPlan plan = plan_for(1000, InspectionLevel::II, 1.0, Severity::Normal);
    CHECK(lot_outcome(plan, 1).value().accepted_one_step_tighter);
    const LotOutcome two = lot_outcome(plan, 2).value();
    CHECK(two.decision == LotDecision::Accepted);
    CHECK_FALSE(two.accepted_one_step_tighter);
    CHECK(lot_outcome(plan, 3).value().decision == LotDecision::Rejected);
    CHECK(two.accept_number == 2);
    CHECK(two.severity == Severity::Normal);
  }
  SECTION("after an up arrow the plan's own row gives the tighter plan: E 21/22 -> E 14/15") {
    const SamplingPlan plan = plan_for(100, InspectionLevel::II, 100, Severity::Normal);
    REQUIRE(plan.code_letter == 'E');
    REQUIRE(plan.accept_number == 21);
    CHECK(lot_outcome(plan, 14).value().accepted_one_step_tighter);
    CHECK_FALSE(lot_outcome(plan, 15).value().accepted_one_step_tighter);
  }
  SECTION("only normal inspection keeps a switching score") {
    const SamplingPlan plan = plan_for(1000, InspectionLevel::II, 2.5, Severity::Tightened);
    CHECK_FALSE(lot_outcome(plan, 0).value().accepted_one_step_tighter);
  }
  CHECK_FALSE(lot_outcome(plan_for(1000, InspectionLevel::II, 1.0, Severity::Normal), -2));
}

TEST_CASE("inspection starts normal") {
  const SwitchingState state = state_after({});
  CHECK(state.severity == Severity::Normal);
  CHECK(state.switching_score == 0);
  CHECK(state.lots == 0);
  CHECK_FALSE(state.discontinued);
  CHECK_THAT(state.reason, Catch::Contains("9.1"));
}

TEST_CASE("two lots not accepted within five consecutive normal lots switch to tightened") {
  SECTION("2 of 5") {
    CHECK(state_after(normal_lots("ARAA")).severity == Severity::Normal);
    const SwitchingState state = state_after(normal_lots("ARAAR"));
    CHECK(state.severity == Severity::Tightened);
    CHECK_THAT(state.reason, Catch::Contains("9.3.1"));
  }
  SECTION("2 of 2") {
    CHECK(state_after(normal_lots("RR")).severity == Severity::Tightened);
  }
  SECTION("2 of 5 in the middle of a longer run") {
    CHECK(state_after(normal_lots("AAAARAAAR")).severity == Severity::Tightened);
  }
  SECTION("rejections 6 lots apart are not 2 of 5") {
    const SwitchingState state = state_after(normal_lots("ARAAAAR"));
    CHECK(state.severity == Severity::Normal);
    CHECK(state.rejected_in_last_five_normal == 1);
  }
}

TEST_CASE("five consecutive lots accepted on tightened inspection reinstate normal") {
  std::vector<LotOutcome> history = normal_lots("RR");
  append(history, Severity::Tightened, "AAAAR");
  SwitchingState state = state_after(history);
  CHECK(state.severity == Severity::Tightened);
  CHECK(state.consecutive_accepted_tightened == 0);
  CHECK(state.rejected_on_tightened == 1);
  append(history, Severity::Tightened, "AAAA");
  state = state_after(history);
  CHECK(state.severity == Severity::Tightened);
  CHECK(state.consecutive_accepted_tightened == 4);
  append(history, Severity::Tightened, "A");
  state = state_after(history);
  CHECK(state.severity == Severity::Normal);
  CHECK(state.switching_score == 0);
  CHECK_THAT(state.reason, Catch::Contains("9.3.2"));
}

TEST_CASE("five lots not accepted on tightened inspection discontinue inspection") {
  std::vector<LotOutcome> history = normal_lots("RR");
  append(history, Severity::Tightened, "RARARARA");  // 4 not accepted, never 5 in a row accepted
  CHECK(state_after(history).rejected_on_tightened == 4);
  CHECK_FALSE(state_after(history).discontinued);
  append(history, Severity::Tightened, "R");
  const SwitchingState state = state_after(history);
  CHECK(state.discontinued);
  CHECK_THAT(state.reason, Catch::Contains("9.4"));
  CHECK_THAT(state.reason, Catch::Contains("discontinued"));

  SECTION("no lot may follow without accepted corrective action") {
    append(history, Severity::Tightened, "A");
    const auto refused = switching_state(history);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error(), Catch::Contains("lot 12"));
    CHECK_THAT(refused.error(), Catch::Contains("discontinued"));
  }
  SECTION("after corrective action inspection resumes tightened, counters fresh") {
    LotOutcome resumed = lot(Severity::Tightened, false);
    resumed.resumes_after_discontinuation = true;
    history.push_back(resumed);
    const SwitchingState after = state_after(history);
    CHECK_FALSE(after.discontinued);
    CHECK(after.severity == Severity::Tightened);
    CHECK(after.rejected_on_tightened == 1);
  }
  SECTION("resuming under normal inspection is refused") {
    LotOutcome resumed = lot(Severity::Normal, true);
    resumed.resumes_after_discontinuation = true;
    history.push_back(resumed);
    CHECK_FALSE(switching_state(history));
  }
}

TEST_CASE("the switching score adds 2 per accepted lot with Ac 0 or 1 and resets on rejection") {
  CHECK(state_after(normal_lots("AAA")).switching_score == 6);
  CHECK(state_after(normal_lots("AAAR")).switching_score == 0);
  CHECK(state_after(normal_lots("AAARAA")).switching_score == 4);
}

TEST_CASE("with Ac 2 or more the score adds 3 only when one AQL step tighter also accepts") {
  std::vector<LotOutcome> history;
  history.push_back(lot(Severity::Normal, true, 2, true));
  history.push_back(lot(Severity::Normal, true, 2, true));
  CHECK(state_after(history).switching_score == 6);
  history.push_back(lot(Severity::Normal, true, 1));  // Ac 1 plan: +2
  CHECK(state_after(history).switching_score == 8);
  history.push_back(lot(Severity::Normal, true, 2, false));  // accepted, not one step tighter
  CHECK(state_after(history).switching_score == 0);
  history.push_back(lot(Severity::Normal, true, 5, true));
  CHECK(state_after(history).switching_score == 3);
  history.push_back(lot(Severity::Normal, false, 5));
  CHECK(state_after(history).switching_score == 0);
}

TEST_CASE("reduced inspection needs a score of 30, steady production and approval") {
  const std::vector<LotOutcome> fourteen = normal_lots(std::string(14, 'A'));
  CHECK(state_after(fourteen, true, true).severity == Severity::Normal);  // score 28
  const std::vector<LotOutcome> fifteen = normal_lots(std::string(15, 'A'));
  SECTION("without approval the bench stays normal and says what is missing") {
    const SwitchingState state = state_after(fifteen);
    CHECK(state.severity == Severity::Normal);
    CHECK(state.switching_score == 30);
    CHECK_THAT(state.reason, Catch::Contains("approval"));
  }
  SECTION("production not steady") {
    const SwitchingState state = state_after(fifteen, false, true);
    CHECK(state.severity == Severity::Normal);
    CHECK_THAT(state.reason, Catch::Contains("steady"));
  }
  SECTION("all three conditions") {
    const SwitchingState state = state_after(fifteen, true, true);
    CHECK(state.severity == Severity::Reduced);
    CHECK_THAT(state.reason, Catch::Contains("9.3.3"));
  }
}

TEST_CASE("reduced inspection returns to normal on a lot not accepted or unsteady production") {
  std::vector<LotOutcome> history = normal_lots(std::string(15, 'A'));
  append(history, Severity::Reduced, "AA");
  SwitchingState state = state_after(history, true, true);
  CHECK(state.severity == Severity::Reduced);
  CHECK(state_after(history, false, true).severity == Severity::Normal);
  append(history, Severity::Reduced, "R");
  state = state_after(history, true, true);
  CHECK(state.severity == Severity::Normal);
  CHECK(state.switching_score == 0);
  CHECK_THAT(state.reason, Catch::Contains("lot 18 not accepted on reduced"));
  CHECK_THAT(state.reason, Catch::Contains("9.3.4"));
}

TEST_CASE("a history that broke the switching rules is refused, naming the lot") {
  SECTION("normal inspection where tightened was required") {
    std::vector<LotOutcome> history = normal_lots("RRA");
    const auto state = switching_state(history);
    REQUIRE_FALSE(state);
    CHECK_THAT(state.error(), Catch::Contains("lot 3 was inspected normal"));
    CHECK_THAT(state.error(), Catch::Contains("required tightened"));
  }
  SECTION("reduced inspection before the score reached 30") {
    std::vector<LotOutcome> history = normal_lots(std::string(14, 'A'));
    append(history, Severity::Reduced, "A");
    CHECK_FALSE(switching_state(history, true, true));
  }
  SECTION("a discretionary return from reduced to normal is allowed") {
    std::vector<LotOutcome> history = normal_lots(std::string(15, 'A'));
    append(history, Severity::Reduced, "A");
    append(history, Severity::Normal, "A");
    const SwitchingState state = state_after(history);
    CHECK(state.severity == Severity::Normal);
    CHECK(state.switching_score == 2);  // the score restarted with normal inspection
  }
}

TEST_CASE("the worked example of docs/sampling.md") {
  // Lots of 1 000 rollers, level II, AQL 1.0: code J. Normal 80 2/3, tightened 80 1/2.
  const SamplingPlan normal = plan_for(1000, InspectionLevel::II, 1.0, Severity::Normal);
  const SamplingPlan tightened = plan_for(1000, InspectionLevel::II, 1.0, Severity::Tightened);
  REQUIRE(tightened.sample_size == 80);
  REQUIRE(tightened.accept_number == 1);
  std::vector<LotOutcome> history;
  const auto inspect = [&](const SamplingPlan& plan, int nonconforming) {
    history.push_back(lot_outcome(plan, nonconforming).value());
    return state_after(history, true, true);
  };
  CHECK(inspect(normal, 0).switching_score == 3);             // lot 1: 0 <= 1 (Ac at AQL 0.65): +3
  CHECK(inspect(normal, 2).switching_score == 0);             // lot 2: accepted, but 2 > 1: reset
  CHECK(inspect(normal, 3).severity == Severity::Normal);     // lot 3: rejected (1 of 3)
  CHECK(inspect(normal, 1).switching_score == 3);             // lot 4
  CHECK(inspect(normal, 4).severity == Severity::Tightened);  // lot 5: 2 of the last 5
  for (int nonconforming : {0, 1, 0, 0})
    CHECK(inspect(tightened, nonconforming).severity == Severity::Tightened);  // lots 6-9
  CHECK(inspect(tightened, 1).severity == Severity::Normal);  // lot 10: 5 accepted in a row
  SwitchingState state;
  for (int i = 11; i <= 20; ++i) state = inspect(normal, i % 2);  // 0 or 1 found: +3 each
  CHECK(state.severity == Severity::Reduced);                     // steady production, approved
  CHECK_THAT(state.reason, Catch::Contains("switching score 30"));
  CHECK(state_after(history, true, false).switching_score == 30);  // not approved: normal
  const SamplingPlan reduced = plan_for(1000, InspectionLevel::II, 1.0, Severity::Reduced);
  CHECK(reduced.sample_size == 32);
  CHECK(inspect(reduced, 2).severity == Severity::Normal);  // lot 21: 2 > Ac 1 on reduced
}
