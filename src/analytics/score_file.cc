#include "analytics/score_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <thread>
#include <utility>

#include "analytics/charlson.h"
#include "analytics/code_lists.h"
#include "analytics/elixhauser.h"
#include "analytics/hfrs.h"

namespace joinedup::analytics {
namespace {

// Below this size one thread is faster than starting more.
constexpr size_t kMinBytesPerThread = 256 * 1024;

int ResolveThreads(int threads) {
  if (threads > 0) return threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

uint64_t HashId(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
  }
  uint64_t w = 0;
  std::memcpy(&w, s.data() + i, s.size() - i);
  h = (h ^ w) * 0x94d049bb133111ebull;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return h;
}

// Open-addressing map from id to its ScoredPerson, in insertion order.
//
// Scoring is bound by memory latency: each row touches the entry of its id, scattered over a
// table of ~100k ids. So an entry holds what a row needs in one 32-byte slot (the id's first 11
// bytes inline for the comparison, and the code bits), callers prefetch a batch of slots before
// touching them, and the cold data (the id view, first offset) lives apart.
class PersonTable {
 public:
  PersonTable() : entries_(1024) {}

  void Prefetch(uint64_t hash) const {
    __builtin_prefetch(&entries_[hash & (entries_.size() - 1)]);
  }

  // Makes room for `more` new ids without moving entries (so prefetches stay valid).
  void Reserve(size_t more) {
    while ((people_.size() + more) * 2 > entries_.size()) Grow();
  }

  // The code bits of `id`, added (first seen at `offset`) if new. Call Reserve first.
  uint64_t* FindOrAdd(std::string_view id, uint64_t hash, uint64_t offset) {
    if ((people_.size() + 1) * 2 > entries_.size()) Grow();
    const size_t mask = entries_.size() - 1;
    const uint8_t len = id.size() > kInline ? kLong : static_cast<uint8_t>(id.size());
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Entry& e = entries_[i];
      if (e.person == kEmpty) {
        e.person = static_cast<uint32_t>(people_.size());
        e.len = len;
        std::memcpy(e.key, id.data(), std::min<size_t>(id.size(), kInline));
        people_.push_back({id, offset, {0, 0}});
        hashes_.push_back(hash);
        return e.bits;
      }
      if (e.len != len) continue;
      if (len != kLong) {
        if (std::memcmp(e.key, id.data(), len) == 0) return e.bits;
      } else if (std::memcmp(e.key, id.data(), kInline) == 0 && people_[e.person].id == id) {
        return e.bits;
      }
    }
  }

  // The people in insertion order with their bits; the table is left empty.
  std::vector<ScoredPerson> TakePeople(std::vector<uint64_t>* hashes) {
    for (const Entry& e : entries_) {
      if (e.person == kEmpty) continue;
      people_[e.person].bits[0] = e.bits[0];
      people_[e.person].bits[1] = e.bits[1];
    }
    entries_.assign(1024, Entry{});
    if (hashes != nullptr) *hashes = std::move(hashes_);
    hashes_.clear();
    return std::move(people_);
  }

 private:
  static constexpr size_t kInline = 11;
  static constexpr uint8_t kLong = 0xFF;  // id longer than kInline: compare in full
  static constexpr uint32_t kEmpty = 0xFFFFFFFF;
  struct Entry {
    uint64_t bits[2] = {0, 0};
    char key[kInline] = {};
    uint8_t len = 0;
    uint32_t person = kEmpty;
  };
  static_assert(sizeof(Entry) == 32);

  void Grow() {
    std::vector<Entry> bigger(entries_.size() * 2);
    const size_t mask = bigger.size() - 1;
    for (const Entry& e : entries_) {
      if (e.person == kEmpty) continue;
      size_t i = hashes_[e.person] & mask;
      while (bigger[i].person != kEmpty) i = (i + 1) & mask;
      bigger[i] = e;
    }
    entries_ = std::move(bigger);
  }

