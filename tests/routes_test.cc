// The routes table against docs/api/openapi.yaml: every route is
// documented with its method and whether it takes a token, and every
// documented operation is a route.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <tuple>

#include "core/yaml.h"
#include "server/answers.h"
#include "server/service.h"
#include "test_util.h"

namespace interlock::server {
namespace {

// An operation: method (upper case), path, whether it takes a token.
using Operation = std::tuple<std::string, std::string, bool>;

// The operations docs/api/openapi.yaml documents.
std::set<Operation> Documented() {
  std::string text = testing::ReadSourceFile("docs/api/openapi.yaml");
  auto doc = yaml::Parse(text);
  EXPECT_TRUE(doc.has_value()) << doc.error().mark.line << ":" << doc.error().mark.column << ": "
                               << doc.error().message;
  std::set<Operation> out;
  if (!doc) return out;
  const yaml::Node* paths = doc->Find("paths");
  EXPECT_TRUE(paths && paths->IsMapping());
  if (!paths) return out;
  // The document's default: a bearer token, unless an operation says
  // `security: []`.
  const yaml::Node* security = doc->Find("security");
  bool token_by_default = security && security->IsSequence() && !security->items().empty();
  for (const yaml::Entry& path : paths->entries()) {
    for (const yaml::Entry& op : path.value.entries()) {
      static const std::set<std::string> kMethods = {"get",  "put",     "post", "delete",
                                                     "head", "options", "patch"};
      if (!kMethods.count(op.key)) continue;
      std::string method = op.key;
      std::transform(method.begin(), method.end(), method.begin(), ::toupper);
      const yaml::Node* own = op.value.Find("security");
      bool token = own ? own->IsSequence() && !own->items().empty() : token_by_default;
      out.emplace(method, path.key, token);
    }
  }
  return out;
}

std::set<Operation> Served() {
  std::set<Operation> out;
  for (const RouteInfo& r : Routes()) out.emplace(r.method, r.pattern, r.token);
  return out;
}

std::string Name(const Operation& op) {
  return std::get<0>(op) + " " + std::get<1>(op) + (std::get<2>(op) ? " (token)" : " (no token)");
}

TEST(RoutesTest, EveryRouteIsDocumentedInTheOpenApiFile) {
  std::set<Operation> documented = Documented();
  ASSERT_FALSE(documented.empty());
  for (const Operation& op : Served()) {
    EXPECT_TRUE(documented.count(op)) << Name(op) << " is not in docs/api/openapi.yaml";
  }
}

TEST(RoutesTest, EveryDocumentedOperationIsARoute) {
  std::set<Operation> served = Served();
  for (const Operation& op : Documented()) {
    EXPECT_TRUE(served.count(op)) << Name(op) << " of docs/api/openapi.yaml is not served";
  }
}

TEST(RoutesTest, EachPatternIsListedOnceForEachMethod) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const RouteInfo& r : Routes()) {
    EXPECT_TRUE(seen.emplace(r.method, r.pattern).second) << r.method << " " << r.pattern;
  }
}

// ErrorKind to HTTP status: the one mapping, as docs/api/openapi.yaml's
// table of codes says.
TEST(RoutesTest, EachErrorKindHasItsStatusAndCode) {
  struct Case {
    ErrorKind kind;
    int status;
    std::string_view code;
  };
  for (Case c :
       {Case{ErrorKind::kInvalidArgument, 400, "invalid"},
        Case{ErrorKind::kPermissionDenied, 403, "forbidden"},
        Case{ErrorKind::kNotFound, 404, "not_found"},
        Case{ErrorKind::kAlreadyExists, 409, "conflict"},
        Case{ErrorKind::kCorruption, 500, "internal"}, Case{ErrorKind::kInternal, 500, "internal"},
        Case{ErrorKind::kIo, 503, "unavailable"},
        Case{ErrorKind::kUnavailable, 503, "unavailable"}}) {
    HttpError h = HttpErrorOf(c.kind);
    EXPECT_EQ(h.status, c.status) << c.code;
    EXPECT_EQ(h.code, c.code) << c.status;
  }
  HttpResponse r = ErrorResponse(Error::NotFound("no approval apr_1"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "{\"error\":{\"code\":\"not_found\",\"message\":\"no approval apr_1\"}}\n");
}

}  // namespace
}  // namespace interlock::server
