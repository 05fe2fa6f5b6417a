// What the fake STT services "hear": a queue of scripted utterances, and the model that
// turns received audio into interim and final transcripts.
//
// The model (shared by Deepgram, Scribe, OpenAI and Azure fakes): only audio that
// is_speech() (audio.hpp) counts. The first speech audio starts the next scripted utterance
// (SpeechStarted); every `interim` of speech reveals a longer prefix of its words (interim /
// partial results); after `utterance` of speech it is final. Silence advances the clock
// (timestamps) but nothing else. So a test that sends speech_audio(1000, fmt) with the
// default timing gets the whole first scripted utterance, word for word.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::fakes {

struct SttTiming {
  std::chrono::milliseconds utterance{1000};  // speech per utterance until it is final
  std::chrono::milliseconds interim{250};     // speech between interim results (0: none)
  std::chrono::milliseconds min_audio{100};   // REST: less audio than this transcribes to ""
  /// Live streams that support it (Deepgram): an utterance whose last speech audio arrived
  /// this long ago (wall clock) becomes final on its own, with speech_final, as the service's
  /// own endpointing would make it. 0 (default): off, finals come from `utterance` or Finalize.
  std::chrono::milliseconds final_after_silence{0};
};

/// Scripted transcripts, thread-safe: queued ones first, in order, then the fallback
/// (every time) when one is set.
class TranscriptQueue {
 public:
  void push(std::string text);
  void set_fallback(std::optional<std::string> text);
  std::optional<std::string> pop();
  void clear();
  size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::deque<std::string> queue_;
  std::optional<std::string> fallback_;
};

/// Whitespace-separated words of `text`, as written ("Hello," "there.").
std::vector<std::string> split_words(std::string_view text);
/// A word as a recogniser's lexical form: ASCII lowercase, punctuation dropped ("hello").
std::string lexical_word(std::string_view word);
/// The words joined with single spaces.
std::string join_words(const std::vector<std::string> &words, size_t count);

struct SttEvent {
  enum class Kind { started, interim, final };
  Kind kind = Kind::interim;
  std::string text;    // interim: the words so far; final: the whole utterance as scripted
  double start = 0.0;  // seconds of stream audio time
  double end = 0.0;
};

/// One stream's progress through the script. Not thread-safe (one per connection).
class UtteranceTracker {
 public:
  UtteranceTracker(TranscriptQueue &script, SttTiming timing) : script_(script), timing_(timing) {}

  /// `duration_us` of audio arrived; `speech` says whether it counts. With `auto_final`
  /// an utterance becomes final after timing.utterance of speech.
  std::vector<SttEvent> feed(int64_t duration_us, bool speech, bool auto_final);
  /// Ends the current utterance now (Finalize, commit, CloseStream): its whole text, or
  /// nullopt when no utterance has started.
  std::optional<SttEvent> finalize();
  bool in_utterance() const noexcept { return current_.has_value(); }
  double now() const noexcept { return static_cast<double>(total_us_) / 1e6; }
  /// End of the last final utterance, seconds.
  double last_end() const noexcept { return last_end_; }

 private:
  struct Current {
    std::string text;
    size_t words = 0;
    int64_t start_us = 0;
    int64_t speech_us = 0;
    int64_t next_interim_us = 0;
  };

  TranscriptQueue &script_;
  SttTiming timing_;
  std::optional<Current> current_;
  int64_t total_us_ = 0;
  double last_end_ = 0.0;
};

}  // namespace parley::fakes
