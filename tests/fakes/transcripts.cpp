#include "fakes/transcripts.hpp"

#include <algorithm>
#include <cctype>

namespace parley::fakes {

void TranscriptQueue::push(std::string text) {
  std::lock_guard lock(mutex_);
  queue_.push_back(std::move(text));
}

void TranscriptQueue::set_fallback(std::optional<std::string> text) {
  std::lock_guard lock(mutex_);
  fallback_ = std::move(text);
}

std::optional<std::string> TranscriptQueue::pop() {
  std::lock_guard lock(mutex_);
  if (queue_.empty()) return fallback_;
  std::string text = std::move(queue_.front());
  queue_.pop_front();
  return text;
}

void TranscriptQueue::clear() {
  std::lock_guard lock(mutex_);
  queue_.clear();
  fallback_.reset();
}

size_t TranscriptQueue::size() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  size_t at = 0;
  while (at < text.size()) {
    while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at]))) ++at;
    const size_t begin = at;
    while (at < text.size() && !std::isspace(static_cast<unsigned char>(text[at]))) ++at;
    if (at > begin) words.emplace_back(text.substr(begin, at - begin));
  }
  return words;
}

std::string lexical_word(std::string_view word) {
  std::string out;
  for (const char c : word) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || std::isalnum(u) || c == '\'') out += static_cast<char>(u < 0x80 ? std::tolower(u) : u);
  }
  return out;
}

std::string join_words(const std::vector<std::string> &words, size_t count) {
  std::string out;
  for (size_t i = 0; i < std::min(count, words.size()); ++i) {
    if (i > 0) out += ' ';
    out += words[i];
  }
  return out;
}

std::vector<SttEvent> UtteranceTracker::feed(int64_t duration_us, bool speech, bool auto_final) {
  std::vector<SttEvent> events;
  const int64_t chunk_start = total_us_;
  total_us_ += duration_us;
  if (!speech) return events;
  if (!current_) {
    auto text = script_.pop();
    if (!text) return events;
    current_ = Current{*text, split_words(*text).size(), chunk_start, 0, 0};
    current_->next_interim_us = timing_.interim.count() * 1000;
    events.push_back({SttEvent::Kind::started, "", static_cast<double>(chunk_start) / 1e6, static_cast<double>(chunk_start) / 1e6});
  }
  Current &cur = *current_;
  cur.speech_us += duration_us;
  const int64_t utterance_us = std::max<int64_t>(1, timing_.utterance.count() * 1000);
  const std::vector<std::string> words = split_words(cur.text);
  while (timing_.interim.count() > 0 && cur.next_interim_us <= cur.speech_us && cur.next_interim_us < utterance_us) {
    const auto shown = std::max<size_t>(1, static_cast<size_t>(static_cast<int64_t>(words.size()) * cur.next_interim_us / utterance_us));
    events.push_back({SttEvent::Kind::interim, join_words(words, shown), static_cast<double>(cur.start_us) / 1e6,
                      static_cast<double>(total_us_) / 1e6});
    cur.next_interim_us += timing_.interim.count() * 1000;
  }
  if (auto_final && cur.speech_us >= utterance_us) {
    if (auto final_event = finalize()) events.push_back(std::move(*final_event));
  }
  return events;
}

std::optional<SttEvent> UtteranceTracker::finalize() {
  if (!current_) return std::nullopt;
  SttEvent event{SttEvent::Kind::final, current_->text, static_cast<double>(current_->start_us) / 1e6, now()};
  last_end_ = event.end;
  current_.reset();
  return event;
}

}  // namespace parley::fakes
