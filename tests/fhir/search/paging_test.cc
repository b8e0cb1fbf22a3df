#include "fhir/search/paging.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace joinedup::fhir::search {
namespace {

using ::testing::HasSubstr;

SearchRequest Parse(std::string_view type, std::string_view query) {
  auto result = ParseSearch(type, query);
  EXPECT_TRUE(std::holds_alternative<SearchRequest>(result)) << query;
  return std::get<SearchRequest>(std::move(result));
}

CursorKey Key(char fill) { return CursorKey::FromBytes(std::string(32, fill)).value(); }

TEST(Base64Url, Rfc4648TestVectors) {
  // RFC 4648 §10, without padding.
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");  // the URL-safe characters
  EXPECT_EQ(Base64UrlDecode("Zm9vYmE"), "fooba");
  EXPECT_EQ(Base64UrlDecode("-_8"), "\xfb\xff");
  EXPECT_FALSE(Base64UrlDecode("Zm9vY").has_value());  // impossible length
  EXPECT_FALSE(Base64UrlDecode("Zm9v+").has_value());  // standard alphabet refused
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());     // nonzero trailing bits
  EXPECT_FALSE(Base64UrlDecode("Zg==").has_value());   // no padding
}

TEST(CursorKey, FromBytesChecksLength) {
  EXPECT_FALSE(CursorKey::FromBytes("short").ok());
  EXPECT_TRUE(CursorKey::FromBytes(std::string(32, 'k')).ok());
  EXPECT_NE(CursorKey::Generate().bytes(), CursorKey::Generate().bytes());
}

TEST(Cursor, RoundTripsEveryValueKind) {
  auto request = Parse("Patient", "birthdate=le1950&_sort=-birthdate,family,given,_lastUpdated");
  PageCursor cursor;
  cursor.after = {SortValue(int64_t{-3652}), SortValue(std::string("O'Brien, \xC3\xA9")),
                  SortValue(std::monostate{}), SortValue(int64_t{INT64_MIN})};
  cursor.after_id = "patient-42";
  request.cursor = EncodeCursor(cursor, request, Key('k'));
  EXPECT_EQ(request.cursor.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  auto decoded = DecodeCursor(request, Key('k'));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, cursor);

  auto unsorted = Parse("Condition", "subject=p1");
  unsorted.cursor = EncodeCursor({{}, "c1"}, unsorted, Key('k'));
  EXPECT_EQ(DecodeCursor(unsorted, Key('k'))->after_id, "c1");
}

TEST(Cursor, SurvivesPresentationChangesButNotAnotherSearch) {
  auto request = Parse("Patient", "family=smith&_sort=birthdate&_count=10");
  const std::string token = EncodeCursor({{SortValue(int64_t{1})}, "p9"}, request, Key('k'));

  auto more =
      Parse("Patient", "family=smith&_sort=birthdate&_count=500&_include=Patient:organization");
  more.cursor = token;
  EXPECT_TRUE(DecodeCursor(more, Key('k')).ok());

  for (std::string_view other : {"family=smyth&_sort=birthdate", "family=smith&_sort=-birthdate",
                                 "family:exact=smith&_sort=birthdate"}) {
    auto different = Parse("Patient", other);
    different.cursor = token;
    auto decoded = DecodeCursor(different, Key('k'));
    ASSERT_FALSE(decoded.ok()) << other;
    EXPECT_THAT(decoded.error().message, HasSubstr("failed its integrity check"));
  }
  auto wrong_type = Parse("Condition", "_sort=_id");
  wrong_type.cursor = token;
  EXPECT_FALSE(DecodeCursor(wrong_type, Key('k')).ok());
}

TEST(Cursor, EveryTamperingIsDetected) {
  auto request = Parse("Patient", "_sort=family");
  const std::string token =
      EncodeCursor({{SortValue(std::string("smith"))}, "p1"}, request, Key('k'));
  // Flip each bit of the decoded cursor in turn: none verifies.
  std::string bytes = *Base64UrlDecode(token);
  for (size_t i = 0; i < bytes.size() * 8; ++i) {
    std::string bad = bytes;
    bad[i / 8] = static_cast<char>(bad[i / 8] ^ (1 << (i % 8)));
    request.cursor = Base64UrlEncode(bad);
    auto decoded = DecodeCursor(request, Key('k'));
    ASSERT_FALSE(decoded.ok()) << "bit " << i;
    EXPECT_EQ(decoded.error().code, ErrorCode::kInvalidInput);
  }
  request.cursor = token;
  auto other_key = DecodeCursor(request, Key('x'));
  ASSERT_FALSE(other_key.ok());
  EXPECT_EQ(other_key.error().message,
            "_cursor: failed its integrity check (it was altered, or belongs to another search "
            "or server); start again from the first page (links carry a valid cursor)");
  const std::string truncated = token.substr(0, token.size() - 1);
  for (std::string_view junk :
       {std::string_view(""), std::string_view("!!!!"), std::string_view("QQ"),
        std::string_view("Zm9v"), std::string_view(truncated)}) {
    request.cursor = std::string(junk);
    auto decoded = DecodeCursor(request, Key('k'));
    ASSERT_FALSE(decoded.ok()) << junk;
    EXPECT_THAT(decoded.error().message, testing::StartsWith("_cursor: "));
  }
}

