#include "fhir/ndjson_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace joinedup::fhir {

InputBuffer::InputBuffer(int fd, std::string_view memory, size_t block_bytes, uint64_t total)
    : fd_(fd), memory_(memory), block_bytes_(std::max<size_t>(block_bytes, 1)), total_(total) {}

InputBuffer::~InputBuffer() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<InputBuffer>> InputBuffer::OpenFile(const std::string& path,
                                                           size_t block_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string message = path + ": cannot open: " + std::strerror(err);
    if (err == ENOENT) return Error::NotFound(std::move(message));
    return Error::Unavailable(std::move(message));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error::Invalid(path + ": not a regular file");
  }
#ifdef POSIX_FADV_SEQUENTIAL
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  return std::unique_ptr<InputBuffer>(
      new InputBuffer(fd, {}, block_bytes, static_cast<uint64_t>(st.st_size)));
}

std::unique_ptr<InputBuffer> InputBuffer::FromMemory(std::string_view data, size_t block_bytes) {
  return std::unique_ptr<InputBuffer>(new InputBuffer(-1, data, block_bytes, data.size()));
}

Result<bool> InputBuffer::Fill() {
  // Make room for one block after the window: first by moving the window to the front,
  // then by growing (only a window longer than a block — one long line — needs that).
  if (capacity_ - end_ < block_bytes_ && begin_ > 0) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (capacity_ - end_ < block_bytes_) {
    size_t capacity = std::max(capacity_ * 2, end_ + block_bytes_);
    std::unique_ptr<char[]> bigger(new char[capacity]);
    if (end_ > begin_) std::memcpy(bigger.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    buffer_ = std::move(bigger);
    capacity_ = capacity;
  }
  const size_t want = block_bytes_;
  if (fd_ < 0) {
    size_t n = std::min(want, memory_.size());
    if (n == 0) return false;
    std::memcpy(buffer_.get() + end_, memory_.data(), n);
    memory_.remove_prefix(n);
    end_ += n;
    return true;
  }
  for (;;) {
    ssize_t n = ::read(fd_, buffer_.get() + end_, want);
    if (n > 0) {
      end_ += static_cast<size_t>(n);
      return true;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return Error::Unavailable(std::string("read error: ") + std::strerror(errno));
  }
}

LineReader::LineReader(std::unique_ptr<InputBuffer> input, size_t max_line_bytes)
    : input_(std::move(input)), max_line_bytes_(std::max<size_t>(max_line_bytes, 1)) {}

namespace {
void SetLine(Line& line, std::string_view text, uint64_t number, uint64_t offset, size_t limit) {
  line.number = number;
  line.offset = offset;
  line.size = text.size();
  line.too_long = text.size() > limit;
  if (line.too_long) {
    line.text = {};
    return;
  }
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  line.text = text;
}
}  // namespace

Result<bool> LineReader::Next(Line& line) {
  for (;;) {
    std::string_view window = input_->window();
    if (scanned_ < window.size()) {
      const void* newline = std::memchr(window.data() + scanned_, '\n', window.size() - scanned_);
      if (newline != nullptr) {
        size_t length = static_cast<size_t>(static_cast<const char*>(newline) - window.data());
        SetLine(line, window.substr(0, length), ++line_number_, input_->consumed(),
                max_line_bytes_);
        input_->Consume(length + 1);
        scanned_ = 0;
        return true;
      }
      scanned_ = window.size();
    }
    if (window.size() > max_line_bytes_) return SkipLongLine(line, window.size());
    JU_ASSIGN_OR_RETURN(bool more, input_->Fill());
    if (!more) {
      window = input_->window();
      if (window.empty()) return false;
      SetLine(line, window, ++line_number_, input_->consumed(), max_line_bytes_);
      input_->Consume(window.size());
      scanned_ = 0;
      return true;
    }
  }
}

// The window holds `buffered` bytes of a line already over the limit and no "\n": count the
// rest of the line as it streams past, keeping none of it.
Result<bool> LineReader::SkipLongLine(Line& line, uint64_t buffered) {
  line.number = ++line_number_;
  line.offset = input_->consumed();
  line.text = {};
  line.too_long = true;
  uint64_t size = buffered;
  input_->Consume(buffered);
  scanned_ = 0;
  for (;;) {
    JU_ASSIGN_OR_RETURN(bool more, input_->Fill());
    if (!more) break;
    std::string_view window = input_->window();
    const void* newline = std::memchr(window.data(), '\n', window.size());
    if (newline != nullptr) {
      size_t length = static_cast<size_t>(static_cast<const char*>(newline) - window.data());
      size += length;
      input_->Consume(length + 1);
      break;
    }
    size += window.size();
    input_->Consume(window.size());
  }
  line.size = size;
  return true;
}

}  // namespace joinedup::fhir
