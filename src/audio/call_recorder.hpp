// Stereo call recording: caller on the left channel, agent on the right, streamed to a PCM16
// WAV file.
//
// Audio arrives per channel as PCM16 mono chunks at the recording rate, of any size and at
// independent times. Each chunk lands on one shared sample clock (sample 0 = call start):
//   write_at(channel, start, pcm)  at an explicit position;
//   append(channel, pcm)           right after that channel's previous chunk;
//   write_now(channel, pcm)        after the previous chunk, unless the clock has moved more
//                                  than `resync_after` past it (the stream paused): then at
//                                  the clock's "now", leaving silence in between.
// Gaps are silence; overlapping audio on a channel is mixed with saturation.
//
// Memory is bounded: the recorder keeps the newest `window` of audio in a buffer allocated
// at construction and writes older audio to disk as newer audio pushes it out. Any part of a
// chunk that lands before that window is dropped and counted in late_samples_dropped(). So
// record agent audio where it is played (paced in real time), not as fast as TTS makes it.
// Not thread-safe: call from one strand.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "audio/wav.hpp"

namespace parley::audio {

enum class CallChannel { caller = 0, agent = 1 };  // WAV left, right

struct CallRecorderOptions {
  uint32_t sample_rate = 16000;
  /// Audio held in memory before it goes to disk: how late a chunk may arrive.
  std::chrono::milliseconds window{10'000};
  /// write_now() starts a chunk at the clock instead of after the previous one when the
  /// clock is this far past the previous chunk's end.
  std::chrono::milliseconds resync_after{100};
};

class CallRecorder {
 public:
  /// Time since the call started. The default is a steady clock started by the constructor.
  using Clock = std::function<std::chrono::nanoseconds()>;

  /// Creates the file (Error(io) if it cannot). Error(invalid_argument) for a zero rate or
  /// window.
  explicit CallRecorder(const std::string &path, CallRecorderOptions options = {}, Clock clock = {});
  /// Closes if close() was not called, swallowing errors: call close() to see them.
  ~CallRecorder();
  CallRecorder(const CallRecorder &) = delete;
  CallRecorder &operator=(const CallRecorder &) = delete;

  void write_at(CallChannel channel, uint64_t start_sample, std::span<const int16_t> pcm);
  void append(CallChannel channel, std::span<const int16_t> pcm);
  void write_now(CallChannel channel, std::span<const int16_t> pcm);

  /// Writes all buffered audio up to the end of the latest chunk, patches the WAV header and
  /// closes the file. Idempotent. Later writes throw Error(state).
  void close();

  /// The clock's current position in samples.
  uint64_t now_sample() const;
  /// Where the next append() on `channel` starts.
  uint64_t channel_end(CallChannel channel) const noexcept { return channel_end_[index(channel)]; }
  /// One past the last sample written on either channel: the recording's length so far.
  uint64_t end_sample() const noexcept { return end_; }
  /// Frames already written to the file (the rest is in the window buffer).
  uint64_t frames_on_disk() const noexcept { return window_start_; }
  uint64_t late_samples_dropped() const noexcept { return late_samples_dropped_; }

 private:
  static size_t index(CallChannel channel) noexcept { return static_cast<size_t>(channel); }
  void require_open() const;
  void place(CallChannel channel, uint64_t start, std::span<const int16_t> pcm);
  void move_window_to(uint64_t new_start);
  void write_frames_to_disk(uint64_t first, uint64_t count);
  void mix_into_window(CallChannel channel, uint64_t start, std::span<const int16_t> pcm);

  CallRecorderOptions options_;
  Clock clock_;
  WavFileWriter writer_;
  uint64_t capacity_frames_;
  std::vector<int16_t> window_;  // interleaved stereo frames; frame f lives in slot f % capacity
  uint64_t window_start_ = 0;  // first frame not yet on disk
  uint64_t end_ = 0;
  std::array<uint64_t, 2> channel_end_{0, 0};
  uint64_t late_samples_dropped_ = 0;
  uint64_t frames_at_last_header_update_ = 0;
  bool closed_ = false;
};

}  // namespace parley::audio
