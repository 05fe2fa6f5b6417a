// The speakable chunker: LLM text deltas in, chunks for TTS out.
//
// A chunk ends at a sentence boundary once it holds min_chars; a clause or word boundary is
// used only when waiting longer would break max_chars or max_wait. A boundary is never placed
// inside a number ("3.14", "1,000", "$12.50", "555-123-4567", "4111 1111"), a time ("10:30"),
// an abbreviation ("Dr.", "e.g.", "U.S."), a URL or an e-mail address. Markdown a TTS would
// read aloud is stripped first, by MarkdownStripper, whatever the token boundaries.
//
// Concatenating the chunks of a stream gives the stripped text exactly: nothing is lost or
// reordered, only whitespace at the very start and end of the stream may be missing. A
// chunk carries the whitespace that followed its last word, so "One. " and "Two." join as
// written, and a mark per chunk tells exactly which text has been heard.
//
// Times are milliseconds since any fixed origin the caller chooses (the session clock).
// Deterministic: the same deltas at the same times give the same chunks. Single-threaded.
// In steady state a push that releases nothing allocates nothing.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::pipeline {

/// Streaming markdown remover. feed() appends what it can decide now to `out` and holds
/// back the few bytes whose meaning depends on the next ones (a "*" that may become "**",
/// a "1" at the start of a line that may be the list marker "1."). Removes **bold**,
/// *italic*, __bold__, _italic_, ~~strike~~, `code`, code fences (the fence lines, not the
/// code), # headings, - / * / + / 1. / 1) list markers, > quotes, thematic breaks,
/// [link text](url) -> link text, ![alt](url) -> alt, and backslash escapes.
class MarkdownStripper {
 public:
  MarkdownStripper();
  void feed(std::string_view raw, std::string &out);
  /// End of the stream: decides what was held, appends it and resets for the next stream.
  void finish(std::string &out);
  void reset();

 private:
  size_t step(std::string_view s, size_t i, bool end, std::string &out);
  size_t line_start_step(std::string_view s, size_t i, bool end);
  size_t inline_step(std::string_view s, size_t i, bool end, std::string &out);
  void emit(std::string &out, std::string_view text);
  void process(bool end, std::string &out);

  std::string held_;          // raw bytes not yet decided
  bool line_start_ = true;    // only indentation or dropped markers since the last newline
  bool in_fence_ = false;     // inside ``` ... ```: text is literal
  bool skip_line_ = false;    // dropping the rest of a fence or rule line, newline included
  int url_depth_ = 0;         // > 0 while dropping the (url) of a link; counts parentheses
  int open_brackets_ = 0;     // '[' seen on this line whose ']' has not come yet
  char prev_ = '\n';          // the last raw byte consumed, for emphasis flanking
  bool emitted_text_ = false; // leading whitespace of the stream is dropped
  bool in_address_ = false;   // the current word is a URL or e-mail address: "*" and "_" are literal
  size_t word_length_ = 0;    // bytes of the current word emitted so far
  std::array<char, 2> last_two_{};
};

struct ChunkerOptions {
  size_t min_chars = 24;   ///< a sentence boundary releases a chunk from this many characters
  size_t max_chars = 120;  ///< longer text is cut at its best clause or word boundary
  std::chrono::milliseconds max_wait{350};  ///< text older than this goes at any boundary
  bool strip_markdown = true;
};

/// Why a chunk was released.
enum class ChunkReason {
  sentence,       ///< a sentence boundary with at least min_chars before it
  max_chars,      ///< the text outgrew max_chars; cut at the best boundary within it
  max_wait,       ///< the oldest text waited max_wait; cut at the best boundary so far
  end_of_stream,  ///< flush()
};
const char *chunk_reason_name(ChunkReason reason) noexcept;

struct Chunk {
  std::string text;
  ChunkReason reason;
};

class Chunker {
 public:
  /// Throws Error(invalid_argument) unless 0 < min_chars <= max_chars.
  explicit Chunker(ChunkerOptions options = {});

  /// Adds an LLM text delta that arrived at `now`; returns the chunks it completes (usually
  /// none). A delta may end anywhere, even inside a UTF-8 sequence.
  std::vector<Chunk> push(std::string_view delta, std::chrono::milliseconds now);
  /// Releases what max_wait allows at `now`. Call it at deadline().
  std::vector<Chunk> poll(std::chrono::milliseconds now);
  /// End of the stream: returns the rest (cut at max_chars if need be) and resets.
  std::vector<Chunk> flush();
  /// Drops everything buffered (the LLM was cancelled).
  void reset();

  /// When poll() will release text that is buffered now: the oldest text's arrival plus
  /// max_wait. None while nothing could be released by waiting (no text, or no boundary yet:
  /// then only more text can help).
  std::optional<std::chrono::milliseconds> deadline() const;
  /// The stripped text waiting for a boundary.
  std::string_view buffered() const noexcept { return text_; }
  const ChunkerOptions &options() const noexcept { return options_; }

 private:
  struct Arrival {
    size_t offset;  // first byte of text_ that arrived at `time`
    std::chrono::milliseconds time;
  };
  struct Cut {
    size_t end;
    ChunkReason reason;
  };

  std::optional<Cut> choose_cut(std::optional<std::chrono::milliseconds> now) const;
  std::optional<std::chrono::milliseconds> oldest_arrival() const;
  void release(std::optional<std::chrono::milliseconds> now, std::vector<Chunk> &out);
  void emit(size_t end, ChunkReason reason, std::vector<Chunk> &out, bool merge);

  ChunkerOptions options_;
  MarkdownStripper stripper_;
  std::string text_;               // stripped text not yet released
  std::vector<Arrival> arrivals_;  // ascending offsets; the first is 0 when text_ is not empty
  bool started_ = false;           // without markdown stripping: some text has arrived
};

}  // namespace parley::pipeline
