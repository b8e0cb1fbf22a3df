// Fuzzes the FHIR search core on arbitrary bytes, as the query string of every searchable
// type, strict and lenient. Nothing may crash; every refusal must name a reason; every
// accepted request must survive CanonicalQuery → ParseSearch unchanged (page links are plain
// GETs of exactly that), and a cursor signed for it must decode to what was signed, while the
// raw input, read as a cursor, must be refused or decode cleanly.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "fhir/search/paging.h"
#include "fhir/search/response.h"
#include "fhir/search/search_params.h"

namespace {
void Check(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace joinedup::fhir::search;
  std::string_view query(reinterpret_cast<const char*>(data), size);
  static const CursorKey key = CursorKey::FromBytes(std::string(CursorKey::kBytes, 'f')).value();
  for (std::string_view type : SearchableTypes()) {
    for (UnknownParams mode : {UnknownParams::kStrict, UnknownParams::kLenient}) {
      auto parsed = ParseSearch(type, query, mode);
      if (auto* error = std::get_if<SearchError>(&parsed)) {
        Check(!error->message.empty());
        Check(!OperationOutcomeJson({std::vector<OutcomeIssue>{IssueFrom(*error)}}).empty());
        continue;
      }
      SearchRequest& request = std::get<SearchRequest>(parsed);
      Check(request.count >= 0 && request.count <= kMaxCount);
      const std::string canonical = CanonicalQuery(request);
      auto again = ParseSearch(type, canonical);
      Check(std::holds_alternative<SearchRequest>(again));
      Check(CanonicalQuery(std::get<SearchRequest>(again)) == canonical);

      if (!request.cursor.empty()) (void)DecodeCursor(request, key);  // must not crash
      PageCursor cursor;
      for (size_t i = 0; i < request.sort.size(); ++i)
        cursor.after.emplace_back(i % 2 ? SortValue(std::string(query.substr(0, 8)))
                                        : SortValue(static_cast<int64_t>(size) - 5));
      cursor.after_id = "id-1";
      request.cursor = EncodeCursor(cursor, request, key);
      auto decoded = DecodeCursor(request, key);
      Check(decoded.ok() && *decoded == cursor);
    }
  }
  // The input as an If-Match header and as a request body.
  (void)ParseIfMatch(query);
  (void)CheckRequestBody(query, {});
  return 0;
}
