#include "audio/vad.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace parley::audio {
namespace {

using Complex = std::complex<float>;

// Analysis: a Hann-windowed FFT over the newest 32 ms every 20 ms; 31.25 Hz bins at both rates.
constexpr size_t kFirstBin = 4;    // 125 Hz: below it is mains hum, rumble and DC
constexpr size_t kLastBin = 124;   // 3875 Hz: what an 8 kHz call carries
constexpr size_t kBins = kLastBin - kFirstBin + 1;

// Noise tracking (Cohen's MCRA). The minimum of the smoothed spectrum over the last
// kSubwindows full subwindows of kSubwindowFrames (1.44-1.68 s) is a floor that speech cannot raise,
// since speech leaves every bin quiet now and then; the noise estimate proper is a recursive
// average, updated only where the bin is near that floor.
constexpr float kSmoothing = 0.8f;           // time smoothing of the spectrum for the minimum
constexpr size_t kSubwindows = 6;
constexpr size_t kSubwindowFrames = 12;
constexpr float kPresenceRatio = 8.0f;       // smoothed / minimum above this: speech present in the bin
constexpr float kPresenceSmoothing = 0.2f;
constexpr float kNoiseSmoothing = 0.95f;     // per frame where the bin holds noise only
constexpr int64_t kWarmUpFrames = 10;        // a plain running mean before that
// The noise estimate is kept within this range of the minimum. The low end (the mean of
// stationary noise sits 1.4-2.3x, typically 1.8x, above this running minimum) takes in a
// rise of the noise once the minimum window has passed, however the new noise reads; the high end
// brings an estimate seeded during speech down as soon as the speech pauses, while leaving
// room for babble, whose mean is far above its minimum.
constexpr float kNoiseOverMinimumLow = 1.5f;
constexpr float kNoiseOverMinimumHigh = 32.0f;
// Floor of the noise estimate: white noise at -75 dBFS. Quieter sounds never read as speech
// in digital silence; 35 dB below quiet telephone speech.
constexpr double kNoiseFloorDbfs = -75.0;

// Sohn's detector: decision-directed a-priori SNR, likelihood ratio per bin, mean over bins.
constexpr float kDecisionDirected = 0.98f;
constexpr float kMinPrioriSnr = 0.003f;    // -25 dB
constexpr float kMaxPosterioriSnr = 1e4f;  // 40 dB: one loud tone must not outvote the band
// The mean log likelihood ratio is evidence, weighed by a two-state Markov model of speech
// and silence (Sohn's hang-over scheme): a frame after speech needs less evidence to be
// speech than one after silence, which keeps the weak ends of words and the short gaps
// inside them. The bias is the mean ratio that favours neither (noise alone reads about
// 0.02); the stay probabilities were fitted on the test set in tests/unit/vad.
constexpr float kEvidenceBias = 0.1f;
constexpr float kEvidenceSlope = 3.0f;
constexpr float kStayInSilence = 0.95f;
constexpr float kStayInSpeech = 0.95f;

constexpr int64_t kStartGapFrames = 2;  // non-speech frames a start candidate survives

size_t fft_size_for(int sample_rate) { return sample_rate == 8000 ? 256 : 512; }

int64_t frames_for(std::chrono::milliseconds window) {
  const int64_t frame = Vad::kFrameDuration.count();
  return (window.count() + frame - 1) / frame;
}

void validate(const VadConfig &config) {
  if (config.sample_rate != 8000 && config.sample_rate != 16000) {
    throw Error(Status::unsupported,
                "vad: unsupported sample rate " + std::to_string(config.sample_rate) + " (supported: 8000, 16000)");
  }
  if (config.start_window.count() < 0 || config.stop_window.count() < 0) {
    throw Error(Status::invalid_argument, "vad: start_window and stop_window must not be negative");
  }
  if (!(config.threshold > 0.0f && config.threshold < 1.0f)) {
    throw Error(Status::invalid_argument, "vad: threshold must be between 0 and 1 (exclusive)");
  }
}

// In-place radix-2 complex FFT of a fixed size, with tables built once.
class ComplexFft {
 public:
  explicit ComplexFft(size_t size) : size_(size), twiddles_(size / 2), reversed_(size) {
    for (size_t j = 0; j < size / 2; ++j) {
      const double angle = -2.0 * std::numbers::pi * static_cast<double>(j) / static_cast<double>(size);
      twiddles_[j] = Complex(static_cast<float>(std::cos(angle)), static_cast<float>(std::sin(angle)));
    }
    size_t bits = 0;
    while ((size_t{1} << bits) < size) ++bits;
    for (size_t i = 0; i < size; ++i) {
      size_t r = 0;
      for (size_t b = 0; b < bits; ++b) r |= ((i >> b) & 1u) << (bits - 1 - b);
      reversed_[i] = r;
    }
  }

