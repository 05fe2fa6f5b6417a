// Endpointing: decides when the caller's turn is over, from VAD speech start/end and the
// STT's partial and final transcripts.
//
// A turn ends
//  - on a final plus min_silence (300 ms) of silence after the VAD's speech end, or when the
//    final arrives, whichever is later (final_plus_silence);
//  - on max_silence (1,500 ms) of silence with no final for the latest speech (max_silence).
// When the transcript so far ends in the middle of a number ("my number is five five five",
// "4111 1111", "call me at 555-") the final waits mid_number_extra (1,200 ms) longer, never
// beyond max_silence: phone and card numbers are where callers pause and agents cut in.
//
// Times are milliseconds since any fixed origin the caller chooses (the session clock), as
// the events carry them: if the VAD reports a speech end backdated by its confirmation
// window, the silence counts from the backdated time. Single-threaded; call poll() at
// deadline() (or on every frame). See docs/pipeline.md.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace parley::pipeline {

struct EndpointingOptions {
  std::chrono::milliseconds min_silence{300};        ///< after a final
  std::chrono::milliseconds max_silence{1500};       ///< without one; also the longest wait
  std::chrono::milliseconds mid_number_extra{1200};  ///< added after a final ending mid-number; 0 = off
  int mid_number_min_digits = 3;  ///< digits that make a trailing number "a number being read out"
};

enum class EndReason { final_plus_silence, max_silence };
const char *end_reason_name(EndReason reason) noexcept;

struct EndOfTurn {
  EndReason reason;
  std::string text;               ///< the finals, space-joined, then any newer partial
  std::chrono::milliseconds at;   ///< when the rule was met (not when poll() ran)
  bool mid_number = false;        ///< the wait was extended for a number
};

/// True when `transcript` ends in a number that is probably still being read out: a run of
/// digits or digit words (zero to nine, "oh", "double", "twenty"...) holding at least
/// `min_digits` digits, or any such run right after a cue ("number", "card", "call me at"),
/// or a run ending in "-" or "(". A run that already looks complete (3-3-4 or 1-3-3-4 digit
/// groups of a phone number, 4-4-4-4 of a card) does not count. Also true before the number
/// starts: "my number is", "call me at", "my phone number's".
bool ends_mid_number(std::string_view transcript, int min_digits = 3);

class Endpointer {
 public:
  /// Throws Error(invalid_argument) on negative durations or min_silence > max_silence.
  explicit Endpointer(EndpointingOptions options = {});

  void on_speech_start(std::chrono::milliseconds t);
  void on_speech_end(std::chrono::milliseconds t);
  /// The latest hypothesis for speech after the last final; replaces the previous partial.
  void on_partial(std::string_view text, std::chrono::milliseconds t);
  /// Settled text; appended to the turn. An empty final settles the pending partial as nothing.
  void on_final(std::string_view text, std::chrono::milliseconds t);

  /// The end of the turn, once, when `now` has reached it; then nothing until reset().
  /// Transcripts that arrive after the end are ignored until reset().
  std::optional<EndOfTurn> poll(std::chrono::milliseconds now);
  /// When poll() will end the turn if nothing else happens; none while the caller speaks or
  /// before anything was heard.
  std::optional<std::chrono::milliseconds> deadline() const;
  /// Starts the next turn. Whether the caller is speaking right now is kept.
  void reset();

  bool speaking() const noexcept { return speaking_; }
  const EndpointingOptions &options() const noexcept { return options_; }

 private:
  struct Decision {
    EndReason reason;
    std::chrono::milliseconds at;
    bool mid_number;
  };
  std::optional<Decision> decide() const;
  std::string text() const;

  EndpointingOptions options_;
  bool speaking_ = false;
  bool vad_heard_ = false;   // the VAD reported speech in this turn
  bool heard_ = false;       // speech or a transcript in this turn
  bool ended_ = false;
  std::optional<std::chrono::milliseconds> silence_since_;
  std::chrono::milliseconds final_at_{0};
  std::string finals_;   // space-joined
  std::string partial_;  // newer than the last final
};

}  // namespace parley::pipeline
