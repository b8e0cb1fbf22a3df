#include "analytics/segmentation.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <set>
#include <thread>
#include <utility>

#include <fmt/format.h>

namespace joinedup::analytics {
namespace {

// Deeper than this is a mistake, not a model; the limit also bounds the parser's recursion.
constexpr int kMaxNesting = 32;

bool IsFlag(Feature f) {
  switch (f) {
    case Feature::kMentalHealthNeed:
    case Feature::kSocialCareNeed:
    case Feature::kContinuingHealthcare:
    case Feature::kCareHome:
    case Feature::kSocialCarePackage:
      return true;
    default:
      return false;
  }
}

// Stored as float in PersonFeatures: thresholds are rounded to float so comparisons are exact.
bool IsFloatBacked(Feature f) {
  return f == Feature::kAdmissionRisk || f == Feature::kCostPercentile;
}

// Sex levels (female, male, other, unknown) are names, not a scale.
bool IsOrdered(Feature f) { return f != Feature::kSex; }

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string JoinNames(std::span<const std::string_view> names, std::string_view last_sep) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? last_sep : std::string_view(", ");
    out += names[i];
  }
  return out;
}

std::string AllFeatureNames() {
  std::vector<std::string_view> names;
  for (int i = 0; i < kFeatureCount; ++i) names.push_back(FeatureName(static_cast<Feature>(i)));
  return JoinNames(names, ", ");
}

// Shortest round-trip digits in plain notation (never 1e+23), which the rule lexer and JSON
// both read back.
std::string FormatNumber(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[512];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return ec == std::errc() ? std::string(buf, end) : "null";
}

// A piece of a statement's text: the statement's first line, or a continuation line.
struct Part {
  int line = 0;
  int column = 0;  // 1-based column of text[0]
  std::string_view text;
};

struct Token {
  enum class Kind { kIdent, kNumber, kString, kCompare, kLeftParen, kRightParen, kEnd };
  Kind kind = Kind::kEnd;
  std::string_view text;
  int line = 0;
  int column = 0;
  double number = 0;
  CompareOp op = CompareOp::kEqual;
};

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Token::Kind::kEnd:
      return "the end of the statement";
    case Token::Kind::kString:
      return fmt::format("the label \"{}\"", t.text);
    default:
      return fmt::format("'{}'", t.text);
  }
}

class Parser {
 public:
  Parser(std::string_view file_name, std::string_view text) : file_(file_name), text_(text) {
    model_.file_name = std::string(file_name);
  }

  Result<SegmentationModel> Parse() {
    JU_RETURN_IF_ERROR(SplitStatements());
    for (const auto& statement : statements_) JU_RETURN_IF_ERROR(ParseStatement(statement));
    if (model_line_ == 0) return Fail(1, 1, "missing 'model:' header naming the model");
    if (version_line_ == 0)
      return Fail(model_line_, 1, fmt::format("model '{}' has no 'version:' header", model_.name));
    if (model_.segments.empty())
      return Fail(last_line_, 1,
                  "the model has no segments: expected at least one rule "
                  "'segment <id> \"<label>\" when <condition>'");
    return std::move(model_);
  }

 private:
  Error Fail(int line, int column, std::string_view what) const {
    return Error::Invalid(fmt::format("{}:{}:{}: {}", file_, line, column, what));
  }
  Error Fail(const Token& at, std::string_view what) const {
    return Fail(at.line, at.column, what);
  }

  // Lines → statements: a line starting in column 1 opens one, indented lines continue it.
  Status SplitStatements() {
    int number = 0;
    size_t pos = 0;
    while (pos < text_.size()) {
      size_t end = text_.find('\n', pos);
      if (end == std::string_view::npos) end = text_.size();
      std::string_view line = text_.substr(pos, end - pos);
      pos = end + 1;
      ++number;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      JU_RETURN_IF_ERROR(CheckCharacters(number, line));
      size_t indent = 0;
      while (indent < line.size() && IsSpace(line[indent])) ++indent;
      if (indent == line.size() || line[indent] == '#') continue;
      last_line_ = number;
      Part part{number, static_cast<int>(indent) + 1, line.substr(indent)};
      if (indent == 0) {
        statements_.push_back({part});
      } else if (statements_.empty()) {
        return Fail(number, static_cast<int>(indent) + 1,
                    "indented line continues nothing: statements start in column 1");
      } else {
        statements_.back().push_back(part);
      }
    }
    if (last_line_ == 0) last_line_ = std::max(number, 1);
    return Ok();
  }

