// WebRTC's VAD, as Debian's libwebrtc-audio-processing (0.3) exposes it: the audio
// processing module with only voice detection on. The reference our own detector is
// measured against (tests/unit/vad/vad_comparison_test.cpp, bench/vad). Built only when
// pkg-config finds webrtc-audio-processing (PARLEY_HAVE_WEBRTC_APM).
//
// The module decides per 10 ms; a 20 ms frame is speech when either half is, which is what
// WebRTC's own 20 ms mode does with its hangover.
#pragma once

#include <webrtc/modules/audio_processing/include/audio_processing.h>
#include <webrtc/modules/interface/module_common_types.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>

namespace parley::audio::vad_testing {

class WebRtcReference {
 public:
  /// mode 0 (least aggressive) .. 3 (most), as WebRtcVad_set_mode numbers them.
  WebRtcReference(int sample_rate, int mode) : sample_rate_(sample_rate), apm_(webrtc::AudioProcessing::Create()) {
    static constexpr webrtc::VoiceDetection::Likelihood by_mode[] = {
        webrtc::VoiceDetection::kHighLikelihood, webrtc::VoiceDetection::kModerateLikelihood,
        webrtc::VoiceDetection::kLowLikelihood, webrtc::VoiceDetection::kVeryLowLikelihood};
    if (!apm_ || apm_->voice_detection()->Enable(true) != 0 ||
        apm_->voice_detection()->set_likelihood(by_mode[std::clamp(mode, 0, 3)]) != 0) {
      throw std::runtime_error("webrtc audio processing: cannot enable voice detection");
    }
  }

  /// One 20 ms frame.
  bool process(std::span<const int16_t> frame) {
    const size_t half = static_cast<size_t>(sample_rate_ / 100);
    bool voice = false;
    for (size_t offset = 0; offset + half <= frame.size(); offset += half) {
      webrtc::AudioFrame audio;
      audio.sample_rate_hz_ = sample_rate_;
      audio.num_channels_ = 1;
      audio.samples_per_channel_ = half;
      std::copy_n(frame.data() + offset, half, audio.data_);
      if (apm_->ProcessStream(&audio) != 0) throw std::runtime_error("webrtc audio processing: ProcessStream failed");
      voice = voice || apm_->voice_detection()->stream_has_voice();
    }
    return voice;
  }

 private:
  int sample_rate_;
  std::unique_ptr<webrtc::AudioProcessing> apm_;
};

}  // namespace parley::audio::vad_testing
