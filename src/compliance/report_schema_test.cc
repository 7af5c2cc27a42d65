// The SARIF, OCSF and OSCAL reports checked against the rules of their
// published specifications, written out here (no schema is fetched):
// SARIF 2.1.0 (OASIS, sections 3.13-3.35: required members, the kind and
// level enumerations and their coupling, rule indexes, suppressions), OCSF
// 1.3.0 Compliance Finding (class 2003: the base event's required
// attributes, the type_uid rule, the severity, status and compliance status
// enumerations and their captions) and OSCAL 1.1.2 assessment-results and
// plan-of-action-and-milestones (required members, the uuid, date-time,
// token, string and markup-line patterns of the JSON schema, non-empty
// arrays, the allowed values of methods, target types and states).
// tests/schemas/ validates the SARIF output against the official JSON
// schema as well.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include "compliance/reports.h"

namespace interlock::compliance {
namespace {

using nlohmann::json;

// Problems found, each "path: what".
using Problems = std::vector<std::string>;

bool Has(const json& j, const char* key) { return j.is_object() && j.contains(key); }

void Require(const json& j, const std::string& path, std::initializer_list<const char*> keys,
             Problems& p) {
  if (!j.is_object()) {
    p.push_back(path + ": not an object");
    return;
  }
  for (const char* k : keys) {
    if (!j.contains(k)) p.push_back(path + ": missing " + k);
  }
}

void Match(const json& j, const std::string& path, const RE2& re, const char* what, Problems& p) {
  if (!j.is_string() || !RE2::FullMatch(j.get<std::string>(), re)) {
    p.push_back(path + ": not " + std::string(what) + ": " + j.dump());
  }
}

void OneOf(const json& j, const std::string& path, const json& allowed, Problems& p) {
  if (std::find(allowed.begin(), allowed.end(), j) == allowed.end()) {
    p.push_back(path + ": " + j.dump() + " is not one of " + allowed.dump());
  }
}

// ---- OSCAL 1.1.2 ----

const RE2 kUuid(
    "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[45][0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}$");
const RE2 kDateTime(
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$");
const RE2 kToken("^[A-Za-z_][A-Za-z0-9._-]*$");
const RE2 kString("^\\S(.*\\S)?$");
const RE2 kMarkupLine("^[^\\n]+$");
const RE2 kUri("^[a-zA-Z][a-zA-Z0-9+.-]+:.+$");

// The rules that hold wherever a member appears.
void OscalEverywhere(const json& j, const std::string& path, Problems& p) {
  if (j.is_array()) {
    if (j.empty()) p.push_back(path + ": empty array (OSCAL arrays have minItems 1)");
    for (size_t i = 0; i < j.size(); ++i) OscalEverywhere(j[i], path + "/" + std::to_string(i), p);
    return;
  }
  if (!j.is_object()) return;
  for (const auto& [key, value] : j.items()) {
    const std::string at = path + "/" + key;
    if (key == "uuid" || key == "observation-uuid") Match(value, at, kUuid, "a v4/v5 uuid", p);
    if (key == "last-modified" || key == "collected" || key == "expires" || key == "start" ||
        key == "end") {
      Match(value, at, kDateTime, "a date-time with time zone", p);
    }
    if (key == "control-id" || key == "target-id" || key == "state" || key == "reason") {
      Match(value, at, kToken, "a token", p);
    }
    if (key == "title") Match(value, at, kMarkupLine, "markup-line", p);
    if (key == "ns" || key == "identifier-type") Match(value, at, kUri, "a URI", p);
    if (key == "props") {
      for (size_t i = 0; i < value.size(); ++i) {
        const std::string pp = at + "/" + std::to_string(i);
        Require(value[i], pp, {"name", "value"}, p);
        if (Has(value[i], "name")) Match(value[i]["name"], pp + "/name", kToken, "a token", p);
        if (Has(value[i], "value")) Match(value[i]["value"], pp + "/value", kString, "a string", p);
      }
    }
    OscalEverywhere(value, at, p);
  }
}

void OscalMetadata(const json& m, const std::string& path, Problems& p) {
  Require(m, path, {"title", "last-modified", "version", "oscal-version"}, p);
  if (Has(m, "version")) Match(m["version"], path + "/version", kString, "a string", p);
  if (Has(m, "oscal-version")) {
    Match(m["oscal-version"], path + "/oscal-version", RE2("^1\\.1\\.[0-9]+$"), "1.1.x", p);
  }
}

void OscalObservation(const json& o, const std::string& path, Problems& p) {
  Require(o, path, {"uuid", "description", "methods", "collected"}, p);
  if (Has(o, "methods")) {
    for (const json& m : o["methods"]) {
      OneOf(m, path + "/methods", {"EXAMINE", "INTERVIEW", "TEST", "UNKNOWN"}, p);
    }
  }
  if (Has(o, "relevant-evidence")) {
    for (const json& e : o["relevant-evidence"])
      Require(e, path + "/relevant-evidence", {"description"}, p);
  }
}

Problems ValidateOscalResults(const json& doc) {
  Problems p;
  Require(doc, "", {"assessment-results"}, p);
  if (!p.empty()) return p;
  const json& ar = doc["assessment-results"];
  Require(ar, "/assessment-results", {"uuid", "metadata", "import-ap", "results"}, p);
  if (Has(ar, "metadata")) OscalMetadata(ar["metadata"], "/assessment-results/metadata", p);
  if (Has(ar, "import-ap")) Require(ar["import-ap"], "/assessment-results/import-ap", {"href"}, p);
  for (const json& r : ar.value("results", json::array())) {
    const std::string rp = "/assessment-results/results";
    Require(r, rp, {"uuid", "title", "description", "start", "reviewed-controls"}, p);
    if (Has(r, "reviewed-controls")) {
      Require(r["reviewed-controls"], rp + "/reviewed-controls", {"control-selections"}, p);
    }
    for (const json& o : r.value("observations", json::array())) {
      OscalObservation(o, rp + "/observations", p);
    }
    for (const json& f : r.value("findings", json::array())) {
      Require(f, rp + "/findings", {"uuid", "title", "description", "target"}, p);
      if (!Has(f, "target")) continue;
      Require(f["target"], rp + "/findings/target", {"type", "target-id", "status"}, p);
      if (Has(f["target"], "type")) {
        OneOf(f["target"]["type"], rp + "/findings/target/type", {"statement-id", "objective-id"},
              p);
      }
      if (Has(f["target"], "status")) {
        Require(f["target"]["status"], rp + "/findings/target/status", {"state"}, p);
        OneOf(f["target"]["status"].value("state", json()), rp + "/findings/target/status/state",
              {"satisfied", "not-satisfied"}, p);
        if (Has(f["target"]["status"], "reason")) {
          OneOf(f["target"]["status"]["reason"], rp + "/findings/target/status/reason",
                {"pass", "fail", "other"}, p);
        }
      }
    }
  }
  OscalEverywhere(doc, "", p);
  return p;
}

Problems ValidatePoam(const json& doc) {
  Problems p;
  Require(doc, "", {"plan-of-action-and-milestones"}, p);
  if (!p.empty()) return p;
  const json& pm = doc["plan-of-action-and-milestones"];
  const std::string path = "/plan-of-action-and-milestones";
  Require(pm, path, {"uuid", "metadata", "poam-items"}, p);
  if (Has(pm, "metadata")) OscalMetadata(pm["metadata"], path + "/metadata", p);
  if (Has(pm, "system-id")) {
    Require(pm["system-id"], path + "/system-id", {"id"}, p);
    Match(pm["system-id"].value("id", json()), path + "/system-id/id", kString, "a string", p);
  }
  for (const json& o : pm.value("observations", json::array())) {
    OscalObservation(o, path + "/observations", p);
  }
  for (const json& item : pm.value("poam-items", json::array())) {
    Require(item, path + "/poam-items", {"title", "description"}, p);
  }
  OscalEverywhere(doc, "", p);
  return p;
}

// ---- OCSF 1.3.0 Compliance Finding ----

Problems ValidateOcsf(const json& e) {
  Problems p;
  Require(e, "",
          {"activity_id", "category_uid", "class_uid", "type_uid", "severity_id", "time",
           "metadata", "finding_info", "compliance"},
          p);
  if (!p.empty()) return p;
  OneOf(e["activity_id"], "/activity_id", {0, 1, 2, 3, 99}, p);
  OneOf(e["category_uid"], "/category_uid", {2}, p);
  OneOf(e["class_uid"], "/class_uid", {2003}, p);
  if (e["type_uid"] != e["class_uid"].get<int>() * 100 + e["activity_id"].get<int>()) {
    p.push_back("/type_uid: not class_uid * 100 + activity_id");
  }
  const json severities = {{"0", "Unknown"}, {"1", "Informational"}, {"2", "Low"},
                           {"3", "Medium"},  {"4", "High"},          {"5", "Critical"},
                           {"6", "Fatal"},   {"99", "Other"}};
  const std::string sev = e["severity_id"].dump();
  if (!severities.contains(sev)) {
    p.push_back("/severity_id: " + sev + " is not an OCSF severity");
  } else if (Has(e, "severity") && e["severity"] != severities[sev]) {
    p.push_back("/severity: not the caption of severity_id");
  }
  if (!e["time"].is_number_integer() || e["time"].get<int64_t>() <= 0) {
    p.push_back("/time: not a timestamp in milliseconds");
  }
  const json statuses = {{"0", "Unknown"},    {"1", "New"},      {"2", "In Progress"},
                         {"3", "Suppressed"}, {"4", "Resolved"}, {"99", "Other"}};
  if (Has(e, "status_id")) {
    const std::string st = e["status_id"].dump();
    if (!statuses.contains(st)) {
      p.push_back("/status_id: " + st + " is not a finding status");
    } else if (Has(e, "status") && e["status"] != statuses[st]) {
      p.push_back("/status: not the caption of status_id");
    }
  }
  Require(e["metadata"], "/metadata", {"version", "product"}, p);
  if (Has(e["metadata"], "product")) {
    Require(e["metadata"]["product"], "/metadata/product", {"name", "vendor_name"}, p);
  }
  Require(e["finding_info"], "/finding_info", {"uid", "title"}, p);
  if (!e["finding_info"].value("uid", json()).is_string() ||
      e["finding_info"]["uid"].get<std::string>().empty()) {
    p.push_back("/finding_info/uid: not a non-empty string");
  }
  const json& c = e["compliance"];
  Require(c, "/compliance", {"standards", "control", "status_id"}, p);
  if (!c.value("standards", json()).is_array() || c["standards"].empty()) {
    p.push_back("/compliance/standards: not a non-empty array");
  }
  for (const char* list : {"standards", "requirements"}) {
    for (const json& s : c.value(list, json::array())) {
      if (!s.is_string()) p.push_back(std::string("/compliance/") + list + ": not strings");
    }
  }
  const json compliance_statuses = {
      {"0", "Unknown"}, {"1", "Pass"}, {"2", "Warning"}, {"3", "Fail"}, {"99", "Other"}};
  const std::string cs = c.value("status_id", json()).dump();
  if (!compliance_statuses.contains(cs)) {
    p.push_back("/compliance/status_id: " + cs + " is not a compliance status");
  } else if (cs != "99" && Has(c, "status") && c["status"] != compliance_statuses[cs]) {
    p.push_back("/compliance/status: not the caption of status_id");
  }
  return p;
}

// ---- SARIF 2.1.0 ----

Problems ValidateSarif(const json& s) {
  Problems p;
  Require(s, "", {"version", "runs"}, p);
  if (!p.empty()) return p;
  OneOf(s["version"], "/version", {"2.1.0"}, p);
  for (const json& run : s["runs"]) {
    Require(run, "/runs", {"tool"}, p);
    Require(run["tool"], "/runs/tool", {"driver"}, p);
    Require(run["tool"]["driver"], "/runs/tool/driver", {"name"}, p);
    const json rules = run["tool"]["driver"].value("rules", json::array());
    for (const json& rule : rules) {
      Require(rule, "/rules", {"id"}, p);
      const json tags = rule.value("properties", json::object()).value("tags", json::array());
      for (size_t i = 0; i < tags.size(); ++i) {
        if (!tags[i].is_string()) p.push_back("/rules/properties/tags: not strings");
        for (size_t k = 0; k < i; ++k) {
          if (tags[k] == tags[i]) p.push_back("/rules/properties/tags: not unique");
        }
      }
    }
    for (const json& r : run.value("results", json::array())) {
      Require(r, "/results", {"message"}, p);
      Require(r.value("message", json::object()), "/results/message", {"text"}, p);
      const json kind = r.value("kind", json("fail"));
      OneOf(kind, "/results/kind",
            {"notApplicable", "pass", "fail", "review", "open", "informational"}, p);
      const json level = r.value("level", json(kind == "fail" ? "warning" : "none"));
      OneOf(level, "/results/level", {"none", "note", "warning", "error"}, p);
      if (kind != "fail" && level != "none")
        p.push_back("/results: level must be none unless kind is fail");
      if (Has(r, "ruleIndex")) {
        const size_t i = r["ruleIndex"].get<size_t>();
        if (i >= rules.size() || rules[i]["id"] != r.value("ruleId", json())) {
          p.push_back("/results/ruleIndex: not the rule of ruleId");
        }
      }
      for (const json& sup : r.value("suppressions", json::array())) {
        Require(sup, "/results/suppressions", {"kind"}, p);
        OneOf(sup.value("kind", json()), "/results/suppressions/kind", {"inSource", "external"}, p);
      }
      for (const json& loc : r.value("locations", json::array())) {
        if (Has(loc, "physicalLocation") && Has(loc["physicalLocation"], "region") &&
            loc["physicalLocation"]["region"].value("startLine", 0) < 1) {
          p.push_back("/results/locations/region/startLine: below 1");
        }
      }
    }
  }
  return p;
}

// ---- The reports under test ----

constexpr UnixMillis kAt = 1'796'083'200'000;

// Controls with every outcome, and ids, descriptions and reasons no format
// can carry as they are.
struct Fixture {
  governance::Governance g;
  Report report;
  ReportContext context;

  Fixture() {
    g.organisation = "  Example\nCo  ";
    g.version = "sha256:abc";
    g.compliance.frameworks = {{"SOC2", "SOC2", "", {}, {}, {}}};
    const std::vector<std::pair<std::string, Outcome>> controls = {
        {"audit-trail", Outcome::kPass},       {"9 starts with a digit", Outcome::kFail},
        {"has\nnewline", Outcome::kError},     {"waived-one", Outcome::kWaived},
        {"n/a \xFF", Outcome::kNotApplicable}, {"no-maps", Outcome::kFail}};
    for (const auto& [id, outcome] : controls) {
      governance::Control c;
      c.id = id;
      c.description = " padded description \n";
      c.check = outcome == Outcome::kWaived ? governance::ControlCheck::kAttested
                                            : governance::ControlCheck::kAuditVerifies;
      if (id != "no-maps") c.maps = {"SOC2:CC7.2", "SOC2:CC7.2", "SOC2: spaced "};
      c.origin = {"compliance/controls.yml",
                  {static_cast<int>(g.compliance.controls.size()) + 1, 1}};
      g.compliance.controls.push_back(std::move(c));
    }
    report.at = kAt;
    for (size_t i = 0; i < controls.size(); ++i) {
      ControlResult r;
      r.control = &g.compliance.controls[i];
      r.outcome = controls[i].second;
      r.reason = i == 1 ? "" : "why <" + std::to_string(i) + ">\n\xC0";
      r.evidence = {"", " e "};
      if (i == 0) r.evidence_at = kAt - 5;
      if (i == 3) r.expires_at = kAt + 5;
      report.results.push_back(std::move(r));
      report.counts.Add(controls[i].second);
    }
    context.governance = &g;
    context.version = "0.1.0";
    context.audit = AuditFacts{true, "", 7, 0, "ff00", std::nullopt};
    context.checkpoint = "origin\n7\nroot\n";
  }
};

json Parse(const nlohmann::ordered_json& j) {
  return json::parse(j.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string Join(const Problems& p) {
  std::string out;
  for (const std::string& s : p) out += s + "\n";
  return out;
}

TEST(ReportSchemaTest, OscalAssessmentResultsFollowTheModel) {
  Fixture f;
  const json doc = Parse(ReportOscal(f.report, f.context));
  EXPECT_EQ(Join(ValidateOscalResults(doc)), "");
  const json& result = doc["assessment-results"]["results"][0];
  EXPECT_EQ(result["observations"].size(), 6u);
  EXPECT_EQ(result["findings"][1]["target"]["target-id"], "_9_starts_with_a_digit");
  EXPECT_EQ(result["findings"][0]["target"]["status"]["state"], "satisfied");
  EXPECT_EQ(result["findings"][3]["target"]["status"]["state"], "not-satisfied");
  EXPECT_EQ(result["findings"][3]["target"]["status"]["reason"], "fail");
  EXPECT_EQ(result["findings"][2]["target"]["status"]["reason"], "other");
}

TEST(ReportSchemaTest, OscalWithoutControlsSelectsAll) {
  Fixture f;
  f.report.results.clear();
  const json doc = Parse(ReportOscal(f.report, f.context));
  EXPECT_EQ(Join(ValidateOscalResults(doc)), "");
  EXPECT_TRUE(doc["assessment-results"]["results"][0]["reviewed-controls"]["control-selections"][0]
                  .contains("include-all"));
}

TEST(ReportSchemaTest, PoamFollowsTheModel) {
  Fixture f;
  auto poam = ReportPoam(f.report, f.context);
  ASSERT_TRUE(poam);
  const json doc = Parse(*poam);
  EXPECT_EQ(Join(ValidatePoam(doc)), "");
  EXPECT_EQ(doc["plan-of-action-and-milestones"]["poam-items"].size(), 4u);
  EXPECT_EQ(doc["plan-of-action-and-milestones"]["system-id"]["id"], "Example Co");
}

TEST(ReportSchemaTest, OcsfComplianceFindingsFollowTheSchema) {
  Fixture f;
  const std::string lines = ReportOcsf(f.report, f.context);
  std::vector<json> events;
  size_t start = 0;
  for (size_t nl = lines.find('\n'); nl != std::string::npos; nl = lines.find('\n', start)) {
    events.push_back(json::parse(lines.substr(start, nl - start)));
    start = nl + 1;
  }
  EXPECT_EQ(start, lines.size());
  ASSERT_EQ(events.size(), 6u);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(Join(ValidateOcsf(events[i])), "") << i;
  }
  const std::vector<int> compliance_status = {1, 3, 2, 3, 99, 3};
  const std::vector<int> status = {1, 1, 1, 3, 1, 1};
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i]["compliance"]["status_id"], compliance_status[i]) << i;
    EXPECT_EQ(events[i]["status_id"], status[i]) << i;
  }
  EXPECT_EQ(events[5]["compliance"]["standards"], json::array({"Interlock control catalogue"}));
  EXPECT_EQ(events[4]["compliance"]["control"], "n/a \xEF\xBF\xBD");
}

TEST(ReportSchemaTest, SarifFollowsTheSpecification) {
  Fixture f;
  const json doc = Parse(ReportSarif(f.report, f.context));
  EXPECT_EQ(Join(ValidateSarif(doc)), "");
}

// The checks themselves catch what they are for.
TEST(ReportSchemaTest, ValidatorsRejectBrokenDocuments) {
  Fixture f;
  json oscal = Parse(ReportOscal(f.report, f.context));
  oscal["assessment-results"]["uuid"] = "not-a-uuid";
  oscal["assessment-results"]["results"][0]["observations"][0]["methods"] = json::array({"LOOK"});
  oscal["assessment-results"]["results"][0]["findings"][0]["title"] = "two\nlines";
  oscal["assessment-results"]["results"][0]["findings"][0]["props"] = json::array();
  EXPECT_EQ(ValidateOscalResults(oscal).size(), 4u) << Join(ValidateOscalResults(oscal));

  json ocsf = json::parse(
      ReportOcsf(f.report, f.context).substr(0, ReportOcsf(f.report, f.context).find('\n')));
  ocsf["type_uid"] = 200399;
  ocsf["compliance"].erase("standards");
  EXPECT_EQ(ValidateOcsf(ocsf).size(), 3u) << Join(ValidateOcsf(ocsf));

  json sarif = Parse(ReportSarif(f.report, f.context));
  sarif["runs"][0]["results"][0]["level"] = "error";  // kind pass
  sarif["runs"][0]["results"][1]["ruleIndex"] = 0;
  EXPECT_EQ(ValidateSarif(sarif).size(), 2u) << Join(ValidateSarif(sarif));
}

}  // namespace
}  // namespace interlock::compliance
