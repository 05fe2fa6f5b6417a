// The labelled VAD test set, built at test time: espeak-ng sentences (several voices) with
// pauses between them, mixed with white, pink, brown, babble and hum noise at a chosen SNR
// and speech level. Labels come from the clean speech's energy envelope, before any noise.
// Shared by the unit tests and bench/vad (which also runs WebRTC's VAD on the same set).
//
// Everything is deterministic: fixed sentences, voices, seeds. The espeak-ng CLI must be on
// PATH (scripts/setup installs it).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <numbers>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "audio/resampler.hpp"
#include "audio/vad.hpp"
#include "audio/wav.hpp"

namespace parley::audio::vad_testing {

constexpr int kRate = 16000;
constexpr size_t kFrame = 320;  // 20 ms at 16 kHz

// ---------------------------------------------------------------------------------------
// Speech

/// espeak-ng's rendering of `text` in `voice`, resampled from 22.05 to 16 kHz; cached.
inline const std::vector<int16_t> &speak(const std::string &voice, const std::string &text) {
  static std::map<std::string, std::vector<int16_t>> cache;
  const std::string key = voice + "\n" + text;
  if (auto found = cache.find(key); found != cache.end()) return found->second;

  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("parley_vad_" + std::to_string(::getpid()) + "_" + std::to_string(cache.size()) + ".wav");
  const std::string command = "espeak-ng -v '" + voice + "' -w '" + path.string() + "' \"" + text + "\"";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("espeak-ng failed: " + command);
  const WavAudio wav = read_wav_file(path.string());
  std::filesystem::remove(path);

  Resampler resampler(static_cast<int>(wav.format.sample_rate), kRate);
  std::vector<int16_t> out(resampler.max_output(wav.samples.size()));
  out.resize(resampler.process(wav.samples, out));
  std::vector<int16_t> tail(4096);
  while (size_t n = resampler.flush(tail)) out.insert(out.end(), tail.begin(), tail.begin() + static_cast<ptrdiff_t>(n));
  return cache.emplace(key, std::move(out)).first->second;
}

struct Utterance {
  size_t first_frame;  // first labelled speech frame
  size_t end_frame;    // one past the last labelled speech frame
};

/// Clean speech with its labels: one flag per 20 ms frame, and the utterances.
struct Track {
  std::vector<float> clean;  // full scale = 1
  std::vector<uint8_t> labels;
  std::vector<Utterance> utterances;
  size_t frames() const { return labels.size(); }
};

inline double frame_energy_db(std::span<const float> frame) {
  double sum = 1e-20;
  for (float x : frame) sum += static_cast<double>(x) * x;
  return 10.0 * std::log10(sum / static_cast<double>(frame.size()));
}

// A frame is speech when the clean signal in it is within kLabelRangeDb of the sentence's
// loudest frames (its 95th-percentile frame energy). 35 dB keeps weak consonants and the
// tails of words; espeak-ng's pauses are digital silence, far below.
constexpr double kLabelRangeDb = 35.0;

inline void label_sentence(Track &track, size_t first_sample, size_t samples) {
  const size_t first = first_sample / kFrame;
  const size_t count = (samples + kFrame - 1) / kFrame;
  std::vector<double> energies;
  for (size_t f = first; f < first + count; ++f) {
    energies.push_back(frame_energy_db(std::span<const float>(track.clean).subspan(f * kFrame, kFrame)));
  }
  std::vector<double> sorted = energies;
  std::sort(sorted.begin(), sorted.end());
  const double loud = sorted[sorted.size() * 95 / 100];
  Utterance utterance{SIZE_MAX, 0};
  for (size_t i = 0; i < count; ++i) {
    if (energies[i] < loud - kLabelRangeDb) continue;
    track.labels[first + i] = 1;
    utterance.first_frame = std::min(utterance.first_frame, first + i);
    utterance.end_frame = first + i + 1;
  }
  track.utterances.push_back(utterance);
}

struct Line {
  const char *voice;
  const char *text;
};

// Varied voices, rates of speech and content: numbers, a question, a list, pauses at commas.
inline const std::vector<Line> &test_lines() {
  static const std::vector<Line> lines = {
      {"en-us", "Hello, I would like to book an appointment for next Tuesday, please."},
      {"en-us+f3", "My card number is four one one one, two two two two, three three three three."},
      {"en-gb", "Could you tell me whether the clinic is open on Saturday mornings?"},
      {"en-us+m3", "Yes."},
      {"en-us+f2", "I need to cancel my booking, move it to the afternoon, and get a confirmation by email."},
      {"en-us", "The reference is seven, eight, nine, zero."},
      {"en-gb+f4", "Thanks very much, that is all for today."},
      {"en-us+m7", "Sorry, what did you say? I could not hear you over the traffic."},
  };
  return lines;
}

// The babble talkers: other sentences, other voices.
inline const std::vector<Line> &babble_lines() {
  static const std::vector<Line> lines = {
      {"en-us+m1", "We should leave before the rain starts and take the long road home."},
      {"en-gb+f1", "She said the meeting was moved to Thursday at half past three."},
      {"en-us+m4", "Nobody knows where the keys went after the party last night."},
      {"en-us+f4", "The quarterly figures look better than anyone expected this year."},
      {"en-gb+m2", "Put the kettle on, I will be there in about ten minutes."},
      {"en-us+f1", "Turn left at the lights and the station is on your right."},
  };
  return lines;
}

/// The eight test lines with 1.0-2.0 s of silence between them, after 1 s of lead-in (the
/// detector's first look at the noise) and before 1 s of tail.
inline const Track &test_track() {
  static const Track track = [] {
    Track t;
    std::mt19937 random(7);
    std::uniform_int_distribution<size_t> gap_frames(50, 100);
    size_t position = 50 * kFrame;
    std::vector<std::pair<size_t, const std::vector<int16_t> *>> placed;
    for (const Line &line : test_lines()) {
      const std::vector<int16_t> &speech = speak(line.voice, line.text);
      placed.emplace_back(position, &speech);
      position += ((speech.size() + kFrame - 1) / kFrame + gap_frames(random)) * kFrame;
    }
    position += 50 * kFrame;
    t.clean.assign(position, 0.0f);
    t.labels.assign(position / kFrame, 0);
    for (auto [start, speech] : placed) {
      for (size_t i = 0; i < speech->size(); ++i) t.clean[start + i] = static_cast<float>((*speech)[i]) / 32768.0f;
      label_sentence(t, start, speech->size());
    }
    return t;
  }();
  return track;
}

/// Mean power of the labelled speech frames: the speech level an SNR is measured against.
inline double active_power(const Track &track) {
  double sum = 0.0;
  size_t count = 0;
  for (size_t f = 0; f < track.frames(); ++f) {
    if (!track.labels[f]) continue;
    for (size_t i = f * kFrame; i < (f + 1) * kFrame; ++i) sum += static_cast<double>(track.clean[i]) * track.clean[i];
    count += kFrame;
  }
  return sum / static_cast<double>(count);
}

// ---------------------------------------------------------------------------------------
// Noise

enum class Noise { white, pink, brown, babble, hum };
inline constexpr Noise kAllNoises[] = {Noise::white, Noise::pink, Noise::brown, Noise::babble, Noise::hum};

inline const char *noise_name(Noise noise) {
  switch (noise) {
    case Noise::white: return "white";
    case Noise::pink: return "pink";
    case Noise::brown: return "brown";
    case Noise::babble: return "babble";
    case Noise::hum: return "hum";
  }
  return "?";
}

inline std::vector<float> white_noise(size_t count, uint32_t seed) {
  std::mt19937 random(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> out(count);
  for (float &x : out) x = normal(random);
  return out;
}

// Paul Kellet's economy filter: -3 dB/octave within ±0.5 dB over the audio band.
inline std::vector<float> pink_noise(size_t count, uint32_t seed) {
  std::vector<float> out = white_noise(count, seed);
  float b0 = 0, b1 = 0, b2 = 0;
  for (float &x : out) {
    b0 = 0.99765f * b0 + x * 0.0990460f;
    b1 = 0.96300f * b1 + x * 0.2965164f;
    b2 = 0.57000f * b2 + x * 1.0526913f;
    x = b0 + b1 + b2 + x * 0.1848f;
  }
  return out;
}

// Leaky integration of white noise: -6 dB/octave above ~8 Hz (traffic, rumble, wind).
inline std::vector<float> brown_noise(size_t count, uint32_t seed) {
  std::vector<float> out = white_noise(count, seed);
  float level = 0;
  for (float &x : out) {
    level = 0.997f * level + 0.05f * x;
    x = level;
  }
  return out;
}

// Six talkers at once, each the babble lines in a row, started at different points.
inline std::vector<float> babble_noise(size_t count, uint32_t seed) {
  std::vector<float> talker;
  for (const Line &line : babble_lines()) {
    for (int16_t s : speak(line.voice, line.text)) talker.push_back(static_cast<float>(s));
    talker.insert(talker.end(), kRate / 10, 0.0f);  // a breath between sentences
  }
  std::mt19937 random(seed);
  std::uniform_int_distribution<size_t> offset(0, talker.size() - 1);
  std::vector<float> out(count, 0.0f);
  for (int voice = 0; voice < 6; ++voice) {
    const size_t start = offset(random);
    for (size_t i = 0; i < count; ++i) out[i] += talker[(start + i) % talker.size()];
  }
  return out;
}

// 50 Hz mains hum with the odd-heavy harmonics of a transformer buzz, to 1 kHz, plus a little hiss.
inline std::vector<float> hum_noise(size_t count, uint32_t seed) {
  std::vector<float> out = white_noise(count, seed);
  std::mt19937 random(seed + 1);
  std::uniform_real_distribution<double> phase(0.0, 2.0 * std::numbers::pi);
  std::vector<double> phases(21);
  for (double &p : phases) p = phase(random);
  for (size_t i = 0; i < count; ++i) {
    const double t = static_cast<double>(i) / kRate;
    double sum = 0.0;
    for (int n = 1; n <= 20; ++n) {
      const double amplitude = (n % 2 ? 1.0 : 0.4) / n;
      sum += amplitude * std::sin(2.0 * std::numbers::pi * 50.0 * n * t + phases[n]);
    }
    out[i] = static_cast<float>(0.02 * out[i] + sum);
  }
  return out;
}

inline std::vector<float> make_noise(Noise noise, size_t count, uint32_t seed) {
  switch (noise) {
    case Noise::white: return white_noise(count, seed);
    case Noise::pink: return pink_noise(count, seed);
    case Noise::brown: return brown_noise(count, seed);
    case Noise::babble: return babble_noise(count, seed);
    case Noise::hum: return hum_noise(count, seed);
  }
  return {};
}

inline double mean_power(std::span<const float> x) {
  double sum = 0.0;
  for (float v : x) sum += static_cast<double>(v) * v;
  return sum / static_cast<double>(x.size());
}

inline int16_t to_pcm(double x) {
  return static_cast<int16_t>(std::lround(std::clamp(x * 32768.0, -32768.0, 32767.0)));
}

/// The track mixed with `noise` at `snr_db` (speech active level over noise level), scaled
/// so that the mixture reads `level_dbfs` over the speech frames, as PCM16 at 16 kHz
/// (saturating, as a real front end would clip).
inline std::vector<int16_t> mix(const Track &track, Noise noise, double snr_db, double level_dbfs, uint32_t seed = 1) {
  static std::map<std::tuple<Noise, size_t, uint32_t>, std::vector<float>> cache;
  const auto key = std::make_tuple(noise, track.clean.size(), seed);
  if (!cache.contains(key)) cache.emplace(key, make_noise(noise, track.clean.size(), seed));
  const std::vector<float> &n = cache.at(key);
  const double noise_gain = std::sqrt(active_power(track) / mean_power(n)) * std::pow(10.0, -snr_db / 20.0);
  std::vector<float> mixed(track.clean.size());
  for (size_t i = 0; i < mixed.size(); ++i) mixed[i] = static_cast<float>(track.clean[i] + noise_gain * n[i]);
  double speech_power = 0.0;
  size_t count = 0;
  for (size_t f = 0; f < track.frames(); ++f) {
    if (!track.labels[f]) continue;
    speech_power += mean_power(std::span<const float>(mixed).subspan(f * kFrame, kFrame));
    ++count;
  }
  const double gain = std::pow(10.0, level_dbfs / 20.0) / std::sqrt(speech_power / static_cast<double>(count));
  std::vector<int16_t> out(mixed.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = to_pcm(gain * mixed[i]);
  return out;
}

inline std::vector<int16_t> to_8k(std::span<const int16_t> pcm16k) {
  Resampler resampler(kRate, 8000);
  std::vector<int16_t> out(resampler.max_output(pcm16k.size()));
  out.resize(resampler.process(pcm16k, out));
  std::vector<int16_t> tail(1024);
  while (size_t n = resampler.flush(tail)) out.insert(out.end(), tail.begin(), tail.begin() + static_cast<ptrdiff_t>(n));
  out.resize(pcm16k.size() / 2, 0);
  return out;
}

// ---------------------------------------------------------------------------------------
// Scoring

struct Score {
  size_t frames = 0, correct = 0;
  size_t speech = 0, hits = 0;             // labelled speech frames, and those detected
  size_t silence = 0, false_alarms = 0;    // labelled non-speech frames, and those called speech

  void add(bool label, bool decision) {
    ++frames;
    correct += label == decision;
    if (label) {
      ++speech;
      hits += decision;
    } else {
      ++silence;
      false_alarms += decision;
    }
  }
  void add(const Score &other) {
    frames += other.frames;
    correct += other.correct;
    speech += other.speech;
    hits += other.hits;
    silence += other.silence;
    false_alarms += other.false_alarms;
  }
  double accuracy() const { return frames ? 100.0 * static_cast<double>(correct) / static_cast<double>(frames) : 0.0; }
  double hit_rate() const { return speech ? 100.0 * static_cast<double>(hits) / static_cast<double>(speech) : 0.0; }
  double false_alarm_rate() const {
    return silence ? 100.0 * static_cast<double>(false_alarms) / static_cast<double>(silence) : 0.0;
  }
};

/// Per-frame decisions against the labels. The first second (the detector's lead-in) is
/// scored too: a detector has to cope with the start of a call.
inline Score score(const Track &track, std::span<const uint8_t> decisions) {
  Score s;
  for (size_t f = 0; f < track.frames() && f < decisions.size(); ++f) s.add(track.labels[f] != 0, decisions[f] != 0);
  return s;
}

struct Segment {
  int64_t start_ms, end_ms;
};

/// What a Vad made of a whole recording: frame decisions and confirmed segments.
struct VadRun {
  std::vector<uint8_t> decisions;
  std::vector<float> probabilities;
  std::vector<Segment> segments;
  std::vector<int64_t> confirm_delays_ms;  // start confirmation frame end - backdated start
};

inline VadRun run_vad(Vad &vad, std::span<const int16_t> pcm) {
  VadRun run;
  const size_t n = vad.frame_samples();
  for (size_t i = 0; i + n <= pcm.size(); i += n) {
    const VadEvent e = vad.process(pcm.subspan(i, n));
    run.decisions.push_back(e.is_speech);
    run.probabilities.push_back(e.probability);
    if (e.speech_started) {
      run.segments.push_back({e.speech_start.count(), -1});
      run.confirm_delays_ms.push_back((e.frame_start + Vad::kFrameDuration - e.speech_start).count());
    }
    if (e.speech_stopped) run.segments.back().end_ms = e.speech_end.count();
  }
  if (!run.segments.empty() && run.segments.back().end_ms < 0) {
    run.segments.back().end_ms = static_cast<int64_t>(pcm.size() / n) * 20;
  }
  return run;
}

/// Confirmed segments against the utterances: each utterance should be one segment whose
/// start and end are close to the labels; segments touching no utterance are false starts.
struct Timing {
  size_t utterances = 0, missed = 0, split = 0, false_starts = 0;
  std::vector<int64_t> start_errors_ms, end_errors_ms;  // detected - labelled
  int64_t worst_start_ms() const {
    int64_t w = 0;
    for (int64_t e : start_errors_ms) w = std::max(w, std::abs(e));
    return w;
  }
  int64_t worst_end_ms() const {
    int64_t w = 0;
    for (int64_t e : end_errors_ms) w = std::max(w, std::abs(e));
    return w;
  }
};

inline Timing timing(const Track &track, const std::vector<Segment> &segments) {
  Timing t;
  std::vector<bool> used(segments.size(), false);
  for (const Utterance &u : track.utterances) {
    ++t.utterances;
    const int64_t start = static_cast<int64_t>(u.first_frame) * 20, end = static_cast<int64_t>(u.end_frame) * 20;
    std::vector<size_t> overlapping;
    for (size_t i = 0; i < segments.size(); ++i) {
      if (segments[i].start_ms < end && segments[i].end_ms > start) overlapping.push_back(i);
    }
    if (overlapping.empty()) {
      ++t.missed;
      continue;
    }
    if (overlapping.size() > 1) ++t.split;
    for (size_t i : overlapping) used[i] = true;
    t.start_errors_ms.push_back(segments[overlapping.front()].start_ms - start);
    t.end_errors_ms.push_back(segments[overlapping.back()].end_ms - end);
  }
  for (bool u : used) t.false_starts += !u;
  return t;
}

}  // namespace parley::audio::vad_testing
