// Bearer tokens for principals of the governance directory.
//
// A token reads "itk_<16 hex id>_<64 hex secret>". It is shown once, when it
// is created; the log keeps only the SHA-256 of its secret, beside the
// principal, creation time, expiry and revocation, as a state row committed
// with the audit record of its creation or revocation.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "audit/log.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "core/random.h"
#include "core/status.h"

namespace interlock::app {

// The kind of the tokens' state rows; a row's id is its token id.
constexpr std::string_view kTokenKind = "token";

struct TokenInfo {
  std::string id;
  std::string principal;
  UnixMillis created_at = 0;
  std::optional<UnixMillis> expires_at;
  std::optional<UnixMillis> revoked_at;
};

struct CreatedToken {
  TokenInfo info;
  std::string token;  // the bearer token; never stored
  audit::Appended record;
};

class Tokens {
 public:
  Tokens(audit::AuditLog& log, const Clock& clock, Random& random);

  // Loads the tokens already stored.
  Result<void> Load() EXCLUDES(mu_);

  // `by` is who asks (recorded in the audit event).
  Result<CreatedToken> Create(const std::string& principal, std::optional<int64_t> lifetime_ms,
                              const std::string& by) EXCLUDES(mu_);
  // Revokes by token id, or by the whole token.
  Result<TokenInfo> Revoke(std::string_view id_or_token, const std::string& by) EXCLUDES(mu_);

  // The principal a bearer token stands for. kPermissionDenied (to be
  // answered 401) when it is malformed, unknown, expired or revoked; the
  // message says which without echoing the secret. Tokens created or revoked
  // by another process or server take effect within a second: once a second
  // the rows' version is compared, and they are read again only if it
  // changed.
  Result<std::string> Authenticate(std::string_view token) EXCLUDES(mu_);

  // Whether `token` names a token this process has loaded, its secret
  // matching, revoked or not: a cheap look that never blocks (true when the
  // tokens are being reloaded at that moment), for limits that apply before
  // authentication. Authenticate decides.
  bool Recognises(std::string_view token) EXCLUDES(mu_);

 private:
  // Reads the rows, or with `only_if_changed` only when their version
  // moved since they were last read.
  Result<void> Reload(bool only_if_changed) REQUIRES(mu_);

  audit::AuditLog& log_;
  const Clock& clock_;
  Random& random_;
  Mutex mu_;
  struct Stored {
    TokenInfo info;
    std::string secret_hash;  // hex SHA-256 of the secret
  };
  std::map<std::string, Stored, std::less<>> tokens_ GUARDED_BY(mu_);  // by id
  UnixMillis last_check_ GUARDED_BY(mu_) = 0;  // when the version was last compared
  uint64_t version_ GUARDED_BY(mu_) = 0;       // the rows' version tokens_ holds
};

}  // namespace interlock::app
