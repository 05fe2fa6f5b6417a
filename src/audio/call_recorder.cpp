#include "audio/call_recorder.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "common/error.hpp"

namespace parley::audio {
namespace {

constexpr uint16_t stereo = 2;
constexpr uint64_t nanoseconds_per_second = 1'000'000'000;
// Rewrite the header now and then, so that a crash leaves a playable file.
constexpr uint64_t header_refresh_seconds = 10;
// A position past this cannot be stored in a stereo PCM16 WAV (4 GiB RIFF limit).
constexpr uint64_t max_frames = (std::numeric_limits<uint32_t>::max() - 64) / (stereo * sizeof(int16_t));

uint64_t samples_in(std::chrono::nanoseconds duration, uint32_t sample_rate) {
  if (duration.count() <= 0) return 0;
  const auto ns = static_cast<uint64_t>(duration.count());
  // Split to stay far from overflow on long calls.
  return ns / nanoseconds_per_second * sample_rate + ns % nanoseconds_per_second * sample_rate / nanoseconds_per_second;
}

WavFormat recording_format(const CallRecorderOptions &options) {
  if (options.sample_rate == 0) throw Error(Status::invalid_argument, "call recorder: sample rate 0");
  if (samples_in(options.window, options.sample_rate) == 0) {
    throw Error(Status::invalid_argument,
                "call recorder: window of " + std::to_string(options.window.count()) + " ms holds no samples");
  }
  return WavFormat{WavEncoding::pcm16, stereo, options.sample_rate};
}

CallRecorder::Clock steady_clock_from_now() {
  return [start = std::chrono::steady_clock::now()] { return std::chrono::steady_clock::now() - start; };
}

int16_t saturating_add(int16_t a, int16_t b) noexcept {
  const int32_t sum = int32_t{a} + int32_t{b};
  return static_cast<int16_t>(std::clamp<int32_t>(sum, std::numeric_limits<int16_t>::min(), std::numeric_limits<int16_t>::max()));
}

}  // namespace

CallRecorder::CallRecorder(const std::string &path, CallRecorderOptions options, Clock clock)
    : options_(options),
      clock_(clock ? std::move(clock) : steady_clock_from_now()),
      writer_(path, recording_format(options)),
      capacity_frames_(samples_in(options.window, options.sample_rate)),
      window_(capacity_frames_ * stereo, 0) {}

CallRecorder::~CallRecorder() {
  try {
    close();
  } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor cannot report; close() can
  }
}

void CallRecorder::require_open() const {
  if (closed_) throw Error(Status::state, "call recorder: already closed");
}

uint64_t CallRecorder::now_sample() const { return samples_in(clock_(), options_.sample_rate); }

void CallRecorder::write_at(CallChannel channel, uint64_t start_sample, std::span<const int16_t> pcm) {
  require_open();
  const uint64_t chunk_end = start_sample + pcm.size();
  if (start_sample > max_frames || chunk_end > max_frames) {
    throw Error(Status::full, "call recorder: sample position " + std::to_string(chunk_end) +
                                  " is past what a stereo PCM16 WAV can hold (" + std::to_string(max_frames) + ")");
  }
  // A chunk longer than the window goes in window-sized pieces, each pushing the previous
  // one to disk, so none of it counts as late.
  while (!pcm.empty()) {
    const size_t piece = static_cast<size_t>(std::min<uint64_t>(pcm.size(), capacity_frames_));
    place(channel, start_sample, pcm.first(piece));
    pcm = pcm.subspan(piece);
    start_sample += piece;
  }
  channel_end_[index(channel)] = std::max(channel_end_[index(channel)], chunk_end);
  end_ = std::max(end_, chunk_end);
}

// Puts at most a window's worth of samples in the window, moving it forward if needed.
void CallRecorder::place(CallChannel channel, uint64_t start, std::span<const int16_t> pcm) {
  const uint64_t piece_end = start + pcm.size();
  if (piece_end > window_start_ + capacity_frames_) move_window_to(piece_end - capacity_frames_);
  if (start < window_start_) {
    const uint64_t late = std::min<uint64_t>(pcm.size(), window_start_ - start);
    late_samples_dropped_ += late;
    pcm = pcm.subspan(static_cast<size_t>(late));
    start += late;
  }
  mix_into_window(channel, start, pcm);
}

void CallRecorder::append(CallChannel channel, std::span<const int16_t> pcm) {
  write_at(channel, channel_end_[index(channel)], pcm);
}

void CallRecorder::write_now(CallChannel channel, std::span<const int16_t> pcm) {
  const uint64_t previous_end = channel_end_[index(channel)];
  const uint64_t now = now_sample();
  const bool stream_paused = now > previous_end + samples_in(options_.resync_after, options_.sample_rate);
  write_at(channel, stream_paused ? now : previous_end, pcm);
}

void CallRecorder::close() {
  if (closed_) return;
  closed_ = true;  // even if writing fails below: the file is in an unknown state
  try {
    move_window_to(end_);
  } catch (...) {
    try {
      writer_.close();  // still release the file; the first error is the one to report
    } catch (...) {  // NOLINT(bugprone-empty-catch)
    }
    throw;
  }
  writer_.close();
}

void CallRecorder::mix_into_window(CallChannel channel, uint64_t start, std::span<const int16_t> pcm) {
  size_t slot = static_cast<size_t>(start % capacity_frames_);
  for (int16_t sample : pcm) {
    int16_t &stored = window_[slot * stereo + index(channel)];
    stored = saturating_add(stored, sample);
    if (++slot == capacity_frames_) slot = 0;
  }
}

// Writes frames [window_start_, new_start) to disk and frees their slots. Frames past the
// buffer's reach were never written to: they are silence.
void CallRecorder::move_window_to(uint64_t new_start) {
  if (new_start <= window_start_) return;
  const uint64_t held = std::min(new_start - window_start_, capacity_frames_);
  write_frames_to_disk(window_start_, held);
  // If held == capacity every slot is now zero, so the buffer itself supplies the silence.
  for (uint64_t silent = new_start - window_start_ - held; silent > 0;) {
    const uint64_t count = std::min(silent, capacity_frames_);
    writer_.write_pcm16(std::span(window_).first(static_cast<size_t>(count * stereo)));
    silent -= count;
  }
  window_start_ = new_start;
  if (window_start_ - frames_at_last_header_update_ >= header_refresh_seconds * options_.sample_rate) {
    writer_.update_header();
    frames_at_last_header_update_ = window_start_;
  }
}

void CallRecorder::write_frames_to_disk(uint64_t first, uint64_t count) {
  const auto slot = static_cast<size_t>(first % capacity_frames_);
  const auto before_wrap = static_cast<size_t>(std::min<uint64_t>(count, capacity_frames_ - slot));
  const auto after_wrap = static_cast<size_t>(count) - before_wrap;
  for (auto [offset, frames] : {std::pair{slot, before_wrap}, std::pair{size_t{0}, after_wrap}}) {
    if (frames == 0) continue;
    const std::span<int16_t> slots = std::span(window_).subspan(offset * stereo, frames * stereo);
    writer_.write_pcm16(slots);
    std::fill(slots.begin(), slots.end(), int16_t{0});
  }
}

}  // namespace parley::audio
