// The administration part of the web application's API (/app/api/admin/…, docs/app-api.md):
// accounts, organisations and care teams, over the records service's administration (which
// decides who may and audits every change). To anyone who may not administer, every address
// here answers 404, as if it did not exist.
#pragma once

#include <span>
#include <string_view>

#include "http/message.h"
#include "records/records.h"

namespace joinedup::webapp {

// `path` is what follows /app/api/admin, split on '/' ({"users", "7"}).
http::HttpResponse AdminApi(records::Records& records, const http::HttpRequest& request,
                            std::span<const std::string_view> path);

}  // namespace joinedup::webapp
