// FHIR R4 search parameter parsing (https://hl7.org/fhir/R4/search.html). The resource
// registry is the single source of truth: ParseSearch accepts exactly what it lists, and the
// CapabilityStatement is generated from it.
#include "fhir/search/search_params.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "resources/registry.h"

namespace joinedup::fhir::search {

using resources::IsValidFhirId;
namespace {

// ---- The tables ----------------------------------------------------------------------------

// What is searchable, sortable and includable comes from the resource registry
// (resources/registry.h): a type is searchable when it serves search.
bool IsSearchable(std::string_view resource_type) {
  const resources::ResourceTypeDef* t = resources::FindType(resource_type);
  return t != nullptr && t->interactions.search;
}

// Hostile-input limits: a query cannot make the store build an unbounded SQL statement.
constexpr size_t kMaxParameters = 100;
constexpr size_t kMaxValuesPerParameter = 100;
constexpr size_t kMaxCursorLength = 2048;

// ---- Small helpers ---------------------------------------------------------------------------

// User text inside an error message: quoted, cut at 80 bytes, and escaped where it is not
// printable UTF-8, so a message never carries control bytes or a megabyte of input.
std::string Quoted(std::string_view text) {
  constexpr size_t kMax = 80;
  bool cut = text.size() > kMax;
  if (cut) {
    size_t end = kMax;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end);
  }
  bool utf8 = simdjson::validate_utf8(text.data(), text.size());
  std::string out = "'";
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F || (c >= 0x80 && !utf8)) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += ch;
    }
  }
  out += cut ? "…'" : "'";
  return out;
}

SearchError Invalid(std::string_view parameter, std::string_view what) {
  return {SearchErrorKind::kInvalid, std::string(parameter),
          std::string(parameter) + ": " + std::string(what)};
}
SearchError NotSupported(std::string_view parameter, std::string_view what) {
  return {SearchErrorKind::kNotSupported, std::string(parameter),
          std::string(parameter) + ": " + std::string(what)};
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Form decoding: '+' → space, %XX → byte. The result must be UTF-8 without control
// characters. `what` names the parameter (or "query") for the message.
std::variant<std::string, SearchError> FormDecode(std::string_view text, std::string_view what) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      int hi = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
      int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        return Invalid(what, "bad percent-escape at " + Quoted(text.substr(i, 3)) +
                                 " (expected % and two hex digits)");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  if (!simdjson::validate_utf8(out.data(), out.size()))
    return Invalid(what, Quoted(text) + " is not valid UTF-8 once decoded");
  for (char ch : out) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) return Invalid(what, Quoted(out) + " contains a control character");
  }
  return out;
}

// Splits at `sep` where it is not escaped by a backslash (FHIR search §3.1.1.5, "Escaping").
std::vector<std::string_view> SplitUnescaped(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == sep) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(text.substr(start));
  return parts;
}

// Removes FHIR escapes: \, \| \$ \\ stand for the character; any other backslash is an error.
std::variant<std::string, SearchError> Unescape(std::string_view text, std::string_view param) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    char next = i + 1 < text.size() ? text[i + 1] : '\0';
    if (next != ',' && next != '|' && next != '$' && next != '\\')
      return Invalid(param, Quoted(text) + ": a backslash must escape , | $ or \\");
    out += next;
    ++i;
  }
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant, "chrono-Compatible
// Low-Level Date Algorithms", days_from_civil). No range assertions: years 0001–9999 only.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at `pos`.
bool ReadDigits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!IsDigit(s[pos + i])) return false;
    v = v * 10 + (s[pos + i] - '0');
  }
  pos += n;
  out = v;
  return true;
}

constexpr int64_t kDay = 86400;

