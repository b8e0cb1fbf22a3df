// NhsNumber: a validated 10-digit NHS number.
//
// Validation follows the NHS Data Dictionary "NHS NUMBER" Modulus 11 check: digits 1–9 are
// multiplied by weights 10..2 and summed; check = 11 − (sum mod 11); a result of 11 means
// check digit 0 and a result of 10 means the number is invalid. Numbers made of one repeated
// digit (e.g. 0000000000) pass the arithmetic but are never issued, so they are rejected.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace joinedup {

class NhsNumber {
 public:
  // Accepts "9434765919", "943 476 5919" and "943-476-5919" (separators only in the 3-3-4
  // positions, one kind per number). Errors name what is wrong: length, a non-digit, the
  // check digit, or repeated digits.
  static Result<NhsNumber> Parse(std::string_view text);

  // The check digit for nine leading digits, or nullopt when the Modulus 11 result is 10
  // (no valid NHS number starts with those nine digits). `first_nine` must be 9 ASCII digits.
  static std::optional<char> CheckDigit(std::string_view first_nine);

  const std::string& digits() const { return digits_; }  // "9434765919"
  std::string Formatted() const;                         // "943 476 5919"

  friend bool operator==(const NhsNumber&, const NhsNumber&) = default;

 private:
  explicit NhsNumber(std::string digits) : digits_(std::move(digits)) {}
  std::string digits_;
};

}  // namespace joinedup
