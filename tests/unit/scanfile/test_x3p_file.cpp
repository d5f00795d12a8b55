#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>

#include "bench/scanfile/md5.hpp"
#include "bench/scanfile/x3p_file.hpp"
#include "bench/scanfile/zip_archive.hpp"
#include "scan_test_support.hpp"

using namespace derma::scanfile;
using derma::scanfile::test::ramp_surface;
using derma::scanfile::test::replaced;
using derma::scanfile::test::ScratchDir;

namespace {

// Writes parts to a container and reads it back: the error text, or "" when it read.
std::string read_error(const ScratchDir& dir, const X3PParts& parts) {
  const std::string path = dir.file("broken.x3p");
  REQUIRE(write_x3p(path, parts));
  auto read = read_x3p(path);
  if (read) return "";
  CHECK(read.error().file == path);
  return read.error().message;
}

}  // namespace

TEST_CASE("an X3P of every data type reads back with its heights, orientation, pitch and origin") {
  ScratchDir dir;
  const ScanSurface original = ramp_surface();
  struct Case {
    X3PDataType type;
    double tolerance_um;
  };
  for (const Case c : {Case{X3PDataType::Int16, 0.05}, Case{X3PDataType::Int32, 0.0005},
                       Case{X3PDataType::Float32, 1e-4}, Case{X3PDataType::Float64, 1e-5}}) {
    DYNAMIC_SECTION("data type " << x3p_type_code(c.type)) {
      X3PWriteOptions options;
      options.z_type = c.type;
      const std::string path = dir.file("ramp.x3p");
      REQUIRE(write_x3p(path, original, options));
      auto read = read_x3p(path);
      REQUIRE(read);
      CHECK(read->format == "X3P");
      CHECK(read->nx == 30);
      CHECK(read->ny == 20);
      CHECK(read->pitch_x_um == Approx(12.5));
      CHECK(read->pitch_y_um == Approx(12.5));
      CHECK(read->x0_um == Approx(1500));
      CHECK(read->y0_um == Approx(-250));
      CHECK(read->valid_points() == 599);
      CHECK(std::isnan(read->at(7, 3)));
      for (int ix = 0; ix < 30; ++ix)
        for (int iy = 0; iy < 20; ++iy)
          if (!(ix == 7 && iy == 3))
            REQUIRE(read->at(ix, iy) == Approx(original.at(ix, iy)).margin(c.tolerance_um));
    }
  }
}

TEST_CASE("X3P point (x, y) becomes row x, column y, scaled by CZ increment and offset") {
  // Written by hand, not by our writer, so a shared mistake cannot cancel out. Elements
  // carry the namespace prefix the way some instruments write them.
  ScratchDir dir;
  std::string data;
  for (std::int16_t raw : {1, 2, 3, 4, 5, 6}) {  // file order: X fastest
    data += static_cast<char>(raw & 0xFF);
    data += static_cast<char>((raw >> 8) & 0xFF);
  }
  const std::string main_xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<p:ISO5436_2 xmlns:p="http://www.opengps.eu/2008/ISO5436_2">
 <p:Record1><p:Revision>ISO5436 - 2000</p:Revision><p:FeatureType>SUR</p:FeatureType>
  <p:Axes>
   <p:CX><p:AxisType>I</p:AxisType><p:DataType>D</p:DataType><p:Increment>2.0E-5</p:Increment><p:Offset>0.001</p:Offset></p:CX>
   <p:CY><p:AxisType>I</p:AxisType><p:DataType>D</p:DataType><p:Increment>2.0E-5</p:Increment><p:Offset>0</p:Offset></p:CY>
   <p:CZ><p:AxisType>A</p:AxisType><p:DataType>I</p:DataType><p:Increment>1e-6</p:Increment><p:Offset>-2e-6</p:Offset></p:CZ>
  </p:Axes></p:Record1>
 <p:Record2><p:Instrument><p:Manufacturer>Acme</p:Manufacturer><p:Model>Profilo 3</p:Model></p:Instrument></p:Record2>
 <p:Record3><p:MatrixDimension><p:SizeX>3</p:SizeX><p:SizeY>2</p:SizeY><p:SizeZ>1</p:SizeZ></p:MatrixDimension>
  <p:DataLink><p:PointDataLink>bindata/data.bin</p:PointDataLink>
   <p:MD5ChecksumPointData>)" + md5_hex(data) +
                               R"(</p:MD5ChecksumPointData></p:DataLink></p:Record3>
