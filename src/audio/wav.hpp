// WAV (RIFF/WAVE) files holding PCM16, μ-law or A-law audio, mono or stereo.
//
// Reading: parse_wav() validates a whole file held in memory and points at its sample bytes
// without copying; read_wav()/read_wav_file() also decode to PCM16. Accepted: format tags
// PCM (1, 16-bit only), A-law (6), μ-law (7) and WAVE_FORMAT_EXTENSIBLE with one of those as
// subformat; unknown chunks (LIST, fact, cue ...) are skipped, odd-sized chunks are padded.
// A malformed file throws Error(format) and an unsupported one Error(unsupported), with a
// message naming the problem. Leniencies, all deliberate (docs/audio.md):
//   - a 'data' chunk whose size is not a whole number of frames is trimmed to whole frames;
//   - a size of 0xFFFFFFFF on RIFF or 'data' (written by streaming encoders that cannot seek
//     back) means "up to the end of the file";
//   - bytes after the end of the RIFF chunk and a missing final pad byte are ignored;
//   - the byte-rate field is not checked (it is derived, and often wrong).
//
// Writing: wav_bytes*() build a complete file in memory; WavFileWriter streams to disk and
// patches the header sizes at close(), so long recordings never sit in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

namespace parley::audio {

enum class WavEncoding { pcm16, ulaw, alaw };

/// Short name for messages: "PCM16", "mu-law", "A-law".
const char *wav_encoding_name(WavEncoding encoding) noexcept;

struct WavFormat {
  WavEncoding encoding = WavEncoding::pcm16;
  uint16_t channels = 1;  ///< 1 or 2; stereo samples are interleaved left, right
  uint32_t sample_rate = 16000;

  uint16_t bytes_per_sample() const noexcept { return encoding == WavEncoding::pcm16 ? 2 : 1; }
  uint16_t block_align() const noexcept { return static_cast<uint16_t>(channels * bytes_per_sample()); }
  friend bool operator==(const WavFormat &, const WavFormat &) = default;
};

/// A validated file: its format and its sample bytes (whole frames), pointing into the
/// buffer given to parse_wav().
struct WavView {
  WavFormat format;
  std::span<const uint8_t> data;
  size_t frames() const noexcept { return data.size() / format.block_align(); }
};

/// A decoded file: interleaved PCM16 samples whatever the file's encoding.
struct WavAudio {
  WavFormat format;
  std::vector<int16_t> samples;
  size_t frames() const noexcept { return samples.size() / format.channels; }
};

WavView parse_wav(std::span<const uint8_t> file);
std::vector<int16_t> decode_wav_samples(const WavView &view);
WavAudio read_wav(std::span<const uint8_t> file);
/// Reads and decodes a file; Error(io) when it cannot be read.
WavAudio read_wav_file(const std::string &path);

/// A complete WAV file for `data` already in the format's encoding (little-endian PCM16
/// bytes, or G.711 codes). Throws Error(invalid_argument) for a bad format or a partial frame.
std::vector<uint8_t> wav_bytes(const WavFormat &format, std::span<const uint8_t> data);
/// A complete PCM16 WAV file from interleaved samples.
std::vector<uint8_t> wav_bytes_pcm16(std::span<const int16_t> samples, uint16_t channels, uint32_t sample_rate);
/// Writes wav_bytes(format, data) to `path`; Error(io) on failure.
void write_wav_file(const std::string &path, const WavFormat &format, std::span<const uint8_t> data);

/// Streams a WAV file to disk. The header is written first with the sizes seen so far and
/// rewritten by update_header() and close(); a crash between those leaves a file whose
/// header understates the data but that is otherwise valid.
class WavFileWriter {
 public:
  /// Creates or truncates `path`. Error(io) when it cannot; Error(invalid_argument) for a
  /// bad format.
  WavFileWriter(const std::string &path, const WavFormat &format);
  /// Closes the file if close() was not called, swallowing errors: call close() to see them.
  ~WavFileWriter();
  WavFileWriter(const WavFileWriter &) = delete;
  WavFileWriter &operator=(const WavFileWriter &) = delete;

  /// Appends whole frames in the file's encoding. Error(invalid_argument) for a partial
  /// frame, Error(full) when the file would pass the 4 GiB RIFF limit, Error(io) on a
  /// write error, Error(state) after close().
  void write(std::span<const uint8_t> data);
  /// Appends interleaved PCM16 samples to a PCM16 file.
  void write_pcm16(std::span<const int16_t> samples);
  /// Rewrites the header with the current sizes and flushes to the OS.
  void update_header();
  /// Pads, patches the header and closes; idempotent.
  void close();

  const WavFormat &format() const noexcept { return format_; }
  uint64_t frames_written() const noexcept { return data_bytes_ / format_.block_align(); }
  bool is_open() const noexcept { return file_ != nullptr; }

 private:
  void write_raw(const void *bytes, size_t count);
  void require_open() const;

  std::string path_;
  WavFormat format_;
  std::FILE *file_ = nullptr;
  uint64_t data_bytes_ = 0;
  bool padded_ = false;  // the pad byte after odd-sized data is written (only at close)
};

}  // namespace parley::audio
