// The web UI's built files (web/, built with Vite and compiled into the binary at build time
// by cmake/embed_web.cmake), so `joinedup serve` needs no web server and no files beside it.
#pragma once

#include <string_view>

namespace joinedup::webapp {

struct Asset {
  std::string_view path;          // "/index.html", "/assets/index-3f2a9c.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8", …
  std::string_view body;
};

// A built file by its path; nullptr if there is none (or the UI was not built in).
const Asset* FindAsset(std::string_view path);

// The page every screen is served from (index.html; the UI routes in the browser); nullptr
// when the binary was built without the UI (-DJOINEDUP_WEB=OFF).
const Asset* AppPage();

// Where the page may be used: a URL path the UI has a screen for ("/", "/find",
// "/people/p1", …). Other paths stay the server's 404.
bool IsAppRoute(std::string_view path);

}  // namespace joinedup::webapp