// YYYY, YYYY-MM, YYYY-MM-DD, or YYYY-MM-DDThh:mm[:ss[.f…]][Z|±hh:mm] → [start, end).
std::optional<DateValue> ReadDateRange(std::string_view s) {
  size_t pos = 0;
  int year = 0, month = 1, day = 1;
  if (!ReadDigits(s, pos, 4, year) || year < 1) return std::nullopt;
  DateValue v;
  if (pos == s.size()) {
    v.start = DaysFromCivil(year, 1, 1) * kDay;
    v.end = DaysFromCivil(year + 1, 1, 1) * kDay;
    return v;
  }
  if (s[pos++] != '-' || !ReadDigits(s, pos, 2, month) || month < 1 || month > 12)
    return std::nullopt;
  if (pos == s.size()) {
    v.start = DaysFromCivil(year, month, 1) * kDay;
    v.end = month == 12 ? DaysFromCivil(year + 1, 1, 1) * kDay
                        : DaysFromCivil(year, month + 1, 1) * kDay;
    return v;
  }
  if (s[pos++] != '-' || !ReadDigits(s, pos, 2, day) || day < 1 || day > DaysInMonth(year, month))
    return std::nullopt;
  const int64_t day_start = DaysFromCivil(year, month, day) * kDay;
  if (pos == s.size()) {
    v.start = day_start;
    v.end = day_start + kDay;
    return v;
  }
  int hour = 0, minute = 0, second = 0;
  if (s[pos++] != 'T' || !ReadDigits(s, pos, 2, hour) || hour > 23 || pos >= s.size() ||
      s[pos++] != ':' || !ReadDigits(s, pos, 2, minute) || minute > 59)
    return std::nullopt;
  int64_t width = 60;
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (!ReadDigits(s, pos, 2, second) || second > 59) return std::nullopt;
    width = 1;
    if (pos < s.size() && s[pos] == '.') {  // fractions are read and dropped: 1 s precision
      size_t digits = ++pos;
      while (pos < s.size() && IsDigit(s[pos])) ++pos;
      if (pos == digits) return std::nullopt;
    }
  }
  int64_t offset = 0;
  if (pos < s.size()) {
    char zone = s[pos++];
    if (zone == 'Z') {
      offset = 0;
    } else if (zone == '+' || zone == '-') {
      int zh = 0, zm = 0;
      if (!ReadDigits(s, pos, 2, zh) || zh > 14 || pos >= s.size() || s[pos++] != ':' ||
          !ReadDigits(s, pos, 2, zm) || zm > 59)
        return std::nullopt;
      offset = (zh * 3600 + zm * 60) * (zone == '-' ? -1 : 1);
    } else {
      return std::nullopt;
    }
  }
  if (pos != s.size()) return std::nullopt;
  v.start = day_start + hour * 3600 + minute * 60 + second - offset;
  v.end = v.start + width;
  return v;
}

constexpr std::pair<std::string_view, DatePrefix> kPrefixes[] = {
    {"eq", DatePrefix::kEq}, {"ne", DatePrefix::kNe}, {"lt", DatePrefix::kLt},
    {"le", DatePrefix::kLe}, {"gt", DatePrefix::kGt}, {"ge", DatePrefix::kGe},
    {"sa", DatePrefix::kSa}, {"eb", DatePrefix::kEb}, {"ap", DatePrefix::kAp}};

std::variant<SearchValue, SearchError> ParseDate(std::string_view text, std::string_view param) {
  DatePrefix prefix = DatePrefix::kEq;
  std::string_view rest = text;
  if (!rest.empty() && !IsDigit(rest[0])) {
    auto it = std::find_if(std::begin(kPrefixes), std::end(kPrefixes),
                           [&](const auto& p) { return rest.substr(0, 2) == p.first; });
    if (it == std::end(kPrefixes))
      return Invalid(
          param,
          Quoted(text) + " has an unknown prefix (expected eq, ne, lt, le, gt, ge, sa, eb or ap)");
    prefix = it->second;
    rest.remove_prefix(2);
  }
  auto range = ReadDateRange(rest);
  if (!range) {
    std::string why = Quoted(text) +
                      " is not a date (expected YYYY, YYYY-MM, YYYY-MM-DD or "
                      "YYYY-MM-DDThh:mm[:ss][Z|±hh:mm], optionally after a prefix)";
    if (rest.find(' ') != std::string_view::npos)
      why += "; a '+' in a time zone must be sent as %2B";
    return Invalid(param, why);
  }
  range->prefix = prefix;
  if (prefix == DatePrefix::kAp) {  // widened as resources/query.h says
    const int64_t margin = std::max(range->end - range->start, kDay);
    range->start -= margin;
    range->end += margin;
  }
  return SearchValue(*range);
}

constexpr std::string_view kGenders[] = {"male", "female", "other", "unknown"};