  std::vector<Entry> entries_;
  std::vector<ScoredPerson> people_;  // bits filled in by TakePeople
  std::vector<uint64_t> hashes_;
};

// One row, parsed and matched, waiting to be folded into its id's entry.
struct Row {
  std::string_view id;
  uint64_t hash;
  uint64_t offset;
  uint64_t bits[2];
};

// The partition (0..n-1) an id belongs to: high hash bits, independent of the slot bits.
size_t PartitionOf(uint64_t hash, size_t n) {
  return static_cast<size_t>(((hash >> 32) * n) >> 32);
}

// Folds rows into `table`, a batch at a time: the batch's slots are prefetched together so the
// memory latency of the scattered slots overlaps instead of adding up.
void Fold(const Row* rows, size_t count, PersonTable& table) {
  constexpr size_t kBatch = 32;
  for (size_t b = 0; b < count; b += kBatch) {
    const size_t e = std::min(count, b + kBatch);
    table.Reserve(e - b);
    for (size_t i = b; i < e; ++i) table.Prefetch(rows[i].hash);
    for (size_t i = b; i < e; ++i) {
      uint64_t* bits = table.FindOrAdd(rows[i].id, rows[i].hash, rows[i].offset);
      bits[0] |= rows[i].bits[0];
      bits[1] |= rows[i].bits[1];
    }
  }
}

struct Chunk {
  PersonTable table;                    // one thread: rows folded straight in
  std::vector<std::vector<Row>> parts;  // several threads: rows by id partition
  std::deque<std::string> owned_ids;
  int64_t rows = 0;
  size_t error_offset = std::string_view::npos;  // byte offset of the bad line
  std::string error;
};

// Reads one field at p (< end). On success returns true with the field's raw text in `field`
// (quotes removed; `escaped` set if it held "" pairs still to be undone) and p just after it.
bool ReadField(const char*& p, const char* end, std::string_view& field, bool& escaped,
               std::string& error) {
  escaped = false;
  if (*p == '"') {
    const char* start = ++p;
    for (;;) {
      if (p == end || *p == '\n') {
        error = "unterminated quoted field (a field may not span lines)";
        return false;
      }
      if (*p == '"') {
        if (p + 1 < end && p[1] == '"') {
          escaped = true;
          p += 2;
          continue;
        }
        field = std::string_view(start, static_cast<size_t>(p - start));
        ++p;
        if (p < end && *p != ',' && *p != '\n' && *p != '\r') {
          error = "text after a closing quote";
          return false;
        }
        return true;
      }
      ++p;
    }
  }
  const char* start = p;
  while (p < end && *p != ',' && *p != '\n' && *p != '\r') {
    if (*p == '"') {
      error = "quote inside an unquoted field";
      return false;
    }
    ++p;
  }
  field = std::string_view(start, static_cast<size_t>(p - start));
  return true;
}

std::string Unescape(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    out.push_back(field[i]);
    if (field[i] == '"') ++i;  // "" -> "
  }
  return out;
}

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t') return false;
  }
  return true;
}

struct Matcher {
  ScoreKind kind;
  const ComorbidityIndex* index = nullptr;
  const HfrsModel* hfrs = nullptr;

  void Apply(std::string_view code, uint64_t* bits) const {
    if (index != nullptr) {
      bits[0] |= index->Match(code);
    } else {
      const int c = hfrs->CategoryOf(code);
      if (c >= 0) bits[c >> 6] |= uint64_t{1} << (c & 63);
    }
  }
};

Result<Matcher> MatcherFor(ScoreKind kind) {
  Matcher m{kind};
  if (kind == ScoreKind::kHfrs) {
    JU_ASSIGN_OR_RETURN(m.hfrs, Hfrs());
  } else if (kind == ScoreKind::kCharlson) {
    JU_ASSIGN_OR_RETURN(m.index, Charlson());
  } else {
    JU_ASSIGN_OR_RETURN(m.index, Elixhauser());
  }
  return m;
}

