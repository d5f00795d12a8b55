// ISO 25178-72 X3P (the openGPS ISO5436_2 container): a zip holding main.xml, which
// describes the axes and links the binary point data, and the point data itself.
//
// What the reader accepts: FeatureType SUR (an areal map); CX and CY incremental (AxisType
// I) with Increment and Offset in metres (their DataType, which incremental axes need not
// have, is not used); CZ absolute with DataType I, L, F or D (int16, int32, float32,
// float64, little-endian) and optional Increment/Offset (z = raw * Increment + Offset,
// metres); Record3 MatrixDimension SizeX x SizeY x 1 with a DataLink to the point data (X
// fastest), its MD5ChecksumPointData, and an optional ValidPointsLink (one bit per point,
// least significant bit first); Record4's ChecksumFile (MD5 of main.xml) when present.
// Invalid points: NaN (float types) or a cleared bit in the valid-points bitmap; without a
// bitmap, every integer point is valid.
//
// As found in the field: main.xml at the root of the zip (the standard's layout) or, where
// a folder holding the files was zipped, in the one top-level folder that has it; the
// entries main.xml links are then looked up beside it first and from the archive's root
// second. main.xml in two top-level folders is refused as ambiguous. The root element may
// carry any namespace prefix or none (elements are matched by local name); an empty
// Offset (<Offset/>) counts as a missing one, 0. Entries main.xml does not name
// (__MACOSX/, .DS_Store, masks, thumbnails, vendor files) are ignored.
//
// Orientation: X3P's X is the bench's lane X (along the roll), so point (x, y) of the
// file becomes row x, column y of the HeightMap; heights become um.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <utility>
#include <vector>

#include "bench/scanfile/scan_surface.hpp"

namespace derma::scanfile {

enum class X3PDataType { Int16, Int32, Float32, Float64 };
char x3p_type_code(X3PDataType);  // I, L, F, D
std::size_t x3p_type_size(X3PDataType);

std::expected<ScanSurface, ScanFileError> read_x3p(const std::string& path);

// Writing, for export and for tests that need real containers (and broken ones).
struct X3PWriteOptions {
  X3PDataType z_type = X3PDataType::Float32;
  // Metres per integer step (integer types only); 0 = 0.1 um for int16, 1 nm for int32.
  double z_increment_m = 0;
  // Write a valid-points bitmap even when every point is valid (integer maps with holes
  // always get one, since integers have no NaN).
  bool always_valid_points = false;
  std::string data_entry = "bindata/data.bin";
  std::string valid_entry = "bindata/valid.bin";
  std::string checksum_entry = "md5checksum.hex";
};

// The entries of a container, as bytes, so a test can damage one before zipping them.
struct X3PParts {
  std::string main_xml;
  std::string data_bin;
  std::string valid_bin;  // empty: no valid-points bitmap
  std::string checksum_hex;
  X3PWriteOptions options;

  // After editing main_xml, makes md5checksum.hex agree with it again.
  void update_main_checksum();
  // Entry name and bytes, in the order they are zipped.
  std::vector<std::pair<std::string, std::string>> entries() const;
};

X3PParts make_x3p_parts(const ScanSurface& surface, const X3PWriteOptions& options = {});
std::expected<void, std::string> write_x3p(const std::string& path, const X3PParts& parts);
std::expected<void, std::string> write_x3p(const std::string& path, const ScanSurface& surface,
                                           const X3PWriteOptions& options = {});

}  // namespace derma::scanfile
