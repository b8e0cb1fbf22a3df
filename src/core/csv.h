// Writing CSV fields (RFC 4180): every file joinedup writes quotes the same way.
#pragma once

#include <string>
#include <string_view>

namespace joinedup {

// Appends `text` as one field: as it is, or in double quotes with inner quotes doubled when it
// holds a comma, a quote or a line break.
void AppendCsvField(std::string& out, std::string_view text);

}  // namespace joinedup