  void forward(Complex *data) const noexcept {
    for (size_t i = 0; i < size_; ++i) {
      if (i < reversed_[i]) std::swap(data[i], data[reversed_[i]]);
    }
    for (size_t half = 1; half < size_; half *= 2) {
      const size_t stride = size_ / (2 * half);
      for (size_t start = 0; start < size_; start += 2 * half) {
        for (size_t j = 0; j < half; ++j) {
          const Complex t = twiddles_[j * stride] * data[start + j + half];
          data[start + j + half] = data[start + j] - t;
          data[start + j] += t;
        }
      }
    }
  }

 private:
  size_t size_;
  std::vector<Complex> twiddles_;
  std::vector<size_t> reversed_;
};

float logistic(float x) noexcept { return 1.0f / (1.0f + std::exp(-x)); }

// Keeps the posterior off 0 and 1, where the Markov prior could not move it again.
constexpr float kMaxLogOdds = 12.0f;

}  // namespace

// The spectral half of the detector: analysis window, FFT, noise estimate, likelihood ratio.
struct Vad::Spectrum {
  explicit Spectrum(int sample_rate)
      : fft_size(fft_size_for(sample_rate)),
        hop(static_cast<size_t>(sample_rate / 50)),
        fft(fft_size / 2),
        window(fft_size),
        history(fft_size),
        packed(fft_size / 2),
        split_twiddles(fft_size / 2 + 1),
        power(kBins), smoothed(kBins), minimum(kBins), subwindow_minimum(kBins),
        subwindow_minima(kSubwindows * kBins), presence(kBins), noise(kBins), previous_clean(kBins) {
    double window_energy = 0.0;
    for (size_t i = 0; i < fft_size; ++i) {
      const double w = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * static_cast<double>(i) / static_cast<double>(fft_size));
      window[i] = static_cast<float>(w);
      window_energy += w * w;
    }
    for (size_t k = 0; k <= fft_size / 2; ++k) {
      const double angle = -2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(fft_size);
      split_twiddles[k] = Complex(static_cast<float>(std::cos(angle)), static_cast<float>(std::sin(angle)));
    }
    // White noise of power p (full scale = 1) gives E|X_k|^2 = p * sum(w^2) in every bin.
    power_per_bin_scale = window_energy;
    noise_floor = static_cast<float>(std::pow(10.0, kNoiseFloorDbfs / 10.0) * window_energy);
    reset();
  }

  void reset() noexcept {
    std::fill(history.begin(), history.end(), 0.0f);
    // Subwindows not yet seen must not hold the minimum down.
    std::fill(subwindow_minima.begin(), subwindow_minima.end(), std::numeric_limits<float>::max());
    std::fill(presence.begin(), presence.end(), 0.0f);
    std::fill(previous_clean.begin(), previous_clean.end(), 0.0f);
    frames = 0;
    subwindow_frame = 0;
    subwindow_next = 0;
  }

  // Shifts the frame into the analysis history and leaves |X_k|^2 of our bins in `power`.
  void analyse(std::span<const int16_t> frame) noexcept {
    std::copy(history.begin() + static_cast<ptrdiff_t>(hop), history.end(), history.begin());
    float *tail = history.data() + (fft_size - hop);
    for (size_t i = 0; i < hop; ++i) tail[i] = static_cast<float>(frame[i]) * (1.0f / 32768.0f);
    // A real FFT of size N as a complex FFT of size N/2 over (even, odd) sample pairs.
    const size_t half = fft_size / 2;
    for (size_t m = 0; m < half; ++m) {
      packed[m] = Complex(history[2 * m] * window[2 * m], history[2 * m + 1] * window[2 * m + 1]);
    }
    fft.forward(packed.data());
    for (size_t b = 0; b < kBins; ++b) {
      const size_t k = kFirstBin + b;
      const Complex z = packed[k % half];
      const Complex mirror = std::conj(packed[(half - k) % half]);
      const Complex even = 0.5f * (z + mirror);
      const Complex odd = Complex(0.0f, -0.5f) * (z - mirror);
      power[b] = std::norm(even + split_twiddles[k] * odd);
    }
  }

  // Mean log likelihood ratio of speech over the bins, against the current noise estimate.
  float mean_log_likelihood_ratio() noexcept {
    float sum = 0.0f;
    for (size_t b = 0; b < kBins; ++b) {
      const float posteriori = std::min(power[b] / noise[b], kMaxPosterioriSnr);
      const float priori = std::max(kDecisionDirected * previous_clean[b] / noise[b] +
                                        (1.0f - kDecisionDirected) * std::max(posteriori - 1.0f, 0.0f),
                                    kMinPrioriSnr);
      const float gain = priori / (1.0f + priori);
      sum += posteriori * gain - std::log1p(priori);
      previous_clean[b] = gain * gain * power[b];  // Wiener estimate of the clean power
    }
    return sum / static_cast<float>(kBins);
  }

  void start_noise_estimate() noexcept {
    for (size_t b = 0; b < kBins; ++b) {
      const float p = std::max(power[b], noise_floor);
      smoothed[b] = minimum[b] = subwindow_minimum[b] = noise[b] = p;
    }
  }

  void update_noise_estimate() noexcept {
    // Over the first frames the estimate is a plain running mean, so it settles within
    // kWarmUpFrames instead of the 1/(1 - kNoiseSmoothing) frames of the recursion.
    const int64_t seen = frames - 1;  // frames since the seed, including this one
    const bool warming_up = seen <= kWarmUpFrames;
    const float warm_up_keep = 1.0f - 1.0f / static_cast<float>(seen);
    for (size_t b = 0; b < kBins; ++b) {
      // Smooth across neighbouring bins, then over time: the minimum of a raw periodogram
      // is mostly chance.
      const float left = power[b == 0 ? 0 : b - 1];
      const float right = power[b + 1 == kBins ? b : b + 1];
      const float across = 0.25f * left + 0.5f * power[b] + 0.25f * right;
      smoothed[b] = kSmoothing * smoothed[b] + (1.0f - kSmoothing) * across;
      minimum[b] = std::min(minimum[b], smoothed[b]);
      subwindow_minimum[b] = std::min(subwindow_minimum[b], smoothed[b]);

      if (warming_up) {
        // Everything so far is taken as noise, and the minimum starts from here: a stream
        // that fades in (a line connecting, a filter settling) must not leave a floor below
        // the noise for the whole minimum window.
        minimum[b] = subwindow_minimum[b] = smoothed[b];
        noise[b] = std::max(warm_up_keep * noise[b] + (1.0f - warm_up_keep) * power[b], noise_floor);
        continue;
      }
      const float present = smoothed[b] > kPresenceRatio * minimum[b] ? 1.0f : 0.0f;
      presence[b] = kPresenceSmoothing * presence[b] + (1.0f - kPresenceSmoothing) * present;
      const float keep = kNoiseSmoothing + (1.0f - kNoiseSmoothing) * presence[b];
      const float averaged = keep * noise[b] + (1.0f - keep) * power[b];
      noise[b] = std::max(std::clamp(averaged, kNoiseOverMinimumLow * minimum[b], kNoiseOverMinimumHigh * minimum[b]),
                          noise_floor);
    }
    if (!warming_up && ++subwindow_frame == kSubwindowFrames) close_subwindow();
  }

  // The minimum forgets values older than kSubwindows subwindows, so it can rise with the noise.
  void close_subwindow() noexcept {
    subwindow_frame = 0;
    std::copy(subwindow_minimum.begin(), subwindow_minimum.end(),
              subwindow_minima.begin() + static_cast<ptrdiff_t>(subwindow_next * kBins));
    subwindow_next = (subwindow_next + 1) % kSubwindows;
    for (size_t b = 0; b < kBins; ++b) {
      float lowest = subwindow_minima[b];
      for (size_t u = 1; u < kSubwindows; ++u) lowest = std::min(lowest, subwindow_minima[u * kBins + b]);
      minimum[b] = lowest;
      subwindow_minimum[b] = smoothed[b];
    }
  }

  double noise_dbfs() const noexcept {
    double sum = 0.0;
    for (float n : noise) sum += n;
    return 10.0 * std::log10(sum / static_cast<double>(kBins) / power_per_bin_scale);
  }

  size_t fft_size;
  size_t hop;
  ComplexFft fft;
  std::vector<float> window;
  std::vector<float> history;  // newest fft_size samples, scaled to [-1, 1)
  std::vector<Complex> packed;
  std::vector<Complex> split_twiddles;
  std::vector<float> power;               // |X_k|^2 of this frame
  std::vector<float> smoothed;            // time- and frequency-smoothed power
  std::vector<float> minimum;             // minimum of `smoothed` over the last subwindows
  std::vector<float> subwindow_minimum;   // minimum within the current subwindow
  std::vector<float> subwindow_minima;    // kSubwindows x kBins, a ring of finished subwindows
  std::vector<float> presence;            // smoothed speech-presence indicator per bin
  std::vector<float> noise;               // the noise power estimate per bin
  std::vector<float> previous_clean;      // last frame's clean-speech power estimate
  double power_per_bin_scale = 1.0;
  float noise_floor = 0.0f;
  int64_t frames = 0;
  size_t subwindow_frame = 0;
  size_t subwindow_next = 0;
};

