// Administration through the web application's API (/app/api/admin, webapp/admin_api.h) on the
// test population (api_test_support.h): only administrators reach it — everyone else gets the
// same 404 from every address, and nothing changes — and every change is audited; account
// changes that matter end sessions; care-team changes give and take the legitimate relationship
// at once.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api_test_support.h"
#include "security/crypto.h"
#include "security/policy.h"
#include "store_test_support.h"
#include "webapp/app_api.h"

namespace joinedup::api::testing {
namespace {

using json = nlohmann::json;

class AdminApiTest : public AppApiTestBase {
 protected:
  HttpResponse Call(std::string_view who, std::string_view method, std::string_view target,
                    const json& body = nullptr) {
    return api_->Handle(
        Request(method, "/admin" + std::string(target), body.is_null() ? "" : body.dump(), {}),
        PrincipalOf(*store_, who), *store_);
  }

  size_t UserCount() {
    auto users = store_->Users();
    EXPECT_TRUE(users.ok());
    return users.ok() ? users->size() : 0;
  }

  std::string NhsNumberOf(int n) { return store::testing::TestNhsNumber(n).digits(); }
};

const json kNewGp = {{"username", "new-gp"},
                     {"display_name", "Dr New"},
                     {"role", "gp"},
                     {"organisation", "B82002"},
                     {"password", "correct horse battery"}};

TEST_F(AdminApiTest, OnlyAdministratorsSeeIt) {
  const json me = Body(
      api_->Handle(Request("GET", "/me", "", {}), PrincipalOf(*store_, "administrator"), *store_));
  EXPECT_EQ(me["screens"], json::array({"admin"}));

  const size_t users = UserCount();
  const std::string not_found = Call("gp", "GET", "/no-such-address").body;
  for (int r = 0; r < store::kRoleCount; ++r) {
    const std::string who(security::RoleName(static_cast<store::Role>(r)));
    if (who == "administrator") continue;
    for (const auto& [method, target, body] :
         std::vector<std::tuple<std::string, std::string, json>>{
             {"GET", "/users", nullptr},
             {"POST", "/users", kNewGp},
             {"POST", "/users", json("not an object")},
             {"POST", "/users/1", {{"role", "administrator"}}},
             {"POST", "/users/1/password", {{"password", "a new long password"}}},
             {"GET", "/organisations", nullptr},
             {"POST", "/organisations", {{"id", "X1"}, {"name", "X"}, {"kind", "council"}}},
             {"GET", "/care-teams", nullptr},
             {"GET", "/care-teams/1", nullptr},
             {"POST", "/care-teams/1/people", {{"nhs_number", NhsNumberOf(4)}}},
             {"GET", "/care-teams/999", nullptr}}) {
      const HttpResponse r = Call(who, method, target, body);
      EXPECT_EQ(r.status, 404) << who << " " << method << " " << target;
      EXPECT_EQ(r.body, not_found) << who << " " << method << " " << target;
    }
  }
  EXPECT_EQ(UserCount(), users);
  EXPECT_TRUE(Events("user-create").empty());
  EXPECT_TRUE(Events("care-team-update").empty());
}

TEST_F(AdminApiTest, CreatesAnAccountAndSaysWhatIsWrongWithABadOne) {
  const size_t users = UserCount();
  auto field_of = [&](json body) {
    const HttpResponse r = Call("administrator", "POST", "/users", body);
    return std::make_pair(r.status, Body(r)["error"].value("field", ""));
  };
  json bad = kNewGp;
  bad["password"] = "short";
  EXPECT_EQ(field_of(bad), std::make_pair(400, std::string("password")));
  bad = kNewGp;
  bad["username"] = "gp";
  EXPECT_EQ(field_of(bad), std::make_pair(409, std::string("username")));
  bad = kNewGp;
  bad["organisation"] = "ZZZ999";
  EXPECT_EQ(field_of(bad), std::make_pair(400, std::string("organisation")));
  bad = kNewGp;
  bad["role"] = "surgeon";
  EXPECT_EQ(field_of(bad), std::make_pair(400, std::string("role")));
  bad = kNewGp;
  bad["role"] = "patient";
  EXPECT_EQ(field_of(bad), std::make_pair(400, std::string("patient_nhs_number")));
  bad["patient_nhs_number"] = "1234567890";  // fails its check digit
  EXPECT_EQ(field_of(bad), std::make_pair(400, std::string("patient_nhs_number")));
  EXPECT_EQ(UserCount(), users);

  const HttpResponse created = Call("administrator", "POST", "/users", kNewGp);
  ASSERT_EQ(created.status, 201) << created.body;
  const json user = Body(created)["user"];
  EXPECT_EQ(user["username"], "new-gp");
  EXPECT_EQ(user["role"], "gp");
  EXPECT_EQ(user["organisation_name"], "Beta Practice");
  EXPECT_EQ(user["status"], "active");
  EXPECT_EQ(created.body.find("argon2"), std::string::npos);
  auto stored = store_->FindUser("new-gp");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_TRUE(security::VerifyPassword((*stored)->password_hash, "correct horse battery"));

  const auto audited = Events("user-create");
  ASSERT_EQ(audited.size(), 1u);
  EXPECT_EQ(audited[0].username, "administrator");
  EXPECT_EQ(audited[0].query, "username=new-gp&role=gp&organisation=B82002");

  // A patient's account names a registered person, and is audited against them.
  json patient = kNewGp;
  patient["username"] = "p4-self";
  patient["role"] = "patient";
  patient["patient_nhs_number"] = NhsNumberOf(4);
  ASSERT_EQ(Call("administrator", "POST", "/users", patient).status, 201);
  EXPECT_EQ(Events("user-create").back().patient_keys,
            std::vector<int64_t>{population_.patient_keys.at("p4")});
}

TEST_F(AdminApiTest, ARoleChangeOrDisablingEndsTheirSessionsAndNoOneChangesTheirOwn) {
  const int64_t nurse = population_.user_ids.at("nurse");
  store::TokenRecord token;
  token.hash_hex = std::string(64, 'a');
  token.user_id = nurse;
  token.scopes = "user/*.cruds";
  token.issued_at_ms = kNowMs;
  token.expires_at_ms = kNowMs + 3'600'000;
  ASSERT_TRUE(store_->AddToken(token).ok());

  // A new display name alone leaves sessions alone.
  HttpResponse r = Call("administrator", "POST", "/users/" + std::to_string(nurse),
                        {{"display_name", "Nurse Renamed"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE((*store_->FindToken(token.hash_hex))->revoked);

  r = Call("administrator", "POST", "/users/" + std::to_string(nurse), {{"role", "case-manager"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["user"]["role"], "case-manager");
  EXPECT_TRUE((*store_->FindToken(token.hash_hex))->revoked);
  EXPECT_EQ(Events("user-update").back().query,
            "user=nurse&role=nurse->case-manager&sessions_ended=1");

  r = Call("administrator", "POST", "/users/" + std::to_string(nurse), {{"status", "disabled"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE((*store_->FindUserById(nurse))->disabled);

  // Staff stay staff; patients stay patients.
  r = Call("administrator", "POST", "/users/" + std::to_string(nurse), {{"role", "patient"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Body(r)["error"]["field"], "role");

  const int64_t self = population_.user_ids.at("administrator");
  for (const json& change :
       {json{{"role", "gp"}}, json{{"status", "disabled"}}, json{{"organisation", "B82002"}}}) {
    r = Call("administrator", "POST", "/users/" + std::to_string(self), change);
    EXPECT_EQ(r.status, 400) << change.dump();
    EXPECT_EQ(Body(r)["error"]["field"], change.begin().key());
  }
  EXPECT_EQ((*store_->FindUserById(self))->role, store::Role::kAdministrator);
  EXPECT_EQ(Call("administrator", "POST", "/users/99999", {{"role", "gp"}}).status, 404);

  // A new password: sessions end, and it is audited without the password.
  store::TokenRecord second = token;
  second.hash_hex = std::string(64, 'b');
  second.user_id = population_.user_ids.at("gp");
  ASSERT_TRUE(store_->AddToken(second).ok());
  r = Call("administrator", "POST", "/users/" + std::to_string(second.user_id) + "/password",
           {{"password", "a brand new passphrase"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE((*store_->FindToken(second.hash_hex))->revoked);
  EXPECT_EQ(Events("user-password").back().query.find("passphrase"), std::string::npos);
}

TEST_F(AdminApiTest, CareTeamMembershipGivesAndTakesTheRelationshipAtOnce) {
  ASSERT_EQ(Call("administrator", "POST", "/users", kNewGp).status, 201);
  const std::string p4 = "/people/p4";
  auto reads_p4 = [&] {
    return api_->Handle(Request("GET", p4, "", {}), PrincipalOf(*store_, "new-gp"), *store_).status;
  };
  // p4 is registered at B82002, the new GP's practice; p1 is at A81001 and on no team of theirs.
  auto reads_p1 = [&] {
    return api_
        ->Handle(Request("GET", "/people/p1", "", {}), PrincipalOf(*store_, "new-gp"), *store_)
        .status;
  };
  EXPECT_EQ(reads_p1(), 404);

  HttpResponse r = Call("administrator", "POST", "/care-teams",
                        {{"name", "Alpha frailty team"}, {"organisation", "A81001"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = Body(r)["care_team"]["id"];
  r = Call("administrator", "POST", "/care-teams/" + id + "/members", {{"username", "new-gp"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["care_team"]["members"][0]["username"], "new-gp");
  r = Call("administrator", "POST", "/care-teams/" + id + "/people",
           {{"nhs_number", NhsNumberOf(1)}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["care_team"]["people"], 1);
  EXPECT_EQ(r.body.find(NhsNumberOf(1)), std::string::npos);  // people are counted, not named
  EXPECT_EQ(reads_p1(), 200);
  EXPECT_EQ(reads_p4(), 200);
  const auto added = Events("care-team-update").back();
  EXPECT_EQ(added.patient_keys, std::vector<int64_t>{population_.patient_keys.at("p1")});

  r = Call("administrator", "POST", "/care-teams/" + id + "/people",
           {{"nhs_number", NhsNumberOf(1)}, {"remove", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["care_team"]["people"], 0);
  EXPECT_EQ(reads_p1(), 404);

  // Unknown people and users are the form's errors; an unknown team is not found.
  r = Call("administrator", "POST", "/care-teams/" + id + "/people",
           {{"nhs_number", store::testing::TestNhsNumber(77).digits()}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Body(r)["error"]["field"], "nhs_number");
  r = Call("administrator", "POST", "/care-teams/" + id + "/members", {{"username", "nobody"}});
  EXPECT_EQ(Body(r)["error"]["field"], "username");
  r = Call("administrator", "POST", "/care-teams/" + id + "/members", {{"username", "patient"}});
  EXPECT_EQ(Body(r)["error"]["field"], "username");
  EXPECT_EQ(Call("administrator", "GET", "/care-teams/999").status, 404);
  r = Call("administrator", "POST", "/care-teams/" + id + "/members",
           {{"username", "new-gp"}, {"remove", "yes"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Body(r)["error"]["field"], "remove");

  const json teams = Body(Call("administrator", "GET", "/care-teams"));
  ASSERT_EQ(teams["care_teams"].size(), 2u);
  EXPECT_EQ(teams["care_teams"][0]["name"], "Alpha frailty team");
  EXPECT_EQ(teams["care_teams"][1]["name"], "T1");
  EXPECT_EQ(teams["care_teams"][1]["people"], 2);
}

TEST_F(AdminApiTest, OrganisationsAndPagedUsers) {
  json orgs = Body(Call("administrator", "GET", "/organisations"));
  ASSERT_EQ(orgs["organisations"].size(), 2u);
  EXPECT_EQ(orgs["organisations"][0]["id"], "A81001");
  EXPECT_EQ(orgs["organisations"][0]["users"], store::kRoleCount);
  HttpResponse r = Call("administrator", "POST", "/organisations",
                        {{"id", "A81001"}, {"name", "Again"}, {"kind", "gp_practice"}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(Body(r)["error"]["field"], "id");
  r = Call("administrator", "POST", "/organisations",
           {{"id", "RX1"}, {"name", "Leeds Community Healthcare"}, {"kind", "community_trust"}});
  ASSERT_EQ(r.status, 201) << r.body;
  r = Call("administrator", "POST", "/organisations/RX1",
           {{"name", "Leeds Community Healthcare NHS Trust"}, {"kind", "community_trust"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ((*store_->FindOrganisation("RX1"))->name, "Leeds Community Healthcare NHS Trust");
  EXPECT_EQ(
      Call("administrator", "POST", "/organisations/NOPE", {{"name", "N"}, {"kind", "council"}})
          .status,
      404);
  EXPECT_EQ(Events("organisation-create").size(), 1u);
  EXPECT_EQ(Events("organisation-update").size(), 1u);

  for (int i = 0; i < 45; ++i) {  // straight into the store: hashing 45 passwords is slow
    store::User user;
    user.username = "user-" + std::to_string(100 + i);
    user.display_name = "User " + std::to_string(i);
    user.organisation_id = "B82002";
    user.password_hash = "not-a-real-hash";
    ASSERT_TRUE(store_->AddUser(user).ok());
  }
  const json first = Body(Call("administrator", "GET", "/users"));
  EXPECT_EQ(first["users"].size(), 50u);
  EXPECT_EQ(first["next_page"], 2);
  const json second = Body(Call("administrator", "GET", "/users?page=2"));
  EXPECT_EQ(second["users"].size(), store::kRoleCount + 45u - 50u);
  EXPECT_TRUE(second["next_page"].is_null());
  const json found = Body(Call("administrator", "GET", "/users?q=USER-10"));
  EXPECT_EQ(found["users"].size(), 10u);  // user-100 … user-109
  EXPECT_EQ(Call("administrator", "GET", "/users?page=0").status, 400);
}

}  // namespace
}  // namespace joinedup::api::testing
