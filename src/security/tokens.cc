#include "security/tokens.h"

#include "security/crypto.h"

namespace joinedup::security {
namespace {

constexpr int64_t kMaxLifetimeMs = 30LL * 24 * 60 * 60 * 1000;

Error Unauthenticated(std::string message) {
  return {ErrorCode::kUnauthenticated, std::move(message)};
}

}  // namespace

Result<IssuedToken> IssueToken(store::SecurityStore& store, const Clock& clock, int64_t user_id,
                               std::string_view scopes, int64_t lifetime_ms) {
  if (lifetime_ms < 1 || lifetime_ms > kMaxLifetimeMs)
    return Error::Invalid("token lifetime must be between 1 ms and 30 days");
  JU_ASSIGN_OR_RETURN(ScopeSet parsed, ParseScopes(scopes));
  JU_ASSIGN_OR_RETURN(std::optional<store::User> user, store.FindUserById(user_id));
  if (!user) return Error::NotFound("user " + std::to_string(user_id) + " is not known");
  if (user->disabled)
    return Error{ErrorCode::kForbidden, "user " + user->username + " is disabled"};
  IssuedToken issued;
  issued.bearer = NewBearerToken();
  JU_ASSIGN_OR_RETURN(issued.record.hash_hex, BearerTokenHash(issued.bearer));
  issued.record.user_id = user_id;
  issued.record.scopes = parsed.ToString();
  issued.record.issued_at_ms = clock();
  issued.record.expires_at_ms = issued.record.issued_at_ms + lifetime_ms;
  JU_RETURN_IF_ERROR(store.AddToken(issued.record));
  return issued;
}

Result<AuthenticatedToken> AuthenticateToken(store::SecurityStore& store, const Clock& clock,
                                             std::string_view bearer) {
  JU_ASSIGN_OR_RETURN(std::string hash, BearerTokenHash(bearer));
  JU_ASSIGN_OR_RETURN(std::optional<store::TokenRecord> record, store.FindToken(hash));
  if (!record) return Unauthenticated("the token is not recognised");
  if (record->revoked) return Unauthenticated("the token was revoked");
  if (clock() >= record->expires_at_ms) return Unauthenticated("the token has expired");
  JU_ASSIGN_OR_RETURN(std::optional<store::User> user, store.FindUserById(record->user_id));
  if (!user || user->disabled) return Unauthenticated("the token's user is disabled");
  // Stored scopes were parsed when issued; a failure here means the row was tampered with.
  auto scopes = ParseScopes(record->scopes);
  if (!scopes.ok()) return Unauthenticated("the token's scopes are no longer valid");
  return AuthenticatedToken{std::move(*user), std::move(scopes).value(), std::move(*record)};
}

Status RevokeBearerToken(store::SecurityStore& store, std::string_view bearer) {
  JU_ASSIGN_OR_RETURN(std::string hash, BearerTokenHash(bearer));
  return store.RevokeToken(hash);
}

}  // namespace joinedup::security
