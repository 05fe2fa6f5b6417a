// Streaming PCM16 mono sample-rate converter (libsoxr) for the rates a voice call meets.
//
// Feed 20 ms chunks (or any size) to process(); state carries across calls, and the output
// of a chunked stream is sample-for-sample identical to converting the whole buffer at once.
// At end of stream call flush() until it returns 0 to get the filter's tail; the total
// output is then within one sample of input_count * output_rate / input_rate. Latency (about
// 20-35 ms per conversion in 20 ms chunks with the defaults) is in docs/audio.md.
//
// Not thread-safe; one resampler per stream. Allocation happens in the constructor and, inside
// libsoxr, during the first few chunks; after that process() does not allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace parley::audio {

// Exact 2:1 and 1:2 ratios (8 <-> 16 kHz, 24 <-> 48, 22.05 <-> 44.1) at low or medium
// quality use a 65-tap half-band FIR (audio/halfband.hpp) instead of libsoxr: 2 ms of delay
// at 8 kHz instead of 30-65 ms, and every 20 ms chunk converts to exactly one chunk.
enum class ResamplerQuality {
  low,        ///< 16-bit, passband ends at 68% of the lower Nyquist (3.4 kHz at 8 kHz is -8 dB); lowest latency
  medium,     ///< 16-bit precision, flat to ~90% of Nyquist: matches PCM16 I/O; the default
  high,       ///< 20-bit precision (soxr HQ)
  very_high,  ///< 28-bit precision (soxr VHQ)
};

enum class ResamplerPhase {
  minimum,  ///< the default: ~10 ms less delay per conversion; phase shift is inaudible in speech
  linear,   ///< constant group delay, for when waveform shape matters
};

struct ResamplerOptions {
  ResamplerQuality quality = ResamplerQuality::medium;
  ResamplerPhase phase = ResamplerPhase::minimum;
};

class Resampler {
 public:
  /// The rates accepted on either side, ascending.
  static std::span<const int> supported_rates() noexcept;
  static bool is_supported_rate(int rate) noexcept;

  /// Throws Error(unsupported) naming the rate when either is not in supported_rates().
  /// Equal rates make a passthrough that copies samples unchanged.
  Resampler(int input_rate, int output_rate, ResamplerOptions options = {});
  ~Resampler();
  Resampler(Resampler &&) noexcept;
  Resampler &operator=(Resampler &&) noexcept;
  Resampler(const Resampler &) = delete;
  Resampler &operator=(const Resampler &) = delete;

  /// Converts `in` and writes what is ready to `out`; returns the count written. `out` must
  /// hold max_output(in.size()) samples (throws Error(invalid_argument) otherwise), which
  /// guarantees nothing is left waiting inside the converter for lack of room.
  /// Throws Error(state) after flush() until reset().
  size_t process(std::span<const int16_t> in, std::span<int16_t> out);

  /// Ends the stream: writes up to out.size() samples of the remaining tail and returns the
  /// count; call again until it returns 0. Then reset() before reusing the resampler.
  size_t flush(std::span<int16_t> out);

  /// Forgets all history and the end-of-stream mark; the next sample starts a new stream.
  void reset();

  /// Upper bound on what one process() call with `input_count` samples can return: the
  /// proportional share plus room for libsoxr's block-wise bursts (see docs/audio.md).
  /// Constant per resampler, so callers can allocate once.
  size_t max_output(size_t input_count) const noexcept;

  /// Output samples currently held inside the converter (its delay right now).
  double pending_output() const noexcept;

  int input_rate() const noexcept { return input_rate_; }
  int output_rate() const noexcept { return output_rate_; }
  bool is_passthrough() const noexcept { return input_rate_ == output_rate_; }

 private:
  struct Soxr;
  int input_rate_;
  std::unique_ptr<class Halfband> halfband_;  // exact 2:1 ratios
  int output_rate_;
  size_t burst_allowance_;
  bool flushing_ = false;
  std::unique_ptr<Soxr> soxr_;  // null for a passthrough
};

}  // namespace parley::audio
