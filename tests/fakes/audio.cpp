#include "fakes/audio.hpp"

#include <cmath>
#include <cstdlib>
#include <numbers>

#include "audio/g711.hpp"
#include "audio/wav.hpp"

namespace parley::fakes {

size_t utf8_length(std::string_view text) noexcept {
  size_t count = 0;
  for (const char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return count;
}

std::vector<std::string> utf8_chars(std::string_view text) {
  std::vector<std::string> chars;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) == 0x80 && !chars.empty()) {
      chars.back() += c;
    } else {
      chars.emplace_back(1, c);
    }
  }
  return chars;
}

int tone_frequency_hz(std::string_view text) noexcept {
  uint32_t hash = 2166136261u;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619u;
  }
  return 300 + static_cast<int>(hash % 500);
}

size_t samples_per_char(int sample_rate) noexcept {
  return static_cast<size_t>(sample_rate) * kToneMsPerChar / 1000;
}

std::vector<int16_t> tone_pcm(std::string_view text, int sample_rate) {
  const size_t count = utf8_length(text) * samples_per_char(sample_rate);
  const double step = 2.0 * std::numbers::pi * tone_frequency_hz(text) / sample_rate;
  std::vector<int16_t> samples(count);
  for (size_t i = 0; i < count; ++i) {
    samples[i] = static_cast<int16_t>(std::lround(kToneAmplitude * std::sin(step * static_cast<double>(i))));
  }
  return samples;
}

std::string encode_audio(std::span<const int16_t> samples, AudioEncoding encoding) {
  std::string out;
  if (encoding == AudioEncoding::pcm16) {
    out.resize(samples.size() * 2);
    for (size_t i = 0; i < samples.size(); ++i) {
      const auto value = static_cast<uint16_t>(samples[i]);
      out[2 * i] = static_cast<char>(value & 0xFF);
      out[2 * i + 1] = static_cast<char>(value >> 8);
    }
    return out;
  }
  out.resize(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    out[i] = static_cast<char>(encoding == AudioEncoding::ulaw ? audio::ulaw_encode(samples[i]) : audio::alaw_encode(samples[i]));
  }
  return out;
}

std::vector<int16_t> decode_audio(std::string_view bytes, AudioEncoding encoding) {
  std::vector<int16_t> samples;
  if (encoding == AudioEncoding::pcm16) {
    samples.resize(bytes.size() / 2);
    for (size_t i = 0; i < samples.size(); ++i) {
      const auto lo = static_cast<unsigned char>(bytes[2 * i]);
      const auto hi = static_cast<unsigned char>(bytes[2 * i + 1]);
      samples[i] = static_cast<int16_t>(static_cast<uint16_t>(lo | (hi << 8)));
    }
    return samples;
  }
  samples.resize(bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto code = static_cast<uint8_t>(bytes[i]);
    samples[i] = encoding == AudioEncoding::ulaw ? audio::ulaw_decode(code) : audio::alaw_decode(code);
  }
  return samples;
}

namespace {

std::string with_wav_header(std::string raw, const AudioFormat &format) {
  if (!format.wav) return raw;
  audio::WavFormat wav;
  wav.encoding = format.encoding == AudioEncoding::pcm16 ? audio::WavEncoding::pcm16
                 : format.encoding == AudioEncoding::ulaw ? audio::WavEncoding::ulaw
                                                          : audio::WavEncoding::alaw;
  wav.channels = 1;
  wav.sample_rate = static_cast<uint32_t>(format.sample_rate);
  const auto bytes = audio::wav_bytes(wav, std::span(reinterpret_cast<const uint8_t *>(raw.data()), raw.size()));
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

std::string synthesize(std::string_view text, const AudioFormat &format) {
  return with_wav_header(encode_audio(tone_pcm(text, format.sample_rate), format.encoding), format);
}

double estimate_frequency_hz(std::span<const int16_t> samples, int sample_rate) {
  size_t crossings = 0;
  size_t first = 0, last = 0;
  for (size_t i = 1; i < samples.size(); ++i) {
    if (samples[i - 1] < 0 && samples[i] >= 0) {
      if (crossings == 0) first = i;
      last = i;
      ++crossings;
    }
  }
  if (crossings < 2) return 0.0;
  return static_cast<double>(crossings - 1) * sample_rate / static_cast<double>(last - first);
}

std::string speech_audio(int ms, const AudioFormat &format) {
  const size_t count = static_cast<size_t>(format.sample_rate) * static_cast<size_t>(ms) / 1000;
  std::vector<int16_t> samples(count);
  const double step = 2.0 * std::numbers::pi * 440.0 / format.sample_rate;
  for (size_t i = 0; i < count; ++i) {
    samples[i] = static_cast<int16_t>(std::lround(kToneAmplitude * std::sin(step * static_cast<double>(i))));
  }
  return with_wav_header(encode_audio(samples, format.encoding), format);
}

std::string silence_audio(int ms, const AudioFormat &format) {
  const size_t count = static_cast<size_t>(format.sample_rate) * static_cast<size_t>(ms) / 1000;
  const std::vector<int16_t> samples(count, 0);
  return with_wav_header(encode_audio(samples, format.encoding), format);
}

bool is_speech(std::span<const int16_t> samples) noexcept {
  for (const int16_t s : samples) {
    if (std::abs(static_cast<int>(s)) >= 500) return true;
  }
  return false;
}

std::vector<std::string> split_bytes(const std::string &audio, size_t bytes) {
  std::vector<std::string> pieces;
  if (bytes == 0) bytes = audio.size();
  for (size_t at = 0; at < audio.size(); at += bytes) pieces.push_back(audio.substr(at, bytes));
  return pieces;
}

}  // namespace parley::fakes
