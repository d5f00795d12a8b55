// The comment header of Gwyddion's "ASCII data matrix" export gives an ASCII grid its pitch
// and height unit: read as Gwyddion writes it, replaced by what the caller gives, and
// refused, naming file and line, when it is malformed.
#include <catch2/catch.hpp>
#include <string>

#include "bench/scanfile/csv_grid.hpp"

using namespace derma::scanfile;

namespace {

// 3 lines of 4 cells; Gwyddion's Width runs along a line, its Height across the lines.
const std::string kMatrix =
    "1e-06\t2e-06\t3e-06\t4e-06\n5e-06\t6e-06\t7e-06\t8e-06\n"
    "9e-06\t1e-05\t1.1e-05\t1.2e-05\n";

std::string gwyddion(const std::string& width = "4.000 mm", const std::string& height = "6.000 mm",
                     const std::string& units = "m") {
  return "# Channel: Height\n# Width: " + width + "\n# Height: " + height +
         "\n# Value units: " + units + "\n" + kMatrix;
}

ScanSurface parsed(const std::string& text, const CsvGridOptions& options = {}) {
  auto grid = parse_csv_grid(text, "matrix.txt", options);
  if (!grid) FAIL(grid.error().to_string());
  return *grid;
}

std::string error_of(const std::string& text, const CsvGridOptions& options = {}) {
  auto grid = parse_csv_grid(text, "matrix.txt", options);
  REQUIRE_FALSE(grid);
  return grid.error().to_string();
}

}  // namespace

TEST_CASE("a Gwyddion header gives the pitch along and across the lines, and the unit") {
  SECTION("lines along X, as any grid") {
    const ScanSurface grid = parsed(gwyddion());
    CHECK(grid.nx == 3);
    CHECK(grid.ny == 4);
    CHECK(grid.pitch_x_um == 2000);  // Height 6 mm over 3 lines
    CHECK(grid.pitch_y_um == 1000);  // Width 4 mm over 4 cells
    CHECK(grid.at(0, 0) == Approx(1.0));
    CHECK(grid.at(2, 3) == Approx(12.0));
    REQUIRE(grid.notes.size() == 2);
    CHECK(grid.notes[0] == "heights in m, from the Gwyddion header's Value units");
    CHECK(grid.notes[1] ==
          "pitch from the Gwyddion header: Width over 4 cells, Height over 3 lines");
  }
  SECTION("transposed: the lines run along Y, Gwyddion's Width along X") {
    CsvGridOptions options;
    options.transpose = true;
    const ScanSurface grid = parsed(gwyddion(), options);
    CHECK(grid.nx == 4);
    CHECK(grid.ny == 3);
    CHECK(grid.pitch_x_um == 1000);
    CHECK(grid.pitch_y_um == 2000);
    CHECK(grid.at(3, 0) == Approx(4.0));
  }
}

TEST_CASE("a Gwyddion header's lengths and value units are read in every unit it prints") {
  struct Case {
    std::string width;
    double cell_pitch_um;
  };
  const Case c =
      GENERATE(Case{"4.000 mm", 1000}, Case{"4000 \u00b5m", 1000}, Case{"4000 \u03bcm", 1000},
               Case{"4000.0 um", 1000}, Case{"2.000 nm", 0.0005}, Case{"0.004 m", 1000},
               Case{"4,000 mm", 1000}, Case{"4e-3 m", 1000});
  DYNAMIC_SECTION("Width: " << c.width) {
    CHECK(parsed(gwyddion(c.width)).pitch_y_um == Approx(c.cell_pitch_um));
  }
  struct Unit {
    std::string name;
    double um_per_value;
  };
  const Unit u = GENERATE(Unit{"m", 1e6}, Unit{"mm", 1e3}, Unit{"um", 1}, Unit{"\u00b5m", 1},
                          Unit{"nm", 1e-3});
  DYNAMIC_SECTION("Value units: " << u.name) {
    CHECK(parsed(gwyddion("4 mm", "6 mm", u.name)).at(1, 1) == Approx(6e-6 * u.um_per_value));
  }
}

TEST_CASE("a Gwyddion header is read in the languages Gwyddion writes it in") {
  const std::string header = GENERATE(
      as<std::string>(),
      "# Kanal: H\u00f6he\n# Breite: 4,000 mm\n# H\u00f6he: 6,000 mm\n# Einheiten: m\n",
      "# Canal : Hauteur\n# Largeur : 4.000 mm\n# Hauteur : 6.000 mm\n# Unit\u00e9s : m\n",
      "# \u30c1\u30e3\u30cd\u30eb\uff1a Height\n# \u5e45: 4.000 mm\n"
      "# \u9ad8\u3055\uff1a 6.000 mm\n# \u5024\u306e\u5358\u4f4d: m\n",
      "# \u041a\u0430\u043d\u0430\u043b: Height\n# \u0428\u0438\u0440\u0438\u043d\u0430: 4.000 "
      "mm\n# \u0412\u044b\u0441\u043e\u0442\u0430: 6.000 mm\n# \u0415\u0434\u0438\u043d\u0438"
      "\u0446\u044b \u0438\u0437\u043c\u0435\u0440\u0435\u043d\u0438\u044f: m\n",
      "# Kan\u00e1l: V\u00fd\u0161ka\n# \u0160\u00ed\u0159ka: 4.000 mm\n# V\u00fd\u0161ka: "
      "6.000 mm\n# Jednotky hodnot: m\n");
  DYNAMIC_SECTION(header.substr(0, 12)) {
    const ScanSurface grid = parsed(header + kMatrix);
    CHECK(grid.pitch_x_um == 2000);
    CHECK(grid.pitch_y_um == 1000);
    CHECK(grid.at(0, 0) == Approx(1.0));
  }
}

