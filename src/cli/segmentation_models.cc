#include "cli/segmentation_models.h"

namespace joinedup::embedded {
std::string_view segmentation_mcmw_tiers();
std::string_view segmentation_south_worcestershire();
}  // namespace joinedup::embedded

namespace joinedup::cli {

// The models of --model FILE…, or the shipped ones (compiled in from data/segmentation/).
Result<std::vector<analytics::SegmentationModel>> LoadModels(
    const std::vector<std::string>& files) {
  std::vector<analytics::SegmentationModel> models;
  if (files.empty()) {
    JU_ASSIGN_OR_RETURN(auto mcmw, analytics::ParseSegmentationModel(
                                       "mcmw_tiers.model", embedded::segmentation_mcmw_tiers()));
    JU_ASSIGN_OR_RETURN(auto worcs, analytics::ParseSegmentationModel(
                                        "south_worcestershire.model",
                                        embedded::segmentation_south_worcestershire()));
    models.push_back(std::move(mcmw));
    models.push_back(std::move(worcs));
    return models;
  }
  for (const std::string& file : files) {
    JU_ASSIGN_OR_RETURN(auto model, analytics::LoadSegmentationModel(file));
    for (const auto& other : models)
      if (other.name == model.name)
        return Error::Invalid(file + ": model '" + model.name + "' is given twice");
    models.push_back(std::move(model));
  }
  return models;
}

}  // namespace joinedup::cli
