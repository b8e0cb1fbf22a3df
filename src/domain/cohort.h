// Cohort: the whole registered population in memory, laid out for population analytics.
//
// Stratifying a million people touches ~30M coded events; one struct with strings per event
// would cost gigabytes and most of the time in allocation. A Cohort keeps each kind of record
// in one flat array, grouped by person (person i's events are events[event_begin[i] ..
// event_begin[i+1])), with codes interned in one concept dictionary. Record ids and terms are
// left out: analytics never needs them, and the store can be asked for one person's full record.
//
// People are in store order (ascending `key`); within a person, records are in ascending date.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/date.h"
#include "core/nhs_number.h"
#include "domain/population.h"

namespace joinedup {

struct Cohort {
  struct Concept {
    CodeSystem system = CodeSystem::kSnomedCt;
    std::string code;  // as recorded (ICD-10 may carry a dot or filler)
  };

  struct Person {
    int64_t key = 0;  // the store's key for the person (stable for the life of the store)
    std::string id;   // source logical id (FHIR Patient.id)
    std::optional<NhsNumber> nhs_number;
    int32_t practice = -1;  // index into `practices`; -1 if not registered with a known one
    Date birth_date;
    Sex sex = Sex::kUnknown;
    int8_t deprivation_decile = 0;
    std::optional<Date> death_date;
  };

  struct Event {
    uint32_t concept_id = 0;  // index into `concepts`
    Date date;
    EventKind kind = EventKind::kCondition;
    EventSource source = EventSource::kGp;
    AdmissionMethod admission_method = AdmissionMethod::kNone;
    std::optional<double> value;
  };

  struct Activity {
    ActivityType type = ActivityType::kGpAppointment;
    Date start;
    std::optional<Date> end;
    int32_t length_of_stay_days = 0;
    int64_t cost_pence = 0;
  };

  struct Medication {
    uint32_t concept_id = 0;
    Date start;
    std::optional<Date> end;
  };

  std::vector<Practice> practices;
  std::vector<Concept> concepts;
  std::vector<Person> people;
  // Offsets, people.size() + 1 entries each (the last is the array's size).
  std::vector<uint64_t> event_begin, activity_begin, medication_begin;
  std::vector<Event> events;
  std::vector<Activity> activities;
  std::vector<Medication> medications;

  size_t size() const { return people.size(); }
  std::span<const Event> EventsOf(size_t person) const {
    return {events.data() + event_begin[person], events.data() + event_begin[person + 1]};
  }
  std::span<const Activity> ActivitiesOf(size_t person) const {
    return {activities.data() + activity_begin[person],
            activities.data() + activity_begin[person + 1]};
  }
  std::span<const Medication> MedicationsOf(size_t person) const {
    return {medications.data() + medication_begin[person],
            medications.data() + medication_begin[person + 1]};
  }
};

}  // namespace joinedup