  // Valid UTF-8 without control characters (tabs aside), so labels can go into JSON as they are.
  Status CheckCharacters(int line, std::string_view text) {
    for (size_t i = 0; i < text.size();) {
      const auto c = static_cast<unsigned char>(text[i]);
      const int column = static_cast<int>(i) + 1;
      if (c < 0x80) {
        if ((c < 0x20 && c != '\t') || c == 0x7F)
          return Fail(line, column, fmt::format("unexpected control character 0x{:02X}", c));
        ++i;
        continue;
      }
      size_t length = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
      if (c >= 0xF5) length = 0;
      bool valid = length != 0 && i + length <= text.size();
      for (size_t k = 1; valid && k < length; ++k)
        valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
      if (valid && length == 3) {  // no overlongs, no surrogates
        const auto c1 = static_cast<unsigned char>(text[i + 1]);
        valid = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);
      }
      if (valid && length == 4) {
        const auto c1 = static_cast<unsigned char>(text[i + 1]);
        valid = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
      }
      if (!valid) return Fail(line, column, "invalid UTF-8: model files must be UTF-8 text");
      i += length;
    }
    return Ok();
  }

  Status ParseStatement(const std::vector<Part>& parts) {
    const Part& first = parts.front();
    size_t word_end = 0;
    while (word_end < first.text.size() && IsIdentChar(first.text[word_end])) ++word_end;
    size_t colon = word_end;
    while (colon < first.text.size() && IsSpace(first.text[colon])) ++colon;
    if (word_end > 0 && colon < first.text.size() && first.text[colon] == ':') {
      std::vector<Part> value = parts;
      value.front().text = first.text.substr(colon + 1);
      value.front().column = first.column + static_cast<int>(colon) + 1;
      return ParseHeader(first, first.text.substr(0, word_end), value);
    }
    if (first.text.substr(0, word_end) == "segment") return ParseRule(parts);
    return Fail(first.line, first.column,
                "expected a header (model:, version:, label:, source:, population:) or a rule "
                "'segment <id> \"<label>\" when <condition>'");
  }

  // Free text: comments cut, pieces trimmed and joined with one space.
  static std::string TextValue(const std::vector<Part>& parts) {
    std::string out;
    for (const Part& part : parts) {
      std::string_view t = part.text.substr(0, part.text.find('#'));
      while (!t.empty() && IsSpace(t.front())) t.remove_prefix(1);
      while (!t.empty() && IsSpace(t.back())) t.remove_suffix(1);
      if (t.empty()) continue;
      if (!out.empty()) out += ' ';
      out += t;
    }
    return out;
  }

  Status ParseHeader(const Part& at, std::string_view key, const std::vector<Part>& value) {
    int* seen = nullptr;
    if (key == "model")
      seen = &model_line_;
    else if (key == "version")
      seen = &version_line_;
    else if (key == "label")
      seen = &label_line_;
    else if (key == "population")
      seen = &population_line_;
    else if (key != "source")
      return Fail(at.line, at.column,
                  fmt::format("unknown header '{}:' (expected model:, version:, label:, source: "
                              "or population:)",
                              key));
    if (seen != nullptr && *seen != 0)
      return Fail(at.line, at.column,
                  fmt::format("duplicate '{}:' header (first on line {})", key, *seen));
    if (seen != nullptr) *seen = at.line;

    const int value_column = value.front().column;
    if (key == "population") {
      JU_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(value));
      if (tokens.front().kind == Token::Kind::kEnd)
        return Fail(at.line, value_column, "expected a condition after 'population:'");
      size_t next = 0;
      JU_ASSIGN_OR_RETURN(model_.population, ParseCondition(tokens, next, 0));
      return ExpectEnd(tokens[next], "the population condition");
    }
    std::string text = TextValue(value);
    if (text.empty())
      return Fail(at.line, value_column, fmt::format("expected a value after '{}:'", key));
    if (key == "model") {
      for (char c : text)
        if (!((c >= 'a' && c <= 'z') || IsDigit(c) || c == '_'))
          return Fail(
              at.line, value_column,
              fmt::format("model name '{}' must be lower-case letters, digits and _", text));
      model_.name = std::move(text);
    } else if (key == "version") {
      model_.version = std::move(text);
    } else if (key == "label") {
      model_.label = std::move(text);
    } else {
      model_.sources.push_back(std::move(text));
    }
    return Ok();
  }

  Status ExpectEnd(const Token& t, std::string_view what) {
    if (t.kind == Token::Kind::kEnd) return Ok();
    return Fail(t,
                fmt::format("expected 'and', 'or' or the end of {}, found {}", what, Describe(t)));
  }

  Status ParseRule(const std::vector<Part>& parts) {
    JU_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(parts));
    size_t i = 1;  // tokens[0] is `segment`
    const Token& id = tokens[i];
    if (id.kind != Token::Kind::kIdent)
      return Fail(id, fmt::format("expected a segment id after 'segment' (e.g. tier3), found {}",
                                  Describe(id)));
    for (const Segment& s : model_.segments)
      if (s.id == id.text)
        return Fail(id,
                    fmt::format("duplicate segment id '{}' (first on line {})", id.text, s.line));
    const Token& label = tokens[++i];
    if (label.kind != Token::Kind::kString || label.text.empty())
      return Fail(label,
                  fmt::format("expected a quoted label after '{}' (e.g. \"Tier 3\"), found {}",
                              id.text, Describe(label)));
    Segment segment;
    segment.id = std::string(id.text);
    segment.label = std::string(label.text);
    segment.line = parts.front().line;
    ++i;
    const Token& after_label = tokens[i];
    if (tokens[i].kind == Token::Kind::kIdent && tokens[i].text == "rank") {
      const Token& rank = tokens[++i];
      if (rank.kind != Token::Kind::kNumber || rank.number != std::floor(rank.number) ||
          std::abs(rank.number) > 1000)
        return Fail(rank, fmt::format("expected a whole number from -1000 to 1000 after 'rank', "
                                      "found {}",
                                      Describe(rank)));
      segment.rank = static_cast<int>(rank.number);
      ++i;
    }
    if (!model_.segments.empty() &&
        model_.segments.front().rank.has_value() != segment.rank.has_value())
      return Fail(after_label,
                  segment.rank ? fmt::format("segment '{}' has a rank but the segments before it "
                                             "have none: give every segment a rank or none",
                                             segment.id)
                               : fmt::format("segment '{}' has no rank but the segments before it "
                                             "have: give every segment a rank or none",
                                             segment.id));
    const Token& when = tokens[i];
    if (when.kind != Token::Kind::kIdent || when.text != "when")
      return Fail(when, fmt::format("expected {}'when' and a condition, found {}",
                                    segment.rank ? "" : "'rank <n>' or ", Describe(when)));
    if (tokens[++i].kind == Token::Kind::kEnd)
      return Fail(tokens[i], "expected a condition after 'when'");
    JU_ASSIGN_OR_RETURN(segment.condition, ParseCondition(tokens, i, 0));
    JU_RETURN_IF_ERROR(ExpectEnd(tokens[i], "the rule"));
    if (model_.segments.size() >= static_cast<size_t>(INT16_MAX))
      return Fail(parts.front().line, 1, "too many segments");
    model_.segments.push_back(std::move(segment));
    return Ok();
  }

  Result<std::vector<Token>> Tokenize(const std::vector<Part>& parts) {
    std::vector<Token> tokens;
    Token end;
    for (const Part& part : parts) {
      std::string_view s = part.text;
      size_t i = 0;
      while (i < s.size()) {
        const char c = s[i];
        Token t;
        t.line = part.line;
        t.column = part.column + static_cast<int>(i);
        if (IsSpace(c)) {
          ++i;
          continue;
        }
        if (c == '#') break;
        const size_t start = i;
        if (c == '(' || c == ')') {
          t.kind = c == '(' ? Token::Kind::kLeftParen : Token::Kind::kRightParen;
          ++i;
        } else if (c == '<' || c == '>' || c == '=' || c == '!') {
          const bool two = i + 1 < s.size() && s[i + 1] == '=';
          t.kind = Token::Kind::kCompare;
          if (c == '<')
            t.op = two ? CompareOp::kLessEqual : CompareOp::kLess;
          else if (c == '>')
            t.op = two ? CompareOp::kGreaterEqual : CompareOp::kGreater;
          else if (c == '=')
            t.op = CompareOp::kEqual;  // `=` and `==` both mean equal
          else if (two)
            t.op = CompareOp::kNotEqual;
          else
            return Fail(t, "unexpected '!': write 'not' or '!='");
          i += two ? 2 : 1;
        } else if (c == '"') {
          const size_t close = s.find('"', i + 1);
          if (close == std::string_view::npos)
            return Fail(t, "unterminated label: expected a closing '\"' on the same line");
          t.kind = Token::Kind::kString;
          t.text = s.substr(i + 1, close - i - 1);
          i = close + 1;
          tokens.push_back(t);
          continue;
        } else if (IsDigit(c) ||
                   ((c == '-' || c == '.') && i + 1 < s.size() && IsDigit(s[i + 1]))) {
          ++i;
          while (i < s.size() && (IsDigit(s[i]) || s[i] == '.')) ++i;
          if (i < s.size() && IsIdentChar(s[i]))
            return Fail(
                t, fmt::format("expected a number, found '{}'", s.substr(start, i + 1 - start)));
          std::string_view number = s.substr(start, i - start);
          if (number.front() == '.' || (number.front() == '-' && number[1] == '.'))
            return Fail(t, fmt::format("expected a digit before the point in '{}'", number));
          auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), t.number);
          if (ec != std::errc() || ptr != number.data() + number.size() || !std::isfinite(t.number))
            return Fail(t, fmt::format("expected a number, found '{}'", number));
          t.kind = Token::Kind::kNumber;
        } else if (IsIdentStart(c)) {
          while (i < s.size() && IsIdentChar(s[i])) ++i;
          t.kind = Token::Kind::kIdent;
        } else {
          const auto byte = static_cast<unsigned char>(c);
          return Fail(t, byte < 0x80 ? fmt::format("unexpected character '{}'", c)
                                     : std::string("unexpected non-ASCII character outside a "
                                                   "\"label\""));
        }
        t.text = s.substr(start, i - start);
        tokens.push_back(t);
      }
      end.line = part.line;
      end.column = part.column + static_cast<int>(part.text.size());
    }
    end.kind = Token::Kind::kEnd;
    tokens.push_back(end);
    return tokens;
  }

  static bool IsKeyword(std::string_view s) {
    return s == "and" || s == "or" || s == "not" || s == "when" || s == "rank" || s == "segment";
  }

  int32_t AddNode(ConditionNode node) {
    model_.nodes.push_back(node);
    return static_cast<int32_t>(model_.nodes.size() - 1);
  }

  int32_t AddConnective(ConditionNode::Kind kind, const std::vector<int32_t>& operands) {
    ConditionNode node;
    node.kind = kind;
    node.first_operand = static_cast<uint32_t>(model_.operands.size());
    node.operand_count = static_cast<uint32_t>(operands.size());
    model_.operands.insert(model_.operands.end(), operands.begin(), operands.end());
    return AddNode(node);
  }

  // condition := term { ('and' | 'or') term }, one connective per level: mixing them needs
  // parentheses, so nobody has to remember that `and` binds tighter.
  Result<int32_t> ParseCondition(const std::vector<Token>& tokens, size_t& i, int depth) {
    std::vector<int32_t> operands;
    JU_ASSIGN_OR_RETURN(int32_t first, ParseTerm(tokens, i, depth));
    operands.push_back(first);
    std::string_view connective;
    while (tokens[i].kind == Token::Kind::kIdent &&
           (tokens[i].text == "and" || tokens[i].text == "or")) {
      if (connective.empty()) {
        connective = tokens[i].text;
      } else if (tokens[i].text != connective) {
        return Fail(tokens[i], fmt::format("'{}' after '{}': put parentheses around the part to "
                                           "combine first, e.g. a and (b or c)",
                                           tokens[i].text, connective));
      }
      ++i;
      JU_ASSIGN_OR_RETURN(int32_t next, ParseTerm(tokens, i, depth));
      operands.push_back(next);
    }
    if (operands.size() == 1) return first;
    return AddConnective(connective == "and" ? ConditionNode::Kind::kAnd : ConditionNode::Kind::kOr,
                         operands);
  }

  // term := 'not' term | '(' condition ')' | comparison | flag
  Result<int32_t> ParseTerm(const std::vector<Token>& tokens, size_t& i, int depth) {
    const Token& t = tokens[i];
    if (depth >= kMaxNesting)
      return Fail(t, fmt::format("condition nested deeper than {} levels", kMaxNesting));
    if (t.kind == Token::Kind::kIdent && t.text == "not") {
      ++i;
      JU_ASSIGN_OR_RETURN(int32_t operand, ParseTerm(tokens, i, depth + 1));
      return AddConnective(ConditionNode::Kind::kNot, {operand});
    }
    if (t.kind == Token::Kind::kLeftParen) {
      ++i;
      JU_ASSIGN_OR_RETURN(int32_t inner, ParseCondition(tokens, i, depth + 1));
      if (tokens[i].kind != Token::Kind::kRightParen)
        return Fail(tokens[i], fmt::format("expected ')' to close the '(' at column {}, found {}",
                                           t.column, Describe(tokens[i])));
      ++i;
      return inner;
    }
    if (t.kind != Token::Kind::kIdent || IsKeyword(t.text))
      return Fail(t, fmt::format("expected a feature name, 'not' or '(', found {}", Describe(t)));
    const std::optional<Feature> feature = FeatureFromName(t.text);
    if (!feature)
      return Fail(t, fmt::format("unknown feature '{}' (features: {})", t.text, AllFeatureNames()));
    ++i;
    ConditionNode node;
    node.feature = *feature;
    const Token& op = tokens[i];
    if (op.kind != Token::Kind::kCompare) {
      if (IsFlag(*feature)) {
        node.op = CompareOp::kNotEqual;
        node.bare_flag = true;
        return AddNode(node);
      }
      return Fail(op,
                  fmt::format("expected a comparison (<, <=, >, >=, ==, !=) after '{}', found {}",
                              t.text, Describe(op)));
    }
    node.op = op.op;
    const Token& value = tokens[++i];
    const auto levels = FeatureLevels(*feature);
    if (!levels.empty()) {
      if (!IsOrdered(*feature) && op.op != CompareOp::kEqual && op.op != CompareOp::kNotEqual)
        return Fail(op, fmt::format("the levels of {} have no order: use == or !=", t.text));
      const std::string expected = JoinNames(levels, " or ");
      if (value.kind != Token::Kind::kIdent)
        return Fail(value, fmt::format("expected a level of {} ({}), found {}", t.text, expected,
                                       Describe(value)));
      auto it = std::find(levels.begin(), levels.end(), value.text);
      if (it == levels.end())
        return Fail(value, fmt::format("unknown level '{}' for {} (expected {})", value.text,
                                       t.text, expected));
      node.threshold = static_cast<double>(it - levels.begin());
    } else {
      if (value.kind != Token::Kind::kNumber)
        return Fail(value, fmt::format("expected a number after '{}' for {}, found {}", op.text,
                                       t.text, Describe(value)));
      if (IsFlag(*feature) && value.number != 0 && value.number != 1)
        return Fail(value, fmt::format("expected 0 or 1 for the yes/no flag {}, found '{}'", t.text,
                                       value.text));
      if (IsFloatBacked(*feature) && std::abs(value.number) > std::numeric_limits<float>::max())
        return Fail(value, fmt::format("{} is out of range for {}", value.text, t.text));
      node.threshold = IsFloatBacked(*feature) ? static_cast<float>(value.number) : value.number;
    }
    ++i;
    return AddNode(node);
  }

  std::string_view file_;
  std::string_view text_;
  std::vector<std::vector<Part>> statements_;
  SegmentationModel model_;
  int model_line_ = 0, version_line_ = 0, label_line_ = 0, population_line_ = 0;
  int last_line_ = 0;
};

