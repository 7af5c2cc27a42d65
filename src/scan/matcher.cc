#include "scan/matcher.h"

#include <fmt/format.h>
#include <hs/hs.h>
#include <re2/re2.h>

#include <algorithm>
#include <cstring>

namespace interlock::scan {
namespace {

constexpr size_t kDefaultMaxLength = 1024;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A literal as a Vectorscan pattern: every byte hex-escaped.
std::string LiteralPattern(std::string_view literal) {
  std::string out;
  for (unsigned char c : literal) out += fmt::format("\\x{:02x}", c);
  return out;
}

std::unique_ptr<RE2> NewRe2(const std::string& pattern, std::string* error) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(int64_t{16} << 20);
  auto re = std::make_unique<RE2>(pattern, options);
  if (!re->ok()) {
    *error = re->error();
    return nullptr;
  }
  return re;
}

std::string RuleWhere(const SecretRule& rule) {
  if (rule.source == "built-in") return fmt::format("built-in rule \"{}\"", rule.id);
  return fmt::format("{}: rule \"{}\"", rule.source, rule.id);
}

struct CompiledAllowlist {
  std::vector<std::unique_ptr<RE2>> paths;
  std::vector<std::unique_ptr<RE2>> regexes;
  std::vector<std::string> stopwords;  // lower case
  RegexTarget target = RegexTarget::kSecret;
  Condition condition = Condition::kOr;
  std::vector<char> rules;  // global: by rule index, whether it applies; empty: all
  bool only_paths = false;

  bool Matches(std::string_view path, std::string_view secret, std::string_view match,
               std::string_view line) const {
    auto any_path = [&] {
      for (const auto& re : paths) {
        if (RE2::PartialMatch(re2::StringPiece(path.data(), path.size()), *re)) return true;
      }
      return false;
    };
    auto any_regex = [&] {
      std::string_view target_text = target == RegexTarget::kSecret  ? secret
                                     : target == RegexTarget::kMatch ? match
                                                                     : line;
      for (const auto& re : regexes) {
        if (RE2::PartialMatch(re2::StringPiece(target_text.data(), target_text.size()), *re)) {
          return true;
        }
      }
      return false;
    };
    auto any_stopword = [&] {
      if (stopwords.empty()) return false;
      std::string lower = Lower(secret);
      for (const std::string& word : stopwords) {
        if (lower.find(word) != std::string::npos) return true;
      }
      return false;
    };
    if (condition == Condition::kOr) return any_path() || any_regex() || any_stopword();
    if (paths.empty() && regexes.empty() && stopwords.empty()) return false;
    return (paths.empty() || any_path()) && (regexes.empty() || any_regex()) &&
           (stopwords.empty() || any_stopword());
  }
};

Result<CompiledAllowlist> CompileAllowlist(const Allowlist& a, std::string_view owner) {
  CompiledAllowlist c;
  c.target = a.regex_target;
  c.condition = a.condition;
  for (const std::string& s : a.stopwords) c.stopwords.push_back(Lower(s));
  auto compile = [&](const std::vector<std::string>& patterns, std::string_view what,
                     std::vector<std::unique_ptr<RE2>>* out) -> Result<void> {
    for (const std::string& p : patterns) {
      std::string error;
      auto re = NewRe2(p, &error);
      if (!re) {
        return std::unexpected(Error::InvalidArgument(fmt::format(
            "{}: {}allowlist {} \"{}\" does not compile: {}", a.source, owner, what, p, error)));
      }
      out->push_back(std::move(re));
    }
    return Ok();
  };
  if (auto r = compile(a.paths, "path", &c.paths); !r) return std::unexpected(r.error());
  if (auto r = compile(a.regexes, "regex", &c.regexes); !r) return std::unexpected(r.error());
  c.only_paths =
      !a.paths.empty() && a.regexes.empty() && a.stopwords.empty() && a.condition == Condition::kOr;
  return c;
}

struct CompiledRule {
  std::unique_ptr<RE2> regex;  // null for a path-only rule
  std::unique_ptr<RE2> path;   // null: every path
  std::vector<CompiledAllowlist> allowlists;
  size_t max_length = kDefaultMaxLength;
  bool whole_text = false;  // no prefilter: RE2 over everything Scan is given
  int groups = 0;
};

struct Hit {
  uint32_t rule;
  size_t end;
};

}  // namespace

