// SqlStore: the read side of Store written once in SQL for both backends (private to store).
//
// A backend supplies Query() (run one parameterised statement, hand each row to a callback)
// and its own Writer; the queries, the row decoding and the ordering rules live here, so the
// two backends cannot drift apart. SQL uses `?N` parameters; the PostgreSQL backend rewrites
// them to `$N`.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "store/store.h"

namespace joinedup::store {

// A statement parameter: NULL, a 64-bit integer or text (viewed, not owned: it must outlive
// the Query call).
struct SqlParam {
  enum class Kind { kNull, kInt, kText };
  Kind kind = Kind::kNull;
  int64_t integer = 0;
  std::string_view text;

  static SqlParam Null() { return {}; }
  static SqlParam Int(int64_t v) { return {Kind::kInt, v, {}}; }
  static SqlParam Text(std::string_view v) { return {Kind::kText, 0, v}; }
};

// One result row, valid only during the callback. Columns are 0-based.
class SqlRow {
 public:
  virtual ~SqlRow() = default;
  virtual bool IsNull(int column) const = 0;
  virtual int64_t Int(int column) const = 0;
  virtual double Real(int column) const = 0;
  virtual std::string_view Text(int column) const = 0;  // "" for NULL
};

class SqlStore : public Store {
 public:
  Result<TableCounts> Counts() override;
  Result<std::vector<Practice>> Practices() override;
  Result<std::optional<Patient>> FindPatient(std::string_view id) override;
  Result<std::optional<Patient>> FindPatientByNhsNumber(const NhsNumber& nhs_number) override;
  Result<std::vector<ClinicalEvent>> EventsForPatient(std::string_view patient_id) override;
  Result<std::optional<Activity>> FindActivity(std::string_view id) override;
  Result<std::vector<Activity>> ActivitiesForPatient(std::string_view patient_id) override;
  Result<std::vector<Medication>> MedicationsForPatient(std::string_view patient_id) override;
  Status ScanPatients(const std::function<Status(const Patient&)>& fn) override;
  Result<std::vector<CodeFrequency>> TopConditionCodes(int limit) override;

 protected:
  using RowFn = std::function<Status(const SqlRow&)>;
  // Runs `sql` (one statement, `?N` parameters) and calls `on_row` for each row; stops at and
  // returns the first error from the database (kUnavailable/kConflict) or from `on_row`.
  virtual Status Query(std::string_view sql, std::span<const SqlParam> params,
                       const RowFn& on_row) = 0;

 private:
  Result<std::optional<Patient>> FindOnePatient(std::string_view where, const SqlParam& param);
};

}  // namespace joinedup::store
