#include "compliance/openapi_diff.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace interlock::compliance {
namespace {

// An OpenAPI 3.0 YAML document with `paths` and `components` (both written
// as YAML indented by two spaces).
std::string Yaml(std::string_view paths, std::string_view components = "") {
  std::string out = "openapi: 3.0.3\ninfo:\n  title: Items\n  version: 1.0.0\npaths:\n";
  out += paths;
  if (!components.empty()) {
    out += "components:\n";
    out += components;
  }
  return out;
}

// GET /v1/items/{id} answering 200 with an Item {id, name}.
constexpr std::string_view kItemPaths = R"(  /v1/items/{id}:
    get:
      summary: Read an item
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: The item
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Item"}
        "404":
          description: No such item
)";
constexpr std::string_view kItemSchema = R"(  schemas:
    Item:
      type: object
      required: [id]
      properties:
        id: {type: string}
        name: {type: string}
)";

// POST /v1/items taking a NewItem body.
std::string PostPaths(std::string_view body_schema, std::string_view parameters = "") {
  return fmt::format(R"(  /v1/items:
    post:
{}      requestBody:
        required: true
        content:
          application/json:
            schema:
{}      responses:
        "201": {{description: Created}}
)",
                     parameters, body_schema);
}

struct Row {
  std::string name;
  std::string before;
  std::string after;
  ChangeClass verdict;
  // "class kind location", one per finding, in order.
  std::vector<std::string> findings;
};

std::vector<std::string> Lines(const ContractDiff& diff) {
  std::vector<std::string> out;
  for (const ContractFinding& f : diff.findings) {
    out.push_back(fmt::format("{} {} {}", Name(f.change_class), Name(f.kind), f.location));
  }
  return out;
}

constexpr std::string_view kGet = "paths./v1/items/{id}.get";
constexpr std::string_view kPost = "paths./v1/items.post";