</p:ISO5436_2>
)";
  const std::string path = dir.file("hand.x3p");
  REQUIRE(write_zip(path, {{"main.xml", main_xml}, {"bindata/data.bin", data}}));
  auto read = read_x3p(path);
  REQUIRE(read);
  CHECK(read->nx == 3);
  CHECK(read->ny == 2);
  CHECK(read->pitch_x_um == Approx(20));
  CHECK(read->x0_um == Approx(1000));
  CHECK(read->instrument == "Acme Profilo 3");
  // raw * 1 um - 2 um; file row y = 0 is 1 2 3, row y = 1 is 4 5 6.
  CHECK(read->at(0, 0) == Approx(-1));
  CHECK(read->at(1, 0) == Approx(0));
  CHECK(read->at(2, 0) == Approx(1));
  CHECK(read->at(0, 1) == Approx(2));
  CHECK(read->at(2, 1) == Approx(4));
}

TEST_CASE("integer X3P points cleared in the valid-points bitmap are no data") {
  ScratchDir dir;
  X3PWriteOptions options;
  options.z_type = X3PDataType::Int16;
  const X3PParts parts = make_x3p_parts(ramp_surface(), options);
  REQUIRE_FALSE(parts.valid_bin.empty());  // integers have no NaN: the hole needs a bitmap
  const std::string path = dir.file("holes.x3p");
  REQUIRE(write_x3p(path, parts));
  auto read = read_x3p(path);
  REQUIRE(read);
  CHECK(std::isnan(read->at(7, 3)));
  CHECK(read->valid_points() == 599);
}

