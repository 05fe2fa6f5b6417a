// `parley selftest`: round-trips test tones through the G.711 codecs and the resampler the
// way a phone call does (16 kHz session audio -> 8 kHz -> G.711 -> 8 kHz -> 16 kHz) and
// reports how much the path degraded them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace parley::core {

struct SelftestCheck {
  std::string name;
  double sinad_db = 0;      // signal to noise-and-distortion after the round trip
  double min_sinad_db = 0;  // the check passes at or above this
  double gain_db = 0;       // level change of the tones
  bool ok = false;
};

struct SelftestReport {
  std::vector<SelftestCheck> checks;
  bool ok = false;
  std::string to_json() const;
};

SelftestReport run_selftest();

/// The test signal: 440 Hz + 1 kHz tones, each at amplitude 8000, `seconds` long.
std::vector<int16_t> selftest_tones(int rate, double seconds);

/// Measures how well `result` still holds the test tones; the check passes when SINAD is at
/// least `min_sinad_db` and the level is within 0.5 dB.
SelftestCheck measure_round_trip(std::string name, double min_sinad_db,
                                 const std::vector<int16_t> &result, int rate);

}  // namespace parley::core
