#include "server_test_support.h"

#include <signal.h>
#include <unistd.h>

#include "security/audit.h"
#include "security/crypto.h"

namespace joinedup::server_test {

void ServerTest::SetUp() {
  signal(SIGPIPE, SIG_IGN);
  dir_ = std::filesystem::temp_directory_path() /
         ("ju_server_" + std::to_string(::getpid()) + "_" +
          ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  if (db_.empty()) db_ = (dir_ / "server.db").string();
  auto store = OpenDb();
  {
    // One practice and one registered person, so /fhir has something to find.
    auto writer = store->BeginWrite();
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Add(Practice{"A81001", "Alpha Practice", "PCN1", "E1"}).ok());
    Patient patient;
    patient.id = "p-1";
    patient.nhs_number = NhsNumber::Parse("9434765919").value();
    patient.family_name = "Smith";
    patient.given_name = "Ada";
    patient.birth_date = Date::FromYmd(1940, 5, 1);
    patient.sex = Sex::kFemale;
    patient.postcode_district = "E1";
    patient.practice_id = "A81001";
    ASSERT_TRUE((*writer)->Add(patient).ok());
    ASSERT_TRUE((*writer)->Commit().ok());
  }
  ASSERT_TRUE(
      store->PutOrganisation({"A81001", "Alpha Practice", store::OrganisationKind::kGpPractice})
          .ok());
  ASSERT_TRUE(store
                  ->PutOrganisation(
                      {"X26", "Integrated Care Board", store::OrganisationKind::kCommissioner})
                  .ok());
  auto hash = security::HashPassword(kPassword);
  ASSERT_TRUE(hash.ok());
  auto add = [&](std::string username, store::Role role, std::string organisation, bool disabled) {
    store::User user;
    user.username = std::move(username);
    user.display_name = "Dr " + user.username;
    user.organisation_id = std::move(organisation);
    user.role = role;
    user.password_hash = *hash;
    auto id = store->AddUser(user);
    EXPECT_TRUE(id.ok()) << id.error().ToString();
    if (disabled) {
      EXPECT_TRUE(store->SetUserDisabled(*id, true).ok());
    }
    return id.ok() ? *id : 0;
  };
  grace_id_ = add("grace", store::Role::kGp, "A81001", false);
  client_id_ = add("integration", store::Role::kCommissioner, "X26", false);
  add("dan", store::Role::kNurse, "A81001", true);
  auto team = store->AddCareTeam("Frailty MDT", "A81001");
  ASSERT_TRUE(team.ok());
  team_id_ = *team;
  ASSERT_TRUE(store->AddCareTeamMember(team_id_, grace_id_).ok());
}

void ServerTest::TearDown() {
  for (auto& server : servers_) server->Stop();
  servers_.clear();
  if (!dir_.empty()) std::filesystem::remove_all(dir_);
}

std::unique_ptr<store::Store> ServerTest::OpenDb() const {
  auto store = store::OpenStore(db_);
  EXPECT_TRUE(store.ok()) << store.error().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

server::Server& ServerTest::StartServer(const std::function<void(server::ServerOptions&)>& adjust) {
  server::ServerOptions options;
  options.db_url = db_;
  options.port = 0;
  options.threads = 4;
  auto offset = clock_offset_;
  options.clock = [offset] { return security::SystemClockMs() + offset->load(); };
  auto log = log_;
  options.access_log = [log](const std::string& line) {
    std::lock_guard lock(log->mutex);
    log->lines.push_back(line);
  };
  if (adjust) adjust(options);
  servers_.push_back(std::make_unique<server::Server>(std::move(options)));
  Status started = servers_.back()->Start();
  EXPECT_TRUE(started.ok()) << started.error().ToString();
  return *servers_.back();
}

std::vector<store::AuditEvent> ServerTest::AuditEvents(const std::string& subtype) const {
  std::vector<store::AuditEvent> events;
  auto store = OpenDb();
  Status scanned = store->ScanAuditEvents(0, [&](const store::AuditEvent& event) {
    if (event.subtype == subtype) events.push_back(event);
    return Ok();
  });
  EXPECT_TRUE(scanned.ok());
  return events;
}

}  // namespace joinedup::server_test
