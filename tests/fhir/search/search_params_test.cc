#include "fhir/search/search_params.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace joinedup::fhir::search {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

SearchRequest Parse(std::string_view type, std::string_view query,
                    UnknownParams unknown = UnknownParams::kStrict) {
  auto result = ParseSearch(type, query, unknown);
  if (auto* e = std::get_if<SearchError>(&result)) {
    ADD_FAILURE() << query << " → " << e->message;
    return {};
  }
  return std::get<SearchRequest>(std::move(result));
}

SearchError Fail(std::string_view type, std::string_view query,
                 UnknownParams unknown = UnknownParams::kStrict) {
  auto result = ParseSearch(type, query, unknown);
  if (auto* e = std::get_if<SearchError>(&result)) return *e;
  ADD_FAILURE() << query << " parsed, expected an error";
  return {};
}

// Day arithmetic checked by hand: 1940-01-01 is 30 × 365 + 8 leap days (1940 … 1968) =
// 10,958 days before 1970-01-01; 2000-01-01 is 30 × 365 + 7 (1972 … 1996) = 10,957 after.
constexpr int64_t kDay = 86400;

TEST(SearchParams, BriefExampleQuery) {
  auto r = Parse("Patient", "name=smith&birthdate=ge1940-01-01&_count=50");
  ASSERT_EQ(r.filters.size(), 2u);
  EXPECT_EQ(r.filters[0].param->name, "name");
  const auto& name = std::get<StringValue>(r.filters[0].any_of[0]);
  EXPECT_EQ(name.text, "smith");
  const auto& date = std::get<DateValue>(r.filters[1].any_of[0]);
  EXPECT_EQ(date.prefix, DatePrefix::kGe);
  EXPECT_EQ(date.start, -10958 * kDay);
  EXPECT_EQ(date.end, -10957 * kDay);
  EXPECT_EQ(r.count, 50);
}

TEST(SearchParams, IncludeOnConditionSearch) {
  auto r = Parse("Condition", "subject=Patient/p1&_include=Condition:subject");
  ASSERT_EQ(r.includes.size(), 1u);
  EXPECT_EQ(r.includes[0]->target_type, "Patient");
  const auto& ref = std::get<ReferenceValue>(r.filters[0].any_of[0]);
  EXPECT_EQ(ref.type, "Patient");
  EXPECT_EQ(ref.id, "p1");
}

TEST(SearchParams, EveryTableRowParsesItsExample) {
  for (std::string_view type : SearchableTypes()) {
    for (const SearchParamDef* def : SearchParamsOf(type)) {
      std::string query = std::string(def->name) + "=" + PercentEncode(def->example);
      auto r = Parse(type, query);
      ASSERT_EQ(r.filters.size(), 1u) << type << "?" << query;
      EXPECT_EQ(r.filters[0].param, def);
    }
  }
}

TEST(SearchParams, StringModifiersAndFolding) {
  auto r = Parse("Patient", "family:exact=O%27Brien&given:contains=Zo%C3%AB&name=%C5%81ukasz");
  EXPECT_EQ(r.filters[0].modifier, Modifier::kExact);
  EXPECT_EQ(std::get<StringValue>(r.filters[0].any_of[0]).text, "O'Brien");
  EXPECT_EQ(r.filters[1].modifier, Modifier::kContains);
  EXPECT_EQ(std::get<StringValue>(r.filters[1].any_of[0]).folded, "zoe");
  EXPECT_EQ(std::get<StringValue>(r.filters[2].any_of[0]).folded, "lukasz");
}

TEST(SearchParams, FoldForSearch) {
  EXPECT_EQ(FoldForSearch("SMITH"), "smith");
  EXPECT_EQ(FoldForSearch("Zoë"), "zoe");
  EXPECT_EQ(FoldForSearch("Straße"), "strasse");
  EXPECT_EQ(FoldForSearch("Ærøskøbing"), "aeroskobing");
  EXPECT_EQ(FoldForSearch("Œuvre"), "oeuvre");
  EXPECT_EQ(FoldForSearch("Dvořák"), "dvorak");
  EXPECT_EQ(FoldForSearch("Zoe\xCC\x88"), "zoe");  // e + combining diaeresis (NFD)
  EXPECT_EQ(FoldForSearch("3×4"), "3×4");          // not a letter: kept
  EXPECT_EQ(FoldForSearch("Ωmega"), "Ωmega");      // outside Latin: unchanged
}

