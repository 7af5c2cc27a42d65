#include "app/tokens.h"

#include <fmt/format.h>

#include <array>
#include <nlohmann/json.hpp>

#include "audit/json.h"
#include "core/digest.h"
#include "core/hmac.h"

namespace interlock::app {
namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view kPrefix = "itk_";
constexpr size_t kIdHex = 16;
constexpr size_t kSecretHex = 64;

std::string HashSecret(std::string_view secret) {
  Sha256Hasher h;
  h.Update(secret);
  return ToHex(h.Finish());
}

bool IsLowerHex(std::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// "itk_<id>_<secret>" split into id and secret, or nullopt.
std::optional<std::pair<std::string_view, std::string_view>> SplitToken(std::string_view t) {
  if (t.size() != kPrefix.size() + kIdHex + 1 + kSecretHex || !t.starts_with(kPrefix) ||
      t[kPrefix.size() + kIdHex] != '_') {
    return std::nullopt;
  }
  std::string_view id = t.substr(kPrefix.size(), kIdHex);
  std::string_view secret = t.substr(kPrefix.size() + kIdHex + 1);
  if (!IsLowerHex(id) || !IsLowerHex(secret)) return std::nullopt;
  return std::pair{id, secret};
}

std::string ToJson(const TokenInfo& info, const std::string& secret_hash) {
  json j = {{"principal", info.principal},
            {"secret_sha256", secret_hash},
            {"created_at", info.created_at}};
  if (info.expires_at) j["expires_at"] = *info.expires_at;
  if (info.revoked_at) j["revoked_at"] = *info.revoked_at;
  return audit::Dump(j);
}

json Event(std::string_view type, const TokenInfo& info, const std::string& by) {
  json e = {{"event_type", type},
            {"actor", {{"type", "human"}, {"id", by}}},
            {"action", {{"type", type}, {"target", info.principal}}},
            {"token", {{"id", info.id}, {"principal", info.principal}}}};
  if (info.expires_at) e["token"]["expires_at"] = FormatTimestamp(*info.expires_at);
  return e;
}

}  // namespace

Tokens::Tokens(audit::AuditLog& log, const Clock& clock, Random& random)
    : log_(log), clock_(clock), random_(random) {}

Result<void> Tokens::Load() {
  MutexLock lock(&mu_);
  return Reload(false);
}

Result<void> Tokens::Reload(bool only_if_changed) {
  // The version first: a row written after it is read makes it change again.
  auto version = log_.StateVersion(std::string(kTokenKind));
  if (!version) return std::unexpected(version.error());
  last_check_ = clock_.Now();
  if (only_if_changed && *version == version_) return Ok();
  auto rows = log_.LoadState(std::string(kTokenKind));
  if (!rows) return std::unexpected(rows.error());
  std::map<std::string, Stored, std::less<>> tokens;
  for (auto& [id, value] : *rows) {
    json j = json::parse(value, nullptr, false);
    auto optional_time = [&j](const char* name) {
      return !j.contains(name) || j[name].is_number_integer();
    };
    if (!j.is_object() || !j.contains("principal") || !j["principal"].is_string() ||
        !j.contains("secret_sha256") || !j["secret_sha256"].is_string() ||
        !j.contains("created_at") || !j["created_at"].is_number_integer() ||
        !optional_time("expires_at") || !optional_time("revoked_at")) {
      return std::unexpected(
          Error::Corruption(fmt::format("token {}: stored value is damaged", id)));
    }
    Stored s;
    s.info.id = id;
    s.info.principal = j["principal"].get<std::string>();
    s.info.created_at = j["created_at"].get<UnixMillis>();
    if (j.contains("expires_at")) s.info.expires_at = j["expires_at"].get<UnixMillis>();
    if (j.contains("revoked_at")) s.info.revoked_at = j["revoked_at"].get<UnixMillis>();
    s.secret_hash = j["secret_sha256"].get<std::string>();
    tokens.emplace(id, std::move(s));
  }
  tokens_ = std::move(tokens);
  version_ = *version;
  return Ok();
}

Result<CreatedToken> Tokens::Create(const std::string& principal,
                                    std::optional<int64_t> lifetime_ms, const std::string& by) {
  constexpr int64_t kLongestLifetime = int64_t{100} * 365 * 24 * 3600 * 1000;  // 100 years
  if (lifetime_ms && (*lifetime_ms <= 0 || *lifetime_ms > kLongestLifetime)) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("a token's lifetime must be positive and at most 100 years (36500d), not {} ms",
                    *lifetime_ms)));
  }
  std::array<uint8_t, kIdHex / 2 + kSecretHex / 2> bytes;
  if (auto ok = random_.Fill(bytes); !ok) return std::unexpected(ok.error());
  std::string id = ToHex(bytes.data(), kIdHex / 2);
  std::string secret = ToHex(bytes.data() + kIdHex / 2, kSecretHex / 2);
  CreatedToken out;
  out.info.id = id;
  out.info.principal = principal;
  out.info.created_at = clock_.Now();
  if (lifetime_ms) out.info.expires_at = out.info.created_at + *lifetime_ms;
  out.token = fmt::format("{}{}_{}", kPrefix, id, secret);
  std::string hash = HashSecret(secret);

  auto event =
      audit::ParseEvent(audit::Dump(Event("token_create", out.info, by)), out.info.created_at);
  if (!event) return std::unexpected(event.error());
  auto record =
      log_.Commit(std::move(*event), {{std::string(kTokenKind), id, ToJson(out.info, hash)}});
  if (!record) return std::unexpected(record.error());
  out.record = *record;
  MutexLock lock(&mu_);
  tokens_[id] = Stored{out.info, hash};
  return out;
}

