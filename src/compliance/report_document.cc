// The compliance document of seed 000 section 4.4 (ReportMarkdown,
// ReportHtml): one model of sections and tables built from the report and
// the governance, rendered twice.
#include <fmt/format.h>

#include <algorithm>

#include "compliance/report_text.h"
#include "compliance/reports.h"

namespace interlock::compliance {
namespace {

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// A block of a section: a paragraph, a bullet list, a table or verbatim
// text (the signed checkpoint).
struct Block {
  enum class Kind : uint8_t { kParagraph, kBullets, kTable, kVerbatim };
  Kind kind = Kind::kParagraph;
  std::vector<std::string> lines;  // kParagraph: one; kBullets: one per item; kVerbatim: one
  Table table;
};

struct Section {
  std::string heading;
  std::vector<Block> blocks;
};

struct Document {
  std::string title;
  std::vector<Section> sections;
};

Block Paragraph(std::string text) { return {Block::Kind::kParagraph, {std::move(text)}, {}}; }
Block Bullets(std::vector<std::string> items) {
  return {Block::Kind::kBullets, std::move(items), {}};
}
Block TableBlock(Table table) { return {Block::Kind::kTable, {}, std::move(table)}; }

std::string StatusOf(Outcome o) {
  switch (o) {
    case Outcome::kPass:
      return "Compliant";
    case Outcome::kFail:
      return "Non-compliant";
    case Outcome::kWaived:
      return "Waived (non-compliant under an approved waiver)";
    case Outcome::kError:
      return "Not evaluated (error)";
    case Outcome::kNotApplicable:
      return "Not applicable";
  }
  return "";
}

std::string Day(UnixMillis t) { return FormatTimestamp(t).substr(0, 10); }

std::string FrameworkLine(const Report& report, const governance::Governance& g) {
  std::vector<std::string> names;
  for (const governance::ComplianceFramework& f : g.compliance.frameworks) {
    if (report.framework.empty() || f.id == report.framework) names.push_back(f.name);
  }
  if (names.empty()) return report.framework;
  return fmt::format("{}", fmt::join(names, ", "));
}

// The requirements a control meets, limited to the report's framework.
std::string Requirements(const governance::Control& c, const std::string& framework) {
  std::vector<std::string> maps;
  for (const std::string& m : c.maps) {
    if (framework.empty() || m.starts_with(framework + ":")) maps.push_back(m);
  }
  return fmt::format("{} ({})", c.description, fmt::join(maps, "; "));
}

template <size_t N, size_t M>
std::string Names(const std::bitset<N>& set, const std::array<std::string_view, M>& names) {
  if (set.count() == std::min(N, M)) return "any";
  std::vector<std::string_view> out;
  for (size_t i = 0; i < M && i < N; ++i) {
    if (set.test(i)) out.push_back(names[i]);
  }
  return fmt::format("{}", fmt::join(out, ", "));
}

std::string AiMay(AiRole role) {
  switch (role) {
    case AiRole::kAutoDeploy:
      return "auto_deploy: may make the change as a human would";
    case AiRole::kRecommend:
      return "recommend: may propose the change; it needs at least one human approval";
    case AiRole::kAnalyze:
      return "analyze: may analyse, not make the change";
    case AiRole::kHumanOnly:
      return "human_only: may not make the change; only humans do";
  }
  return "";
}

std::string Oversight(const governance::Outcome& o, const governance::Governance& g) {
  std::string out = "no human approval required";
  if (o.approvals.count > 0) {
    out = fmt::format("{} human approval{}", o.approvals.count, o.approvals.count == 1 ? "" : "s");
  }
  if (o.approvals.mandatory.any()) out += ", including " + g.RoleNames(o.approvals.mandatory);
  if (o.workflow) out += ", workflow " + g.workflows[*o.workflow].id;
  return out;
}

// The outcome of the catalogue's ai_boundaries controls in this report.
std::string AiBoundariesStatus(const Report& report) {
  std::vector<std::string> parts;
  for (const ControlResult& r : report.results) {
    if (r.control->check == governance::ControlCheck::kAiBoundaries) {
      parts.push_back(fmt::format("{}: {}", r.control->id, OutcomeName(r.outcome)));
    }
  }
  if (parts.empty()) return "no ai_boundaries control in this report";
  return fmt::format("{}", fmt::join(parts, "; "));
}

Section Summary(const Report& report, const ReportContext& ctx) {
  const governance::Governance& g = *ctx.governance;
  Section s{"Summary", {}};
  s.blocks.push_back(Bullets({
      fmt::format("Compliance framework: {}",
                  report.framework.empty() ? "every framework (" + FrameworkLine(report, g) + ")"
                                           : FrameworkLine(report, g)),
      "Organisation: " + g.organisation,
      "Evaluated at: " + FormatTimestamp(report.at),
      "Governance version: " + g.version,
      fmt::format("Controls: {} (pass {}, fail {}, waived {}, error {}, not applicable {})",
                  report.counts.Total(), report.counts.Of(Outcome::kPass),
                  report.counts.Of(Outcome::kFail), report.counts.Of(Outcome::kWaived),
                  report.counts.Of(Outcome::kError), report.counts.Of(Outcome::kNotApplicable)),
      std::string("Verdict: ") + (report.counts.Passed() ? "PASSED" : "FAILED"),
      "Generated by interlock " + ctx.version,
  }));
  return s;
}

Section Checkpoint(const ReportContext& ctx) {
  Section s{"Audit Checkpoint", {}};
  if (!ctx.audit) {
    s.blocks.push_back(Paragraph("The audit log was not read for this report."));
  } else if (ctx.audit->verified) {
    s.blocks.push_back(Paragraph(
        fmt::format("The audit log verified: {} records ({} pruned), root {} at size {}.",
                    ctx.audit->size, ctx.audit->pruned, ctx.audit->root, ctx.audit->size)));
  } else {
    s.blocks.push_back(
        Paragraph(fmt::format("The audit log did NOT verify: {} (root {} at size {}).",
                              ctx.audit->problem, ctx.audit->root, ctx.audit->size)));
  }
  if (ctx.checkpoint.empty()) {
    s.blocks.push_back(Paragraph("No signed checkpoint accompanies this report."));
  } else {
    s.blocks.push_back(Paragraph("The signed checkpoint this report was built from:"));
    s.blocks.push_back({Block::Kind::kVerbatim, {ctx.checkpoint}, {}});
  }
  return s;
}

Section Controls(const Report& report) {
  Table t{{"Control ID", "Requirement", "Status", "Reason", "Evidence", "Last Review", "Expires"},
          {}};
  for (const ControlResult& r : report.results) {
    t.rows.push_back({r.control->id, Requirements(*r.control, report.framework),
                      StatusOf(r.outcome), r.reason, fmt::format("{}", fmt::join(r.evidence, "; ")),
                      r.evidence_at ? FormatTimestamp(*r.evidence_at) : "",
                      r.expires_at ? FormatTimestamp(*r.expires_at) : ""});
  }
  return {"Control Requirements", {TableBlock(std::move(t))}};
}

Section AiAgents(const Report& report, const governance::Governance& g) {
  Section s{"AI Agent Compliance", {}};
  const std::string status = AiBoundariesStatus(report);
  s.blocks.push_back(Paragraph(
      "What an AI agent may do, as the risk tiers (risk/tiers.yaml) and the decision matrix "
      "(decision/matrix.yaml) of this governance say. Status: the ai_boundaries controls."));
  Table t{{"Scope", "AI Capability", "Mitigation", "Status"}, {}};
  for (const governance::RiskTier& tier : g.tiers) {
    t.rows.push_back({fmt::format("risk tier {}", kRiskLevelNames[static_cast<size_t>(tier.level)]),
                      AiMay(tier.outcome.ai_agent_role), Oversight(tier.outcome, g), status});
  }
  for (const governance::MatrixRow& row : g.matrix) {
    std::string scope =
        fmt::format("matrix row {}: change type {}; environment {}; bump {}", row.id,
                    Names(row.change_types, kChangeTypeNames),
                    Names(row.environments, kEnvironmentNames), Names(row.bumps, kBumpNames));
    if (row.risk)
      scope += fmt::format("; risk {}", kRiskLevelNames[static_cast<size_t>(*row.risk)]);
    t.rows.push_back({scope, AiMay(row.outcome.ai_agent_role), Oversight(row.outcome, g), status});
  }
  s.blocks.push_back(TableBlock(std::move(t)));

  std::vector<std::string> facts;
  for (const governance::Principal& p : g.principals) {
    if (p.type != ActorType::kAiAgent) continue;
    facts.push_back(fmt::format("AI agent principal {}: roles {}", p.id,
                                p.roles.any() ? g.RoleNames(p.roles) : "none"));
  }
  for (const governance::Workflow& w : g.workflows) {
    facts.push_back(fmt::format("Workflow {}: an AI agent {} recommend; approvers are humans", w.id,
                                w.ai_agent_can_recommend ? "may" : "may not"));
  }
  for (const governance::ComplianceFramework& f : g.compliance.frameworks) {
    if (!report.framework.empty() && f.id != report.framework) continue;
    for (const std::string& i : f.ai_agent_implications) facts.push_back(f.id + ": " + i);
  }
  if (!facts.empty()) s.blocks.push_back(Bullets(std::move(facts)));
  return s;
}

Section AuditTrail(const governance::Governance& g) {
  const governance::AuditPolicy& a = g.audit;
  std::vector<std::string> items = {
      "Every decision, approval, stop, rollback and attestation is an audit record; AI agent "
      "decisions are included",
  };
  for (size_t e = 0; e < kEnvironmentNames.size(); ++e) {
    items.push_back(fmt::format("Records of {} retained for {}", kEnvironmentNames[e],
                                FormatDuration(a.retention_by_environment[e])));
  }
  items.push_back("Security incidents retained for " +
                  FormatDuration(a.retention_security_incident));
  items.push_back("AI agent decisions retained for " +
                  FormatDuration(a.retention_ai_agent_decision));
  for (const governance::AuditAccess& access : a.access) {
    static constexpr std::array<std::string_view, 3> kScopes = {"own", "team", "all"};
    std::string line = fmt::format("Role {} reads {} records", g.roles[access.role].id,
                                   kScopes[static_cast<size_t>(access.scope)]);
    if (access.grant_duration.count() > 0) {
      line += " for " + FormatDuration(access.grant_duration) + " per grant";
    }
    items.push_back(line);
  }
  return {"Audit Trail", {Bullets(std::move(items))}};
}

Section Schedule(const Report& report, const ReportContext& ctx) {
  Section s{"Review Schedule", {}};
  Table policies{{"Policy", "Owner", "Next review"}, {}};
  for (const PolicyFact& p : ctx.policies) {
    policies.rows.push_back({p.file, p.owner.empty() ? "(none named)" : p.owner,
                             p.next_review ? Day(*p.next_review) : "unreadable: " + p.problem});
  }
  if (policies.rows.empty()) {
    s.blocks.push_back(Paragraph("No policy document (policies/*.md) was read."));
  } else {
    s.blocks.push_back(TableBlock(std::move(policies)));
  }
  Table recurring{{"Control", "What", "Every", "Last evidence", "Next due"}, {}};
  for (const ControlResult& r : report.results) {
    const governance::Control& c = *r.control;
    const bool drill = c.check == governance::ControlCheck::kDrill;
    if (!drill && c.check != governance::ControlCheck::kAttested) continue;
    if (c.within.count() == 0 && !drill) continue;
    std::string next = "now";
    if (r.evidence_at && c.within.count() > 0) next = Day(*r.evidence_at + c.within.count());
    if (r.expires_at && (!r.evidence_at || c.within.count() == 0)) next = Day(*r.expires_at);
    recurring.rows.push_back({c.id, drill ? "drill " + c.drill : "attested evidence",
                              c.within.count() > 0 ? FormatDuration(c.within) : "once",
                              r.evidence_at ? Day(*r.evidence_at) : "never", next});
  }
  if (!recurring.rows.empty()) s.blocks.push_back(TableBlock(std::move(recurring)));
  return s;
}

Section SignOff(const governance::Governance& g) {
  std::vector<std::string> items;
  for (const std::string& role : g.RoleIds(g.compliance.attesters)) {
    items.push_back(role + ": signature ……………… date …………");
  }
  if (items.empty()) items.push_back("signature ……………… date …………");
  return {"Sign-Off", {Bullets(std::move(items))}};
}

Document Build(const Report& report, const ReportContext& ctx) {
  const governance::Governance& g = *ctx.governance;
  Document d;
  d.title =
      "Compliance Report: " + (report.framework.empty() ? "every framework" : report.framework);
  d.sections.push_back(Summary(report, ctx));
  d.sections.push_back(Checkpoint(ctx));
  d.sections.push_back(Controls(report));
  d.sections.push_back(AiAgents(report, g));
  d.sections.push_back(AuditTrail(g));
  d.sections.push_back(Schedule(report, ctx));
  d.sections.push_back(SignOff(g));
  return d;
}

// A code fence longer than any run of backticks in `text`.
std::string FenceFor(std::string_view text) {
  size_t longest = 0, run = 0;
  for (char ch : text) {
    run = ch == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return std::string(std::max<size_t>(3, longest + 1), '`');
}

}  // namespace

std::string ReportMarkdown(const Report& report, const ReportContext& context) {
  const Document d = Build(report, context);
  std::string out = "# " + MarkdownCell(d.title) + "\n";
  for (const Section& s : d.sections) {
    out += "\n## " + MarkdownCell(s.heading) + "\n";
    for (const Block& b : s.blocks) {
      out += "\n";
      switch (b.kind) {
        case Block::Kind::kParagraph:
          out += MarkdownCell(b.lines.front()) + "\n";
          break;
        case Block::Kind::kBullets:
          for (const std::string& line : b.lines) out += "- " + MarkdownCell(line) + "\n";
          break;
        case Block::Kind::kVerbatim: {
          const std::string text = ValidUtf8(b.lines.front());
          const std::string fence = FenceFor(text);
          out +=
              fmt::format("{}text\n{}{}{}\n", fence, text, text.ends_with('\n') ? "" : "\n", fence);
          break;
        }
        case Block::Kind::kTable: {
          std::string rule = "|";
          out += "|";
          for (const std::string& h : b.table.header) {
            out += fmt::format(" {} |", MarkdownCell(h));
            rule += "---|";
          }
          out += "\n" + rule + "\n";
          for (const auto& row : b.table.rows) {
            out += "|";
            for (const std::string& cell : row) out += fmt::format(" {} |", MarkdownCell(cell));
            out += "\n";
          }
          break;
        }
      }
    }
  }
  return out;
}

std::string ReportHtml(const Report& report, const ReportContext& context) {
  const Document d = Build(report, context);
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
      XmlEscape(d.title) +
      "</title>\n<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
      "th,td{border:1px solid #999;padding:4px 8px;text-align:left;vertical-align:top}"
      "td{overflow-wrap:anywhere;min-width:6em}"
      "pre{background:#f4f4f4;padding:8px}</style>\n</head>\n<body>\n<h1>" +
      XmlEscape(d.title) + "</h1>\n";
  for (const Section& s : d.sections) {
    out += "<h2>" + XmlEscape(s.heading) + "</h2>\n";
    for (const Block& b : s.blocks) {
      switch (b.kind) {
        case Block::Kind::kParagraph:
          out += "<p>" + XmlEscape(b.lines.front()) + "</p>\n";
          break;
        case Block::Kind::kBullets:
          out += "<ul>\n";
          for (const std::string& line : b.lines) out += "<li>" + XmlEscape(line) + "</li>\n";
          out += "</ul>\n";
          break;
        case Block::Kind::kVerbatim: {
          // Newlines stay newlines inside <pre>; everything else is escaped.
          std::string text;
          std::string_view rest = b.lines.front();
          for (size_t nl = rest.find('\n'); nl != std::string_view::npos; nl = rest.find('\n')) {
            text += XmlEscape(rest.substr(0, nl)) + "\n";
            rest.remove_prefix(nl + 1);
          }
          text += XmlEscape(rest);
          out += "<pre>" + text + "</pre>\n";
          break;
        }
        case Block::Kind::kTable:
          out += "<table>\n<thead><tr>";
          for (const std::string& h : b.table.header) out += "<th>" + XmlEscape(h) + "</th>";
          out += "</tr></thead>\n<tbody>\n";
          for (const auto& row : b.table.rows) {
            out += "<tr>";
            for (const std::string& cell : row) out += "<td>" + XmlEscape(cell) + "</td>";
            out += "</tr>\n";
          }
          out += "</tbody>\n</table>\n";
          break;
      }
    }
  }
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace interlock::compliance
