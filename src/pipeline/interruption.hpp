// Deciding whether caller speech during agent speech is an interruption.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace parley::pipeline {

/// The words of `text` that are not backchannels: case, punctuation and hyphens are ignored,
/// and every word of every backchannel phrase counts as a backchannel word ("uh-huh",
/// "yeah", "okay", "mm hmm"). "yeah okay" → 0; "okay wait" → 1.
int meaningful_words(std::string_view text, const std::vector<std::string> &backchannels);

/// Lower-case words of `text`, split at anything that is not a letter, digit or apostrophe.
std::vector<std::string> normalised_words(std::string_view text);

}  // namespace parley::pipeline
