// G.711 μ-law and A-law, bit-exact with the ITU-T G.191 reference implementation of G.711.
//
// 16-bit linear samples are mapped to G.711's 14-bit (μ-law) / 13-bit (A-law) sign-magnitude
// input the way G.191 does it: negative samples are folded by one's complement (~x), so the
// quantiser is symmetric around -0.5. CPython's audioop (Sun's 14-bit μ-law coder) negates
// instead and so differs on some negative inputs; see docs/audio.md. Decoding is the same
// in every implementation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace parley::audio {

/// The code a silent (zero) sample encodes to.
inline constexpr uint8_t ulaw_silence = 0xFF;
inline constexpr uint8_t alaw_silence = 0xD5;

uint8_t ulaw_encode(int16_t sample) noexcept;
int16_t ulaw_decode(uint8_t code) noexcept;
uint8_t alaw_encode(int16_t sample) noexcept;
int16_t alaw_decode(uint8_t code) noexcept;

// Bulk conversions. Each converts all of `in` into the first in.size() elements of `out` and
// returns in.size(); `out` may be longer. Throws Error(invalid_argument) when `out` is
// shorter than `in` (nothing is written then). Vectorised (AVX2 when the CPU has it).
size_t ulaw_encode(std::span<const int16_t> in, std::span<uint8_t> out);
size_t ulaw_decode(std::span<const uint8_t> in, std::span<int16_t> out);
size_t alaw_encode(std::span<const int16_t> in, std::span<uint8_t> out);
size_t alaw_decode(std::span<const uint8_t> in, std::span<int16_t> out);

}  // namespace parley::audio
