#include "fhir/bundle.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <limits>

#include "fhir/fhir_mapping.h"
#include "fhir/map_tables.h"
#include "resources/registry.h"

namespace joinedup::fhir {
namespace {

namespace dom = simdjson::dom;

constexpr std::array<std::string_view, 6> kReadableTypes{
    "transaction", "batch", "collection", "searchset", "transaction-response", "batch-response"};

// Lower ranks are written first: what is referred to before what refers to it.
// The registry's exchange rank; what is not imported goes last (it is skipped with a reason).
int Rank(std::string_view resource_type) {
  const resources::ResourceTypeDef* t = resources::FindType(resource_type);
  return t != nullptr && t->imported ? t->exchange_rank : std::numeric_limits<int>::max();
}

std::optional<std::string_view> StringField(dom::object o, std::string_view key) {
  std::string_view s;
  if (o.at_key(key).get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
  return s;
}

bool Has(dom::object o, std::string_view key) {
  dom::element e;
  return o.at_key(key).get(e) == simdjson::SUCCESS;
}

Error At(std::string_view where, std::string_view what) {
  std::string message(where);
  message += ": ";
  message += what;
  return Error::Invalid(std::move(message));
}

}  // namespace

ReferenceResolver ExpandedBundle::Resolver() const {
  std::shared_ptr<const Index> index = by_url_;
  return [index](std::string_view reference, std::string_view expected_type)
             -> std::optional<std::string> {
    if (index) {
      auto it = index->find(std::string(reference));
      if (it != index->end()) {
        if (it->second.resource_type != expected_type) return std::nullopt;
        return it->second.id;
      }
    }
    if (reference.starts_with("urn:")) return std::nullopt;
    return ResolveRelativeReference(reference, expected_type);
  };
}

Result<ExpandedBundle> ExpandBundle(std::string_view json) {
  dom::parser parser;
  dom::element doc;
  if (auto error = parser.parse(json.data(), json.size()).get(doc); error != simdjson::SUCCESS)
    return Error::Invalid(internal::DescribeInvalidJson(json, simdjson::error_message(error)));
  dom::object bundle;
  if (doc.get_object().get(bundle) != simdjson::SUCCESS)
    return Error::Invalid("not a JSON object: a Bundle is one");
  auto resource_type = StringField(bundle, "resourceType");
  if (resource_type != "Bundle")
    return At("resourceType", resource_type ? "'" + std::string(*resource_type) + "' is not Bundle"
                                            : std::string("missing or not a string"));
  auto type = StringField(bundle, "type");
  if (!type) return At("Bundle.type", "missing or not a string");
  if (std::find(kReadableTypes.begin(), kReadableTypes.end(), *type) == kReadableTypes.end())
    return At("Bundle.type", "'" + std::string(*type) +
                                 "' is not supported (transaction, batch, collection, searchset, "
                                 "transaction-response or batch-response)");
  bool response = type->ends_with("-response");

  ExpandedBundle out;
  out.type_ = std::string(*type);
  auto index = std::make_shared<ExpandedBundle::Index>();
  std::unordered_map<std::string, size_t> first_seen;  // key → entry index, for duplicates

  dom::element entries_element;
  if (bundle.at_key("entry").get(entries_element) == simdjson::SUCCESS) {
    dom::array entries;
    if (entries_element.get_array().get(entries) != simdjson::SUCCESS)
      return At("entry", "expected an array");
    size_t i = 0;
    for (dom::element entry_element : entries) {
      std::string where = "entry[" + std::to_string(i) + "]";
      size_t this_index = i++;
      dom::object entry;
      if (entry_element.get_object().get(entry) != simdjson::SUCCESS)
        return At(where, "expected an object");
      dom::object request;
      if (entry.at_key("request").get_object().get(request) == simdjson::SUCCESS) {
        auto method = StringField(request, "method");
        if (method == "DELETE" || method == "PATCH")
          return At(where + ".request.method",
                    std::string(*method) + " is not supported: joinedup imports whole resources");
      }
      dom::element resource_element;
      if (entry.at_key("resource").get(resource_element) != simdjson::SUCCESS) {
        if (response) continue;  // a response entry may carry only a status
        return At(where + ".resource", "missing");
      }
      dom::object resource;
      if (resource_element.get_object().get(resource) != simdjson::SUCCESS)
        return At(where + ".resource", "expected an object");
      auto rtype = StringField(resource, "resourceType");
      if (!rtype || rtype->empty()) return At(where + ".resource.resourceType", "missing or not a string");

      BundleEntry e;
      e.location = std::move(where);
      e.resource_type = std::string(*rtype);
      if (auto full_url = StringField(entry, "fullUrl")) e.full_url = std::string(*full_url);
      e.resource_json = simdjson::minify(resource_element);

      std::string id;
      if (auto rid = StringField(resource, "id")) {
        id = std::string(*rid);
      } else if (e.full_url.starts_with("urn:uuid:")) {
        std::string_view uuid = std::string_view(e.full_url).substr(9);
        if (IsValidFhirId(uuid) && !Has(resource, "id") && e.resource_json.size() > 2) {
          id = std::string(uuid);
          e.resource_json.insert(1, "\"id\":\"" + id + "\",");
        }
      }
      if (!id.empty()) {
        ExpandedBundle::Target target{e.resource_type, id};
        std::string relative = e.resource_type + "/" + id;
        for (const std::string* key : {&e.full_url, &relative}) {
          if (key->empty()) continue;
          auto [it, inserted] = first_seen.emplace(*key, this_index);
          if (!inserted) {
            if (key == &relative) continue;  // same resource twice: the store keeps the last
            return At(e.location + ".fullUrl",
                      "'" + *key + "' is also the fullUrl of entry[" + std::to_string(it->second) + "]");
          }
          index->emplace(*key, target);
        }
      }
      out.entries_.push_back(std::move(e));
    }
  }
  std::stable_sort(out.entries_.begin(), out.entries_.end(),
                   [](const BundleEntry& a, const BundleEntry& b) {
                     return Rank(a.resource_type) < Rank(b.resource_type);
                   });
  out.by_url_ = std::move(index);
  return out;
}

}  // namespace joinedup::fhir
