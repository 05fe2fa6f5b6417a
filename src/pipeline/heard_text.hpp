// What the caller actually heard of the agent's reply, from playback marks and timing.
//
// Each chunk of a reply is synthesised and played in order, with a mark after its audio. A
// chunk whose mark came back "played" was heard whole. The chunk playing when the caller
// interrupted was heard for (interruption time − its playback start); the words it held up
// to that point come from the TTS's word timings when it gave them, else from the share of
// its audio that played, mapped onto its characters and cut back to a whole word. Later
// chunks were not heard at all. See docs/agent.md.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/tts/tts.hpp"

namespace parley::pipeline {

/// The words of `text` a listener heard after `heard_ms` of audio lasting `duration_ms`.
/// With `words` (TTS timings, ms from the chunk's audio start) the count of words ending by
/// `heard_ms` decides; else the played share of the characters, cut back to a word
/// boundary. Whole words only; keeps the text's own spacing. Empty when nothing was heard.
std::string heard_prefix(std::string_view text, double heard_ms, double duration_ms,
                         const std::vector<providers::WordTiming> &words = {});

/// One chunk of a spoken reply, as the heard-text reckoning needs it.
struct PlayedChunk {
  std::string text;
  double duration_ms = 0;  ///< audio delivered for it so far
  /// When its first audio was handed to the session (none: no audio yet).
  std::optional<std::chrono::milliseconds> first_audio_at;
  /// When its mark came back played (none: not yet, or cleared).
  std::optional<std::chrono::milliseconds> played_at;
  std::vector<providers::WordTiming> words;
};

/// For each chunk, the part heard by `now`: chunks play back to back, each starting when
/// the previous one's mark came back (or was due) or when its own first audio arrived,
/// whichever is later.
std::vector<std::string> heard_parts(const std::vector<PlayedChunk> &chunks, std::chrono::milliseconds now);

}  // namespace parley::pipeline
