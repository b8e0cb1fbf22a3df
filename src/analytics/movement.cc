#include "analytics/movement.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include <fmt/format.h>

namespace joinedup::analytics {
namespace {

std::string NamesOf(const StratificationRun& run) {
  std::string out;
  for (const auto& m : run.models) out += (out.empty() ? "" : ", ") + m.name;
  return out.empty() ? std::string("none") : out;
}

int ModelIndex(const StratificationRun& run, std::string_view name) {
  for (size_t i = 0; i < run.models.size(); ++i)
    if (run.models[i].name == name) return static_cast<int>(i);
  return -1;
}

// The loaded model whose segments are the run's segments, if any (versions may differ).
const SegmentationModel* Describing(std::span<const SegmentationModel> models,
                                    const SegmentationModelInfo& info) {
  for (const auto& m : models) {
    if (m.name != info.name || m.segments.size() != info.segments.size()) continue;
    bool same = true;
    for (size_t s = 0; same && s < m.segments.size(); ++s)
      same = m.segments[s].label == info.segments[s];
    if (same) return &m;
  }
  return nullptr;
}

Status CheckResults(const RunResults& r) {
  for (size_t i = 0; i < r.people.size(); ++i) {
    const PersonRunResult& p = r.people[i];
    if (i > 0 && p.patient_key <= r.people[i - 1].patient_key)
      return Error::Invalid(
          fmt::format("run {}: results out of patient_key order at position {} (key {} after {})",
                      r.run.id, i, p.patient_key, r.people[i - 1].patient_key));
    if (p.segment.size() != r.run.models.size())
      return Error::Invalid(fmt::format("run {}: patient {} has {} segments for {} models",
                                        r.run.id, p.patient_key, p.segment.size(),
                                        r.run.models.size()));
    for (size_t m = 0; m < p.segment.size(); ++m)
      if (p.segment[m] >= static_cast<int>(r.run.models[m].segments.size()) ||
          p.segment[m] < kOutsidePopulation)
        return Error::Invalid(
            fmt::format("run {}: patient {} has segment {} in model '{}' of {} "
                        "segments",
                        r.run.id, p.patient_key, p.segment[m], r.run.models[m].name,
                        r.run.models[m].segments.size()));
  }
  return Ok();
}

// Matrix state of a stored segment value: the segment, then no segment, outside, absent.
size_t StateOf(int16_t segment, size_t segment_count) {
  if (segment >= 0) return static_cast<size_t>(segment);
  return segment == kNoSegment ? segment_count : segment_count + 1;
}

std::vector<std::string> States(const SegmentationModelInfo& info, std::string_view absent) {
  std::vector<std::string> states = info.segments;
  states.emplace_back(kNoSegmentState);
  states.emplace_back(kOutsidePopulationState);
  states.emplace_back(absent);
  return states;
}

int EfiLevel(int16_t deficits) {
  PersonFeatures p;
  p.efi_deficits = deficits;
  return static_cast<int>(FeatureValue(p, Feature::kEfiCategory));
}

int HfrsLevel(int16_t tenths) {
  PersonFeatures p;
  p.hfrs_tenths = tenths;
  return static_cast<int>(FeatureValue(p, Feature::kHfrsCategory));
}

struct Pairing {
  int from = -1, to = -1;  // model index in each run
  const SegmentationModel* from_model = nullptr;
  const SegmentationModel* to_model = nullptr;
};

}  // namespace

float AdmissionRiskCutoff(std::span<const PersonRunResult> people, double fraction) {
  constexpr float kNobody = std::numeric_limits<float>::infinity();
  std::vector<float> risks;
  risks.reserve(people.size());
  for (const auto& p : people)
    if (std::isfinite(p.admission_risk)) risks.push_back(p.admission_risk);
  if (!(fraction > 0) || risks.empty()) return kNobody;
  // The small allowance keeps 0.05 × 100 at 5 people despite binary fractions.
  const double wanted =
      std::ceil(std::min(fraction, 1.0) * static_cast<double>(risks.size()) - 1e-9);
  const size_t k = std::clamp<size_t>(static_cast<size_t>(wanted), 1, risks.size());
  std::nth_element(risks.begin(), risks.begin() + static_cast<std::ptrdiff_t>(k - 1), risks.end(),
                   std::greater<>());
  return risks[k - 1];
}

Result<Movement> CompareRuns(const RunResults& before, const RunResults& after,
                             std::span<const SegmentationModel> models,
                             const MovementOptions& options) {
  JU_RETURN_IF_ERROR(CheckResults(before));
  JU_RETURN_IF_ERROR(CheckResults(after));

  // Which models to compare, matched by name.
  std::vector<std::string> names = options.models;
  if (names.empty()) {
    bool same = before.run.models.size() == after.run.models.size();
    for (const auto& m : before.run.models) same = same && ModelIndex(after.run, m.name) >= 0;
    if (!same)
      return Error::Invalid(fmt::format(
          "cannot compare run {} (models: {}) with run {} (models: {}): they applied different "
          "segmentation models; name the models to compare",
          before.run.id, NamesOf(before.run), after.run.id, NamesOf(after.run)));
    for (const auto& m : before.run.models) names.push_back(m.name);
  }
  Movement out;
  out.from_run = before.run.id;
  out.to_run = after.run.id;
  std::vector<Pairing> pairs;
  for (const std::string& name : names) {
    Pairing p{ModelIndex(before.run, name), ModelIndex(after.run, name)};
    if (p.from < 0 || p.to < 0)
      return Error::Invalid(fmt::format("cannot compare model '{}': run {} applied {}", name,
                                        p.from < 0 ? before.run.id : after.run.id,
                                        NamesOf(p.from < 0 ? before.run : after.run)));
    const auto& from_info = before.run.models[static_cast<size_t>(p.from)];
    const auto& to_info = after.run.models[static_cast<size_t>(p.to)];
    p.from_model = Describing(models, from_info);
    p.to_model = Describing(models, to_info);
    ModelMovement mm;
    mm.name = name;
    mm.from_version = from_info.version;
    mm.to_version = to_info.version;
    mm.version_changed = mm.from_version != mm.to_version;
    mm.ranked = p.from_model && p.to_model && p.from_model->ranked() && p.to_model->ranked();
    mm.from_states = States(from_info, kJoinedState);
    mm.to_states = States(to_info, kLeftState);
    mm.counts.assign(mm.from_states.size() * mm.to_states.size(), 0);
    out.models.push_back(std::move(mm));
    pairs.push_back(p);
  }

  if (options.admission_risk_threshold) {
    out.from_risk_cutoff = out.to_risk_cutoff = *options.admission_risk_threshold;
  } else {
    out.from_risk_cutoff = AdmissionRiskCutoff(before.people, options.admission_risk_top_fraction);
    out.to_risk_cutoff = AdmissionRiskCutoff(after.people, options.admission_risk_top_fraction);
  }

  auto count = [&](const PersonRunResult* a, const PersonRunResult* b) {
    for (size_t m = 0; m < pairs.size(); ++m) {
      ModelMovement& mm = out.models[m];
      const size_t absent_from = mm.from_states.size() - 1, absent_to = mm.to_states.size() - 1;
      const size_t row =
          a ? StateOf(a->segment[static_cast<size_t>(pairs[m].from)], absent_from - 2)
            : absent_from;
      const size_t col =
          b ? StateOf(b->segment[static_cast<size_t>(pairs[m].to)], absent_to - 2) : absent_to;
      ++mm.counts[row * mm.to_states.size() + col];
    }
  };

  auto rises_of = [&](const PersonRunResult& a, const PersonRunResult& b) {
    Riser riser{a.patient_key, {}};
    for (size_t m = 0; m < pairs.size(); ++m) {
      if (!out.models[m].ranked) continue;
      const int16_t from = a.segment[static_cast<size_t>(pairs[m].from)];
      const int16_t to = b.segment[static_cast<size_t>(pairs[m].to)];
      if (from < 0 || to < 0) continue;
      if (*pairs[m].to_model->segments[static_cast<size_t>(to)].rank >
          *pairs[m].from_model->segments[static_cast<size_t>(from)].rank)
        riser.rises.push_back({Rise::Kind::kSegment, static_cast<int>(m), from, to, 0, 0});
    }
    if (const int from = EfiLevel(a.efi_deficits), to = EfiLevel(b.efi_deficits); to > from)
      riser.rises.push_back({Rise::Kind::kEfiCategory, -1, from, to,
                             static_cast<double>(a.efi_deficits),
                             static_cast<double>(b.efi_deficits)});
    if (const int from = HfrsLevel(a.hfrs_tenths), to = HfrsLevel(b.hfrs_tenths); to > from)
      riser.rises.push_back(
          {Rise::Kind::kHfrsBand, -1, from, to, a.hfrs_tenths / 10.0, b.hfrs_tenths / 10.0});
    if (!(a.admission_risk >= out.from_risk_cutoff) && b.admission_risk >= out.to_risk_cutoff)
      riser.rises.push_back({Rise::Kind::kAdmissionRisk, -1, 0, 1, double{a.admission_risk},
                             double{b.admission_risk}});
    if (!riser.rises.empty()) out.risers.push_back(std::move(riser));
  };

  size_t i = 0, j = 0;
  while (i < before.people.size() || j < after.people.size()) {
    const PersonRunResult* a = i < before.people.size() ? &before.people[i] : nullptr;
    const PersonRunResult* b = j < after.people.size() ? &after.people[j] : nullptr;
    if (a && b && a->patient_key == b->patient_key) {
      count(a, b);
      rises_of(*a, *b);
      ++out.stayed, ++i, ++j;
    } else if (b == nullptr || (a && a->patient_key < b->patient_key)) {
      count(a, nullptr);
      ++out.left, ++i;
    } else {
      count(nullptr, b);
      ++out.joined, ++j;
    }
  }
  return out;
}

std::string DescribeRise(const Movement& movement, const Rise& rise) {
  const auto efi = FeatureLevels(Feature::kEfiCategory);
  const auto hfrs = FeatureLevels(Feature::kHfrsCategory);
  auto level = [](std::span<const std::string_view> names, int i) {
    return i >= 0 && static_cast<size_t>(i) < names.size() ? names[static_cast<size_t>(i)]
                                                           : std::string_view("?");
  };
  switch (rise.kind) {
    case Rise::Kind::kSegment: {
      const ModelMovement& m = movement.models[static_cast<size_t>(rise.model)];
      return fmt::format("{}: {} → {}", m.name, m.from_states[static_cast<size_t>(rise.from)],
                         m.to_states[static_cast<size_t>(rise.to)]);
    }
    case Rise::Kind::kEfiCategory:
      return fmt::format("eFI {} → {} ({} → {} deficits)", level(efi, rise.from),
                         level(efi, rise.to), rise.from_value, rise.to_value);
    case Rise::Kind::kHfrsBand:
      return fmt::format("HFRS {} → {} ({:.1f} → {:.1f} points)", level(hfrs, rise.from),
                         level(hfrs, rise.to), rise.from_value, rise.to_value);
    case Rise::Kind::kAdmissionRisk:
      return fmt::format("emergency admission risk {:.3f} → {:.3f}, crossing {:.3f}",
                         rise.from_value, rise.to_value, movement.to_risk_cutoff);
  }
  return "?";
}

}  // namespace joinedup::analytics
