// Ed25519 signatures for certificates (libsodium's crypto_sign, RFC 8032).
//
// Each signer has a key pair. The secret key lives in a file only its owner can read
// (mode 0600; created at the signer's first certification); the public key is enrolled in
// the results database once, with an audit entry, and cannot be replaced there. A
// certificate carries the public key that signed it; `bench lot verify` checks it against the
// enrolled one, so a forger with a new key pair is caught.
#pragma once

#include <array>
#include <expected>
#include <string>
#include <string_view>

namespace derma::lot {

struct SigningKey {
  std::array<unsigned char, 64> secret{};  // libsodium's secret key (seed + public key)
  std::string public_key_hex;
};

// Reads the key in `path`, or creates a new pair there (0600, parent directories made)
// when the file does not exist. The file holds the secret key as 128 hex digits.
std::expected<SigningKey, std::string> load_or_create_key(const std::string& path);

// The signature of `message` as 128 hex digits.
std::string sign_hex(const SigningKey&, std::string_view message);

// True when `signature_hex` is a valid signature of `message` by `public_key_hex`.
bool signature_valid(std::string_view public_key_hex, std::string_view message,
                     std::string_view signature_hex);

}  // namespace derma::lot
