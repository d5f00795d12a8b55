// X3P containers as instruments' software and people make them, not only as the standard
// lays them out: main.xml in a zipped folder, other root elements, empty offsets, extra
// entries. Each must read as the standard container of the same map, and damage must still
// be refused, naming the entry.
#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "bench/scanfile/md5.hpp"
#include "bench/scanfile/x3p_file.hpp"
#include "bench/scanfile/zip_archive.hpp"
#include "scan_test_support.hpp"

using namespace derma::scanfile;
using derma::scanfile::test::ramp_surface;
using derma::scanfile::test::replaced;
using derma::scanfile::test::ScratchDir;

namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

// The container's entries, each moved into folder (e.g. "scan/").
Entries in_folder(const X3PParts& parts, const std::string& folder) {
  Entries entries = parts.entries();
  for (auto& entry : entries) entry.first = folder + entry.first;
  return entries;
}

std::expected<ScanSurface, ScanFileError> read_entries(const ScratchDir& dir,
                                                       const Entries& entries) {
  const std::string path = dir.file("field.x3p");
  REQUIRE(write_zip(path, entries));
  return read_x3p(path);
}

std::string error_of(const std::expected<ScanSurface, ScanFileError>& read) {
  REQUIRE_FALSE(read);
  return read.error().message;
}

// The same points, pitches and origin.
void check_same_map(const ScanSurface& read, const ScanSurface& expected) {
  CHECK(read.nx == expected.nx);
  CHECK(read.ny == expected.ny);
  CHECK(read.pitch_x_um == Approx(expected.pitch_x_um));
  CHECK(read.pitch_y_um == Approx(expected.pitch_y_um));
  CHECK(read.x0_um == Approx(expected.x0_um));
  CHECK(read.y0_um == Approx(expected.y0_um));
  REQUIRE(read.height_um.size() == expected.height_um.size());
  for (std::size_t i = 0; i < read.height_um.size(); ++i) {
    if (std::isnan(expected.height_um[i]))
      REQUIRE(std::isnan(read.height_um[i]));
    else
      REQUIRE(read.height_um[i] == Approx(expected.height_um[i]).margin(1e-4));
  }
}

std::string fixture(const std::string& name) {
  return std::string(DERMA_SOURCE_DIR) + "/fixtures/scans/" + name;
}

}  // namespace

TEST_CASE("every field variant of the sample scan reads as good.x3p") {
  auto good = read_x3p(fixture("good.x3p"));
  REQUIRE(good);
  const std::string name = GENERATE(
      as<std::string>(), "field-folder.x3p", "field-folder-rootlinks.x3p", "field-unprefixed.x3p",
      "field-empty-offset.x3p", "field-axes.x3p", "field-extra-entries.x3p");
  DYNAMIC_SECTION(name) {
    auto read = read_x3p(fixture(name));
    REQUIRE(read);
    check_same_map(*read, *good);
    CHECK(read->height_um == good->height_um);  // the same raw values, exactly
    CHECK(read->instrument == good->instrument);
  }
}

TEST_CASE("an X3P zipped as a folder reads from the one top-level folder holding main.xml") {
  ScratchDir dir;
  const X3PParts parts = make_x3p_parts(ramp_surface(), {});

  SECTION("links relative to main.xml's folder, as the standard writes them") {
    auto read = read_entries(dir, in_folder(parts, "scan 7/"));
    REQUIRE(read);
    check_same_map(*read, ramp_surface());
    REQUIRE(read->notes.size() == 1);
    CHECK(read->notes[0] == "main.xml read from the archive's folder 'scan 7/'");
  }
  SECTION("links that name the folder, i.e. relative to the archive's root") {
    X3PParts rooted = parts;
    rooted.main_xml = replaced(rooted.main_xml, "<PointDataLink>bindata/data.bin",
                               "<PointDataLink>scan/bindata/data.bin");
    rooted.main_xml = replaced(rooted.main_xml, "<ChecksumFile>md5checksum.hex",
                               "<ChecksumFile>scan/md5checksum.hex");
    rooted.update_main_checksum();
    auto read = read_entries(dir, in_folder(rooted, "scan/"));
    REQUIRE(read);
    check_same_map(*read, ramp_surface());
  }
  SECTION("with a valid-points bitmap, beside main.xml") {
    X3PWriteOptions options;
    options.z_type = X3PDataType::Int16;
    const X3PParts holes = make_x3p_parts(ramp_surface(), options);
    REQUIRE_FALSE(holes.valid_bin.empty());
    auto read = read_entries(dir, in_folder(holes, "scan/"));
    REQUIRE(read);
    CHECK(read->valid_points() == 599);
    CHECK(std::isnan(read->at(7, 3)));
  }
  SECTION("main.xml at the root is the container, whatever folders hold besides") {
    Entries entries = parts.entries();
    X3PParts other = make_x3p_parts(derma::scanfile::test::pitted_surface(8, 6, 10, {}), {});
    for (auto& entry : in_folder(other, "old/")) entries.push_back(entry);
    auto read = read_entries(dir, entries);
    REQUIRE(read);
    CHECK(read->nx == 30);
    CHECK(read->notes.empty());
  }
}

