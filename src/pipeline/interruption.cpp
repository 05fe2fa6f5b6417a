#include "pipeline/interruption.hpp"

#include <algorithm>
#include <cctype>

namespace parley::pipeline {

std::vector<std::string> normalised_words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '\'' || u >= 0x80) {
      word.push_back(static_cast<char>(std::tolower(u)));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

int meaningful_words(std::string_view text, const std::vector<std::string> &backchannels) {
  std::vector<std::string> filler;
  for (const auto &phrase : backchannels) {
    for (auto &word : normalised_words(phrase)) filler.push_back(std::move(word));
  }
  int count = 0;
  for (const auto &word : normalised_words(text)) {
    if (std::find(filler.begin(), filler.end(), word) == filler.end()) ++count;
  }
  return count;
}

}  // namespace parley::pipeline
