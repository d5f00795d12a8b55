#include "bench/scanfile/zip_archive.hpp"

#include <zip.h>

#include <fstream>
#include <string_view>

#include "bench/analysis/text.hpp"

namespace derma::scanfile {

using analysis::text;

namespace {

std::string describe_open_error(int code) {
  switch (code) {
    case ZIP_ER_NOZIP:
      return "not a zip archive (an X3P file is a zip container)";
    case ZIP_ER_NOENT:
      return "no such file";
    case ZIP_ER_OPEN:
      return "cannot be opened";
    case ZIP_ER_READ:
      return "cannot be read";
    case ZIP_ER_INCONS:
      return "damaged zip archive (inconsistent directory)";
    default:
      break;
  }
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string out = std::string("damaged zip archive: ") + zip_error_strerror(&error);
  zip_error_fini(&error);
  return out;
}

bool starts_like_zip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::string_view(magic, 4) == std::string_view("PK\x03\x04", 4);
}

}  // namespace

void ZipReader::Closer::operator()(zip* archive) const {
  zip_discard(archive);  // read-only: nothing to write back
}

std::expected<ZipReader, std::string> ZipReader::open(const std::string& path) {
  int code = 0;
  zip* archive = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (!archive) {
    // A zip cut short keeps its local headers but loses the directory at its end.
    if (code == ZIP_ER_NOZIP && starts_like_zip(path))
      return std::unexpected(
          "damaged zip archive: it starts like one but has no central "
          "directory (truncated?)");
    return std::unexpected(describe_open_error(code));
  }
  return ZipReader(archive);
}

bool ZipReader::contains(const std::string& name) const {
  return zip_name_locate(archive_.get(), name.c_str(), 0) >= 0;
}

std::vector<std::string> ZipReader::names() const {
  std::vector<std::string> out;
  const zip_int64_t count = zip_get_num_entries(archive_.get(), 0);
  for (zip_int64_t i = 0; i < count; ++i)
    if (const char* name = zip_get_name(archive_.get(), static_cast<zip_uint64_t>(i), 0))
      out.emplace_back(name);
  return out;
}

std::optional<std::uint64_t> ZipReader::size_of(const std::string& name) const {
  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_stat(archive_.get(), name.c_str(), 0, &stat) != 0 || !(stat.valid & ZIP_STAT_SIZE))
    return std::nullopt;
  return stat.size;
}

std::expected<std::string, std::string> ZipReader::read(const std::string& name,
                                                        std::uint64_t max_bytes) const {
  const auto size = size_of(name);
  if (!size) return std::unexpected("the archive has no entry '" + name + "'");
  if (*size > max_bytes)
    return std::unexpected(text("entry '%s' holds %llu bytes, more than the %llu expected",
                                name.c_str(), static_cast<unsigned long long>(*size),
                                static_cast<unsigned long long>(max_bytes)));
  zip_file_t* file = zip_fopen(archive_.get(), name.c_str(), 0);
  if (!file)
    return std::unexpected("entry '" + name +
                           "' cannot be opened: " + zip_strerror(archive_.get()));
  std::string bytes(static_cast<std::size_t>(*size), '\0');
  std::uint64_t done = 0;
  std::string error;
  while (done < *size) {
    const zip_int64_t n = zip_fread(file, bytes.data() + done, *size - done);
    if (n < 0) {
      error = zip_error_strerror(zip_file_get_error(file));
      break;
    }
    if (n == 0) break;
    done += static_cast<std::uint64_t>(n);
  }
  // Closing reports a CRC mismatch when the whole entry was read.
  const int closed = zip_fclose(file);
  if (error.empty() && done != *size)
    error = text("ends after %llu of %llu bytes", static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(*size));
  if (error.empty() && closed != 0) {
    zip_error_t e;
    zip_error_init_with_code(&e, closed);
    error = zip_error_strerror(&e);
    zip_error_fini(&e);
  }
  if (!error.empty()) return std::unexpected("entry '" + name + "' is damaged: " + error);
  return bytes;
}

std::expected<void, std::string> write_zip(
    const std::string& path, const std::vector<std::pair<std::string, std::string>>& entries) {
  int code = 0;
  zip* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (!archive) return std::unexpected("cannot create " + path + ": " + describe_open_error(code));
  for (const auto& [name, bytes] : entries) {
    // The buffers outlive zip_close, which is when libzip reads them.
    zip_source_t* source = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
    const zip_int64_t index =
        source ? zip_file_add(archive, name.c_str(), source, ZIP_FL_ENC_UTF_8) : -1;
    if (index < 0) {
      if (source) zip_source_free(source);
      const std::string why = zip_strerror(archive);
      zip_discard(archive);
      return std::unexpected("cannot add " + name + " to " + path + ": " + why);
    }
    zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_DEFLATE, 9);
  }
  if (zip_close(archive) != 0) {
    const std::string why = zip_strerror(archive);
    zip_discard(archive);
    return std::unexpected("cannot write " + path + ": " + why);
  }
  return {};
}

}  // namespace derma::scanfile