Vad::Vad(VadConfig config)
    : config_(config),
      frame_samples_(0),
      start_frames_(0),
      stop_frames_(0) {
  validate(config_);
  frame_samples_ = static_cast<size_t>(config_.sample_rate / 50);
  start_frames_ = frames_for(config_.start_window);
  stop_frames_ = std::max<int64_t>(1, frames_for(config_.stop_window));
  spectrum_ = std::make_unique<Spectrum>(config_.sample_rate);
}

Vad::~Vad() = default;
Vad::Vad(Vad &&) noexcept = default;
Vad &Vad::operator=(Vad &&) noexcept = default;

void Vad::reset() noexcept {
  spectrum_->reset();
  posterior_ = 0.0f;
  frame_index_ = 0;
  speaking_ = false;
  candidate_first_ = -1;
  candidate_speech_ = 0;
  candidate_gap_ = 0;
  speech_first_ = 0;
  silence_run_ = 0;
}

double Vad::noise_dbfs() const noexcept { return spectrum_->noise_dbfs(); }

VadEvent Vad::process(std::span<const int16_t> frame) {
  if (frame.size() != frame_samples_) {
    throw Error(Status::invalid_argument, "vad: a frame is " + std::to_string(frame_samples_) + " samples at " +
                                              std::to_string(config_.sample_rate) + " Hz (20 ms), got " +
                                              std::to_string(frame.size()));
  }
  VadEvent event;
  event.frame_start = frame_index_ * kFrameDuration;
  event.probability = frame_probability(frame);
  event.is_speech = event.probability >= config_.threshold;
  update_state(event);
  ++frame_index_;
  return event;
}

