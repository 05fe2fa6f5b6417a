// The fakes' "speech": deterministic, checkable audio for fake TTS, and helpers for feeding
// fake STT.
//
// Fake TTS renders text as a sine tone: tone_frequency_hz(text) Hz (300..799, from an FNV-1a
// hash of the text), kToneMsPerChar ms per UTF-8 code point (sample-exact:
// samples_per_char(rate) samples each), amplitude 8000, phase 0 at the first sample. So an
// adapter test can compare the bytes it received with synthesize(text, format), or at least
// their length and pitch after any resampling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parley::fakes {

inline constexpr int kToneMsPerChar = 50;
inline constexpr int kToneAmplitude = 8000;

enum class AudioEncoding { pcm16, ulaw, alaw };

struct AudioFormat {
  AudioEncoding encoding = AudioEncoding::pcm16;
  int sample_rate = 16000;
  bool wav = false;  // a RIFF/WAV header before the samples

  int bytes_per_sample() const noexcept { return encoding == AudioEncoding::pcm16 ? 2 : 1; }
  int bytes_per_second() const noexcept { return sample_rate * bytes_per_sample(); }
};

/// Code points in UTF-8 `text` (bytes 0x80..0xBF that continue a sequence are not counted).
size_t utf8_length(std::string_view text) noexcept;
/// `text` split into its UTF-8 code points.
std::vector<std::string> utf8_chars(std::string_view text);

int tone_frequency_hz(std::string_view text) noexcept;
size_t samples_per_char(int sample_rate) noexcept;
/// The tone for `text` as PCM16 samples at `sample_rate`.
std::vector<int16_t> tone_pcm(std::string_view text, int sample_rate);
/// Samples in the encoding (PCM16 little-endian, or G.711 codes), as raw bytes.
std::string encode_audio(std::span<const int16_t> samples, AudioEncoding encoding);
/// Raw bytes back to PCM16 samples (a trailing odd byte of PCM16 is ignored).
std::vector<int16_t> decode_audio(std::string_view bytes, AudioEncoding encoding);
/// What the fake TTS sends for `text` in `format` (whole, before chunking).
std::string synthesize(std::string_view text, const AudioFormat &format);

/// Frequency of a (clean) tone by zero crossings, for checking audio after resampling.
double estimate_frequency_hz(std::span<const int16_t> samples, int sample_rate);

/// Audio to send to a fake STT: a loud 440 Hz tone ("speech") or zeros ("silence"), `ms`
/// long, in `format` (no WAV header unless format.wav).
std::string speech_audio(int ms, const AudioFormat &format);
std::string silence_audio(int ms, const AudioFormat &format);

/// The fake STT's voice detector: true when any sample's magnitude is at least 500.
bool is_speech(std::span<const int16_t> samples) noexcept;

/// Splits `audio` into pieces of `bytes` (the last may be shorter); none for empty audio.
std::vector<std::string> split_bytes(const std::string &audio, size_t bytes);

}  // namespace parley::fakes
