// Small string helpers shared by the HTTP layers (src/server, src/api).
#pragma once

#include <string_view>
#include <vector>

namespace joinedup {

// `text` cut at every `separator`: n separators give n + 1 parts, empty ones included
// ("a,,b" → "a", "", "b"; "" → one empty part). The parts point into `text`.
std::vector<std::string_view> Split(std::string_view text, char separator);

}  // namespace joinedup
