#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "bench/lot/signing.hpp"

namespace fs = std::filesystem;
using namespace derma::lot;

namespace {

std::string temp_key_path(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("lot-signing-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path path = dir / name;
  fs::remove(path);
  return path.string();
}

}  // namespace

TEST_CASE("a signer's first key is created private and read back the same") {
  const std::string path = temp_key_path("qa.ed25519");
  auto created = load_or_create_key(path);
  REQUIRE(created.has_value());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto again = load_or_create_key(path);
  REQUIRE(again.has_value());
  CHECK(again->public_key_hex == created->public_key_hex);
  CHECK(created->public_key_hex.size() == 64);
}

TEST_CASE("a signature verifies for its message and key only") {
  auto key = load_or_create_key(temp_key_path("a.ed25519"));
  auto other = load_or_create_key(temp_key_path("b.ed25519"));
  REQUIRE(key.has_value());
  REQUIRE(other.has_value());
  const std::string signature = sign_hex(*key, "lot LOT-1 accepted");
  CHECK(signature.size() == 128);
  CHECK(signature_valid(key->public_key_hex, "lot LOT-1 accepted", signature));
  CHECK_FALSE(signature_valid(key->public_key_hex, "lot LOT-1 accepteD", signature));
  CHECK_FALSE(signature_valid(other->public_key_hex, "lot LOT-1 accepted", signature));
  // Its first byte changed (a fixed "00" would leave the 1 signature in 256 that starts so).
  const std::string tampered = (signature.substr(0, 2) == "00" ? "01" : "00") + signature.substr(2);
  CHECK_FALSE(signature_valid(key->public_key_hex, "lot LOT-1 accepted", tampered));
  CHECK_FALSE(signature_valid("not hex", "lot LOT-1 accepted", signature));
  CHECK_FALSE(signature_valid(key->public_key_hex, "lot LOT-1 accepted", signature.substr(1)));
}

TEST_CASE("a key file others can read, or that is not a key, is refused with its path") {
  const std::string path = temp_key_path("open.ed25519");
  REQUIRE(load_or_create_key(path).has_value());
  ::chmod(path.c_str(), 0644);
  auto open_key = load_or_create_key(path);
  REQUIRE_FALSE(open_key.has_value());
  CHECK_THAT(open_key.error(), Catch::Contains(path) && Catch::Contains("readable by others"));

  const std::string junk = temp_key_path("junk.ed25519");
  {
    std::ofstream out(junk);
    out << "not a key\n";
  }
  ::chmod(junk.c_str(), 0600);
  auto bad = load_or_create_key(junk);
  REQUIRE_FALSE(bad.has_value());
  CHECK_THAT(bad.error(), Catch::Contains("not an Ed25519 secret key"));
}