Result<TokenInfo> Tokens::Revoke(std::string_view id_or_token, const std::string& by) {
  std::string_view id = id_or_token;
  if (auto parts = SplitToken(id_or_token)) id = parts->first;
  MutexLock lock(&mu_);
  if (auto ok = Reload(true); !ok) return std::unexpected(ok.error());
  auto it = tokens_.find(id);
  if (it == tokens_.end()) {
    return std::unexpected(Error::NotFound(fmt::format("no token with id \"{}\"", id)));
  }
  Stored s = it->second;
  if (s.info.revoked_at) return s.info;
  s.info.revoked_at = clock_.Now();
  auto event =
      audit::ParseEvent(audit::Dump(Event("token_revoke", s.info, by)), *s.info.revoked_at);
  if (!event) return std::unexpected(event.error());
  auto record = log_.Commit(std::move(*event),
                            {{std::string(kTokenKind), s.info.id, ToJson(s.info, s.secret_hash)}});
  if (!record) return std::unexpected(record.error());
  it->second = s;
  return s.info;
}

Result<std::string> Tokens::Authenticate(std::string_view token) {
  auto parts = SplitToken(token);
  if (!parts) {
    return std::unexpected(
        Error::PermissionDenied("the bearer token is malformed (expected itk_<id>_<secret>)"));
  }
  auto [id, secret] = *parts;
  MutexLock lock(&mu_);
  // `interlock token create` and `revoke`, or another server, may write
  // while this one runs: their changes are read at most a second later.
  if (clock_.Now() - last_check_ >= 1000) {
    if (auto ok = Reload(true); !ok) return std::unexpected(ok.error());
  }
  auto it = tokens_.find(id);
  if (it == tokens_.end() || !ConstantTimeEqual(HashSecret(secret), it->second.secret_hash)) {
    return std::unexpected(Error::PermissionDenied("the bearer token is not valid"));
  }
  const TokenInfo& info = it->second.info;
  if (info.revoked_at) {
    return std::unexpected(Error::PermissionDenied(fmt::format("token {} was revoked", info.id)));
  }
  if (info.expires_at && clock_.Now() >= *info.expires_at) {
    return std::unexpected(Error::PermissionDenied(fmt::format("token {} has expired", info.id)));
  }
  return info.principal;
}

bool Tokens::Recognises(std::string_view token) {
  auto parts = SplitToken(token);
  if (!parts) return false;
  auto [id, secret] = *parts;
  if (!mu_.TryLock()) return true;
  auto it = tokens_.find(id);
  bool known = it != tokens_.end() && ConstantTimeEqual(HashSecret(secret), it->second.secret_hash);
  mu_.Unlock();
  return known;
}

}  // namespace interlock::app