bool Compare(double value, CompareOp op, double threshold) {
  switch (op) {
    case CompareOp::kLess:
      return value < threshold;
    case CompareOp::kLessEqual:
      return value <= threshold;
    case CompareOp::kGreater:
      return value > threshold;
    case CompareOp::kGreaterEqual:
      return value >= threshold;
    case CompareOp::kEqual:
      return value == threshold;
    case CompareOp::kNotEqual:
      return value != threshold;
  }
  return false;
}

bool Holds(const SegmentationModel& model, int32_t index, const PersonFeatures& person) {
  const ConditionNode& node = model.nodes[index];
  const int32_t* operands = model.operands.data() + node.first_operand;
  switch (node.kind) {
    case ConditionNode::Kind::kCompare:
      return Compare(FeatureValue(person, node.feature), node.op, node.threshold);
    case ConditionNode::Kind::kAnd:
      for (uint32_t k = 0; k < node.operand_count; ++k)
        if (!Holds(model, operands[k], person)) return false;
      return true;
    case ConditionNode::Kind::kOr:
      for (uint32_t k = 0; k < node.operand_count; ++k)
        if (Holds(model, operands[k], person)) return true;
      return false;
    case ConditionNode::Kind::kNot:
      return !Holds(model, operands[0], person);
  }
  return false;
}

