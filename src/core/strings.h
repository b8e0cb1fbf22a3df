// Small string helpers shared by the layers above (JSON writers, the HTTP layers).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace joinedup {

// `text` cut at every `separator`: n separators give n + 1 parts, empty ones included
// ("a,,b" → "a", "", "b"; "" → one empty part). The parts point into `text`.
std::vector<std::string_view> Split(std::string_view text, char separator);

// `text` as a JSON string, quotes included, appended to `out` (RFC 8259 §7: `"`, `\` and
// control characters escaped; everything else, UTF-8 included, as it is).
void AppendJsonString(std::string_view text, std::string& out);

// A 64-bit FNV-1a hash of `text`: the same on every machine and build (unlike std::hash), so it
// may be stored. Not for security.
int64_t StableHash64(std::string_view text);

}  // namespace joinedup
