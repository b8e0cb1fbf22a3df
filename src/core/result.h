// Result<T>: the value of an operation that can fail in an expected way.
//
// Expected failures (bad input, missing records, conflicts…) travel as a Result with a
// small error vocabulary; the api layer maps each ErrorCode once to an HTTP status and a
// FHIR OperationOutcome. Broken invariants are assertions, and no exception crosses a
// module boundary.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace joinedup {

enum class ErrorCode {
  kInvalidInput,        // the caller's input is malformed or breaks a rule (400/422)
  kNotFound,            // no such record, or one the caller may not know exists (404)
  kConflict,            // the write clashes with existing state, e.g. a duplicate id (409)
  kPreconditionFailed,  // a version check failed (412)
  kUnauthenticated,     // who is asking is not known (401)
  kForbidden,           // known caller, not allowed (403)
  kTooLarge,            // input over a size limit (413)
  kUnavailable,         // a dependency (database, file system) failed; retrying may help (503)
  kInternal,            // a bug; should never reach a user (500)
};

std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::string field = {};  // the element or parameter at fault (a FHIRPath), when one is
  // The message is a database's or library's own words (SQL, constraint and column names,
  // stored values): for logs and operators, never for a client (fhir/search ToHttpError).
  bool backend_text = false;

  static Error Invalid(std::string message) { return {ErrorCode::kInvalidInput, std::move(message)}; }
  static Error NotFound(std::string message) { return {ErrorCode::kNotFound, std::move(message)}; }
  static Error Conflict(std::string message) { return {ErrorCode::kConflict, std::move(message)}; }
  static Error Unavailable(std::string message) {
    return {ErrorCode::kUnavailable, std::move(message)};
  }
  static Error Internal(std::string message) { return {ErrorCode::kInternal, std::move(message)}; }
  static Error TooLarge(std::string message) { return {ErrorCode::kTooLarge, std::move(message)}; }

  // "invalid input: <message>"
  std::string ToString() const;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }
  Error&& take_error() { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { assert(failed_); return error_; }
  Error&& take_error() { assert(failed_); return std::move(error_); }

 private:
  Error error_;
  bool failed_ = false;
};

using Status = Result<void>;

inline Status Ok() { return {}; }

}  // namespace joinedup

// Propagates a failed Result/Status from the current function.
#define JU_RETURN_IF_ERROR(expr)                     \
  do {                                               \
    auto ju_status_ = (expr);                        \
    if (!ju_status_.ok()) return ju_status_.take_error(); \
  } while (0)

#define JU_CONCAT_INNER_(a, b) a##b
#define JU_CONCAT_(a, b) JU_CONCAT_INNER_(a, b)
// `JU_ASSIGN_OR_RETURN(auto x, Fn());` binds the value or propagates the error.
#define JU_ASSIGN_OR_RETURN(decl, expr)                                   \
  auto JU_CONCAT_(ju_result_, __LINE__) = (expr);                         \
  if (!JU_CONCAT_(ju_result_, __LINE__).ok())                             \
    return JU_CONCAT_(ju_result_, __LINE__).take_error();                 \
  decl = std::move(JU_CONCAT_(ju_result_, __LINE__)).value()
