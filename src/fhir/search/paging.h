// Keyset paging for FHIR searches: opaque, encrypted page cursors and the self/next links.
//
// A page ends at its last row; the next page is "rows after (sort values, id) of that row"
// in the search's order — keyset paging, so page 10,000 costs what page 1 costs, and rows
// written meanwhile never shift a page. The cursor carries those values — a row's, so personal
// data — encrypted and authenticated (XChaCha20-Poly1305, libsodium) under a server key and
// bound to the search (resource type, filters and sort): nobody can read it, edit it or move it
// to another search; any change is a clear 400 error, never a crash. docs/fhir-api.md has the
// design.
//
// Thread safety: all functions are reentrant; a CursorKey may be shared between threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"
#include "fhir/search/search_params.h"

namespace joinedup::fhir::search {

// The server's cursor key. Every `joinedup serve` process sharing a database must use
// the same key, or their cursors will not verify on each other.
class CursorKey {
 public:
  static constexpr size_t kBytes = 32;
  // Exactly kBytes bytes, else kInvalidInput.
  static Result<CursorKey> FromBytes(std::string_view bytes);
  // A fresh random key (libsodium randombytes).
  static CursorKey Generate();
  // The key of `bytes`, or — when they are not a key — a random one, said on stderr: cursors
  // then work within this process only, never across processes sharing a database.
  static CursorKey FromBytesOrGenerate(std::string_view bytes);
  const std::array<unsigned char, kBytes>& bytes() const { return bytes_; }

 private:
  CursorKey() = default;
  std::array<unsigned char, kBytes> bytes_{};
};

using resources::PageCursor;
using resources::SortValue;

// base64url (no padding) of a random nonce and the sealed compact encoding (paging.cc).
// Asserts after.size() == request.sort.size().
std::string EncodeCursor(const PageCursor& cursor, const SearchRequest& request,
                         const CursorKey& key);

// Reads request.cursor (the `_cursor` parameter). kInvalidInput, naming `_cursor`, when it is
// not base64url, fails the integrity check (edited, forged, signed by another key, or from a
// different search), or does not fit the request's sort keys.
Result<PageCursor> DecodeCursor(const SearchRequest& request, const CursorKey& key);

// The store fetches count + 1 rows: the extra row, if it comes, proves a next page exists, so
// a `next` link never leads to an empty page.
struct PageCut {
  size_t rows_on_page = 0;  // how many of the fetched rows to return
  bool has_next = false;    // emit a `next` link (cursor from the last returned row)
};
PageCut CutPage(size_t fetched_rows, int count);

struct PageLinks {
  std::string self;
  std::optional<std::string> next;
};

// `base_url` is the FHIR base without a trailing slash ("https://example.org/fhir"). Both
// links are plain GETs on <base>/<Type>?<CanonicalQuery(request)> — every filter, _count,
// _sort, _include, _revinclude, _elements, _summary and _total kept — and `_cursor`: self
// carries the cursor this page was asked with (if any), next the one given.
PageLinks BuildPageLinks(std::string_view base_url, const SearchRequest& request,
                         const std::optional<std::string>& next_cursor);

// base64url without padding (RFC 4648 §5); decoding is strict (alphabet, length, zero
// trailing bits) and gives nullopt on anything else.
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace joinedup::fhir::search