struct SecretMatcher::Compiled {
  std::vector<CompiledRule> rules;
  std::vector<CompiledAllowlist> global;
  std::vector<uint32_t> whole_text_rules;
  hs_database_t* database = nullptr;
  ~Compiled() {
    if (database != nullptr) hs_free_database(database);
  }
};

struct SecretMatcher::Scratch::State {
  ~State() {
    if (scratch != nullptr) hs_free_scratch(scratch);
  }
  hs_scratch_t* scratch = nullptr;
  std::vector<Hit> hits;
  std::vector<re2::StringPiece> groups;
};

SecretMatcher::Scratch::Scratch(std::unique_ptr<State> state) : state_(std::move(state)) {}
SecretMatcher::Scratch::~Scratch() = default;

SecretMatcher::SecretMatcher(SecretConfig config, std::unique_ptr<Compiled> compiled)
    : config_(std::move(config)), compiled_(std::move(compiled)) {}

SecretMatcher::~SecretMatcher() = default;

Result<std::unique_ptr<SecretMatcher>> SecretMatcher::Compile(SecretConfig config) {
  auto compiled = std::make_unique<Compiled>();
  std::vector<std::string> seen_ids;
  for (const SecretRule& rule : config.rules) {
    if (std::find(seen_ids.begin(), seen_ids.end(), rule.id) != seen_ids.end()) {
      return std::unexpected(
          Error::InvalidArgument(fmt::format("{}: duplicate rule id", RuleWhere(rule))));
    }
    seen_ids.push_back(rule.id);
    CompiledRule c;
    std::string error;
    if (!rule.regex.empty()) {
      c.regex = NewRe2(rule.regex, &error);
      if (!c.regex) {
        return std::unexpected(Error::InvalidArgument(
            fmt::format("{}: regex does not compile: {}", RuleWhere(rule), error)));
      }
      c.groups = c.regex->NumberOfCapturingGroups();
      if (rule.secret_group > c.groups) {
        return std::unexpected(Error::InvalidArgument(
            fmt::format("{}: secretGroup {} but the regex has {} capture groups", RuleWhere(rule),
                        rule.secret_group, c.groups)));
      }
    }
    if (!rule.path.empty()) {
      c.path = NewRe2(rule.path, &error);
      if (!c.path) {
        return std::unexpected(Error::InvalidArgument(
            fmt::format("{}: path does not compile: {}", RuleWhere(rule), error)));
      }
    }
    for (const Allowlist& a : rule.allowlists) {
      auto ca = CompileAllowlist(a, fmt::format("rule \"{}\": ", rule.id));
      if (!ca) return std::unexpected(ca.error());
      c.allowlists.push_back(std::move(*ca));
    }
    if (rule.max_length > 0) c.max_length = rule.max_length;
    compiled->rules.push_back(std::move(c));
  }
  for (const Allowlist& a : config.allowlists) {
    auto ca = CompileAllowlist(a, "");
    if (!ca) return std::unexpected(ca.error());
    if (!a.target_rules.empty()) {
      ca->rules.assign(config.rules.size(), 0);
      for (const std::string& id : a.target_rules) {
        for (size_t i = 0; i < config.rules.size(); ++i) {
          if (config.rules[i].id == id) ca->rules[i] = 1;
        }
      }
    }
    compiled->global.push_back(std::move(*ca));
  }

  // The prefilter database; a regex Vectorscan refuses is dropped from it
  // and its rule confirmed over the whole text instead.
  struct Pattern {
    std::string expression;
    unsigned flags;
    uint32_t rule;
  };
  std::vector<Pattern> patterns;
  for (uint32_t i = 0; i < config.rules.size(); ++i) {
    const SecretRule& rule = config.rules[i];
    if (rule.regex.empty()) continue;
    if (!rule.keywords.empty()) {
      for (const std::string& k : rule.keywords) {
        patterns.push_back({LiteralPattern(k), HS_FLAG_CASELESS, i});
      }
    } else {
      patterns.push_back({rule.regex, HS_FLAG_PREFILTER | HS_FLAG_ALLOWEMPTY, i});
    }
  }
  while (!patterns.empty()) {
    std::vector<const char*> expressions;
    std::vector<unsigned> flags, ids;
    for (const Pattern& p : patterns) {
      expressions.push_back(p.expression.c_str());
      flags.push_back(p.flags);
      ids.push_back(p.rule);
    }
    hs_compile_error_t* error = nullptr;
    hs_error_t status = hs_compile_multi(expressions.data(), flags.data(), ids.data(),
                                         static_cast<unsigned>(patterns.size()), HS_MODE_BLOCK,
                                         nullptr, &compiled->database, &error);
    if (status == HS_SUCCESS) break;
    int bad = error != nullptr ? error->expression : -1;
    std::string message = error != nullptr && error->message != nullptr ? error->message : "";
    hs_free_compile_error(error);
    if (bad < 0 || static_cast<size_t>(bad) >= patterns.size() ||
        (patterns[bad].flags & HS_FLAG_PREFILTER) == 0) {
      return std::unexpected(
          Error::Internal(fmt::format("the prefilter does not compile: {}", message)));
    }
    compiled->rules[patterns[bad].rule].whole_text = true;
    compiled->whole_text_rules.push_back(patterns[bad].rule);
    patterns.erase(patterns.begin() + bad);
  }
  return std::unique_ptr<SecretMatcher>(new SecretMatcher(std::move(config), std::move(compiled)));
}

