#include "core/selftest.hpp"

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <numbers>
#include <span>

#include "audio/g711.hpp"
#include "audio/resampler.hpp"

namespace parley::core {
namespace {

constexpr int kSessionRate = 16000;
constexpr double kTones[] = {440.0, 1000.0};  // inside the telephone band
constexpr double kToneAmplitude = 8000.0;      // each; the sum peaks near -6 dBFS

}  // namespace

std::vector<int16_t> selftest_tones(int rate, double seconds) {
  std::vector<int16_t> samples(static_cast<size_t>(rate * seconds));
  for (size_t i = 0; i < samples.size(); ++i) {
    double value = 0;
    for (double hz : kTones) value += kToneAmplitude * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / rate);
    samples[i] = static_cast<int16_t>(std::lround(value));
  }
  return samples;
}

namespace {

// Streams `in` through a resampler in 20 ms chunks, then flushes, as a session does.
std::vector<int16_t> resample(std::span<const int16_t> in, int from, int to) {
  audio::Resampler resampler(from, to, {audio::ResamplerQuality::medium, audio::ResamplerPhase::linear});
  const size_t chunk = static_cast<size_t>(from / 50);
  std::vector<int16_t> out;
  std::vector<int16_t> buffer(resampler.max_output(chunk));
  for (size_t at = 0; at < in.size(); at += chunk) {
    const auto piece = in.subspan(at, std::min(chunk, in.size() - at));
    const size_t n = resampler.process(piece, buffer);
    out.insert(out.end(), buffer.begin(), buffer.begin() + static_cast<long>(n));
  }
  while (size_t n = resampler.flush(buffer)) out.insert(out.end(), buffer.begin(), buffer.begin() + static_cast<long>(n));
  return out;
}

struct Fit {
  double sinad_db;
  double gain_db;
};

// Least-squares fit of a DC term plus a sine and cosine at each test tone over the middle
// of `signal` (edges hold filter start-up); what the fit cannot explain is noise and
// distortion. Independent of the path's delay and phase.
Fit fit_tones(std::span<const int16_t> signal, int rate) {
  const size_t begin = signal.size() / 4, end = signal.size() * 3 / 4;
  double signal_power = 0, residual_power = 0;
  std::vector<double> residual(signal.begin() + static_cast<long>(begin), signal.begin() + static_cast<long>(end));
  double mean = 0;
  for (double v : residual) mean += v;
  mean /= static_cast<double>(residual.size());
  for (double &v : residual) v -= mean;
  // The tones are orthogonal over a whole number of their periods (0.5 s at 440/1000 Hz),
  // so fitting them one at a time is the joint least-squares fit.
  for (double hz : kTones) {
    double s = 0, c = 0, ss = 0, cc = 0;
    for (size_t i = 0; i < residual.size(); ++i) {
      const double phase = 2 * std::numbers::pi * hz * static_cast<double>(begin + i) / rate;
      s += residual[i] * std::sin(phase);
      c += residual[i] * std::cos(phase);
      ss += std::sin(phase) * std::sin(phase);
      cc += std::cos(phase) * std::cos(phase);
    }
    const double a = s / ss, b = c / cc;
    for (size_t i = 0; i < residual.size(); ++i) {
      const double phase = 2 * std::numbers::pi * hz * static_cast<double>(begin + i) / rate;
      residual[i] -= a * std::sin(phase) + b * std::cos(phase);
    }
    signal_power += (a * a + b * b) / 2;
  }
  for (double v : residual) residual_power += v * v;
  residual_power /= static_cast<double>(residual.size());
  const double expected_power = kToneAmplitude * kToneAmplitude / 2 * std::size(kTones);
  return {10 * std::log10(signal_power / std::max(residual_power, 1e-9)),
          10 * std::log10(signal_power / expected_power)};
}

using Codec = std::function<std::vector<int16_t>(std::span<const int16_t>)>;

std::vector<int16_t> through_ulaw(std::span<const int16_t> in) {
  std::vector<uint8_t> coded(in.size());
  std::vector<int16_t> out(in.size());
  audio::ulaw_encode(in, coded);
  audio::ulaw_decode(coded, out);
  return out;
}

std::vector<int16_t> through_alaw(std::span<const int16_t> in) {
  std::vector<uint8_t> coded(in.size());
  std::vector<int16_t> out(in.size());
  audio::alaw_encode(in, coded);
  audio::alaw_decode(coded, out);
  return out;
}

}  // namespace

SelftestCheck measure_round_trip(std::string name, double min_sinad, const std::vector<int16_t> &result, int rate) {
  const Fit fit = fit_tones(result, rate);
  SelftestCheck c;
  c.name = std::move(name);
  c.sinad_db = fit.sinad_db;
  c.min_sinad_db = min_sinad;
  c.gain_db = fit.gain_db;
  c.ok = fit.sinad_db >= min_sinad && std::abs(fit.gain_db) <= 0.5;
  return c;
}

namespace {

// 16 kHz -> 8 kHz -> codec -> 8 kHz -> 16 kHz, the phone path of every call.
SelftestCheck phone_path(const std::string &name, const Codec &codec, double min_sinad) {
  const auto tone = selftest_tones(kSessionRate, 1.0);
  const auto narrow = resample(tone, kSessionRate, 8000);
  return measure_round_trip(name, min_sinad, resample(codec(narrow), 8000, kSessionRate), kSessionRate);
}

}  // namespace

std::string SelftestReport::to_json() const {
  nlohmann::json checks_json = nlohmann::json::array();
  const auto round1 = [](double v) { return std::round(v * 10) / 10; };
  for (const auto &c : checks) {
    checks_json.push_back({{"name", c.name}, {"sinad_db", round1(c.sinad_db)},
                           {"min_sinad_db", c.min_sinad_db}, {"gain_db", round1(c.gain_db)}, {"ok", c.ok}});
  }
  return nlohmann::json{{"ok", ok}, {"checks", checks_json}}.dump();
}

SelftestReport run_selftest() {
  SelftestReport report;
  // μ-law and A-law hold ~38 dB SNR on a -6 dBFS signal; the resampler must not cost more
  // than a few dB of that. Resampling alone must be far cleaner than the codec.
  report.checks.push_back(phone_path("mulaw 16k->8k->mulaw->8k->16k", through_ulaw, 33));
  report.checks.push_back(phone_path("alaw 16k->8k->alaw->8k->16k", through_alaw, 33));
  {
    const auto tone = selftest_tones(8000, 1.0);
    report.checks.push_back(measure_round_trip("mulaw 8k codec only", 35, through_ulaw(tone), 8000));
  }
  {
    const auto tone = selftest_tones(kSessionRate, 1.0);
    report.checks.push_back(measure_round_trip("resample 16k->48k->16k", 60, resample(resample(tone, kSessionRate, 48000), 48000, kSessionRate), kSessionRate));
    report.checks.push_back(measure_round_trip("resample 16k->24k->8k->16k", 55,
        resample(resample(resample(tone, kSessionRate, 24000), 24000, 8000), 8000, kSessionRate), kSessionRate));
  }
  report.ok = true;
  for (const auto &c : report.checks) report.ok = report.ok && c.ok;
  return report;
}

}  // namespace parley::core
