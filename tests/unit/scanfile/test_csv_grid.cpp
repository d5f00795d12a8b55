#include <catch2/catch.hpp>
#include <cmath>

#include "bench/scanfile/csv_grid.hpp"
#include "scan_test_support.hpp"

using namespace derma::scanfile;

namespace {

CsvGridOptions pitch_20() {
  CsvGridOptions options;
  options.pitch_x_um = options.pitch_y_um = 20;
  return options;
}

}  // namespace

TEST_CASE("an ASCII grid reads the same whatever its separator, headers and line ends") {
  const std::string expected_file =
      GENERATE(std::string("# exported by Profilo\n# x rows, y columns\n1.5,2,3\n4,-5.25,6\n"),
               std::string("1.5;2;3\r\n4;-5.25;6\r\n"), std::string("1.5\t2\t3\n\n4\t-5.25\t6"),
               std::string("  1.5   2  3\n4 -5.25   +6\n"), std::string("1.5, 2 ,3\n4,-5.25, 6\n"));
  auto grid = parse_csv_grid(expected_file, "grid.csv", pitch_20());
  REQUIRE(grid);
  CHECK(grid->format == "CSV");
  CHECK(grid->nx == 2);  // lines run along X
  CHECK(grid->ny == 3);
  CHECK(grid->at(0, 0) == 1.5f);
  CHECK(grid->at(0, 2) == 3.0f);
  CHECK(grid->at(1, 1) == -5.25f);
  CHECK(grid->at(1, 2) == 6.0f);
}

TEST_CASE("empty and NaN cells of an ASCII grid are no data") {
  auto grid = parse_csv_grid("1,,3\nNaN,nan,6\n", "grid.csv", pitch_20());
  REQUIRE(grid);
  CHECK(std::isnan(grid->at(0, 1)));
  CHECK(std::isnan(grid->at(1, 0)));
  CHECK(std::isnan(grid->at(1, 1)));
  CHECK(grid->valid_points() == 3);
}

TEST_CASE("an ASCII grid's heights are converted from the unit given to um") {
  auto options = pitch_20();
  SECTION("mm") {
    options.unit = HeightUnit::Millimetre;
    auto grid = parse_csv_grid("0.325 0\n0 0\n", "g.txt", options);
    REQUIRE(grid);
    CHECK(grid->at(0, 0) == Approx(325.0));
  }
  SECTION("nm") {
    options.unit = HeightUnit::Nanometre;
    auto grid = parse_csv_grid("-1500 0\n0 0\n", "g.txt", options);
    REQUIRE(grid);
    CHECK(grid->at(0, 0) == Approx(-1.5));
  }
  CHECK_FALSE(parse_height_unit("inch"));
}

TEST_CASE("a transposed ASCII grid has its lines along Y") {
  auto options = pitch_20();
  options.transpose = true;
  options.pitch_y_um = 40;
  auto grid = parse_csv_grid("1,2,3\n4,5,6\n", "grid.csv", options);
  REQUIRE(grid);
  CHECK(grid->nx == 3);
  CHECK(grid->ny == 2);
  CHECK(grid->at(0, 1) == 4.0f);
  CHECK(grid->at(2, 0) == 3.0f);
  CHECK(grid->pitch_y_um == 40);
}

TEST_CASE("a ragged ASCII grid is refused naming the line") {
  auto grid = parse_csv_grid("# header\n1,2,3\n4,5,6\n7,8\n", "ragged.csv", pitch_20());
  REQUIRE_FALSE(grid);
  CHECK(grid.error().line == 4);
  CHECK(grid.error().to_string() ==
        "ragged.csv:4: ragged grid: this line has 2 cells, the first data line (line 2) has 3");
}

TEST_CASE("a non-numeric cell is refused naming its line and column") {
  SECTION("text") {
    auto grid = parse_csv_grid("1;2;3\n4;5,5;6\n", "comma.csv", pitch_20());
    REQUIRE_FALSE(grid);
    CHECK(grid.error().to_string() ==
          "comma.csv:2:2: cell 2 is '5,5', not a number (empty or NaN marks no data)");
  }
  SECTION("infinity") {
    auto grid = parse_csv_grid("1 2\n3 inf\n", "inf.txt", pitch_20());
    REQUIRE_FALSE(grid);
    CHECK(grid.error().line == 2);
    CHECK(grid.error().column == 2);
  }
}

TEST_CASE("an ASCII grid smaller than 2 x 2 is refused") {
  CHECK_FALSE(parse_csv_grid("# nothing\n", "empty.csv", pitch_20()));
  CHECK_FALSE(parse_csv_grid("1,2,3\n", "one-line.csv", pitch_20()));
  auto missing = read_csv_grid("/nonexistent/scan.csv", pitch_20());
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().to_string(),
             Catch::Contains("/nonexistent/scan.csv: cannot be opened"));
}
