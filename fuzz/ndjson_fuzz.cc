// Fuzzes the NDJSON line reader: any bytes, any block size and line limit. Checks that the
// lines it returns tile the input exactly (every byte is in one line or is its "\n"), that
// line numbers count up from 1 and that over-long lines carry no text.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fhir/ndjson_reader.h"

namespace {
void Check(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace joinedup::fhir;
  if (size < 2) return 0;
  // The first two bytes choose the reader's shape; the rest is the file.
  const size_t block = 1 + data[0] % 64;
  const size_t max_line = 1 + data[1] % 128;
  std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);

  LineReader reader(InputBuffer::FromMemory(text, block), max_line);
  Line line;
  uint64_t expected_offset = 0;
  uint64_t expected_number = 1;
  for (;;) {
    auto next = reader.Next(line);
    Check(next.ok());
    if (!*next) break;
    Check(line.number == expected_number++);
    Check(line.offset == expected_offset);
    Check(line.offset + line.size <= text.size());
    if (line.too_long) {
      Check(line.size > max_line && line.text.empty());
    } else {
      std::string_view original = text.substr(line.offset, line.size);
      Check(line.size <= max_line);
      // The text is the line, less a final "\r".
      Check(line.text == original || (original.size() == line.text.size() + 1 &&
                                      original.back() == '\r' && original.starts_with(line.text)));
    }
    Check(text.substr(line.offset, line.size).find('\n') == std::string_view::npos);
    expected_offset = line.offset + line.size;
    if (expected_offset < text.size()) {
      Check(text[expected_offset] == '\n');
      ++expected_offset;
    }
  }
  Check(expected_offset == text.size());
  Check(reader.bytes_done() == text.size());
  return 0;
}
