// Population views (analytics/population_views.h) on hand-worked populations.
#include "analytics/population_views.h"

#include <gtest/gtest.h>

namespace joinedup::analytics {
namespace {

Date D(int y, int m, int d) { return Date::FromYmd(y, m, d); }

struct World {
  StratificationRun run;
  std::vector<PersonRunResult> people;
  std::vector<RegisteredPerson> registered;

  World() {
    run.id = 2;
    run.index_date = D(2026, 3, 31);
    run.models = {{"tiers", "1.0", {"Tier 1", "Tier 2"}}};
  }
  // A person at `practice`, born `born`, with cost and risk, in `segment` of the one model.
  void Add(std::string practice, Date born, Sex sex, int64_t cost, float risk, int16_t segment,
           std::optional<Date> died = std::nullopt) {
    const int64_t key = static_cast<int64_t>(registered.size()) + 1;
    registered.push_back({key, std::move(practice), born, sex, died});
    PersonRunResult r;
    r.patient_key = key;
    r.cost_12m_pence = cost;
    r.admission_risk = risk;
    r.segment = {segment};
    r.rule = {0};
    people.push_back(r);
  }
};

TEST(PopulationViews, CountsLivingPeopleBySegmentPracticeAgeAndRisk) {
  World w;
  w.Add("A1", D(1940, 4, 1), Sex::kFemale, 1000, 0.60f, 1);  // 85 on 2026-03-31: 85-89
  w.Add("A1", D(1940, 3, 31), Sex::kMale, 3000, 0.04f, 0);   // 86 that day
  w.Add("B2", D(2000, 1, 1), Sex::kOther, 0, 0.05f, kNoSegment);
  w.Add("", D(1990, 6, 1), Sex::kFemale, 6000, 0.20f, kOutsidePopulation);
  w.Add("A1", D(1930, 1, 1), Sex::kMale, 99999, 0.99f, 1, D(2026, 1, 1));  // died: not counted
  auto built = BuildPopulationViews(w.run, w.people, w.registered, nullptr, {});
  ASSERT_TRUE(built.ok()) << built.error().ToString();
  const PopulationViews& v = *built;
  EXPECT_EQ(v.living.value, 4);
  ASSERT_EQ(v.segments.size(), 1u);
  const SegmentTable& t = v.segments[0];
  EXPECT_EQ(t.columns,
            (std::vector<std::string>{"Tier 1", "Tier 2", "no segment", "outside population"}));
  EXPECT_EQ(t.practices, (std::vector<std::string>{"A1", "B2", "(none)"}));
  auto row = [&](size_t r) {
    std::vector<int64_t> out;
    for (const DisclosedCount& c : t.counts[r]) out.push_back(*c.value);
    return out;
  };
  EXPECT_EQ(row(0), (std::vector<int64_t>{1, 1, 0, 0}));
  EXPECT_EQ(row(1), (std::vector<int64_t>{0, 0, 1, 0}));
  EXPECT_EQ(row(2), (std::vector<int64_t>{0, 0, 0, 1}));
  EXPECT_EQ(t.totals[1].value, 1);
  EXPECT_EQ(v.pyramid[static_cast<size_t>(AgeBandOf(85))][0].value, 1);  // female 85
  EXPECT_EQ(v.pyramid[static_cast<size_t>(AgeBandOf(86))][1].value, 1);  // male 86, same band
  EXPECT_EQ(v.pyramid[static_cast<size_t>(AgeBandOf(26))][2].value, 1);
  // Risk bands start at 0, 5%, 10%, 20%, 30%, 50%: 0.04 | 0.05 | — | 0.20 | — | 0.60.
  std::vector<int64_t> bands;
  for (const DisclosedCount& c : v.risk_bands) bands.push_back(*c.value);
  EXPECT_EQ(bands, (std::vector<int64_t>{1, 1, 0, 1, 0, 1}));
  // Costs 0, 1000, 3000, 6000 (total 10000): the costliest 1%, 2%, 5% and 10% are one person
  // each (round(4 × k / 100) is 0, at least one), the one costing 6000.
  EXPECT_EQ(v.cost.total_pence, 10000);
  EXPECT_DOUBLE_EQ(v.cost.share[0], 0.6);
  // Lorenz: 21 points from (0, 0) to (1, 1); at 50% of people (the two cheapest: 0 + 1000).
  ASSERT_EQ(v.lorenz.size(), 21u);
  EXPECT_EQ(v.lorenz.front(), (std::pair<double, double>{0, 0}));
  EXPECT_EQ(v.lorenz.back(), (std::pair<double, double>{1, 1}));
  EXPECT_DOUBLE_EQ(v.lorenz[10].second, 0.1);
  EXPECT_FALSE(v.movement_note.empty());  // no earlier run
}

TEST(PopulationViews, MaskingSuppressesSmallCountsAndRoundsTheRest) {
  World w;
  for (int i = 0; i < 12; ++i) w.Add("A1", D(1950, 1, 1), Sex::kFemale, 100, 0.1f, 0);
  w.Add("A1", D(1950, 1, 1), Sex::kMale, 100, 0.1f, 1);
  auto built = BuildPopulationViews(w.run, w.people, w.registered, nullptr, {});
  ASSERT_TRUE(built.ok());
  PopulationViews v = *built;
  MaskCounts(v, DisclosureRule{});
  EXPECT_EQ(v.living.value, 15);                    // 13 → 15
  EXPECT_EQ(v.segments[0].counts[0][0].value, 10);  // 12 → 10
  EXPECT_FALSE(v.segments[0].counts[0][1].value);   // 1 → suppressed
  EXPECT_EQ(v.segments[0].counts[0][2].value, 0);   // 0 stays 0
}

TEST(PopulationViews, MovementBetweenRunsAndAPersonNoOneKnowsIsAnError) {
  World before;
  before.Add("A1", D(1950, 1, 1), Sex::kFemale, 100, 0.1f, 0);
  before.Add("A1", D(1950, 1, 1), Sex::kFemale, 100, 0.1f, 0);
  before.run.id = 1;
  World after = before;
  after.run.id = 2;
  after.people[1].segment = {1};
  auto built =
      BuildPopulationViews(after.run, after.people, after.registered, &before.run, before.people);
  ASSERT_TRUE(built.ok()) << built.error().ToString();
  ASSERT_EQ(built->movement.size(), 1u);
  const Transition& t = built->movement[0];
  EXPECT_EQ(t.from_states[0], "Tier 1");
  EXPECT_EQ(t.to_states[1], "Tier 2");
  EXPECT_EQ(t.counts[0 * t.to_states.size() + 0].value, 1);  // stayed in Tier 1
  EXPECT_EQ(t.counts[0 * t.to_states.size() + 1].value, 1);  // Tier 1 → Tier 2
  EXPECT_EQ(built->previous_run_id, 1);

  World lost;
  lost.Add("A1", D(1950, 1, 1), Sex::kFemale, 100, 0.1f, 0);
  lost.registered.clear();
  EXPECT_FALSE(BuildPopulationViews(lost.run, lost.people, lost.registered, nullptr, {}).ok());
}

}  // namespace
}  // namespace joinedup::analytics

