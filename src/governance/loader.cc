// Over 600 lines on purpose: one file because every governance file's
// reader and the checks that span files (overlaps, coverage, staffing) fill
// one Governance through one Loader, a class private to this file; each
// file's reader is a method of its own, and the keys shared by several
// files are read in checks.cc and query_template.cc.
#include "governance/loader.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <map>

#include "core/digest.h"
#include "core/text.h"
#include "governance/checks.h"
#include "governance/controls.h"
#include "governance/fields.h"
#include "governance/freeze_windows.h"
#include "governance/integrations.h"
#include "governance/query_template.h"
#include "governance/reader.h"

namespace interlock::governance {
namespace {

using yaml::Node;

constexpr std::string_view kInterlock = "interlock.yaml";
constexpr std::string_view kPrincipals = "principals.yaml";
constexpr std::string_view kTiers = "risk/tiers.yaml";
constexpr std::string_view kMatrix = "decision/matrix.yaml";
constexpr std::string_view kRules = "decision/rules.yaml";
constexpr std::string_view kWorkflows = "approvals/workflow.yml";
constexpr std::string_view kEmergencyStop = "safety/emergency-stop.yml";
constexpr std::string_view kRollback = "safety/auto-rollback.yml";
constexpr std::string_view kCanary = "safety/canary.yml";
constexpr std::string_view kFreeze = "safety/freeze-windows.yml";
constexpr std::string_view kKubernetes = "integrations/kubernetes.yml";
constexpr std::string_view kAudit = "audit/retention.yml";
constexpr std::string_view kCompliance = "compliance/frameworks.yml";
constexpr std::string_view kControls = "compliance/controls.yml";

// Supplies only change.type, change.environment and change.bump, so that a
// tier condition that is true here is true for every request of that kind.
class CoverageEnv final : public expr::Env {
 public:
  CoverageEnv(ChangeType type, Environment environment, Bump bump)
      : type_(type), environment_(environment), bump_(bump) {}
  expr::Value Lookup(uint32_t slot) const override {
    switch (static_cast<RequestField>(slot)) {
      case RequestField::kChangeType:
        return expr::Value::String(Name(type_));
      case RequestField::kEnvironment:
        return expr::Value::String(Name(environment_));
      case RequestField::kBump:
        return expr::Value::String(Name(bump_));
      default:
        return expr::Value::Unknown();
    }
  }

 private:
  ChangeType type_;
  Environment environment_;
  Bump bump_;
};

// One file's text and tree, kept together so conditions can be located.
struct ParsedFile {
  std::string text;
  Node root;
};

class Loader {
 public:
  Loader(const FileSystem& fs, std::string dir, std::string_view zoneinfo,
         std::vector<Diagnostic>* diagnostics)
      : fs_(fs), dir_(std::move(dir)), zoneinfo_(zoneinfo), diagnostics_(diagnostics) {}

  Governance Run();

 private:
  std::optional<ParsedFile> Parse(std::string_view path, bool required);

  void LoadInterlock(Reader& r, const Node& root);
  void LoadPrincipals(Reader& r, const Node& root);
  void LoadCanary(Reader& r, const ParsedFile& file);
  void LoadWorkflows(Reader& r, const Node& root);
  void LoadMatrix(Reader& r, const Node& root);
  void LoadTiers(Reader& r, const ParsedFile& file);
  void LoadRules(Reader& r, const ParsedFile& file);
  void LoadEmergencyStop(Reader& r, const Node& root);
  void LoadRollback(Reader& r, const ParsedFile& file);
  void LoadAudit(Reader& r, const Node& root);
  void LoadCompliance(Reader& r, const Node& root);
  void CheckMatrixOverlaps();
  void CheckCoverage(const Node* anchor);
  void CheckStaffing();

  std::optional<size_t> RoleRef(Reader& r, const Node* node);
  std::optional<RoleSet> RoleSetRef(Reader& r, const Node* node);
  std::optional<std::vector<std::string>> Targets(Reader& r, const Node* node);
  std::optional<Outcome> ReadOutcome(Reader& r, const Node& map, std::string_view ai_key,
                                     std::string_view what);
  std::optional<expr::Program> Condition(Reader& r, const ParsedFile& file, const Node* node,
                                         expr::Schema& schema);
  template <class E>
  std::optional<std::bitset<8>> Dimension(Reader& r, const Node* node);
  // Reports the second definition of an id.
  void CheckStopStaffing();
  // Resolves the requires_controls of matrix rows and rules against the
  // catalogue, once it is read.
  void ResolveRequiredControls();

