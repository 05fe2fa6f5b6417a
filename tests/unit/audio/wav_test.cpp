#include "audio/wav.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "audio/g711.hpp"
#include "audio_test_support.hpp"

namespace parley::audio {
namespace {

using testing::expect_error;
using testing::TempPath;

// ---- a small RIFF builder, so each hostile file states exactly what is wrong with it ----

using Bytes = std::vector<uint8_t>;

void put16(Bytes &bytes, uint32_t value) {
  bytes.push_back(static_cast<uint8_t>(value & 0xFF));
  bytes.push_back(static_cast<uint8_t>((value >> 8) & 0xFF));
}
void put32(Bytes &bytes, uint32_t value) {
  put16(bytes, value & 0xFFFF);
  put16(bytes, value >> 16);
}
void put_id(Bytes &bytes, const std::string &id) { bytes.insert(bytes.end(), id.begin(), id.end()); }

struct Chunk {
  std::string id;
  Bytes body;
  std::optional<uint32_t> declared_size = std::nullopt;  // default: the body's size
};

struct Riff {
  std::vector<Chunk> chunks;
  std::string magic = "RIFF";
  std::string form = "WAVE";
  std::optional<uint32_t> declared_size = std::nullopt;
};

Bytes build(const Riff &riff) {
  Bytes body;
  put_id(body, riff.form);
  for (const Chunk &chunk : riff.chunks) {
    put_id(body, chunk.id);
    put32(body, chunk.declared_size.value_or(static_cast<uint32_t>(chunk.body.size())));
    body.insert(body.end(), chunk.body.begin(), chunk.body.end());
    if (chunk.body.size() % 2 != 0) body.push_back(0);
  }
  Bytes file;
  put_id(file, riff.magic);
  put32(file, riff.declared_size.value_or(static_cast<uint32_t>(body.size())));
  file.insert(file.end(), body.begin(), body.end());
  return file;
}

Bytes fmt_body(uint16_t tag, uint16_t channels, uint32_t rate, uint16_t block_align, uint16_t bits) {
  Bytes body;
  put16(body, tag);
  put16(body, channels);
  put32(body, rate);
  put32(body, rate * block_align);
  put16(body, block_align);
  put16(body, bits);
  return body;
}

Bytes pcm16_fmt(uint16_t channels = 1, uint32_t rate = 16000) {
  return fmt_body(1, channels, rate, static_cast<uint16_t>(2 * channels), 16);
}

Bytes extensible_fmt(uint16_t subformat, uint16_t channels, uint16_t bits, bool standard_guid = true) {
  Bytes body = fmt_body(0xFFFE, channels, 8000, static_cast<uint16_t>(channels * bits / 8), bits);
  put16(body, 22);               // extension size
  put16(body, bits);             // valid bits
  put32(body, channels == 1 ? 4 : 3);  // channel mask
  put16(body, subformat);
  const uint8_t tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
  body.insert(body.end(), std::begin(tail), std::end(tail));
  if (!standard_guid) body.back() ^= 0xFF;
  return body;
}

Bytes pcm_data(std::initializer_list<int16_t> samples) {
  Bytes body;
  for (int16_t sample : samples) put16(body, static_cast<uint16_t>(sample));
  return body;
}

// ---- valid files ----

TEST(audio_wav, Pcm16MonoRoundTrip) {
  const std::vector<int16_t> samples = testing::tone(440.0, 16000, 1601, 12000.0);
  const Bytes file = wav_bytes_pcm16(samples, 1, 16000);
  const WavAudio audio = read_wav(file);
  EXPECT_EQ(audio.format, (WavFormat{WavEncoding::pcm16, 1, 16000}));
  EXPECT_EQ(audio.samples, samples);
  EXPECT_EQ(audio.frames(), 1601u);
}

TEST(audio_wav, Pcm16StereoRoundTrip) {
  std::vector<int16_t> interleaved;
  for (int i = 0; i < 500; ++i) {
    interleaved.push_back(static_cast<int16_t>(i));
    interleaved.push_back(static_cast<int16_t>(-i));
  }
  const WavAudio audio = read_wav(wav_bytes_pcm16(interleaved, 2, 48000));
  EXPECT_EQ(audio.format, (WavFormat{WavEncoding::pcm16, 2, 48000}));
  EXPECT_EQ(audio.samples, interleaved);
  EXPECT_EQ(audio.frames(), 500u);
}

TEST(audio_wav, G711RoundTripKeepsCodesAndDecodes) {
  const std::vector<int16_t> samples = testing::tone(1000.0, 8000, 801, 9000.0);  // odd: needs a pad byte
  for (WavEncoding encoding : {WavEncoding::ulaw, WavEncoding::alaw}) {
    Bytes codes(samples.size());
    encoding == WavEncoding::ulaw ? ulaw_encode(samples, codes) : alaw_encode(samples, codes);
    const Bytes file = wav_bytes(WavFormat{encoding, 1, 8000}, codes);
    EXPECT_EQ(file.size() % 2, 0u) << "odd data is padded";

    const WavView view = parse_wav(file);
    EXPECT_EQ(view.format, (WavFormat{encoding, 1, 8000}));
    EXPECT_EQ(Bytes(view.data.begin(), view.data.end()), codes);

    std::vector<int16_t> expected(codes.size());
    encoding == WavEncoding::ulaw ? ulaw_decode(codes, expected) : alaw_decode(codes, expected);
    EXPECT_EQ(read_wav(file).samples, expected);
  }
}

TEST(audio_wav, WritesCanonicalHeaders) {
  const Bytes pcm = wav_bytes_pcm16(std::vector<int16_t>{1, 2, 3}, 1, 16000);
  ASSERT_EQ(pcm.size(), 44u + 6u);
  EXPECT_EQ(std::string(pcm.begin(), pcm.begin() + 4), "RIFF");
  EXPECT_EQ(pcm[4] | pcm[5] << 8, 36 + 6);  // RIFF size
  EXPECT_EQ(std::string(pcm.begin() + 8, pcm.begin() + 16), "WAVEfmt ");
  EXPECT_EQ(pcm[16], 16);                     // fmt size
  EXPECT_EQ(pcm[20], 1);                      // PCM
  EXPECT_EQ(pcm[28] | pcm[29] << 8, 32000);   // byte rate (low 16 bits)
  EXPECT_EQ(pcm[32], 2);                      // block align
  EXPECT_EQ(pcm[34], 16);                     // bits
  EXPECT_EQ(std::string(pcm.begin() + 36, pcm.begin() + 40), "data");
  EXPECT_EQ(pcm[40], 6);

  const Bytes ulaw = wav_bytes(WavFormat{WavEncoding::ulaw, 2, 8000}, Bytes{0xFF, 0xFF, 0x7F, 0x7F});
  ASSERT_EQ(ulaw.size(), 58u + 4u);
  EXPECT_EQ(ulaw[16], 18);  // non-PCM fmt carries an extension size
  EXPECT_EQ(ulaw[20], 7);
  EXPECT_EQ(std::string(ulaw.begin() + 38, ulaw.begin() + 42), "fact");
  EXPECT_EQ(ulaw[46], 2);  // frames
  EXPECT_EQ(std::string(ulaw.begin() + 50, ulaw.begin() + 54), "data");
}

TEST(audio_wav, SkipsUnknownChunksIncludingOddSizedOnes) {
  const Bytes file = build({{{"LIST", Bytes(7, 'x')},
                             {"fmt ", pcm16_fmt()},
                             {"junk", Bytes(1, 0)},
                             {"data", pcm_data({5, -5})},
                             {"cue ", Bytes(3, 1)}}});
  const WavAudio audio = read_wav(file);
  EXPECT_EQ(audio.samples, (std::vector<int16_t>{5, -5}));
}

TEST(audio_wav, AcceptsDataBeforeFmt) {
  const WavAudio audio = read_wav(build({{{"data", pcm_data({1, 2})}, {"fmt ", pcm16_fmt()}}}));
  EXPECT_EQ(audio.samples, (std::vector<int16_t>{1, 2}));
}

TEST(audio_wav, AcceptsExtensibleWithPcmAndG711Subformats) {
  const WavAudio pcm = read_wav(build({{{"fmt ", extensible_fmt(1, 2, 16)}, {"data", pcm_data({1, 2, 3, 4})}}}));
  EXPECT_EQ(pcm.format, (WavFormat{WavEncoding::pcm16, 2, 8000}));
  EXPECT_EQ(pcm.samples, (std::vector<int16_t>{1, 2, 3, 4}));

  const WavView ulaw = parse_wav(build({{{"fmt ", extensible_fmt(7, 1, 8)}, {"data", Bytes{0xFF, 0x80}}}}));
  EXPECT_EQ(ulaw.format.encoding, WavEncoding::ulaw);
  const WavView alaw = parse_wav(build({{{"fmt ", extensible_fmt(6, 1, 8)}, {"data", Bytes{0xD5}}}}));
  EXPECT_EQ(alaw.format.encoding, WavEncoding::alaw);
}

TEST(audio_wav, TrimsAPartialTrailingFrame) {
  Bytes data = pcm_data({1, 2, 3, 4});
  data.resize(7);  // stereo PCM16: 1 frame and 3 stray bytes
  const WavView view = parse_wav(build({{{"fmt ", pcm16_fmt(2)}, {"data", data}}}));
  EXPECT_EQ(view.frames(), 1u);
  EXPECT_EQ(view.data.size(), 4u);
}

TEST(audio_wav, UnknownLengthMeansUpToTheEndOfFile) {
  Bytes file = build({{{"fmt ", pcm16_fmt()}, {"data", pcm_data({7, 8, 9}), 0xFFFFFFFF}}, "RIFF", "WAVE", 0xFFFFFFFF});
  EXPECT_EQ(read_wav(file).samples, (std::vector<int16_t>{7, 8, 9}));
}

TEST(audio_wav, IgnoresBytesAfterTheRiffChunkAndAMissingFinalPad) {
  Bytes file = build({{{"fmt ", pcm16_fmt()}, {"data", pcm_data({1})}}});
  file.insert(file.end(), {'j', 'u', 'n', 'k', 0, 1, 2});
  EXPECT_EQ(read_wav(file).samples, (std::vector<int16_t>{1}));

  Bytes unpadded = build({{{"fmt ", fmt_body(7, 1, 8000, 1, 8)}, {"data", Bytes{1, 2, 3}}}});
  unpadded.pop_back();  // drop the pad byte and shrink RIFF size to match
  unpadded[4] = static_cast<uint8_t>(unpadded[4] - 1);
  EXPECT_EQ(parse_wav(unpadded).frames(), 3u);
}

TEST(audio_wav, EmptyDataIsZeroFrames) {
  const WavAudio audio = read_wav(build({{{"fmt ", pcm16_fmt()}, {"data", {}}}}));
  EXPECT_TRUE(audio.samples.empty());
}

// ---- hostile files: each must fail with the right status and a message naming the fault ----

struct Hostile {
  const char *name;
  Bytes file;
  Status status;
  const char *words;
};

std::vector<Hostile> hostile_files() {
  const Chunk fmt{"fmt ", pcm16_fmt()};
  const Chunk data{"data", pcm_data({1, 2})};
  Bytes riff_overrun = build({{fmt, data}});
  riff_overrun[4] = static_cast<uint8_t>(riff_overrun[4] + 2);
  Bytes truncated_header = build({{fmt, data}});
  truncated_header.insert(truncated_header.end(), {'L', 'I', 'S'});
  truncated_header[4] = static_cast<uint8_t>(truncated_header[4] + 3);

  return {
      {"empty", {}, Status::format, "too short for a RIFF header"},
      {"eleven bytes", Bytes{'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V'}, Status::format, "file is 11 bytes"},
      {"not RIFF", build({{fmt, data}, "JUNK"}), Status::format, "not a RIFF file (starts with 'JUNK')"},
      {"binary magic", Bytes{0, 1, 2, 3, 0, 0, 0, 0, 'W', 'A', 'V', 'E'}, Status::format, "'\\x00\\x01\\x02\\x03'"},
      {"big-endian RIFX", build({{fmt, data}, "RIFX"}), Status::unsupported, "RIFX"},
      {"RF64", build({{fmt, data}, "RF64"}), Status::unsupported, "RF64"},
      {"not WAVE", build({{fmt, data}, "RIFF", "AVI "}), Status::format, "form type is 'AVI ', not 'WAVE'"},
      {"RIFF size overruns", riff_overrun, Status::format, "RIFF size 42 overruns the file (48 bytes)"},
      {"no fmt", build({{data}}), Status::format, "no 'fmt ' chunk"},
      {"no data", build({{fmt, {"LIST", Bytes(4, 0)}}}), Status::format, "no 'data' chunk"},
      {"fmt too small", build({{{"fmt ", Bytes(12, 0)}, data}}), Status::format,
       "'fmt ' chunk size 12 is smaller than 16"},
      {"chunk overruns", build({{fmt, {"LIST", Bytes(4, 0), 4000}, data}}), Status::format,
       "chunk 'LIST' at offset 36 declares 4000 bytes but only"},
      {"data overruns", build({{fmt, {"data", pcm_data({1, 2}), 1000}}}), Status::format,
       "chunk 'data' at offset 36 declares 1000 bytes but only 4 remain"},
      {"fmt overruns", build({{{"fmt ", pcm16_fmt(), 0x7FFFFFFF}}}), Status::format, "chunk 'fmt ' at offset 12"},
      {"truncated chunk header", truncated_header, Status::format, "truncated chunk header at offset 48 (3 bytes left)"},
      {"zero channels", build({{{"fmt ", fmt_body(1, 0, 16000, 0, 16)}, data}}), Status::format, "zero channels"},
      {"three channels", build({{{"fmt ", fmt_body(1, 3, 16000, 6, 16)}, data}}), Status::unsupported,
       "3 channels (only mono and stereo are supported)"},
      {"MP3 tag", build({{{"fmt ", fmt_body(0x55, 1, 16000, 1, 0)}, data}}), Status::unsupported,
       "unsupported format tag 0x0055"},
      {"float tag", build({{{"fmt ", fmt_body(3, 1, 16000, 4, 32)}, data}}), Status::unsupported, "IEEE float"},
      {"8-bit PCM", build({{{"fmt ", fmt_body(1, 1, 8000, 1, 8)}, data}}), Status::unsupported, "8-bit PCM"},
      {"24-bit PCM", build({{{"fmt ", fmt_body(1, 1, 8000, 3, 24)}, data}}), Status::unsupported, "24-bit PCM"},
      {"16-bit mu-law", build({{{"fmt ", fmt_body(7, 1, 8000, 2, 16)}, data}}), Status::format,
       "mu-law with 16 bits per sample"},
      {"block align mismatch", build({{{"fmt ", fmt_body(1, 2, 16000, 3, 16)}, data}}), Status::format,
       "block align 3 does not match 2 channel(s) of 16-bit samples (4)"},
      {"sample rate zero", build({{{"fmt ", fmt_body(1, 1, 0, 2, 16)}, data}}), Status::format, "sample rate 0"},
      {"two fmt chunks", build({{fmt, fmt, data}}), Status::format, "more than one 'fmt ' chunk"},
      {"two data chunks", build({{fmt, data, data}}), Status::format, "more than one 'data' chunk"},
      {"extensible too small", build({{{"fmt ", fmt_body(0xFFFE, 1, 8000, 2, 16)}, data}}), Status::format,
       "WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk size 16 is smaller than 40"},
      {"extensible foreign GUID", build({{{"fmt ", extensible_fmt(1, 1, 16, false)}, data}}), Status::unsupported,
       "KSDATAFORMAT GUID"},
      {"extensible float", build({{{"fmt ", extensible_fmt(3, 1, 32)}, data}}), Status::unsupported, "IEEE float"},
  };
}

TEST(audio_wav, RejectsHostileFilesNamingTheProblem) {
  for (const Hostile &hostile : hostile_files()) {
    SCOPED_TRACE(hostile.name);
    expect_error([&] { parse_wav(hostile.file); }, hostile.status, hostile.words);
  }
}

TEST(audio_wav, WriterRejectsBadInput) {
  expect_error([] { wav_bytes(WavFormat{WavEncoding::pcm16, 3, 8000}, {}); }, Status::invalid_argument, "3 channels");
  expect_error([] { wav_bytes(WavFormat{WavEncoding::pcm16, 1, 0}, {}); }, Status::invalid_argument, "sample rate 0");
  expect_error([] { wav_bytes(WavFormat{WavEncoding::pcm16, 2, 8000}, Bytes(6)); }, Status::invalid_argument,
               "6 bytes is not a whole number of 4-byte frames");
}

// ---- files ----

TEST(audio_wav, ReadFileReportsTheMissingPath) {
  expect_error([] { read_wav_file("/nonexistent/dir/call.wav"); }, Status::io, "cannot open '/nonexistent/dir/call.wav'");
}

TEST(audio_wav, WriteThenReadFile) {
  TempPath path("write_then_read.wav");
  const std::vector<int16_t> samples = testing::tone(300.0, 8000, 999, 5000.0);
  Bytes codes(samples.size());
  alaw_encode(samples, codes);
  write_wav_file(path.str(), WavFormat{WavEncoding::alaw, 1, 8000}, codes);
  const WavAudio audio = read_wav_file(path.str());
  EXPECT_EQ(audio.format, (WavFormat{WavEncoding::alaw, 1, 8000}));
  ASSERT_EQ(audio.samples.size(), samples.size());
  EXPECT_EQ(audio.samples[500], alaw_decode(codes[500]));
}

TEST(audio_wav, StreamingWriterPatchesSizesAtClose) {
  TempPath path("streaming.wav");
  std::vector<int16_t> expected;
  {
    WavFileWriter writer(path.str(), WavFormat{WavEncoding::pcm16, 2, 16000});
    for (int chunk = 0; chunk < 50; ++chunk) {
      std::vector<int16_t> frames(640);
      for (size_t i = 0; i < frames.size(); ++i) frames[i] = static_cast<int16_t>(chunk * 1000 + static_cast<int>(i));
      writer.write_pcm16(frames);
      expected.insert(expected.end(), frames.begin(), frames.end());
    }
    EXPECT_EQ(writer.frames_written(), 50u * 320u);
    writer.close();
    writer.close();  // idempotent
    expect_error([&] { writer.write_pcm16(expected); }, Status::state, "closed");
  }
  const WavAudio audio = read_wav_file(path.str());
  EXPECT_EQ(audio.format, (WavFormat{WavEncoding::pcm16, 2, 16000}));
  EXPECT_EQ(audio.samples, expected);
}

TEST(audio_wav, StreamingWriterHeaderIsValidMidStream) {
  TempPath path("mid_stream.wav");
  WavFileWriter writer(path.str(), WavFormat{WavEncoding::ulaw, 1, 8000});
  writer.write(Bytes(161, ulaw_silence));
  writer.update_header();
  EXPECT_EQ(read_wav_file(path.str()).frames(), 161u) << "readable before close (pad byte still missing)";
  writer.write(Bytes(100, 0x80));
  writer.close();
  const WavAudio audio = read_wav_file(path.str());
  EXPECT_EQ(audio.frames(), 261u);
  EXPECT_EQ(audio.samples.back(), ulaw_decode(uint8_t{0x80}));
  EXPECT_EQ(std::filesystem::file_size(path.str()) % 2, 0u);
}

TEST(audio_wav, StreamingWriterRejectsMisuse) {
  TempPath path("misuse.wav");
  WavFileWriter ulaw(path.str(), WavFormat{WavEncoding::ulaw, 2, 8000});
  expect_error([&] { ulaw.write(Bytes(3)); }, Status::invalid_argument, "3 bytes is not a whole number of 2-byte frames");
  expect_error([&] { ulaw.write_pcm16(std::vector<int16_t>(2)); }, Status::invalid_argument,
               "PCM16 samples written to a mu-law file");
  expect_error([] { WavFileWriter("/nonexistent/dir/x.wav", WavFormat{}); }, Status::io, "cannot create");
}

TEST(audio_wav, DestructorClosesAnUnclosedWriter) {
  TempPath path("destructor.wav");
  {
    WavFileWriter writer(path.str(), WavFormat{WavEncoding::pcm16, 1, 8000});
    writer.write_pcm16(std::vector<int16_t>{1, 2, 3});
  }
  EXPECT_EQ(read_wav_file(path.str()).samples, (std::vector<int16_t>{1, 2, 3}));
}

}  // namespace
}  // namespace parley::audio
