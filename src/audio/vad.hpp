// Voice activity detection on the caller's audio: a speech probability for every 20 ms frame,
// and confirmed speech start / stop events for endpointing and barge-in.
//
// The frame detector is a statistical likelihood-ratio test (Sohn, Kim & Sung, "A
// statistical model-based voice activity detection", 1999): each frame's spectrum is
// compared bin by bin with a running estimate of the background noise, and the averaged log
// likelihood ratio of "speech plus noise" against "noise alone" becomes the probability.
// Because every figure is a ratio to the noise estimate, the detector works the same at
// -40 dBFS and at -6 dBFS. The noise estimate adapts on its own (minima-controlled recursive
// averaging, Cohen 2002): it follows a fall in background level within a few frames and a
// rise within about 2 s, even when the noise never pauses (until then the louder noise
// reads as speech). A two-state Markov model over the frames (Sohn's hang-over) keeps weak
// word endings and short gaps inside words.
//
// Measured on a labelled set of espeak-ng speech in white, pink, brown and hum noise
// (tests/unit/vad/vad_accuracy_test.cpp prints the tables): frame accuracy about 93% at
// 20 dB SNR, 92% at 10, 91% at 5 and 87% at 0 dB, equal to WebRTC's VAD (best mode) at
// 20 dB and well ahead of it below, where WebRTC calls nearly everything speech. Babble
// (other talkers) is speech to this detector as to WebRTC's: 75% at 20 dB, ~55% at 0 dB.
//
// Both rates analyse the same band, 125 Hz - 3.9 kHz (the telephone band), so 8 kHz phone
// audio and 16 kHz browser audio give the same decisions.
//
// The confirmed state turns frame decisions into events. A start needs start_window of
// speech frames (short gaps allowed) and is backdated to the first of them; a stop needs
// stop_window of consecutive non-speech frames and is dated at the last speech frame's end.
// Times are stream time: frames processed since construction or reset(), 20 ms each.
//
// Not thread-safe; one Vad per stream. All memory is allocated by the constructor;
// process() does not allocate.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace parley::audio {

struct VadConfig {
  int sample_rate = 16000;  ///< 16000 or 8000: frames are 320 or 160 samples
  /// Speech must persist this long (in speech frames) before a start is confirmed; clicks
  /// and coughs shorter than this never start speech. Rounded up to whole frames; 0 confirms
  /// on the first speech frame.
  std::chrono::milliseconds start_window{200};
  /// This much continuous non-speech confirms a stop; pauses inside a sentence shorter than
  /// this do not end speech. Rounded up to whole frames, at least one.
  std::chrono::milliseconds stop_window{800};
  /// Speech probability at or above which a frame counts as speech, in (0, 1). Higher is more
  /// aggressive against noise and clips more weak speech (the probability already carries
  /// the hang-over, so 0.5 is the balanced choice).
  float threshold = 0.5f;
};

struct VadEvent {
  float probability = 0.0f;     ///< this frame's speech probability, 0..1
  bool is_speech = false;       ///< this frame's own decision (probability against the threshold)
  bool speaking = false;        ///< the confirmed state after this frame
  bool speech_started = false;  ///< this frame confirmed a start; speech_start says when it began
  bool speech_stopped = false;  ///< this frame confirmed a stop; speech_end says when it ended
  std::chrono::milliseconds frame_start{0};   ///< stream time of this frame's first sample
  /// While speaking, and on speech_started and speech_stopped: when the speech began, at
  /// least start_window before the frame that confirmed it.
  std::chrono::milliseconds speech_start{0};
  /// On speech_stopped: the end of the last speech frame, stop_window before the confirmation.
  std::chrono::milliseconds speech_end{0};
};

class Vad {
 public:
  static constexpr std::chrono::milliseconds kFrameDuration{20};

  /// Throws Error(unsupported) for a rate other than 8000 or 16000, and
  /// Error(invalid_argument) for a negative window or a threshold outside (0, 1).
  explicit Vad(VadConfig config = {});
  ~Vad();
  Vad(Vad &&) noexcept;  ///< a moved-from Vad may only be destroyed or assigned to
  Vad &operator=(Vad &&) noexcept;
  Vad(const Vad &) = delete;
  Vad &operator=(const Vad &) = delete;

  /// Classifies one 20 ms frame (frame_samples() samples; Error(invalid_argument) otherwise).
  VadEvent process(std::span<const int16_t> frame);

  /// Forgets the noise estimate, the confirmed state and the stream clock.
  void reset() noexcept;

  const VadConfig &config() const noexcept { return config_; }
  size_t frame_samples() const noexcept { return frame_samples_; }
  bool speaking() const noexcept { return speaking_; }
  /// The current background-noise estimate over the analysed band, in dBFS (what the noise
  /// alone would read on audio::dbfs() if it were white in that band); for diagnostics.
  double noise_dbfs() const noexcept;

 private:
  struct Spectrum;
  float frame_probability(std::span<const int16_t> frame) noexcept;
  void update_state(VadEvent &event) noexcept;
  void start_speech(VadEvent &event) noexcept;
  void stop_speech(VadEvent &event) noexcept;

  VadConfig config_;
  size_t frame_samples_;
  int64_t start_frames_;
  int64_t stop_frames_;
  std::unique_ptr<Spectrum> spectrum_;
  float posterior_ = 0.0f;  // speech probability of the previous frame

  // Confirmed-state machine, counted in frames of stream time.
  int64_t frame_index_ = 0;
  bool speaking_ = false;
  int64_t candidate_first_ = -1;  // first speech frame of a possible start (-1: none)
  int64_t candidate_speech_ = 0;  // speech frames since candidate_first_
  int64_t candidate_gap_ = 0;     // non-speech frames since the last speech frame
  int64_t speech_first_ = 0;      // first frame of the confirmed speech
  int64_t silence_run_ = 0;       // consecutive non-speech frames while speaking
};

}  // namespace parley::audio
