#include "audio/wav.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include "audio/g711.hpp"
#include "audio/pcm.hpp"
#include "common/error.hpp"

namespace parley::audio {
namespace {

constexpr uint16_t tag_pcm = 0x0001;
constexpr uint16_t tag_float = 0x0003;
constexpr uint16_t tag_alaw = 0x0006;
constexpr uint16_t tag_ulaw = 0x0007;
constexpr uint16_t tag_extensible = 0xFFFE;

constexpr size_t riff_header_size = 12;  // "RIFF", size, "WAVE"
constexpr size_t chunk_header_size = 8;  // id, size
constexpr uint32_t size_unknown = 0xFFFFFFFF;  // streaming writers' "until end of file"
constexpr size_t plain_fmt_size = 16;
constexpr size_t extensible_fmt_size = 40;
constexpr size_t extensible_extra_size = 22;

// KSDATAFORMAT_SUBTYPE_xxx GUIDs are {0000tttt-0000-0010-8000-00aa00389b71}: the format tag
// in the first two bytes (little-endian), then this fixed tail.
constexpr std::array<uint8_t, 14> subformat_guid_tail{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                                      0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

uint16_t le16(const uint8_t *p) noexcept { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t *p) noexcept {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

bool has_id(const uint8_t *p, const char (&id)[5]) noexcept { return std::memcmp(p, id, 4) == 0; }

// A four-character code for messages: 'LIST', or hex escapes for non-printable bytes.
std::string quote_id(const uint8_t *p) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string text = "'";
  for (int i = 0; i < 4; ++i) {
    const uint8_t c = p[i];
    if (c >= 0x20 && c < 0x7F) {
      text += static_cast<char>(c);
    } else {
      text += "\\x";
      text += hex[c >> 4];
      text += hex[c & 0xF];
    }
  }
  return text + "'";
}

std::string hex16(uint16_t value) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string text = "0x";
  for (int shift = 12; shift >= 0; shift -= 4) text += hex[(value >> shift) & 0xF];
  return text;
}

[[noreturn]] void malformed(const std::string &problem) { throw Error(Status::format, "wav: " + problem); }
[[noreturn]] void unsupported(const std::string &problem) { throw Error(Status::unsupported, "wav: " + problem); }

// ---- reading ----

struct Chunk {
  const uint8_t *id;
  size_t offset;  // of the chunk header in the file
  std::span<const uint8_t> body;
};

// Resolves the extensible subformat GUID to the plain format tag it stands for.
uint16_t extensible_subformat(std::span<const uint8_t> fmt) {
  if (fmt.size() < extensible_fmt_size) {
    malformed("WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk size " + std::to_string(fmt.size()) + " is smaller than " +
              std::to_string(extensible_fmt_size));
  }
  const uint16_t extra_size = le16(&fmt[16]);
  if (extra_size < extensible_extra_size) {
    malformed("WAVE_FORMAT_EXTENSIBLE extension size " + std::to_string(extra_size) + " is smaller than " +
              std::to_string(extensible_extra_size));
  }
  const uint16_t valid_bits = le16(&fmt[18]);
  const uint16_t container_bits = le16(&fmt[14]);
  if (valid_bits > container_bits) {
    malformed("WAVE_FORMAT_EXTENSIBLE valid bits " + std::to_string(valid_bits) + " exceed the " +
              std::to_string(container_bits) + "-bit container");
  }
  if (std::memcmp(&fmt[26], subformat_guid_tail.data(), subformat_guid_tail.size()) != 0) {
    unsupported("WAVE_FORMAT_EXTENSIBLE subformat is not a standard KSDATAFORMAT GUID");
  }
  return le16(&fmt[24]);
}

WavEncoding encoding_of(uint16_t tag, uint16_t bits_per_sample) {
  switch (tag) {
    case tag_pcm:
      if (bits_per_sample != 16) unsupported(std::to_string(bits_per_sample) + "-bit PCM is not supported (16-bit only)");
      return WavEncoding::pcm16;
    case tag_ulaw:
    case tag_alaw:
      if (bits_per_sample != 8) {
        malformed(std::string(tag == tag_ulaw ? "mu-law" : "A-law") + " with " + std::to_string(bits_per_sample) +
                  " bits per sample (G.711 is 8-bit)");
      }
      return tag == tag_ulaw ? WavEncoding::ulaw : WavEncoding::alaw;
    case tag_float:
      unsupported("unsupported format tag 0x0003 (IEEE float); supported: PCM 1, A-law 6, mu-law 7, extensible 0xFFFE");
    default:
      unsupported("unsupported format tag " + hex16(tag) + "; supported: PCM 1, A-law 6, mu-law 7, extensible 0xFFFE");
  }
}

WavFormat parse_fmt(std::span<const uint8_t> fmt) {
  if (fmt.size() < plain_fmt_size) {
    malformed("'fmt ' chunk size " + std::to_string(fmt.size()) + " is smaller than " + std::to_string(plain_fmt_size));
  }
  uint16_t tag = le16(&fmt[0]);
  const uint16_t channels = le16(&fmt[2]);
  const uint32_t sample_rate = le32(&fmt[4]);
  const uint16_t block_align = le16(&fmt[12]);
  const uint16_t bits_per_sample = le16(&fmt[14]);
  if (tag == tag_extensible) tag = extensible_subformat(fmt);

  WavFormat format;
  format.encoding = encoding_of(tag, bits_per_sample);
  if (channels == 0) malformed("zero channels");
  if (channels > 2) unsupported(std::to_string(channels) + " channels (only mono and stereo are supported)");
  format.channels = channels;
  if (sample_rate == 0) malformed("sample rate 0");
  format.sample_rate = sample_rate;
  if (block_align != format.block_align()) {
    malformed("block align " + std::to_string(block_align) + " does not match " + std::to_string(channels) +
              " channel(s) of " + std::to_string(bits_per_sample) + "-bit samples (" +
              std::to_string(format.block_align()) + ")");
  }
  return format;
}

// Walks the chunks of a RIFF/WAVE file, calling visit(chunk) for each.
template <typename Visit>
void for_each_chunk(std::span<const uint8_t> file, Visit &&visit) {
  if (file.size() < riff_header_size) {
    malformed("file is " + std::to_string(file.size()) + " bytes, too short for a RIFF header (12)");
  }
  if (has_id(file.data(), "RIFX")) unsupported("big-endian RIFX files are not supported");
  if (has_id(file.data(), "RF64")) unsupported("RF64 files are not supported");
  if (!has_id(file.data(), "RIFF")) malformed("not a RIFF file (starts with " + quote_id(file.data()) + ")");
  if (!has_id(&file[8], "WAVE")) malformed("RIFF form type is " + quote_id(&file[8]) + ", not 'WAVE'");

  const uint32_t riff_size = le32(&file[4]);
  uint64_t end = file.size();
  if (riff_size != size_unknown) {
    const uint64_t declared_end = uint64_t{8} + riff_size;
    if (declared_end > file.size()) {
      malformed("RIFF size " + std::to_string(riff_size) + " overruns the file (" + std::to_string(file.size()) +
                " bytes)");
    }
    end = declared_end;
  }

  uint64_t offset = riff_header_size;
  while (offset < end) {
    if (end - offset < chunk_header_size) {
      malformed("truncated chunk header at offset " + std::to_string(offset) + " (" + std::to_string(end - offset) +
                " bytes left)");
    }
    const uint8_t *header = &file[offset];
    const uint32_t declared = le32(header + 4);
    const uint64_t body_offset = offset + chunk_header_size;
    uint64_t size = declared;
    if (size > end - body_offset) {
      if (declared != size_unknown || !has_id(header, "data")) {
        malformed("chunk " + quote_id(header) + " at offset " + std::to_string(offset) + " declares " +
                  std::to_string(declared) + " bytes but only " + std::to_string(end - body_offset) + " remain");
      }
      size = end - body_offset;
    }
    visit(Chunk{header, static_cast<size_t>(offset), file.subspan(static_cast<size_t>(body_offset), static_cast<size_t>(size))});
    // Chunks start on even offsets; a missing pad byte at the very end is tolerated.
    offset = std::min(end, body_offset + size + (size & 1));
  }
}

// ---- writing ----

// The largest header we write: RIFF(12) + fmt(8 + 18) + fact(8 + 4) + data header(8).
constexpr size_t max_header_size = 58;

struct Header {
  std::array<uint8_t, max_header_size> bytes{};
  size_t size = 0;