// Parses the lines in [begin, end) of `text`. With one thread the rows are folded into the
// chunk's table; with several they are sorted into the id partitions (chunk.parts) for
// FoldPartition, so that no id is folded by two threads.
void ParseChunk(std::string_view text, size_t begin, size_t end, const Matcher& matcher,
                Chunk& chunk) {
  constexpr int kBatch = 256;
  Row batch[kBatch];
  int pending = 0;
  const size_t parts = chunk.parts.size();
  for (auto& part : chunk.parts) part.reserve((end - begin) / 8 / parts + 16);
  auto flush = [&] {
    if (parts == 0) {
      Fold(batch, pending, chunk.table);
    } else {
      for (int i = 0; i < pending; ++i)
        chunk.parts[PartitionOf(batch[i].hash, parts)].push_back(batch[i]);
    }
    pending = 0;
  };

  const char* base = text.data();
  const char* p = base + begin;
  const char* stop = base + end;
  std::string code_buffer;
  auto fail = [&](const char* line, std::string message) {
    chunk.error_offset = static_cast<size_t>(line - base);
    chunk.error = std::move(message);
  };
  while (p < stop) {
    const char* line = p;
    std::string_view id, code;
    bool id_escaped = false, code_escaped = false;
    std::string error;
    if (!ReadField(p, stop, id, id_escaped, error)) return fail(line, "field 'id': " + error);
    if (p == stop || *p != ',') {
      // A line with one field: blank lines are skipped, anything else is malformed.
      const char* eol = p;
      if (eol < stop && *eol == '\r') ++eol;
      if (!id_escaped && line[0] != '"' && IsBlank(id) && (eol == stop || *eol == '\n')) {
        p = eol == stop ? eol : eol + 1;
        continue;
      }
      return fail(line, "expected 2 fields (id,code), found 1");
    }
    ++p;  // ','
    if (p == stop) return fail(line, "field 'code': empty");
    if (!ReadField(p, stop, code, code_escaped, error)) {
      return fail(line, "field 'code': " + error);
    }
    if (p < stop && *p == ',') {
      int fields = 3;
      for (const char* q = p + 1; q < stop && *q != '\n'; ++q) fields += *q == ',';
      return fail(line, "expected 2 fields (id,code), found " + std::to_string(fields) +
                            " (quote a field that holds a comma)");
    }
    if (p < stop && *p == '\r') {
      ++p;
      if (p < stop && *p != '\n') return fail(line, "carriage return inside a line");
    }
    if (p < stop) ++p;  // '\n'
    if (id.empty()) return fail(line, "field 'id': empty");
    if (code_escaped) {
      code_buffer = Unescape(code);
      code = code_buffer;
    }
    if (IsBlank(code)) return fail(line, "field 'code': empty");
    if (id_escaped) {
      chunk.owned_ids.push_back(Unescape(id));
      id = chunk.owned_ids.back();
    }
    Row& row = batch[pending++];
    row.id = id;
    row.hash = HashId(id);
    row.offset = static_cast<uint64_t>(line - base);
    row.bits[0] = row.bits[1] = 0;
    matcher.Apply(code, row.bits);
    ++chunk.rows;
    if (pending == kBatch) flush();
  }
  flush();
}

size_t NextLineStart(std::string_view text, size_t pos) {
  if (pos >= text.size()) return text.size();
  const void* nl = std::memchr(text.data() + pos, '\n', text.size() - pos);
  return nl == nullptr ? text.size()
                       : static_cast<size_t>(static_cast<const char*>(nl) - text.data()) + 1;
}

std::string LowerTrimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Where the data starts: after a BOM and a header line, if there is one.
size_t DataStart(std::string_view text) {
  size_t start = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") start = 3;
  const size_t line_end = NextLineStart(text, start);
  std::string_view first = text.substr(start, line_end - start);
  if (!first.empty() && first.back() == '\n') first.remove_suffix(1);
  const size_t comma = first.find(',');
  if (comma == std::string_view::npos) return start;
  std::string a = LowerTrimmed(first.substr(0, comma));
  std::string b = LowerTrimmed(first.substr(comma + 1));
  auto unquote = [](std::string& s) {
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  };
  unquote(a);
  unquote(b);
  return (a == "id" && b == "code") ? line_end : start;
}

void AppendInt(std::string& out, int value) {
  char buffer[16];
  const auto [ptr, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, ptr);
}

void AppendId(std::string& out, std::string_view id) {
  if (id.find_first_of(",\"\r\n") == std::string_view::npos && id.front() != ' ' &&
      id.back() != ' ') {
    out.append(id);
    return;
  }
  out.push_back('"');
  for (char c : id) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void AppendTenths(std::string& out, int tenths) {
  AppendInt(out, tenths / 10);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + tenths % 10));
}

}  // namespace

std::string_view ScoreKindName(ScoreKind kind) {
  switch (kind) {
    case ScoreKind::kCharlson:
      return "charlson";
    case ScoreKind::kElixhauser:
      return "elixhauser";
    case ScoreKind::kHfrs:
      return "hfrs";
  }
  return "charlson";
}

std::optional<ScoreKind> ScoreKindFromName(std::string_view name) {
  for (ScoreKind k : {ScoreKind::kCharlson, ScoreKind::kElixhauser, ScoreKind::kHfrs}) {
    if (ScoreKindName(k) == name) return k;
  }
  return std::nullopt;
}