TEST(SearchParams, TokenForms) {
  auto r = Parse("Patient",
                 "identifier=https://fhir.nhs.uk/Id/nhs-number%7C9000000009"
                 "&identifier=%7C9000000009&identifier=9000000009&identifier=urn:x%7C");
  ASSERT_EQ(r.filters.size(), 4u);
  auto token = [&](size_t i) { return std::get<TokenValue>(r.filters[i].any_of[0]); };
  EXPECT_EQ(token(0).system, "https://fhir.nhs.uk/Id/nhs-number");
  EXPECT_EQ(token(0).code, "9000000009");
  EXPECT_EQ(token(1).system, "");  // |value: no system
  EXPECT_EQ(token(1).code, "9000000009");
  EXPECT_FALSE(token(2).system.has_value());  // value: any system
  EXPECT_EQ(token(3).system, "urn:x");        // system|: any code
  EXPECT_FALSE(token(3).code.has_value());
}

TEST(SearchParams, TokenErrors) {
  EXPECT_EQ(Fail("Patient", "identifier=a|b|c").message,
            "identifier: 'a|b|c' has more than one unescaped '|' (expected system|code)");
  EXPECT_EQ(Fail("Patient", "identifier=%7C").message,
            "identifier: '|' needs a system, a code or both");
  EXPECT_EQ(Fail("Patient", "gender=f").message,
            "gender: 'f' is not a gender (male, female, other, unknown)");
  EXPECT_EQ(Fail("Patient", "_id=a%20b").message,
            "_id: 'a b' is not a FHIR id ([A-Za-z0-9-.]{1,64})");
  // An escaped '|' is part of the code, not a separator.
  auto r = Parse("Condition", "code=sys%7Ca%5C%7Cb");
  EXPECT_EQ(std::get<TokenValue>(r.filters[0].any_of[0]).code, "a|b");
}

TEST(SearchParams, DatePrefixesAndPrecision) {
  const std::pair<std::string_view, DatePrefix> prefixes[] = {
      {"eq", DatePrefix::kEq}, {"ne", DatePrefix::kNe}, {"lt", DatePrefix::kLt},
      {"le", DatePrefix::kLe}, {"gt", DatePrefix::kGt}, {"ge", DatePrefix::kGe},
      {"sa", DatePrefix::kSa}, {"eb", DatePrefix::kEb}};
  for (const auto& [text, prefix] : prefixes) {
    auto r = Parse("Patient", "birthdate=" + std::string(text) + "2000");
    const auto& d = std::get<DateValue>(r.filters[0].any_of[0]);
    EXPECT_EQ(d.prefix, prefix);
    EXPECT_EQ(DatePrefixName(prefix), text);
    // 2000-01-01 is day 10,957; 2001-01-01 is day 11,323 (2000 is a leap year: 366 days).
    EXPECT_EQ(d.start, 10957 * kDay);
    EXPECT_EQ(d.end, 11323 * kDay);
  }
  auto month = std::get<DateValue>(Parse("Patient", "birthdate=2024-02").filters[0].any_of[0]);
  EXPECT_EQ(month.end - month.start, 29 * kDay);  // leap February
  auto dec = std::get<DateValue>(Parse("Patient", "birthdate=1999-12").filters[0].any_of[0]);
  EXPECT_EQ(dec.end, 10957 * kDay);  // December ends at 2000-01-01
  auto minute =
      std::get<DateValue>(Parse("Encounter", "date=2000-01-01T10:30Z").filters[0].any_of[0]);
  EXPECT_EQ(minute.start, 10957 * kDay + 10 * 3600 + 30 * 60);
  EXPECT_EQ(minute.end - minute.start, 60);
  auto zoned = std::get<DateValue>(
      Parse("Encounter", "date=2000-01-01T10:30:15.250%2B01:00").filters[0].any_of[0]);
  EXPECT_EQ(zoned.start, 10957 * kDay + 9 * 3600 + 30 * 60 + 15);  // +01:00 → 09:30:15Z
  EXPECT_EQ(zoned.end - zoned.start, 1);
}