  void put_id(const char (&id)[5]) {
    std::memcpy(&bytes[size], id, 4);
    size += 4;
  }
  void put16(uint32_t value) {
    bytes[size++] = static_cast<uint8_t>(value & 0xFF);
    bytes[size++] = static_cast<uint8_t>((value >> 8) & 0xFF);
  }
  void put32(uint32_t value) {
    put16(value & 0xFFFF);
    put16(value >> 16);
  }
};

uint16_t format_tag(WavEncoding encoding) {
  switch (encoding) {
    case WavEncoding::pcm16: return tag_pcm;
    case WavEncoding::ulaw: return tag_ulaw;
    case WavEncoding::alaw: return tag_alaw;
  }
  throw Error(Status::invalid_argument, "wav: unknown encoding " + std::to_string(static_cast<int>(encoding)));
}

void validate_for_writing(const WavFormat &format) {
  format_tag(format.encoding);
  if (format.channels < 1 || format.channels > 2) {
    throw Error(Status::invalid_argument, "wav: cannot write " + std::to_string(format.channels) + " channels (1 or 2)");
  }
  if (format.sample_rate == 0) throw Error(Status::invalid_argument, "wav: cannot write sample rate 0");
}

// Non-PCM formats carry an 18-byte fmt (with a zero extension size) and a 'fact' chunk
// holding the frame count, as the RIFF specification asks.
bool needs_fact_chunk(const WavFormat &format) noexcept { return format.encoding != WavEncoding::pcm16; }

size_t header_size(const WavFormat &format) noexcept { return needs_fact_chunk(format) ? max_header_size : 44; }

uint64_t max_data_bytes(const WavFormat &format) noexcept {
  // RIFF's 32-bit size covers the header after its first 8 bytes, the data and its pad byte.
  return std::numeric_limits<uint32_t>::max() - (header_size(format) - 8) - 1;
}

// `padded`: whether the pad byte after odd-sized data is in the file yet.
Header make_header(const WavFormat &format, uint64_t data_bytes, bool padded) {
  const auto data_size = static_cast<uint32_t>(data_bytes);
  const uint32_t pad = padded ? data_size & 1 : 0;
  Header header;
  header.put_id("RIFF");
  header.put32(static_cast<uint32_t>(header_size(format) - 8) + data_size + pad);
  header.put_id("WAVE");
  header.put_id("fmt ");
  header.put32(needs_fact_chunk(format) ? 18 : 16);
  header.put16(format_tag(format.encoding));
  header.put16(format.channels);
  header.put32(format.sample_rate);
  header.put32(format.sample_rate * format.block_align());
  header.put16(format.block_align());
  header.put16(format.bytes_per_sample() * 8u);
  if (needs_fact_chunk(format)) {
    header.put16(0);  // extension size
    header.put_id("fact");
    header.put32(4);
    header.put32(data_size / format.block_align());
  }
  header.put_id("data");
  header.put32(data_size);
  return header;
}

void require_whole_frames(const WavFormat &format, size_t bytes) {
  if (bytes % format.block_align() != 0) {
    throw Error(Status::invalid_argument, "wav: " + std::to_string(bytes) + " bytes is not a whole number of " +
                                              std::to_string(format.block_align()) + "-byte frames");
  }
}

std::string io_problem(const std::string &what, const std::string &path) {
  return "wav: cannot " + what + " '" + path + "': " + std::strerror(errno);
}

struct FileCloser {
  void operator()(std::FILE *file) const noexcept { std::fclose(file); }
};

}  // namespace

const char *wav_encoding_name(WavEncoding encoding) noexcept {
  switch (encoding) {
    case WavEncoding::pcm16: return "PCM16";
    case WavEncoding::ulaw: return "mu-law";
    case WavEncoding::alaw: return "A-law";
  }
  return "unknown";
}

WavView parse_wav(std::span<const uint8_t> file) {
  std::optional<WavFormat> format;
  std::optional<std::span<const uint8_t>> data;
  for_each_chunk(file, [&](const Chunk &chunk) {
    if (has_id(chunk.id, "fmt ")) {
      if (format) malformed("more than one 'fmt ' chunk (second at offset " + std::to_string(chunk.offset) + ")");
      format = parse_fmt(chunk.body);
    } else if (has_id(chunk.id, "data")) {
      if (data) malformed("more than one 'data' chunk (second at offset " + std::to_string(chunk.offset) + ")");
      data = chunk.body;
    }
  });
  if (!format) malformed("no 'fmt ' chunk");
  if (!data) malformed("no 'data' chunk");
  const size_t whole_frames = data->size() / format->block_align();
  return WavView{*format, data->first(whole_frames * format->block_align())};
}

std::vector<int16_t> decode_wav_samples(const WavView &view) {
  std::vector<int16_t> samples(view.data.size() / view.format.bytes_per_sample());
  switch (view.format.encoding) {
    case WavEncoding::pcm16: le_bytes_to_samples(view.data, samples); break;
    case WavEncoding::ulaw: ulaw_decode(view.data, samples); break;
    case WavEncoding::alaw: alaw_decode(view.data, samples); break;
  }
  return samples;
}

WavAudio read_wav(std::span<const uint8_t> file) {
  const WavView view = parse_wav(file);
  return WavAudio{view.format, decode_wav_samples(view)};
}

WavAudio read_wav_file(const std::string &path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) throw Error(Status::io, io_problem("open", path));
  std::vector<uint8_t> bytes;
  std::array<uint8_t, 64 * 1024> block;
  size_t got = 0;
  while ((got = std::fread(block.data(), 1, block.size(), file.get())) > 0) bytes.insert(bytes.end(), block.begin(), block.begin() + static_cast<std::ptrdiff_t>(got));
  if (std::ferror(file.get())) throw Error(Status::io, io_problem("read", path));
  return read_wav(bytes);
}

