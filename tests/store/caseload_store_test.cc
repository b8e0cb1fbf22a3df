// CaseloadStore on both backends: case episodes (one open per person), and what the escalation
// rules and the caseload board read about the people on caseloads — their recent activities
// and coded events, their planned visits left undone, their active flags and open tasks.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "resources/query.h"
#include "store/store.h"
#include "store_test_support.h"

namespace joinedup::store::testing {
namespace {

constexpr int64_t kNowMs = 1'790'000'000'000;  // Monday 21 September 2026, 14:13:20 UTC

class CaseloadStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string skip_reason;
    db_ = TestDatabase::Create(GetParam(), skip_reason);
    if (!skip_reason.empty()) GTEST_SKIP() << skip_reason;
    ASSERT_NE(db_, nullptr);
    auto opened = OpenStore(db_->url());
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    store_ = std::move(opened).value();

    auto writer = store_->BeginWrite();  // released below, before the other writes
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Add(Practice{"F84001", "The Surgery", "PCH North", "E1"}).ok());
    for (const char* id : {"p-on", "p-off"}) {
      Patient p;
      p.id = id;
      p.source_identifier = std::string("urn:local|") + id;
      p.birth_date = Date::FromYmd(1940, 1, 1);
      p.practice_id = "F84001";
      ASSERT_TRUE((*writer)->Add(p).ok());
      for (int day : {1, 15, 20}) {
        Activity a;
        a.id = std::string("a-") + id + "-" + std::to_string(day);
        a.patient_id = id;
        a.type = ActivityType::kEmergencyAdmission;
        a.start = Date::FromYmd(2026, 9, day);
        ASSERT_TRUE((*writer)->Add(a).ok());
        ClinicalEvent e;
        e.id = std::string("e-") + id + "-" + std::to_string(day);
        e.patient_id = id;
        e.system = CodeSystem::kReadV2;
        e.code = "16D..";
        e.term = "Falls";
        e.date = Date::FromYmd(2026, 9, day);
        ASSERT_TRUE((*writer)->Add(e).ok());
      }
    }
    ASSERT_TRUE((*writer)->Commit().ok());
    writer = Error::Internal("released");
    for (const char* id : {"p-on", "p-off"}) {
      auto found = store_->FindResource("Patient", id);
      ASSERT_TRUE(found.ok() && *found && (*found)->patient_key);
      keys_[id] = *(*found)->patient_key;
    }
    const Status organisation =
        store_->PutOrganisation({"RY1", "Community Trust", OrganisationKind::kCommunityTrust});
    ASSERT_TRUE(organisation.ok()) << organisation.error().ToString();
    team_ = *store_->AddCareTeam("Case management", "RY1");
    User u;
    u.username = "cm";
    u.display_name = "A Case Manager";
    u.organisation_id = "RY1";
    u.role = Role::kCaseManager;
    u.password_hash = "not-a-real-hash";
    user_ = *store_->AddUser(u);
    CaseEpisodeWrite w;
    w.episode.patient_key = keys_["p-on"];
    w.episode.care_team_id = team_;
    w.episode.coordinator_id = user_;
    w.episode.status = EpisodeStatus::kActive;
    w.episode.source = "case-finding";
    w.episode.requested_at_ms = w.episode.started_at_ms = kNowMs;
    w.episode.updated_by = user_;
    w.episode.updated_at_ms = kNowMs;
    auto episode = store_->WriteCaseEpisode(w);
    ASSERT_TRUE(episode.ok()) << episode.error().ToString();
    episode_ = episode->id;
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
  }

  // A Task or Flag kept as a document, with the index entries the fhir layer would extract.
  void PutDocument(const std::string& type, const std::string& id, const std::string& patient,
                   std::vector<resources::IndexEntry> index) {
    ResourceWrite w;
    w.resource_type = type;
    w.id = id;
    w.json = R"({"resourceType":")" + type + R"(","id":")" + id + R"("})";
    w.record = ResourceJson{w.json};
    w.create_only = true;
    w.now_ms = kNowMs;
    w.patient_id = patient;
    w.index = std::move(index);
    auto meta = store_->PutResource(w);
    ASSERT_TRUE(meta.ok()) << meta.error().ToString();
  }
  static resources::IndexEntry Due(const char* iso) {
    // A dateTime to the second: the range [t, t + 1 s).
    const std::string start = iso;
    std::string end = start;
    end[18] = static_cast<char>(end[18] + 1);  // the tests' times end in :00 … :08 seconds
    return {"due", start, end};
  }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Store> store_;
  std::map<std::string, int64_t> keys_;
  int64_t team_ = 0, user_ = 0, episode_ = 0;
};

