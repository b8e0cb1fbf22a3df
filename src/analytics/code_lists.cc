#include "analytics/code_lists.h"

#include <array>
#include <charconv>
#include <cmath>
#include <system_error>

namespace joinedup::analytics {
namespace {

// Characters a prefix may hold: 0 = not allowed, 1..10 digits, 11..36 letters (either case).
constexpr int kAlphabet = 37;

constexpr std::array<uint8_t, 256> MakeCharIndex() {
  std::array<uint8_t, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<uint8_t>(1 + c - '0');
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = static_cast<uint8_t>(11 + c - 'A');
  for (int c = 'a'; c <= 'z'; ++c) t[c] = static_cast<uint8_t>(11 + c - 'a');
  return t;
}
constexpr std::array<uint8_t, 256> kCharIndex = MakeCharIndex();

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

// Splits one CSV record starting at `pos`; advances `pos` past its line break.
Status SplitRecord(std::string_view text, size_t& pos, std::vector<std::string>& fields,
                   const std::string& where) {
  fields.clear();
  std::string field;
  for (;;) {
    field.clear();
    if (pos < text.size() && text[pos] == '"') {
      ++pos;
      for (;;) {
        if (pos >= text.size()) return Error::Invalid(where + "unterminated quoted field");
        const char c = text[pos++];
        if (c == '"') {
          if (pos < text.size() && text[pos] == '"') {
            field.push_back('"');
            ++pos;
          } else {
            break;
          }
        } else {
          field.push_back(c);
        }
      }
      if (pos < text.size() && text[pos] != ',' && text[pos] != '\n' && text[pos] != '\r') {
        return Error::Invalid(where + "text after a closing quote");
      }
    } else {
      while (pos < text.size() && text[pos] != ',' && text[pos] != '\n' && text[pos] != '\r') {
        if (text[pos] == '"') return Error::Invalid(where + "quote inside an unquoted field");
        field.push_back(text[pos++]);
      }
    }
    fields.push_back(field);
    if (pos >= text.size()) return Ok();
    if (text[pos] == ',') {
      ++pos;
      continue;
    }
    if (text[pos] == '\r') ++pos;
    if (pos < text.size() && text[pos] == '\n') ++pos;
    return Ok();
  }
}

}  // namespace

std::string ReferenceTable::Where(const ReferenceRow& row, std::string_view column) const {
  return file_name + ":" + std::to_string(row.line) + ": field '" + std::string(column) + "': ";
}

Result<ReferenceTable> ParseReferenceCsv(std::string_view file_name, std::string_view text,
                                         std::initializer_list<std::string_view> columns) {
  ReferenceTable table;
  table.file_name = std::string(file_name);
  size_t pos = 0;
  int line = 0;
  bool have_header = false;
  std::vector<std::string> fields;
  while (pos < text.size()) {
    ++line;
    const std::string where = table.file_name + ":" + std::to_string(line) + ": ";
    if (text[pos] == '#') {
      const size_t end = text.find('\n', pos);
      std::string_view comment = text.substr(
          pos + 1, end == std::string_view::npos ? std::string_view::npos : end - pos - 1);
      if (!comment.empty() && comment.back() == '\r') comment.remove_suffix(1);
      if (have_header) return Error::Invalid(where + "'#' line after the header");
      table.provenance.emplace_back(comment);
      pos = end == std::string_view::npos ? text.size() : end + 1;
      continue;
    }
    const size_t start = pos;
    JU_RETURN_IF_ERROR(SplitRecord(text, pos, fields, where));
    // A record may span lines inside quotes; keep the line count right for later messages.
    for (size_t i = start; i + 1 < pos; ++i) line += text[i] == '\n';
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    if (!have_header) {
      bool same = fields.size() == columns.size();
      size_t i = 0;
      for (std::string_view c : columns) same = same && fields[i++] == c;
      if (!same) {
        std::string want, got;
        for (std::string_view c : columns) want += (want.empty() ? "" : ",") + std::string(c);
        for (const auto& f : fields) got += (got.empty() ? "" : ",") + f;
        return Error::Invalid(where + "expected header '" + want + "', found '" + got + "'");
      }
      have_header = true;
      continue;
    }
    if (fields.size() != columns.size()) {
      return Error::Invalid(where + "expected " + std::to_string(columns.size()) +
                            " fields, found " + std::to_string(fields.size()));
    }
    table.rows.push_back({line, fields});
  }
  if (!have_header) return Error::Invalid(table.file_name + ": no header row");
  if (table.rows.empty()) return Error::Invalid(table.file_name + ": no data rows");
  return table;
}

Result<int> ParseIntField(std::string_view text, const std::string& where) {
  int value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return Error::Invalid(where + "'" + std::string(text) + "' is not an integer");
  }
  return value;
}