TEST_CASE("entries an X3P does not name are ignored") {
  ScratchDir dir;
  const X3PParts parts = make_x3p_parts(ramp_surface(), {});
  const std::string apple_double("\x00\x05\x16\x07\x00\x02\x00\x00", 8);
  SECTION("at the root") {
    Entries entries = parts.entries();
    entries.insert(entries.begin(), {".DS_Store", std::string("\0\0\0\1Bud1", 8)});
    entries.push_back({"__MACOSX/._main.xml", apple_double});
    entries.push_back({"bindata/mask.png", "\x89PNG\r\n\x1a\n"});
    entries.push_back({"thumbnail.jpg", "\xff\xd8\xff"});
    entries.push_back({"vendor/settings.xml", "<settings/>"});
    auto read = read_entries(dir, entries);
    REQUIRE(read);
    check_same_map(*read, ramp_surface());
  }
  SECTION("in a folder zipped by macOS, with its __MACOSX twin") {
    Entries entries = {{"scan/", ""},
                       {"scan/bindata/", ""},
                       {"__MACOSX/", ""},
                       {"__MACOSX/scan/", ""},
                       {"__MACOSX/scan/._main.xml", apple_double},
                       {"scan/.DS_Store", "Bud1"},
                       {"scan/bindata/mask.png", "\x89PNG"}};
    for (auto& entry : in_folder(parts, "scan/")) entries.push_back(entry);
    auto read = read_entries(dir, entries);
    REQUIRE(read);
    check_same_map(*read, ramp_surface());
  }
}

TEST_CASE("the root element reads with or without a namespace prefix") {
  ScratchDir dir;
  X3PParts parts = make_x3p_parts(ramp_surface(), {});
  const std::string prefixed = "<p:ISO5436_2 xmlns:p=\"http://www.opengps.eu/2008/ISO5436_2\">";
  const auto [root_open, root_close] = GENERATE(
      std::pair<std::string, std::string>{
          "<ISO5436_2 xmlns=\"http://www.opengps.eu/2008/ISO5436_2\">", "</ISO5436_2>"},
      std::pair<std::string, std::string>{"<ISO5436_2>", "</ISO5436_2>"},
      std::pair<std::string, std::string>{
          "<x3p:ISO5436_2 xmlns:x3p=\"http://www.opengps.eu/2008/ISO5436_2\" "
          "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">",
          "</x3p:ISO5436_2>"});
  parts.main_xml =
      replaced(replaced(parts.main_xml, prefixed, root_open), "</p:ISO5436_2>", root_close);
  parts.update_main_checksum();
  DYNAMIC_SECTION(root_open) {
    auto read = read_entries(dir, parts.entries());
    REQUIRE(read);
    check_same_map(*read, ramp_surface());
  }
}

TEST_CASE("an empty or missing Offset is an offset of 0") {
  ScratchDir dir;
  ScanSurface at_origin = ramp_surface();
  at_origin.x0_um = at_origin.y0_um = 0;
  X3PWriteOptions options;
  options.z_type = X3PDataType::Int32;
  X3PParts parts = make_x3p_parts(at_origin, options);
  parts.main_xml = replaced(parts.main_xml, "<Offset>0</Offset>", "<Offset/>");           // CX
  parts.main_xml = replaced(parts.main_xml, "<Offset>0</Offset>", "");                    // CY
  parts.main_xml = replaced(parts.main_xml, "<Offset>0</Offset>", "<Offset> </Offset>");  // CZ
  REQUIRE(parts.main_xml.find("<Offset>0</Offset>") == std::string::npos);
  parts.update_main_checksum();
  auto read = read_entries(dir, parts.entries());
  REQUIRE(read);
  check_same_map(*read, at_origin);
}