namespace joinedup::analytics {
namespace {

// A Primary Care Home's counts are its practices' true counts added up, before the small-number
// rule: two practices' 3 and 4 people (each suppressed) make 7 at the PCH.
TEST(PopulationViews, PrimaryCareHomesAddUpTheirPracticesBeforeSuppression) {
  World w;
  for (int i = 0; i < 3; ++i) w.Add("A1", D(1940, 1, 1), Sex::kFemale, 100, 0.1f, 0);
  for (int i = 0; i < 4; ++i) w.Add("A2", D(1950, 1, 1), Sex::kMale, 100, 0.1f, 0);
  for (int i = 0; i < 8; ++i) w.Add("B1", D(1960, 1, 1), Sex::kMale, 100, 0.1f, 1);
  w.Add("", D(1970, 1, 1), Sex::kMale, 100, 0.1f, 1);      // registered nowhere
  w.Add("Z9", D(1970, 1, 1), Sex::kFemale, 100, 0.1f, 1);  // a practice with no PCH
  auto built = BuildPopulationViews(w.run, w.people, w.registered, nullptr, {});
  ASSERT_TRUE(built.ok());
  const Practice practices[] = {{"A1", "A one", "PCH North", "N1"},
                                {"A2", "A two", "PCH North", "N2"},
                                {"B1", "B one", "PCH East", "E1"},
                                {"Z9", "Z nine", "", "Z1"}};
  AddPrimaryCareHomes(*built, practices);
  DisclosureRule rule;
  rule.suppress_up_to = 5;
  rule.round_to = 1;
  MaskCounts(*built, rule);
  const SegmentTable& t = built->segments[0];
  EXPECT_EQ(t.pchs, (std::vector<std::string>{"PCH East", "PCH North", "(none)"}));
  auto value = [&](size_t pch, size_t column) { return t.pch_counts[pch][column].value; };
  EXPECT_EQ(value(1, 0), 7);           // 3 + 4, both suppressed at their practices
  EXPECT_FALSE(t.counts[0][0].value);  // A1's 3
  EXPECT_FALSE(t.counts[1][0].value);  // A2's 4
  EXPECT_EQ(value(0, 1), 8);
  EXPECT_FALSE(value(2, 1).has_value());  // 2 people: suppressed
}

}  // namespace
}  // namespace joinedup::analytics
