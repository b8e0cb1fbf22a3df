// The caseload part of the web application's API (docs/app-api.md "Caseloads"):
//   GET  /caseloads                      the caller's teams (load against capacity) and own caseload
//   GET  /caseloads/{team}               a team's board: active, waiting list, coordinators
//   POST /caseloads/{team}/enrol         {patient, coordinator?, source}
//   GET  /episodes?patient={id}          a person's case episodes, open and ended
//   POST /episodes/{id}/start            {version, coordinator?}   from the waiting list
//   POST /episodes/{id}/transfer         {version, team?, coordinator?}
//   POST /episodes/{id}/discharge        {version, reason, note?}
//   GET  /tasks?team={id}                open tasks: the caller's own, or about a team's caseload
//   POST /tasks/{id}/complete            {version, note?}
//   POST /flags/{id}/resolve             {version, note}
// The records service decides and audits every call; a team, person or episode the caller may
// not see answers 404 exactly as one that does not exist.
#pragma once

#include <span>
#include <string_view>

#include "http/message.h"
#include "records/records.h"

namespace joinedup::webapp {

// `path` is the whole path below /app/api split on '/' ({"caseloads", "3", "enrol"}).
http::HttpResponse CaseloadApi(records::Records& records, const http::HttpRequest& request,
                               std::span<const std::string_view> path);

}  // namespace joinedup::webapp