std::variant<SearchValue, SearchError> ParseToken(std::string_view text, const SearchParamDef& def,
                                                  std::string_view param) {
  auto parts = SplitUnescaped(text, '|');
  if (parts.size() > 2)
    return Invalid(param, Quoted(text) + " has more than one unescaped '|' (expected system|code)");
  TokenValue token;
  if (parts.size() == 2) {
    auto system = Unescape(parts[0], param);
    if (auto* e = std::get_if<SearchError>(&system)) return *e;
    auto code = Unescape(parts[1], param);
    if (auto* e = std::get_if<SearchError>(&code)) return *e;
    if (std::get<std::string>(system).empty() && std::get<std::string>(code).empty())
      return Invalid(param, "'|' needs a system, a code or both");
    token.system = std::move(std::get<std::string>(system));
    if (!std::get<std::string>(code).empty()) token.code = std::move(std::get<std::string>(code));
  } else {
    auto code = Unescape(parts[0], param);
    if (auto* e = std::get_if<SearchError>(&code)) return *e;
    token.code = std::move(std::get<std::string>(code));
  }
  if (def.name == "_id") {
    if (token.system || !IsValidFhirId(*token.code))
      return Invalid(param, Quoted(text) + " is not a FHIR id ([A-Za-z0-9-.]{1,64})");
  }
  if (def.name == "gender" && token.code &&
      std::find(std::begin(kGenders), std::end(kGenders), *token.code) == std::end(kGenders))
    return Invalid(param, Quoted(*token.code) + " is not a gender (male, female, other, unknown)");
  return SearchValue(std::move(token));
}

std::variant<SearchValue, SearchError> ParseReference(std::string_view text,
                                                      const SearchParamDef& def,
                                                      std::string_view param) {
  ReferenceValue ref;
  ref.type = std::string(def.target_type);
  std::string_view id = text;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    std::string_view type = text.substr(0, slash);
    id = text.substr(slash + 1);
    if (type != def.target_type || id.find('/') != std::string_view::npos)
      return Invalid(
          param, Quoted(text) + " must be " + std::string(def.target_type) + "/<id> or a bare id");
  }
  if (!IsValidFhirId(id))
    return Invalid(param, Quoted(id) + " is not a FHIR id ([A-Za-z0-9-.]{1,64})");
  ref.id = std::string(id);
  return SearchValue(std::move(ref));
}

std::variant<SearchValue, SearchError> ParseValue(std::string_view item, const SearchParamDef& def,
                                                  std::string_view param) {
  switch (def.type) {
    case ParamType::kToken:
      return ParseToken(item, def, param);
    case ParamType::kDate:
    case ParamType::kReference:
    case ParamType::kUri:
    case ParamType::kString: {
      auto text = Unescape(item, param);
      if (auto* e = std::get_if<SearchError>(&text)) return *e;
      std::string& value = std::get<std::string>(text);
      if (def.type == ParamType::kDate) return ParseDate(value, param);
      if (def.type == ParamType::kReference) return ParseReference(value, def, param);
      // A uri matches exactly, whole (R4 search §3.1.1.4.13): a code without a system.
      if (def.type == ParamType::kUri)
        return SearchValue(TokenValue{std::nullopt, std::move(value)});
      return SearchValue(StringValue{value, FoldForSearch(value)});
    }
  }
  return Invalid(param, "unsupported parameter type");
}

bool IsElementName(std::string_view name) {
  if (name.empty() || name.size() > 64 || !(name[0] >= 'a' && name[0] <= 'z')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c);
  });
}

