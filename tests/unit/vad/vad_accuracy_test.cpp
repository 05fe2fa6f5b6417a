// Accuracy on the labelled test set (vad_test_set.hpp): espeak-ng speech in white, pink,
// brown, babble and hum noise at 20, 10, 5 and 0 dB SNR, at -30, -18 and -6 dBFS, at 16 and
// 8 kHz. Prints the accuracy tables and asserts floors a little under what the detector
// measured when it was tuned, so a regression shows.
//
// Babble (six other espeak-ng talkers) is speech, and a detector that judges each frame
// against the background can only tell it from the caller by level: it is scored and
// printed, with its own, low, floors. WebRTC's VAD does no better on it (see MatchesWebRtc).
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "vad_test_set.hpp"
#ifdef PARLEY_HAVE_WEBRTC_APM
#include "webrtc_reference.hpp"
#endif

namespace parley::audio {
namespace {
using namespace vad_testing;

constexpr double kSnrs[] = {20.0, 10.0, 5.0, 0.0};
constexpr double kLevels[] = {-30.0, -18.0, -6.0};

bool is_babble(Noise noise) { return noise == Noise::babble; }

struct Condition {
  Noise noise;
  double snr;
  double level;
  Score score;
  Timing timing;
};

// Every condition through a fresh Vad at `rate`; computed once per rate.
const std::vector<Condition> &results(int rate) {
  static std::map<int, std::vector<Condition>> cache;
  if (auto found = cache.find(rate); found != cache.end()) return found->second;
  const Track &track = test_track();
  std::vector<Condition> out;
  for (double snr : kSnrs) {
    for (Noise noise : kAllNoises) {
      for (double level : kLevels) {
        std::vector<int16_t> pcm = mix(track, noise, snr, level);
        if (rate == 8000) pcm = to_8k(pcm);
        Vad vad(VadConfig{.sample_rate = rate});
        const VadRun run = run_vad(vad, pcm);
        out.push_back({noise, snr, level, score(track, run.decisions), timing(track, run.segments)});
      }
    }
  }
  return cache.emplace(rate, std::move(out)).first->second;
}

Score total(const std::vector<Condition> &conditions, double snr, bool babble) {
  Score s;
  for (const Condition &c : conditions) {
    if (c.snr == snr && is_babble(c.noise) == babble) s.add(c.score);
  }
  return s;
}

void print_table(int rate) {
  std::printf("\nframe accuracy %% (speech hit rate / false-alarm rate), %d Hz, mean over -30/-18/-6 dBFS\n", rate);
  std::printf("  SNR   white   pink    brown   hum     | stationary (hit/fa)   | babble (hit/fa)\n");
  for (double snr : kSnrs) {
    std::printf("  %2.0f dB", snr);
    for (Noise noise : {Noise::white, Noise::pink, Noise::brown, Noise::hum}) {
      Score s;
      for (const Condition &c : results(rate)) {
        if (c.snr == snr && c.noise == noise) s.add(c.score);
      }
      std::printf("  %5.1f ", s.accuracy());
    }
    const Score stationary = total(results(rate), snr, false), babble = total(results(rate), snr, true);
    std::printf("| %5.1f (%5.1f/%4.1f)   | %5.1f (%5.1f/%4.1f)\n", stationary.accuracy(), stationary.hit_rate(),
                stationary.false_alarm_rate(), babble.accuracy(), babble.hit_rate(), babble.false_alarm_rate());
  }
}

// Floors per SNR (20, 10, 5, 0 dB): the stationary noises together, the worst single
// stationary condition, and babble.
constexpr double kStationaryFloor[] = {91.0, 89.0, 87.0, 80.0};
constexpr double kWorstConditionFloor[] = {89.0, 87.0, 84.0, 70.0};
constexpr double kBabbleFloor[] = {70.0, 58.0, 54.0, 52.0};

void check_floors(int rate, double allowance) {
  for (size_t i = 0; i < std::size(kSnrs); ++i) {
    const double snr = kSnrs[i];
    EXPECT_GE(total(results(rate), snr, false).accuracy(), kStationaryFloor[i] - allowance) << snr << " dB";
    EXPECT_GE(total(results(rate), snr, true).accuracy(), kBabbleFloor[i] - allowance) << snr << " dB babble";
    for (const Condition &c : results(rate)) {
      if (c.snr != snr || is_babble(c.noise)) continue;
      EXPECT_GE(c.score.accuracy(), kWorstConditionFloor[i] - allowance)
          << noise_name(c.noise) << " " << snr << " dB " << c.level << " dBFS";
    }
  }
}

TEST(vad_accuracy, FrameAccuracyPerSnr16k) {
  print_table(16000);
  check_floors(16000, 0.0);
}

// Phone audio: the same set through the 16 -> 8 kHz half-band resampler.
TEST(vad_accuracy, FrameAccuracyPerSnr8k) {
  print_table(8000);
  check_floors(8000, 1.0);
}

// Confirmed segments in stationary noise: every utterance found as one segment, no false
// starts, and the backdated start and the end within bounds of the labels.
TEST(vad_accuracy, StartStopTiming) {
  std::printf("\nconfirmed segments, 16 kHz, stationary noises, detected - labelled:\n"
              "  SNR    start mean / worst |err| ms   end mean / worst |err| ms   missed split false\n");
  for (double snr : kSnrs) {
    int64_t worst_start = 0, worst_end = 0, start_sum = 0, end_sum = 0, count = 0;
    size_t missed = 0, split = 0, false_starts = 0;
    for (const Condition &c : results(16000)) {
      if (c.snr != snr || is_babble(c.noise)) continue;
      worst_start = std::max(worst_start, c.timing.worst_start_ms());
      worst_end = std::max(worst_end, c.timing.worst_end_ms());
      for (size_t i = 0; i < c.timing.start_errors_ms.size(); ++i) {
        start_sum += c.timing.start_errors_ms[i];
        end_sum += c.timing.end_errors_ms[i];
        ++count;
      }
      missed += c.timing.missed;
      split += c.timing.split;
      false_starts += c.timing.false_starts;
      SCOPED_TRACE(std::string(noise_name(c.noise)) + " " + std::to_string(static_cast<int>(snr)) + " dB " +
                   std::to_string(static_cast<int>(c.level)) + " dBFS");
      EXPECT_EQ(c.timing.missed, 0u);
      EXPECT_EQ(c.timing.false_starts, 0u);
      if (snr >= 5.0) {
        EXPECT_EQ(c.timing.split, 0u);
        EXPECT_LE(c.timing.worst_start_ms(), 220);
        EXPECT_LE(c.timing.worst_end_ms(), 200);
      }
    }
    std::printf("  %2.0f dB  %+6.0f / %4lld                  %+6.0f / %4lld                %zu     %zu     %zu\n", snr,
                static_cast<double>(start_sum) / static_cast<double>(count), static_cast<long long>(worst_start),
                static_cast<double>(end_sum) / static_cast<double>(count), static_cast<long long>(worst_end), missed, split,
                false_starts);
  }
}

#ifdef PARLEY_HAVE_WEBRTC_APM
// The same set (-18 dBFS) through WebRTC's VAD in each of its four modes. Ours must be at
// least as accurate as WebRTC's best mode at every SNR, stationary noises and babble alike.
TEST(vad_accuracy, MatchesWebRtc) {
  const Track &track = test_track();
  std::printf("\nWebRTC VAD (libwebrtc-audio-processing 0.3), 16 kHz, -18 dBFS: accuracy %% stationary | babble\n");
  for (double snr : kSnrs) {
    double best_stationary = 0.0, best_babble = 0.0;
    std::printf("  %2.0f dB:", snr);
    for (int mode = 0; mode < 4; ++mode) {
      Score stationary, babble;
      for (Noise noise : kAllNoises) {
        const std::vector<int16_t> pcm = mix(track, noise, snr, -18.0);
        WebRtcReference webrtc(kRate, mode);
        Score s;
        for (size_t f = 0; f < track.frames(); ++f) {
          s.add(track.labels[f] != 0, webrtc.process(std::span<const int16_t>(pcm).subspan(f * kFrame, kFrame)));
        }
        (is_babble(noise) ? babble : stationary).add(s);
      }
      std::printf("  mode %d %5.1f | %5.1f", mode, stationary.accuracy(), babble.accuracy());
      best_stationary = std::max(best_stationary, stationary.accuracy());
      best_babble = std::max(best_babble, babble.accuracy());
    }
    Score ours_stationary, ours_babble;
    for (const Condition &c : results(16000)) {
      if (c.snr == snr && c.level == -18.0) (is_babble(c.noise) ? ours_babble : ours_stationary).add(c.score);
    }
    std::printf("  || parley %5.1f | %5.1f\n", ours_stationary.accuracy(), ours_babble.accuracy());
    EXPECT_GE(ours_stationary.accuracy(), best_stationary - 1.0) << snr << " dB";
    EXPECT_GE(ours_babble.accuracy(), best_babble - 2.0) << snr << " dB babble";
  }
}
#endif

}  // namespace
}  // namespace parley::audio