  const FileSystem& fs_;
  std::string dir_;
  std::string zoneinfo_;
  std::vector<Diagnostic>* diagnostics_;
  Governance g_;
  const Node* tiers_anchor_ = nullptr;
  std::vector<ParsedFile> files_;  // keeps trees alive for cross-file checks
  // A requires_controls list read before the catalogue (in files_).
  struct PendingControls {
    std::string file;
    const Node* node;
    bool rule;     // else a matrix row
    size_t index;  // in g_.rules or g_.matrix
  };
  std::vector<PendingControls> pending_controls_;
  // The governance files as read once for the digest, so that what is
  // parsed is exactly what governance_version names; nullopt: unreadable.
  std::map<std::string, std::optional<std::string>> contents_;
};

void Loader::ResolveRequiredControls() {
  for (const PendingControls& p : pending_controls_) {
    Reader r(p.file, diagnostics_);
    std::optional<ControlSet> set = ReadControlRefs(r, g_, p.node);
    if (!set) continue;
    (p.rule ? g_.rules[p.index].requires_controls : g_.matrix[p.index].requires_controls) = *set;
  }
}

std::optional<ParsedFile> Loader::Parse(std::string_view path, bool required) {
  auto it = contents_.find(std::string(path));
  if (it == contents_.end()) {
    if (required) {
      diagnostics_->push_back({std::string(path), 0, 0, "required file is missing"});
    }
    return std::nullopt;
  }
  if (!it->second) return std::nullopt;  // unreadable, already reported
  std::string text = std::move(*it->second);
  auto root = yaml::Parse(text);
  if (!root) {
    diagnostics_->push_back({std::string(path), root.error().mark.line, root.error().mark.column,
                             root.error().message});
    return std::nullopt;
  }
  return ParsedFile{std::move(text), std::move(*root)};
}

std::optional<size_t> Loader::RoleRef(Reader& r, const Node* node) { return ReadRole(r, g_, node); }

std::optional<RoleSet> Loader::RoleSetRef(Reader& r, const Node* node) {
  return ReadRoles(r, g_, node);
}

std::optional<std::vector<std::string>> Loader::Targets(Reader& r, const Node* node) {
  auto names = r.StringList(node);
  if (!names) return std::nullopt;
  std::vector<std::string_view> known;
  for (const Channel& channel : g_.channels) known.push_back(channel.id);
  for (const Role& role : g_.roles) known.push_back(role.id);
  bool ok = true;
  for (size_t index = 0; index < names->size(); ++index) {
    const std::string& name = (*names)[index];
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      r.UnknownName(node->items()[index], name, known, "channel or role");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return names;
}

// Maps a byte offset in a scalar's text back to the file, for conditions
// written on one line (plain or quoted) or as a folded block (>- or >).
yaml::Mark Locate(const ParsedFile& file, const Node& node, int column) {
  yaml::Mark mark = node.mark();
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= file.text.size()) {
    size_t end = file.text.find('\n', start);
    if (end == std::string::npos) end = file.text.size();
    lines.push_back(std::string_view(file.text).substr(start, end - start));
    start = end + 1;
  }
  if (mark.line < 1 || static_cast<size_t>(mark.line) > lines.size()) return mark;
  std::string_view first = lines[mark.line - 1];
  size_t at = static_cast<size_t>(mark.column - 1);
  char style = at < first.size() ? first[at] : ' ';
  int offset = column - 1;
  if (style == '>' || style == '|') {
    // Block scalar: content lines follow, each stripped of its indentation
    // and joined with one character (space or newline).
    for (size_t line = static_cast<size_t>(mark.line); line < lines.size(); ++line) {
      std::string_view content = lines[line];
      size_t indent = content.find_first_not_of(' ');
      if (indent == std::string_view::npos) break;
      int length = static_cast<int>(content.size() - indent);
      if (offset <= length)
        return {static_cast<int>(line) + 1, static_cast<int>(indent) + offset + 1};
      offset -= length + 1;
    }
    return mark;
  }
  int quote = (style == '"' || style == '\'') ? 1 : 0;
  int length = static_cast<int>(first.size()) - mark.column + 1 - quote;
  if (offset <= length) return {mark.line, mark.column + quote + offset};
  return mark;
}

std::optional<expr::Program> Loader::Condition(Reader& r, const ParsedFile& file, const Node* node,
                                               expr::Schema& schema) {
  auto source = r.String(node);
  if (!source) return std::nullopt;
  auto program = expr::Compile(*source, schema);
  if (!program) {
    r.Error(Locate(file, *node, program.error().column),
            fmt::format("in condition: {}", program.error().message));
    return std::nullopt;
  }
  return std::move(*program);
}

template <class E>
std::optional<std::bitset<8>> Loader::Dimension(Reader& r, const Node* node) {
  if (node == nullptr) return std::nullopt;
  std::bitset<8> set;
  auto add = [&](const Node& item) {
    if (item.IsScalar() && item.scalar() == "any") {
      for (size_t index = 0; index < EnumCount<E>(); ++index) set.set(index);
      return true;
    }
    auto value = r.Enum<E>(&item);
    if (value) set.set(static_cast<size_t>(*value));
    return value.has_value();
  };
  bool ok = true;
  if (node->IsSequence()) {
    for (const Node& item : node->items()) ok = add(item) && ok;
    if (node->items().empty()) {
      r.Error(node->mark(), "expected at least one value or 'any'");
      ok = false;
    }
  } else {
    ok = add(*node);
  }
  if (!ok) return std::nullopt;
  return set;
}

std::optional<Outcome> Loader::ReadOutcome(Reader& r, const Node& map, std::string_view ai_key,
                                           std::string_view what) {
  Outcome outcome;
  bool ok = true;
  if (const Node* approvals = r.Required(map, "approvals", what)) {
    if (approvals->IsMapping()) {
      r.Mapping(*approvals, {"count", "roles"}, "approvals");
      auto count = r.Integer(r.Required(*approvals, "count", "approvals"), 0, 20);
      auto roles = RoleSetRef(r, approvals->Find("roles"));
      ok = ok && count.has_value() && (roles.has_value() || approvals->Find("roles") == nullptr);
      outcome.approvals.count = static_cast<int>(count.value_or(0));
      outcome.approvals.mandatory = roles.value_or(RoleSet());
    } else {
      auto count = r.Integer(approvals, 0, 20);
      ok = ok && count.has_value();
      outcome.approvals.count = static_cast<int>(count.value_or(0));
    }
    if (ok && outcome.approvals.mandatory.count() > static_cast<size_t>(outcome.approvals.count)) {
      r.Error(approvals->mark(),
              fmt::format("{} mandatory roles cannot be satisfied by {} approvers",
                          outcome.approvals.mandatory.count(), outcome.approvals.count));
      ok = false;
    }
  } else {
    ok = false;
  }
  if (const Node* workflow = map.Find("workflow")) {
    if (auto id = r.String(workflow)) {
      outcome.workflow = g_.FindWorkflow(*id);
      if (!outcome.workflow) {
        std::vector<std::string_view> names;
        for (const Workflow& w : g_.workflows) names.push_back(w.id);
        r.UnknownName(*workflow, *id, names, "workflow");
        ok = false;
      } else if (ok && outcome.approvals.count > 0 &&
                 outcome.approvals.count < g_.workflows[*outcome.workflow].required_approvers) {
        r.Error(map.Find("approvals")->mark(),
                fmt::format("{} approvers is fewer than workflow '{}' requires ({})",
                            outcome.approvals.count, *id,
                            g_.workflows[*outcome.workflow].required_approvers));
        ok = false;
      }
    } else {
      ok = false;
    }
  } else if (ok && outcome.approvals.count > 0) {
    r.Error(map.mark(), fmt::format("{} requires approvals but names no workflow", what));
    ok = false;
  }
  if (!ai_key.empty()) {
    const Node* role_node = r.Required(map, ai_key, what);
    auto role = r.Enum<AiRole>(role_node);
    ok = ok && role.has_value();
    outcome.ai_agent_role = role.value_or(AiRole::kHumanOnly);
    if (ok && role == AiRole::kRecommend && !outcome.workflow) {
      r.Error(role_node->mark(),
              "recommend sends an AI agent's change to a human; name the workflow that runs it");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return outcome;
}

void Loader::LoadInterlock(Reader& r, const Node& root) {
  if (!r.Mapping(root,
                 {"version", "organisation", "roles", "channels", "reload_roles", "services",
                  "environments"},
                 "interlock.yaml")) {
    return;
  }
  r.Version(root, true);
  g_.organisation = r.String(root.Find("organisation")).value_or("");
  std::map<std::string, yaml::Mark> seen;
  for (const Node& item : r.List(root, "roles", "roles", true)) {
    if (!r.Mapping(item, {"id", "description"}, "a role")) continue;
    auto id = r.String(r.Required(item, "id", "a role"));
    if (!id || !Unique(r, &seen, *id, item.mark(), "role")) continue;
    if (g_.roles.size() == kMaxRoles) {
      r.Error(item.mark(), fmt::format("more than {} roles", kMaxRoles));
      break;
    }
    g_.roles.push_back({*id, r.String(item.Find("description")).value_or("")});
  }
  seen.clear();
  static const std::vector<std::string_view> kChannelTypes = {"slack", "email", "pagerduty",
                                                              "webhook"};
  for (const Node& item : r.List(root, "channels", "channels", false)) {
    if (!r.Mapping(item, {"id", "type"}, "a channel")) continue;
    auto id = r.String(r.Required(item, "id", "a channel"));
    auto type = r.OneOf(r.Required(item, "type", "a channel"), kChannelTypes, "channel type");
    if (!id || !type || !Unique(r, &seen, *id, item.mark(), "channel")) continue;
    g_.channels.push_back({*id, std::string(kChannelTypes[*type])});
  }
  if (const Node* reload = root.Find("reload_roles")) {
    g_.reload_roles = RoleSetRef(r, reload).value_or(RoleSet());
  }
  // Known services: canonical names, so a scope or a request that writes
  // "Payments" means the same service as "payments".
  std::map<std::string, yaml::Mark> seen_services;
  for (const Node& item : r.List(root, "services", "services", false)) {
    auto name = r.String(&item);
    if (!name) continue;
    auto canonical = CanonicalService(*name);
    if (!canonical) {
      r.Error(item.mark(), canonical.error().message());
    } else if (Unique(r, &seen_services, *canonical, item.mark(), "service")) {
      g_.services.push_back(*canonical);
    }
  }
  for (const Node& item : r.List(root, "environments", "environments", false)) {
    if (auto env = r.Enum<Environment>(&item)) {
      if (std::find(g_.environments.begin(), g_.environments.end(), *env) !=
          g_.environments.end()) {
        r.Error(item.mark(), fmt::format("duplicate environment '{}'", Name(*env)));
      } else {
        g_.environments.push_back(*env);
      }
    }
  }
}

void Loader::LoadPrincipals(Reader& r, const Node& root) {
  if (!r.Mapping(root, {"version", "principals"}, "principals.yaml")) return;
  r.Version(root, false);
  std::map<std::string, yaml::Mark> seen;
  std::map<std::string, yaml::Mark> seen_slack;
  std::map<std::string, yaml::Mark> seen_email;
  for (const Node& item : r.List(root, "principals", "principals", true)) {
    if (!r.Mapping(item, {"id", "name", "type", "roles", "team", "email", "slack_id"},
                   "a principal")) {
      continue;
    }
    Principal p;
    auto id = r.String(r.Required(item, "id", "a principal"));
    auto type = r.Enum<ActorType>(r.Required(item, "type", "a principal"));
    auto roles = RoleSetRef(r, r.Required(item, "roles", "a principal"));
    if (!id || !type || !roles || !Unique(r, &seen, *id, item.mark(), "principal")) continue;
    p.id = *id;
    p.name = r.String(item.Find("name")).value_or(*id);
    p.type = *type;
    p.roles = *roles;
    p.team = r.String(item.Find("team")).value_or("");
    p.email = r.String(item.Find("email")).value_or("");
    if (!p.email.empty()) {
      // One person, one principal: the "distinct people" rules count e-mails.
      const Node* email = item.Find("email");
      auto [first, inserted] = seen_email.emplace(p.Person(), email->mark());
      if (!inserted) {
        r.Error(email->mark(),
                fmt::format("e-mail {} is already the address of another principal (at {}:{}); "
                            "one person must be one principal",
                            p.email, first->second.line, first->second.column));
      }
    }
    if (const Node* slack = item.Find("slack_id")) {
      // Slack user ids: U or W, then upper-case letters and digits.
      auto text = r.String(slack);
      bool valid = text && text->size() >= 3 && text->size() <= 32 &&
                   (text->front() == 'U' || text->front() == 'W') &&
                   std::all_of(text->begin(), text->end(), [](char c) {
                     return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
                   });
      if (text && !valid) {
        r.Error(slack->mark(),
                fmt::format("slack_id \"{}\" is not a Slack user id (U or W, then capital "
                            "letters and digits, e.g. U012AB3CD)",
                            *text));
      } else if (text && Unique(r, &seen_slack, *text, slack->mark(), "slack_id")) {
        p.slack_id = *text;
      }
    }
    p.origin = r.OriginOf(item);
    g_.principals.push_back(std::move(p));
  }
}

void Loader::LoadCanary(Reader& r, const ParsedFile& file) {
  const Node& root = file.root;
  if (!r.Mapping(root,
                 {"version", "canary_strategies", "metrics", "rollout_overrides",
                  "model_update_safeguards"},
                 "canary.yml")) {
    return;
  }
  r.Version(root, false);
  MetricSchema schema(&g_.metric_names);
  if (const Node* strategies = root.Find("canary_strategies")) {
    if (!strategies->IsMapping()) r.Error(strategies->mark(), "expected a mapping of strategies");
    for (const yaml::Entry& entry : strategies->entries()) {
      const Node& item = entry.value;
      static constexpr std::string_view kKeys[] = {"traffic_steps", "monitoring_duration",
                                                   "interval",      "rollback_when",
                                                   "promote_when",  "analysis"};
      if (!r.Mapping(item, kKeys, {}, "a canary strategy")) continue;
      CanaryStrategy s;
      s.id = entry.key;
      s.origin = r.OriginOf(item);
      bool ok = true;
      if (const Node* steps = r.Required(item, "traffic_steps", "a canary strategy")) {
        if (!steps->IsSequence() || steps->items().empty()) {
          r.Error(steps->mark(), "expected a list of traffic percentages such as [5%, 100%]");
          ok = false;
        }
        double previous = 0;
        for (const Node& step : steps->items()) {
          auto fraction = r.Fraction(&step);
          if (fraction && *fraction <= previous) {
            r.Error(step.mark(), "traffic steps must increase");
            fraction.reset();
          }
          ok = ok && fraction.has_value();
          previous = fraction.value_or(previous);
          s.traffic_steps.push_back(previous);
        }
        if (ok && s.traffic_steps.back() != 1.0) {
          r.Error(steps->mark(), "the last traffic step must be 100%");
          ok = false;
        }
      }
      auto duration = r.Duration(r.Required(item, "monitoring_duration", "a canary strategy"));
      if (const Node* interval = item.Find("interval")) {
        std::optional<Millis> value = r.Duration(interval);
        if (!value) {
          ok = false;
        } else if (value->count() < 1000) {
          r.Error(interval->mark(), "interval must be at least 1s");
          ok = false;
        } else {
          s.interval = *value;
        }
      }
      auto rollback =
          Condition(r, file, r.Required(item, "rollback_when", "a canary strategy"), schema);
      auto promote =
          Condition(r, file, r.Required(item, "promote_when", "a canary strategy"), schema);
      if (const Node* analysis = item.Find("analysis")) {
        auto settings = r.Mapping(*analysis, {}, kCheckKeys, "analysis")
                            ? ReadCheckSettings(r, *analysis, s.analysis, s.id == kCriticalStrategy)
                            : std::nullopt;
        ok = ok && settings.has_value();
        if (settings) s.analysis = *settings;
      }
      if (!ok || !duration || !rollback || !promote) continue;
      s.monitoring_duration = *duration;
      s.rollback_when = std::move(*rollback);
      s.promote_when = std::move(*promote);
      g_.canaries.push_back(std::move(s));
    }
  }
  if (const Node* metrics = root.Find("metrics")) {
    if (!metrics->IsMapping()) r.Error(metrics->mark(), "expected a mapping of metric names");
    for (const yaml::Entry& entry : metrics->entries()) {
      const Node& item = entry.value;
      if (!r.Mapping(item, {"query", "baseline_query"}, "a metric")) continue;
      MetricQuery m;
      m.name = entry.key;
      m.origin = r.OriginOf(item);
      auto query = r.String(r.Required(item, "query", "a metric"));
      auto baseline = item.Find("baseline_query") ? r.String(item.Find("baseline_query"))
                                                  : std::optional<std::string>("");
      bool ok = query && baseline;
      for (const Node* text : {item.Find("query"), item.Find("baseline_query")}) {
        if (text == nullptr || !text->IsScalar()) continue;
        if (auto checked = CheckQueryTemplate(text->scalar()); !checked) {
          r.Error(text->mark(), checked.error().message());
          ok = false;
        }
      }
      if (!ok) continue;
      m.query = *query;
      m.baseline_query = *baseline;
      g_.metric_queries.push_back(std::move(m));
    }
  }
  if (const Node* overrides = root.Find("rollout_overrides")) {
    if (r.Mapping(*overrides, {"promote", "abort", "pause", "resume", "skip_step", "review"},
                  "rollout_overrides")) {
      RolloutOverrides& o = g_.rollout_overrides;
      for (auto [key, set] : {std::pair{"promote", &o.promote},
                              {"abort", &o.abort},
                              {"pause", &o.pause},
                              {"resume", &o.resume},
                              {"skip_step", &o.skip_step},
                              {"review", &o.review}}) {
        if (const Node* roles = overrides->Find(key))
          *set = RoleSetRef(r, roles).value_or(RoleSet());
      }
    }
  }
  if (const Node* model = root.Find("model_update_safeguards")) {
    if (r.Mapping(*model, {"requires_human_approval", "freeze_window"},
                  "model_update_safeguards")) {
      const Node* approval = model->Find("requires_human_approval");
      if (auto value = r.Bool(approval)) {
        if (!*value) {
          r.Error(approval->mark(),
                  "model updates always require human approval; this cannot be false");
        }
      }
      g_.model_updates.freeze_window = r.Duration(model->Find("freeze_window")).value_or(Millis(0));
    }
  }
}

void Loader::LoadWorkflows(Reader& r, const Node& root) {
  if (!r.Mapping(root, {"version", "approval_workflows"}, "workflow.yml")) return;
  r.Version(root, false);
  const Node* workflows = r.Required(root, "approval_workflows", "workflow.yml");
  if (workflows == nullptr) return;
  if (!workflows->IsMapping()) {
    r.Error(workflows->mark(), "expected a mapping of workflow names to workflows");
    return;
  }
  for (const yaml::Entry& entry : workflows->entries()) {
    const Node& item = entry.value;
    std::string what = fmt::format("workflow '{}'", entry.key);
    if (!r.Mapping(item,
                   {"description", "required_approvers", "approver_roles", "timeout",
                    "escalation_on_timeout", "notification_channels", "ai_agent_can_recommend",
                    "ai_agent_can_approve", "steps", "canary"},
                   what)) {
      continue;
    }
    Workflow w;
    w.id = entry.key;
    w.origin = r.OriginOf(item);
    w.description = r.String(item.Find("description")).value_or("");
    auto required = r.Integer(r.Required(item, "required_approvers", what), 1, 20);
    auto roles = RoleSetRef(r, r.Required(item, "approver_roles", what));
    auto timeout = r.Duration(r.Required(item, "timeout", what));
    const Node* escalation_node = item.Find("escalation_on_timeout");
    auto escalation = RoleRef(r, escalation_node);
    auto channels = Targets(r, item.Find("notification_channels"));
    if (const Node* approve = item.Find("ai_agent_can_approve")) {
      if (auto value = r.Bool(approve); value && *value) {
        r.Error(approve->mark(), "an AI agent never approves: ai_agent_can_approve must be false");
      }
    }
    w.ai_agent_can_recommend = r.Bool(item.Find("ai_agent_can_recommend")).value_or(false);
    w.steps = r.StringList(item.Find("steps")).value_or(std::vector<std::string>{});
    if (const Node* canary = item.Find("canary")) {
      w.canary = r.String(canary).value_or("");
      auto found = std::find_if(g_.canaries.begin(), g_.canaries.end(),
                                [&](const CanaryStrategy& c) { return c.id == w.canary; });
      if (found == g_.canaries.end()) {
        std::vector<std::string_view> names;
        for (const CanaryStrategy& c : g_.canaries) names.push_back(c.id);
        r.UnknownName(*canary, w.canary, names, "canary strategy");
      }
    }
    if (roles && required && roles->count() == 0) {
      r.Error(item.Find("approver_roles")->mark(), "a workflow needs at least one approver role");
    }
    // Kept even when invalid (any error refuses the whole directory), so that
    // references to it do not report a second, misleading error.
    w.required_approvers = static_cast<int>(required.value_or(1));
    w.approver_roles = roles.value_or(RoleSet());
    w.timeout = timeout.value_or(Millis(0));
    w.escalation_role = escalation;
    w.notification_channels = channels.value_or(std::vector<std::string>{});
    g_.workflows.push_back(std::move(w));
  }
}

void Loader::LoadMatrix(Reader& r, const Node& root) {
  if (!r.Mapping(root, {"version", "rows"}, "matrix.yaml")) return;
  r.Version(root, false);
  std::map<std::string, yaml::Mark> seen;
  for (const Node& item : r.List(root, "rows", "matrix rows", true)) {
    if (!r.Mapping(item,
                   {"id", "description", "change_type", "environment", "bump", "risk", "approvals",
                    "workflow", "ai_agent_role", "requires_controls"},
                   "a matrix row")) {
      continue;
    }
    MatrixRow row;
    auto id = r.String(r.Required(item, "id", "a matrix row"));
    auto types = Dimension<ChangeType>(r, r.Required(item, "change_type", "a matrix row"));
    auto environments = Dimension<Environment>(r, r.Required(item, "environment", "a matrix row"));
    auto bumps = Dimension<Bump>(r, r.Required(item, "bump", "a matrix row"));
    const Node* risk_node = item.Find("risk");
    auto risk = r.Enum<RiskLevel>(risk_node);
    auto outcome = ReadOutcome(r, item, "ai_agent_role", "a matrix row");
    if (!id || !types || !environments || !bumps || !outcome || (risk_node && !risk)) continue;
    if (!Unique(r, &seen, *id, item.mark(), "matrix row")) continue;
    if (risk == RiskLevel::kCritical) {
      if (outcome->ai_agent_role != AiRole::kHumanOnly) {
        r.Error(item.Find("ai_agent_role")->mark(),
                "critical risk is human only: ai_agent_role must be human_only");
        continue;
      }
      if (outcome->approvals.count == 0) {
        r.Error(item.Find("approvals")->mark(), "critical risk needs at least one human approval");
        continue;
      }
    }
    row.id = *id;
    row.description = r.String(item.Find("description")).value_or("");
    row.change_types = *types;
    row.environments = std::bitset<3>(environments->to_ulong());
    row.bumps = std::bitset<3>(bumps->to_ulong());
    row.risk = risk;
    row.outcome = *outcome;
    row.origin = r.OriginOf(item);
    if (const Node* refs = item.Find("requires_controls")) {
      pending_controls_.push_back({r.file(), refs, false, g_.matrix.size()});
    }
    g_.matrix.push_back(std::move(row));
  }
}

void Loader::LoadTiers(Reader& r, const ParsedFile& file) {
  const Node& root = file.root;
  if (!r.Mapping(root, {"version", "tiers"}, "tiers.yaml")) return;
  r.Version(root, false);
  tiers_anchor_ = root.Find("tiers");
  RequestSchema schema(&g_.metadata_paths);
  std::map<std::string, yaml::Mark> seen;
  for (const Node& item : r.List(root, "tiers", "risk tiers", true)) {
    if (!r.Mapping(item,
                   {"level", "description", "examples", "when", "approvals", "workflow",
                    "audit_level", "oversight", "ai_autonomy"},
                   "a risk tier")) {
      continue;
    }
    RiskTier tier;
    const Node* level_node = r.Required(item, "level", "a risk tier");
    auto level = r.Enum<RiskLevel>(level_node);
    auto when = Condition(r, file, r.Required(item, "when", "a risk tier"), schema);
    auto outcome = ReadOutcome(r, item, "ai_autonomy", "a risk tier");
    static const std::vector<std::string_view> kAuditLevels = {"standard", "enhanced",
                                                               "comprehensive", "full"};
    auto audit_level =
        r.OneOf(r.Required(item, "audit_level", "a risk tier"), kAuditLevels, "audit level");
    const Node* oversight_node = item.Find("oversight");
    auto oversight = RoleSetRef(r, oversight_node);
    if (!level || !when || !outcome || !audit_level || (oversight_node && !oversight)) continue;
    if (!Unique(r, &seen, std::string(Name(*level)), item.mark(), "risk tier")) continue;
    if (*level == RiskLevel::kCritical) {
      if (outcome->ai_agent_role != AiRole::kHumanOnly) {
        r.Error(item.Find("ai_autonomy")->mark(),
                "critical risk is human only: ai_autonomy must be human_only");
        continue;
      }
      if (outcome->approvals.count == 0) {
        r.Error(item.Find("approvals")->mark(), "critical risk needs at least one human approval");
        continue;
      }
    }
    tier.level = *level;
    tier.description = r.String(item.Find("description")).value_or("");
    tier.examples = r.StringList(item.Find("examples")).value_or(std::vector<std::string>{});
    tier.when = std::move(*when);
    tier.outcome = *outcome;
    tier.audit_level = kAuditLevels[*audit_level];
    tier.oversight = oversight.value_or(RoleSet());
    tier.origin = r.OriginOf(item);
    g_.tiers.push_back(std::move(tier));
  }
  // Levels are unique (duplicates are refused), so the order is total.
  std::sort(g_.tiers.begin(), g_.tiers.end(),
            [](const RiskTier& a, const RiskTier& b) { return a.level > b.level; });
}

void Loader::LoadRules(Reader& r, const ParsedFile& file) {
  const Node& root = file.root;
  if (!r.Mapping(root, {"version", "rules"}, "rules.yaml")) return;
  r.Version(root, false);
  RequestSchema schema(&g_.metadata_paths);
  std::map<std::string, yaml::Mark> seen;
  for (const Node& item : r.List(root, "rules", "rules", true)) {
    if (!r.Mapping(
            item,
            {"id", "description", "when", "effect", "approvals", "workflow", "requires_controls"},
            "a rule")) {
      continue;
    }
    Rule rule;
    auto id = r.String(r.Required(item, "id", "a rule"));
    auto when = Condition(r, file, r.Required(item, "when", "a rule"), schema);
    auto effect =
        r.OneOf(r.Required(item, "effect", "a rule"), {"deny", "require_approval"}, "effect");
    if (!id || !when || !effect || !Unique(r, &seen, *id, item.mark(), "rule")) continue;
    rule.effect = static_cast<RuleEffect>(*effect);
    if (rule.effect == RuleEffect::kRequireApproval) {
      auto outcome = ReadOutcome(r, item, "", "a require_approval rule");
      if (!outcome) continue;
      if (outcome->approvals.count == 0) {
        r.Error(item.Find("approvals")->mark(),
                "a require_approval rule needs at least 1 approver");
        continue;
      }
      rule.outcome = *outcome;
    } else if (const Node* extra = item.Find("approvals")  ? item.Find("approvals")
                                   : item.Find("workflow") ? item.Find("workflow")
                                                           : item.Find("requires_controls")) {
      r.Error(extra->mark(), "a deny rule takes no approvals, workflow or requires_controls");
      continue;
    }
    rule.id = *id;
    rule.description = r.String(item.Find("description")).value_or("");
    rule.when = std::move(*when);
    rule.origin = r.OriginOf(item);
    if (const Node* refs = item.Find("requires_controls")) {
      pending_controls_.push_back({r.file(), refs, true, g_.rules.size()});
    }
    g_.rules.push_back(std::move(rule));
  }
}

void Loader::LoadEmergencyStop(Reader& r, const Node& root) {
  if (!r.Mapping(root, {"version", "emergency_stop"}, "emergency-stop.yml")) return;
  r.Version(root, false);
  const Node* stop = r.Required(root, "emergency_stop", "emergency-stop.yml");
  if (stop == nullptr || !r.Mapping(*stop,
                                    {"when_to_activate", "activate_roles", "activation_methods",
                                     "on_activate", "deactivation"},
                                    "emergency_stop")) {
    return;
  }
  EmergencyStopPolicy& p = g_.emergency_stop;
  p.when_to_activate =
      r.StringList(stop->Find("when_to_activate")).value_or(std::vector<std::string>{});
  p.activate_roles =
      RoleSetRef(r, r.Required(*stop, "activate_roles", "emergency_stop")).value_or(RoleSet());
  static const std::vector<std::string_view> kMethods = {"slack", "api", "dashboard", "phone",
                                                         "cli"};
  for (const Node& method : r.List(*stop, "activation_methods", "activation methods", false)) {
    if (auto index = r.OneOf(&method, kMethods, "activation method")) {
      p.activation_methods.emplace_back(kMethods[*index]);
    }
  }
  if (const Node* on = stop->Find("on_activate")) {
    if (r.Mapping(*on,
                  {"pause_automation", "disable_ai_agents", "block_deployments", "notify",
                   "incident_severity", "create_incident_channel"},
                  "on_activate")) {
      for (std::string_view key : {"pause_automation", "disable_ai_agents", "block_deployments"}) {
        const Node* flag = on->Find(key);
        if (auto value = r.Bool(flag); value && !*value) {
          r.Error(flag->mark(),
                  fmt::format("the emergency stop always does this; {} cannot be false", key));
        }
      }
      r.Bool(on->Find("create_incident_channel"));
      p.notify = Targets(r, on->Find("notify")).value_or(std::vector<std::string>{});
      p.incident_severity = r.String(on->Find("incident_severity")).value_or("SEV-1");
    }
  }
  const Node* deactivation = r.Required(*stop, "deactivation", "emergency_stop");
  if (deactivation == nullptr ||
      !r.Mapping(*deactivation,
                 {"required_roles", "distinct_people", "requires", "ai_agents_reenabled_by"},
                 "deactivation")) {
    return;
  }
  p.deactivation_origin = r.OriginOf(*deactivation);
  p.deactivate_roles = RoleSetRef(r, r.Required(*deactivation, "required_roles", "deactivation"))
                           .value_or(RoleSet());
  const Node* people = r.Required(*deactivation, "distinct_people", "deactivation");
  if (auto count = r.Integer(people, 0, 20)) {
    if (*count < 2) {
      r.Error(people->mark(), "deactivating the emergency stop needs at least two distinct people");
    }
    p.deactivate_distinct_people =
        std::max<int>(static_cast<int>(*count), static_cast<int>(p.deactivate_roles.count()));
  }
  static const std::vector<std::string_view> kDeactivationRequirements = {
      "post_incident_review", "root_cause", "prevention_measures"};
  for (const Node& requirement : r.List(*deactivation, "requires", "requirements", false)) {
    if (auto index = r.OneOf(&requirement, kDeactivationRequirements, "deactivation requirement")) {
      p.deactivate_requires.emplace_back(kDeactivationRequirements[*index]);
    }
  }
  p.ai_reenable_role = RoleRef(r, deactivation->Find("ai_agents_reenabled_by"));
}

void Loader::LoadRollback(Reader& r, const ParsedFile& file) {
  const Node& root = file.root;
  if (!r.Mapping(root, {"version", "rollback_triggers", "rollback_procedure", "post_rollback"},
                 "auto-rollback.yml")) {
    return;
  }
  r.Version(root, false);
  MetricSchema schema(&g_.metric_names);
  RollbackPolicy& p = g_.rollback;
  std::map<std::string, yaml::Mark> seen;
  for (const Node& item : r.List(root, "rollback_triggers", "rollback triggers", false)) {
    static constexpr std::string_view kKeys[] = {"name",         "condition", "action",  "workflow",
                                                 "notification", "timeout",   "severity"};
    if (!r.Mapping(item, kKeys, kCheckKeys, "a rollback trigger")) continue;
    RollbackTrigger t;
    auto name = r.String(r.Required(item, "name", "a rollback trigger"));
    auto condition =
        Condition(r, file, r.Required(item, "condition", "a rollback trigger"), schema);
    auto action = r.OneOf(r.Required(item, "action", "a rollback trigger"),
                          {"rollback", "block_and_rollback", "escalate_to_human"}, "action");
    bool ok = name && condition && action;
    for (const Node& level : r.List(item, "severity", "severities", false)) {
      auto value = r.Enum<Severity>(&level);
      if (value) t.severity.push_back(*value);
      ok = ok && value.has_value();
    }
    auto notification = Targets(r, item.Find("notification"));
    ok = ok && (notification || item.Find("notification") == nullptr);
    // Every rollout answers to these, the critical flow's too.
    auto check = ReadCheckSettings(r, item, CheckSettings{}, true);
    ok = ok && check.has_value();
    if (const Node* workflow = item.Find("workflow")) {
      auto id = r.String(workflow);
      t.workflow = id ? g_.FindWorkflow(*id) : std::nullopt;
      if (id && !t.workflow) {
        std::vector<std::string_view> names;
        for (const Workflow& w : g_.workflows) names.push_back(w.id);
        r.UnknownName(*workflow, *id, names, "workflow");
      }
      ok = ok && t.workflow.has_value();
    } else if (action == static_cast<size_t>(TriggerAction::kEscalateToHuman)) {
      r.Error(item.mark(),
              "escalate_to_human needs the approval workflow it opens: add 'workflow:'");
      ok = false;
    }
    if (!ok || !Unique(r, &seen, *name, item.mark(), "rollback trigger")) continue;
    t.name = *name;
    t.condition = std::move(*condition);
    t.action = static_cast<TriggerAction>(*action);
    t.check = *check;
    t.window = check->window;
    t.timeout = r.Duration(item.Find("timeout")).value_or(Millis(0));
    t.notification = notification.value_or(std::vector<std::string>{});
    t.origin = r.OriginOf(item);
    p.triggers.push_back(std::move(t));
  }
  if (const Node* procedure = root.Find("rollback_procedure")) {
    if (r.Mapping(*procedure, {"strategy", "verification", "timeout", "notification"},
                  "rollback_procedure")) {
      static const std::vector<std::string_view> kStrategies = {"blue-green", "canary"};
      p.strategy =
          kStrategies[r.OneOf(procedure->Find("strategy"), kStrategies, "rollback strategy")
                          .value_or(0)];
      for (const Node& check : r.List(*procedure, "verification", "checks", false)) {
        if (!check.IsMapping() || check.entries().size() != 1) {
          r.Error(check.mark(),
                  "expected one check written as 'name: required' or 'name: optional'");
          continue;
        }
        const yaml::Entry& entry = check.entries().front();
        auto level = r.OneOf(&entry.value, {"required", "optional"}, "verification level");
        if (level == 0u) p.verification.push_back(entry.key);
      }
      p.timeout = r.Duration(procedure->Find("timeout")).value_or(Millis(0));
      if (const Node* notification = procedure->Find("notification")) {
        if (r.Mapping(*notification, {"on_start", "on_complete", "on_failure"}, "notification")) {
          p.notify_on_start = r.Bool(notification->Find("on_start")).value_or(true);
          p.notify_on_complete = r.Bool(notification->Find("on_complete")).value_or(true);
          p.notify_on_failure = r.Bool(notification->Find("on_failure")).value_or(true);
        }
      }
    }
  }
  if (const Node* post = root.Find("post_rollback")) {
    if (r.Mapping(*post,
                  {"create_incident", "notify_stakeholders", "schedule_review", "review_deadline",
                   "block_until_review"},
                  "post_rollback")) {
      p.create_incident = r.Bool(post->Find("create_incident")).value_or(true);
      p.notify_stakeholders = r.Bool(post->Find("notify_stakeholders")).value_or(true);
      p.schedule_review = r.Bool(post->Find("schedule_review")).value_or(true);
      p.review_deadline = r.Duration(post->Find("review_deadline")).value_or(Millis(0));
      p.block_until_review = r.Bool(post->Find("block_until_review")).value_or(true);
    }
  }
}

void Loader::LoadAudit(Reader& r, const Node& root) {
  if (!r.Mapping(root, {"version", "retention", "access"}, "retention.yml")) return;
  r.Version(root, false);
  AuditPolicy& p = g_.audit;
  if (const Node* retention = r.Required(root, "retention", "retention.yml")) {
    if (r.Mapping(*retention,
                  {"production", "staging", "dev", "security_incident", "ai_agent_decision"},
                  "retention")) {
      for (size_t index = 0; index < EnumCount<Environment>(); ++index) {
        std::string_view key = kEnvironmentNames[index];
        p.retention_by_environment[index] =
            r.Duration(r.Required(*retention, key, "retention")).value_or(Millis(0));
      }
      p.retention_security_incident =
          r.Duration(r.Required(*retention, "security_incident", "retention")).value_or(Millis(0));
      p.retention_ai_agent_decision =
          r.Duration(r.Required(*retention, "ai_agent_decision", "retention")).value_or(Millis(0));
    }
  }
  std::map<std::string, yaml::Mark> seen;
  for (const Node& item : r.List(root, "access", "access rules", true)) {
    if (!r.Mapping(item, {"role", "read", "grant_duration"}, "an access rule")) continue;
    const Node* role_node = r.Required(item, "role", "an access rule");
    auto role = RoleRef(r, role_node);
    auto scope =
        r.OneOf(r.Required(item, "read", "an access rule"), {"own", "team", "all"}, "read scope");
    if (!role || !scope) continue;
    if (!Unique(r, &seen, role_node->scalar(), item.mark(), "access rule role")) continue;
    p.access.push_back({*role, static_cast<ReadScope>(*scope),
                        r.Duration(item.Find("grant_duration")).value_or(Millis(0))});
  }
}

void Loader::LoadCompliance(Reader& r, const Node& root) {
  if (!r.Mapping(root, {"version", "violation_reporting", "frameworks"}, "frameworks.yml")) return;
  r.Version(root, false);
  CompliancePolicy& p = g_.compliance;
  p.violation_reporting = r.Duration(root.Find("violation_reporting")).value_or(Millis(0));
  std::map<std::string, yaml::Mark> seen;
  std::map<std::string, yaml::Mark> seen_controls;
  for (const Node& item : r.List(root, "frameworks", "frameworks", true)) {
    if (!r.Mapping(
            item, {"id", "name", "applies_to", "requirements", "ai_agent_implications", "controls"},
            "a compliance framework")) {
      continue;
    }
    ComplianceFramework f;
    auto id = r.String(r.Required(item, "id", "a compliance framework"));
    if (!id || !Unique(r, &seen, *id, item.mark(), "framework")) continue;
    f.id = *id;
    f.name = r.String(item.Find("name")).value_or(*id);
    f.applies_to = r.String(item.Find("applies_to")).value_or("");
    f.requirements = r.StringList(item.Find("requirements")).value_or(std::vector<std::string>{});
    f.ai_agent_implications =
        r.StringList(item.Find("ai_agent_implications")).value_or(std::vector<std::string>{});
    for (const Node& control : r.List(item, "controls", "controls", false)) {
      if (!r.Mapping(control, {"id", "requirement"}, "a control")) continue;
      auto control_id = r.String(r.Required(control, "id", "a control"));
      auto requirement = r.String(r.Required(control, "requirement", "a control"));
      if (!control_id || !requirement ||
          !Unique(r, &seen_controls, *control_id, control.mark(), "control")) {
        continue;
      }
      f.controls.push_back({*control_id, *requirement});
    }
    p.frameworks.push_back(std::move(f));
  }
}

std::string OutcomeSummary(const Governance& g, const Outcome& o) {
  std::string text = fmt::format("{} approvers", o.approvals.count);
  if (o.approvals.mandatory.any())
    text += fmt::format(" incl. [{}]", g.RoleNames(o.approvals.mandatory));
  if (o.workflow) text += fmt::format(", workflow {}", g.workflows[*o.workflow].id);
  text += fmt::format(", ai_agent_role {}", Name(o.ai_agent_role));
  return text;
}

bool SameOutcome(const MatrixRow& a, const MatrixRow& b) {
  return a.risk == b.risk && a.outcome.approvals.count == b.outcome.approvals.count &&
         a.outcome.approvals.mandatory == b.outcome.approvals.mandatory &&
         a.outcome.workflow == b.outcome.workflow &&
         a.outcome.ai_agent_role == b.outcome.ai_agent_role;
}

// The first change type x environment x bump both rows match, as text.
std::string FirstCommonCell(const MatrixRow& a, const MatrixRow& b) {
  for (size_t t = 0; t < EnumCount<ChangeType>(); ++t) {
    for (size_t e = 0; e < EnumCount<Environment>(); ++e) {
      for (size_t v = 0; v < EnumCount<Bump>(); ++v) {
        if (a.change_types[t] && b.change_types[t] && a.environments[e] && b.environments[e] &&
            a.bumps[v] && b.bumps[v]) {
          return fmt::format("{} x {} x {}", kChangeTypeNames[t], kEnvironmentNames[e],
                             kBumpNames[v]);
        }
      }
    }
  }
  return {};
}

void Loader::CheckMatrixOverlaps() {
  for (size_t j = 0; j < g_.matrix.size(); ++j) {
    for (size_t i = 0; i < j; ++i) {
      const MatrixRow& a = g_.matrix[i];
      const MatrixRow& b = g_.matrix[j];
      std::string cell = FirstCommonCell(a, b);
      if (cell.empty() || SameOutcome(a, b)) continue;
      diagnostics_->push_back(
          {b.origin.file, b.origin.mark.line, b.origin.mark.column,
           fmt::format("row '{}' contradicts row '{}' (line {}) where both match ({}): "
                       "risk {} vs {}; {} vs {}",
                       b.id, a.id, a.origin.mark.line, cell, b.risk ? Name(*b.risk) : "unset",
                       a.risk ? Name(*a.risk) : "unset", OutcomeSummary(g_, b.outcome),
                       OutcomeSummary(g_, a.outcome))});
    }
  }
}

void Loader::CheckCoverage(const Node* anchor) {
  std::vector<std::string> gaps;
  for (size_t t = 0; t < EnumCount<ChangeType>(); ++t) {
    for (size_t e = 0; e < EnumCount<Environment>(); ++e) {
      for (size_t v = 0; v < EnumCount<Bump>(); ++v) {
        bool covered = std::any_of(g_.matrix.begin(), g_.matrix.end(), [&](const MatrixRow& row) {
          return row.change_types[t] && row.environments[e] && row.bumps[v];
        });
        CoverageEnv env(static_cast<ChangeType>(t), static_cast<Environment>(e),
                        static_cast<Bump>(v));
        covered =
            covered || std::any_of(g_.tiers.begin(), g_.tiers.end(), [&](const RiskTier& tier) {
              return tier.when.Evaluate(env) == expr::Tri::kTrue;
            });
        if (!covered) {
          gaps.push_back(fmt::format("{} x {} x {}", kChangeTypeNames[t], kEnvironmentNames[e],
                                     kBumpNames[v]));
        }
      }
    }
  }
  if (gaps.empty()) return;
  yaml::Mark mark = anchor ? anchor->mark() : yaml::Mark{1, 1};
  constexpr size_t kShown = 8;
  std::vector<std::string> shown(
      gaps.begin(), gaps.begin() + static_cast<ptrdiff_t>(std::min(gaps.size(), kShown)));
  std::string list = fmt::format("{}", fmt::join(shown, ", "));
  if (gaps.size() > kShown) list += fmt::format(" and {} more", gaps.size() - kShown);
  diagnostics_->push_back(
      {std::string(kTiers), mark.line, mark.column,
       fmt::format("{} change type x environment x bump combinations are covered by no matrix "
                   "row and no risk tier: {}",
                   gaps.size(), list)});
}

void Loader::CheckStaffing() {
  auto humans_with = [&](const RoleSet& roles) {
    return std::count_if(g_.principals.begin(), g_.principals.end(), [&](const Principal& p) {
      return p.type == ActorType::kHuman && (p.roles & roles).any();
    });
  };
  auto check = [&](const Outcome& outcome, const Origin& origin, std::string_view what) {
    if (outcome.approvals.count == 0 || !outcome.workflow) return;
    const Workflow& w = g_.workflows[*outcome.workflow];
    RoleSet eligible = w.approver_roles | outcome.approvals.mandatory;
    long available = humans_with(eligible);
    if (available < outcome.approvals.count) {
      diagnostics_->push_back(
          {origin.file, origin.mark.line, origin.mark.column,
           fmt::format("{} needs {} distinct human approvers with roles [{}], but principals.yaml "
                       "has {}",
                       what, outcome.approvals.count, g_.RoleNames(eligible), available)});
    }
    for (size_t role = 0; role < g_.roles.size(); ++role) {
      if (!outcome.approvals.mandatory[role]) continue;
      RoleSet one;
      one.set(role);
      if (humans_with(one) == 0) {
        diagnostics_->push_back({origin.file, origin.mark.line, origin.mark.column,
                                 fmt::format("{} needs an approval from role '{}', but no human "
                                             "in principals.yaml holds it",
                                             what, g_.roles[role].id)});
      }
    }
  };
  for (const MatrixRow& row : g_.matrix)
    check(row.outcome, row.origin, fmt::format("row '{}'", row.id));
  for (const RiskTier& tier : g_.tiers) {
    check(tier.outcome, tier.origin, fmt::format("risk tier '{}'", Name(tier.level)));
  }
  for (const Rule& rule : g_.rules)
    check(rule.outcome, rule.origin, fmt::format("rule '{}'", rule.id));
  CheckStopStaffing();
}

void Loader::CheckStopStaffing() {
  // The deactivation rule must be one the principals can satisfy, or a stop
  // once activated could never be lifted: one distinct person per
  // deactivation role (a matching of people to roles), and
  // distinct_people people in all, each holding a deactivation role.
  const EmergencyStopPolicy& stop = g_.emergency_stop;
  const Origin& at = stop.deactivation_origin;
  std::vector<std::string> people;  // Person() of each human holding a deactivation role
  std::vector<RoleSet> held;        // their deactivation roles, united over principals
  for (const Principal& p : g_.principals) {
    RoleSet roles = p.roles & stop.deactivate_roles;
    if (p.type != ActorType::kHuman || roles.none()) continue;
    auto it = std::find(people.begin(), people.end(), p.Person());
    if (it == people.end()) {
      people.push_back(p.Person());
      held.push_back(roles);
    } else {
      held[static_cast<size_t>(it - people.begin())] |= roles;
    }
  }
  if (static_cast<int>(people.size()) < stop.deactivate_distinct_people) {
    diagnostics_->push_back(
        {at.file, at.mark.line, at.mark.column,
         fmt::format(
             "deactivation needs {} distinct people with roles [{}], but principals.yaml has {}",
             stop.deactivate_distinct_people, g_.RoleNames(stop.deactivate_roles), people.size())});
    return;
  }
  // Kuhn's augmenting paths: role -> person, each person filling one role.
  std::vector<int> role_of(people.size(), -1);
  std::function<bool(size_t, std::vector<bool>&)> assign = [&](size_t role,
                                                               std::vector<bool>& tried) {
    for (size_t person = 0; person < people.size(); ++person) {
      if (!held[person].test(role) || tried[person]) continue;
      tried[person] = true;
      if (role_of[person] < 0 || assign(static_cast<size_t>(role_of[person]), tried)) {
        role_of[person] = static_cast<int>(role);
        return true;
      }
    }
    return false;
  };
  std::vector<std::string> unfilled;
  for (size_t role = 0; role < g_.roles.size(); ++role) {
    if (!stop.deactivate_roles.test(role)) continue;
    std::vector<bool> tried(people.size(), false);
    if (!assign(role, tried)) unfilled.push_back(g_.roles[role].id);
  }
  if (!unfilled.empty()) {
    diagnostics_->push_back(
        {at.file, at.mark.line, at.mark.column,
         fmt::format("deactivation needs one distinct person for each of the roles [{}], but "
                     "principals.yaml has nobody left for [{}]",
                     g_.RoleNames(stop.deactivate_roles), fmt::join(unfilled, ", "))});
  }
}

Governance Loader::Run() {
  if (!fs_.IsDirectory(dir_)) {
    diagnostics_->push_back(
        {dir_, 0, 0, "not a governance directory (run `interlock init` to create one)"});
    return {};
  }
  auto listing = fs_.ListFiles(dir_);
  if (!listing) {
    diagnostics_->push_back({dir_, 0, 0, listing.error().message()});
    return {};
  }
  Sha256Hasher hasher;
  std::vector<std::string_view> known;
  for (const GovernanceFile& f : GovernanceFiles()) known.push_back(f.path);
  for (const std::string& path : *listing) {
    if (path.starts_with(".git/")) continue;
    auto contents = fs_.ReadFile(JoinPath(dir_, path), kMaxGovernanceFileBytes);
    bool known_file = std::find(known.begin(), known.end(), path) != known.end();
    if (!contents) {
      diagnostics_->push_back({path, 0, 0, contents.error().message()});
      if (known_file) contents_.emplace(path, std::nullopt);
      continue;
    }
    hasher.Update(path);
    hasher.Update(std::string_view("\0", 1));
    hasher.Update(fmt::format("{}", contents->size()));
    hasher.Update(std::string_view("\0", 1));
    hasher.Update(*contents);
    bool yaml_file = path.ends_with(".yaml") || path.ends_with(".yml");
    bool ignored = path.starts_with("examples/") || path.starts_with(".") ||
                   path.find("/.") != std::string::npos;
    if (known_file) contents_.emplace(path, std::move(*contents));
    if (yaml_file && !ignored && !known_file) {
      std::string message = "not a governance file; Interlock would ignore its rules";
      std::string suggestion = Suggest(path, known);
      if (!suggestion.empty()) message += fmt::format(" (did you mean '{}'?)", suggestion);
      diagnostics_->push_back({path, 0, 0, std::move(message)});
    }
  }
  g_.version = "sha256:" + ToHex(hasher.Finish());

  auto with = [&](std::string_view path, bool required, auto load) {
    auto file = Parse(path, required);
    if (!file) return;
    Reader r(std::string(path), diagnostics_);
    files_.push_back(std::move(*file));
    load(r, files_.back());
  };
  files_.reserve(GovernanceFiles().size());
  with(kInterlock, true, [&](Reader& r, const ParsedFile& f) { LoadInterlock(r, f.root); });
  with(kPrincipals, true, [&](Reader& r, const ParsedFile& f) { LoadPrincipals(r, f.root); });
  with(kCanary, false, [&](Reader& r, const ParsedFile& f) { LoadCanary(r, f); });
  if (g_.FindCanary(kBlueGreenStrategy) == nullptr) {
    // Unless canary.yml defines it: one step to all traffic, watched by the
    // rollback triggers for 10 minutes.
    CanaryStrategy blue_green;
    blue_green.id = kBlueGreenStrategy;
    blue_green.traffic_steps = {1.0};
    blue_green.monitoring_duration = Millis(600'000);
    blue_green.origin = {std::string(kCanary), {}};
    g_.canaries.push_back(std::move(blue_green));
  }
  with(kWorkflows, true, [&](Reader& r, const ParsedFile& f) { LoadWorkflows(r, f.root); });
  with(kFreeze, false,
       [&](Reader& r, const ParsedFile& f) { ReadFreezeWindows(r, f.root, fs_, zoneinfo_, &g_); });
  with(kMatrix, true, [&](Reader& r, const ParsedFile& f) { LoadMatrix(r, f.root); });
  with(kTiers, true, [&](Reader& r, const ParsedFile& f) { LoadTiers(r, f); });
  with(kRules, false, [&](Reader& r, const ParsedFile& f) { LoadRules(r, f); });
  with(kEmergencyStop, true, [&](Reader& r, const ParsedFile& f) { LoadEmergencyStop(r, f.root); });
  with(kRollback, false, [&](Reader& r, const ParsedFile& f) { LoadRollback(r, f); });
  with(kAudit, true, [&](Reader& r, const ParsedFile& f) { LoadAudit(r, f.root); });
  with(kCompliance, false, [&](Reader& r, const ParsedFile& f) { LoadCompliance(r, f.root); });
  with(kControls, false, [&](Reader& r, const ParsedFile& f) { ReadControls(r, f.root, &g_); });
  with(kKubernetes, false, [&](Reader& r, const ParsedFile& f) { ReadKubernetes(r, f.root, &g_); });
  ResolveRequiredControls();

  // Cross-file checks only make sense on a directory whose files each read
  // cleanly; otherwise they would echo the errors already reported.
  if (diagnostics_->empty()) {
    CheckMatrixOverlaps();
    CheckCoverage(tiers_anchor_);
    CheckStaffing();
  }
  return std::move(g_);
}

}  // namespace

const std::vector<GovernanceFile>& GovernanceFiles() {
  static const std::vector<GovernanceFile> files = {
      {kInterlock, true}, {kPrincipals, true},  {kCanary, false},     {kWorkflows, true},
      {kMatrix, true},    {kTiers, true},       {kRules, false},      {kEmergencyStop, true},
      {kRollback, false}, {kAudit, true},       {kCompliance, false}, {kControls, false},
      {kFreeze, false},   {kKubernetes, false},
  };
  return files;
}

std::expected<Governance, std::vector<Diagnostic>> Load(const FileSystem& fs,
                                                        const std::string& dir,
                                                        std::string_view zoneinfo) {
  std::vector<Diagnostic> diagnostics;
  Loader loader(fs, dir, zoneinfo, &diagnostics);
  Governance g = loader.Run();
  if (!diagnostics.empty()) {
    std::sort(diagnostics.begin(), diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::tie(a.file, a.line, a.column, a.message) <
             std::tie(b.file, b.line, b.column, b.message);
    });
    return std::unexpected(std::move(diagnostics));
  }
  return g;
}

}  // namespace interlock::governance