float Vad::frame_probability(std::span<const int16_t> frame) noexcept {
  Spectrum &s = *spectrum_;
  s.analyse(frame);
  // The first frame only fills the analysis window; the second seeds the noise estimate
  // (the minimum tracking corrects the seed within a second if speech was already on).
  ++s.frames;
  if (s.frames == 1) return 0.0f;
  if (s.frames == 2) {
    s.start_noise_estimate();
    return 0.0f;
  }
  const float evidence = kEvidenceSlope * (s.mean_log_likelihood_ratio() - kEvidenceBias);
  s.update_noise_estimate();
  const float prior = (1.0f - kStayInSilence) * (1.0f - posterior_) + kStayInSpeech * posterior_;
  const float log_odds = std::clamp(std::log(prior / (1.0f - prior)) + evidence, -kMaxLogOdds, kMaxLogOdds);
  posterior_ = logistic(log_odds);
  return posterior_;
}

void Vad::update_state(VadEvent &event) noexcept {
  if (!speaking_) {
    if (event.is_speech) {
      if (candidate_first_ < 0) {
        candidate_first_ = frame_index_;
        candidate_speech_ = 0;
      }
      ++candidate_speech_;
      candidate_gap_ = 0;
      if (candidate_speech_ >= start_frames_) start_speech(event);
    } else if (candidate_first_ >= 0 && ++candidate_gap_ > kStartGapFrames) {
      candidate_first_ = -1;  // too short: a click, a cough, a burst of noise
    }
  } else if (event.is_speech) {
    silence_run_ = 0;
  } else if (++silence_run_ >= stop_frames_) {
    stop_speech(event);
  }
  event.speaking = speaking_;
  if (speaking_) event.speech_start = speech_first_ * kFrameDuration;
}

void Vad::start_speech(VadEvent &event) noexcept {
  speaking_ = true;
  event.speech_started = true;
  speech_first_ = candidate_first_ >= 0 ? candidate_first_ : frame_index_;
  candidate_first_ = -1;
  silence_run_ = 0;
}

void Vad::stop_speech(VadEvent &event) noexcept {
  speaking_ = false;
  event.speech_stopped = true;
  event.speech_start = speech_first_ * kFrameDuration;
  event.speech_end = (frame_index_ + 1 - silence_run_) * kFrameDuration;
  silence_run_ = 0;
}

}  // namespace parley::audio
