// The cryptography joinedup's security layer uses, all from libsodium (Debian libsodium-dev).
//
//   Passwords  Argon2id (RFC 9106) through crypto_pwhash_str_alg, with libsodium's INTERACTIVE
//              limits (2 passes over 64 MiB): about 0.1 s a sign-in on one core, which is the
//              cost an online attacker pays per guess. The limits are inside the stored string,
//              so raising them later still verifies old hashes (PasswordNeedsRehash says when
//              to re-hash at the next sign-in).
//   Tokens     32 bytes from randombytes_buf (the OS CSPRNG), given to the client as unpadded
//              base64url (RFC 4648 §5), stored only as the SHA-256 of those bytes, so a copy
//              of the database lets nobody sign in.
//   Audit      SHA-256 over the chain (security/audit.h).
//
// Every function initialises libsodium itself (sodium_init is idempotent and thread-safe).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace joinedup::security {

// NIST SP 800-63B §5.1.1.2: at least 8 characters, no composition rules, allow long
// passphrases. We ask for 12 (NCSC "three random words" guidance gives more) and cap the input
// at 1024 bytes so hashing cannot be used to burn CPU with megabyte passwords.
inline constexpr size_t kMinPasswordLength = 12;
inline constexpr size_t kMaxPasswordLength = 1024;

// kInvalidInput naming the rule the password breaks (too short, too long, contains NUL).
Status CheckPasswordRules(std::string_view password);
// An encoded Argon2id hash ("$argon2id$v=19$m=65536,t=2,p=1$…"). Checks the rules first.
// kUnavailable if libsodium cannot allocate the memory.
Result<std::string> HashPassword(std::string_view password);
// True only if `hash` is a valid Argon2id string for `password` (constant-time compare inside
// libsodium).
bool VerifyPassword(std::string_view hash, std::string_view password);
bool PasswordNeedsRehash(std::string_view hash);

// 32 random bytes, unpadded base64url (43 characters).
std::string NewBearerToken();
// SHA-256 of the token's decoded bytes as 64 lowercase hex digits; kUnauthenticated if the text
// is not a 32-byte base64url token (nothing is looked up for malformed input).
Result<std::string> BearerTokenHash(std::string_view bearer);
// SHA-256 of `bytes` as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view bytes);

}  // namespace joinedup::security