TEST_P(CaseloadStoreTest, OneOpenEpisodePerPerson) {
  CaseEpisodeWrite again;
  again.episode.patient_key = keys_["p-on"];
  again.episode.care_team_id = team_;
  again.episode.status = EpisodeStatus::kWaiting;
  again.episode.source = "referral";
  again.episode.requested_at_ms = kNowMs;
  again.episode.updated_by = user_;
  again.episode.updated_at_ms = kNowMs;
  auto refused = store_->WriteCaseEpisode(again);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  auto count = store_->CountCaseload(team_);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->active, 1);
  EXPECT_EQ(count->waiting, 0);
}

TEST_P(CaseloadStoreTest, ActivitiesAndEventsSinceADateOfPeopleOnCaseloadsOnly) {
  auto activities = store_->CaseloadActivities(Date::FromYmd(2026, 9, 15));
  ASSERT_TRUE(activities.ok()) << activities.error().ToString();
  ASSERT_EQ(activities->size(), 2u);
  EXPECT_EQ((*activities)[0].activity.id, "a-p-on-15");
  EXPECT_EQ((*activities)[1].activity.id, "a-p-on-20");
  EXPECT_EQ((*activities)[0].patient_key, keys_["p-on"]);
  EXPECT_EQ((*activities)[0].episode_id, episode_);
  EXPECT_EQ((*activities)[0].activity.type, ActivityType::kEmergencyAdmission);
  auto events = store_->CaseloadEvents(Date::FromYmd(2026, 9, 16));
  ASSERT_TRUE(events.ok()) << events.error().ToString();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].event.id, "e-p-on-20");
  EXPECT_EQ((*events)[0].event.system, CodeSystem::kReadV2);
  EXPECT_EQ((*events)[0].event.code, "16D..");
  EXPECT_EQ((*events)[0].event.patient_id, "p-on");
}

TEST_P(CaseloadStoreTest, OverdueTasksAndTheBoardsCounts) {
  const resources::IndexEntry visit{"code", "planned-visit",
                                    "https://joinedup.example/fhir/CodeSystem/care-task"};
  PutDocument("Task", "late", "p-on", {{"status", "requested", ""}, visit, Due("2026-09-21T10:00:00Z")});
  PutDocument("Task", "done", "p-on", {{"status", "completed", ""}, visit, Due("2026-09-21T09:00:00Z")});
  PutDocument("Task", "later", "p-on", {{"status", "accepted", ""}, visit, Due("2026-09-23T10:00:00Z")});
  PutDocument("Task", "other-person", "p-off",
              {{"status", "requested", ""}, visit, Due("2026-09-21T10:00:00Z")});
  PutDocument("Task", "no-due", "p-on", {{"status", "requested", ""}, visit});
  PutDocument("Flag", "f-active", "p-on", {{"status", "active", ""}});
  PutDocument("Flag", "f-inactive", "p-on", {{"status", "inactive", ""}});
  PutDocument("Flag", "f-off", "p-off", {{"status", "active", ""}});

  auto overdue = store_->CaseloadOverdueTasks("https://joinedup.example/fhir/CodeSystem/care-task",
                                              "planned-visit", "2026-09-21T12:13:20Z");
  ASSERT_TRUE(overdue.ok()) << overdue.error().ToString();
  ASSERT_EQ(overdue->size(), 1u);
  EXPECT_EQ((*overdue)[0].task_id, "late");
  EXPECT_EQ((*overdue)[0].patient_key, keys_["p-on"]);
  EXPECT_EQ((*overdue)[0].due, "2026-09-21T10:00:01Z");

  auto work = store_->CaseloadWorkOf(team_, "2026-09-21T14:13:20Z", "2026-09-28T14:13:20Z");
  ASSERT_TRUE(work.ok()) << work.error().ToString();
  ASSERT_EQ(work->size(), 1u);
  EXPECT_EQ((*work)[0].patient_key, keys_["p-on"]);
  EXPECT_EQ((*work)[0].active_flags, 1);
  EXPECT_EQ((*work)[0].overdue_tasks, 1);  // "late"; "done" is done
  EXPECT_EQ((*work)[0].due_tasks, 1);      // "later"
  auto other = store_->CaseloadWorkOf(team_ + 1000, "2026-09-21T14:13:20Z", "2026-09-28T14:13:20Z");
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, CaseloadStoreTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return BackendName(info.param);
                         });

}  // namespace
}  // namespace joinedup::store::testing