std::vector<Row> Rows() {
  const std::string item = Yaml(kItemPaths, kItemSchema);
  auto replace = [](std::string text, std::string_view from, std::string_view to) {
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
  };
  const std::string body = R"(              type: object
              required: [name]
              properties:
                name: {type: string}
                size: {type: integer}
                color: {type: string, enum: [red, green, blue]}
)";
  const std::string post = Yaml(PostPaths(body));
  const std::string json_item = R"({"openapi": "3.1.0", "info": {"title": "Items", "version": "1"},
  "paths": {"/v1/items/{id}": {"get": {"summary": "Read an item",
    "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
    "responses": {"200": {"description": "The item", "content": {"application/json": {"schema":
      {"$ref": "#/components/schemas/Item"}}}}, "404": {"description": "No such item"}}}}},
  "components": {"schemas": {"Item": {"type": "object", "required": ["id"],
    "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}}}})";
  const std::string item_200 = std::string(kGet) + ".responses.200.content.application/json.schema";
  const std::string body_at = std::string(kPost) + ".requestBody.content.application/json.schema";
  return {
      {"Identical", item, item, ChangeClass::kNonBreaking, {}},
      {"PathRemoved",
       item,
       Yaml("  /v1/other:\n    get:\n      responses: {\"200\": {description: ok}}\n", kItemSchema),
       ChangeClass::kBreaking,
       {"breaking path_removed paths./v1/items/{id}", "additive path_added paths./v1/other"}},
      {"OperationRemoved",
       replace(item, "    get:\n",
               "    delete:\n      responses: {\"204\": {description: gone}}\n"
               "    get:\n"),
       item,
       ChangeClass::kBreaking,
       {"breaking operation_removed paths./v1/items/{id}.delete"}},
      {"PathAndOperationAdded",
       item,
       replace(Yaml(std::string(kItemPaths) +
                        "  /v1/health:\n    get:\n      responses: {\"200\": {description: ok}}\n",
                    kItemSchema),
               "    get:\n",
               "    delete:\n      responses: {\"204\": {description: gone}}\n"
               "    get:\n"),
       ChangeClass::kAdditive,
       {"additive operation_added paths./v1/items/{id}.delete",
        "additive path_added paths./v1/health"}},
      {"TemplateParameterRenamedIsTheSamePath",
       item,
       replace(replace(item, "/v1/items/{id}:", "/v1/items/{itemId}:"), "{name: id,",
               "{name: itemId,"),
       ChangeClass::kBreaking,
       {"breaking parameter_removed " + std::string(kGet) + ".parameters.path.id",
        "breaking parameter_required " + std::string(kGet) + ".parameters.path.itemId"}},
      {"ResponseFieldRemoved",
       item,
       replace(item, "        name: {type: string}\n", ""),
       ChangeClass::kBreaking,
       {"breaking response_field_removed " + item_200 + ".properties.name"}},
      {"ResponseFieldAdded",
       item,
       item + "        size: {type: integer}\n",
       ChangeClass::kAdditive,
       {"additive response_field_added " + item_200 + ".properties.size"}},
      {"ResponseFieldNoLongerRequired",
       item,
       replace(item, "required: [id]", "required: []"),
       ChangeClass::kBreaking,
       {"breaking response_field_optional " + item_200 + ".properties.id"}},
      {"ResponseTypeChanged",
       item,
       replace(item, "name: {type: string}", "name: {type: integer}"),
       ChangeClass::kBreaking,
       {"non_breaking type_narrowed " + item_200 + ".properties.name",
        "breaking type_widened " + item_200 + ".properties.name"}},
      {"StatusCodeRemoved",
       item,
       replace(item, "        \"404\":\n          description: No such item\n", ""),
       ChangeClass::kBreaking,
       {"breaking response_status_removed " + std::string(kGet) + ".responses.404"}},
      {"StatusCodeReplaced",
       item,
       replace(item, "\"404\":", "\"410\":"),
       ChangeClass::kBreaking,
       {"breaking response_status_removed " + std::string(kGet) + ".responses.404",
        "additive response_status_added " + std::string(kGet) + ".responses.410"}},
      {"NewRequiredRequestField",
       post,
       Yaml(PostPaths(replace(body, "required: [name]", "required: [name, size]"))),
       ChangeClass::kBreaking,
       {"breaking request_field_required " + body_at + ".properties.size"}},
      {"NewRequestFieldAddedAsRequired",
       post,
       Yaml(PostPaths(replace(body, "required: [name]", "required: [name, owner]") +
                      "                owner: {type: string}\n")),
       ChangeClass::kBreaking,
       {"breaking request_field_required " + body_at + ".properties.owner"}},
      {"NewOptionalRequestField",
       post,
       Yaml(PostPaths(body + "                owner: {type: string}\n")),
       ChangeClass::kAdditive,
       {"additive request_field_added " + body_at + ".properties.owner"}},
      {"RequestFieldMadeOptional",
       post,
       Yaml(PostPaths(replace(body, "required: [name]", "required: []"))),
       ChangeClass::kAdditive,
       {"additive request_field_optional " + body_at + ".properties.name"}},
      {"RequestTypeNarrowedStringToInteger",
       post,
       Yaml(PostPaths(replace(body, "name: {type: string}", "name: {type: integer}"))),
       ChangeClass::kBreaking,
       {"breaking type_narrowed " + body_at + ".properties.name",
        "additive type_widened " + body_at + ".properties.name"}},
      {"RequestTypeNarrowedNumberToInteger",
       Yaml(PostPaths(replace(body, "size: {type: integer}", "size: {type: number}"))),
       post,
       ChangeClass::kBreaking,
       {"breaking type_narrowed " + body_at + ".properties.size"}},
      {"RequestTypeWidenedIntegerToNumber",
       post,
       Yaml(PostPaths(replace(body, "size: {type: integer}", "size: {type: number}"))),
       ChangeClass::kAdditive,
       {"additive type_widened " + body_at + ".properties.size"}},
      {"TypeRemovedFromAList",
       Yaml(PostPaths(replace(body, "size: {type: integer}", "size: {type: [integer, string]}"))),
       post,
       ChangeClass::kBreaking,
       {"breaking type_narrowed " + body_at + ".properties.size"}},
      {"RequestEnumNarrowed",
       post,
       Yaml(PostPaths(replace(body, "[red, green, blue]", "[red, green]"))),
       ChangeClass::kBreaking,
       {"breaking enum_narrowed " + body_at + ".properties.color.enum"}},
      {"EnumValueAdded",
       post,
       Yaml(PostPaths(replace(body, "[red, green, blue]", "[red, green, blue, black]"))),
       ChangeClass::kAdditive,
       {"additive enum_widened " + body_at + ".properties.color.enum"}},
      {"RequestConstraintTightened",
       post,
       Yaml(
           PostPaths(replace(body, "name: {type: string}", "name: {type: string, maxLength: 20}"))),
       ChangeClass::kBreaking,
       {"breaking constraint_narrowed " + body_at + ".properties.name.maxLength"}},
      {"NewRequiredParameter",
       post,
       Yaml(PostPaths(body,
                      "      parameters:\n        - {name: X-Tenant, in: header, required: "
                      "true, schema: {type: string}}\n")),
       ChangeClass::kBreaking,
       {"breaking parameter_required " + std::string(kPost) + ".parameters.header.x-tenant"}},
      {"OptionalParameterMadeRequired",
       Yaml(PostPaths(body,
                      "      parameters:\n        - {name: dry_run, in: query, schema: "
                      "{type: boolean}}\n")),
       Yaml(PostPaths(body,
                      "      parameters:\n        - {name: dry_run, in: query, required: "
                      "true, schema: {type: boolean}}\n")),
       ChangeClass::kBreaking,
       {"breaking parameter_required " + std::string(kPost) + ".parameters.query.dry_run"}},
      {"NewOptionalParameter",
       post,
       Yaml(PostPaths(body,
                      "      parameters:\n        - {name: dry_run, in: query, schema: "
                      "{type: boolean}}\n")),
       ChangeClass::kAdditive,
       {"additive parameter_added " + std::string(kPost) + ".parameters.query.dry_run"}},
      {"DescriptionsSummariesAndExamples",
       item,
       replace(replace(replace(item, "summary: Read an item", "summary: Read one item"),
                       "description: The item", "description: The item asked for"),
               "name: {type: string}", "name: {type: string, example: Lamp}"),
       ChangeClass::kNonBreaking,
       {"non_breaking documentation_changed " + std::string(kGet) + ".summary",
        "non_breaking documentation_changed " + std::string(kGet) + ".responses.200.description",
        "non_breaking documentation_changed " + item_200 + ".properties.name.example"}},
      {"UnanalysedKeywordCountsAsBreaking",
       item,
       replace(item, "name: {type: string}", "name: {type: string, readOnly: true}"),
       ChangeClass::kBreaking,
       {"breaking unanalysed_change " + item_200 + ".properties.name.readOnly"}},
      {"JsonAgainstYamlOfTheSameApi",
       json_item,
       replace(item, "openapi: 3.0.3", "openapi: 3.1.0"),
       ChangeClass::kNonBreaking,
       {}},
      {"JsonInputs",
       json_item,
       replace(json_item, R"("name": {"type": "string"})", R"("name": {"type": "integer"})"),
       ChangeClass::kBreaking,
       {"non_breaking type_narrowed " + item_200 + ".properties.name",
        "breaking type_widened " + item_200 + ".properties.name"}},
      {"RecursiveSchemaThroughRefs",
       Yaml(kItemPaths, std::string(kItemSchema) + "        children: {type: array, items: {$ref: "
                                                   "'#/components/schemas/Item'}}\n"),
       Yaml(kItemPaths, std::string(kItemSchema) +
                            "        children: {type: array, items: {$ref: "
                            "'#/components/schemas/Item'}}\n        size: {type: integer}\n"),
       ChangeClass::kAdditive,
       // Item's comparison is still open when children.items leads back to it.
       {"additive response_field_added " + item_200 + ".properties.size"}},
      {"AllOfMembersAreMerged",
       Yaml(kItemPaths,
            "  schemas:\n    Item:\n      allOf:\n        - {$ref: "
            "'#/components/schemas/Base'}\n        - {type: object, properties: "
            "{name: {type: string}}}\n    Base: {type: object, properties: {id: "
            "{type: string}}}\n"),
       Yaml(kItemPaths,
            "  schemas:\n    Item:\n      allOf:\n        - {$ref: "
            "'#/components/schemas/Base'}\n        - {type: object, properties: "
            "{name: {type: string}}}\n    Base: {type: object, properties: {}}\n"),
       ChangeClass::kBreaking,
       {"breaking response_field_removed " + item_200 + ".properties.id"}},
      {"AllOfOfTheSameSchemaIsTheSameSchema",
       Yaml(kItemPaths,
            "  schemas:\n    Item: {type: object, additionalProperties: false, "
            "required: [id], properties: {id: {type: string}}}\n"),
       Yaml(kItemPaths,
            "  schemas:\n    Item:\n      allOf: [{$ref: '#/components/schemas/Base'}]\n"
            "    Base: {type: object, additionalProperties: false, required: [id], "
            "properties: {id: {type: string}}}\n"),
       ChangeClass::kNonBreaking,
       {}},
      {"ReferencedParametersAndResponses",
       Yaml("  /v1/items:\n    get:\n      parameters: [{$ref: '#/components/parameters/Limit'}]\n"
            "      responses: {\"200\": {$ref: '#/components/responses/List'}}\n",
            "  parameters:\n    Limit: {name: limit, in: query, schema: {type: integer}}\n"
            "  responses:\n    List: {description: ok, content: {application/json: {schema: "
            "{type: array}}}}\n"),
       Yaml("  /v1/items:\n    get:\n      parameters: [{$ref: '#/components/parameters/Limit'}]\n"
            "      responses: {\"200\": {$ref: '#/components/responses/List'}}\n",
            "  parameters:\n    Limit: {name: limit, in: query, required: true, schema: {type: "
            "integer}}\n  responses:\n    List: {description: ok, content: {text/csv: {schema: "
            "{type: string}}}}\n"),
       ChangeClass::kBreaking,
       {"breaking parameter_required paths./v1/items.get.parameters.query.limit",
        "breaking media_type_removed paths./v1/items.get.responses.200.content.application/json",
        "additive media_type_added paths./v1/items.get.responses.200.content.text/csv"}},
  };
}

class DiffRows : public ::testing::TestWithParam<Row> {};

TEST_P(DiffRows, VerdictAndFindings) {
  const Row& row = GetParam();
  auto diff = DiffOpenApi({"old.yaml", row.before}, {"new.yaml", row.after});
  ASSERT_TRUE(diff.has_value()) << diff.error().message();
  EXPECT_EQ(Lines(*diff), row.findings) << DiffText(*diff);
  EXPECT_EQ(Name(diff->verdict), Name(row.verdict)) << DiffText(*diff);
}

INSTANTIATE_TEST_SUITE_P(OpenApiDiff, DiffRows, ::testing::ValuesIn(Rows()),
                         [](const auto& info) { return info.param.name; });

struct BadRow {
  std::string name;
  std::string text;
  std::string error;
};

std::vector<BadRow> BadRows() {
  return {
      {"Empty", "  \n", "doc: empty: expected an OpenAPI 3 document"},
      {"NotAnObject", "- a\n- b\n",
       "doc:1:1: document: expected an OpenAPI 3 document (an "
       "object), found an array"},
      {"Swagger2", "swagger: '2.0'\npaths: {}\n",
       "doc:1:10: swagger: this is a Swagger 2 document; expected OpenAPI 3.0 or 3.1"},
      {"NoVersion", "paths: {}\n", "doc:1:1: openapi: required (an OpenAPI 3.0 or 3.1 document)"},
      {"WrongVersion", "openapi: 4.0.0\n",
       "doc:1:10: openapi: expected a version 3.0.x or 3.1.x, found \"4.0.0\""},
      {"PathsNotAnObject", "openapi: 3.0.3\npaths: [a]\n",
       "doc:2:8: paths: expected an object, found an array"},
      {"PathWithoutSlash", "openapi: 3.0.3\npaths:\n  items: {}\n",
       "doc:3:10: paths.items: a path must start with '/'"},
      {"UnpairedBrace", "openapi: 3.0.3\npaths:\n  /a/{id: {}\n",
       "doc:3:11: paths./a/{id: a path template's braces must pair up: /items/{id}"},
      {"SamePathTwice", "openapi: 3.0.3\npaths:\n  /a/{id}: {}\n  /a/{key}: {}\n",
       "doc:4:13: paths./a/{key}: the same path as /a/{id} (template names aside)"},
      {"OperationNotAnObject", "openapi: 3.0.3\npaths:\n  /a:\n    get: 3\n",
       "doc:4:10: paths./a.get: expected an operation (an object), found a number"},
      {"ParameterWithoutIn",
       "openapi: 3.0.3\npaths:\n  /a:\n    get:\n      parameters:\n"
       "        - {name: x}\n",
       "doc:6:11: paths./a.get.parameters[0].in: required"},
      {"RefDoesNotResolve",
       "openapi: 3.0.3\npaths:\n  /a:\n    get:\n      responses:\n        '200': {$ref: "
       "'#/components/responses/Nope'}\n",
       "doc:6:23: paths./a.get.responses.200: $ref \"#/components/responses/Nope\" does not "
       "resolve"},
      {"RemoteRef", "openapi: 3.0.3\ncomponents:\n  schemas:\n    A: {$ref: 'other.yaml#/A'}\n",
       "doc:4:15: components.schemas.A: $ref \"other.yaml#/A\" is not a reference inside the "
       "document (only #/... references are followed)"},
      {"RefCycleOfRefsAlone",
       "openapi: 3.0.3\ncomponents:\n  schemas:\n    A: {$ref: '#/components/schemas/B'}\n"
       "    B: {$ref: '#/components/schemas/A'}\n",
       "doc:5:15: components.schemas.B: $ref \"#/components/schemas/A\" leads back here "
       "through $refs alone"},
      {"MalformedJson", "{\"openapi\": \"3.0.3\", \"paths\": {]}",
       "doc: paths: malformed JSON at line 1, column 32: expected a string key, found ']'"},
      {"MalformedYaml", "openapi: 3.0.3\npaths: {a: b\n",
       "doc:3:1: did not find expected ',' or '}' while parsing a flow mapping started at 2:8"},
      {"InvalidUtf8", "openapi: \"3.0.3\xff\"\n", "doc:1:16: invalid leading UTF-8 octet (0xFF)"},
      {"BadStatusCode",
       "openapi: 3.0.3\npaths:\n  /a:\n    get:\n      responses:\n        ok: {}\n",
       "doc:6:13: paths./a.get.responses.ok: expected a status code (such as 200 or 4XX) or "
       "default"},
  };
}

class BadDocuments : public ::testing::TestWithParam<BadRow> {};

TEST_P(BadDocuments, ExactError) {
  const BadRow& row = GetParam();
  // As the old document and as the new one.
  const std::string good = "openapi: 3.0.3\npaths: {}\n";
  auto as_old = DiffOpenApi({"doc", row.text}, {"good", good});
  ASSERT_FALSE(as_old.has_value());
  EXPECT_EQ(as_old.error().message(), row.error);
  EXPECT_EQ(as_old.error().kind(), ErrorKind::kInvalidArgument);
  auto as_new = DiffOpenApi({"good", good}, {"doc", row.text});
  ASSERT_FALSE(as_new.has_value());
  EXPECT_EQ(as_new.error().message(), row.error);
}

INSTANTIATE_TEST_SUITE_P(OpenApiDiff, BadDocuments, ::testing::ValuesIn(BadRows()),
                         [](const auto& info) { return info.param.name; });

TEST(OpenApiDiffLimits, SizeDepthAndComparisonsAreBounded) {
  const std::string good = "openapi: 3.0.3\npaths: {}\n";
  auto large =
      DiffOpenApi({"big", good + std::string(200, '#')}, {"good", good}, {.max_bytes = 100});
  ASSERT_FALSE(large.has_value());
  EXPECT_EQ(large.error().message(), "big: larger than the limit of 100 bytes");

  auto nested = DiffOpenApi({"deep", "{\"openapi\": \"3.0.3\", \"x\": [[[[[[]]]]]]}"},
                            {"good", good}, {.max_depth = 4});
  ASSERT_FALSE(nested.has_value());
  EXPECT_EQ(nested.error().message(),
            "deep: x[0][0][0]: nesting deeper than 4 levels at line 1, column 30");
  auto yaml_deep =
      DiffOpenApi({"deep", "openapi: 3.0.3\nx: [[[[[[]]]]]]\n"}, {"good", good}, {.max_depth = 4});
  ASSERT_FALSE(yaml_deep.has_value());
  EXPECT_EQ(yaml_deep.error().message(), "deep:2:7: nesting deeper than 4 levels");

  // Each schema refers to the next twice: 2^20 expansions.
  std::string components = "  schemas:\n";
  for (int i = 0; i < 20; ++i) {
    components += fmt::format(
        "    S{0}: {{type: object, properties: {{a: {{$ref: '#/components/schemas/S{1}'}}, b: "
        "{{$ref: '#/components/schemas/S{1}'}}}}}}\n",
        i, i + 1);
  }
  components += "    S20: {type: string}\n";
  std::string paths =
      "  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n"
      "          content: {application/json: {schema: {$ref: '#/components/schemas/S0'}}}\n";
  auto blowup = DiffOpenApi({"old", Yaml(paths, components)}, {"new", Yaml(paths, components)},
                            {.max_comparisons = 5000});
  ASSERT_FALSE(blowup.has_value());
  EXPECT_EQ(blowup.error().message(),
            "old and new: too complex to compare: more than 5000 schema comparisons once $refs "
            "are followed");
}

TEST(OpenApiDiffLimits, FindingsBeyondTheLimitAreCountedNotKept) {
  std::string before, after;
  for (int i = 0; i < 5; ++i) {
    before +=
        fmt::format("  /p{}:\n    get:\n      responses: {{'200': {{description: ok}}}}\n", i);
  }
  auto diff = DiffOpenApi({"old", Yaml(before)}, {"new", Yaml(after.empty() ? "" : after)},
                          {.max_findings = 2});
  ASSERT_TRUE(diff.has_value()) << diff.error().message();
  EXPECT_EQ(diff->findings.size(), 2u);
  EXPECT_EQ(diff->omitted, 3u);
  EXPECT_EQ(diff->Count(ChangeClass::kBreaking), 5u);
  EXPECT_EQ(DiffText(*diff),
            "breaking      path_removed  paths./p0: the path was removed\n"
            "breaking      path_removed  paths./p1: the path was removed\n"
            "... and 3 more findings\n"
            "verdict: breaking (5 breaking, 0 additive, 0 non_breaking)\n");
}

// The repository's own API document (a 3.1 document of some 200 KiB).
TEST(OpenApiDiffOwnApi, ComparesWithItselfAndSeesARemovedRoute) {
  std::ifstream file(std::string(INTERLOCK_SOURCE_DIR) + "/docs/api/openapi.yaml");
  std::stringstream buffer;
  buffer << file.rdbuf();
  const std::string api = buffer.str();
  ASSERT_FALSE(api.empty());
  auto same = DiffOpenApi({"openapi.yaml", api}, {"openapi.yaml", api});
  ASSERT_TRUE(same.has_value()) << same.error().message();
  EXPECT_TRUE(same->findings.empty()) << DiffText(*same);

  std::string without = api;
  size_t at = without.find("\n  /metrics:\n");
  ASSERT_NE(at, std::string::npos);
  without.replace(at, 13, "\n  /metricz:\n");
  auto removed = DiffOpenApi({"old.yaml", api}, {"new.yaml", without});
  ASSERT_TRUE(removed.has_value()) << removed.error().message();
  EXPECT_EQ(Lines(*removed), (std::vector<std::string>{"breaking path_removed paths./metrics",
                                                       "additive path_added paths./metricz"}));
}

}  // namespace
}  // namespace interlock::compliance