std::string JoinNames(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

// The state of one ParseSearch call.
class Parser {
 public:
  Parser(std::string_view type, UnknownParams unknown) : unknown_(unknown) {
    request_.resource_type = std::string(type);
  }

  std::optional<SearchError> Add(const std::string& name, const std::string& value) {
    std::string_view base = name;
    std::string_view modifier;
    if (size_t colon = base.find(':'); colon != std::string_view::npos) {
      modifier = base.substr(colon + 1);
      base = base.substr(0, colon);
    }
    if (!base.empty() && base[0] == '_' && FindSearchParam(request_.resource_type, base) == nullptr)
      return AddResultParam(name, base, modifier, value);
    return AddFilter(name, base, modifier, value);
  }

  SearchRequest Finish() { return std::move(request_); }

 private:
  std::optional<SearchError> Unknown(std::string_view name, std::string why) {
    if (unknown_ == UnknownParams::kLenient) {
      request_.ignored.push_back(std::string(name) + ": " + why + ", ignored");
      return std::nullopt;
    }
    return NotSupported(name, why);
  }

  std::optional<SearchError> Once(std::string_view name, bool& seen) {
    if (seen) return Invalid(name, "given more than once");
    seen = true;
    return std::nullopt;
  }

  std::optional<SearchError> AddFilter(const std::string& name, std::string_view base,
                                       std::string_view modifier, const std::string& value) {
    if (base.find('.') != std::string_view::npos)
      return Unknown(name, "chained parameters are not supported");
    const SearchParamDef* def = FindSearchParam(request_.resource_type, base);
    if (def == nullptr)
      return Unknown(name, "unknown parameter for " + request_.resource_type +
                               " (supported: " + SupportedNames() + ")");
    Filter filter;
    filter.param = def;
    if (!modifier.empty()) {
      if (def->type == ParamType::kString && modifier == "exact") {
        filter.modifier = Modifier::kExact;
      } else if (def->type == ParamType::kString && modifier == "contains") {
        filter.modifier = Modifier::kContains;
      } else if (def->type == ParamType::kReference && modifier == def->target_type) {
        // `subject:Patient=1` says what `subject=1` already means here.
      } else {
        return Unknown(
            name, "modifier :" + std::string(modifier) + " is not supported" +
                      (def->type == ParamType::kString ? " (supported: :exact, :contains)" : ""));
      }
    }
    if (value.empty()) {  // an empty form field: no filter (as most servers do), but say so
      request_.ignored.push_back(name + ": empty value, ignored");
      return std::nullopt;
    }
    auto items = SplitUnescaped(value, ',');
    if (items.size() > kMaxValuesPerParameter)
      return Invalid(
          name, "more than " + std::to_string(kMaxValuesPerParameter) + " comma-separated values");
    for (std::string_view item : items) {
      if (item.empty()) return Invalid(name, Quoted(value) + " has an empty value in its list");
      auto parsed = ParseValue(item, *def, name);
      if (auto* e = std::get_if<SearchError>(&parsed)) return std::move(*e);
      filter.any_of.push_back(std::move(std::get<SearchValue>(parsed)));
    }
    filter.raw_value = value;
    request_.filters.push_back(std::move(filter));
    return std::nullopt;
  }

  std::optional<SearchError> AddResultParam(const std::string& name, std::string_view base,
                                            std::string_view modifier, const std::string& value) {
    static constexpr std::string_view kResultParams[] = {"_count",      "_sort",     "_summary",
                                                         "_total",      "_elements", "_include",
                                                         "_revinclude", kCursorParam};
    if (std::find(std::begin(kResultParams), std::end(kResultParams), base) ==
        std::end(kResultParams))
      return Unknown(name, "unknown parameter for " + request_.resource_type +
                               " (supported: " + SupportedNames() + ")");
    if (!modifier.empty())
      return Unknown(name, "modifier :" + std::string(modifier) + " is not supported");
    if (value.empty()) return Invalid(name, "has no value");
    if (base == "_count") return SetCount(value);
    if (base == "_sort") return SetSort(value);
    if (base == "_summary") {
      if (auto e = Once(name, seen_summary_)) return e;
      if (value == "count")
        request_.summary_count = true;
      else if (value != "false")
        return NotSupported(name, Quoted(value) + " is not supported (supported: count, false)");
      return std::nullopt;
    }
    if (base == "_total") {
      if (auto e = Once(name, seen_total_)) return e;
      if (value == "none")
        request_.total = Total::kNone;
      else if (value == "estimate")
        request_.total = Total::kEstimate;
      else if (value == "accurate")
        request_.total = Total::kAccurate;
      else
        return Invalid(name, Quoted(value) + " is not one of none, estimate, accurate");
      return std::nullopt;
    }
    if (base == "_elements") {
      if (auto e = Once(name, seen_elements_)) return e;
      for (std::string_view element : SplitUnescaped(value, ',')) {
        if (!IsElementName(element))
          return Invalid(name, Quoted(element) + " is not a top-level element name");
        request_.elements.emplace_back(element);
      }
      return std::nullopt;
    }
    if (base == kCursorParam) {
      if (auto e = Once(name, seen_cursor_)) return e;
      if (value.size() > kMaxCursorLength) return Invalid(name, "the cursor is too long");
      request_.cursor = value;
      return std::nullopt;
    }
    return AddInclude(name, base == "_revinclude", value);
  }

  std::optional<SearchError> SetCount(const std::string& value) {
    if (auto e = Once("_count", seen_count_)) return e;
    if (!std::all_of(value.begin(), value.end(), IsDigit))
      return Invalid("_count", Quoted(value) + " is not a whole number ≥ 0");
    // Above the maximum is clamped, never refused (however many digits).
    size_t first = value.find_first_not_of('0');
    std::string_view digits =
        first == std::string::npos ? "0" : std::string_view(value).substr(first);
    int count = kMaxCount + 1;
    if (digits.size() <= 9) std::from_chars(digits.data(), digits.data() + digits.size(), count);
    request_.count_clamped = count > kMaxCount;
    request_.count = std::min(count, kMaxCount);
    return std::nullopt;
  }

  std::optional<SearchError> SetSort(const std::string& value) {
    if (auto e = Once("_sort", seen_sort_)) return e;
    const auto keys = SortKeysOf(request_.resource_type);
    for (std::string_view item : SplitUnescaped(value, ',')) {
      SortKey key;
      if (!item.empty() && item[0] == '-') {
        key.descending = true;
        item.remove_prefix(1);
      }
      auto it = std::find(keys.begin(), keys.end(), item);
      if (it == keys.end())
        return Invalid("_sort", Quoted(item) + " is not a sort key for " + request_.resource_type +
                                    " (supported: " + JoinNames(keys) + ")");
      for (const SortKey& earlier : request_.sort)
        if (earlier.name == *it) return Invalid("_sort", Quoted(item) + " is given twice");
      key.name = *it;
      request_.sort.push_back(key);
    }
    return std::nullopt;
  }

  std::optional<SearchError> AddInclude(const std::string& name, bool reverse,
                                        const std::string& value) {
    auto parts = SplitUnescaped(value, ':');
    if (value == "*") return NotSupported(name, "'*' is not supported; name the reference");
    if (parts.size() < 2 || parts.size() > 3)
      return Invalid(name, Quoted(value) + " is not Source:parameter[:Target]");
    const IncludeDef* found = nullptr;
    for (const IncludeDef& def : Includes())
      if (def.source_type == parts[0] && def.param == parts[1]) found = &def;
    if (found == nullptr || (parts.size() == 3 && parts[2] != found->target_type))
      return NotSupported(
          name, Quoted(value) + " is not supported (supported: " + IncludeNames(reverse) + ")");
    std::string_view anchor = reverse ? found->target_type : found->source_type;
    if (anchor != request_.resource_type)
      return Invalid(name, Quoted(value) +
                               (reverse ? " does not point to " : " does not start from ") +
                               request_.resource_type);
    auto& list = reverse ? request_.revincludes : request_.includes;
    if (std::find(list.begin(), list.end(), found) == list.end()) list.push_back(found);
    return std::nullopt;
  }

  std::string SupportedNames() const {
    std::vector<std::string_view> names;
    for (const SearchParamDef* def : SearchParamsOf(request_.resource_type))
      names.push_back(def->name);
    for (std::string_view n :
         {"_count", "_sort", "_summary", "_total", "_elements", "_include", "_revinclude"})
      names.push_back(n);
    return JoinNames(names);
  }

  std::string IncludeNames(bool reverse) const {
    std::string out;
    for (const IncludeDef& def : Includes()) {
      if ((reverse ? def.target_type : def.source_type) != request_.resource_type) continue;
      if (!out.empty()) out += ", ";
      out += def.ToString();
    }
    return out.empty() ? "none for " + request_.resource_type : out;
  }

  SearchRequest request_;
  UnknownParams unknown_;
  bool seen_count_ = false, seen_sort_ = false, seen_summary_ = false, seen_total_ = false,
       seen_elements_ = false, seen_cursor_ = false;
};

}  // namespace

