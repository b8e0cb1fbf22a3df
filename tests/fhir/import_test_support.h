// Support for the import tests: a temporary directory of input files, a fresh store on either
// backend, FHIR lines built with the mapper's own writer, and a snapshot of everything a store
// holds (to prove a failed import changed nothing).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "domain/population.h"
#include "fhir/import.h"
#include "store/store.h"
#include "store_test_support.h"

namespace joinedup::fhir::testing {

using store::testing::Backend;

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  // Writes `content` to path()/name (creating subdirectories) and returns the full path.
  std::string Write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// A test population: one practice, two people, an emergency admission with a cost and a
// diagnosis recorded in it, a care package, an observation and a medication.
struct Population {
  Practice practice;
  Patient p1, p2;
  Activity admission, package;
  ClinicalEvent diagnosis, observation;
  Medication medication;
};
Population MakePopulation();

// One line of FHIR JSON (no newline), written by fhir_mapping.h's writer.
std::string Json(const Practice& r);
std::string Json(const Patient& r);
std::string Json(const Activity& r);
std::string Json(const ClinicalEvent& r);
std::string Json(const Medication& r);
std::string ChargeJson(const Activity& r);
// Lines joined with "\n", ending in "\n".
std::string Lines(const std::vector<std::string>& lines);

// Everything the store holds, one field per line, in a stable order.
std::string Snapshot(store::Store& store);

// Fixture: a fresh store per test on the backend of the parameter.
class ImportStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override;
  Result<ImportReport> Run(const std::vector<std::string>& paths, ImportOptions options = {});
  // Every issue, one per line, for failure messages.
  static std::string Issues(const ImportReport& report);

  std::unique_ptr<store::testing::TestDatabase> db_;
  std::unique_ptr<store::Store> store_;
  TempDir dir_;
};

}  // namespace joinedup::fhir::testing
