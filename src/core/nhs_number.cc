#include "core/nhs_number.h"

namespace joinedup {

std::optional<char> NhsNumber::CheckDigit(std::string_view first_nine) {
  int sum = 0;
  for (int i = 0; i < 9; ++i) sum += (first_nine[i] - '0') * (10 - i);
  int check = 11 - (sum % 11);
  if (check == 11) return '0';
  if (check == 10) return std::nullopt;
  return static_cast<char>('0' + check);
}

Result<NhsNumber> NhsNumber::Parse(std::string_view text) {
  std::string quoted = "'" + std::string(text.substr(0, 32)) + "'";
  std::string digits;
  digits.reserve(10);
  if (text.size() == 12) {
    // 3-3-4 with one separator kind: "943 476 5919" or "943-476-5919".
    char sep = text[3];
    if ((sep != ' ' && sep != '-') || text[7] != sep) {
      return Error::Invalid("NHS number " + quoted + " must be 10 digits, optionally as 3-3-4");
    }
    digits.append(text.substr(0, 3)).append(text.substr(4, 3)).append(text.substr(8, 4));
  } else if (text.size() == 10) {
    digits.assign(text);
  } else {
    return Error::Invalid("NHS number " + quoted + " must be 10 digits, optionally as 3-3-4");
  }
  for (char c : digits) {
    if (c < '0' || c > '9') return Error::Invalid("NHS number " + quoted + " contains a non-digit");
  }
  if (digits.find_first_not_of(digits[0]) == std::string::npos) {
    return Error::Invalid("NHS number " + quoted + " is one repeated digit and is never issued");
  }
  auto check = CheckDigit(std::string_view(digits).substr(0, 9));
  if (!check) {
    return Error::Invalid("NHS number " + quoted + " is invalid: its Modulus 11 check value is 10");
  }
  if (*check != digits[9]) {
    return Error::Invalid("NHS number " + quoted + " fails the Modulus 11 check (check digit should be " +
                          std::string(1, *check) + ")");
  }
  return NhsNumber(std::move(digits));
}

std::string NhsNumber::Formatted() const {
  return digits_.substr(0, 3) + " " + digits_.substr(3, 3) + " " + digits_.substr(6, 4);
}

}  // namespace joinedup
