// The state rows kept beside the log: opened, loaded, and checked against
// what the log commits to (audit/state_binding.h).
#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "audit/log_impl.h"

namespace interlock::audit {

Result<std::string> AuditLog::OpenState(Aead& aead, const store::StateRow& row) const {
  auto value = aead.Open(state_key_, row.value.value_or(""), StateAad(row.kind, row.id));
  if (!value) {
    return std::unexpected(Error::Corruption(
        fmt::format("state {} {}: the stored value fails authentication", row.kind, row.id)));
  }
  return std::move(*value);
}

Result<StateBindings> AuditLog::CurrentBindings() {
  auto rows = store_->AllState();
  if (!rows) return std::unexpected(rows.error());
  StateBindings out;
  Aead aead;
  for (const store::StateRow& row : *rows) {
    auto value = OpenState(aead, row);
    if (!value) return std::unexpected(value.error());
    out.Apply(row.kind, row.id, StateDigest(*value));
  }
  return out;
}

Result<std::optional<std::string>> AuditLog::CheckState() {
  auto current = CurrentBindings();
  if (!current) return std::unexpected(current.error());
  uint64_t size = this->size();
  std::optional<std::string> root;
  Aead aead;
  std::vector<store::AuditRecord> records;
  // The root the log commits to: the last record's (the last record of
  // every commit carries one). A log written before state binding, or whose
  // last record was pruned, has none to compare with, unless it is empty.
  // What the records from `from` to `to` say of the state, in order.
  auto each_claim =
      [&](uint64_t from, uint64_t to,
          const std::function<void(uint64_t, const StateClaims&)>& f) -> Result<void> {
    for (; from < to; from += 1024) {
      if (auto ok = store_->ReadRecords(from, std::min(to, from + 1024), records); !ok) return ok;
      for (const store::AuditRecord& r : records) {
        auto entry = Decode(r, Hash{}, aead);
        if (!entry) return std::unexpected(entry.error());
        auto claims = ReadStateClaims(entry->event);
        if (!claims) return std::unexpected(claims.error());
        f(r.index, *claims);
      }
    }
    return Ok();
  };
  if (size > 0) {
    auto ok =
        each_claim(size - 1, size, [&](uint64_t, const StateClaims& c) { root = c.root_hex; });
    if (!ok) return std::unexpected(ok.error());
  }
  if (!root) {
    if (size == 0 && !current->rows().empty()) {
      const auto& [key, digest] = *current->rows().begin();
      return std::optional<std::string>(
          fmt::format("state row {} {} exists, but the audit log is empty", key.first, key.second));
    }
    return std::optional<std::string>();
  }
  if (*root == current->RootHex()) return std::optional<std::string>();
  // Which row: the latest claim of each, from the whole log.
  std::map<StateBindings::Key, std::pair<uint64_t, std::optional<Sha256>>> claimed;
  auto all = each_claim(0, size, [&](uint64_t index, const StateClaims& claims) {
    for (const StateRowChange& c : claims.changes) claimed[{c.kind, c.id}] = {index, c.digest};
  });
  if (!all) return std::unexpected(all.error());
  for (const auto& [key, digest] : current->rows()) {
    auto it = claimed.find(key);
    if (it == claimed.end() || !it->second.second) {
      return std::optional<std::string>(
          fmt::format("state row {} {} is not in the audit log (added outside Interlock)",
                      key.first, key.second));
    }
    if (*it->second.second != digest) {
      return std::optional<std::string>(
          fmt::format("state row {} {} is not the version the audit log commits to (record {})",
                      key.first, key.second, it->second.first));
    }
  }
  for (const auto& [key, claim] : claimed) {
    if (claim.second && !current->rows().count(key)) {
      return std::optional<std::string>(
          fmt::format("state row {} {} is missing; the audit log commits to it at record {}",
                      key.first, key.second, claim.first));
    }
  }
  return std::optional<std::string>(
      "the state rows do not match the root the audit log commits to");
}

Result<std::vector<std::pair<std::string, std::string>>> AuditLog::LoadState(
    const std::string& kind) {
  return LoadState(store::StateQuery{.kind = kind});
}

Result<std::vector<std::pair<std::string, std::string>>> AuditLog::LoadState(
    const store::StateQuery& query) {
  auto rows = store_->State(query);
  if (!rows) return std::unexpected(rows.error());
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(rows->size());
  Aead aead;
  for (const store::StateRow& row : *rows) {
    auto value = OpenState(aead, row);
    if (!value) return std::unexpected(value.error());
    out.emplace_back(row.id, std::move(*value));
  }
  return out;
}

}  // namespace interlock::audit