TEST(SearchParams, DateErrors) {
  const std::string why =
      " is not a date (expected YYYY, YYYY-MM, YYYY-MM-DD or "
      "YYYY-MM-DDThh:mm[:ss][Z|±hh:mm], optionally after a prefix)";
  EXPECT_EQ(Fail("Patient", "birthdate=19400101").message, "birthdate: '19400101'" + why);
  EXPECT_EQ(Fail("Patient", "birthdate=2023-02-29").message, "birthdate: '2023-02-29'" + why);
  EXPECT_EQ(Fail("Patient", "birthdate=2020-13").message, "birthdate: '2020-13'" + why);
  EXPECT_EQ(Fail("Encounter", "date=2020-01-01T24:00Z").message, "date: '2020-01-01T24:00Z'" + why);
  EXPECT_EQ(
      Fail("Patient", "birthdate=xx2000").message,
      "birthdate: 'xx2000' has an unknown prefix (expected eq, ne, lt, le, gt, ge, sa, eb or ap)");
  // A raw '+' in a zone arrives as a space: the message says how to send it.
  EXPECT_THAT(Fail("Encounter", "date=2020-01-01T10:00+01:00").message,
              HasSubstr("a '+' in a time zone must be sent as %2B"));
}

// FHIR R4 search §3.1.1.4.2 worked through on day ranges: the value 2000-06 is
// [June 1, July 1); targets are single days.
TEST(SearchParams, DateMatchesPrefixSemantics) {
  auto value = [](DatePrefix p) {
    DateValue v;
    v.prefix = p;
    v.start = 100;  // June 1 (arbitrary day numbers; one unit per day)
    v.end = 130;    // July 1
    return v;
  };
  auto day = [](int64_t d) { return std::pair<int64_t, int64_t>{d, d + 1}; };
  struct Case {
    DatePrefix prefix;
    int64_t target_day;
    bool match;
  };
  const Case cases[] = {
      {DatePrefix::kEq, 100, true},  {DatePrefix::kEq, 129, true},  {DatePrefix::kEq, 130, false},
      {DatePrefix::kNe, 99, true},   {DatePrefix::kNe, 110, false}, {DatePrefix::kLt, 99, true},
      {DatePrefix::kLt, 100, false}, {DatePrefix::kLe, 129, true},  {DatePrefix::kLe, 130, false},
      {DatePrefix::kGt, 130, true},  {DatePrefix::kGt, 129, false}, {DatePrefix::kGe, 100, true},
      {DatePrefix::kGe, 99, false},  {DatePrefix::kSa, 130, true},  {DatePrefix::kSa, 129, false},
      {DatePrefix::kEb, 99, true},   {DatePrefix::kEb, 100, false},
  };
  for (const Case& c : cases) {
    auto [s, e] = day(c.target_day);
    EXPECT_EQ(DateMatches(value(c.prefix), s, e), c.match)
        << DatePrefixName(c.prefix) << " day " << c.target_day;
  }
  // A target range straddling the value's end is gt (reaches above) but not eq, not sa.
  EXPECT_TRUE(DateMatches(value(DatePrefix::kGt), 125, 135));
  EXPECT_FALSE(DateMatches(value(DatePrefix::kEq), 125, 135));
  EXPECT_FALSE(DateMatches(value(DatePrefix::kSa), 125, 135));
}

// ap: the value's range widened by its own width, at least a day, on each side; a target
// matches when it overlaps that (FHIR leaves the margin to the server).
TEST(SearchParams, ApproximatelyWidensTheValueAndMatchesOnOverlap) {
  auto day = std::get<DateValue>(Parse("Encounter", "date=ap2000-01-02").filters[0].any_of[0]);
  EXPECT_EQ(day.prefix, DatePrefix::kAp);
  EXPECT_EQ(day.start, 10957 * kDay);      // 2000-01-01
  EXPECT_EQ(day.end, (10957 + 3) * kDay);  // to the end of 2000-01-03
  auto minute =
      std::get<DateValue>(Parse("Encounter", "date=ap2000-01-02T10:00Z").filters[0].any_of[0]);
  EXPECT_EQ(minute.end - minute.start, 60 + 2 * kDay) << "at least a day either side";
  auto month = std::get<DateValue>(Parse("Encounter", "date=ap2000-02").filters[0].any_of[0]);
  EXPECT_EQ(month.start, (10957 + 31 - 29) * kDay) << "February's 29 days before it";
  EXPECT_EQ(month.end, (10957 + 31 + 29 + 29) * kDay) << "and after it";
  EXPECT_TRUE(DateMatches(day, 10957 * kDay - 10, 10957 * kDay + 10)) << "overlaps the start";
  EXPECT_FALSE(DateMatches(day, 10957 * kDay - 10, 10957 * kDay)) << "ends where it starts";
  EXPECT_TRUE(DateMatches(day, 0, 20000 * kDay)) << "a wider target overlaps too";
  EXPECT_EQ(CanonicalQuery(Parse("Encounter", "date=ap2000-01-02")), "date=ap2000-01-02&_count=50")
      << "as written";
}

