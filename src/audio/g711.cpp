#include "audio/g711.hpp"

#include <bit>
#include <string>

#include "common/error.hpp"

// Why floats: a G.711 code is a tiny floating-point number (sign, 3-bit exponent, 4-bit
// mantissa). Converting an integer magnitude to float and reading the exponent and the top
// four mantissa bits yields segment and mantissa in one step, and reassembling float bits
// decodes a code without a variable shift or a table lookup. Every step is a plain SIMD
// instruction, so the bulk loops below vectorise (8 samples per AVX2 instruction) instead of
// issuing one table load per sample. All values involved are < 2^24, so the float
// conversions are exact. The tests check every code and every 16-bit sample against a
// classic segment-search reference.

namespace parley::audio {
namespace {

constexpr uint32_t float_exponent_bias = 127;
constexpr int float_mantissa_bits = 23;

// (float exponent << 4) | the four bits after the leading one, for a magnitude in
// [1, 2^24): a G.711 segment and mantissa, once the caller subtracts its segment offset.
[[gnu::always_inline]] inline uint32_t exponent_and_top_mantissa(int32_t magnitude) noexcept {
  return std::bit_cast<uint32_t>(static_cast<float>(magnitude)) >> (float_mantissa_bits - 4);
}

// Builds the float (16.5 + mantissa) * 2^(segment + 3) from a 7-bit segment|mantissa code.
// That is ((mantissa << 3) + 0x84) << segment, the μ-law reconstruction level plus its bias,
// and also ((mantissa << 4) + 0x108) << (segment - 1), the A-law level for segments >= 1.
[[gnu::always_inline]] inline int32_t reconstruct_biased_level(uint32_t segment_mantissa) noexcept {
  constexpr uint32_t exponent_of_segment0 = (float_exponent_bias + 7) << float_mantissa_bits;
  constexpr uint32_t half_step = 1u << (float_mantissa_bits - 5);
  const uint32_t bits = (segment_mantissa << (float_mantissa_bits - 4)) + exponent_of_segment0 + half_step;
  return static_cast<int32_t>(std::bit_cast<float>(bits));
}

// x for x >= 0, ~x (= -x - 1) for x < 0: G.191's magnitude of a two's-complement sample.
[[gnu::always_inline]] inline int32_t ones_complement_magnitude(int32_t x) noexcept {
  return x ^ (x >> 31);
}

[[gnu::always_inline]] inline uint8_t encode_ulaw(int16_t sample) noexcept {
  constexpr int32_t bias = 0x84 >> 2;  // μ-law bias in 14-bit units
  constexpr int32_t max_biased = 0x1FFF;
  int32_t biased = (ones_complement_magnitude(sample) >> 2) + bias;  // 33 .. 8224
  if (biased > max_biased) biased = max_biased;
  constexpr uint32_t segment0 = (float_exponent_bias + 5) << 4;  // 2^5 <= biased always
  const uint32_t segment_mantissa = exponent_and_top_mantissa(biased) - segment0;
  // μ-law transmits every bit inverted; the sign bit is 1 for positive samples.
  const uint32_t inversion = sample >= 0 ? 0xFFu : 0x7Fu;
  return static_cast<uint8_t>(segment_mantissa ^ inversion);
}

[[gnu::always_inline]] inline int16_t decode_ulaw(uint8_t code) noexcept {
  const uint32_t inverted = static_cast<uint8_t>(~code);
  const int32_t magnitude = reconstruct_biased_level(inverted & 0x7Fu) - 0x84;
  return static_cast<int16_t>((inverted & 0x80u) ? -magnitude : magnitude);
}

[[gnu::always_inline]] inline uint8_t encode_alaw(int16_t sample) noexcept {
  const int32_t magnitude = ones_complement_magnitude(sample) >> 4;  // 12-bit, 0 .. 2047
  // Segments 0 and 1 are linear with the same step, so below 32 the code is the magnitude
  // itself, and the float trick gives that from 16 up. Below 16 we lift the magnitude by 16
  // and take the 16 off the code again, which keeps the loop free of a branch around the
  // float conversion (GCC will not vectorise one).
  const int32_t lift = magnitude < 16 ? 16 : 0;
  constexpr uint32_t segment1 = (float_exponent_bias + 4 - 1) << 4;
  const uint32_t segment_mantissa =
      exponent_and_top_mantissa(magnitude | lift) - segment1 - static_cast<uint32_t>(lift);
  const uint32_t sign = sample >= 0 ? 0x80u : 0u;
  return static_cast<uint8_t>((segment_mantissa | sign) ^ 0x55u);  // A-law inverts even bits
}

[[gnu::always_inline]] inline int16_t decode_alaw(uint8_t code) noexcept {
  const uint32_t plain = code ^ 0x55u;
  const uint32_t segment_mantissa = plain & 0x7Fu;
  // Segment 0 has segment 1's step, 256 lower: decode it as segment 1 and subtract (a
  // branch around the float would stop GCC vectorising).
  const uint32_t lift = segment_mantissa < 16 ? 16u : 0u;
  const int32_t magnitude = reconstruct_biased_level(segment_mantissa + lift) - static_cast<int32_t>(lift * 16);
  return static_cast<int16_t>((plain & 0x80u) ? magnitude : -magnitude);
}

// The bulk kernels are compiled twice, for AVX2 and for baseline x86-64, and the dynamic
// loader picks one per CPU (GNU ifunc), since the build targets baseline x86-64.
#if defined(__x86_64__) && defined(__GNUC__)
#define PARLEY_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PARLEY_SIMD_CLONES
#endif

PARLEY_SIMD_CLONES void encode_ulaw_block(const int16_t *in, uint8_t *out, size_t count) noexcept {
  for (size_t i = 0; i < count; ++i) out[i] = encode_ulaw(in[i]);
}

PARLEY_SIMD_CLONES void decode_ulaw_block(const uint8_t *in, int16_t *out, size_t count) noexcept {
  for (size_t i = 0; i < count; ++i) out[i] = decode_ulaw(in[i]);
}

PARLEY_SIMD_CLONES void encode_alaw_block(const int16_t *in, uint8_t *out, size_t count) noexcept {
  for (size_t i = 0; i < count; ++i) out[i] = encode_alaw(in[i]);
}

PARLEY_SIMD_CLONES void decode_alaw_block(const uint8_t *in, int16_t *out, size_t count) noexcept {
  for (size_t i = 0; i < count; ++i) out[i] = decode_alaw(in[i]);
}

void require_room(const char *function, size_t in_size, size_t out_size) {
  if (out_size < in_size) {
    throw Error(Status::invalid_argument, std::string(function) + ": output holds " + std::to_string(out_size) +
                                              " elements, input has " + std::to_string(in_size));
  }
}

}  // namespace

uint8_t ulaw_encode(int16_t sample) noexcept { return encode_ulaw(sample); }
int16_t ulaw_decode(uint8_t code) noexcept { return decode_ulaw(code); }
uint8_t alaw_encode(int16_t sample) noexcept { return encode_alaw(sample); }
int16_t alaw_decode(uint8_t code) noexcept { return decode_alaw(code); }

size_t ulaw_encode(std::span<const int16_t> in, std::span<uint8_t> out) {
  require_room("ulaw_encode", in.size(), out.size());
  encode_ulaw_block(in.data(), out.data(), in.size());
  return in.size();
}

size_t ulaw_decode(std::span<const uint8_t> in, std::span<int16_t> out) {
  require_room("ulaw_decode", in.size(), out.size());
  decode_ulaw_block(in.data(), out.data(), in.size());
  return in.size();
}

size_t alaw_encode(std::span<const int16_t> in, std::span<uint8_t> out) {
  require_room("alaw_encode", in.size(), out.size());
  encode_alaw_block(in.data(), out.data(), in.size());
  return in.size();
}

size_t alaw_decode(std::span<const uint8_t> in, std::span<int16_t> out) {
  require_room("alaw_decode", in.size(), out.size());
  decode_alaw_block(in.data(), out.data(), in.size());
  return in.size();
}

}  // namespace parley::audio
