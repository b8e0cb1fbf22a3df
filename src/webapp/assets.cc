#include "webapp/assets.h"

#include <array>
#include <span>

namespace joinedup::webapp {

extern const std::span<const Asset> kBuiltAssets;  // the generated table (embed_web.cmake)

const Asset* FindAsset(std::string_view path) {
  for (const Asset& asset : kBuiltAssets)
    if (asset.path == path) return &asset;
  return nullptr;
}

const Asset* AppPage() { return FindAsset("/index.html"); }

bool IsAppRoute(std::string_view path) {
  // The screens of web/src (their routes); "/people/<id>" takes any one segment after it.
  static constexpr std::array<std::string_view, 12> kScreens = {
      "/",         "/sign-in", "/find",     "/audit",    "/population", "/my-record",
      "/people",   "/worklist", "/caseload", "/my-plan", "/my-goals",   "/who-to-call"};
  for (std::string_view screen : kScreens)
    if (path == screen) return true;
  // Administration's screens are all below /admin (web/src/pages/admin*).
  if (path == "/admin" || path.starts_with("/admin/")) return true;
  // A team's caseload board: /caseload/<team id>.
  if (path.starts_with("/caseload/")) {
    const std::string_view team = path.substr(10);
    return !team.empty() && team.find('/') == std::string_view::npos;
  }
  if (path.starts_with("/people/")) {
    std::string_view id = path.substr(8);
    // A person's care plan and its editor: /people/<id>/care-plan[/edit] (pages/care-plan.ts).
    for (std::string_view page : {"/care-plan/edit", "/care-plan"})
      if (id.ends_with(page)) {
        id.remove_suffix(page.size());
        break;
      }
    return !id.empty() && id.find('/') == std::string_view::npos;
  }
  return false;
}

}  // namespace joinedup::webapp
