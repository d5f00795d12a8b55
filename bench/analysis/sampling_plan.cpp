#include "bench/analysis/sampling_plan.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <deque>
#include <optional>

#include "bench/analysis/text.hpp"

namespace derma::analysis {
namespace {

constexpr int kColumns = static_cast<int>(kAqls.size());

// The AQLs as the standard's column heads print them.
constexpr std::array<const char*, kColumns> kAqlLabels = {
    "0.010", "0.015", "0.025", "0.040", "0.065", "0.10", "0.15", "0.25", "0.40",
    "0.65",  "1.0",   "1.5",   "2.5",   "4.0",   "6.5",  "10",   "15",   "25",
    "40",    "65",    "100",   "150",   "250",   "400",  "650",  "1000"};

std::optional<int> aql_column(double aql) {
  for (int i = 0; i < kColumns; ++i)
    if (std::abs(aql - kAqls[i]) <= 1e-9 * kAqls[i]) return i;
  return std::nullopt;
}

std::string aql_list() {
  std::string out;
  for (const char* label : kAqlLabels) out += (out.empty() ? "" : ", ") + std::string(label);
  return out;
}

// ---- Table 1: sample size code letters ----------------------------------------------------
// ISO 2859-1:1999 Table 1 (= ANSI/ASQ Z1.4-2003 Table I). Columns: special levels S-1 ... S-4,
// general levels I, II, III. The last row is "500 001 and over".
struct LotSizeRow {
  int max_lot_size;
  std::array<char, 7> letters;  // S-1, S-2, S-3, S-4, I, II, III
};
// clang-format off
constexpr std::array<LotSizeRow, 15> kCodeLetters = {{
    //  lot size up to    S-1  S-2  S-3  S-4   I   II  III
    {          8, {'A', 'A', 'A', 'A', 'A', 'A', 'B'}},  //       2 to 8
    {         15, {'A', 'A', 'A', 'A', 'A', 'B', 'C'}},  //       9 to 15
    {         25, {'A', 'A', 'B', 'B', 'B', 'C', 'D'}},  //      16 to 25
    {         50, {'A', 'B', 'B', 'C', 'C', 'D', 'E'}},  //      26 to 50
    {         90, {'B', 'B', 'C', 'C', 'C', 'E', 'F'}},  //      51 to 90
    {        150, {'B', 'B', 'C', 'D', 'D', 'F', 'G'}},  //      91 to 150
    {        280, {'B', 'C', 'D', 'E', 'E', 'G', 'H'}},  //     151 to 280
    {        500, {'B', 'C', 'D', 'E', 'F', 'H', 'J'}},  //     281 to 500
    {       1200, {'C', 'C', 'E', 'F', 'G', 'J', 'K'}},  //     501 to 1 200
    {       3200, {'C', 'D', 'E', 'G', 'H', 'K', 'L'}},  //   1 201 to 3 200
    {      10000, {'C', 'D', 'F', 'G', 'J', 'L', 'M'}},  //   3 201 to 10 000
    {      35000, {'C', 'D', 'F', 'H', 'K', 'M', 'N'}},  //  10 001 to 35 000
    {     150000, {'D', 'E', 'G', 'J', 'L', 'N', 'P'}},  //  35 001 to 150 000
    {     500000, {'D', 'E', 'G', 'J', 'M', 'P', 'Q'}},  // 150 001 to 500 000
    {2147483647, {'D', 'E', 'H', 'K', 'N', 'Q', 'R'}},  // 500 001 and over
}};
// clang-format on

// ---- Tables 2-A, 2-B, 2-C: single sampling master tables ----------------------------------
// Each row is the code letter, its sample size, and the 26 cells under the AQLs 0.010 ...
// 1000 exactly as printed: "Ac/Re", "v" (use the first sampling plan below the arrow), "^"
// (the first plan above), "-" (blank). The text is parsed at compile time; the
// static_asserts below check the structure every printed table has, so a slip in
// transcription stops the build.
struct RowText {
  char letter;
  int sample_size;
  std::string_view cells;
};

struct Cell {
  enum class Kind : std::uint8_t { Plan, Down, Up, Blank };
  Kind kind = Kind::Blank;
  int ac = 0;
  int re = 0;
};

template <std::size_t Rows>
struct MasterTable {
  std::array<char, Rows> letters{};
  std::array<int, Rows> sample_sizes{};
  std::array<std::array<Cell, kColumns>, Rows> cells{};
};

consteval int parse_int(std::string_view digits) {
  if (digits.empty()) throw "empty number in a master table cell";
  int value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') throw "bad digit in a master table cell";
    value = value * 10 + (c - '0');
  }
  return value;
}

consteval Cell parse_cell(std::string_view token) {
  if (token == "v") return {Cell::Kind::Down, 0, 0};
  if (token == "^") return {Cell::Kind::Up, 0, 0};
  if (token == "-") return {Cell::Kind::Blank, 0, 0};
  const auto slash = token.find('/');
  if (slash == std::string_view::npos) throw "master table cell is not Ac/Re, v, ^ or -";
  return {Cell::Kind::Plan, parse_int(token.substr(0, slash)), parse_int(token.substr(slash + 1))};
}

consteval std::array<Cell, kColumns> parse_row(std::string_view text) {
  std::array<Cell, kColumns> row{};
  int column = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && text[end] != ' ') ++end;
    if (column == kColumns) throw "master table row has more than 26 cells";
    row[column++] = parse_cell(text.substr(i, end - i));
    i = end;
  }
  if (column != kColumns) throw "master table row has fewer than 26 cells";
  return row;
}

