// Keyset paging cursors and links. The cursor layout (version 2):
//
//   payload = 0x02 | varint n | n × value | varint len | id bytes
//   value   = 0x00 (null) | 0x01 zigzag-varint (number) | 0x02 varint len bytes (text)
//   cursor  = base64url(nonce | XChaCha20-Poly1305(key, nonce, payload,
//                                                  ad = "joinedup-cursor-2" 0x00 binding))
//
// The sort values are a row's (a family name, a birth date): the cursor is encrypted, not only
// signed, so a link in a log, a browser history or a proxy says nothing about anyone. `binding`
// is the search the cursor belongs to (type, filters, sort), authenticated with the payload; a
// random 192-bit nonce per cursor (libsodium's XChaCha20-Poly1305-IETF) makes nonce reuse
// negligible without a counter shared between servers.
#include "fhir/search/paging.h"

#include <sodium.h>

#include <cassert>
#include <cstdio>
#include <cstring>

#include "resources/registry.h"

namespace joinedup::fhir::search {

using resources::IsValidFhirId;
namespace {

constexpr unsigned char kVersion = 2;
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr size_t kMaxSortValues = 16;
constexpr std::string_view kDomain = "joinedup-cursor-2";
static_assert(CursorKey::kBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);

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

// What the encryption authenticates beside the payload: the cursor's purpose and its search.
std::string AdditionalData(const SearchRequest& request) {
  std::string ad(kDomain);
  ad += '\0';
  ad += Binding(request);
  return ad;
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

CursorKey CursorKey::FromBytesOrGenerate(std::string_view bytes) {
  auto key = FromBytes(bytes);
  if (key.ok()) return *key;
  std::fprintf(stderr, "joinedup: no 32-byte cursor key given; using a random one\n");
  return Generate();
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
  const std::string ad = AdditionalData(request);
  std::string sealed(kNonceBytes + payload.size() + kTagBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  [[maybe_unused]] static const bool initialised = sodium_init() >= 0;
  randombytes_buf(out, kNonceBytes);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      out + kNonceBytes, &written, reinterpret_cast<const unsigned char*>(payload.data()),
      payload.size(), reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr, out,
      key.bytes().data());
  sealed.resize(kNonceBytes + written);
  return Base64UrlEncode(sealed);
}

Result<PageCursor> DecodeCursor(const SearchRequest& request, const CursorKey& key) {
  auto bytes = Base64UrlDecode(request.cursor);
  if (!bytes) return BadCursor("not a cursor this server issued (not base64url)");
  if (bytes->size() < kNonceBytes + kTagBytes + 2)
    return BadCursor("not a cursor this server issued (too short)");
  const std::string ad = AdditionalData(request);
  const auto* in_bytes = reinterpret_cast<const unsigned char*>(bytes->data());
  std::string opened(bytes->size() - kNonceBytes - kTagBytes, '\0');
  unsigned long long opened_size = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(opened.data()), &opened_size, nullptr,
          in_bytes + kNonceBytes, bytes->size() - kNonceBytes,
          reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), in_bytes,
          key.bytes().data()) != 0)
    return BadCursor(
        "failed its integrity check (it was altered, or belongs to another search or server)");
  opened.resize(opened_size);
  std::string_view payload = opened;

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