// ---- Public functions ------------------------------------------------------------------------

std::optional<DateValue> ParseDateRange(std::string_view text) { return ReadDateRange(text); }

std::string_view DatePrefixName(DatePrefix prefix) {
  for (const auto& [name, p] : kPrefixes)
    if (p == prefix) return name;
  return "";
}

std::span<const std::string_view> SearchableTypes() {
  static const std::vector<std::string_view> types = [] {
    std::vector<std::string_view> out;
    for (const resources::ResourceTypeDef& t : resources::AllTypes())
      if (t.interactions.search) out.push_back(t.name);
    return out;
  }();
  return types;
}

std::vector<const SearchParamDef*> SearchParamsOf(std::string_view resource_type) {
  std::vector<const SearchParamDef*> out;
  if (!IsSearchable(resource_type)) return out;
  for (const SearchParamDef& def : resources::CommonParams()) out.push_back(&def);
  for (const SearchParamDef& def : resources::FindType(resource_type)->params) out.push_back(&def);
  return out;
}

const SearchParamDef* FindSearchParam(std::string_view resource_type, std::string_view name) {
  for (const SearchParamDef* def : SearchParamsOf(resource_type))
    if (def->name == name) return def;
  return nullptr;
}

std::vector<std::string_view> SortKeysOf(std::string_view resource_type) {
  std::vector<std::string_view> out;
  const resources::ResourceTypeDef* type = resources::FindType(resource_type);
  if (type == nullptr || type->fixed_order) return out;
  for (const SearchParamDef* def : SearchParamsOf(resource_type))
    if (def->sortable) out.push_back(def->name);
  return out;
}