std::string ValueText(Feature f, double value) {
  const auto levels = FeatureLevels(f);
  if (!levels.empty()) {
    const auto level = static_cast<size_t>(value);
    return level < levels.size() ? std::string(levels[level]) : FormatNumber(value);
  }
  if (IsFloatBacked(f)) {
    char buf[128];
    auto [end, ec] =
        std::to_chars(buf, buf + sizeof buf, static_cast<float>(value), std::chars_format::fixed);
    return ec == std::errc() ? std::string(buf, end) : FormatNumber(value);
  }
  return FormatNumber(value);
}

void AppendCondition(const SegmentationModel& model, int32_t index, bool nested, std::string& out) {
  const ConditionNode& node = model.nodes[index];
  const int32_t* operands = model.operands.data() + node.first_operand;
  switch (node.kind) {
    case ConditionNode::Kind::kCompare:
      out += FeatureName(node.feature);
      if (!node.bare_flag) {
        out += ' ';
        out += CompareOpText(node.op);
        out += ' ';
        out += ValueText(node.feature, node.threshold);
      }
      return;
    case ConditionNode::Kind::kNot:
      out += "not ";
      AppendCondition(model, operands[0], true, out);
      return;
    case ConditionNode::Kind::kAnd:
    case ConditionNode::Kind::kOr:
      if (nested) out += '(';
      for (uint32_t k = 0; k < node.operand_count; ++k) {
        if (k > 0) out += node.kind == ConditionNode::Kind::kAnd ? " and " : " or ";
        AppendCondition(model, operands[k], true, out);
      }
      if (nested) out += ')';
      return;
  }
}