TEST(SearchParams, RepeatedIsAndCommaIsOr) {
  auto r = Parse("Patient", "given=ann,bob&given=c%5C,d&birthdate=ge1940&birthdate=lt1950");
  ASSERT_EQ(r.filters.size(), 4u);
  ASSERT_EQ(r.filters[0].any_of.size(), 2u);  // ann OR bob
  EXPECT_EQ(std::get<StringValue>(r.filters[0].any_of[1]).text, "bob");
  ASSERT_EQ(r.filters[1].any_of.size(), 1u);  // escaped comma: one value "c,d"
  EXPECT_EQ(std::get<StringValue>(r.filters[1].any_of[0]).text, "c,d");
  EXPECT_EQ(std::get<DateValue>(r.filters[3].any_of[0]).prefix, DatePrefix::kLt);
  EXPECT_EQ(Fail("Patient", "given=ann,,bob").message,
            "given: 'ann,,bob' has an empty value in its list");
}

TEST(SearchParams, PercentDecodingIsStrict) {
  EXPECT_EQ(std::get<StringValue>(Parse("Patient", "name=a+b%2Bc").filters[0].any_of[0]).text,
            "a b+c");
  EXPECT_EQ(Fail("Patient", "name=%zz").message,
            "name: bad percent-escape at '%zz' (expected % and two hex digits)");
  EXPECT_EQ(Fail("Patient", "name=abc%4").message,
            "name: bad percent-escape at '%4' (expected % and two hex digits)");
  EXPECT_EQ(Fail("Patient", "na%ZEme=x").message,
            "query: bad percent-escape at '%ZE' (expected % and two hex digits)");
  EXPECT_EQ(Fail("Patient", "name=%FF").message, "name: '%FF' is not valid UTF-8 once decoded");
  EXPECT_EQ(Fail("Patient", "name=a%00b").message, "name: 'a\\x00b' contains a control character");
  EXPECT_EQ(Fail("Patient", "name=a%5Cb").message,
            "name: 'a\\b': a backslash must escape , | $ or \\");
  EXPECT_EQ(Fail("Patient", "=x").message, "query: '=x' has a value but no parameter name");
}

TEST(SearchParams, CountIsClampedNeverRefused) {
  EXPECT_EQ(Parse("Patient", "").count, kDefaultCount);
  EXPECT_EQ(Parse("Patient", "_count=0").count, 0);
  auto big = Parse("Patient", "_count=5000");
  EXPECT_EQ(big.count, kMaxCount);
  EXPECT_TRUE(big.count_clamped);
  EXPECT_EQ(Parse("Patient", "_count=99999999999999999999999").count, kMaxCount);
  EXPECT_EQ(Parse("Patient", "_count=0001000").count, 1000);
  EXPECT_FALSE(Parse("Patient", "_count=1000").count_clamped);
  EXPECT_EQ(Fail("Patient", "_count=-1").message, "_count: '-1' is not a whole number ≥ 0");
  EXPECT_EQ(Fail("Patient", "_count=ten").message, "_count: 'ten' is not a whole number ≥ 0");
  EXPECT_EQ(Fail("Patient", "_count=1&_count=2").message, "_count: given more than once");
  EXPECT_EQ(Fail("Patient", "_count=").message, "_count: has no value");
}

TEST(SearchParams, Sort) {
  auto r = Parse("Patient", "_sort=-birthdate,family,_id");
  ASSERT_EQ(r.sort.size(), 3u);
  EXPECT_EQ(r.sort[0].name, "birthdate");
  EXPECT_TRUE(r.sort[0].descending);
  EXPECT_FALSE(r.sort[1].descending);
  EXPECT_EQ(Fail("Patient", "_sort=gender").message,
            "_sort: 'gender' is not a sort key for Patient (supported: _id, _lastUpdated, "
            "family, given, birthdate)");
  EXPECT_EQ(Fail("Patient", "_sort=family,-family").message, "_sort: 'family' is given twice");
  EXPECT_EQ(Fail("Condition", "_sort=").message, "_sort: has no value");
}

