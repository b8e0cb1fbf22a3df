// Bearer tokens: issued, authenticated, revoked. Only the token's SHA-256 is stored
// (security/crypto.h); the token text exists once, in IssueToken's answer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "security/audit.h"
#include "security/scopes.h"
#include "store/security_store.h"

namespace joinedup::security {

struct IssuedToken {
  std::string bearer;  // give to the client; never stored or logged
  store::TokenRecord record;
};

// Issues a token for an enabled user with the given scopes (parsed, so bad scopes are
// kInvalidInput naming the scope), valid for `lifetime_ms` from now (1 ms to 30 days).
// kNotFound if the user is unknown; kForbidden if disabled.
Result<IssuedToken> IssueToken(store::SecurityStore& store, const Clock& clock, int64_t user_id,
                               std::string_view scopes, int64_t lifetime_ms);

struct AuthenticatedToken {
  store::User user;
  ScopeSet scopes;
  store::TokenRecord record;
};

// kUnauthenticated (with the reason: malformed, not recognised, expired, revoked, user
// disabled) unless the token is live. The HTTP layer answers every one of these 401.
Result<AuthenticatedToken> AuthenticateToken(store::SecurityStore& store, const Clock& clock,
                                             std::string_view bearer);

// Revokes the token (kUnauthenticated if malformed, kNotFound if not stored).
Status RevokeBearerToken(store::SecurityStore& store, std::string_view bearer);

}  // namespace joinedup::security