// ---- JSON ------------------------------------------------------------------------------------

void AppendJsonString(std::string_view s, std::string& out) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        else
          out += c;
    }
  }
  out += '"';
}

// Keys are literals here, so they need no escaping.
void AppendKey(std::string_view key, std::string& out) {
  if (out.back() != '{') out += ',';
  out += '"';
  out += key;
  out += "\":";
}

void AppendCachedText(const SegmentationModel& model, int32_t index, std::string& out) {
  if (static_cast<size_t>(index) < model.node_json.size()) {
    out += model.node_json[static_cast<size_t>(index)];
  } else {  // a model not made by the parser
    AppendJsonString(ConditionText(model, index), out);
  }
}

// The person's value of a feature as JSON: level names for categories, booleans for flags.
void AppendJsonValue(Feature f, const PersonFeatures& person, std::string& out) {
  const double value = FeatureValue(person, f);
  if (!FeatureLevels(f).empty())
    AppendJsonString(ValueText(f, value), out);
  else if (IsFlag(f))
    out += value != 0 ? "true" : "false";
  else if (!std::isfinite(value))
    out += "null";
  else
    out += ValueText(f, value);
}

// Features that share their evidence: the codes behind eFI deficits also explain `efi` and
// `efi_category`, and cost's activities explain the cost percentile.
Feature Family(Feature f) {
  switch (f) {
    case Feature::kEfi:
    case Feature::kEfiCategory:
      return Feature::kEfiDeficits;
    case Feature::kHfrsCategory:
      return Feature::kHfrs;
    case Feature::kCostPercentile:
      return Feature::kCost12mPence;
    default:
      return f;
  }
}

