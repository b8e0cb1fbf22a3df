// Fuzzes the HTTP layer's own parsers of outside input (src/server/http_text.h) on arbitrary
// bytes: form bodies, Cookie headers, HTTP Basic credentials, request ids, paths, address
// blocks and X-Forwarded-For, and break-glass reasons. Nothing may crash, and what comes out
// must hold the promises the server relies on: request ids and route templates safe to log,
// audit text valid UTF-8 within its cap, form fields that re-encode to the same fields, a
// client address that is the peer's or one named in the header, a reason in its one form.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "security/policy.h"
#include "server/http_text.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

bool SafeForLog(std::string_view text) {
  for (char c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\' || c == 0x7F) return false;
  return true;
}

std::string FormEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '*') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace joinedup::server;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  auto form = ParseForm(input);
  if (form.ok()) {
    std::string again;
    for (const auto& [name, value] : *form)
      again += (again.empty() ? "" : "&") + FormEncode(name) + "=" + FormEncode(value);
    auto reparsed = ParseForm(again);
    Check(reparsed.ok());
    Check(reparsed.value() == form.value());
  } else {
    Check(!form.error().message.empty());
  }

  (void)CookieValue(input, "joinedup_session");
  for (bool decode : {false, true}) {
    auto basic = ParseBasicAuthorization(input, decode);
    if (basic) Check(basic->user.find(':') == std::string::npos || decode);
  }

  if (auto id = SafeRequestId(input)) {
    Check(*id == input);
    Check(!id->empty() && id->size() <= 64 && SafeForLog(*id));
  }

  const std::string route = RouteTemplate(input);
  Check(SafeForLog(route));
  Check(route.size() <= 64);

  const std::string safe = AuditSafeText(input, 64);
  Check(safe.size() <= 64);
  Check(AuditSafeText(safe, 64) == safe);  // already safe: unchanged
  for (char c : safe) Check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F);

  if (auto block = ParseCidr(input); block.ok()) {
    Check(block->prefix >= 0 && block->prefix <= (block->v4 ? 32 : 128));
  }
  static const std::vector<Cidr> kProxies = {*ParseCidr("127.0.0.0/8"), *ParseCidr("::1")};
  const std::string client = ClientAddress("127.0.0.1", {std::string(input)}, kProxies);
  Check(client == "127.0.0.1" || input.find(client) != std::string_view::npos);
  Check(ClientAddress("203.0.113.1", {std::string(input)}, kProxies) == "203.0.113.1");

  if (auto reason = joinedup::security::ParseBreakGlassReason(input); reason.ok()) {
    Check(reason->size() <= joinedup::security::kMaxBreakGlassReason);
    auto again = joinedup::security::ParseBreakGlassReason(*reason);
    Check(again.ok() && *again == *reason);  // its one written form
  }
  return 0;
}
