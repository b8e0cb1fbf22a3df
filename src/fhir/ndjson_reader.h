// Reading import files in large blocks: InputBuffer (a growing window over a file or a
// memory region) and LineReader (NDJSON lines on top of it).
//
// Import files can be tens of gigabytes, so neither class ever holds a whole file: the
// window holds at most one line (or CSV record) plus one block. A line longer than the
// caller's limit is skipped without being kept — its size is counted as it streams past —
// so a 100 MB line costs one block of memory, not 100 MB.
//
// Thread safety: none; one reader per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace joinedup::fhir {

inline constexpr size_t kDefaultBlockBytes = 1 << 20;

// A window [data, data+size) of not-yet-consumed bytes of a file or memory region.
class InputBuffer {
 public:
  // Opens `path` for reading. Errors: kNotFound (no such file), kUnavailable (unreadable).
  static Result<std::unique_ptr<InputBuffer>> OpenFile(const std::string& path,
                                                       size_t block_bytes = kDefaultBlockBytes);
  // Reads from `data`, which must outlive the buffer. Small `block_bytes` are for tests and
  // fuzzers: they exercise the block-boundary logic with tiny inputs.
  static std::unique_ptr<InputBuffer> FromMemory(std::string_view data,
                                                 size_t block_bytes = kDefaultBlockBytes);
  ~InputBuffer();
  InputBuffer(const InputBuffer&) = delete;
  InputBuffer& operator=(const InputBuffer&) = delete;

  // The unconsumed bytes now in memory. Invalidated by Fill() and Consume().
  std::string_view window() const { return {buffer_.get() + begin_, end_ - begin_}; }
  // Reads one more block after the window, moving or growing the buffer as needed.
  // Returns false at end of input (nothing was added); kUnavailable on a read error.
  Result<bool> Fill();
  // Drops the first `n` bytes of the window.
  void Consume(size_t n) {
    begin_ += n;
    consumed_ += n;
  }
  // Bytes consumed since the start of the input.
  uint64_t consumed() const { return consumed_; }
  // Size of the input (for progress); 0 if not known.
  uint64_t total() const { return total_; }

 private:
  InputBuffer(int fd, std::string_view memory, size_t block_bytes, uint64_t total);

  int fd_ = -1;              // file, or -1 for memory
  std::string_view memory_;  // remaining memory input when fd_ < 0
  size_t block_bytes_;
  uint64_t total_ = 0;
  uint64_t consumed_ = 0;
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

// One line of an NDJSON file, without its "\n" (and without a "\r" before it).
struct Line {
  std::string_view text;  // empty when too_long
  uint64_t number = 0;    // 1-based line number
  uint64_t offset = 0;    // byte offset of the line's first byte in the input
  uint64_t size = 0;      // length in bytes (the whole length even when too_long)
  bool too_long = false;  // longer than the reader's limit: its text was not kept
};

class LineReader {
 public:
  // `max_line_bytes` (≥ 1) is the longest line returned with its text.
  LineReader(std::unique_ptr<InputBuffer> input, size_t max_line_bytes);

  // Reads the next line into `line` (its text valid until the next call). Returns false at
  // end of input. A final line without "\n" is still a line; an empty input has no lines.
  Result<bool> Next(Line& line);

  uint64_t bytes_done() const { return input_->consumed(); }
  uint64_t bytes_total() const { return input_->total(); }

 private:
  Result<bool> SkipLongLine(Line& line, uint64_t buffered);

  std::unique_ptr<InputBuffer> input_;
  size_t max_line_bytes_;
  uint64_t line_number_ = 0;
  size_t scanned_ = 0;  // bytes of the window already searched for "\n"
};

}  // namespace joinedup::fhir
