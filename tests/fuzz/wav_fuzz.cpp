// Fuzzes the WAV reader. Any input must either parse into a self-consistent view or throw
// parley::Error; anything else (a crash, a sanitizer report, a broken invariant) is a bug.
// A parsed file must also survive a round trip through the writer unchanged.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "audio/wav.hpp"
#include "common/error.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

void check_view(std::span<const uint8_t> file, const parley::audio::WavView &view) {
  using parley::audio::WavEncoding;
  const parley::audio::WavFormat &format = view.format;
  require(format.channels == 1 || format.channels == 2);
  require(format.sample_rate > 0);
  require(format.encoding == WavEncoding::pcm16 || format.encoding == WavEncoding::ulaw ||
          format.encoding == WavEncoding::alaw);
  // The data lies inside the input and holds whole frames.
  require(view.data.empty() || (view.data.data() >= file.data() && view.data.data() + view.data.size() <= file.data() + file.size()));
  require(view.data.size() % format.block_align() == 0);

  const std::vector<int16_t> samples = parley::audio::decode_wav_samples(view);
  require(samples.size() == view.frames() * format.channels);

  const std::vector<uint8_t> rewritten = parley::audio::wav_bytes(format, view.data);
  const parley::audio::WavView reparsed = parley::audio::parse_wav(rewritten);
  require(reparsed.format == format);
  require(reparsed.data.size() == view.data.size());
  require(std::equal(reparsed.data.begin(), reparsed.data.end(), view.data.begin()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::span<const uint8_t> file(data, size);
  try {
    check_view(file, parley::audio::parse_wav(file));
  } catch (const parley::Error &) {
    // Rejecting malformed input is the reader doing its job.
  }
  return 0;
}