TEST(SearchParams, SummaryTotalElements) {
  auto r = Parse("Patient", "_summary=count&_total=accurate&_elements=name,birthDate");
  EXPECT_TRUE(r.summary_count);
  EXPECT_EQ(r.total, Total::kAccurate);
  EXPECT_EQ(r.elements, (std::vector<std::string>{"name", "birthDate"}));
  EXPECT_EQ(Parse("Patient", "_total=none").total, Total::kNone);
  EXPECT_EQ(Parse("Patient", "_total=estimate").total, Total::kEstimate);
  EXPECT_FALSE(Parse("Patient", "_summary=false").summary_count);
  auto summary = Fail("Patient", "_summary=text");
  EXPECT_EQ(summary.kind, SearchErrorKind::kNotSupported);
  EXPECT_EQ(summary.message, "_summary: 'text' is not supported (supported: count, false)");
  EXPECT_EQ(Fail("Patient", "_total=all").message,
            "_total: 'all' is not one of none, estimate, accurate");
  EXPECT_EQ(Fail("Patient", "_elements=name,Bad-Name").message,
            "_elements: 'Bad-Name' is not a top-level element name");
}

TEST(SearchParams, IncludesAreValidated) {
  auto r = Parse("Patient",
                 "_revinclude=Condition:subject&_revinclude=Observation:patient:Patient"
                 "&_include=Patient:general-practitioner&_include=Patient:general-practitioner");
  EXPECT_EQ(r.revincludes.size(), 2u);
  EXPECT_EQ(r.includes.size(), 1u);  // a repeat adds nothing
  auto wrong = Fail("Condition", "_include=Encounter:subject");
  EXPECT_EQ(wrong.kind, SearchErrorKind::kInvalid);
  EXPECT_EQ(wrong.message, "_include: 'Encounter:subject' does not start from Condition");
  EXPECT_EQ(Fail("Condition", "_revinclude=Condition:subject").message,
            "_revinclude: 'Condition:subject' does not point to Condition");
  auto unknown = Fail("Condition", "_include=Condition:asserter");
  EXPECT_EQ(unknown.kind, SearchErrorKind::kNotSupported);
  EXPECT_EQ(unknown.message,
            "_include: 'Condition:asserter' is not supported (supported: Condition:subject, "
            "Condition:patient)");
  EXPECT_EQ(Fail("Condition", "_include=Condition:subject:Group").kind,
            SearchErrorKind::kNotSupported);
  EXPECT_EQ(Fail("Condition", "_include=Condition").message,
            "_include: 'Condition' is not Source:parameter[:Target]");
  EXPECT_EQ(Fail("Condition", "_include=*").message,
            "_include: '*' is not supported; name the reference");
  EXPECT_EQ(Fail("Condition", "_include:iterate=Condition:subject").message,
            "_include:iterate: modifier :iterate is not supported");
}

TEST(SearchParams, References) {
  auto r = Parse("Patient", "general-practitioner=A81001&organization=Organization/B1");
  EXPECT_EQ(std::get<ReferenceValue>(r.filters[0].any_of[0]).type, "Organization");
  EXPECT_EQ(std::get<ReferenceValue>(r.filters[1].any_of[0]).id, "B1");
  EXPECT_EQ(Parse("Condition", "subject:Patient=p1").filters.size(), 1u);
  EXPECT_EQ(Fail("Condition", "subject=Group/g1").message,
            "subject: 'Group/g1' must be Patient/<id> or a bare id");
  EXPECT_EQ(Fail("Condition", "subject=Patient/p1/_history/2").message,
            "subject: 'Patient/p1/_history/2' must be Patient/<id> or a bare id");
  EXPECT_EQ(Fail("Condition", "patient=Patient/").message,
            "patient: '' is not a FHIR id ([A-Za-z0-9-.]{1,64})");
}

