#include "security/crypto.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>

namespace joinedup::security {
namespace {

void EnsureSodium() {
  // -1 only when no randomness source can be opened: nothing secure is possible then.
  static const int initialised = sodium_init();
  if (initialised < 0) std::abort();
}

std::string Hex(const unsigned char* bytes, size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes, size);
  hex.pop_back();
  return hex;
}

constexpr size_t kTokenBytes = 32;

}  // namespace

Status CheckPasswordRules(std::string_view password) {
  if (password.size() < kMinPasswordLength)
    return Error::Invalid("the password is shorter than " + std::to_string(kMinPasswordLength) +
                          " characters");
  if (password.size() > kMaxPasswordLength)
    return Error::Invalid("the password is longer than " + std::to_string(kMaxPasswordLength) +
                          " bytes");
  if (std::memchr(password.data(), '\0', password.size()) != nullptr)
    return Error::Invalid("the password contains a NUL character");
  return Ok();
}

Result<std::string> HashPassword(std::string_view password) {
  JU_RETURN_IF_ERROR(CheckPasswordRules(password));
  EnsureSodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    return Error::Unavailable("password hashing ran out of memory");
  return std::string(out);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  EnsureSodium();
  // libsodium wants a NUL-terminated string; refuse anything that is not an argon2id string.
  if (!hash.starts_with("$argon2id$") || hash.size() >= crypto_pwhash_STRBYTES) return false;
  if (password.size() > kMaxPasswordLength) return false;
  const std::string terminated(hash);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

bool PasswordNeedsRehash(std::string_view hash) {
  EnsureSodium();
  const std::string terminated(hash);
  return crypto_pwhash_str_needs_rehash(terminated.c_str(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}

std::string NewBearerToken() {
  EnsureSodium();
  unsigned char bytes[kTokenBytes];
  randombytes_buf(bytes, sizeof bytes);
  const size_t size =
      sodium_base64_ENCODED_LEN(kTokenBytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  std::string text(size, '\0');
  sodium_bin2base64(text.data(), size, bytes, kTokenBytes,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  text.pop_back();  // the NUL
  sodium_memzero(bytes, sizeof bytes);
  return text;
}

Result<std::string> BearerTokenHash(std::string_view bearer) {
  EnsureSodium();
  unsigned char bytes[kTokenBytes + 1];
  size_t size = 0;
  const char* end = nullptr;
  if (bearer.size() != 43 ||
      sodium_base642bin(bytes, sizeof bytes, bearer.data(), bearer.size(), nullptr, &size, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      size != kTokenBytes || end != bearer.data() + bearer.size())
    return Error{ErrorCode::kUnauthenticated, "the bearer token is malformed"};
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, bytes, kTokenBytes);
  return Hex(digest, sizeof digest);
}

std::string Sha256Hex(std::string_view bytes) {
  EnsureSodium();
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return Hex(digest, sizeof digest);
}

}  // namespace joinedup::security
