// Keyset paging cursors and links. The cursor layout (version 1):
//
//   payload = 0x01 | varint n | n × value | varint len | id bytes
//   value   = 0x00 (null) | 0x01 zigzag-varint (number) | 0x02 varint len bytes (text)
//   cursor  = base64url(payload | tag), tag = first 16 bytes of
//             HMAC-SHA256(key, "joinedup-cursor-1" 0x00 binding 0x00 payload)
//
// `binding` is the search the cursor belongs to (type, filters, sort). A 128-bit truncated
// HMAC-SHA256 tag is within RFC 2104 §5's advice (at least half the output, at least 80 bits).
#include "fhir/search/paging.h"

#include <sodium.h>

#include <cassert>
#include <cstring>

#include "resources/registry.h"

namespace joinedup::fhir::search {

using resources::IsValidFhirId;
namespace {

constexpr unsigned char kVersion = 1;
constexpr size_t kTagBytes = 16;
constexpr size_t kMaxSortValues = 16;
constexpr std::string_view kDomain = "joinedup-cursor-1";

// What a cursor is bound to: the rows and order of the search, not its presentation
// (_count, _include, _elements … may change between pages without breaking the cursor).
std::string Binding(const SearchRequest& request) {
  SearchRequest rows;
  rows.resource_type = request.resource_type;
  rows.sort = request.sort;
  rows.count = 0;
  for (const Filter& filter : request.filters) {
    Filter copy;
    copy.param = filter.param;
    copy.modifier = filter.modifier;
    copy.raw_value = filter.raw_value;
    rows.filters.push_back(std::move(copy));
  }
  return request.resource_type + "?" + CanonicalQuery(rows);
}

std::array<unsigned char, crypto_auth_hmacsha256_BYTES> Tag(const CursorKey& key,
                                                            std::string_view binding,
                                                            std::string_view payload) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.bytes().data(), key.bytes().size());
  const unsigned char zero = 0;
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(kDomain.data()),
                                kDomain.size());
  crypto_auth_hmacsha256_update(&state, &zero, 1);
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(binding.data()),
                                binding.size());
  crypto_auth_hmacsha256_update(&state, &zero, 1);
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(payload.data()),
                                payload.size());
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> tag{};
  crypto_auth_hmacsha256_final(&state, tag.data());
  return tag;
}

