// The holistic assessment in the web application's API (docs/app-api.md "The holistic
// assessment"; records/assessment.h):
//   GET  /assessment/questionnaire          the shipped Questionnaire (FHIR JSON) for the form
//   GET  /people/{id}/assessment            the person's latest assessment (or null), the needs
//                                           it raised, who recorded each answer, its history
//   PUT  /people/{id}/assessment            {version?, answers: {linkId: value|[values]|null},
//                                            complete?, sharing?}  saves as you go
//   POST /people/{id}/assessment/reassess   {version}  a new version, in progress
//   PUT  /people/{id}/assessment/sharing    {version, sharing}  the person's decision
// The records service decides and audits every call; a person or an assessment the caller may
// not see answers exactly as one that does not exist. A stale version is 412.
#pragma once

#include <span>
#include <string_view>

#include "http/message.h"
#include "records/assessment.h"
#include "records/records.h"

namespace joinedup::webapp {

// `path` is the whole path below /app/api split on '/'; `author` who is recording (their name
// as the session knows it).
http::HttpResponse AssessmentApi(records::Records& records, records::AssessmentAuthor author,
                                 const http::HttpRequest& request,
                                 std::span<const std::string_view> path);

// Whether `path` is one of AssessmentApi's.
bool IsAssessmentPath(std::span<const std::string_view> path);

}  // namespace joinedup::webapp
