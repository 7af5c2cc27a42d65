#include "app/stop_board.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "audit/json.h"

namespace interlock::app {

StopBoard::StopBoard() : map_(std::make_shared<const StopMap>(StopMap{{"global", {}}})) {}

void StopBoard::Put(const safety::StopState& state) {
  auto next = std::make_shared<StopMap>(*map_.load());
  (*next)[state.scope.Key()] = state;
  map_.store(std::move(next));
}

Result<void> StopBoard::Load(audit::AuditLog& log) {
  if (auto read = Read(log, false); !read) return std::unexpected(read.error());
  return Ok();
}

Result<bool> StopBoard::Refresh(audit::AuditLog& log) { return Read(log, true); }

Result<bool> StopBoard::Read(audit::AuditLog& log, bool only_if_changed) {
  // The version first: a row written after it is read makes it change again.
  auto version = log.StateVersion(std::string(kStopKind));
  if (!version) return std::unexpected(version.error());
  if (only_if_changed && *version == version_) return false;
  auto rows = log.LoadState(std::string(kStopKind));
  if (!rows) return std::unexpected(rows.error());
  for (const auto& [id, value] : *rows) {
    auto state = safety::StopState::FromJson(nlohmann::json::parse(value, nullptr, false));
    if (!state) {
      return std::unexpected(Error(
          state.error().kind(), fmt::format("emergency stop {}: {}", id, state.error().message())));
    }
    Put(*state);
  }
  version_ = *version;
  return true;
}

void StopBoard::PutCommitted(const safety::StopState& state) {
  Put(state);
  version_ += 1;
}

audit::StateChange StopBoard::Row(const safety::StopState& state) {
  return {std::string(kStopKind), state.scope.Key(), audit::Dump(state.ToJson())};
}

const safety::StopState* Covering(const StopMap& stops, Environment env,
                                  const std::optional<std::string>& service,
                                  std::string_view actor) {
  for (const auto& [key, st] : stops) {
    if (st.active && st.scope.kind == safety::ScopeKind::kAll) return &st;
  }
  for (const auto& [key, st] : stops) {
    if (st.active && st.scope.Covers(env, service, actor)) return &st;
  }
  return nullptr;
}

std::optional<std::string> AiRefusal(const StopMap& stops, std::string_view agent,
                                     std::optional<Environment> env,
                                     const std::optional<std::string>& service) {
  for (const auto& [key, st] : stops) {
    bool covers = st.scope.kind == safety::ScopeKind::kAll ||
                  (st.scope.kind == safety::ScopeKind::kAgent && st.scope.value == agent) ||
                  (env && st.scope.Covers(*env, service, agent));
    if (!covers || !(st.active || st.ai_disabled)) continue;
    std::string scope =
        st.scope.kind == safety::ScopeKind::kAll ? "" : fmt::format(" ({})", st.scope.Describe());
    return st.active ? fmt::format("AI agents are refused while the emergency stop{} is active: {}",
                                   scope, st.reason)
                     : fmt::format(
                           "AI agents stay disabled after the emergency stop{} until they are "
                           "re-enabled",
                           scope);
  }
  return std::nullopt;
}

std::string CoveringReason(const safety::StopState& stop,
                           const std::optional<std::string>& service) {
  if (stop.scope.kind == safety::ScopeKind::kAll) return stop.reason;
  if (stop.scope.kind == safety::ScopeKind::kService && !service) {
    return fmt::format(
        "{} ({}; the request names no service, so it counts as covered: name change.service)",
        stop.reason, stop.scope.Describe());
  }
  return fmt::format("{} ({})", stop.reason, stop.scope.Describe());
}

}  // namespace interlock::app