void PutVarint(uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

void PutText(std::string_view text, std::string& out) {
  PutVarint(text.size(), out);
  out += text;
}

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool Byte(unsigned char& out) {
    if (pos_ >= data_.size()) return false;
    out = static_cast<unsigned char>(data_[pos_++]);
    return true;
  }
  bool Varint(uint64_t& out) {
    out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      unsigned char b = 0;
      if (!Byte(b)) return false;
      out |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return shift < 63 || b <= 1;
    }
    return false;
  }
  bool Text(std::string& out) {
    uint64_t size = 0;
    if (!Varint(size) || size > data_.size() - pos_) return false;
    out.assign(data_.substr(pos_, size));
    pos_ += size;
    return true;
  }
  bool AtEnd() const { return pos_ == data_.size(); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

Error BadCursor(std::string_view why) {
  return Error::Invalid("_cursor: " + std::string(why) +
                        "; start again from the first page (links carry a valid cursor)");
}

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

Result<CursorKey> CursorKey::FromBytes(std::string_view bytes) {
  if (bytes.size() != kBytes)
    return Error::Invalid("cursor key: expected " + std::to_string(kBytes) + " bytes, got " +
                          std::to_string(bytes.size()));
  CursorKey key;
  std::memcpy(key.bytes_.data(), bytes.data(), kBytes);
  return key;
}

CursorKey CursorKey::Generate() {
  [[maybe_unused]] static const bool initialised = sodium_init() >= 0;
  assert(initialised);
  CursorKey key;
  randombytes_buf(key.bytes_.data(), kBytes);
  return key;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (bytes.size() - i == 1) {
    uint32_t v = byte(i) << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = Base64Value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // Leftover bits must be zero, so each byte string has exactly one encoding.
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string EncodeCursor(const PageCursor& cursor, const SearchRequest& request,
                         const CursorKey& key) {
  assert(cursor.after.size() == request.sort.size());
  std::string payload;
  payload += static_cast<char>(kVersion);
  PutVarint(cursor.after.size(), payload);
  for (const SortValue& value : cursor.after) {
    if (const auto* n = std::get_if<int64_t>(&value)) {
      payload += '\x01';
      // zigzag: small negative numbers stay short
      PutVarint((static_cast<uint64_t>(*n) << 1) ^ static_cast<uint64_t>(*n >> 63), payload);
    } else if (const auto* s = std::get_if<std::string>(&value)) {
      payload += '\x02';
      PutText(*s, payload);
    } else {
      payload += '\x00';
    }
  }
  PutText(cursor.after_id, payload);
  auto tag = Tag(key, Binding(request), payload);
  payload.append(reinterpret_cast<const char*>(tag.data()), kTagBytes);
  return Base64UrlEncode(payload);
}

Result<PageCursor> DecodeCursor(const SearchRequest& request, const CursorKey& key) {
  auto bytes = Base64UrlDecode(request.cursor);
  if (!bytes) return BadCursor("not a cursor this server issued (not base64url)");
  if (bytes->size() < kTagBytes + 2)
    return BadCursor("not a cursor this server issued (too short)");
  std::string_view payload(bytes->data(), bytes->size() - kTagBytes);
  auto expected = Tag(key, Binding(request), payload);
  if (crypto_verify_16(reinterpret_cast<const unsigned char*>(bytes->data() + payload.size()),
                       expected.data()) != 0)
    return BadCursor(
        "failed its integrity check (it was altered, or belongs to another search or server)");

  Reader in(payload);
  unsigned char version = 0;
  uint64_t n = 0;
  if (!in.Byte(version) || version != kVersion) return BadCursor("unknown cursor version");
  if (!in.Varint(n) || n > kMaxSortValues || n != request.sort.size())
    return BadCursor("does not match the search's _sort");
  PageCursor cursor;
  for (uint64_t i = 0; i < n; ++i) {
    unsigned char tag = 0;
    if (!in.Byte(tag)) return BadCursor("truncated");
    if (tag == 0) {
      cursor.after.emplace_back(std::monostate{});
    } else if (tag == 1) {
      uint64_t z = 0;
      if (!in.Varint(z)) return BadCursor("truncated");
      cursor.after.emplace_back(static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1)));
    } else if (tag == 2) {
      std::string text;
      if (!in.Text(text)) return BadCursor("truncated");
      cursor.after.emplace_back(std::move(text));
    } else {
      return BadCursor("malformed");
    }
  }
  if (!in.Text(cursor.after_id) || !in.AtEnd() || !IsValidFhirId(cursor.after_id))
    return BadCursor("malformed");
  return cursor;
}

PageCut CutPage(size_t fetched_rows, int count) {
  const size_t page = count > 0 ? static_cast<size_t>(count) : 0;
  return {std::min(fetched_rows, page), page > 0 && fetched_rows > page};
}

PageLinks BuildPageLinks(std::string_view base_url, const SearchRequest& request,
                         const std::optional<std::string>& next_cursor) {
  std::string base =
      std::string(base_url) + "/" + request.resource_type + "?" + CanonicalQuery(request);
  PageLinks links;
  links.self = base;
  if (!request.cursor.empty())
    links.self += "&" + std::string(kCursorParam) + "=" + PercentEncode(request.cursor);
  if (next_cursor) links.next = base + "&" + std::string(kCursorParam) + "=" + *next_cursor;
  return links;
}

}  // namespace joinedup::fhir::search
