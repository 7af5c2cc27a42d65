// Data keys (one per retention class and month, wrapped by the master key)
// and the keyed tags that index records without their plaintext.
#include <fmt/format.h>

#include <chrono>

#include "audit/log_impl.h"

namespace interlock::audit {

Period PeriodOf(UnixMillis t) {
  using namespace std::chrono;
  sys_days day = floor<days>(sys_time<milliseconds>{milliseconds{t}});
  year_month_day ymd{day};
  year_month next = year_month{ymd.year(), ymd.month()} + months{1};
  sys_days end{next / std::chrono::day{1}};
  return {
      fmt::format("{:04}-{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month())),
      duration_cast<milliseconds>(end.time_since_epoch()).count()};
}

std::string AuditLog::ActorTag(std::string_view actor) const {
  auto mac = HmacSha256(index_key_, actor);
  return std::string(reinterpret_cast<const char*>(mac.data()), kActorTagSize);
}

Result<const AuditLog::DataKey*> AuditLog::KeyFor(uint8_t retention_class, const std::string& id,
                                                  UnixMillis period_end,
                                                  std::vector<store::AuditKey>* created) {
  MutexLock lock(&keys_mu_);
  auto it = keys_.find(id);
  if (it != keys_.end()) return &it->second;
  DataKey key;
  key.retention_class = retention_class;
  key.period_end = period_end;
  if (auto ok = options_.random->Fill(key.key); !ok) return std::unexpected(ok.error());
  auto wrapped = WrapKey(master_, *options_.random, key.key, id);
  if (!wrapped) return std::unexpected(wrapped.error());
  created->push_back({id, retention_class, period_end, std::move(*wrapped), master_fingerprint_});
  // Known to readers only once committed; RunBatch removes it on failure.
  return &keys_.emplace(id, key).first->second;
}

}  // namespace interlock::audit