Result<std::unique_ptr<SecretMatcher::Scratch>> SecretMatcher::NewScratch() const {
  auto state = std::make_unique<Scratch::State>();
  if (compiled_->database != nullptr &&
      hs_alloc_scratch(compiled_->database, &state->scratch) != HS_SUCCESS) {
    return std::unexpected(Error::Unavailable("cannot allocate the prefilter's scratch memory"));
  }
  return std::unique_ptr<Scratch>(new Scratch(std::move(state)));
}

std::vector<std::string> SecretMatcher::UnprefilteredRules() const {
  std::vector<std::string> ids;
  for (uint32_t rule : compiled_->whole_text_rules) ids.push_back(config_.rules[rule].id);
  return ids;
}

SecretMatcher::PathPlan SecretMatcher::PlanFor(std::string_view path) const {
  PathPlan plan;
  re2::StringPiece p(path.data(), path.size());
  for (const CompiledAllowlist& a : compiled_->global) {
    if (a.only_paths && a.rules.empty() && a.Matches(path, "", "", "")) {
      plan.skip_file = true;
      return plan;
    }
  }
  plan.active.resize(compiled_->rules.size());
  for (size_t i = 0; i < compiled_->rules.size(); ++i) {
    const CompiledRule& rule = compiled_->rules[i];
    const bool applies = rule.regex != nullptr && (!rule.path || RE2::PartialMatch(p, *rule.path));
    plan.active[i] = applies ? 1 : 0;
  }
  return plan;
}

std::vector<uint32_t> SecretMatcher::PathOnlyRules(std::string_view path) const {
  std::vector<uint32_t> out;
  re2::StringPiece p(path.data(), path.size());
  for (uint32_t i = 0; i < compiled_->rules.size(); ++i) {
    const CompiledRule& rule = compiled_->rules[i];
    if (rule.regex || !rule.path || !RE2::PartialMatch(p, *rule.path)) continue;
    if (Allowed(i, path, path, path, path)) continue;
    out.push_back(i);
  }
  return out;
}

bool SecretMatcher::Allowed(uint32_t rule, std::string_view path, std::string_view secret,
                            std::string_view match, std::string_view line) const {
  for (const CompiledAllowlist& a : compiled_->rules[rule].allowlists) {
    if (a.Matches(path, secret, match, line)) return true;
  }
  for (const CompiledAllowlist& a : compiled_->global) {
    if (!a.rules.empty() && !a.rules[rule]) continue;
    if (a.Matches(path, secret, match, line)) return true;
  }
  return false;
}

