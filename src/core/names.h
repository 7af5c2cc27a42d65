// The closed vocabularies shared across Interlock (DESIGN.md, "Names used
// across the project"). Roles, workflows and channels are not here: they are
// defined by each governance directory.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace interlock {

enum class Environment : uint8_t { kDev, kStaging, kProduction };
enum class RiskLevel : uint8_t { kLow, kMedium, kHigh, kCritical };
enum class Bump : uint8_t { kPatch, kMinor, kMajor };
enum class ActorType : uint8_t { kHuman, kAiAgent, kService };
enum class AiRole : uint8_t { kAutoDeploy, kRecommend, kAnalyze, kHumanOnly };
enum class DecisionKind : uint8_t { kAllow, kRequireApproval, kDeny };
enum class ChangeType : uint8_t {
  kCode,
  kSecurity,
  kInfrastructure,
  kAiAgentRule,
  kCompliance,
  kDatabaseSchema,
  kModelUpdate,
  kGovernancePolicy,
};
enum class Severity : uint8_t { kNone, kLow, kMedium, kHigh, kCritical };

// Each enum's spelling in files and JSON, indexed by its value.
inline constexpr std::array<std::string_view, 3> kEnvironmentNames = {"dev", "staging",
                                                                      "production"};
inline constexpr std::array<std::string_view, 4> kRiskLevelNames = {"low", "medium", "high",
                                                                    "critical"};
inline constexpr std::array<std::string_view, 3> kBumpNames = {"patch", "minor", "major"};
inline constexpr std::array<std::string_view, 3> kActorTypeNames = {"human", "ai_agent", "service"};
inline constexpr std::array<std::string_view, 4> kAiRoleNames = {"auto_deploy", "recommend",
                                                                 "analyze", "human_only"};
inline constexpr std::array<std::string_view, 3> kDecisionNames = {"allow", "require_approval",
                                                                   "deny"};
inline constexpr std::array<std::string_view, 8> kChangeTypeNames = {
    "code",       "security",        "infrastructure", "ai_agent_rule",
    "compliance", "database_schema", "model_update",   "governance_policy"};
inline constexpr std::array<std::string_view, 5> kSeverityNames = {"none", "low", "medium", "high",
                                                                   "critical"};

template <class E>
struct EnumNames;
template <>
struct EnumNames<Environment> {
  static constexpr const auto& kNames = kEnvironmentNames;
};
template <>
struct EnumNames<RiskLevel> {
  static constexpr const auto& kNames = kRiskLevelNames;
};
template <>
struct EnumNames<Bump> {
  static constexpr const auto& kNames = kBumpNames;
};
template <>
struct EnumNames<ActorType> {
  static constexpr const auto& kNames = kActorTypeNames;
};
template <>
struct EnumNames<AiRole> {
  static constexpr const auto& kNames = kAiRoleNames;
};
template <>
struct EnumNames<DecisionKind> {
  static constexpr const auto& kNames = kDecisionNames;
};
template <>
struct EnumNames<ChangeType> {
  static constexpr const auto& kNames = kChangeTypeNames;
};
template <>
struct EnumNames<Severity> {
  static constexpr const auto& kNames = kSeverityNames;
};

template <class E>
constexpr std::string_view Name(E value) {
  return EnumNames<E>::kNames[static_cast<size_t>(value)];
}

template <class E>
constexpr size_t EnumCount() {
  return EnumNames<E>::kNames.size();
}

template <class E>
constexpr std::optional<E> ParseEnum(std::string_view text) {
  const auto& names = EnumNames<E>::kNames;
  for (size_t index = 0; index < names.size(); ++index) {
    if (names[index] == text) return static_cast<E>(index);
  }
  return std::nullopt;
}

}  // namespace interlock