// Every comparison under `index`, in reading order, with its outcome for this person.
void AppendTests(const SegmentationModel& model, int32_t index, const PersonFeatures& person,
                 std::vector<bool>& families, std::string& out) {
  const ConditionNode& node = model.nodes[index];
  if (node.kind != ConditionNode::Kind::kCompare) {
    const int32_t* operands = model.operands.data() + node.first_operand;
    for (uint32_t k = 0; k < node.operand_count; ++k)
      AppendTests(model, operands[k], person, families, out);
    return;
  }
  families[static_cast<size_t>(Family(node.feature))] = true;
  out += out.back() == '[' ? "{" : ",{";
  AppendKey("test", out);
  AppendCachedText(model, index, out);
  AppendKey("value", out);
  AppendJsonValue(node.feature, person, out);
  AppendKey("holds", out);
  out += Holds(model, index, person) ? "true" : "false";
  out += '}';
}

void AppendConditionReport(const SegmentationModel& model, int32_t condition,
                           const PersonFeatures& person, std::vector<bool>& families,
                           std::string& out) {
  AppendKey("when", out);
  AppendCachedText(model, condition, out);
  AppendKey("holds", out);
  out += Holds(model, condition, person) ? "true" : "false";
  AppendKey("tests", out);
  out += '[';
  AppendTests(model, condition, person, families, out);
  out += ']';
}

}  // namespace