void SecretMatcher::Scan(std::string_view text, size_t base, size_t own_begin, size_t own_end,
                         std::string_view path, const PathPlan& plan, Scratch& scratch_handle,
                         std::vector<Match>* out) const {
  Scratch::State& scratch = *scratch_handle.state_;
  if (plan.skip_file || text.empty()) return;
  std::vector<Hit>& hits = scratch.hits;
  hits.clear();
  if (compiled_->database != nullptr) {
    auto on_hit = [](unsigned int id, unsigned long long, unsigned long long to, unsigned int,
                     void* context) -> int {
      static_cast<std::vector<Hit>*>(context)->push_back({id, static_cast<size_t>(to)});
      return 0;
    };
    // Scan is given at most a window, far below 4 GiB.
    hs_scan(compiled_->database, text.data(), static_cast<unsigned>(text.size()), 0,
            scratch.scratch, on_hit, &hits);
  }
  for (uint32_t rule : compiled_->whole_text_rules) hits.push_back({rule, text.size()});
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.rule != b.rule ? a.rule < b.rule : a.end < b.end;
  });

  const re2::StringPiece input(text.data(), text.size());
  size_t i = 0;
  while (i < hits.size()) {
    const uint32_t rule_index = hits[i].rule;
    const CompiledRule& rule = compiled_->rules[rule_index];
    const SecretRule& spec = config_.rules[rule_index];
    size_t j = i;
    while (j < hits.size() && hits[j].rule == rule_index) ++j;
    if (!plan.active[rule_index]) {
      i = j;
      continue;
    }
    const size_t reach = rule.whole_text ? text.size() : rule.max_length;
    size_t k = i;
    size_t searched_to = 0;  // matches are never looked for twice
    while (k < j) {
      size_t region_begin = hits[k].end > reach ? hits[k].end - reach : 0;
      size_t region_end = std::min(text.size(), hits[k].end + reach);
      ++k;
      while (k < j && (hits[k].end > reach ? hits[k].end - reach : 0) <= region_end) {
        region_end = std::min(text.size(), hits[k].end + reach);
        ++k;
      }
      size_t pos = std::max(region_begin, searched_to);
      scratch.groups.resize(static_cast<size_t>(rule.groups) + 1);
      while (pos < region_end &&
             rule.regex->Match(input, pos, region_end, RE2::UNANCHORED, scratch.groups.data(),
                               static_cast<int>(scratch.groups.size()))) {
        const re2::StringPiece whole = scratch.groups[0];
        const size_t mb = static_cast<size_t>(whole.data() - text.data());
        const size_t me = mb + whole.size();
        pos = me > mb ? me : mb + 1;
        re2::StringPiece secret = whole;
        if (spec.secret_group > 0) {
          secret = scratch.groups[static_cast<size_t>(spec.secret_group)];
        } else {
          for (int g = 1; g <= rule.groups; ++g) {
            if (!scratch.groups[static_cast<size_t>(g)].empty()) {
              secret = scratch.groups[static_cast<size_t>(g)];
              break;
            }
          }
        }
        if (secret.data() == nullptr || secret.empty()) continue;
        if (base + mb < own_begin || base + mb >= own_end) continue;
        std::string_view secret_view(secret.data(), secret.size());
        if (spec.entropy > 0 && ShannonEntropy(secret_view) <= spec.entropy) continue;
        const size_t sb = static_cast<size_t>(secret.data() - text.data());
        // The line holding the match, within the text given.
        const void* before = ::memrchr(text.data(), '\n', mb);
        size_t line_begin =
            before ? static_cast<size_t>(static_cast<const char*>(before) - text.data()) + 1 : 0;
        const void* newline = std::memchr(text.data() + me, '\n', text.size() - me);
        size_t line_end = newline
                              ? static_cast<size_t>(static_cast<const char*>(newline) - text.data())
                              : text.size();
        if (Allowed(rule_index, path, secret_view, text.substr(mb, me - mb),
                    text.substr(line_begin, line_end - line_begin))) {
          continue;
        }
        out->push_back({rule_index, base + mb, base + me, base + sb, base + sb + secret.size()});
      }
      searched_to = std::max(searched_to, pos);
    }
    i = j;
  }
}

}  // namespace interlock::scan
