// joinedup resource-types: the resource registry (resources/registry.h) as a tab-separated
// table, one row per type, so tools outside the C++ build (the authorization matrix's
// generator) read the one declaration instead of keeping a list of their own.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "resources/registry.h"

namespace joinedup::cli {
namespace {

std::string Interactions(const resources::Interactions& i) {
  std::string out;
  if (i.read) out += "read,";
  if (i.vread) out += "vread,";
  if (i.history) out += "history,";
  if (i.search) out += "search,";
  if (i.create) out += "create,";
  if (i.update) out += "update,";
  if (!out.empty()) out.pop_back();
  return out.empty() ? "-" : out;
}

std::string Params(const resources::ResourceTypeDef& type) {
  std::string out;
  for (const resources::SearchParamDef& p : type.params) {
    if (!out.empty()) out += ',';
    out += std::string(p.name) + ":" + std::string(resources::ParamTypeName(p.type));
  }
  return out.empty() ? "-" : out;
}

}  // namespace

void AddResourceTypesCommand(CLI::App& app, int* exit_code) {
  auto* command = app.add_subcommand(
      "resource-types",
      "List the resource types joinedup knows (the resource registry) as a tab-separated table");
  command->callback([exit_code] {
    std::printf(
        "type\tcategory\tperson_bound\tinteractions\tgoverned_by\texported\timported\t"
        "exchange_rank\tsearch_params\n");
    for (const resources::ResourceTypeDef& t : resources::AllTypes()) {
      std::printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", std::string(t.name).c_str(),
                  std::string(resources::AccessCategoryName(t.category)).c_str(),
                  t.IsPersonBound() ? "yes" : "no", Interactions(t.interactions).c_str(),
                  std::string(resources::GoverningType(t)).c_str(), t.exported ? "yes" : "no",
                  t.imported ? "yes" : "no", t.exchange_rank, Params(t).c_str());
    }
    *exit_code = 0;
  });
}

}  // namespace joinedup::cli
