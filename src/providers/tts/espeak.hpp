// The local TTS: espeak-ng through libespeak-ng, no network and no key.
//
//   {"provider":"espeak", "voice":"en-us", "rate":175, "pitch":50, "sample_rate":16000,
//    "data_path":"/usr/lib/x86_64-linux-gnu/espeak-ng-data"}
//
// voice: an espeak-ng voice name ("en-us", "en", "de", "gmw/en-US"; `espeak-ng --voices`
// lists them). rate: words per minute, 80..450. pitch: 0..100. sample_rate: the rate of the
// audio delivered (espeak-ng synthesises at 22050 Hz; the audio is resampled). data_path:
// the espeak-ng-data directory, or its parent; the library's default when absent.
//
// Each text chunk is one synthesis on the worker pool; its audio reaches on_audio buffer by
// buffer (50 ms of speech each) while espeak-ng is still synthesising, and its word timings
// follow the audio that contains them. libespeak-ng is process-global and not thread-safe,
// so every call into it, from any session, holds one process-wide mutex; a synthesis runs
// about 1000x faster than real time, so a chunk holds it for a millisecond or two.
#pragma once

#include <cstdint>

namespace parley::providers {

class Registry;

/// Registers the "espeak" TTS.
void register_espeak(Registry &registry);

/// Process-wide totals since start-up, for tests and benchmarks.
struct EspeakCounters {
  uint64_t chunks_started = 0;    // syntheses that reached libespeak-ng
  uint64_t chunks_cancelled = 0;  // of those, stopped by cancel()
  uint64_t samples_synthesised = 0;  // at espeak-ng's own rate (22050 Hz)
};
EspeakCounters espeak_counters() noexcept;

}  // namespace parley::providers