std::vector<int> PersonScores(ScoreKind kind, const ScoredPerson& person) {
  if (kind == ScoreKind::kHfrs) {
    const HfrsModel* model = *Hfrs();  // Score* succeeded, so the list parsed
    int tenths = 0;
    for (int w = 0; w < 2; ++w) {
      uint64_t bits = person.bits[w];
      while (bits != 0) {
        tenths += model->categories()[w * 64 + std::countr_zero(bits)].points_tenths;
        bits &= bits - 1;
      }
    }
    return {tenths};
  }
  const ComorbidityIndex* index = kind == ScoreKind::kCharlson ? *Charlson() : *Elixhauser();
  const uint64_t counted = index->ApplyHierarchy(person.bits[0]);
  return {index->Score(counted, 0), index->Score(counted, 1)};
}

Result<ScoredFile> ScoreCsvText(std::string_view file_name, std::string_view text, ScoreKind kind,
                                int threads) {
  JU_ASSIGN_OR_RETURN(Matcher matcher, MatcherFor(kind));
  const std::string name(file_name);
  if (text.empty()) return Error::Invalid(name + ": empty file (expected id,code rows)");
  const size_t data_start = DataStart(text);

  const size_t bytes = text.size() - data_start;
  int n = ResolveThreads(threads);
  n = static_cast<int>(std::max<size_t>(1, std::min<size_t>(n, bytes / kMinBytesPerThread)));
  std::vector<size_t> bounds{data_start};
  for (int i = 1; i < n; ++i) {
    bounds.push_back(std::max(bounds.back(), NextLineStart(text, data_start + bytes * i / n)));
  }
  bounds.push_back(text.size());

  std::vector<Chunk> chunks(n);
  if (n > 1) {
    for (Chunk& c : chunks) c.parts.resize(n);
  }
  auto run = [n](const auto& work) {
    std::vector<std::thread> workers;
    for (int i = 1; i < n; ++i) workers.emplace_back(work, i);
    work(0);
    for (auto& w : workers) w.join();
  };
  run([&](int i) { ParseChunk(text, bounds[i], bounds[i + 1], matcher, chunks[i]); });
  for (const Chunk& c : chunks) {  // the first error in the file wins
    if (c.error_offset == std::string_view::npos) continue;
    const int64_t line =
        1 +
        std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(c.error_offset), '\n');
    return Error::Invalid(name + ":" + std::to_string(line) + ": " + c.error);
  }

  ScoredFile scored;
  scored.kind = kind;
  for (Chunk& c : chunks) scored.rows += c.rows;
  if (scored.rows == 0) return Error::Invalid(name + ": no data rows (expected id,code rows)");
  if (n == 1) {
    scored.people = chunks[0].table.TakePeople(nullptr);
  } else {
    // Thread p folds partition p of every chunk, in chunk order, so each partition's people come
    // out in first-appearance order; merging the partitions by first offset orders them all.
    std::vector<std::vector<ScoredPerson>> partitions(n);
    run([&](int p) {
      PersonTable table;
      for (Chunk& c : chunks) {
        Fold(c.parts[p].data(), c.parts[p].size(), table);
        std::vector<Row>().swap(c.parts[p]);
      }
      partitions[p] = table.TakePeople(nullptr);
    });
    auto by_offset = [](const ScoredPerson& a, const ScoredPerson& b) {
      return a.first_offset < b.first_offset;
    };
    while (partitions.size() > 1) {
      std::vector<std::vector<ScoredPerson>> merged;
      for (size_t i = 0; i + 1 < partitions.size(); i += 2) {
        std::vector<ScoredPerson> both(partitions[i].size() + partitions[i + 1].size());
        std::merge(partitions[i].begin(), partitions[i].end(), partitions[i + 1].begin(),
                   partitions[i + 1].end(), both.begin(), by_offset);
        merged.push_back(std::move(both));
      }
      if (partitions.size() % 2 == 1) merged.push_back(std::move(partitions.back()));
      partitions = std::move(merged);
    }
    scored.people = std::move(partitions[0]);
  }
  for (Chunk& c : chunks) scored.owned_ids.push_back(std::move(c.owned_ids));
  return scored;
}

