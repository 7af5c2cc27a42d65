#include "app/freezes.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "audit/json.h"
#include "core/text.h"

namespace interlock::app {
namespace {

std::string RowId(const safety::FreezeEvent& e) {
  return fmt::format("model_update/{}/{}", Name(e.environment), e.service);
}

}  // namespace

Freezes::Freezes(audit::AuditLog& log)
    : log_(log),
      model_updates_(std::make_shared<const Events>()),
      rollbacks_(std::make_shared<const Events>()) {}

Result<void> Freezes::Load() {
  auto rows = log_.LoadState(std::string(kFreezeKind));
  if (!rows) return std::unexpected(rows.error());
  auto events = std::make_shared<Events>();
  for (const auto& [id, value] : *rows) {
    nlohmann::json j = nlohmann::json::parse(value, nullptr, false);
    auto bad = [&, id = id](std::string_view what) {
      return std::unexpected(Error::Corruption(fmt::format("freeze row {}: {}", id, what)));
    };
    if (!j.is_object() || !j.contains("service") || !j["service"].is_string() ||
        !j.contains("environment") || !j["environment"].is_string() || !j.contains("at") ||
        !j["at"].is_number_integer()) {
      return bad("expected {\"service\", \"environment\", \"at\"}");
    }
    auto environment = ParseEnum<Environment>(j["environment"].get<std::string>());
    if (!environment) return bad("unknown environment");
    safety::FreezeEvent e;
    e.kind = governance::FreezeKind::kAfterModelUpdate;
    e.service = j["service"].get<std::string>();
    e.environment = *environment;
    e.at = j["at"].get<UnixMillis>();
    e.ref = "model_update";
    if (RowId(e) != id) return bad("its id does not match its value");
    events->push_back(std::move(e));
  }
  MutexLock lock(&mu_);
  model_updates_.store(std::move(events));
  return Ok();
}

std::optional<safety::FreezeEvent> Freezes::ModelUpdate(ChangeType type, Environment environment,
                                                        const std::optional<std::string>& service,
                                                        UnixMillis at) {
  if (type != ChangeType::kModelUpdate || !service) return std::nullopt;
  auto canonical = CanonicalService(*service);
  if (!canonical) return std::nullopt;
  return safety::FreezeEvent{governance::FreezeKind::kAfterModelUpdate, *canonical, environment, at,
                             "model_update"};
}

audit::StateChange Freezes::Row(const safety::FreezeEvent& e) {
  nlohmann::json value = {
      {"service", e.service}, {"environment", Name(e.environment)}, {"at", e.at}};
  return {std::string(kFreezeKind), RowId(e), audit::Dump(value)};
}

void Freezes::Began(const safety::FreezeEvent& e) {
  MutexLock lock(&mu_);
  auto next = std::make_shared<Events>(*model_updates_.load());
  std::erase_if(*next, [&](const safety::FreezeEvent& old) {
    return old.service == e.service && old.environment == e.environment;
  });
  next->push_back(e);
  model_updates_.store(std::move(next));
}

void Freezes::SetRollbacks(Events rollbacks) {
  rollbacks_.store(std::make_shared<const Events>(std::move(rollbacks)));
}

Freezes::Snapshot Freezes::Now() const { return {model_updates_.load(), rollbacks_.load()}; }

std::optional<safety::InForce> Freezes::FrozenFor(const governance::Governance& g,
                                                  const safety::FrozenChange& change,
                                                  UnixMillis t) const {
  if (g.freeze_windows.empty()) return std::nullopt;
  Snapshot s = Now();
  return safety::Frozen(g, s.events(), change, t);
}

std::optional<safety::InForce> Freezes::FrozenAsNamed(const governance::Governance& g,
                                                      Environment environment,
                                                      const std::optional<std::string>& service,
                                                      ChangeType change_type, UnixMillis t) const {
  if (g.freeze_windows.empty()) return std::nullopt;
  Snapshot s = Now();
  return safety::FrozenAsNamed(g, s.events(), environment, service, change_type, t);
}

}  // namespace interlock::app
