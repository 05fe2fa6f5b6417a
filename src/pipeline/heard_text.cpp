#include "pipeline/heard_text.hpp"

#include <algorithm>
#include <cctype>

namespace parley::pipeline {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// The end of the first `count` words of `text` (0 = nothing).
size_t end_of_words(std::string_view text, size_t count) {
  size_t i = 0;
  size_t seen = 0;
  while (i < text.size() && seen < count) {
    while (i < text.size() && is_space(text[i])) ++i;
    if (i == text.size()) break;
    while (i < text.size() && !is_space(text[i])) ++i;
    ++seen;
  }
  return seen == 0 ? 0 : i;
}

// Cuts `text` at `cut`, moved back to the end of the last whole word before it.
size_t back_to_word_end(std::string_view text, size_t cut) {
  if (cut >= text.size()) return text.size();
  if (cut > 0 && !is_space(text[cut]) && !is_space(text[cut - 1])) {
    while (cut > 0 && !is_space(text[cut - 1])) --cut;  // inside a word: drop it
  }
  while (cut > 0 && is_space(text[cut - 1])) --cut;
  return cut;
}

}  // namespace

std::string heard_prefix(std::string_view text, double heard_ms, double duration_ms,
                         const std::vector<providers::WordTiming> &words) {
  if (heard_ms <= 0) return {};
  if (duration_ms > 0 && heard_ms >= duration_ms) return std::string(text);
  if (!words.empty()) {
    const auto heard_words = static_cast<size_t>(std::count_if(
        words.begin(), words.end(), [heard_ms](const providers::WordTiming &w) { return w.end_ms <= heard_ms; }));
    return std::string(text.substr(0, end_of_words(text, heard_words)));
  }
  if (duration_ms <= 0) return {};
  const auto cut = static_cast<size_t>(static_cast<double>(text.size()) * heard_ms / duration_ms);
  return std::string(text.substr(0, back_to_word_end(text, cut)));
}

std::vector<std::string> heard_parts(const std::vector<PlayedChunk> &chunks, std::chrono::milliseconds now) {
  std::vector<std::string> parts(chunks.size());
  // When the previous chunk finished playing: its mark's return, else its start + length.
  std::optional<double> previous_end;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const auto &chunk = chunks[i];
    if (chunk.played_at) {
      parts[i] = chunk.text;
      previous_end = static_cast<double>(chunk.played_at->count());
      continue;
    }
    if (!chunk.first_audio_at) break;  // never reached the caller, nor did anything after it
    const double start = std::max(previous_end.value_or(0.0), static_cast<double>(chunk.first_audio_at->count()));
    const double heard = static_cast<double>(now.count()) - start;
    parts[i] = heard_prefix(chunk.text, heard, chunk.duration_ms, chunk.words);
    if (heard < chunk.duration_ms) break;  // the caller stopped it here
    previous_end = start + chunk.duration_ms;
  }
  return parts;
}

}  // namespace parley::pipeline
