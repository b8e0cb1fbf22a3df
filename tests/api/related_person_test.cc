// RelatedPerson, the first type kept as a document (resources/registry.h, kept_as_document),
// through the API on SQLite and PostgreSQL: searches by patient, name and relationship run on
// the document index; Patient?_revinclude and RelatedPerson?_include follow the person; each
// person's carers are shown only where the access policy allows; a carer without a known
// person is refused naming the element; updates replace the index. The population
// (api_test_support.h) gives each of p1…p4 a daughter, rp-p1…rp-p4 (Jane Smith<n>).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>

#include "api_test_support.h"
#include "store_test_support.h"

namespace joinedup::api::testing {
namespace {

using json = nlohmann::json;
using store::testing::Backend;

class RelatedPersonTest : public PopulatedApiTest {
 protected:
  // The ids of a searchset's entries with this search mode ("match" or "include").
  std::set<std::string> Ids(std::string_view who, const std::string& target,
                            std::string_view mode = "match") {
    const HttpResponse r = Call(who, "GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    std::set<std::string> ids;
    if (r.status != 200) return ids;
    for (const json& e : json::parse(r.body).value("entry", json::array()))
      if (e["search"]["mode"] == mode)
        ids.insert(e["resource"]["resourceType"].get<std::string>() + "/" +
                   e["resource"]["id"].get<std::string>());
    return ids;
  }
  static json Carer(std::string_view id, std::string_view patient, std::string_view family) {
    json carer = {{"resourceType", "RelatedPerson"},
                  {"id", id},
                  {"relationship",
                   {{{"coding",
                      {{{"system", "http://terminology.hl7.org/CodeSystem/v3-RoleCode"},
                        {"code", "SON"}}}}}}},
                  {"name", {{{"family", family}, {"given", {"Tom"}}}}}};
    if (!patient.empty()) carer["patient"] = {{"reference", patient}};
    return carer;
  }
};

using Set = std::set<std::string>;

TEST_P(RelatedPersonTest, SearchesByPatientNameAndRelationship) {
  EXPECT_EQ(Ids("gp", "/RelatedPerson?patient=p1"), Set{"RelatedPerson/rp-p1"});
  EXPECT_EQ(Ids("gp", "/RelatedPerson?patient=Patient/p2"), Set{"RelatedPerson/rp-p2"});
  // Name: any part, by folded prefix; :exact against the text as written.
  EXPECT_EQ(Ids("gp", "/RelatedPerson?name=smith1"), Set{"RelatedPerson/rp-p1"});
  EXPECT_EQ(Ids("gp", "/RelatedPerson?name=JAN"),
            (Set{"RelatedPerson/rp-p1", "RelatedPerson/rp-p2"}))
      << "p3 and p4 are not visible to the GP";
  EXPECT_EQ(Ids("gp", "/RelatedPerson?name:exact=Smith2"), Set{"RelatedPerson/rp-p2"});
  EXPECT_EQ(Ids("gp", "/RelatedPerson?name:exact=smith2"), Set{});
  EXPECT_EQ(Ids("gp", "/RelatedPerson?name:contains=mith"),
            (Set{"RelatedPerson/rp-p1", "RelatedPerson/rp-p2"}));
  // Relationship: the family relation and the contact role, with or without the system.
  EXPECT_EQ(Ids("gp",
                "/RelatedPerson?relationship=http://terminology.hl7.org/CodeSystem/v3-RoleCode|DAU"
                "&patient=p1"),
            Set{"RelatedPerson/rp-p1"});
  EXPECT_EQ(Ids("gp", "/RelatedPerson?relationship=N&patient=p2"), Set{"RelatedPerson/rp-p2"});
  EXPECT_EQ(Ids("gp", "/RelatedPerson?relationship=http://terminology.hl7.org/CodeSystem/"
                      "v2-0131|DAU"),
            Set{}) << "a code is matched within its own system";
  EXPECT_EQ(Ids("gp", "/RelatedPerson?relationship=SON"), Set{});
  EXPECT_EQ(Ids("gp", "/RelatedPerson?telecom=07700900123&_id=rp-p1"), Set{"RelatedPerson/rp-p1"});
}

TEST_P(RelatedPersonTest, IncludesFollowThePersonBothWays) {
  EXPECT_EQ(Ids("gp", "/Patient?_id=p1&_revinclude=RelatedPerson:patient", "include"),
            Set{"RelatedPerson/rp-p1"});
  EXPECT_EQ(Ids("gp", "/Patient?_id=p1,p2&_revinclude=RelatedPerson:patient", "include"),
            (Set{"RelatedPerson/rp-p1", "RelatedPerson/rp-p2"}));
  EXPECT_EQ(Ids("gp", "/RelatedPerson?_id=rp-p2&_include=RelatedPerson:patient", "include"),
            Set{"Patient/p2"});
  // p4 is hidden from the GP (another practice), and so is p4's carer through an include.
  EXPECT_EQ(Ids("gp", "/Patient?_id=p4&_revinclude=RelatedPerson:patient", "include"), Set{});
}

TEST_P(RelatedPersonTest, ReadsFollowTheAccessPolicy) {
  auto status = [&](std::string_view who, std::string_view id) {
    return Call(who, "GET", "/RelatedPerson/" + std::string(id)).status;
  };
  EXPECT_EQ(status("gp", "rp-p1"), 200) << "own practice";
  EXPECT_EQ(status("gp", "rp-p2"), 200) << "care team";
  EXPECT_EQ(status("gp", "rp-p3"), 404) << "declined sharing beyond their practice";
  EXPECT_EQ(status("gp", "rp-p4"), 404) << "other practice";
  EXPECT_EQ(status("patient", "rp-p1"), 200) << "patient self";
  EXPECT_EQ(status("patient", "rp-p2"), 404) << "patient other";
  EXPECT_EQ(status("commissioner", "rp-p1"), 403) << "commissioners see no identifiable record";
  // A break-glass read reaches the other practice's person, and is audited as such.
  const HttpResponse glass = Call("gp", "GET", "/RelatedPerson/rp-p4", {},
                                  {{"x-break-glass-reason", "emergency: unconscious in A&E, carer needed"}});
  EXPECT_EQ(glass.status, 200) << glass.body;
}

TEST_P(RelatedPersonTest, ACarerWithoutAKnownPersonIsRefusedNamingTheElement) {
  const HttpResponse none = Call("gp", "POST", "/RelatedPerson", Carer("x", "", "Doe").dump());
  EXPECT_EQ(none.status, 422) << none.body;
  EXPECT_EQ(json::parse(none.body)["issue"][0]["expression"][0], "patient") << none.body;

  const HttpResponse unknown =
      Call("gp", "POST", "/RelatedPerson", Carer("x2", "Patient/nobody", "Doe").dump());
  EXPECT_EQ(unknown.status, 422) << unknown.body;
  EXPECT_EQ(json::parse(unknown.body)["issue"][0]["expression"][0], "patient.reference")
      << unknown.body;

  const HttpResponse wrong_type =
      Call("gp", "POST", "/RelatedPerson", Carer("x3", "Organization/A81001", "Doe").dump());
  EXPECT_EQ(wrong_type.status, 422) << wrong_type.body;
  EXPECT_EQ(json::parse(wrong_type.body)["issue"][0]["expression"][0], "patient.reference");

  // The other practice's person is answered like an unknown one, and nothing was written.
  const HttpResponse hidden =
      Call("gp", "POST", "/RelatedPerson", Carer("x4", "Patient/p4", "Doe").dump());
  EXPECT_EQ(hidden.status, 422) << hidden.body;
  EXPECT_EQ(json::parse(hidden.body)["issue"][0]["diagnostics"], "Patient/p4 is not known");
  EXPECT_EQ(Ids("gp", "/RelatedPerson?name:exact=Doe"), Set{}) << "nothing was written";
  // A PUT to an id never written is refused as a hidden one would be: ids are the server's.
  const HttpResponse put_new =
      Call("gp", "PUT", "/RelatedPerson/x5", Carer("x5", "Patient/p1", "Doe").dump());
  EXPECT_EQ(put_new.status, 404) << put_new.body;
  const HttpResponse put_hidden =
      Call("gp", "PUT", "/RelatedPerson/rp-p4", Carer("rp-p4", "Patient/p1", "Doe").dump());
  EXPECT_EQ(put_hidden.status, 404) << put_hidden.body;
  EXPECT_EQ(json::parse(put_new.body)["issue"][0]["code"],
            json::parse(put_hidden.body)["issue"][0]["code"]);
}

TEST_P(RelatedPersonTest, AnUpdateReplacesTheIndexAndKeepsEveryVersion) {
  const HttpResponse created =
      Call("gp", "POST", "/RelatedPerson", Carer("ignored", "Patient/p1", "Walker").dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = json::parse(created.body)["id"];
  const std::string path = "/RelatedPerson/" + id;
  const std::string ref = "RelatedPerson/" + id;
  EXPECT_EQ(Ids("gp", "/RelatedPerson?name=walker"), Set{ref});
  EXPECT_EQ(Ids("gp", "/RelatedPerson?patient=p1&relationship=SON"), Set{ref});

  const HttpResponse stale = Call("gp", "PUT", path,
                                  Carer(id, "Patient/p1", "Walker-Smith").dump(),
                                  {{"if-match", "W/\"7\""}});
  EXPECT_EQ(stale.status, 412) << stale.body;
  const HttpResponse updated = Call("gp", "PUT", path,
                                    Carer(id, "Patient/p2", "Walker-Smith").dump(),
                                    {{"if-match", "W/\"1\""}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(json::parse(updated.body)["meta"]["versionId"], "2");
  EXPECT_EQ(Ids("gp", "/RelatedPerson?name:exact=Walker"), Set{}) << "the old name is gone";
  EXPECT_EQ(Ids("gp", "/RelatedPerson?name=walker-s"), Set{ref});
  EXPECT_EQ(Ids("gp", "/RelatedPerson?patient=p1&relationship=SON"), Set{});
  EXPECT_EQ(Ids("gp", "/RelatedPerson?patient=p2&relationship=SON"), Set{ref});

  const HttpResponse history = Call("gp", "GET", path + "/_history");
  ASSERT_EQ(history.status, 200) << history.body;
  const json entries = json::parse(history.body)["entry"];
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1]["resource"]["name"][0]["family"], "Walker");
  const HttpResponse v1 = Call("gp", "GET", path + "/_history/1");
  ASSERT_EQ(v1.status, 200);
  EXPECT_EQ(json::parse(v1.body)["patient"]["reference"], "Patient/p1");
}

TEST_P(RelatedPersonTest, PagesAndTotalsCountOnlyVisibleCarers) {
  const std::string first = "/RelatedPerson?_count=1&_sort=-_lastUpdated&_total=accurate";
  const HttpResponse page1 = Call("gp", "GET", first);
  ASSERT_EQ(page1.status, 200) << page1.body;
  const json bundle = json::parse(page1.body);
  EXPECT_EQ(bundle["total"], 2) << "rp-p1 and rp-p2; not p3's or p4's";
  ASSERT_EQ(bundle["entry"].size(), 1u);
  EXPECT_EQ(bundle["entry"][0]["resource"]["id"], "rp-p2") << "the newest first";
  std::string next;
  for (const json& link : bundle["link"])
    if (link["relation"] == "next") next = link["url"];
  ASSERT_FALSE(next.empty()) << page1.body;
  const HttpResponse page2 = Call("gp", "GET", next.substr(kBaseUrl.size()));
  ASSERT_EQ(page2.status, 200) << page2.body;
  const json second = json::parse(page2.body);
  ASSERT_EQ(second["entry"].size(), 1u);
  EXPECT_EQ(second["entry"][0]["resource"]["id"], "rp-p1");
  for (const json& link : second["link"]) EXPECT_NE(link["relation"], "next");
}

INSTANTIATE_TEST_SUITE_P(Backends, RelatedPersonTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return store::testing::BackendName(info.param); });

}  // namespace
}  // namespace joinedup::api::testing
