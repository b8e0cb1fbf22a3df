// Fuzzes the segmentation model parser: any bytes as a model file. A parse either fails with
// a message naming the file and a line:column, or gives a model whose every condition can be
// evaluated, rendered and explained as valid-looking JSON without crashing.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "analytics/segmentation.h"

namespace {
void Check(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace joinedup::analytics;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto model = ParseSegmentationModel("f.model", text);
  if (!model.ok()) {
    Check(model.error().message.starts_with("f.model:"));
    return 0;
  }
  Check(!model->segments.empty() && !model->name.empty() && !model->version.empty());
  Check(Info(*model).segments.size() == model->segments.size());
  // Reparsing is deterministic, and the canonical text of every condition parses again.
  auto again = ParseSegmentationModel("f.model", text);
  Check(again.ok() && again->nodes.size() == model->nodes.size());
  std::string canonical = "model: c\nversion: 1\n";
  for (const Segment& s : model->segments)
    canonical += "segment s" + std::to_string(&s - model->segments.data()) + " \"x\" when " +
                 ConditionText(*model, s.condition) + "\n";
  Check(ParseSegmentationModel("c.model", canonical).ok());

  // People at a few extremes land somewhere consistent and are explained.
  for (int shape = 0; shape < 3; ++shape) {
    PersonFeatures p;
    p.age = static_cast<int16_t>(shape * 60);
    p.ltc_count = static_cast<int16_t>(shape * 3);
    p.mental_health_need = p.care_home = shape == 1;
    p.efi_deficits = static_cast<int16_t>(shape * 12);
    p.hfrs_tenths = static_cast<int16_t>(shape * 100);
    p.admission_risk = 0.5f * static_cast<float>(shape);
    p.cost_percentile = 50.0f * static_cast<float>(shape);
    const SegmentAssignment a = Assign(*model, p);
    Check(a.segment < static_cast<int>(model->segments.size()));
    Check((a.status == AssignmentStatus::kAssigned) == (a.segment >= 0));
    const std::string json = ExplainJson(*model, a, p, {}, {});
    Check(json.front() == '{' && json.back() == '}');
  }
  return 0;
}
