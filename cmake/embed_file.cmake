# Run as a script by joinedup_embed: writes OUT, a C++ file holding IN's bytes.
file(READ ${IN} content HEX)
string(LENGTH "${content}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${content}")
file(WRITE ${OUT} "// Generated from ${IN}; do not edit.\n#include <string_view>\nnamespace joinedup::embedded {\nstatic const char k${SYMBOL}[] = {${bytes} '\\0'};\nstd::string_view ${SYMBOL}() { return {k${SYMBOL}, ${size}}; }\n}  // namespace joinedup::embedded\n")
