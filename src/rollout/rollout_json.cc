// The stored form of a rollout (its state row, which the API also shows):
// ToJson and the reader that takes it back, refusing anything else.
#include <fmt/format.h>

#include <cfloat>
#include <cmath>
#include <span>

#include "core/assign.h"
#include "core/json.h"
#include "rollout/rollout.h"

namespace interlock::rollout {
namespace {

// Format of the state row; a row of another format is refused.
constexpr int64_t kFormat = 1;

// --- reading the state row ---------------------------------------------------

Error Corrupt(std::string message) { return Error::Corruption("rollout: " + std::move(message)); }

Result<json::ObjectReader> ObjectAt(json::Value v, std::string path,
                                    std::span<const std::string_view> allowed) {
  if (!v.is_object()) return std::unexpected(Corrupt(path + ": expected an object"));
  auto o = json::ObjectReader::Make(v, std::move(path), "rollout", allowed);
  if (!o) return std::unexpected(Corrupt(o.error().message()));
  return o;
}

template <class T>
Result<T> Wrap(Result<T> r) {
  if (!r) return std::unexpected(Corrupt(r.error().message()));
  return r;
}

Result<double> Number(const json::ObjectReader& o, std::string_view key) {
  auto v = Wrap(o.OptionalNumber(key, -1e300, 1e300));
  if (!v) return std::unexpected(v.error());
  if (!*v) return std::unexpected(Corrupt(o.Path(key) + ": required"));
  return **v;
}

// Integers a double holds exactly: times in milliseconds, counts.
constexpr double kMaxExact = 9007199254740992.0;  // 2^53

Result<int64_t> Int(const json::ObjectReader& o, std::string_view key) {
  auto v = Number(o, key);
  if (v && std::fabs(*v) > kMaxExact) {
    return std::unexpected(Corrupt(o.Path(key) + ": out of range"));
  }
  if (!v) return std::unexpected(v.error());
  if (*v != std::floor(*v)) return std::unexpected(Corrupt(o.Path(key) + ": expected an integer"));
  return static_cast<int64_t>(*v);
}

Result<std::string> Text(const json::ObjectReader& o, std::string_view key) {
  auto v = Wrap(o.OptionalString(key));
  if (!v) return std::unexpected(v.error());
  return std::string(v->value_or(""));
}

Result<json::Value> Array(const json::ObjectReader& o, std::string_view key) {
  auto v = o.Find(key);
  if (!v || !v->is_array()) return std::unexpected(Corrupt(o.Path(key) + ": expected an array"));
  return *v;
}

#define ROLLOUT_OBJECT(name, value, path, keys)                  \
  auto name##_read = ObjectAt((value), (path), (keys));          \
  if (!name##_read) return std::unexpected(name##_read.error()); \
  const json::ObjectReader& name = *name##_read

#define ROLLOUT_ARRAY(name, object, key)                         \
  auto name##_read = Array((object), (key));                     \
  if (!name##_read) return std::unexpected(name##_read.error()); \
  json::Value name = *name##_read

Result<std::vector<Point>> Points(const json::ObjectReader& o, std::string_view key) {
  std::vector<Point> out;
  ROLLOUT_ARRAY(array, o, key);
  for (json::Value p : array.elements()) {
    if (!p.is_array() || p.size() != 2) {
      return std::unexpected(Corrupt(o.Path(key) + ": expected [at, value] pairs"));
    }
    auto it = p.elements().begin();
    json::Value at = *it++;
    json::Value value = *it;
    if (!at.is_number() || !value.is_number() || std::fabs(at.AsNumber()) > kMaxExact ||
        at.AsNumber() != std::floor(at.AsNumber())) {
      return std::unexpected(Corrupt(o.Path(key) + ": expected [at, value] numbers"));
    }
    out.push_back({static_cast<UnixMillis>(at.AsNumber()), value.AsNumber()});
  }
  return out;
}

Result<MetricValue> ReadValue(json::Value v, std::string path) {
  static constexpr std::string_view kKeys[] = {"name",   "value",  "samples",
                                               "status", "detail", "judged"};
  ROLLOUT_OBJECT(o, v, std::move(path), kKeys);
  MetricValue m;
  INTERLOCK_ASSIGN(m.name, Text(o, "name"));
  if (auto text = o.Find("value"); text && text->is_string()) {
    if (text->AsString() != "+Inf" && text->AsString() != "-Inf") {
      return std::unexpected(Corrupt(o.Path("value") + ": expected a number, +Inf or -Inf"));
    }
    m.value = text->AsString() == "+Inf" ? HUGE_VAL : -HUGE_VAL;
  } else if (auto value = Wrap(o.OptionalNumber("value", -DBL_MAX, DBL_MAX)); !value) {
    return std::unexpected(value.error());
  } else {
    m.value = *value;
  }
  int64_t samples = 0;
  INTERLOCK_ASSIGN(samples, Int(o, "samples"));
  m.samples = static_cast<int>(samples);
  std::string status;
  INTERLOCK_ASSIGN(status, Text(o, "status"));
  m.status = status == "value"   ? ReadingStatus::kValue
             : status == "error" ? ReadingStatus::kError
                                 : ReadingStatus::kNoData;
  INTERLOCK_ASSIGN(m.detail, Text(o, "detail"));
  if (auto judged = o.Find("judged"); judged && !judged->is_null()) {
    static constexpr std::string_view kJudged[] = {"effect",  "ci_low",     "ci_high",
                                                   "p_value", "confidence", "baseline_median"};
    ROLLOUT_OBJECT(jo, *judged, o.Path("judged"), kJudged);
    Judgement j;
    INTERLOCK_ASSIGN(j.effect, Number(jo, "effect"));
    INTERLOCK_ASSIGN(j.ci_low, Number(jo, "ci_low"));
    INTERLOCK_ASSIGN(j.ci_high, Number(jo, "ci_high"));
    INTERLOCK_ASSIGN(j.p_value, Number(jo, "p_value"));
    INTERLOCK_ASSIGN(j.confidence, Number(jo, "confidence"));
    INTERLOCK_ASSIGN(j.baseline_median, Number(jo, "baseline_median"));
    m.judged = j;
  }
  return m;
}

}  // namespace

nlohmann::ordered_json ToJson(const Rollout& r) {
  using json = nlohmann::ordered_json;
  json checks = json::array();
  for (const Check& c : r.checks) {
    json values = json::array();
    for (const MetricValue& v : c.values) {
      json value = {{"name", v.name}};
      if (!v.value) {
        value["value"] = nullptr;
      } else if (std::isinf(*v.value)) {
        value["value"] = *v.value > 0 ? "+Inf" : "-Inf";  // JSON has no infinity
      } else {
        value["value"] = *v.value;
      }
      value["samples"] = v.samples;
      value["status"] = ReadingStatusName(v.status);
      value["detail"] = v.detail;
      if (v.judged) {
        const Judgement& j = *v.judged;
        value["judged"] = {{"effect", j.effect},         {"ci_low", j.ci_low},
                           {"ci_high", j.ci_high},       {"p_value", j.p_value},
                           {"confidence", j.confidence}, {"baseline_median", j.baseline_median}};
      }
      values.push_back(std::move(value));
    }
    json thresholds = json::array();
    for (const MetricThreshold& t : c.thresholds) {
      thresholds.push_back({{"metric", t.metric}, {"op", t.op}, {"value", t.value}});
    }
    json recent = json::array();
    for (bool failed : c.recent) recent.push_back(failed);
    checks.push_back({{"name", c.name},
                      {"kind", c.criterion ? "criterion" : "trigger"},
                      {"condition", c.condition},
                      {"action", c.action},
                      {"dry_run", c.dry_run},
                      {"result", c.result ? json(CheckResultName(*c.result)) : json(nullptr)},
                      {"at", c.at},
                      {"values", std::move(values)},
                      {"thresholds", std::move(thresholds)},
                      {"detail", c.detail},
                      {"recent_failures", std::move(recent)},
                      {"firing", c.firing}});
  }
  json history = json::array();
  for (const HistoryEntry& h : r.history) {
    history.push_back({{"at", h.at},
                       {"event", h.event},
                       {"state", RolloutStateName(h.state)},
                       {"step", h.step + 1},
                       {"by", h.by},
                       {"why", h.why}});
  }
  json metrics = json::object();
  for (const auto& [name, series] : r.metrics) {
    json canary = json::array();
    for (const Point& p : series.canary) canary.push_back({p.at, p.value});
    json baseline = json::array();
    for (const Point& p : series.baseline) baseline.push_back({p.at, p.value});
    metrics[name] = {{"canary", std::move(canary)},
                     {"baseline", std::move(baseline)},
                     {"missing_at", series.missing_at},
                     {"missing", ReadingStatusName(series.missing)},
                     {"missing_detail", series.missing_detail}};
  }
  json steps = json::array();
  for (double s : r.steps) steps.push_back(std::round(s * 1e6) / 1e4);
  json spec = {{"service", r.spec.service}, {"environment", r.spec.environment},
               {"version", r.spec.version}, {"baseline_version", r.spec.baseline_version},
               {"risk", r.spec.risk},       {"opened_by", r.spec.opened_by}};
  spec["audit_index"] = r.spec.audit_index ? json(*r.spec.audit_index) : json(nullptr);
  spec["approval_id"] = r.spec.approval_id.empty() ? json(nullptr) : json(r.spec.approval_id);
  return {{"format", kFormat},
          {"id", r.id},
          {"state", RolloutStateName(r.state)},
          {"strategy", r.spec.strategy},
          {"step", r.step + 1},
          {"steps", steps.size()},
          {"traffic_steps", std::move(steps)},
          {"traffic_percent", std::round(r.traffic() * 1e6) / 1e4},
          {"monitoring_ms", r.monitoring_ms},
          {"interval_ms", r.interval_ms},
          {"created_at", r.created_at},
          {"step_started_at", r.step_started_at},
          {"next_evaluation_at", IsFinal(r.state) ? json(nullptr) : json(r.next_evaluation_at)},
          {"updated_at", r.updated_at},
          {"evaluations", r.evaluations},
          {"escalation", r.escalation.empty() ? json(nullptr) : json(r.escalation)},
          {"change", std::move(spec)},
          {"checks", std::move(checks)},
          {"history", std::move(history)},
          {"metrics", std::move(metrics)}};
}

Result<Rollout> RolloutFromJson(std::string_view text) {
  auto doc = json::Parse(text, {.subject = "rollout", .max_bytes = size_t{64} << 20});
  if (!doc) return std::unexpected(Corrupt(doc.error().message()));
  static constexpr std::string_view kKeys[] = {"format",
                                               "id",
                                               "state",
                                               "strategy",
                                               "step",
                                               "steps",
                                               "traffic_steps",
                                               "traffic_percent",
                                               "monitoring_ms",
                                               "interval_ms",
                                               "created_at",
                                               "step_started_at",
                                               "next_evaluation_at",
                                               "updated_at",
                                               "evaluations",
                                               "escalation",
                                               "change",
                                               "checks",
                                               "history",
                                               "metrics"};
  ROLLOUT_OBJECT(o, doc->root(), "", kKeys);
  int64_t format = 0;
  INTERLOCK_ASSIGN(format, Int(o, "format"));
  if (format != kFormat) {
    return std::unexpected(Corrupt(fmt::format(
        "format: this Interlock reads rollout records of format {}, found {}", kFormat, format)));
  }
  Rollout r;
  INTERLOCK_ASSIGN(r.id, Text(o, "id"));
  std::string state;
  INTERLOCK_ASSIGN(state, Text(o, "state"));
  auto parsed_state = ParseRolloutState(state);
  if (!parsed_state) return std::unexpected(Corrupt(fmt::format("state: unknown \"{}\"", state)));
  r.state = *parsed_state;
  INTERLOCK_ASSIGN(r.spec.strategy, Text(o, "strategy"));
  ROLLOUT_ARRAY(steps, o, "traffic_steps");
  for (json::Value s : steps.elements()) {
    if (!s.is_number() || s.AsNumber() <= 0 || s.AsNumber() > 100) {
      return std::unexpected(Corrupt("traffic_steps: expected percentages above 0, at most 100"));
    }
    r.steps.push_back(s.AsNumber() / 100);
  }
  int64_t step = 0;
  INTERLOCK_ASSIGN(step, Int(o, "step"));
  if (step < 1 || static_cast<size_t>(step) > r.steps.size()) {
    return std::unexpected(
        Corrupt(fmt::format("step: {} is not one of the {} steps", step, r.steps.size())));
  }
  r.step = static_cast<size_t>(step - 1);
  INTERLOCK_ASSIGN(r.monitoring_ms, Int(o, "monitoring_ms"));
  INTERLOCK_ASSIGN(r.interval_ms, Int(o, "interval_ms"));
  INTERLOCK_ASSIGN(r.created_at, Int(o, "created_at"));
  INTERLOCK_ASSIGN(r.step_started_at, Int(o, "step_started_at"));
  if (!IsFinal(r.state)) INTERLOCK_ASSIGN(r.next_evaluation_at, Int(o, "next_evaluation_at"));
  INTERLOCK_ASSIGN(r.updated_at, Int(o, "updated_at"));
  int64_t evaluations = 0;
  INTERLOCK_ASSIGN(evaluations, Int(o, "evaluations"));
  r.evaluations = static_cast<uint64_t>(evaluations);
  INTERLOCK_ASSIGN(r.escalation, Text(o, "escalation"));

  static constexpr std::string_view kSpecKeys[] = {"service",          "environment", "version",
                                                   "baseline_version", "risk",        "opened_by",
                                                   "audit_index",      "approval_id"};
  auto change_value = o.Find("change");
  if (!change_value) return std::unexpected(Corrupt("change: required"));
  ROLLOUT_OBJECT(spec, *change_value, "change", kSpecKeys);
  INTERLOCK_ASSIGN(r.spec.service, Text(spec, "service"));
  INTERLOCK_ASSIGN(r.spec.environment, Text(spec, "environment"));
  INTERLOCK_ASSIGN(r.spec.version, Text(spec, "version"));
  INTERLOCK_ASSIGN(r.spec.baseline_version, Text(spec, "baseline_version"));
  INTERLOCK_ASSIGN(r.spec.risk, Text(spec, "risk"));
  INTERLOCK_ASSIGN(r.spec.opened_by, Text(spec, "opened_by"));
  INTERLOCK_ASSIGN(r.spec.approval_id, Text(spec, "approval_id"));
  if (spec.Find("audit_index")) {
    int64_t index = 0;
    INTERLOCK_ASSIGN(index, Int(spec, "audit_index"));
    r.spec.audit_index = static_cast<uint64_t>(index);
  }

  ROLLOUT_ARRAY(checks, o, "checks");
  size_t i = 0;
  for (json::Value item : checks.elements()) {
    static constexpr std::string_view kCheckKeys[] = {
        "name", "kind",   "condition",  "action", "dry_run",         "result",
        "at",   "values", "thresholds", "detail", "recent_failures", "firing"};
    std::string path = fmt::format("checks[{}]", i++);
    ROLLOUT_OBJECT(co, item, path, kCheckKeys);
    Check c;
    INTERLOCK_ASSIGN(c.name, Text(co, "name"));
    std::string kind;
    INTERLOCK_ASSIGN(kind, Text(co, "kind"));
    c.criterion = kind == "criterion";
    INTERLOCK_ASSIGN(c.condition, Text(co, "condition"));
    INTERLOCK_ASSIGN(c.action, Text(co, "action"));
    auto dry = Wrap(co.OptionalBool("dry_run"));
    if (!dry) return std::unexpected(dry.error());
    c.dry_run = dry->value_or(false);
    std::string result;
    INTERLOCK_ASSIGN(result, Text(co, "result"));
    if (!result.empty()) {
      c.result = ParseCheckResult(result);
      if (!c.result) {
        return std::unexpected(Corrupt(fmt::format("{}.result: unknown \"{}\"", path, result)));
      }
    }
    INTERLOCK_ASSIGN(c.at, Int(co, "at"));
    ROLLOUT_ARRAY(values, co, "values");
    size_t j = 0;
    for (json::Value v : values.elements()) {
      MetricValue m;
      INTERLOCK_ASSIGN(m, ReadValue(v, fmt::format("{}.values[{}]", path, j++)));
      c.values.push_back(std::move(m));
    }
    ROLLOUT_ARRAY(thresholds, co, "thresholds");
    for (json::Value t : thresholds.elements()) {
      static constexpr std::string_view kThresholdKeys[] = {"metric", "op", "value"};
      ROLLOUT_OBJECT(to, t, path + ".thresholds", kThresholdKeys);
      MetricThreshold m;
      INTERLOCK_ASSIGN(m.metric, Text(to, "metric"));
      INTERLOCK_ASSIGN(m.op, Text(to, "op"));
      INTERLOCK_ASSIGN(m.value, Number(to, "value"));
      c.thresholds.push_back(std::move(m));
    }
    INTERLOCK_ASSIGN(c.detail, Text(co, "detail"));
    ROLLOUT_ARRAY(recent, co, "recent_failures");
    for (json::Value f : recent.elements()) {
      if (!f.is_bool())
        return std::unexpected(Corrupt(path + ".recent_failures: expected booleans"));
      c.recent.push_back(f.AsBool());
    }
    auto firing = Wrap(co.OptionalBool("firing"));
    if (!firing) return std::unexpected(firing.error());
    c.firing = firing->value_or(false);
    r.checks.push_back(std::move(c));
  }

  ROLLOUT_ARRAY(history, o, "history");
  for (json::Value item : history.elements()) {
    static constexpr std::string_view kHistoryKeys[] = {"at",   "event", "state",
                                                        "step", "by",    "why"};
    ROLLOUT_OBJECT(ho, item, "history", kHistoryKeys);
    HistoryEntry h;
    INTERLOCK_ASSIGN(h.at, Int(ho, "at"));
    INTERLOCK_ASSIGN(h.event, Text(ho, "event"));
    std::string s;
    INTERLOCK_ASSIGN(s, Text(ho, "state"));
    h.state = ParseRolloutState(s).value_or(RolloutState::kProgressing);
    int64_t hs = 1;
    INTERLOCK_ASSIGN(hs, Int(ho, "step"));
    h.step = static_cast<size_t>(std::max<int64_t>(hs, 1) - 1);
    INTERLOCK_ASSIGN(h.by, Text(ho, "by"));
    INTERLOCK_ASSIGN(h.why, Text(ho, "why"));
    r.history.push_back(std::move(h));
  }

  auto metrics = o.Find("metrics");
  if (!metrics || !metrics->is_object())
    return std::unexpected(Corrupt("metrics: expected an object"));
  for (json::Member m : metrics->members()) {
    static constexpr std::string_view kSeriesKeys[] = {"canary", "baseline", "missing_at",
                                                       "missing", "missing_detail"};
    ROLLOUT_OBJECT(so, m.value(), "metrics." + std::string(m.key), kSeriesKeys);
    MetricSeries s;
    INTERLOCK_ASSIGN(s.canary, Points(so, "canary"));
    INTERLOCK_ASSIGN(s.baseline, Points(so, "baseline"));
    INTERLOCK_ASSIGN(s.missing_at, Int(so, "missing_at"));
    std::string missing;
    INTERLOCK_ASSIGN(missing, Text(so, "missing"));
    s.missing = missing == "error" ? ReadingStatus::kError : ReadingStatus::kNoData;
    INTERLOCK_ASSIGN(s.missing_detail, Text(so, "missing_detail"));
    r.metrics.emplace(std::string(m.key), std::move(s));
  }
  return r;
}

}  // namespace interlock::rollout