TEST_CASE("every damaged or inconsistent X3P is refused with a message naming the problem") {
  ScratchDir dir;
  const X3PParts good = make_x3p_parts(ramp_surface(), {});
  REQUIRE(read_error(dir, good).empty());
  X3PParts parts = good;

  SECTION("a file that is not a zip") {
    const std::string path = dir.write("text.x3p", "x;y;z\n1;2;3\n");
    auto read = read_x3p(path);
    REQUIRE_FALSE(read);
    CHECK_THAT(read.error().to_string(), Catch::Contains(path) && Catch::Contains("not a zip"));
  }
  SECTION("a zip cut short") {
    const std::string path = dir.file("cut.x3p");
    REQUIRE(write_x3p(path, good));
    std::string bytes;
    {
      std::ifstream in(path, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    dir.write("cut.x3p", bytes.substr(0, bytes.size() / 2));
    auto read = read_x3p(path);
    REQUIRE_FALSE(read);
    CHECK_THAT(read.error().message, Catch::Contains("truncated"));
  }
  SECTION("a file that does not exist") {
    auto read = read_x3p(dir.file("absent.x3p"));
    REQUIRE_FALSE(read);
    CHECK_THAT(read.error().message, Catch::Contains("no such file"));
  }
  SECTION("a zip without main.xml") {
    const std::string path = dir.file("nomain.x3p");
    REQUIRE(write_zip(path, {{"bindata/data.bin", good.data_bin}}));
    auto read = read_x3p(path);
    REQUIRE_FALSE(read);
    CHECK_THAT(read.error().message, Catch::Contains("no main.xml"));
  }
  SECTION("main.xml that is not well-formed") {
    parts.main_xml = replaced(parts.main_xml, "</Record3>", "</Record3");
    parts.update_main_checksum();
    CHECK_THAT(read_error(dir, parts),
               Catch::Contains("not well-formed XML") && Catch::Contains("line"));
  }
  SECTION("point data whose MD5 does not match main.xml") {
    parts.data_bin[100] = static_cast<char>(parts.data_bin[100] ^ 0x10);
    CHECK_THAT(read_error(dir, parts), Catch::Contains("does not match MD5ChecksumPointData"));
  }
  SECTION("truncated point data") {
    parts.data_bin.resize(parts.data_bin.size() - 4);
    CHECK_THAT(read_error(dir, parts),
               Catch::Contains("holds 2396 bytes") && Catch::Contains("= 2400 bytes"));
  }
  SECTION("SizeX that does not agree with the point data") {
    parts.main_xml = replaced(parts.main_xml, "<SizeX>30</SizeX>", "<SizeX>31</SizeX>");
    parts.update_main_checksum();
    CHECK_THAT(read_error(dir, parts),
               Catch::Contains("holds 2400 bytes") && Catch::Contains("31 x 20 x 4 = 2480 bytes"));
  }
  SECTION("a point data entry that is missing") {
    const std::string path = dir.file("nodata.x3p");
    REQUIRE(write_zip(path, {{"main.xml", good.main_xml}, {"md5checksum.hex", good.checksum_hex}}));
    auto read = read_x3p(path);
    REQUIRE_FALSE(read);
    CHECK_THAT(read.error().message,
               Catch::Contains("'bindata/data.bin', which the archive does not contain"));
  }
  SECTION("main.xml edited after its checksum was written") {
    parts.main_xml = replaced(parts.main_xml, "<Creator>dermabench", "<Creator>someone else");
    CHECK_THAT(read_error(dir, parts), Catch::Contains("main.xml does not match its MD5 checksum"));
  }
  SECTION("a checksum file that Record4 names but the archive lacks") {
    const std::string path = dir.file("nosum.x3p");
    REQUIRE(write_zip(path, {{"main.xml", good.main_xml}, {"bindata/data.bin", good.data_bin}}));
    auto read = read_x3p(path);
    REQUIRE_FALSE(read);
    CHECK_THAT(read.error().message, Catch::Contains("names the checksum file 'md5checksum.hex'"));
  }
  SECTION("an unsupported Z data type") {
    parts.main_xml = replaced(parts.main_xml, "<DataType>F</DataType>", "<DataType>C</DataType>");
    parts.update_main_checksum();
    CHECK_THAT(read_error(dir, parts), Catch::Contains("CZ/DataType is 'C'"));
  }
  SECTION("a non-incremental lateral axis") {
    parts.main_xml = replaced(parts.main_xml, "<AxisType>I</AxisType>", "<AxisType>A</AxisType>");
    parts.update_main_checksum();
    CHECK_THAT(read_error(dir, parts),
               Catch::Contains("CX/AxisType is 'A'") && Catch::Contains("incremental"));
  }
  SECTION("a profile instead of a surface") {
    parts.main_xml = replaced(parts.main_xml, "<FeatureType>SUR", "<FeatureType>PRF");
    parts.update_main_checksum();
    CHECK_THAT(read_error(dir, parts), Catch::Contains("FeatureType is 'PRF'"));
  }
  SECTION("a multi-layer matrix") {
    parts.main_xml = replaced(parts.main_xml, "<SizeZ>1</SizeZ>", "<SizeZ>2</SizeZ>");
    parts.update_main_checksum();
    CHECK_THAT(read_error(dir, parts), Catch::Contains("SizeZ is 2"));
  }
  SECTION("a size that is not a number") {
    parts.main_xml = replaced(parts.main_xml, "<SizeY>20</SizeY>", "<SizeY>twenty</SizeY>");
    parts.update_main_checksum();
    CHECK_THAT(read_error(dir, parts), Catch::Contains("SizeY is 'twenty', not a number"));
  }
  SECTION("a valid-points bitmap of the wrong size") {
    X3PWriteOptions options;
    options.z_type = X3PDataType::Int16;
    parts = make_x3p_parts(ramp_surface(), options);
    parts.valid_bin.pop_back();
    CHECK_THAT(read_error(dir, parts), Catch::Contains("one bit per point needs 75"));
  }
  SECTION("bytes damaged inside the zip itself") {
    const std::string path = dir.file("flipped.x3p");
    REQUIRE(write_x3p(path, good));
    std::string bytes;
    {
      std::ifstream in(path, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    // Somewhere inside the deflated point data (the second entry, after main.xml).
    const auto at = bytes.find("bindata/data.bin") + 40;
    for (std::size_t i = at; i < at + 8 && i < bytes.size(); ++i)
      bytes[i] = static_cast<char>(~bytes[i]);
    dir.write("flipped.x3p", bytes);
    auto read = read_x3p(path);
    REQUIRE_FALSE(read);
    CHECK_THAT(read.error().to_string(), Catch::Contains(path));
  }
}