TEST(SearchParams, UnknownParametersStrictAndLenient) {
  auto strict = Fail("Patient", "nickname=bob");
  EXPECT_EQ(strict.kind, SearchErrorKind::kNotSupported);
  EXPECT_EQ(strict.parameter, "nickname");
  EXPECT_THAT(strict.message, StartsWith("nickname: unknown parameter for Patient (supported: "
                                         "_id, _lastUpdated, identifier, name,"));
  EXPECT_EQ(Fail("Patient", "name:phonetic=smyth").message,
            "name:phonetic: modifier :phonetic is not supported (supported: :exact, :contains)");
  EXPECT_EQ(Fail("Patient", "birthdate:missing=true").message,
            "birthdate:missing: modifier :missing is not supported");
  EXPECT_EQ(Fail("Condition", "subject.name=smith").message,
            "subject.name: chained parameters are not supported");
  EXPECT_THAT(Fail("Patient", "_has:Condition:subject:code=x").message,
              StartsWith("_has:Condition:subject:code: unknown parameter for Patient"));

  auto lenient = Parse("Patient", "nickname=bob&name:phonetic=x&family=smith&_format=json",
                       UnknownParams::kLenient);
  ASSERT_EQ(lenient.filters.size(), 1u);
  ASSERT_EQ(lenient.ignored.size(), 3u);
  EXPECT_THAT(lenient.ignored[0], StartsWith("nickname: unknown parameter"));
  EXPECT_THAT(lenient.ignored[1], HasSubstr("ignored"));
  // Lenient never excuses a bad value of a known parameter.
  EXPECT_EQ(Fail("Patient", "birthdate=soon", UnknownParams::kLenient).parameter, "birthdate");
}

TEST(SearchParams, EmptyValuesAreIgnoredAndSaid) {
  auto r = Parse("Patient", "name=&family=smith&&");
  EXPECT_EQ(r.filters.size(), 1u);
  EXPECT_EQ(r.ignored, std::vector<std::string>{"name: empty value, ignored"});
}

TEST(SearchParams, UnknownResourceType) {
  auto e = Fail("Claim", "_id=1");
  EXPECT_EQ(e.kind, SearchErrorKind::kNotSupported);
  EXPECT_EQ(e.message, "resource type 'Claim' cannot be searched");
}

TEST(SearchParams, Limits) {
  std::string many;
  for (int i = 0; i < 101; ++i) many += "family=a&";
  EXPECT_EQ(Fail("Patient", many).message, "query: more than 100 parameters");
  std::string list = "family=a";
  for (int i = 0; i < 100; ++i) list += ",a";
  EXPECT_EQ(Fail("Patient", list).message, "family: more than 100 comma-separated values");
  // Long hostile input is quoted short in messages.
  std::string long_value(10000, 'x');
  EXPECT_LT(Fail("Patient", "birthdate=" + long_value).message.size(), 300u);
}

TEST(SearchParams, CanonicalQueryRoundTrips) {
  const std::string_view queries[] = {
      "name=smith&birthdate=ge1940-01-01&_count=50&_include=Patient:general-practitioner",
      "family:exact=O%27Brien&given:contains=Zo%C3%AB,ann&_sort=-birthdate,_id&_total=accurate",
      "identifier=https://fhir.nhs.uk/Id/nhs-number%7C9000000009&_elements=name,gender"
      "&_summary=count&_revinclude=Condition:subject",
      "name=a%5C,b+c%26d%3De",
  };
  for (std::string_view q : queries) {
    auto first = Parse("Patient", q);
    std::string canonical = CanonicalQuery(first);
    auto second = Parse("Patient", canonical);
    EXPECT_EQ(CanonicalQuery(second), canonical) << q;
    ASSERT_EQ(second.filters.size(), first.filters.size());
    for (size_t i = 0; i < first.filters.size(); ++i) {
      EXPECT_EQ(second.filters[i].param, first.filters[i].param);
      EXPECT_EQ(second.filters[i].modifier, first.filters[i].modifier);
      EXPECT_EQ(second.filters[i].raw_value, first.filters[i].raw_value);
    }
    EXPECT_EQ(second.count, first.count);
    EXPECT_EQ(second.includes, first.includes);
    EXPECT_EQ(second.revincludes, first.revincludes);
    EXPECT_EQ(second.elements, first.elements);
  }
  EXPECT_EQ(CanonicalQuery(Parse("Patient", "name=a%5C,b+c%26d%3De")),
            "name=a%5C,b%20c%26d%3De&_count=50");
}

}  // namespace
}  // namespace joinedup::fhir::search