std::vector<uint8_t> wav_bytes(const WavFormat &format, std::span<const uint8_t> data) {
  validate_for_writing(format);
  require_whole_frames(format, data.size());
  if (data.size() > max_data_bytes(format)) {
    throw Error(Status::full, "wav: " + std::to_string(data.size()) + " data bytes exceed the 4 GiB RIFF limit");
  }
  const Header header = make_header(format, data.size(), true);
  std::vector<uint8_t> file;
  file.reserve(header.size + data.size() + 1);
  file.insert(file.end(), header.bytes.begin(), header.bytes.begin() + static_cast<std::ptrdiff_t>(header.size));
  file.insert(file.end(), data.begin(), data.end());
  if (data.size() % 2 != 0) file.push_back(0);  // pad byte
  return file;
}

std::vector<uint8_t> wav_bytes_pcm16(std::span<const int16_t> samples, uint16_t channels, uint32_t sample_rate) {
  std::vector<uint8_t> data(samples.size() * 2);
  samples_to_le_bytes(samples, data);
  return wav_bytes(WavFormat{WavEncoding::pcm16, channels, sample_rate}, data);
}

void write_wav_file(const std::string &path, const WavFormat &format, std::span<const uint8_t> data) {
  WavFileWriter writer(path, format);
  writer.write(data);
  writer.close();
}

