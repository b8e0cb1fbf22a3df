// The segmentation models a command applies: the files given with --model, or the shipped ones.
#pragma once

#include <string>
#include <vector>

#include "analytics/segmentation.h"

namespace joinedup::cli {

// The models of `files` (refusing a model name given twice), or with no files the shipped
// MCMW tiers and South Worcestershire groups, compiled in from data/segmentation/.
Result<std::vector<analytics::SegmentationModel>> LoadModels(const std::vector<std::string>& files);

}  // namespace joinedup::cli
