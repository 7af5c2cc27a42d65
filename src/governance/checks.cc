#include "governance/checks.h"

#include <fmt/format.h>

namespace interlock::governance {
namespace {

constexpr int kMaxEvaluations = 100;  // the longest debounce window

std::optional<OnMissing> ReadOnMissing(Reader& r, const yaml::Node* node) {
  auto index = r.OneOf(node, {"hold", "fail", "pass"}, "result");
  if (!index) return std::nullopt;
  return static_cast<OnMissing>(*index);
}

}  // namespace

std::optional<CheckSettings> ReadCheckSettings(Reader& r, const yaml::Node& map,
                                               const CheckSettings& defaults, bool critical) {
  CheckSettings s = defaults;
  bool ok = true;
  if (const yaml::Node* window = map.Find("window")) {
    std::optional<Millis> value = r.Duration(window);
    if (!value) {
      ok = false;
    } else if (value->count() <= 0) {
      r.Error(window->mark(), "window must be longer than 0s");
      ok = false;
    } else {
      s.window = *value;
    }
  }
  const yaml::Node* consecutive = map.Find("consecutive");
  const yaml::Node* m_of_n = map.Find("m_of_n");
  if (consecutive && m_of_n) {
    r.Error(m_of_n->mark(), "give consecutive or m_of_n, not both");
    ok = false;
  } else if (consecutive) {
    auto n = r.Integer(consecutive, 1, kMaxEvaluations);
    if (n) s.fail_m = s.fail_n = static_cast<int>(*n);
    ok = ok && n.has_value();
  } else if (m_of_n) {
    if (!m_of_n->IsSequence() || m_of_n->items().size() != 2) {
      r.Error(m_of_n->mark(), "expected [M, N]: M failing evaluations among the last N");
      ok = false;
    } else {
      auto m = r.Integer(&m_of_n->items()[0], 1, kMaxEvaluations);
      auto n = r.Integer(&m_of_n->items()[1], 1, kMaxEvaluations);
      if (m && n && *m > *n) {
        r.Error(m_of_n->mark(), fmt::format("M ({}) cannot exceed N ({})", *m, *n));
        m.reset();
      }
      if (m && n) {
        s.fail_m = static_cast<int>(*m);
        s.fail_n = static_cast<int>(*n);
      }
      ok = ok && m && n;
    }
  }
  if (const yaml::Node* no_data = map.Find("on_no_data")) {
    auto value = ReadOnMissing(r, no_data);
    if (value == OnMissing::kPass && critical) {
      r.Error(no_data->mark(),
              "on_no_data: pass is refused on the critical flow: a critical rollout never "
              "passes on missing data");
      value.reset();
    }
    if (value) s.on_no_data = *value;
    ok = ok && value.has_value();
  }
  if (const yaml::Node* on_error = map.Find("on_error")) {
    auto value = ReadOnMissing(r, on_error);
    if (value == OnMissing::kPass && critical) {
      r.Error(on_error->mark(),
              "on_error: pass is refused on the critical flow: a critical rollout never "
              "passes on a failed metric source");
      value.reset();
    }
    if (value) s.on_error = *value;
    ok = ok && value.has_value();
  }
  if (const yaml::Node* dry_run = map.Find("dry_run")) {
    auto value = r.Bool(dry_run);
    if (value) s.dry_run = *value;
    ok = ok && value.has_value();
  }
  if (const yaml::Node* samples = map.Find("min_samples")) {
    auto value = r.Integer(samples, 1, 1'000'000);
    if (value) s.min_samples = static_cast<int>(*value);
    ok = ok && value.has_value();
  }
  if (const yaml::Node* requests = map.Find("min_requests")) {
    std::optional<double> value = r.Number(requests);
    if (!value) {
      ok = false;
    } else if (*value < 0) {
      r.Error(requests->mark(), "min_requests cannot be negative");
      ok = false;
    } else {
      s.min_requests = *value;
    }
  }
  if (const yaml::Node* confidence = map.Find("confidence")) {
    std::optional<double> value = r.Number(confidence);
    if (!value) {
      ok = false;
    } else if (!(*value >= 0.5 && *value < 1)) {
      r.Error(confidence->mark(), "confidence is at least 0.5 and below 1, such as 0.98");
      ok = false;
    } else {
      s.confidence = *value;
    }
  }
  if (!ok) return std::nullopt;
  return s;
}

std::string CheckMetricName(std::string_view name) {
  if (name.empty() || name.size() > 64) return "a metric name has 1 to 64 characters";
  if (name[0] < 'a' || name[0] > 'z') return "a metric name starts with a letter a-z";
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return "a metric name holds only a-z, 0-9 and _";
    }
  }
  return "";
}

}  // namespace interlock::governance
