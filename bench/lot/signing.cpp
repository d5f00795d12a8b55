#include "bench/lot/signing.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace derma::lot {

namespace {

std::string to_hex(const unsigned char* bytes, std::size_t n) {
  std::string hex(n * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes, n);
  hex.pop_back();
  return hex;
}

// Exactly `n` bytes from `hex`, or false.
bool from_hex(std::string_view hex, unsigned char* out, std::size_t n) {
  std::size_t written = 0;
  const char* end = nullptr;
  return hex.size() == n * 2 &&
         sodium_hex2bin(out, n, hex.data(), hex.size(), nullptr, &written, &end) == 0 &&
         written == n && end == hex.data() + hex.size();
}

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

std::expected<SigningKey, std::string> create_key(const std::string& path) {
  SigningKey key;
  unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_keypair(public_key, key.secret.data());
  key.public_key_hex = to_hex(public_key, sizeof public_key);

  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return std::unexpected(parent.string() + ": cannot create: " + ec.message());
  // O_EXCL: never overwrite a key someone else just created; 0600: the secret is private.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return std::unexpected(path + ": cannot create key file: " + std::strerror(errno));
  const std::string text = to_hex(key.secret.data(), key.secret.size()) + "\n";
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) return std::unexpected(path + ": cannot write key file");
  return key;
}

}  // namespace

std::expected<SigningKey, std::string> load_or_create_key(const std::string& path) {
  if (!sodium_ready()) return std::unexpected("libsodium failed to initialise");
  std::ifstream in(path);
  if (!in) {
    if (std::filesystem::exists(path)) return std::unexpected(path + ": cannot read key file");
    return create_key(path);
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    return std::unexpected(path + ": key file is readable by others (mode " + mode +
                           "); chmod 600 it or use another key");
  }
  std::string hex;
  in >> hex;
  SigningKey key;
  if (!from_hex(hex, key.secret.data(), key.secret.size()))
    return std::unexpected(path + ": not an Ed25519 secret key (expected 128 hex digits)");
  unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_ed25519_sk_to_pk(public_key, key.secret.data());
  key.public_key_hex = to_hex(public_key, sizeof public_key);
  return key;
}

std::string sign_hex(const SigningKey& key, std::string_view message) {
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), key.secret.data());
  return to_hex(signature, sizeof signature);
}

bool signature_valid(std::string_view public_key_hex, std::string_view message,
                     std::string_view signature_hex) {
  if (!sodium_ready()) return false;
  unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
  unsigned char signature[crypto_sign_BYTES];
  if (!from_hex(public_key_hex, public_key, sizeof public_key) ||
      !from_hex(signature_hex, signature, sizeof signature))
    return false;
  return crypto_sign_verify_detached(signature,
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), public_key) == 0;
}

}  // namespace derma::lot