// A cursor carries a row's sort values — personal data — so nothing of them shows: not in the
// cursor, not in its decoding; and two cursors for the same row differ (a fresh nonce each).
TEST(Cursor, SaysNothingAboutThePersonItPointsAfter) {
  auto request = Parse("Patient", "_sort=family,birthdate");
  const PageCursor after{{SortValue(std::string("Featherstonehaugh")), SortValue(int64_t{19450312})},
                         "patient-featherstonehaugh"};
  const std::string a = EncodeCursor(after, request, Key('k'));
  const std::string b = EncodeCursor(after, request, Key('k'));
  EXPECT_NE(a, b);
  for (const std::string& token : {a, b}) {
    const std::string bytes = *Base64UrlDecode(token);
    for (std::string_view clue : {"Featherstonehaugh", "featherstonehaugh", "eather", "1945"}) {
      EXPECT_EQ(token.find(clue), std::string::npos) << clue;
      EXPECT_EQ(bytes.find(clue), std::string::npos) << clue;
    }
    request.cursor = token;
    auto decoded = DecodeCursor(request, Key('k'));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(decoded->after_id, "patient-featherstonehaugh");
    EXPECT_EQ(decoded->after, after.after);
  }
}

TEST(CutPage, NeverAnEmptyLastPage) {
  EXPECT_EQ(CutPage(51, 50).rows_on_page, 50u);
  EXPECT_TRUE(CutPage(51, 50).has_next);
  EXPECT_FALSE(CutPage(50, 50).has_next);  // exactly a full page: no next link
  EXPECT_EQ(CutPage(50, 50).rows_on_page, 50u);
  EXPECT_FALSE(CutPage(3, 50).has_next);
  EXPECT_EQ(CutPage(0, 50).rows_on_page, 0u);
  EXPECT_FALSE(CutPage(1, 0).has_next);  // _count=0: totals only
  EXPECT_EQ(CutPage(1, 0).rows_on_page, 0u);
}

TEST(PageLinks, KeepEveryParameterAsPlainGets) {
  auto request = Parse("Patient",
                       "birthdate=le1950-01-01&name=smith,jones&_count=5000&_sort=-birthdate"
                       "&_include=Patient:general-practitioner&_revinclude=Condition:subject"
                       "&_elements=name&_total=accurate");
  auto links = BuildPageLinks("https://example.org/fhir", request, std::string("NEXT"));
  const std::string expected =
      "https://example.org/fhir/Patient?birthdate=le1950-01-01&name=smith,jones"
      "&_sort=-birthdate&_count=1000&_total=accurate&_elements=name"
      "&_include=Patient:general-practitioner&_revinclude=Condition:subject";
  EXPECT_EQ(links.self, expected);
  EXPECT_EQ(links.next, expected + "&_cursor=NEXT");

  // Following `next` parses to the same search, with the cursor.
  std::string_view next = *links.next;
  auto again = Parse("Patient", next.substr(next.find('?') + 1));
  EXPECT_EQ(again.cursor, "NEXT");
  EXPECT_EQ(again.count, 1000);
  EXPECT_EQ(BuildPageLinks("https://example.org/fhir", again, std::nullopt).self, *links.next);
  EXPECT_FALSE(BuildPageLinks("https://example.org/fhir", again, std::nullopt).next.has_value());
}

// A full walk: pages cut from an in-memory sorted list, each next link parsed and its cursor
// decoded, visit every row exactly once and end without an empty page.
TEST(PageLinks, WalkingNextLinksVisitsEveryRowOnce) {
  std::vector<std::pair<int64_t, std::string>> rows;  // (birthdate, id), sorted
  for (int i = 0; i < 23; ++i) rows.push_back({i / 3, "p" + std::to_string(100 + i)});
  const CursorKey key = Key('w');
  auto request = Parse("Patient", "_sort=birthdate&_count=5");
  std::vector<std::string> seen;
  int pages = 0;
  while (true) {
    size_t begin = 0;
    if (!request.cursor.empty()) {
      auto cursor = DecodeCursor(request, key);
      ASSERT_TRUE(cursor.ok()) << cursor.error().message;
      std::pair<int64_t, std::string> after{std::get<int64_t>(cursor->after[0]), cursor->after_id};
      while (begin < rows.size() && rows[begin] <= after) ++begin;
    }
    size_t fetched = std::min(rows.size() - begin, static_cast<size_t>(request.count) + 1);
    PageCut cut = CutPage(fetched, request.count);
    ASSERT_GT(cut.rows_on_page, 0u) << "empty page";
    ++pages;
    for (size_t i = 0; i < cut.rows_on_page; ++i) seen.push_back(rows[begin + i].second);
    if (!cut.has_next) break;
    const auto& last = rows[begin + cut.rows_on_page - 1];
    auto links = BuildPageLinks("http://h/fhir", request,
                                EncodeCursor({{SortValue(last.first)}, last.second}, request, key));
    std::string_view next = *links.next;
    request = Parse("Patient", next.substr(next.find('?') + 1));
  }
  EXPECT_EQ(pages, 5);
  ASSERT_EQ(seen.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(seen[i], rows[i].second);
}

}  // namespace
}  // namespace joinedup::fhir::search
