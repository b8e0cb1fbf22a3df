#include "fhir/search/response.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

namespace joinedup::fhir::search {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

TEST(OperationOutcome, FromSearchErrorParsesBack) {
  auto parsed = ParseSearch("Patient", "birthdate=soon");
  ASSERT_TRUE(std::holds_alternative<SearchError>(parsed));
  HttpError error = ToHttpError(std::get<SearchError>(parsed));
  EXPECT_EQ(error.status, 400);
  json outcome = json::parse(error.Body());
  EXPECT_EQ(outcome["resourceType"], "OperationOutcome");
  ASSERT_EQ(outcome["issue"].size(), 1u);
  EXPECT_EQ(outcome["issue"][0]["severity"], "error");
  EXPECT_EQ(outcome["issue"][0]["code"], "invalid");
  EXPECT_EQ(outcome["issue"][0]["expression"], json::array({"birthdate"}));
  EXPECT_THAT(outcome["issue"][0]["diagnostics"].get<std::string>(),
              testing::StartsWith("birthdate: 'soon' has an unknown prefix"));

  auto unknown = std::get<SearchError>(ParseSearch("Patient", "nickname=x"));
  EXPECT_EQ(json::parse(ToHttpError(unknown).Body())["issue"][0]["code"], "not-supported");
}

TEST(OperationOutcome, HostileTextStaysValidJson) {
  OutcomeIssue issue;
  issue.diagnostics = "quote \" backslash \\ newline \n bad utf8 \xFF\xC3 end <script>";
  issue.expression = {"a\"b"};
  json outcome = json::parse(OperationOutcomeJson({&issue, 1}));
  EXPECT_EQ(outcome["issue"][0]["diagnostics"],
            "quote \" backslash \\ newline \n bad utf8 \xEF\xBF\xBD\xEF\xBF\xBD end <script>");
  EXPECT_EQ(outcome["issue"][0]["expression"][0], "a\"b");
}

TEST(HttpStatus, EveryErrorCode) {
  EXPECT_EQ(HttpStatusOf(ErrorCode::kInvalidInput), 400);
  EXPECT_EQ(HttpStatusOf(ErrorCode::kInvalidInput, ErrorContext::kResourceBody), 422);
  EXPECT_EQ(HttpStatusOf(ErrorCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(ErrorCode::kConflict), 409);
  EXPECT_EQ(HttpStatusOf(ErrorCode::kPreconditionFailed), 412);
  EXPECT_EQ(HttpStatusOf(ErrorCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusOf(ErrorCode::kForbidden), 403);
  EXPECT_EQ(HttpStatusOf(ErrorCode::kTooLarge), 413);
  EXPECT_EQ(HttpStatusOf(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(ErrorCode::kInternal), 500);

  auto unprocessable =
      ToHttpError(Error::Invalid("Patient.birthDate: missing"), ErrorContext::kResourceBody);
  EXPECT_EQ(unprocessable.status, 422);
  EXPECT_EQ(unprocessable.issue.type, IssueType::kProcessing);
  auto precondition =
      ToHttpError(Error{ErrorCode::kPreconditionFailed, "version 3 is not current"});
  EXPECT_EQ(precondition.status, 412);
  EXPECT_EQ(json::parse(precondition.Body())["issue"][0]["code"], "conflict");
  auto internal = ToHttpError(Error::Internal("sqlite: table x is locked at store.cc:12"));
  EXPECT_EQ(internal.issue.diagnostics, "internal error");  // internals never reach a client
  EXPECT_EQ(json::parse(internal.Body())["issue"][0]["severity"], "fatal");
  EXPECT_EQ(ToHttpError(Error::NotFound("Patient/x")).issue.type, IssueType::kNotFound);

  auto media = UnsupportedMediaType("application/xml");
  EXPECT_EQ(media.status, 415);
  EXPECT_EQ(json::parse(media.Body())["issue"][0]["code"], "not-supported");
  auto slow_down = TooManyRequests("too many sign-in attempts; try again in 60 s");
  EXPECT_EQ(slow_down.status, 429);
  EXPECT_EQ(json::parse(slow_down.Body())["issue"][0]["code"], "throttled");
}

TEST(ETag, FormatAndStrictParse) {
  EXPECT_EQ(FormatETag("3"), "W/\"3\"");
  EXPECT_EQ(ParseIfMatch("W/\"3\"").value(), "3");
  EXPECT_EQ(ParseIfMatch(" W/\"v-1.2\" ").value(), "v-1.2");
  EXPECT_EQ(ParseIfMatch(FormatETag("17")).value(), "17");
  for (std::string_view bad :
       {"", "3", "\"3\"", "W/3", "W/\"\"", "W/\"3\", W/\"4\"", "w/\"3\"", "W/\"a b\"", "W/\"3"}) {
    auto parsed = ParseIfMatch(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_THAT(parsed.error().message, testing::StartsWith("If-Match: "));
  }
  EXPECT_EQ(
      ParseIfMatch("*").error().message,
      "If-Match: '*' is not supported; name the version you read (expected W/\"<versionId>\")");
}

TEST(RequestBody, SizeAndDepthLimits) {
  BodyLimits limits;
  limits.max_bytes = 100;
  limits.max_depth = 3;
  EXPECT_TRUE(CheckRequestBody(R"({"a":[{"b":1}]})", limits).ok());
  auto deep = CheckRequestBody(R"({"a":[{"b":[1]}]})", limits);
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(deep.error().message, "request body: JSON nested deeper than 3 levels at byte 11");
  // Brackets inside strings (and escaped quotes) are not nesting.
  EXPECT_TRUE(CheckRequestBody(R"({"a":"[[[[\"[[[[","b":[]})", limits).ok());
  auto big = CheckRequestBody(std::string(101, ' '), limits);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, ErrorCode::kTooLarge);
  EXPECT_EQ(big.error().message, "request body is 101 bytes; the limit is 100");
  EXPECT_EQ(ToHttpError(big.error()).status, 413);
  // A million open brackets: refused at the limit, no recursion anywhere.
  EXPECT_FALSE(CheckRequestBody(std::string(1'000'000, '['), {}).ok());
}

TEST(SearchsetBundle, ParsesBackWithLinksModesAndTotal) {
  auto request = std::get<SearchRequest>(
      ParseSearch("Condition", "subject=p1&_include=Condition:subject&_count=2&bogus=1",
                  UnknownParams::kLenient));
  SearchsetBundle bundle;
  bundle.total = 3;
  bundle.links = BuildPageLinks("https://x.org/fhir", request, std::string("CUR"));
  bundle.entries = {
      {"https://x.org/fhir/Condition/c1", R"({"resourceType":"Condition","id":"c1"})",
       SearchMode::kMatch},
      {"https://x.org/fhir/Condition/c2", R"({"resourceType":"Condition","id":"c2"})",
       SearchMode::kMatch},
      {"https://x.org/fhir/Patient/p1", R"({"resourceType":"Patient","id":"p1"})",
       SearchMode::kInclude},
  };
  bundle.warnings = IgnoredParameterWarnings(request);
  json b = json::parse(SearchsetBundleJson(bundle));
  EXPECT_EQ(b["resourceType"], "Bundle");
  EXPECT_EQ(b["type"], "searchset");
  EXPECT_EQ(b["total"], 3);
  ASSERT_EQ(b["link"].size(), 2u);
  EXPECT_EQ(b["link"][0]["relation"], "self");
  EXPECT_EQ(b["link"][0]["url"],
            "https://x.org/fhir/Condition?subject=p1&_count=2&_include=Condition:subject");
  EXPECT_EQ(b["link"][1]["relation"], "next");
  EXPECT_THAT(b["link"][1]["url"].get<std::string>(), HasSubstr("&_cursor=CUR"));
  ASSERT_EQ(b["entry"].size(), 4u);
  int matches = 0;
  for (const json& e : b["entry"])
    if (e["search"]["mode"] == "match") ++matches;
  EXPECT_EQ(matches, request.count);  // the included Patient is not counted
  EXPECT_EQ(b["entry"][2]["search"]["mode"], "include");
  EXPECT_EQ(b["entry"][2]["resource"]["id"], "p1");
  EXPECT_EQ(b["entry"][0]["fullUrl"], "https://x.org/fhir/Condition/c1");
  const json& outcome = b["entry"][3];
  EXPECT_EQ(outcome["search"]["mode"], "outcome");
  EXPECT_EQ(outcome["resource"]["issue"][0]["severity"], "warning");
  EXPECT_EQ(outcome["resource"]["issue"][0]["expression"][0], "bogus");
}

TEST(SearchsetBundle, CountOnlyHasNoEntries) {
  auto request = std::get<SearchRequest>(ParseSearch("Patient", "_summary=count&_total=none"));
  EXPECT_TRUE(WantsTotal(request));  // _summary=count needs the total whatever _total says
  EXPECT_FALSE(WantsTotal(std::get<SearchRequest>(ParseSearch("Patient", "_total=none"))));
  EXPECT_TRUE(WantsTotal(std::get<SearchRequest>(ParseSearch("Patient", ""))));
  SearchsetBundle bundle;
  bundle.total = 245000;
  bundle.links = BuildPageLinks("http://h/fhir", request, std::nullopt);
  json b = json::parse(SearchsetBundleJson(bundle));
  EXPECT_EQ(b["total"], 245000);
  EXPECT_FALSE(b.contains("entry"));
  EXPECT_EQ(b["link"].size(), 1u);
}

TEST(CapabilityStatement, ListsExactlyWhatTheParserAccepts) {
  CapabilityOptions options;
  options.software_version = "0.1.0";
  options.base_url = "https://x.org/fhir";
  options.date = "2025-01-01T00:00:00Z";
  options.interactions["Patient"] = {"read", "vread"};
  options.interactions["AuditEvent"] = {"read"};
  json cs = json::parse(CapabilityStatementJson(options));
  EXPECT_EQ(cs["resourceType"], "CapabilityStatement");
  EXPECT_EQ(cs["fhirVersion"], "4.0.1");
  EXPECT_EQ(cs["kind"], "instance");
  const json& resources = cs["rest"][0]["resource"];
  std::set<std::string> listed_types;
  for (const json& r : resources) {
    const std::string type = r["type"];
    listed_types.insert(type);
    std::set<std::string> interactions;
    for (const json& i : r["interaction"]) interactions.insert(i["code"]);
    const auto params = SearchParamsOf(type);
    EXPECT_EQ(interactions.count("search-type"), params.empty() ? 0u : 1u) << type;
    // Every advertised parameter parses with its advertised type; every parser parameter is
    // advertised.
    std::set<std::string> advertised;
    for (const json& p : r.value("searchParam", json::array())) {
      const std::string name = p["name"];
      advertised.insert(name);
      const SearchParamDef* def = FindSearchParam(type, name);
      ASSERT_NE(def, nullptr) << type << "." << name;
      EXPECT_EQ(p["type"], ParamTypeName(def->type));
      auto parsed = ParseSearch(type, name + "=" + PercentEncode(def->example));
      EXPECT_TRUE(std::holds_alternative<SearchRequest>(parsed)) << type << "." << name;
    }
    EXPECT_EQ(advertised.size(), params.size()) << type;
    for (const json& inc : r.value("searchInclude", json::array())) {
      auto parsed = ParseSearch(type, "_include=" + inc.get<std::string>());
      EXPECT_TRUE(std::holds_alternative<SearchRequest>(parsed)) << inc;
    }
    for (const json& inc : r.value("searchRevInclude", json::array())) {
      auto parsed = ParseSearch(type, "_revinclude=" + inc.get<std::string>());
      EXPECT_TRUE(std::holds_alternative<SearchRequest>(parsed)) << inc;
    }
  }
  for (std::string_view type : SearchableTypes())
    EXPECT_EQ(listed_types.count(std::string(type)), 1u);
  EXPECT_EQ(listed_types.count("AuditEvent"), 1u);
  // Every include the parser knows is advertised on both ends.
  size_t includes = 0, revincludes = 0;
  for (const json& r : resources) {
    includes += r.value("searchInclude", json::array()).size();
    revincludes += r.value("searchRevInclude", json::array()).size();
  }
  EXPECT_EQ(includes, Includes().size());
  EXPECT_EQ(revincludes, Includes().size());
  // A type that is not advertised cannot be searched.
  EXPECT_TRUE(std::holds_alternative<SearchError>(ParseSearch("Claim", "")));
}

}  // namespace
}  // namespace joinedup::fhir::search
