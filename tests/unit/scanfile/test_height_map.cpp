#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>

#include "bench/scanfile/csv_grid.hpp"
#include "bench/scanfile/x3p_file.hpp"
#include "scan_test_support.hpp"

using namespace derma::scanfile;
using derma::scanfile::test::ScratchDir;

TEST_CASE("a square-pitch surface becomes a height map unchanged") {
  ScanSurface s = test::pitted_surface(40, 30, 20, {{400, 300, 100}});
  s.x0_um = 5000;
  auto map = to_height_map(s);
  REQUIRE(map);
  CHECK(map->rows == 40);
  CHECK(map->cols == 30);
  CHECK(map->pitch_um == 20);
  CHECK(map->x_um(1) == 5020);
  CHECK(map->height_um == s.height_um);
}

TEST_CASE("a surface with different X and Y pitches is resampled at the finer one") {
  // A plane is reproduced exactly by bilinear interpolation.
  ScanSurface s;
  s.nx = 11;  // 100 um along X at 10 um
  s.ny = 6;   // 100 um along Y at 20 um
  s.pitch_x_um = 10;
  s.pitch_y_um = 20;
  for (int ix = 0; ix < s.nx; ++ix)
    for (int iy = 0; iy < s.ny; ++iy)
      s.height_um.push_back(static_cast<float>(0.5 * ix * 10 + 0.25 * iy * 20));
  auto map = to_height_map(s);
  REQUIRE(map);
  CHECK(map->pitch_um == 10);
  CHECK(map->rows == 11);
  CHECK(map->cols == 11);
  for (int r = 0; r < map->rows; ++r)
    for (int c = 0; c < map->cols; ++c)
      REQUIRE(map->at(r, c) == Approx(0.5 * r * 10 + 0.25 * c * 10));
}

TEST_CASE("a surface too small or without a pitch cannot become a height map") {
  ScanSurface s = test::pitted_surface(1, 5, 20, {});
  CHECK_FALSE(to_height_map(s));
  s = test::pitted_surface(5, 5, 20, {});
  s.pitch_y_um = 0;
  CHECK_FALSE(to_height_map(s));
}

TEST_CASE("the same map as an int16 X3P and as an ASCII grid reads to identical heights") {
  // Heights on a 0.1 um grid: exact in int16 at a 0.1 um increment and in one decimal.
  ScratchDir dir;
  ScanSurface s = test::pitted_surface(60, 50, 20, {{600, 500, 325.4}});
  for (float& h : s.height_um) h = static_cast<float>(std::round(h * 10.0) / 10.0);
  X3PWriteOptions options;
  options.z_type = X3PDataType::Int16;
  options.z_increment_m = 1e-7;
  REQUIRE(write_x3p(dir.file("map.x3p"), s, options));
  std::string csv = "# same map\n";
  for (int ix = 0; ix < s.nx; ++ix) {
    for (int iy = 0; iy < s.ny; ++iy) {
      char cell[32];
      std::snprintf(cell, sizeof cell, "%s%.1f", iy ? "," : "", s.at(ix, iy));
      csv += cell;
    }
    csv += "\n";
  }
  CsvGridOptions csv_options;
  csv_options.pitch_x_um = csv_options.pitch_y_um = 20;
  auto from_x3p = read_x3p(dir.file("map.x3p"));
  auto from_csv = parse_csv_grid(csv, "map.csv", csv_options);
  REQUIRE(from_x3p);
  REQUIRE(from_csv);
  CHECK(from_x3p->nx == from_csv->nx);
  CHECK(from_x3p->ny == from_csv->ny);
  CHECK(from_x3p->height_um == from_csv->height_um);
}
