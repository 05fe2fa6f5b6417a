// Exact 2:1 sample-rate conversion with one linear-phase half-band FIR (65 taps, Kaiser
// window): 8 <-> 16 kHz for every phone call, and 24 <-> 48, 22.05 <-> 44.1 kHz.
//
// Why not libsoxr for these: libsoxr filters in DFT blocks, so in 20 ms chunks it holds back
// 30-65 ms per conversion and emits in bursts. A call converts twice (caller in, agent out),
// which adds up to >100 ms of voice-to-voice delay. The half-band filter has a fixed delay of
// 16 samples at the lower rate (2 ms at 8 kHz), turns every 160-sample frame into exactly
// 320 samples and back, and keeps 64 samples of state instead of a libsoxr instance.
//
// Passband flat (±0.05 dB) to 0.85 of the lower rate's Nyquist (3.4 kHz at 8 kHz), stopband
// ≥ 70 dB from 1.15 of it. The output is delay-compensated: after flush(), exactly
// 2 x input (up) or input / 2 (down) samples have come out, aligned with the input.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace parley::audio {

class Halfband {
 public:
  enum class Direction { up, down };

  static constexpr size_t kTaps = 65;
  /// Delay of the filter, in samples at the lower rate.
  static constexpr size_t kDelayLow = 16;

  explicit Halfband(Direction direction);

  Direction direction() const noexcept { return direction_; }
  /// Output samples for `input_count` more input samples (exact, given the current state).
  size_t output_for(size_t input_count) const noexcept;
  /// Converts `in`; `out` must hold output_for(in.size()). Returns the count written.
  size_t process(std::span<const int16_t> in, std::span<int16_t> out);
  /// Pushes the delayed tail out (writing at most out.size()); returns the count written.
  size_t flush(std::span<int16_t> out);
  void reset() noexcept;
  /// Output samples still owed for input already taken.
  size_t pending_output() const noexcept;

 private:
  // Filter the chunk process() has laid out after the history in the thread's scratch.
  size_t up(size_t in_count, std::span<int16_t> out);
  size_t down(size_t in_count, std::span<int16_t> out);

  Direction direction_;
  // Input history, newest last: the 64 samples before the current chunk. The taps and the
  // working buffers are shared (halfband.cpp), so this is most of a filter's state.
  std::array<float, kTaps - 1> history_{};
  uint64_t inputs_seen_ = 0;       // for delay compensation and down-sampling phase
  size_t flushed_ = 0;             // zero samples fed by flush() so far
};

}  // namespace parley::audio
