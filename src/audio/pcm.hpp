// PCM16 helpers: gain, mixing, level, float and byte conversions. Samples are signed 16-bit,
// interleaved when there is more than one channel. Every operation saturates at the int16
// range instead of wrapping, and none allocates.
//
// Functions taking an `out` span write the first in.size() elements and return that count;
// they throw Error(invalid_argument) when `out` is too short (nothing written then).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace parley::audio {

/// Multiplies every sample by `factor` (rounded to nearest, saturating). Throws
/// Error(invalid_argument) for a NaN or infinite factor.
void apply_gain(std::span<int16_t> samples, float factor);

/// apply_gain with a gain in decibels; -infinity dB mutes. Throws for NaN or +infinity.
void apply_gain_db(std::span<int16_t> samples, float decibels);

/// 10^(dB/20), and its inverse (0 -> -infinity).
float db_to_gain(float decibels) noexcept;
float gain_to_db(float factor) noexcept;

/// out[i] = saturate(a[i] + b[i]). Throws when a and b differ in length or out is short.
size_t mix(std::span<const int16_t> a, std::span<const int16_t> b, std::span<int16_t> out);

/// accumulator[i] = saturate(accumulator[i] + addend[i]); throws when the lengths differ.
void mix_into(std::span<int16_t> accumulator, std::span<const int16_t> addend);

/// Root mean square in sample units (0 for an empty span).
double rms(std::span<const int16_t> samples) noexcept;

/// Level in dBFS: 20 * log10(rms / 32768), so a full-scale square wave is 0 dBFS and a
/// full-scale sine -3.01 dBFS. Silence (all zeros, or no samples) is -infinity, which
/// compares below every threshold.
double dbfs(std::span<const int16_t> samples) noexcept;

/// int16 -> float in [-1, 1): sample / 32768.
size_t to_float(std::span<const int16_t> in, std::span<float> out);

/// float -> int16: round(x * 32768), saturating; NaN becomes 0.
size_t to_int16(std::span<const float> in, std::span<int16_t> out);

/// Little-endian byte pairs (the wire and WAV order) -> samples. Throws
/// Error(invalid_argument) for an odd byte count. Returns the number of samples written.
size_t le_bytes_to_samples(std::span<const uint8_t> bytes, std::span<int16_t> out);

/// Samples -> little-endian bytes; out needs 2 * in.size() bytes. Returns bytes written.
size_t samples_to_le_bytes(std::span<const int16_t> in, std::span<uint8_t> out);

}  // namespace parley::audio
