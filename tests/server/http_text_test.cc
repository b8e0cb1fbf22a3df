// The HTTP layer's own parsers: form bodies, cookies, Basic credentials, request ids, route
// templates, audit-safe text.
#include "server/http_text.h"

#include <gtest/gtest.h>

namespace joinedup::server {
namespace {

TEST(ParseForm, DecodesPlusAndEscapesAndKeepsOrder) {
  auto form = ParseForm("grant_type=password&username=dr+grace&password=a%26b%3Dc%25&empty=&flag");
  ASSERT_TRUE(form.ok());
  ASSERT_EQ(form->size(), 5u);
  EXPECT_EQ(FormValue(*form, "username"), "dr grace");
  EXPECT_EQ(FormValue(*form, "password"), "a&b=c%");
  EXPECT_EQ(FormValue(*form, "empty"), "");
  EXPECT_EQ(FormValue(*form, "flag"), "");
  EXPECT_EQ(FormValue(*form, "missing"), std::nullopt);
  EXPECT_FALSE(FormRepeats(*form, "username"));
}

TEST(ParseForm, RefusesMalformedEscapesAndSpotsRepeats) {
  EXPECT_FALSE(ParseForm("password=abc%2").ok());
  EXPECT_FALSE(ParseForm("password=abc%").ok());
  EXPECT_FALSE(ParseForm("pass%zzword=x").ok());
  auto repeated = ParseForm("scope=a&scope=b");
  ASSERT_TRUE(repeated.ok());
  EXPECT_TRUE(FormRepeats(*repeated, "scope"));
  auto nul = ParseForm("password=a%00b");
  ASSERT_TRUE(nul.ok());
  EXPECT_EQ(FormValue(*nul, "password")->size(), 3u);
}

TEST(CookieValue, FindsTheNamedCookieOnly) {
  EXPECT_EQ(CookieValue("a=1; joinedup_session=tok; b=2", "joinedup_session"), "tok");
  EXPECT_EQ(CookieValue("joinedup_session=\"quoted\"", "joinedup_session"), "quoted");
  EXPECT_EQ(CookieValue("xjoinedup_session=no", "joinedup_session"), std::nullopt);
  EXPECT_EQ(CookieValue("", "joinedup_session"), std::nullopt);
  EXPECT_EQ(CookieValue("joinedup_session=first; joinedup_session=second", "joinedup_session"),
            "first");
}

TEST(ParseBasicAuthorization, DecodesRfc7617AndRfc6749FormEncoding) {
  // "client%201:s%3Acret" → user "client 1", password "s:cret" after form decoding.
  auto basic = ParseBasicAuthorization("Basic Y2xpZW50JTIwMTpzJTNBY3JldA==", true);
  ASSERT_TRUE(basic.has_value());
  EXPECT_EQ(basic->user, "client 1");
  EXPECT_EQ(basic->password, "s:cret");
  auto raw = ParseBasicAuthorization("basic dXNlcjpwYTpzcw==", false);  // user:pa:ss
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(raw->user, "user");
  EXPECT_EQ(raw->password, "pa:ss");
  EXPECT_FALSE(ParseBasicAuthorization("Bearer abc", true));
  EXPECT_FALSE(ParseBasicAuthorization("Basic !!!!", true));
  EXPECT_FALSE(ParseBasicAuthorization("Basic dXNlcg==", true));  // "user", no colon
  EXPECT_FALSE(ParseBasicAuthorization("Basic ", true));
}

TEST(Cidr, ParsesBlocksAndMatchesTheirAddresses) {
  auto v4 = ParseCidr("10.1.0.0/16");
  ASSERT_TRUE(v4.ok());
  EXPECT_TRUE(InCidr("10.1.0.0", *v4));
  EXPECT_TRUE(InCidr("10.1.255.255", *v4));
  EXPECT_FALSE(InCidr("10.2.0.0", *v4));
  EXPECT_TRUE(InCidr("::ffff:10.1.2.3", *v4));  // IPv4-mapped
  EXPECT_FALSE(InCidr("2001:db8::1", *v4));
  EXPECT_FALSE(InCidr("not-an-address", *v4));
  auto host = ParseCidr("127.0.0.1");
  ASSERT_TRUE(host.ok());
  EXPECT_TRUE(InCidr("127.0.0.1", *host));
  EXPECT_FALSE(InCidr("127.0.0.2", *host));
  auto v6 = ParseCidr("2001:db8::/32");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(InCidr("2001:db8:ffff::9", *v6));
  EXPECT_FALSE(InCidr("2001:db9::", *v6));
  auto everything = ParseCidr("0.0.0.0/0");
  ASSERT_TRUE(everything.ok());
  EXPECT_TRUE(InCidr("203.0.113.9", *everything));
  for (std::string_view bad : {"", "10.0.0.0/33", "10.0.0.0/", "10.0.0/8", "::/129", "x/8",
                               "10.0.0.0/-1", "10.0.0.0/8/8"})
    EXPECT_FALSE(ParseCidr(bad).ok()) << bad;
}

TEST(ClientAddress, BelievesForwardedForOnlyFromTrustedProxies) {
  const std::vector<Cidr> proxies = {*ParseCidr("10.0.0.0/8"), *ParseCidr("127.0.0.1")};
  // Not from a proxy: the header is the client's own claim, ignored.
  EXPECT_EQ(ClientAddress("203.0.113.5", {"198.51.100.1"}, proxies), "203.0.113.5");
  // From a proxy: the right-most address it did not add itself.
  EXPECT_EQ(ClientAddress("127.0.0.1", {"198.51.100.1"}, proxies), "198.51.100.1");
  EXPECT_EQ(ClientAddress("127.0.0.1", {"1.2.3.4, 198.51.100.1, 10.0.0.7"}, proxies),
            "198.51.100.1");  // 1.2.3.4 was the client's own (forgeable) claim
  EXPECT_EQ(ClientAddress("127.0.0.1", {"1.2.3.4", "198.51.100.1"}, proxies), "198.51.100.1");
  // Nothing believable: the proxy's own address.
  EXPECT_EQ(ClientAddress("127.0.0.1", {}, proxies), "127.0.0.1");
  EXPECT_EQ(ClientAddress("127.0.0.1", {"10.0.0.9"}, proxies), "127.0.0.1");
  EXPECT_EQ(ClientAddress("127.0.0.1", {"198.51.100.1, garbage"}, proxies), "127.0.0.1");
  EXPECT_EQ(ClientAddress("127.0.0.1", {"198.51.100.1"}, {}), "127.0.0.1");  // no proxies
}

TEST(RequestId, AcceptsOnlyShortSafeIdsAndMakesRandomOnes) {
  EXPECT_EQ(SafeRequestId("abc-123_X.y"), "abc-123_X.y");
  EXPECT_FALSE(SafeRequestId(""));
  EXPECT_FALSE(SafeRequestId(std::string(65, 'a')));
  EXPECT_FALSE(SafeRequestId("a b"));
  EXPECT_FALSE(SafeRequestId("a\"}\n{"));
  const std::string one = NewRequestId(), two = NewRequestId();
  EXPECT_EQ(one.size(), 32u);
  EXPECT_NE(one, two);
  EXPECT_TRUE(SafeRequestId(one));
}

TEST(RouteTemplate, NamesTheRouteNeverTheIdentifiers) {
  EXPECT_EQ(RouteTemplate("/healthz"), "/healthz");
  EXPECT_EQ(RouteTemplate("/auth/token"), "/auth/token");
  EXPECT_EQ(RouteTemplate("/fhir"), "/fhir");
  EXPECT_EQ(RouteTemplate("/fhir/"), "/fhir");
  EXPECT_EQ(RouteTemplate("/fhir/metadata"), "/fhir/metadata");
  EXPECT_EQ(RouteTemplate("/fhir/Patient"), "/fhir/Patient");
  EXPECT_EQ(RouteTemplate("/fhir/Patient/9434765919"), "/fhir/Patient/{id}");
  EXPECT_EQ(RouteTemplate("/fhir/Patient/p-1/_history"), "/fhir/Patient/{id}/_history");
  EXPECT_EQ(RouteTemplate("/fhir/Patient/p-1/_history/3"), "/fhir/Patient/{id}/_history/{vid}");
  EXPECT_EQ(RouteTemplate("/fhir/Patient/_search"), "/fhir/Patient/_search");
  EXPECT_EQ(RouteTemplate("/fhir/Group/7-0-1/$export"), "/fhir/Group/{id}/$export");
  EXPECT_EQ(RouteTemplate("/fhir/$export-status/abc"), "/fhir/$export-status/{job}");
  EXPECT_EQ(RouteTemplate("/fhir/$export-file/abc/Patient.ndjson"),
            "/fhir/$export-file/{job}/{file}");
  EXPECT_EQ(RouteTemplate("/fhir/9434765919"), "/fhir/{type}");
  EXPECT_EQ(RouteTemplate("/fhir/Smith/John"), "/fhir/{type}/{id}");
  EXPECT_EQ(RouteTemplate("/fhir/Patient/a/b/c/d/e"), "/fhir/{unmatched}");
  EXPECT_EQ(RouteTemplate("/Patient/9434765919"), "{unmatched}");
  EXPECT_EQ(RouteTemplate("/caseload/12"), "/caseload/{team}");
  EXPECT_EQ(RouteTemplate("/app/api/caseloads/12"), "/app/api/caseloads/{team}");
  EXPECT_EQ(RouteTemplate("/app/api/caseloads/12/enrol"), "/app/api/caseloads/{team}/enrol");
  EXPECT_EQ(RouteTemplate("/people/p1/care-plan"), "/people/{id}/care-plan");
  EXPECT_EQ(RouteTemplate("/people/p1/care-plan/edit"), "/people/{id}/care-plan/edit");
  EXPECT_EQ(RouteTemplate("/my-plan"), "/my-plan");
  EXPECT_EQ(RouteTemplate("/people/p1/other"), "{unmatched}");
  EXPECT_EQ(RouteTemplate("/app/api/people/p1/care-plan"), "/app/api/people/{id}/care-plan");
  EXPECT_EQ(RouteTemplate("/app/api/people/p1/goals"), "/app/api/people/{id}/goals");
  EXPECT_EQ(RouteTemplate("/app/api/care-plans/cp1"), "/app/api/care-plans/{id}");
  EXPECT_EQ(RouteTemplate("/app/api/care-plans/cp1/history"), "/app/api/care-plans/{id}/history");
  EXPECT_EQ(RouteTemplate("/app/api/goals/g1"), "/app/api/goals/{id}");
  EXPECT_EQ(RouteTemplate("/app/api/episodes/4/discharge"), "/app/api/episodes/{id}/discharge");
  EXPECT_EQ(RouteTemplate("/app/api/episodes/4/delete"), "/app/api/{unmatched}");
}

TEST(AuditSafeText, KeepsUtf8ReplacesControlsAndInvalidBytesAndCaps) {
  EXPECT_EQ(AuditSafeText("Zoë"), "Zoë");
  EXPECT_EQ(AuditSafeText(std::string("a\0b\n\x7f", 5)), "a?b??");
  EXPECT_EQ(AuditSafeText("\xff\xc3"), "??");
  EXPECT_EQ(AuditSafeText("\xed\xa0\x80"), "???");  // a UTF-16 surrogate is not UTF-8
  EXPECT_EQ(AuditSafeText("abcdef", 4), "abcd");
  EXPECT_EQ(AuditSafeText("aë", 2), "a");  // never cuts a character in half
}

}  // namespace
}  // namespace joinedup::server
