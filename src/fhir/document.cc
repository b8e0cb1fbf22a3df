// ReadDocument (document.h): the index of a document-kept resource, from its registry row.
#include "fhir/document.h"

#include <simdjson.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/text_fold.h"
#include "fhir/search/search_params.h"
#include "resources/query.h"
#include "resources/registry.h"

namespace joinedup::fhir {
namespace {

namespace dom = simdjson::dom;

// An element reached by a parameter's path, with where it is ("name[1]") for messages.
struct Reached {
  dom::element element;
  std::string at;
};

std::string_view StringAt(dom::object object, const char* key) {
  std::string_view out;
  if (object[key].get_string().get(out) != simdjson::SUCCESS) return {};
  return out;
}

// The elements `path` ("RelatedPerson.name", without a filter or function) reaches, every
// array on the way flattened.
std::vector<Reached> Follow(dom::element root, std::string_view path) {
  std::vector<Reached> current;
  const size_t first_dot = path.find('.');
  if (first_dot == std::string_view::npos) return current;
  current.push_back({root, ""});
  std::string_view rest = path.substr(first_dot + 1);
  while (!rest.empty()) {
    const size_t dot = rest.find('.');
    const std::string segment(rest.substr(0, dot));
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    std::vector<Reached> next;
    for (const Reached& r : current) {
      dom::object object;
      if (r.element.get_object().get(object) != simdjson::SUCCESS) continue;
      dom::element child;
      if (object[segment].get(child) != simdjson::SUCCESS) continue;
      const std::string at = r.at.empty() ? segment : r.at + "." + segment;
      dom::array array;
      if (child.get_array().get(array) == simdjson::SUCCESS) {
        size_t i = 0;
        for (dom::element item : array) next.push_back({item, at + "[" + std::to_string(i++) + "]"});
      } else {
        next.push_back({child, at});
      }
    }
    current = std::move(next);
  }
  return current;
}

void AddString(std::vector<resources::IndexEntry>& out, std::string_view param,
               std::string_view text) {
  if (text.empty()) return;
  out.push_back({std::string(param), FoldForSearch(text), std::string(text)});
}

void AddStrings(std::vector<resources::IndexEntry>& out, std::string_view param,
                dom::object object, const char* key) {
  dom::element value;
  if (object[key].get(value) != simdjson::SUCCESS) return;
  std::string_view text;
  if (value.get_string().get(text) == simdjson::SUCCESS) {
    AddString(out, param, text);
    return;
  }
  dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) return;
  for (dom::element item : array)
    if (item.get_string().get(text) == simdjson::SUCCESS) AddString(out, param, text);
}

// FHIR string search (R4 search §3.1.1.4.4): a HumanName or Address matches on its parts.
void IndexString(std::vector<resources::IndexEntry>& out, std::string_view param,
                 dom::element element) {
  std::string_view text;
  if (element.get_string().get(text) == simdjson::SUCCESS) {
    AddString(out, param, text);
    return;
  }
  dom::object object;
  if (element.get_object().get(object) != simdjson::SUCCESS) return;
  for (const char* key : {"family", "given", "text", "prefix", "suffix", "line", "city",
                          "district", "state", "postalCode", "country"})
    AddStrings(out, param, object, key);
}

void AddCoding(std::vector<resources::IndexEntry>& out, std::string_view param,
               dom::object coding, const char* code_key) {
  const std::string_view code = StringAt(coding, code_key);
  if (code.empty()) return;
  out.push_back({std::string(param), std::string(code), std::string(StringAt(coding, "system"))});
}

void IndexToken(std::vector<resources::IndexEntry>& out, std::string_view param,
                dom::element element) {
  std::string_view text;
  bool flag = false;
  if (element.get_string().get(text) == simdjson::SUCCESS) {
    if (!text.empty()) out.push_back({std::string(param), std::string(text), ""});
    return;
  }
  if (element.get_bool().get(flag) == simdjson::SUCCESS) {
    out.push_back({std::string(param), flag ? "true" : "false", ""});
    return;
  }
  dom::object object;
  if (element.get_object().get(object) != simdjson::SUCCESS) return;
  dom::array codings;
  if (object["coding"].get_array().get(codings) == simdjson::SUCCESS) {  // CodeableConcept
    for (dom::element coding : codings) {
      dom::object c;
      if (coding.get_object().get(c) == simdjson::SUCCESS) AddCoding(out, param, c, "code");
    }
    return;
  }
  if (!StringAt(object, "code").empty()) {  // Coding
    AddCoding(out, param, object, "code");
    return;
  }
  AddCoding(out, param, object, "value");  // Identifier, ContactPoint
}

// A parameter's path without FHIR's `.where(resolve() is Type)`, and that Type ("" when the
// path has none): "Goal.subject.where(resolve() is Patient)" → {"Goal.subject", "Patient"}.
struct ParamPath {
  std::string_view path;
  std::string_view only_type;
};
ParamPath SplitWhere(std::string_view expression) {
  constexpr std::string_view kWhere = ".where(resolve() is ";
  const size_t at = expression.find(kWhere);
  if (at == std::string_view::npos || !expression.ends_with(")")) return {expression, {}};
  const size_t type_at = at + kWhere.size();
  return {expression.substr(0, at), expression.substr(type_at, expression.size() - 1 - type_at)};
}

// A date parameter's element: a date, dateTime or instant (the range its precision covers), or
// a Period (from its start's range to its end's; an open side is open). An element that is
// neither, or a text that is not a FHIR date, is refused: indexing nothing would hide the
// resource from every date search without a word.
std::optional<std::string> IndexDate(std::vector<resources::IndexEntry>& out,
                                     std::string_view param, dom::element element) {
  std::string_view text;
  if (element.get_string().get(text) == simdjson::SUCCESS) {
    const auto range = search::ParseDateRange(text);
    if (!range) return "\"" + std::string(text) + "\" is not a FHIR date, dateTime or instant";
    out.push_back({std::string(param), resources::IndexInstant(range->start),
                   resources::IndexInstant(range->end)});
    return std::nullopt;
  }
  dom::object period;
  if (element.get_object().get(period) != simdjson::SUCCESS)
    return "expected a date, dateTime, instant or Period";
  std::string low(resources::kIndexInstantMin), high(resources::kIndexInstantMax);
  bool any = false;
  for (const char* side : {"start", "end"}) {
    dom::element value;
    if (period[side].get(value) != simdjson::SUCCESS) continue;
    if (value.get_string().get(text) != simdjson::SUCCESS)
      return std::string(side) + ": expected a dateTime";
    const auto range = search::ParseDateRange(text);
    if (!range) return std::string(side) + ": \"" + std::string(text) + "\" is not a FHIR dateTime";
    if (side == std::string_view("start")) {
      low = resources::IndexInstant(range->start);
    } else {
      high = resources::IndexInstant(range->end);
    }
    any = true;
  }
  if (any) out.push_back({std::string(param), std::move(low), std::move(high)});
  return std::nullopt;
}

// Replaces every JSON string value `from` in `json` by `to`. Only for text that needs no JSON
// escaping (a urn:uuid/urn:oid and a Type/id), so the quoted forms are exactly these bytes.
void ReplaceQuoted(std::string& json, std::string_view from, std::string_view to) {
  const std::string quoted_from = "\"" + std::string(from) + "\"";
  const std::string quoted_to = "\"" + std::string(to) + "\"";
  if (quoted_from.find('\\') != std::string::npos) return;
  for (size_t at = json.find(quoted_from); at != std::string::npos;
       at = json.find(quoted_from, at + quoted_to.size()))
    json.replace(at, quoted_from.size(), quoted_to);
}

}  // namespace