TEST_CASE("an incremental axis reads whatever DataType it declares, or none") {
  ScratchDir dir;
  X3PParts parts = make_x3p_parts(ramp_surface(), {});
  const std::string declared = GENERATE(as<std::string>(), "<DataType>F</DataType>",
                                        "<DataType>I</DataType>", "<DataType>L</DataType>", "");
  const std::string written = "<AxisType>I</AxisType>\n        <DataType>D</DataType>";
  parts.main_xml = replaced(parts.main_xml, written, "<AxisType>I</AxisType>" + declared);
  parts.update_main_checksum();
  DYNAMIC_SECTION("CX " << declared) {
    auto read = read_entries(dir, parts.entries());
    REQUIRE(read);
    check_same_map(*read, ramp_surface());
  }
}

TEST_CASE("a damaged or ambiguous X3P in the field is still refused, naming the problem") {
  ScratchDir dir;
  const X3PParts good = make_x3p_parts(ramp_surface(), {});
  X3PParts parts = good;

  SECTION("no main.xml anywhere") {
    Entries entries = in_folder(good, "scan/");
    entries.erase(entries.begin());  // main.xml
    CHECK_THAT(error_of(read_entries(dir, entries)),
               Catch::Contains("no main.xml, neither at its root nor in a top-level folder"));
  }
  SECTION("main.xml deeper than one folder") {
    CHECK_THAT(
        error_of(read_entries(dir, in_folder(good, "export/scan/"))),
        Catch::Contains("no main.xml") && Catch::Contains("it has 'export/scan/main.xml', deeper"));
  }
  SECTION("main.xml in two top-level folders") {
    Entries entries = in_folder(good, "a/");
    for (auto& entry : in_folder(good, "b/")) entries.push_back(entry);
    CHECK_THAT(error_of(read_entries(dir, entries)),
               Catch::Contains("ambiguous") && Catch::Contains("'a/main.xml', 'b/main.xml'"));
  }
  SECTION("point data whose MD5 does not match, in a folder") {
    parts.data_bin[10] = static_cast<char>(parts.data_bin[10] ^ 0x01);
    CHECK_THAT(error_of(read_entries(dir, in_folder(parts, "scan/"))),
               Catch::Contains("'scan/bindata/data.bin'") &&
                   Catch::Contains("does not match MD5ChecksumPointData"));
  }
  SECTION("truncated point data, in a folder") {
    parts.data_bin.resize(parts.data_bin.size() - 1);
    CHECK_THAT(error_of(read_entries(dir, in_folder(parts, "scan/"))),
               Catch::Contains("'scan/bindata/data.bin' holds 2399 bytes"));
  }
  SECTION("main.xml edited after its checksum, in a folder") {
    parts.main_xml = replaced(parts.main_xml, "<Creator>dermabench", "<Creator>someone");
    CHECK_THAT(error_of(read_entries(dir, in_folder(parts, "scan/"))),
               Catch::Contains("does not match its MD5 checksum in 'scan/md5checksum.hex'"));
  }
  SECTION("a linked entry found neither beside main.xml nor from the root") {
    Entries entries = in_folder(good, "scan/");
    std::erase_if(entries, [](const auto& e) { return e.first == "scan/bindata/data.bin"; });
    entries.push_back({"elsewhere/data.bin", good.data_bin});
    CHECK_THAT(error_of(read_entries(dir, entries)),
               Catch::Contains("links the point data to 'bindata/data.bin', which the archive "
                               "does not contain (neither beside main.xml, as "
                               "'scan/bindata/data.bin', nor from its root)"));
  }
  SECTION("an empty Increment, which has no default") {
    parts.main_xml =
        replaced(parts.main_xml, "<Increment>1.2499999999999999e-05</Increment>", "<Increment/>");
    parts.update_main_checksum();
    CHECK_THAT(error_of(read_entries(dir, parts.entries())),
               Catch::Contains("main.xml Record1/Axes/CX/Increment is empty"));
  }
  SECTION("an Offset that is not a number") {
    parts.main_xml = replaced(parts.main_xml, "<Offset>0.0015", "<Offset>left");
    parts.update_main_checksum();
    CHECK_THAT(error_of(read_entries(dir, parts.entries())), Catch::Contains("CX/Offset is 'left"));
  }
}