std::string_view CompareOpText(CompareOp op) {
  switch (op) {
    case CompareOp::kLess:
      return "<";
    case CompareOp::kLessEqual:
      return "<=";
    case CompareOp::kGreater:
      return ">";
    case CompareOp::kGreaterEqual:
      return ">=";
    case CompareOp::kEqual:
      return "==";
    case CompareOp::kNotEqual:
      return "!=";
  }
  return "?";
}

Result<SegmentationModel> ParseSegmentationModel(std::string_view file_name,
                                                 std::string_view text) {
  auto model = Parser(file_name, text).Parse();
  if (!model.ok()) return model;
  for (size_t i = 0; i < model->nodes.size(); ++i) {
    model->node_json.emplace_back();
    AppendJsonString(ConditionText(*model, static_cast<int32_t>(i)), model->node_json.back());
  }
  return model;
}

Result<SegmentationModel> LoadSegmentationModel(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::NotFound(fmt::format("{}: cannot open segmentation model file", path));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Error::Unavailable(fmt::format("{}: cannot read", path));
  return ParseSegmentationModel(path, text);
}

SegmentationModelInfo Info(const SegmentationModel& model) {
  SegmentationModelInfo info;
  info.name = model.name;
  info.version = model.version;
  for (const Segment& s : model.segments) info.segments.push_back(s.label);
  return info;
}

std::string ConditionText(const SegmentationModel& model, int32_t node) {
  std::string out;
  AppendCondition(model, node, false, out);
  return out;
}

SegmentAssignment Assign(const SegmentationModel& model, const PersonFeatures& person) {
  SegmentAssignment a;
  if (model.population >= 0 && !Holds(model, model.population, person)) {
    a.status = AssignmentStatus::kOutsidePopulation;
    a.segment = kOutsidePopulation;
    return a;
  }
  for (size_t r = 0; r < model.segments.size(); ++r) {
    if (Holds(model, model.segments[r].condition, person)) {
      a.status = AssignmentStatus::kAssigned;
      a.segment = static_cast<int16_t>(r);
      a.rule = static_cast<int16_t>(r);
      return a;
    }
  }
  return a;  // kNoSegment
}

CohortAssignments ApplyModels(std::span<const SegmentationModel> models,
                              const CohortFeatures& features, int threads) {
  CohortAssignments out;
  out.model_count = models.size();
  const size_t people = features.people.size();
  out.assignments.resize(people * models.size());
  auto work = [&](size_t begin, size_t end) {
    for (size_t p = begin; p < end; ++p)
      for (size_t m = 0; m < models.size(); ++m)
        out.assignments[p * models.size() + m] = Assign(models[m], features.people[p]);
  };
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Below ~16k people per thread, starting threads costs more than it saves.
  const size_t chunks = std::clamp<size_t>(people / 16384, 1, static_cast<size_t>(threads));
  if (chunks == 1) {
    work(0, people);
    return out;
  }
  std::vector<std::thread> pool;
  for (size_t c = 0; c < chunks; ++c)
    pool.emplace_back(work, people * c / chunks, people * (c + 1) / chunks);
  for (auto& t : pool) t.join();
  return out;
}

