#include "resources/query.h"

namespace joinedup::resources {

std::string IncludeDef::ToString() const {
  return std::string(source_type) + ":" + std::string(param);
}

bool DateMatches(const DateValue& value, int64_t target_start, int64_t target_end) {
  const bool eq = target_start >= value.start && target_end <= value.end;
  const bool gt = target_end > value.end;
  const bool lt = target_start < value.start;
  switch (value.prefix) {
    case DatePrefix::kEq:
      return eq;
    case DatePrefix::kNe:
      return !eq;
    case DatePrefix::kGt:
      return gt;
    case DatePrefix::kLt:
      return lt;
    case DatePrefix::kGe:
      return gt || eq;
    case DatePrefix::kLe:
      return lt || eq;
    case DatePrefix::kSa:
      return target_start >= value.end;
    case DatePrefix::kEb:
      return target_end <= value.start;
  }
  return false;
}

}  // namespace joinedup::resources