template <std::size_t Rows>
consteval MasterTable<Rows> parse_table(const std::array<RowText, Rows>& text) {
  MasterTable<Rows> table;
  for (std::size_t r = 0; r < Rows; ++r) {
    table.letters[r] = text[r].letter;
    table.sample_sizes[r] = text[r].sample_size;
    table.cells[r] = parse_row(text[r].cells);
  }
  return table;
}

// clang-format off
// ISO 2859-1:1999 Table 2-A: single sampling plans for normal inspection (master table).
constexpr std::array<RowText, 16> kNormalText = {{
    // AQL:     0.010 0.015 0.025 0.040 0.065  0.10  0.15  0.25  0.40  0.65   1.0   1.5   2.5   4.0   6.5    10    15    25    40    65   100   150   250   400   650  1000
    {'A',    2,"     v     v     v     v     v     v     v     v     v     v     v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31"},
    {'B',    3,"     v     v     v     v     v     v     v     v     v     v     v     v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45"},
    {'C',    5,"     v     v     v     v     v     v     v     v     v     v     v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45     ^"},
    {'D',    8,"     v     v     v     v     v     v     v     v     v     v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45     ^     ^"},
    {'E',   13,"     v     v     v     v     v     v     v     v     v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45     ^     ^     ^"},
    {'F',   20,"     v     v     v     v     v     v     v     v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^"},
    {'G',   32,"     v     v     v     v     v     v     v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^"},
    {'H',   50,"     v     v     v     v     v     v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'J',   80,"     v     v     v     v     v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'K',  125,"     v     v     v     v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'L',  200,"     v     v     v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'M',  315,"     v     v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'N',  500,"     v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'P',  800,"     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'Q', 1250,"   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'R', 2000,"     ^     ^   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
}};

// ISO 2859-1:1999 Table 2-B: single sampling plans for tightened inspection (master table).
// Code letter S (3 150) appears only under AQL 0.025, reached by the arrows of Q and R.
constexpr std::array<RowText, 17> kTightenedText = {{
    // AQL:     0.010 0.015 0.025 0.040 0.065  0.10  0.15  0.25  0.40  0.65   1.0   1.5   2.5   4.0   6.5    10    15    25    40    65   100   150   250   400   650  1000
    {'A',    2,"     v     v     v     v     v     v     v     v     v     v     v     v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19 27/28"},
    {'B',    3,"     v     v     v     v     v     v     v     v     v     v     v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19 27/28 41/42"},
    {'C',    5,"     v     v     v     v     v     v     v     v     v     v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19 27/28 41/42     ^"},
    {'D',    8,"     v     v     v     v     v     v     v     v     v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19 27/28 41/42     ^     ^"},
    {'E',   13,"     v     v     v     v     v     v     v     v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19 27/28 41/42     ^     ^     ^"},
    {'F',   20,"     v     v     v     v     v     v     v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^"},
    {'G',   32,"     v     v     v     v     v     v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^"},
    {'H',   50,"     v     v     v     v     v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'J',   80,"     v     v     v     v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'K',  125,"     v     v     v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'L',  200,"     v     v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'M',  315,"     v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'N',  500,"     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'P',  800,"     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'Q', 1250,"     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'R', 2000,"   0/1     ^     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'S', 3150,"     -     -   1/2     -     -     -     -     -     -     -     -     -     -     -     -     -     -     -     -     -     -     -     -     -     -     -"},
}};

// ISO 2859-1:1999 Table 2-C: single sampling plans for reduced inspection (master table).
// Sample sizes are those of reduced inspection (A, B and C all 2). No Ac/Re gap (see header).
constexpr std::array<RowText, 16> kReducedText = {{
    // AQL:     0.010 0.015 0.025 0.040 0.065  0.10  0.15  0.25  0.40  0.65   1.0   1.5   2.5   4.0   6.5    10    15    25    40    65   100   150   250   400   650  1000
    {'A',    2,"     v     v     v     v     v     v     v     v     v     v     v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31"},
    {'B',    2,"     v     v     v     v     v     v     v     v     v     v     v     v     v   0/1     ^     v     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31"},
    {'C',    2,"     v     v     v     v     v     v     v     v     v     v     v     v   0/1     ^     v     v   1/2   2/3   3/4   5/6   6/7   8/9 10/11 14/15 21/22     ^"},
    {'D',    3,"     v     v     v     v     v     v     v     v     v     v     v   0/1     ^     v     v   1/2   2/3   3/4   5/6   6/7   8/9 10/11 14/15 21/22     ^     ^"},
    {'E',    5,"     v     v     v     v     v     v     v     v     v     v   0/1     ^     v     v   1/2   2/3   3/4   5/6   6/7   8/9 10/11 14/15 21/22     ^     ^     ^"},
    {'F',    8,"     v     v     v     v     v     v     v     v     v   0/1     ^     v     v   1/2   2/3   3/4   5/6   6/7   8/9 10/11     ^     ^     ^     ^     ^     ^"},
    {'G',   13,"     v     v     v     v     v     v     v     v   0/1     ^     v     v   1/2   2/3   3/4   5/6   6/7   8/9 10/11     ^     ^     ^     ^     ^     ^     ^"},
    {'H',   20,"     v     v     v     v     v     v     v   0/1     ^     v     v   1/2   2/3   3/4   5/6   6/7   8/9 10/11     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'J',   32,"     v     v     v     v     v     v   0/1     ^     v     v   1/2   2/3   3/4   5/6   6/7   8/9 10/11     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'K',   50,"     v     v     v     v     v   0/1     ^     v     v   1/2   2/3   3/4   5/6   6/7   8/9 10/11     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'L',   80,"     v     v     v     v   0/1     ^     v     v   1/2   2/3   3/4   5/6   6/7   8/9 10/11     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'M',  125,"     v     v     v   0/1     ^     v     v   1/2   2/3   3/4   5/6   6/7   8/9 10/11     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'N',  200,"     v     v   0/1     ^     v     v   1/2   2/3   3/4   5/6   6/7   8/9 10/11     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'P',  315,"     v   0/1     ^     v     v   1/2   2/3   3/4   5/6   6/7   8/9 10/11     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'Q',  500,"   0/1     ^     ^     v   1/2   2/3   3/4   5/6   6/7   8/9 10/11     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
    {'R',  800,"     ^     ^     ^   1/2   2/3   3/4   5/6   6/7   8/9 10/11     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^"},
}};
// clang-format on

constexpr auto kNormal = parse_table(kNormalText);
constexpr auto kTightened = parse_table(kTightenedText);
constexpr auto kReduced = parse_table(kReducedText);

// Follow the arrows from (row, column) to the plan they point at: the row of that plan, or
// nothing when an arrow leads off the table or into a blank cell.
template <std::size_t Rows>
constexpr std::optional<std::size_t> resolve(const MasterTable<Rows>& table, std::size_t row,
                                             int column) {
  while (row < Rows) {
    const Cell& cell = table.cells[row][column];
    switch (cell.kind) {
      case Cell::Kind::Plan:
        return row;
      case Cell::Kind::Down:
        ++row;
        break;
      case Cell::Kind::Up:
        if (row == 0) return std::nullopt;
        --row;
        break;
      case Cell::Kind::Blank:
        return std::nullopt;
    }
  }
  return std::nullopt;
}

// ---- What every printed master table satisfies (checked at compile time) -----------------
// The code letters and sample sizes of Table 1's letters, in order.
constexpr std::array<char, 16> kLetters = {'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H',
                                           'J', 'K', 'L', 'M', 'N', 'P', 'Q', 'R'};

template <std::size_t Rows>
consteval bool letters_in_order(const MasterTable<Rows>& table) {
  for (std::size_t r = 0; r < kLetters.size(); ++r)
    if (table.letters[r] != kLetters[r]) return false;
  for (std::size_t r = 1; r < Rows; ++r)
    if (table.sample_sizes[r] < table.sample_sizes[r - 1]) return false;
  return true;
}

// ISO 2859-1:1999 single sampling: every plan has Re = Ac + 1.
template <std::size_t Rows>
consteval bool no_acceptance_gap(const MasterTable<Rows>& table) {
  for (const auto& row : table.cells)
    for (const Cell& cell : row)
      if (cell.kind == Cell::Kind::Plan && cell.re != cell.ac + 1) return false;
  return true;
}

// Every cell of letters A ... R leads to a plan, arrows pointing the way they say.
template <std::size_t Rows>
consteval bool every_cell_has_a_plan(const MasterTable<Rows>& table) {
  for (std::size_t r = 0; r < kLetters.size(); ++r)
    for (int c = 0; c < kColumns; ++c) {
      const auto target = resolve(table, r, c);
      if (!target) return false;
      const Cell::Kind kind = table.cells[r][c].kind;
      if (kind == Cell::Kind::Down && *target <= r) return false;
      if (kind == Cell::Kind::Up && *target >= r) return false;
    }
  return true;
}

// Along a row (one sample size) Ac grows with the AQL; down a column (one AQL) Ac never
// falls, and grows whenever the sample size does. Catches a pair typed into the wrong cell.
// (Reduced inspection has letters A, B and C all at sample size 2, and under AQL 25 C's
// plan is 2/3 where A's and B's is 1/2: equal sample sizes need not mean equal plans.)
template <std::size_t Rows>
consteval bool acceptance_numbers_increase(const MasterTable<Rows>& table) {
  for (std::size_t r = 0; r < Rows; ++r) {
    int last = -1;
    for (int c = 0; c < kColumns; ++c) {
      const Cell& cell = table.cells[r][c];
      if (cell.kind != Cell::Kind::Plan) continue;
      if (cell.ac <= last) return false;
      last = cell.ac;
    }
  }
  for (int c = 0; c < kColumns; ++c) {
    int last_ac = -1;
    int last_n = 0;
    for (std::size_t r = 0; r < Rows; ++r) {
      const Cell& cell = table.cells[r][c];
      if (cell.kind != Cell::Kind::Plan) continue;
      if (cell.ac < last_ac || (table.sample_sizes[r] > last_n && cell.ac == last_ac)) return false;
      last_ac = cell.ac;
      last_n = table.sample_sizes[r];
    }
  }
  return true;
}

// Normal inspection, for the switching score: left of every plan with Ac >= 2 there is a
// plan of the same sample size (the next tighter AQL), so "one step tighter" is defined.
consteval bool tighter_plan_beside_every_ac_two_or_more(const MasterTable<16>& table) {
  for (const auto& row : table.cells)
    for (int c = 0; c < kColumns; ++c)
      if (row[c].kind == Cell::Kind::Plan && row[c].ac >= 2 &&
          (c == 0 || row[c - 1].kind != Cell::Kind::Plan))
        return false;
  return true;
}

static_assert(letters_in_order(kNormal) && letters_in_order(kTightened) &&
              letters_in_order(kReduced));
static_assert(kTightened.letters[16] == 'S');
static_assert(no_acceptance_gap(kNormal) && no_acceptance_gap(kTightened) &&
              no_acceptance_gap(kReduced));
static_assert(every_cell_has_a_plan(kNormal) && every_cell_has_a_plan(kTightened) &&
              every_cell_has_a_plan(kReduced));
static_assert(acceptance_numbers_increase(kNormal) && acceptance_numbers_increase(kTightened) &&
              acceptance_numbers_increase(kReduced));
static_assert(tighter_plan_beside_every_ac_two_or_more(kNormal));

template <std::size_t Rows>
std::optional<MasterPlan> find_plan(const MasterTable<Rows>& table, char letter, int column) {
  const auto start = std::find(table.letters.begin(), table.letters.end(), letter);
  if (start == table.letters.end()) return std::nullopt;
  const auto row = resolve(table, static_cast<std::size_t>(start - table.letters.begin()), column);
  if (!row) return std::nullopt;
  const Cell& cell = table.cells[*row][column];
  return MasterPlan{table.letters[*row], table.sample_sizes[*row], cell.ac, cell.re};
}

std::optional<MasterPlan> find_plan(Severity severity, char letter, int column) {
  switch (severity) {
    case Severity::Normal:
      return find_plan(kNormal, letter, column);
    case Severity::Tightened:
      return find_plan(kTightened, letter, column);
    case Severity::Reduced:
      return find_plan(kReduced, letter, column);
  }
  return std::nullopt;
}

const char* table_name(Severity severity) {
  switch (severity) {
    case Severity::Normal:
      return "Table 2-A";
    case Severity::Tightened:
      return "Table 2-B";
    case Severity::Reduced:
      return "Table 2-C";
  }
  return "?";
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const char* to_string(InspectionLevel level) {
  switch (level) {
    case InspectionLevel::S1:
      return "S-1";
    case InspectionLevel::S2:
      return "S-2";
    case InspectionLevel::S3:
      return "S-3";
    case InspectionLevel::S4:
      return "S-4";
    case InspectionLevel::I:
      return "I";
    case InspectionLevel::II:
      return "II";
    case InspectionLevel::III:
      return "III";
  }
  return "?";
}

const char* to_string(Severity severity) {
  switch (severity) {
    case Severity::Normal:
      return "normal";
    case Severity::Tightened:
      return "tightened";
    case Severity::Reduced:
      return "reduced";
  }
  return "?";
}

const char* to_string(LotDecision decision) {
  return decision == LotDecision::Accepted ? "accepted" : "rejected";
}

std::expected<InspectionLevel, std::string> inspection_level_from(std::string_view text) {
  const std::string key = lower(text);
  if (key == "s-1" || key == "s1") return InspectionLevel::S1;
  if (key == "s-2" || key == "s2") return InspectionLevel::S2;
  if (key == "s-3" || key == "s3") return InspectionLevel::S3;
  if (key == "s-4" || key == "s4") return InspectionLevel::S4;
  if (key == "i") return InspectionLevel::I;
  if (key == "ii") return InspectionLevel::II;
  if (key == "iii") return InspectionLevel::III;
  return std::unexpected("inspection level '" + std::string(text) +
                         "' is not one of S-1, S-2, S-3, S-4, I, II, III");
}

std::expected<Severity, std::string> severity_from(std::string_view text) {
  const std::string key = lower(text);
  if (key == "normal") return Severity::Normal;
  if (key == "tightened") return Severity::Tightened;
  if (key == "reduced") return Severity::Reduced;
  return std::unexpected("inspection severity '" + std::string(text) +
                         "' is not one of normal, tightened, reduced");
}

std::expected<double, std::string> aql_from(std::string_view text) {
  double value = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  const auto [end, error] = std::from_chars(first, last, value, std::chars_format::fixed);
  if (text.empty() || error != std::errc() || end != last || !std::isfinite(value))
    return std::unexpected("AQL '" + std::string(text) + "' is not a number");
  const auto column = aql_column(value);
  if (!column)
    return std::unexpected("AQL " + std::string(text) + " is not one of the standard's AQLs (" +
                           aql_list() + ")");
  return kAqls[*column];
}

const char* aql_label(double aql) {
  const auto column = aql_column(aql);
  return column ? kAqlLabels[*column] : "?";
}

std::expected<char, std::string> code_letter(int lot_size, InspectionLevel level) {
  if (lot_size < 2)
    return std::unexpected(
        text("lot size %d: ISO 2859-1 Table 1 starts at lots of 2 units (a single unit is simply "
             "inspected)",
             lot_size));
  for (const LotSizeRow& row : kCodeLetters)
    if (lot_size <= row.max_lot_size) return row.letters[static_cast<int>(level)];
  return kCodeLetters.back().letters[static_cast<int>(level)];
}

std::expected<MasterPlan, std::string> master_plan(Severity severity, char code_letter,
                                                   double aql) {
  const auto column = aql_column(aql);
  if (!column)
    return std::unexpected(
        text("AQL %g is not one of the standard's AQLs (%s)", aql, aql_list().c_str()));
  if (std::find(kLetters.begin(), kLetters.end(), code_letter) == kLetters.end())
    return std::unexpected(
        text("code letter '%c' is not one of Table 1's letters A to R "
             "(no I or O)",
             code_letter));
  const auto found = find_plan(severity, code_letter, *column);
  if (!found)  // impossible: every_cell_has_a_plan holds for letters A ... R
    return std::unexpected(text("%s has no plan for code letter %c at AQL %s", table_name(severity),
                                code_letter, kAqlLabels[*column]));
  return *found;
}

std::expected<int, std::string> sample_size_of(Severity severity, char code_letter) {
  const auto find = [&](const auto& table) -> std::optional<int> {
    const auto it = std::find(table.letters.begin(), table.letters.end(), code_letter);
    if (it == table.letters.end()) return std::nullopt;
    return table.sample_sizes[it - table.letters.begin()];
  };
  std::optional<int> n;
  switch (severity) {
    case Severity::Normal:
      n = find(kNormal);
      break;
    case Severity::Tightened:
      n = find(kTightened);
      break;
    case Severity::Reduced:
      n = find(kReduced);
      break;
  }
  if (!n)
    return std::unexpected(
        text("code letter '%c' has no row in %s", code_letter, table_name(severity)));
  return *n;
}

std::expected<SamplingPlan, std::string> single_sampling_plan(int lot_size, InspectionLevel level,
                                                              double aql, Severity severity) {
  const auto letter = code_letter(lot_size, level);
  if (!letter) return std::unexpected(letter.error());
  const auto found = master_plan(severity, *letter, aql);
  if (!found) return std::unexpected(found.error());
  SamplingPlan plan;
  plan.table = table_name(severity);
  plan.lot_size = lot_size;
  plan.level = level;
  plan.aql = kAqls[*aql_column(aql)];
  plan.severity = severity;
  plan.lot_code_letter = *letter;
  plan.code_letter = found->code_letter;
  plan.plan_sample_size = found->sample_size;
  plan.hundred_percent = found->sample_size >= lot_size;
  plan.sample_size = plan.hundred_percent ? lot_size : found->sample_size;
  plan.accept_number = found->accept_number;
  plan.reject_number = found->reject_number;
  plan.counts_nonconformities = plan.aql > 10;
  return plan;
}

std::string describe(const SamplingPlan& plan) {
  std::string out = text("%s %s (%s), level %s, AQL %s, lot %d: code %c", plan.edition.c_str(),
                         plan.table.c_str(), to_string(plan.severity), to_string(plan.level),
                         aql_label(plan.aql), plan.lot_size, plan.code_letter);
  if (plan.code_letter != plan.lot_code_letter)
    out += text(" (arrow from %c)", plan.lot_code_letter);
  if (plan.hundred_percent)
    out += text(", inspect all %d (100 %%: the plan's sample of %d is not smaller than the lot)",
                plan.sample_size, plan.plan_sample_size);
  else
    out += text(", inspect %d", plan.sample_size);
  out += text(", accept %d, reject %d", plan.accept_number, plan.reject_number);
  if (plan.counts_nonconformities) out += " (nonconformities per 100 items)";
  return out;
}

std::expected<LotDecision, std::string> decide(const SamplingPlan& plan, int nonconforming) {
  if (nonconforming < 0)
    return std::unexpected(text("nonconforming count %d is negative", nonconforming));
  return nonconforming <= plan.accept_number ? LotDecision::Accepted : LotDecision::Rejected;
}

std::expected<LotOutcome, std::string> lot_outcome(const SamplingPlan& plan, int nonconforming) {
  const auto decision = decide(plan, nonconforming);
  if (!decision) return std::unexpected(decision.error());
  LotOutcome outcome;
  outcome.severity = plan.severity;
  outcome.decision = *decision;
  outcome.accept_number = plan.accept_number;
  // 9.3.3.2 a) 1): the same sample judged with the acceptance number of the next tighter
  // AQL. The plan's own row of Table 2-A holds it, one column to the left (checked above).
  const auto column = aql_column(plan.aql);
  if (plan.severity == Severity::Normal && plan.accept_number >= 2 && column && *column > 0) {
    const auto row = std::find(kNormal.letters.begin(), kNormal.letters.end(), plan.code_letter);
    if (row != kNormal.letters.end()) {
      const Cell& tighter = kNormal.cells[row - kNormal.letters.begin()][*column - 1];
      outcome.accepted_one_step_tighter =
          tighter.kind == Cell::Kind::Plan && nonconforming <= tighter.ac;
    }
  }
  return outcome;
}

namespace {

// The switching rules of ISO 2859-1:1999 clause 9, one lot at a time.
class SwitchingRules {
 public:
  const SwitchingState& state() const { return state_; }

  // The severities the rules allow for the next lot: the prescribed one, plus the
  // discretionary moves (normal -> reduced once eligible, reduced -> normal at any time).
  bool allows(Severity severity) const {
    if (severity == state_.severity) return true;
    if (state_.severity == Severity::Normal && severity == Severity::Reduced)
      return state_.switching_score >= 30;
    return state_.severity == Severity::Reduced && severity == Severity::Normal;
  }

  void resume_after_discontinuation() {
    enter(Severity::Tightened,
          "inspection resumed after corrective action, tightened as if 9.3.1 had been invoked "
          "(9.4)");
  }

  void switch_to(Severity severity, const std::string& why) { enter(severity, why); }

  void record(const LotOutcome& lot) {
    ++state_.lots;
    const bool accepted = lot.decision == LotDecision::Accepted;
    switch (state_.severity) {
      case Severity::Normal:
        record_normal(lot, accepted);
        break;
      case Severity::Tightened:
        record_tightened(accepted);
        break;
      case Severity::Reduced:
        if (!accepted)
          enter(Severity::Normal,
                text("lot %d not accepted on reduced inspection: normal inspection reinstated "
                     "(9.3.4 a)",
                     state_.lots));
        else
          state_.reason = text("reduced inspection continues (9.2); lot %d accepted", state_.lots);
        break;
    }
  }

 private:
  void record_normal(const LotOutcome& lot, bool accepted) {
    normal_window_.push_back(accepted);
    if (normal_window_.size() > 5) normal_window_.pop_front();
    state_.rejected_in_last_five_normal =
        static_cast<int>(std::count(normal_window_.begin(), normal_window_.end(), false));
    if (state_.rejected_in_last_five_normal >= 2) {
      enter(Severity::Tightened,
            text("lot %d: 2 of the last %zu lots on normal inspection not accepted: tightened "
                 "inspection (9.3.1)",
                 state_.lots, normal_window_.size()));
      return;
    }
    // 9.3.3.2 a): Ac >= 2: +3 if the lot would also have been accepted one AQL step
    // tighter, else reset; Ac 0 or 1: +2 if accepted, else reset.
    if (lot.accept_number >= 2)
      state_.switching_score =
          accepted && lot.accepted_one_step_tighter ? state_.switching_score + 3 : 0;
    else
      state_.switching_score = accepted ? state_.switching_score + 2 : 0;
    state_.reason = text("normal inspection continues (9.2); switching score %d after lot %d",
                         state_.switching_score, state_.lots);
  }

  void record_tightened(bool accepted) {
    if (accepted) {
      ++state_.consecutive_accepted_tightened;
      if (state_.consecutive_accepted_tightened >= 5) {
        enter(Severity::Normal,
              text("lot %d: 5 consecutive lots accepted on tightened inspection: normal "
                   "inspection reinstated (9.3.2)",
                   state_.lots));
        return;
      }
    } else {
      state_.consecutive_accepted_tightened = 0;
      ++state_.rejected_on_tightened;
      if (state_.rejected_on_tightened >= 5) {
        state_.discontinued = true;
        state_.reason = text(
            "lot %d: 5 lots not accepted on tightened inspection: acceptance inspection is "
            "discontinued until the supplier has acted to improve quality and the responsible "
            "authority agrees the action is likely to be effective; it then resumes tightened "
            "(9.4)",
            state_.lots);
        return;
      }
    }
    state_.reason = text(
        "tightened inspection continues (9.2): %d consecutive accepted of the 5 that reinstate "
        "normal, %d not accepted of the 5 that discontinue inspection",
        state_.consecutive_accepted_tightened, state_.rejected_on_tightened);
  }

  // Counters belong to the severity they were counted under: each switch starts afresh
  // (the switching score starts at 0 at the start of normal inspection, 9.3.3.2).
  void enter(Severity severity, const std::string& why) {
    state_.severity = severity;
    state_.switching_score = 0;
    state_.rejected_in_last_five_normal = 0;
    state_.consecutive_accepted_tightened = 0;
    state_.rejected_on_tightened = 0;
    state_.discontinued = false;
    state_.reason = why;
    normal_window_.clear();
  }

  SwitchingState state_{.severity = Severity::Normal,
                        .reason = "normal inspection at the start (9.1)"};
  std::deque<bool> normal_window_;  // accepted?, last (up to) 5 lots on normal inspection
};

}  // namespace

std::expected<SwitchingState, std::string> switching_state(std::span<const LotOutcome> history,
                                                           bool production_steady,
                                                           bool reduced_approved) {
  SwitchingRules rules;
  for (std::size_t i = 0; i < history.size(); ++i) {
    const LotOutcome& lot = history[i];
    const int number = static_cast<int>(i) + 1;
    if (rules.state().discontinued) {
      if (!lot.resumes_after_discontinuation || lot.severity != Severity::Tightened)
        return std::unexpected(text(
            "lot %d was inspected (%s) after inspection was discontinued; only a lot marked as "
            "resuming after accepted corrective action, inspected tightened, may follow (9.4)",
            number, to_string(lot.severity)));
      rules.resume_after_discontinuation();
    } else if (lot.resumes_after_discontinuation) {
      return std::unexpected(
          text("lot %d is marked as resuming after a discontinuation, but inspection was not "
               "discontinued",
               number));
    }
    if (!rules.allows(lot.severity))
      return std::unexpected(
          text("lot %d was inspected %s, but the switching rules required %s inspection at that "
               "point (%s)",
               number, to_string(lot.severity), to_string(rules.state().severity),
               rules.state().reason.c_str()));
    if (lot.severity != rules.state().severity)
      rules.switch_to(
          lot.severity,
          lot.severity == Severity::Reduced
              ? text("lot %d: reduced inspection adopted with a switching score of %d (9.3.3)",
                     number, rules.state().switching_score)
              : text("lot %d: normal inspection reinstated from reduced (9.3.4 b, c)", number));
    rules.record(lot);
  }

  SwitchingState state = rules.state();
  if (state.discontinued) return state;
  if (state.severity == Severity::Normal && state.switching_score >= 30) {
    if (production_steady && reduced_approved) {
      state.reason = text(
          "switching score %d >= 30, production steady and reduced inspection approved by the "
          "responsible authority: reduced inspection (9.3.3)",
          state.switching_score);
      state.severity = Severity::Reduced;
      state.switching_score = 0;
      state.rejected_in_last_five_normal = 0;
    } else {
      state.reason +=
          text("; reduced inspection is allowed by the score (>= 30) but needs %s (9.3.3)",
               !production_steady ? "production at a steady rate"
                                  : "the responsible authority's approval");
    }
  } else if (state.severity == Severity::Reduced && !production_steady) {
    state.severity = Severity::Normal;
    state.reason = "production is not steady: normal inspection reinstated (9.3.4 b)";
  }
  return state;
}

}  // namespace derma::analysis