// ---- WavFileWriter ----

WavFileWriter::WavFileWriter(const std::string &path, const WavFormat &format) : path_(path), format_(format) {
  validate_for_writing(format);
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) throw Error(Status::io, io_problem("create", path));
  try {
    const Header header = make_header(format_, 0, false);
    write_raw(header.bytes.data(), header.size);
  } catch (...) {
    std::fclose(file_);
    file_ = nullptr;
    throw;
  }
}

WavFileWriter::~WavFileWriter() {
  try {
    close();
  } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor cannot report; close() can
  }
}

void WavFileWriter::require_open() const {
  if (file_ == nullptr) throw Error(Status::state, "wav: writer for '" + path_ + "' is closed");
}

void WavFileWriter::write_raw(const void *bytes, size_t count) {
  if (count != 0 && std::fwrite(bytes, 1, count, file_) != count) throw Error(Status::io, io_problem("write", path_));
}

void WavFileWriter::write(std::span<const uint8_t> data) {
  require_open();
  require_whole_frames(format_, data.size());
  if (data_bytes_ + data.size() > max_data_bytes(format_)) {
    throw Error(Status::full, "wav: '" + path_ + "' would exceed the 4 GiB RIFF limit");
  }
  write_raw(data.data(), data.size());
  data_bytes_ += data.size();
}

void WavFileWriter::write_pcm16(std::span<const int16_t> samples) {
  if (format_.encoding != WavEncoding::pcm16) {
    throw Error(Status::invalid_argument,
                std::string("wav: PCM16 samples written to a ") + wav_encoding_name(format_.encoding) + " file");
  }
  if constexpr (std::endian::native == std::endian::little) {
    write(std::span(reinterpret_cast<const uint8_t *>(samples.data()), samples.size_bytes()));
  } else {
    std::array<uint8_t, 4096> bytes;  // converted a block at a time: no allocation
    require_whole_frames(format_, samples.size_bytes());
    for (size_t done = 0; done < samples.size();) {
      const size_t count = std::min(samples.size() - done, bytes.size() / 2);
      samples_to_le_bytes(samples.subspan(done, count), bytes);
      write(std::span(bytes).first(count * 2));
      done += count;
    }
  }
}

void WavFileWriter::update_header() {
  require_open();
  const Header header = make_header(format_, data_bytes_, padded_);
  const auto data_end = static_cast<long>(header.size + data_bytes_);
  if (std::fseek(file_, 0, SEEK_SET) != 0) throw Error(Status::io, io_problem("seek in", path_));
  write_raw(header.bytes.data(), header.size);
  if (std::fseek(file_, data_end, SEEK_SET) != 0) throw Error(Status::io, io_problem("seek in", path_));
  if (std::fflush(file_) != 0) throw Error(Status::io, io_problem("flush", path_));
}

void WavFileWriter::close() {
  if (file_ == nullptr) return;
  std::exception_ptr failure;
  try {
    if (data_bytes_ % 2 != 0) {
      const uint8_t pad = 0;
      write_raw(&pad, 1);
      padded_ = true;
    }
    update_header();
  } catch (...) {
    failure = std::current_exception();
  }
  // The file is closed whatever happened above; the first failure is the one reported.
  const bool closed = std::fclose(std::exchange(file_, nullptr)) == 0;
  if (failure) std::rethrow_exception(failure);
  if (!closed) throw Error(Status::io, io_problem("close", path_));
}

}  // namespace parley::audio