std::span<const IncludeDef> Includes() {
  static const std::vector<IncludeDef> includes = [] {
    std::vector<IncludeDef> out;
    for (std::string_view type : SearchableTypes())
      for (const SearchParamDef* def : SearchParamsOf(type))
        if (def->includable) out.push_back({def->resource_type, def->name, def->target_type});
    return out;
  }();
  return includes;
}

std::variant<SearchRequest, SearchError> ParseSearch(std::string_view resource_type,
                                                     std::string_view query,
                                                     UnknownParams unknown) {
  if (SearchParamsOf(resource_type).empty())
    return SearchError{SearchErrorKind::kNotSupported, "",
                       "resource type " + Quoted(resource_type) + " cannot be searched"};
  Parser parser(resource_type, unknown);
  size_t parameters = 0;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    if (++parameters > kMaxParameters)
      return Invalid("query", "more than " + std::to_string(kMaxParameters) + " parameters");
    size_t eq = pair.find('=');
    auto name = FormDecode(pair.substr(0, eq), "query");
    if (auto* e = std::get_if<SearchError>(&name)) return std::move(*e);
    const std::string& decoded_name = std::get<std::string>(name);
    if (decoded_name.empty())
      return Invalid("query", Quoted(pair) + " has a value but no parameter name");
    auto value = FormDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), decoded_name);
    if (auto* e = std::get_if<SearchError>(&value)) return std::move(*e);
    if (auto error = parser.Add(decoded_name, std::get<std::string>(value)))
      return std::move(*error);
  }
  return parser.Finish();
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(ch) || c == '-' ||
                 c == '.' || c == '_' || c == '~' || c == ':' || c == '/' || c == ',' || c == '@';
    if (plain) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string CanonicalQuery(const SearchRequest& request) {
  std::string out;
  auto add = [&out](std::string_view name, std::string_view value) {
    if (!out.empty()) out += '&';
    out += PercentEncode(name);
    out += '=';
    out += PercentEncode(value);
  };
  for (const Filter& filter : request.filters) {
    std::string name(filter.param->name);
    if (filter.modifier == Modifier::kExact) name += ":exact";
    if (filter.modifier == Modifier::kContains) name += ":contains";
    add(name, filter.raw_value);
  }
  if (!request.sort.empty()) {
    std::string sort;
    for (const SortKey& key : request.sort) {
      if (!sort.empty()) sort += ',';
      if (key.descending) sort += '-';
      sort += key.name;
    }
    add("_sort", sort);
  }
  add("_count", std::to_string(request.count));
  if (request.summary_count) add("_summary", "count");
  switch (request.total) {
    case Total::kDefault:
      break;
    case Total::kNone:
      add("_total", "none");
      break;
    case Total::kEstimate:
      add("_total", "estimate");
      break;
    case Total::kAccurate:
      add("_total", "accurate");
      break;
  }
  if (!request.elements.empty()) {
    std::string elements;
    for (const std::string& e : request.elements) {
      if (!elements.empty()) elements += ',';
      elements += e;
    }
    add("_elements", elements);
  }
  for (const IncludeDef* def : request.includes) add("_include", def->ToString());
  for (const IncludeDef* def : request.revincludes) add("_revinclude", def->ToString());
  return out;
}

}  // namespace joinedup::fhir::search
