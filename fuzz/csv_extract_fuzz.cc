// Fuzzes the CSV reader and the CSV extract mapping: any bytes, any block size and record
// limit. Checks that records tile the input and that the extract reader either refuses the
// header or reads every row into a record or an error naming a column, without crashing.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "fhir/csv_extract.h"

namespace {
void Check(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace joinedup::fhir;
  if (size < 3) return 0;
  const size_t block = 1 + data[0] % 64;
  const size_t max_record = 1 + data[1] % 256;
  MapOptions options;
  options.allow_missing_nhs_number = (data[2] & 1) != 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 3, size - 3);

  {
    CsvReader reader(InputBuffer::FromMemory(text, block), max_record);
    CsvRecord record;
    uint64_t line = 1;
    uint64_t offset = 0;
    for (;;) {
      auto next = reader.Next(record);
      Check(next.ok());
      if (!*next) break;
      Check(record.offset == offset);
      Check(record.line >= line);
      line = record.line;
      Check(record.offset + record.size <= text.size());
      if (record.too_long) {
        Check(record.fields.empty() && record.raw.empty() && record.size > max_record);
      } else {
        Check(record.raw.size() <= record.size);
        Check(!record.fields.empty() || !record.error.empty());
      }
      if (!record.error.empty()) Check(record.error_column >= 1);
      offset = record.offset + record.size;
      if (offset < text.size()) ++offset;  // the line break
    }
    Check(offset == text.size());
    Check(reader.bytes_done() == text.size());
  }

  auto extract = CsvExtractReader::Open(InputBuffer::FromMemory(text, block), options, max_record);
  if (!extract.ok()) {
    Check(!extract.error().message.empty());
    return 0;
  }
  ExtractRow row;
  for (;;) {
    auto next = (*extract)->Next(row);
    Check(next.ok());
    if (!*next) break;
    if (const auto* error = std::get_if<MapError>(&row.record)) {
      Check(!error->message.empty() && !error->resource_type.empty());
    }
  }
  return 0;
}