TEST_CASE("a pitch or unit given replaces the Gwyddion header's, and says so") {
  CsvGridOptions options;
  options.pitch_x_um = options.pitch_y_um = 25;
  options.unit = HeightUnit::Nanometre;
  const ScanSurface grid = parsed(gwyddion(), options);
  CHECK(grid.pitch_x_um == 25);
  CHECK(grid.pitch_y_um == 25);
  CHECK(grid.at(0, 0) == Approx(1e-9));  // "1e-06" nm
  REQUIRE(grid.notes.size() == 2);
  CHECK(grid.notes[0] == "the height unit given replaces the Gwyddion header's Value units 'm'");
  CHECK(grid.notes[1] == "the pitch given replaces the Gwyddion header's 2000 x 1000 um");
}

TEST_CASE("without a header or a pitch given, the grid has no pitch for the caller to ask") {
  const ScanSurface grid = parsed("# an export\n1 2\n3 4\n");
  CHECK(grid.pitch_x_um == 0);
  CHECK(grid.pitch_y_um == 0);
  CHECK(grid.notes.empty());
  CHECK(grid.at(1, 1) == 4.0f);  // um without a unit
}

TEST_CASE("a header pitch is the extent over the points, without the division's round-off") {
  // In binary, 1.001 mm / 11 is 90.99999999999999 um and 0.5005 mm / 7 is 71.49999999999999.
  std::string text = "# Width: 1.001 mm\n# Height: 0.5005 mm\n";
  for (int line = 0; line < 7; ++line) text += "0 0 0 0 0 0 0 0 0 0 0\n";
  const ScanSurface grid = parsed(text);
  CHECK(grid.pitch_x_um == 71.5);
  CHECK(grid.pitch_y_um == 91.0);
}

TEST_CASE("the Gwyddion sample export reads as exactly the map of good.csv") {
  const std::string dir = std::string(DERMA_SOURCE_DIR) + "/fixtures/scans/";
  CsvGridOptions pitch_25;
  pitch_25.pitch_x_um = pitch_25.pitch_y_um = 25;
  auto csv = read_csv_grid(dir + "good.csv", pitch_25);
  auto gwy = read_csv_grid(dir + "gwyddion-matrix.txt", {});
  REQUIRE(csv);
  REQUIRE(gwy);
  CHECK(gwy->nx == csv->nx);
  CHECK(gwy->ny == csv->ny);
  CHECK(gwy->pitch_x_um == 25.0);
  CHECK(gwy->pitch_y_um == 25.0);
  CHECK(gwy->height_um == csv->height_um);
}

TEST_CASE("a malformed Gwyddion header is refused naming the file and the line") {
  SECTION("a Width that is not a number") {
    CHECK(error_of(gwyddion("wide mm")) ==
          "matrix.txt:2: Gwyddion header Width is 'wide mm': not a length (a number, then m, mm, "
          "um, \u00b5m or nm)");
  }
  SECTION("a length in an unknown unit") {
    CHECK_THAT(error_of(gwyddion("4 mm", "6 furlongs")),
               Catch::StartsWith("matrix.txt:3: Gwyddion header Height is '6 furlongs'"));
  }
  SECTION("a length without a unit") {
    CHECK_THAT(error_of(gwyddion("4")), Catch::StartsWith("matrix.txt:2: Gwyddion header Width"));
  }
  SECTION("a length that is not positive") {
    CHECK(error_of(gwyddion("0.000 mm")) ==
          "matrix.txt:2: Gwyddion header Width is '0.000 mm': it must be positive");
  }
  SECTION("a Width without a Height") {
    CHECK(error_of("# Width: 4 mm\n" + kMatrix) ==
          "matrix.txt:1: a Gwyddion Width header line without a Height one: the pitch needs "
          "both");
  }
  SECTION("a Height without a Width") {
    CHECK_THAT(error_of("# Channel: Z\n# Height: 4 mm\n" + kMatrix),
               Catch::StartsWith("matrix.txt:2: a Gwyddion Height header line without a Width"));
  }
  SECTION("value units that are not a length") {
    CHECK(error_of(gwyddion("4 mm", "6 mm", "V")) ==
          "matrix.txt:4: Gwyddion header Value units are 'V', not a length (m, mm, um, \u00b5m "
          "or nm): the values are not heights");
    CsvGridOptions unit_given;
    unit_given.unit = HeightUnit::Nanometre;
    CHECK(parse_csv_grid(gwyddion("4 mm", "6 mm", "V"), "matrix.txt", unit_given));
  }
  SECTION("a header line twice") {
    CHECK(error_of("# Width: 4 mm\n" + gwyddion()) ==
          "matrix.txt:3: a second Gwyddion 'Width' header line (the first is line 1)");
  }
  SECTION("a second channel after the data") {
    CHECK(error_of(gwyddion() + "\n" + gwyddion()) ==
          "matrix.txt:9: a Gwyddion header after the data: the file holds several channels "
          "(Gwyddion's concatenated export); export the height channel alone");
  }
}

TEST_CASE("height units are named as the bench and Gwyddion write them") {
  CHECK(parse_height_unit("m") == HeightUnit::Metre);
  CHECK(parse_height_unit("\u00b5m") == HeightUnit::Micrometre);
  CHECK(parse_height_unit("um") == HeightUnit::Micrometre);
  CHECK(parse_height_unit("inch").error() == "unknown height unit 'inch' (use um, mm, nm or m)");
}
