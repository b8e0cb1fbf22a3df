// Case- and accent-folding for name searches, shared by the FHIR search parser (which folds
// what the client asks for) and the store (which folds what it keeps), so both sides agree.
#pragma once

#include <string>
#include <string_view>

namespace joinedup {

// ASCII lower-cased, Latin-1 and Latin Extended-A letters folded to their base letters
// ("Zoë" → "zoe", "Łukasz" → "lukasz", "Straße" → "strasse"), combining marks
// (U+0300–U+036F) dropped. Other characters pass through unchanged.
std::string FoldForSearch(std::string_view text);

}  // namespace joinedup
