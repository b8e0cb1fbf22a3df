// Small string helpers shared by the layers above (JSON writers, the HTTP layers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace joinedup {

// `text` cut at every `separator`: n separators give n + 1 parts, empty ones included
// ("a,,b" → "a", "", "b"; "" → one empty part). The parts point into `text`.
std::vector<std::string_view> Split(std::string_view text, char separator);

// `text` without the ASCII white space (space, tab, CR, LF, FF, VT) at either end.
std::string_view TrimSpace(std::string_view text);

// `text` as a JSON string, quotes included, appended to `out` (RFC 8259 §7: `"`, `\` and
// control characters escaped; everything else, UTF-8 included, as it is).
void AppendJsonString(std::string_view text, std::string& out);

// UTF-8 as RFC 3629 §4 defines it: no overlong forms, no surrogates, nothing above U+10FFFF.
// The length of the well-formed sequence starting at text[i] (i < text.size()), else 0.
size_t Utf8SequenceLength(std::string_view text, size_t i);
// The length of the longest well-formed prefix (text.size() when all of it is).
size_t ValidUtf8Prefix(std::string_view text);
bool IsValidUtf8(std::string_view text);

// application/x-www-form-urlencoded decoding of one name or value: '+' is a space, %XX a byte;
// empty on a bad or cut-off %XX escape. The bytes are not checked to be UTF-8.
std::optional<std::string> FormDecode(std::string_view text);

// A 64-bit FNV-1a hash of `text`: the same on every machine and build (unlike std::hash), so it
// may be stored. Not for security.
int64_t StableHash64(std::string_view text);

// A non-negative decimal of at most 18 digits and nothing else ("007" is 7); nullopt otherwise.
// For version numbers and sequence numbers that arrive as text.
std::optional<int64_t> ParseNonNegative(std::string_view text);

}  // namespace joinedup