std::string FormatScoredFile(const ScoredFile& scored, int threads) {
  const ScoreKind kind = scored.kind;
  const ComorbidityIndex* index = nullptr;
  const HfrsModel* hfrs = nullptr;
  std::string header = "id,";
  if (kind == ScoreKind::kHfrs) {
    hfrs = *Hfrs();
    header += "hfrs,hfrs_band,hfrs_categories";
  } else {
    index = kind == ScoreKind::kCharlson ? *Charlson() : *Elixhauser();
    header += kind == ScoreKind::kCharlson ? "charlson_1987,charlson_quan2011"
                                           : "elixhauser_vw2009,elixhauser_swiss";
    for (const auto& c : index->conditions()) header += "," + c.key;
  }
  header += '\n';

  const size_t count = scored.people.size();
  int n = ResolveThreads(threads);
  n = static_cast<int>(std::max<size_t>(1, std::min<size_t>(n, count / 4096)));
  std::vector<std::string> parts(n);
  auto format = [&](int part) {
    std::string& out = parts[part];
    const size_t begin = count * part / n, end = count * (part + 1) / n;
    out.reserve((end - begin) * (kind == ScoreKind::kHfrs ? 40 : 16 + 2 * 32));
    for (size_t i = begin; i < end; ++i) {
      const ScoredPerson& p = scored.people[i];
      AppendId(out, p.id);
      if (hfrs != nullptr) {
        int tenths = 0;
        std::string categories;
        for (int w = 0; w < 2; ++w) {
          uint64_t bits = p.bits[w];
          while (bits != 0) {
            const HfrsCategory& c = hfrs->categories()[w * 64 + std::countr_zero(bits)];
            bits &= bits - 1;
            tenths += c.points_tenths;
            if (!categories.empty()) categories.push_back(' ');
            categories += c.category;
          }
        }
        out.push_back(',');
        AppendTenths(out, tenths);
        out.push_back(',');
        out.append(HfrsBandName(HfrsBandOf(tenths)));
        out.push_back(',');
        out.append(categories);
      } else {
        const uint64_t counted = index->ApplyHierarchy(p.bits[0]);
        out.push_back(',');
        AppendInt(out, index->Score(counted, 0));
        out.push_back(',');
        AppendInt(out, index->Score(counted, 1));
        for (int c = 0; c < index->condition_count(); ++c) {
          out.push_back(',');
          out.push_back((counted >> c) & 1 ? '1' : '0');
        }
      }
      out.push_back('\n');
    }
  };
  std::vector<std::thread> workers;
  for (int i = 1; i < n; ++i) workers.emplace_back(format, i);
  format(0);
  for (auto& w : workers) w.join();
  size_t total = header.size();
  for (const auto& s : parts) total += s.size();
  std::string out;
  out.reserve(total);
  out += header;
  for (const auto& s : parts) out += s;
  return out;
}

Result<ScoreFileStats> ScoreFile(const std::string& input_path, const std::string& output_path,
                                 ScoreKind kind, int threads) {
  const int fd = ::open(input_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return Error::NotFound("cannot open '" + input_path + "': " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error::Invalid("'" + input_path + "' is not a regular file");
  }
  const size_t size = static_cast<size_t>(st.st_size);
  void* map = nullptr;
  if (size > 0) {
    map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (map == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return Error::Unavailable("cannot map '" + input_path + "': " + std::strerror(err));
    }
  }
  ::close(fd);
  struct Unmap {
    void* p;
    size_t n;
    ~Unmap() {
      if (p != nullptr) ::munmap(p, n);
    }
  } unmap{map, size};

  const std::string_view text(static_cast<const char*>(map), size);
  JU_ASSIGN_OR_RETURN(ScoredFile scored, ScoreCsvText(input_path, text, kind, threads));
  const std::string out = FormatScoredFile(scored, threads);

  const std::string partial = output_path + ".partial";
  std::FILE* f = std::fopen(partial.c_str(), "wb");
  if (f == nullptr) {
    const int err = errno;
    return Error::Unavailable("cannot write '" + output_path + "': " + std::strerror(err));
  }
  const bool written = std::fwrite(out.data(), 1, out.size(), f) == out.size();
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed || std::rename(partial.c_str(), output_path.c_str()) != 0) {
    const int err = errno;
    std::remove(partial.c_str());
    return Error::Unavailable("cannot write '" + output_path + "': " + std::strerror(err));
  }
  return ScoreFileStats{scored.rows, static_cast<int64_t>(scored.people.size())};
}

}  // namespace joinedup::analytics