std::variant<Document, MapError> ReadDocument(std::string_view json,
                                              const ReferenceResolver& resolve) {
  thread_local dom::parser parser;
  dom::element root_element;
  dom::object root;
  if (parser.parse(json.data(), json.size()).get(root_element) != simdjson::SUCCESS ||
      root_element.get_object().get(root) != simdjson::SUCCESS)
    return MapError{"", "", "", "not a JSON object: a FHIR resource is one"};
  Document document;
  document.resource_type = std::string(StringAt(root, "resourceType"));
  document.id = std::string(StringAt(root, "id"));
  auto refuse = [&](std::string field, std::string message) {
    return MapError{document.resource_type, document.id, std::move(field), std::move(message)};
  };
  const resources::ResourceTypeDef* type = resources::FindType(document.resource_type);
  if (type == nullptr || !type->kept_as_document)
    return refuse("resourceType", "\"" + document.resource_type + "\" is not kept as a document");
  if (!resources::IsValidFhirId(document.id))
    return refuse("id", "missing or not a FHIR id ([A-Za-z0-9-.]{1,64})");
  std::vector<std::pair<std::string, std::string>> resolved_urns;  // reference → Type/id
  const resources::SearchParamDef* person = resources::PersonParam(*type);
  if (person != nullptr) {
    const std::string_view path = SplitWhere(person->expression).path;
    document.person_element = std::string(path.substr(path.find('.') + 1));
  }
  bool has_person = false;
  for (const resources::SearchParamDef& param : type->params) {
    const ParamPath path = SplitWhere(param.expression);
    for (const Reached& reached : Follow(root_element, path.path)) {
      switch (param.type) {
        case resources::ParamType::kString:
          IndexString(document.index, param.name, reached.element);
          break;
        case resources::ParamType::kToken:
          IndexToken(document.index, param.name, reached.element);
          break;
        case resources::ParamType::kUri: {
          std::string_view uri;
          if (reached.element.get_string().get(uri) == simdjson::SUCCESS && !uri.empty())
            document.index.push_back({std::string(param.name), std::string(uri), ""});
          break;
        }
        case resources::ParamType::kReference: {
          dom::object object;
          std::string_view reference;
          std::string field = reached.at + ".reference";
          if (reached.element.get_string().get(reference) == simdjson::SUCCESS) {
            // A canonical (QuestionnaireResponse.questionnaire): followed when it ends in
            // Type/id; a "|version" after it is dropped.
            reference = reference.substr(0, reference.find('|'));
            field = reached.at;
          } else if (reached.element.get_object().get(object) != simdjson::SUCCESS ||
                     object["reference"].get_string().get(reference) != simdjson::SUCCESS) {
            if (!path.only_type.empty()) break;  // not a literal reference to that type
            return refuse(reached.at + ".reference",
                          "missing (joinedup follows literal references only)");
          }
          std::optional<std::string> id = resolve(reference, param.target_type);
          // `.where(resolve() is Type)`: references to other types are not this parameter's.
          if (!id && !path.only_type.empty()) break;
          if (!id)
            return refuse(field, "\"" + std::string(reference) + "\" does not resolve to a " +
                                     std::string(param.target_type));
          if (&param == person) {
            if (has_person)
              return refuse(reached.at, "a " + document.resource_type + " belongs to one person");
            has_person = true;
            document.patient_id = *id;
          }
          // A Bundle's urn:uuid reference means nothing outside the Bundle: the kept text
          // names the target as Type/id instead.
          if (reference.starts_with("urn:"))
            resolved_urns.emplace_back(reference, std::string(param.target_type) + "/" + *id);
          document.index.push_back(
              {std::string(param.name), std::move(*id), std::string(param.target_type)});
          break;
        }
        case resources::ParamType::kDate:
          if (auto why = IndexDate(document.index, param.name, reached.element))
            return refuse(reached.at, std::move(*why));
          break;
      }
    }
  }
  // The person's decision on who may see this record (domain/sharing.h): at most one, and
  // one of the codes; anything else is refused rather than read as "shared as usual".
  dom::array extensions;
  if (root["extension"].get_array().get(extensions) == simdjson::SUCCESS) {
    bool has_sharing = false;
    size_t i = 0;
    for (dom::element extension : extensions) {
      const std::string at = "extension[" + std::to_string(i++) + "]";
      dom::object e;
      if (extension.get_object().get(e) != simdjson::SUCCESS ||
          StringAt(e, "url") != kRecordSharingUrl)
        continue;
      if (!type->IsPersonBound())
        return refuse(at, "a sharing decision belongs on a record about a person");
      if (has_sharing) return refuse(at, "one sharing decision per record");
      has_sharing = true;
      const std::optional<RecordSharing> sharing = ParseRecordSharing(StringAt(e, "valueCode"));
      if (!sharing)
        return refuse(at + ".valueCode",
                      "a sharing decision is care-relationship, care-team or gp-only");
      document.sharing = *sharing;
    }
  }
  if (type->IsPersonBound() && !has_person)
    return refuse(person != nullptr ? document.person_element : std::string(type->person_param),
                  "missing: a " + document.resource_type + " belongs to a person");
  document.json = std::string(json);
  for (const auto& [urn, relative] : resolved_urns)
    ReplaceQuoted(document.json, urn, relative);
  return document;
}

}  // namespace joinedup::fhir
