// Nothing written is lost: for every type the registry says the API updates, a resource carrying
// the elements of its FHIR R4 definition (tests/api/fixtures/roundtrip/<Type>.json) is PUT and
// read back equal, `meta` aside — by read, vread, history and search — on SQLite and
// PostgreSQL. And when another writer (an import) changes the typed rows afterwards, the
// rows' rendering is served instead of the stale text.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api_test_support.h"
#include "resources/registry.h"
#include "store_test_support.h"

namespace joinedup::api::testing {
namespace {

using json = nlohmann::json;
using store::testing::Backend;

const std::filesystem::path kFixtures =
    std::filesystem::path(JOINEDUP_SOURCE_DIR) / "tests/api/fixtures/roundtrip";

// Consent is written through its own model (a person's current decision: docs/fhir-api.md
// "Consent: the model"); its round trip is the Consent tests'.
bool HasOwnWriteModel(std::string_view type) { return type == "Consent"; }

json ReadFixture(std::string_view type) {
  std::ifstream in(kFixtures / (std::string(type) + ".json"));
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
}

json WithoutMeta(json resource) {
  resource.erase("meta");
  return resource;
}

class RoundTripTest : public PopulatedApiTest {
 protected:
  // PUTs `resource` as `who` (with If-Match when it exists) and returns the new version id.
  std::string Put(std::string_view who, const json& resource) {
    const std::string target =
        "/" + resource["resourceType"].get<std::string>() + "/" + resource["id"].get<std::string>();
    std::vector<std::pair<std::string, std::string>> headers;
    const HttpResponse current = Call(who, "GET", target);
    if (current.status == 200) headers.emplace_back("if-match", HeaderOf(current, "ETag"));
    const HttpResponse put = Call(who, "PUT", target, resource.dump(), headers);
    EXPECT_TRUE(put.status == 200 || put.status == 201) << target << ": " << put.body;
    if (put.status != 200 && put.status != 201) return "";
    EXPECT_EQ(WithoutMeta(json::parse(put.body)), resource) << "the PUT's own answer";
    return json::parse(put.body)["meta"]["versionId"].get<std::string>();
  }

};

TEST_P(RoundTripTest, EveryWritableTypeReadsBackWhatWasWritten) {
  int types = 0;
  for (const resources::ResourceTypeDef& t : resources::AllTypes()) {
    if (!t.interactions.update || HasOwnWriteModel(t.name)) continue;
    SCOPED_TRACE(std::string(t.name));
    const json fixture = ReadFixture(t.name);
    ASSERT_TRUE(fixture.is_object()) << "no round-trip fixture for " << t.name << " in "
                                     << kFixtures << ": every writable type needs one";
    ++types;
    const std::string who =
        t.category == resources::AccessCategory::kDirectory ? "administrator" : "gp";
    const std::string id = fixture["id"];
    const std::string target = "/" + std::string(t.name) + "/" + id;
    const std::string version = Put(who, fixture);
    ASSERT_FALSE(version.empty());

    const HttpResponse read = Call(who, "GET", target);
    ASSERT_EQ(read.status, 200) << read.body;
    EXPECT_EQ(WithoutMeta(json::parse(read.body)), fixture) << "read";

    const HttpResponse vread = Call(who, "GET", target + "/_history/" + version);
    ASSERT_EQ(vread.status, 200) << vread.body;
    EXPECT_EQ(WithoutMeta(json::parse(vread.body)), fixture) << "vread";

    const HttpResponse history = Call(who, "GET", target + "/_history");
    ASSERT_EQ(history.status, 200) << history.body;
    const json newest = json::parse(history.body)["entry"][0]["resource"];
    EXPECT_EQ(WithoutMeta(newest), fixture) << "history";

    const HttpResponse search = Call(who, "GET", "/" + std::string(t.name) + "?_id=" + id);
    ASSERT_EQ(search.status, 200) << search.body;
    const json bundle = json::parse(search.body);
    ASSERT_EQ(bundle.value("entry", json::array()).size(), 1u) << search.body;
    EXPECT_EQ(WithoutMeta(bundle["entry"][0]["resource"]), fixture) << "search";
  }
  EXPECT_GE(types, 8);
}

TEST_P(RoundTripTest, AnImportThatChangesTheRowsIsServedInsteadOfTheStaleText) {
  const json fixture = ReadFixture("Patient");
  ASSERT_TRUE(fixture.is_object());
  ASSERT_FALSE(Put("gp", fixture).empty());
  const HttpResponse before = Call("gp", "GET", "/Patient/p1");
  ASSERT_EQ(before.status, 200) << before.body;
  ASSERT_TRUE(json::parse(before.body).contains("telecom")) << "the client's text is served";
  auto found = api_->store().FindResource("Patient", "p1");
  ASSERT_TRUE(found.ok() && found->has_value());
  Patient changed = std::get<Patient>((*found)->record);
  changed.family_name = "Imported";
  {
    auto writer = api_->store().BeginWrite();
    ASSERT_TRUE(writer.ok()) << writer.error().ToString();
    ASSERT_TRUE((*writer)->Add(changed).ok());
    ASSERT_TRUE((*writer)->Commit().ok());
  }
  const HttpResponse read = Call("gp", "GET", "/Patient/p1");
  ASSERT_EQ(read.status, 200) << read.body;
  const json served = json::parse(read.body);
  EXPECT_EQ(served["name"][0]["family"], "Imported") << read.body;
  EXPECT_FALSE(served.contains("telecom")) << "the stale client text must not be served";
}

INSTANTIATE_TEST_SUITE_P(Backends, RoundTripTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return store::testing::BackendName(info.param); });

}  // namespace
}  // namespace joinedup::api::testing
