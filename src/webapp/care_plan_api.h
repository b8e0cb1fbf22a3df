// The care-plan part of the web application's API (docs/app-api.md "Care plans"): the
// person-centred care and support plan shaped for the screens (records/care_plan.h).
//   GET  /people/{id}/care-plan     the plan (sections, activities, goals), open tasks, active
//                                   flags, and what each part is (the PRSB PCSP sections)
//   POST /people/{id}/care-plan     a new plan {sections?, contacts?, review_date?, activities?}
//   POST /care-plans/{id}           a change {version, sections?, contacts?, review_date?,
//                                   activities?}; 412 with the plan as it now is when stale
//   GET  /care-plans/{id}/history   every version: when, and who made it
//   POST /people/{id}/goals         a new goal {text, target_date?, status?, agreed_with_person?,
//                                   in_persons_words?}
//   POST /goals/{id}                a change {version, text?, target_date?, status?, progress?,
//                                   refusal?}
// The records service decides and audits every call, and what a patient may change of their
// own plan; a person or plan the caller may not see answers 404 exactly as a missing one.
#pragma once

#include <span>
#include <string_view>

#include "http/message.h"
#include "records/records.h"

namespace joinedup::webapp {

// `path` is the whole path below /app/api split on '/'; `display_name` the signed-in user's,
// shown beside what they write.
http::HttpResponse CarePlanApi(records::Records& records, const http::HttpRequest& request,
                               std::span<const std::string_view> path,
                               std::string_view display_name);

// Is `path` one of CarePlanApi's?
bool IsCarePlanPath(std::span<const std::string_view> path);

}  // namespace joinedup::webapp