std::string ExplainJson(const SegmentationModel& model, const SegmentAssignment& assignment,
                        const PersonFeatures& person, std::span<const FeatureEvidence> evidence,
                        std::span<const Cohort::Concept> concepts) {
  std::string out;
  out.reserve(512);
  out += '{';
  AppendKey("model", out);
  AppendJsonString(model.name, out);
  AppendKey("version", out);
  AppendJsonString(model.version, out);
  AppendKey("result", out);
  const bool assigned = assignment.status == AssignmentStatus::kAssigned &&
                        assignment.segment >= 0 &&
                        static_cast<size_t>(assignment.segment) < model.segments.size();
  switch (assignment.status) {
    case AssignmentStatus::kAssigned:
      out += "\"segment\"";
      break;
    case AssignmentStatus::kNoSegment:
      out += "\"no_segment\"";
      break;
    case AssignmentStatus::kOutsidePopulation:
      out += "\"outside_population\"";
      break;
  }
  if (assigned) {
    const Segment& s = model.segments[static_cast<size_t>(assignment.segment)];
    AppendKey("segment", out);
    AppendJsonString(s.id, out);
    AppendKey("label", out);
    AppendJsonString(s.label, out);
    if (s.rank) {
      AppendKey("rank", out);
      out += std::to_string(*s.rank);
    }
    AppendKey("rule", out);
    out += std::to_string(assignment.rule);
    AppendKey("line", out);
    out += std::to_string(s.line);
  }

  std::vector<bool> families(kFeatureCount, false);
  if (model.population >= 0) {
    AppendKey("population", out);
    out += '{';
    AppendConditionReport(model, model.population, person, families, out);
    out += '}';
  }
  if (assignment.status != AssignmentStatus::kOutsidePopulation) {
    // The rule that matched; or, when none did, every rule, each with what failed.
    AppendKey("rules", out);
    out += '[';
    for (size_t r = 0; r < model.segments.size(); ++r) {
      if (assigned && r != static_cast<size_t>(assignment.rule)) continue;
      out += out.back() == '[' ? "{" : ",{";
      AppendKey("segment", out);
      AppendJsonString(model.segments[r].id, out);
      AppendConditionReport(model, model.segments[r].condition, person, families, out);
      out += '}';
    }
    out += ']';
  }

  AppendKey("evidence", out);
  out += '[';
  for (const FeatureEvidence& e : evidence) {
    const auto family = static_cast<size_t>(Family(e.feature));
    if (family >= families.size() || !families[family]) continue;
    out += out.back() == '[' ? "{" : ",{";
    AppendKey("feature", out);
    AppendJsonString(FeatureName(e.feature), out);
    AppendKey("code", out);
    if (e.concept_id == FeatureEvidence::kNoConcept || e.concept_id >= concepts.size()) {
      out += "null";  // activity-based evidence (an admission, a care package), no code
    } else {
      const Cohort::Concept& c = concepts[e.concept_id];
      std::string code(CodeSystemTag(c.system));
      code += '|';
      code += c.code;
      AppendJsonString(code, out);
    }
    AppendKey("date", out);
    AppendJsonString(e.date.ToString(), out);
    out += '}';
  }
  out += "]}";
  return out;
}

std::vector<int16_t> TopSegments(const SegmentationModel& model, int count) {
  std::vector<int16_t> out;
  if (!model.ranked() || count <= 0) return out;
  std::set<int, std::greater<>> ranks;
  for (const Segment& s : model.segments) ranks.insert(*s.rank);
  std::set<int> chosen;
  for (int r : ranks) {
    if (static_cast<int>(chosen.size()) == count) break;
    chosen.insert(r);
  }
  for (size_t i = 0; i < model.segments.size(); ++i)
    if (chosen.count(*model.segments[i].rank)) out.push_back(static_cast<int16_t>(i));
  std::stable_sort(out.begin(), out.end(), [&](int16_t a, int16_t b) {
    return *model.segments[a].rank > *model.segments[b].rank;
  });
  return out;
}

}  // namespace joinedup::analytics