Result<double> ParseDoubleField(std::string_view text, const std::string& where) {
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() ||
      !std::isfinite(value)) {
    return Error::Invalid(where + "'" + std::string(text) + "' is not a number");
  }
  return value;
}

Result<int> ParseTenthsField(std::string_view text, const std::string& where) {
  const size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  const std::string bad =
      where + "'" + std::string(text) + "' is not a number with at most one decimal";
  if (whole.empty() || (dot != std::string_view::npos && frac.size() != 1)) {
    return Error::Invalid(bad);
  }
  for (char c : whole) {
    if (c < '0' || c > '9') return Error::Invalid(bad);
  }
  for (char c : frac) {
    if (c < '0' || c > '9') return Error::Invalid(bad);
  }
  if (whole.size() > 6) return Error::Invalid(bad);
  int tenths = 0;
  for (char c : whole) tenths = tenths * 10 + (c - '0');
  tenths *= 10;
  if (!frac.empty()) tenths += frac[0] - '0';
  return tenths;
}

std::string NormaliseIcd10(std::string_view code) {
  while (!code.empty() && IsSpace(code.front())) code.remove_prefix(1);
  while (!code.empty() && IsSpace(code.back())) code.remove_suffix(1);
  std::string out;
  out.reserve(code.size());
  for (char c : code) {
    if (c != '.') out.push_back(Upper(c));
  }
  return out;
}

int GatherIcd10Prefix(std::string_view code, char* out, int n) {
  size_t i = 0;
  while (i < code.size() && IsSpace(code[i])) ++i;
  int got = 0;
  for (; i < code.size() && got < n; ++i) {
    if (code[i] != '.') out[got++] = Upper(code[i]);
  }
  return got;
}

Icd10PrefixIndex::Icd10PrefixIndex()
    : by3_(kAlphabet * kAlphabet * kAlphabet, 0),
      block_of_(kAlphabet * kAlphabet * kAlphabet, -1) {}

int Icd10PrefixIndex::Key3(const char* c) {
  const int a = kCharIndex[static_cast<uint8_t>(c[0])];
  const int b = kCharIndex[static_cast<uint8_t>(c[1])];
  const int d = kCharIndex[static_cast<uint8_t>(c[2])];
  if (a == 0 || b == 0 || d == 0) return -1;
  return (a * kAlphabet + b) * kAlphabet + d;
}

Status Icd10PrefixIndex::Add(std::string_view prefix, uint64_t bits) {
  bool valid = prefix.size() == 3 || prefix.size() == 4;
  for (char c : prefix) valid = valid && ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'));
  if (!valid) {
    return Error::Invalid("'" + std::string(prefix) +
                          "' is not a normalised ICD-10 prefix of 3 or 4 characters");
  }
  const int key = Key3(prefix.data());
  if (prefix.size() == 3) {
    by3_[key] |= bits;
    return Ok();
  }
  if (block_of_[key] < 0) {
    block_of_[key] = static_cast<int32_t>(by4_.size() / kAlphabet);
    by4_.resize(by4_.size() + kAlphabet, 0);
  }
  by4_[static_cast<size_t>(block_of_[key]) * kAlphabet +
       kCharIndex[static_cast<uint8_t>(prefix[3])]] |= bits;
  return Ok();
}

uint64_t Icd10PrefixIndex::LookupGathered(const char* c, int n) const {
  if (n < 3) return 0;
  const int key = Key3(c);
  if (key < 0) return 0;
  uint64_t bits = by3_[key];
  if (n >= 4) {
    const int block = block_of_[key];
    const int fourth = kCharIndex[static_cast<uint8_t>(c[3])];
    if (block >= 0 && fourth != 0) bits |= by4_[static_cast<size_t>(block) * kAlphabet + fourth];
  }
  return bits;
}

}  // namespace joinedup::analytics
