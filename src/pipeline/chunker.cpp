#include "pipeline/chunker.hpp"

#include <array>
#include <string>

#include "common/error.hpp"

namespace parley::pipeline {
namespace {

using std::chrono::milliseconds;

constexpr size_t not_marker = std::string_view::npos;

// A run of text no boundary can split (one enormous "word") is cut anyway at this many
// times max_chars, so that a runaway model cannot grow the buffer without bound.
constexpr size_t hard_limit_factor = 4;

bool is_space_byte(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// Letters, digits and every byte of a non-ASCII character count as "inside a word".
bool is_word_byte(char c) { return is_ascii_alpha(c) || is_digit(c) || static_cast<unsigned char>(c) >= 0x80; }
bool is_ascii_punct(char c) { return c > ' ' && c < 0x7F && !is_ascii_alpha(c) && !is_digit(c); }
bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

size_t count_chars(std::string_view text) {
  size_t count = 0;
  for (const char c : text) count += is_continuation(c) ? 0 : 1;
  return count;
}

// Byte offset of the first `chars` code points of `text`.
size_t offset_of_char(std::string_view text, size_t chars) {
  size_t i = 0;
  for (; i < text.size(); ++i) {
    if (!is_continuation(text[i]) && chars-- == 0) break;
  }
  return i;
}

size_t run_length(std::string_view s, size_t i, char c) {
  size_t run = 0;
  while (i + run < s.size() && s[i + run] == c) ++run;
  return run;
}

// Decodes the UTF-8 sequence at text[i]. An invalid sequence reads as one byte of U+FFFD,
// so a scan never stalls and never takes a broken character for punctuation.
char32_t decode(std::string_view text, size_t i, size_t &length) {
  const auto lead = static_cast<unsigned char>(text[i]);
  length = 1;
  if (lead < 0x80) return lead;
  size_t need = 0;
  char32_t code = 0;
  if ((lead & 0xE0) == 0xC0) {
    need = 2;
    code = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    need = 3;
    code = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    need = 4;
    code = lead & 0x07;
  } else {
    return 0xFFFD;
  }
  if (i + need > text.size()) return 0xFFFD;
  for (size_t k = 1; k < need; ++k) {
    if (!is_continuation(text[i + k])) return 0xFFFD;
    code = (code << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
  }
  length = need;
  return code;
}

bool is_terminal(char32_t c) { return c == '.' || c == '!' || c == '?' || c == U'\u2026'; }
bool is_cjk_terminal(char32_t c) { return c == U'\u3002' || c == U'\uFF01' || c == U'\uFF1F'; }  // 。！？
bool is_cjk_clause(char32_t c) {
  return c == U'\uFF0C' || c == U'\u3001' || c == U'\uFF1B' || c == U'\uFF1A';  // ，、；：
}
// What may follow the punctuation that ends a sentence and still belong to it: "hi." ) » 」
bool is_closer(char32_t c) {
  switch (c) {
    case '"': case '\'': case ')': case ']': case '}':
    case U'\u2019': case U'\u201D': case U'\u00BB': case U'\u300D': case U'\u300F': case U'\uFF09':
      return true;
    default:
      return false;
  }
}

// ---- abbreviations ----

enum class Abbreviation {
  none,         // an ordinary word: its period ends a sentence
  no_sentence,  // "etc.", "e.g.", "a.m.": the period ends no sentence; a word break is fine
  no_break,     // "Dr.", "St.", "J.": a title or initial belongs to the word after it
};

constexpr auto titles = std::to_array<std::string_view>({
    "dr", "mr", "mrs", "ms", "mx", "prof", "st", "mt", "rev", "fr",
    "hon", "gen", "col", "capt", "lt", "sgt", "vs", "messrs", "gov", "sen"});
constexpr auto abbreviations = std::to_array<std::string_view>({
    "etc", "inc", "ltd", "co", "corp", "jr", "sr", "approx", "dept", "est", "fig", "vol",
    "ft", "oz", "lb", "lbs", "ave", "blvd", "rd", "apt", "tel", "ext", "cf", "al", "viz",
    "jan", "feb", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"});

bool in_list(std::string_view lower, const auto &list) {
  for (const std::string_view entry : list) {
    if (entry == lower) return true;
  }
  return false;
}

// The word that ends just before the period at text[period], without opening punctuation.
std::string_view word_before(std::string_view text, size_t period) {
  size_t start = period;
  while (start > 0 && !is_space_byte(text[start - 1])) --start;
  std::string_view word = text.substr(start, period - start);
  while (!word.empty()) {
    if (word[0] == '(' || word[0] == '[' || word[0] == '{' || word[0] == '"' || word[0] == '\'') {
      word.remove_prefix(1);
    } else if (word.starts_with("\u201C") || word.starts_with("\u2018")) {  // “ ‘
      word.remove_prefix(3);
    } else {
      break;
    }
  }
  return word;
}

// "e.g", "a.m", "U.S.A": single letters joined by periods (the final period excluded).
bool is_dotted_letters(std::string_view word) {
  if (word.size() < 3 || word.size() % 2 == 0) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (i % 2 == 0 ? !is_ascii_alpha(word[i]) : word[i] != '.') return false;
  }
  return true;
}

Abbreviation classify(std::string_view word) {
  if (word.size() == 1 && word[0] >= 'A' && word[0] <= 'Z') return Abbreviation::no_break;  // "J. R. R."
  if (is_dotted_letters(word)) return Abbreviation::no_sentence;
  std::array<char, 8> buffer{};
  if (word.empty() || word.size() > buffer.size()) return Abbreviation::none;
  for (size_t i = 0; i < word.size(); ++i) {
    if (!is_ascii_alpha(word[i])) return Abbreviation::none;
    buffer[i] = static_cast<char>(word[i] | 0x20);  // ASCII lower case
  }
  const std::string_view lower(buffer.data(), word.size());
  if (in_list(lower, titles)) return Abbreviation::no_break;
  if (in_list(lower, abbreviations)) return Abbreviation::no_sentence;
  return Abbreviation::none;
}

// ---- boundaries ----

enum class Kind { word = 0, clause = 1, sentence = 2 };

struct Boundary {
  size_t text_end;  // just after the last character of the chunk's text
  size_t cut;       // after the whitespace that follows: where the next chunk starts
  Kind kind;
};

// What probing one position found. `unconfirmed`: whether this is a boundary depends on
// text that has not arrived ("3." may become "3.14"), so the scan stops there.
struct Probe {
  enum { none, boundary, unconfirmed } status;
  Boundary found;
  size_t resume;  // where the scan continues
};

Probe no_boundary(size_t resume) { return {Probe::none, {}, resume}; }
Probe stop() { return {Probe::unconfirmed, {}, 0}; }

size_t skip_spaces(std::string_view text, size_t i, bool &newline) {
  newline = false;
  while (i < text.size() && is_space_byte(text[i])) newline |= text[i++] == '\n';
  return i;
}

Probe boundary(std::string_view text, size_t text_end, Kind kind) {
  bool newline = false;
  const size_t cut = skip_spaces(text, text_end, newline);
  // A line break ends a heading or a list item even without punctuation.
  if (newline) kind = Kind::sentence;
  // Whitespace at the end may still turn into a line break, and so into a sentence end.
  if (cut == text.size() && kind != Kind::sentence) return stop();
  return {Probe::boundary, {text_end, cut, kind}, cut};
}

// Whitespace: a word boundary, except inside a digit group ("4111 1111", "555 123 4567").
Probe probe_space(std::string_view text, size_t i) {
  bool newline = false;
  const size_t after = skip_spaces(text, i, newline);
  if (i == 0) return no_boundary(after);  // nothing before it to release
  if (!newline && is_digit(text[i - 1])) {
    if (after == text.size()) return stop();
    if (is_digit(text[after])) return no_boundary(after);
  }
  return boundary(text, i, Kind::word);
}

// . ! ? … (with any closing quotes or brackets): a sentence end when whitespace follows,
// unless the period belongs to an abbreviation. No whitespace after it means it is inside
// a number, a time, a URL or an address ("3.14", "a.b?c=d", "jane.doe@example.co.uk").
Probe probe_terminal(std::string_view text, size_t i) {
  size_t j = i;
  size_t periods = 0;
  bool exclaims = false;
  size_t length = 0;
  while (j < text.size()) {
    const char32_t c = decode(text, j, length);
    if (!is_terminal(c)) break;
    periods += c == '.' ? 1 : c == U'\u2026' ? 3 : 0;
    exclaims |= c == '!' || c == '?';
    j += length;
  }
  while (j < text.size() && is_closer(decode(text, j, length))) j += length;
  if (j == text.size()) return stop();
  if (!is_space_byte(text[j])) return no_boundary(j);
  if (exclaims) return boundary(text, j, Kind::sentence);
  if (periods > 1) return boundary(text, j, Kind::clause);  // an ellipsis trails off
  switch (classify(word_before(text, i))) {
    case Abbreviation::no_break: {
      const Probe probe = boundary(text, j, Kind::word);
      if (probe.status != Probe::boundary || probe.found.kind == Kind::sentence) return probe;
      return no_boundary(probe.resume);
    }
    case Abbreviation::no_sentence:
      return boundary(text, j, Kind::word);
    case Abbreviation::none:
      break;
  }
  return boundary(text, j, Kind::sentence);
}

// , ; : with whitespace after. Without it: "1,000", "10:30", "a;b".
Probe probe_clause(std::string_view text, size_t i) {
  const size_t j = i + 1;
  if (j == text.size()) return stop();
  if (!is_space_byte(text[j])) return no_boundary(j);
  return boundary(text, j, Kind::clause);
}

// CJK punctuation ends a sentence or clause without any whitespace after it.
Probe probe_cjk(std::string_view text, size_t i, bool sentence) {
  size_t j = i;
  size_t length = 0;
  decode(text, j, length);
  j += length;
  if (sentence) {
    while (j < text.size()) {
      const char32_t c = decode(text, j, length);
      if (!is_cjk_terminal(c) && c != '!' && c != '?') break;
      j += length;
    }
    while (j < text.size() && is_closer(decode(text, j, length))) j += length;
  }
  if (j == text.size()) return stop();
  return boundary(text, j, sentence ? Kind::sentence : Kind::clause);
}

// Dashes between clauses: "yes — of course", "yes—of course", "yes - of course". Not the
// en dash of a range ("10–20") nor the hyphen of "555-123" or "well-known".
Probe probe_dash(std::string_view text, size_t i, char32_t dash, size_t length) {
  const size_t j = i + length;
  if (dash == '-') {
    const bool spaced_before = i > 0 && is_space_byte(text[i - 1]);
    if (!spaced_before) return no_boundary(j);
    if (j == text.size()) return stop();
    return is_space_byte(text[j]) ? boundary(text, j, Kind::clause) : no_boundary(j);
  }
  if (j == text.size()) return stop();
  if (dash == U'\u2013' && i > 0 && is_digit(text[i - 1]) && is_digit(text[j])) return no_boundary(j);
  return boundary(text, j, Kind::clause);
}

Probe probe(std::string_view text, size_t i) {
  size_t length = 0;
  const char32_t c = decode(text, i, length);
  if (c < 0x80 && is_space_byte(static_cast<char>(c))) return probe_space(text, i);
  if (is_terminal(c)) return probe_terminal(text, i);
  if (c == ',' || c == ';' || c == ':') return probe_clause(text, i);
  if (is_cjk_terminal(c)) return probe_cjk(text, i, true);
  if (is_cjk_clause(c)) return probe_cjk(text, i, false);
  if (c == '-' || c == U'\u2013' || c == U'\u2014') return probe_dash(text, i, c, length);
  return no_boundary(i + length);
}

// `text` without a UTF-8 sequence cut short at its end (the rest is in the next delta):
// half a character must not confirm the boundary before it.
std::string_view complete_prefix(std::string_view text) {
  for (size_t back = 1; back <= 3 && back <= text.size(); ++back) {
    const auto byte = static_cast<unsigned char>(text[text.size() - back]);
    if ((byte & 0xC0) == 0x80) continue;
    const size_t need = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1;
    return need > back ? text.substr(0, text.size() - back) : text;
  }
  return text;
}

// Calls visit(boundary) for each boundary the text confirms so far, in order, until visit
// returns false. Returns how far the scan got: every boundary that ends before that point
// has been visited (or the visitor stopped early).
template <typename Visit>
size_t for_each_boundary(std::string_view whole, Visit &&visit) {
  const std::string_view text = complete_prefix(whole);
  size_t i = 0;
  while (i < text.size()) {
    const Probe found = probe(text, i);
    if (found.status == Probe::unconfirmed) return i;
    if (found.status == Probe::boundary && !visit(found.found)) return found.resume;
    i = found.resume;
  }
  return i;
}

}  // namespace

// ---- MarkdownStripper ----

MarkdownStripper::MarkdownStripper() { held_.reserve(64); }

void MarkdownStripper::feed(std::string_view raw, std::string &out) {
  held_.append(raw);
  process(false, out);
}

void MarkdownStripper::finish(std::string &out) {
  process(true, out);
  reset();
}

void MarkdownStripper::reset() {
  held_.clear();
  line_start_ = true;
  in_fence_ = false;
  skip_line_ = false;
  url_depth_ = 0;
  open_brackets_ = 0;
  prev_ = '\n';
  emitted_text_ = false;
  in_address_ = false;
  word_length_ = 0;
  last_two_ = {};
}

void MarkdownStripper::process(bool end, std::string &out) {
  const std::string_view s = held_;
  size_t i = 0;
  while (i < s.size()) {
    const size_t used = step(s, i, end, out);
    if (used == 0) break;  // undecidable until more text arrives (never at the end)
    i += used;
  }
  held_.erase(0, i);
}

void MarkdownStripper::emit(std::string &out, std::string_view text) {
  if (!emitted_text_) {
    while (!text.empty() && is_space_byte(text.front())) text.remove_prefix(1);
    if (text.empty()) return;
    emitted_text_ = true;
  }
  out.append(text);
  // Follow the current word: once it shows "://", "@" or "www.", it is an address.
  for (const char c : text) {
    if (is_space_byte(c)) {
      in_address_ = false;
      word_length_ = 0;
      continue;
    }
    in_address_ |= c == '@' || (c == '/' && word_length_ >= 2 && last_two_ == std::array<char, 2>{':', '/'});
    in_address_ |= word_length_ == 3 && c == '.' && last_two_ == std::array<char, 2>{'w', 'w'};
    last_two_ = {last_two_[1], c};
    ++word_length_;
  }
}

// Consumes the bytes at s[i] that can be decided now; returns how many (0: need more).
size_t MarkdownStripper::step(std::string_view s, size_t i, bool end, std::string &out) {
  const char c = s[i];
  if (skip_line_) {
    if (c == '\n') {
      skip_line_ = false;
      line_start_ = true;
    }
    prev_ = '\n';
    return 1;
  }
  if (url_depth_ > 0) {
    if (c != '\n') {
      url_depth_ += c == '(' ? 1 : c == ')' ? -1 : 0;
      prev_ = c;
      return 1;
    }
    url_depth_ = 0;  // a line break ends a link target that never closed
  }
  if (line_start_) {
    const size_t used = line_start_step(s, i, end);
    if (used != not_marker) return used;
    line_start_ = false;
  }
  return inline_step(s, i, end, out);
}

// Markers that only count at the start of a line. Returns the bytes dropped (the line
// start continues: "> - item" has two markers), 0 when more text must arrive first, or
// not_marker.
size_t MarkdownStripper::line_start_step(std::string_view s, size_t i, bool end) {
  const char c = s[i];
  const size_t run = run_length(s, i, c);
  const bool run_open = i + run == s.size() && !end;  // the run may go on in the next delta
  const char after = i + run < s.size() ? s[i + run] : '\n';
  if (in_fence_) {
    if (c != '`' && c != '~') return not_marker;
    if (run_open) return 0;
    if (run < 3) return not_marker;
    in_fence_ = false;  // the closing fence line
    skip_line_ = true;
    return run;
  }
  switch (c) {
    case ' ':
    case '\t':
    case '>':  // a quote marker; the space after it reads as indentation
      prev_ = c;
      return 1;
    case '#':
      if (run_open) return 0;
      return run <= 6 && is_space_byte(after) ? run : not_marker;
    case '`':
    case '~':
      if (run_open) return 0;
      if (run < 3) return not_marker;
      in_fence_ = true;  // the fence and its language tag
      skip_line_ = true;
      return run;
    case '-':
    case '*':
    case '_':
    case '+':
      if (run_open) return 0;
      if (run >= 3 && c != '+' && after == '\n') {  // a thematic break: ---, ***, ___
        skip_line_ = true;
        return run;
      }
      if (run == 1 && c != '_' && (after == ' ' || after == '\t')) return 1;  // a list item
      return not_marker;
    default:
      break;
  }
  if (!is_digit(c)) return not_marker;
  // "1. " or "1) " opens an ordered list item; "3.14", "10:30" and "2024 was" do not.
  size_t digits = 0;
  while (i + digits < s.size() && is_digit(s[i + digits])) ++digits;
  if (digits > 9) return not_marker;
  if (i + digits + 1 >= s.size()) return end ? not_marker : 0;
  const char mark = s[i + digits];
  const char space = s[i + digits + 1];
  return (mark == '.' || mark == ')') && (space == ' ' || space == '\t') ? digits + 1 : not_marker;
}

size_t MarkdownStripper::inline_step(std::string_view s, size_t i, bool end, std::string &out) {
  const char c = s[i];
  const bool last = i + 1 == s.size();
  if (in_fence_) {
    line_start_ = c == '\n';
    emit(out, s.substr(i, 1));
    prev_ = c;
    return 1;
  }
  switch (c) {
    case '\n':
      line_start_ = true;
      open_brackets_ = 0;
      break;
    case '\\':
      if (last && !end) return 0;
      prev_ = c;
      if (!last && is_ascii_punct(s[i + 1])) {  // an escape: keep the character, literally
        emit(out, s.substr(i + 1, 1));
        prev_ = s[i + 1];
        return 2;
      }
      return 1;
    case '*':
    case '_': {
      const size_t run = run_length(s, i, c);
      if (i + run == s.size() && !end) return 0;
      const char after = i + run < s.size() ? s[i + run] : ' ';
      const bool spaced = is_space_byte(prev_) && is_space_byte(after);
      // Emphasis unless it stands alone ("2 * 3") or sits inside a word or number
      // ("snake_case", "5*3"); CommonMark's flanking rules, without waiting for the closer.
      const bool inside = c == '*' ? is_digit(prev_) && is_digit(after) : is_word_byte(prev_) && is_word_byte(after);
      const bool address = is_word_byte(after) && in_address_;
      if (spaced || inside || address) emit(out, s.substr(i, run));
      prev_ = c;
      return run;
    }
    case '~': {
      const size_t run = run_length(s, i, c);
      if (i + run == s.size() && !end) return 0;
      if (run == 1) break;  // "~5 minutes"
      prev_ = c;
      return run;  // ~~strikethrough~~
    }
    case '`':  // inline code: the delimiters go, the code stays
      prev_ = c;
      return 1;
    case '[':
      ++open_brackets_;
      prev_ = c;
      return 1;
    case ']':
      if (open_brackets_ == 0) break;
      if (last && !end) return 0;
      --open_brackets_;
      prev_ = c;
      if (!last && s[i + 1] == '(') {  // [text](url): drop the url
        url_depth_ = 1;
        return 2;
      }
      return 1;
    case '!':
      if (last && !end) return 0;
      if (!last && s[i + 1] == '[') {  // ![alt](url)
        prev_ = c;
        return 1;
      }
      break;
    default:
      break;
  }
  emit(out, s.substr(i, 1));
  prev_ = c;
  return 1;
}

// ---- Chunker ----

const char *chunk_reason_name(ChunkReason reason) noexcept {
  switch (reason) {
    case ChunkReason::sentence: return "sentence";
    case ChunkReason::max_chars: return "max_chars";
    case ChunkReason::max_wait: return "max_wait";
    case ChunkReason::end_of_stream: return "end_of_stream";
  }
  return "unknown";
}

Chunker::Chunker(ChunkerOptions options) : options_(options) {
  if (options_.min_chars == 0 || options_.min_chars > options_.max_chars) {
    throw Error(Status::invalid_argument, "chunker: need 0 < min_chars (" + std::to_string(options_.min_chars) +
                                              ") <= max_chars (" + std::to_string(options_.max_chars) + ")");
  }
  text_.reserve(hard_limit_factor * options_.max_chars * 4);  // 4 bytes per character at most
  arrivals_.reserve(64);
}

std::vector<Chunk> Chunker::push(std::string_view delta, milliseconds now) {
  const size_t before = text_.size();
  if (options_.strip_markdown) {
    stripper_.feed(delta, text_);
  } else {
    if (!started_) {  // the stream's leading whitespace
      while (!delta.empty() && is_space_byte(delta.front())) delta.remove_prefix(1);
      started_ = !delta.empty();
    }
    text_.append(delta);
  }
  if (text_.size() > before) arrivals_.push_back({before, now});
  std::vector<Chunk> out;
  release(now, out);
  return out;
}

std::vector<Chunk> Chunker::poll(milliseconds now) {
  std::vector<Chunk> out;
  release(now, out);
  return out;
}

std::vector<Chunk> Chunker::flush() {
  if (options_.strip_markdown) stripper_.finish(text_);
  std::vector<Chunk> out;
  release(std::nullopt, out);  // the length rules still apply to what is left
  emit(text_.size(), ChunkReason::end_of_stream, out, false);
  reset();
  return out;
}

void Chunker::reset() {
  stripper_.reset();
  text_.clear();
  arrivals_.clear();
  started_ = false;
}

void Chunker::release(std::optional<milliseconds> now, std::vector<Chunk> &out) {
  while (const std::optional<Cut> cut = choose_cut(now)) {
    // Text that ran out of time together goes together: a burst followed by a stall gives
    // one chunk ending at its last boundary, not a chunk per clause ("Sure, " "let " ...).
    const bool merge = cut->reason == ChunkReason::max_wait && !out.empty() && out.back().reason == ChunkReason::max_wait;
    emit(cut->end, cut->reason, out, merge);
  }
}

// The rules, in order: the first sentence end in [min_chars, max_chars]; past max_chars,
// the best boundary within it; past max_wait, the best boundary so far (the last sentence
// end, else the last clause, else the last word).
std::optional<Chunker::Cut> Chunker::choose_cut(std::optional<milliseconds> now) const {
  const auto of = [](auto &by_kind, Kind kind) -> auto & { return by_kind[static_cast<size_t>(kind)]; };
  const std::string_view text = text_;
  const size_t min = options_.min_chars;
  const size_t max = options_.max_chars;
  std::optional<Boundary> sentence;              // the first in [min, max]
  std::array<std::optional<Boundary>, 3> last;   // by kind, the last within max
  std::array<std::optional<Boundary>, 3> fit;    // by kind, the last in [min, max]
  std::optional<Boundary> beyond;                // the first past max
  // Lengths leave out whitespace left over from the previous chunk, so that where a delta
  // happened to end cannot move a boundary decision by a character.
  size_t start = 0;
  while (start < text.size() && is_space_byte(text[start])) ++start;
  const size_t total = count_chars(text.substr(start));
  size_t counted = start;
  size_t chars = 0;
  const size_t scanned = for_each_boundary(text, [&](const Boundary &b) {
    chars += count_chars(text.substr(counted, b.text_end - counted));
    counted = b.text_end;
    if (chars > max) {
      beyond = b;
      return false;
    }
    of(last, b.kind) = b;
    if (chars < min) return true;
    of(fit, b.kind) = b;
    if (b.kind != Kind::sentence) return true;
    sentence = b;
    return false;
  });
  if (sentence) return Cut{sentence->cut, ChunkReason::sentence};

  // Cut for length only once every boundary within max_chars is known: "55" then " " at
  // the limit is a word boundary or not depending on the next character.
  const bool known_past_max = beyond || (scanned > start && count_chars(text.substr(start, scanned - start)) > max);
  if (total > max && known_past_max) {
    // Prefer a clause to a word; below min_chars, whatever comes last; past max, the first.
    std::optional<Boundary> latest;
    for (const auto &b : last) {
      if (b && (!latest || b->cut > latest->cut)) latest = b;
    }
    for (const auto &pick : {of(fit, Kind::clause), of(fit, Kind::word), latest, beyond}) {
      if (pick) return Cut{pick->cut, ChunkReason::max_chars};
    }
  }
  if (total > hard_limit_factor * max && !beyond) {
    return Cut{start + offset_of_char(text.substr(start), max), ChunkReason::max_chars};
  }

  const std::optional<milliseconds> oldest = oldest_arrival();
  if (now && oldest && *now - *oldest >= options_.max_wait) {
    for (const auto &pick : {of(last, Kind::sentence), of(last, Kind::clause), of(last, Kind::word)}) {
      if (pick) return Cut{pick->cut, ChunkReason::max_wait};
    }
  }
  return std::nullopt;
}

std::optional<milliseconds> Chunker::oldest_arrival() const {
  size_t first = 0;
  while (first < text_.size() && is_space_byte(text_[first])) ++first;
  if (first == text_.size()) return std::nullopt;  // whitespace alone never waits
  std::optional<milliseconds> time;
  for (const Arrival &arrival : arrivals_) {
    if (arrival.offset > first) break;
    time = arrival.time;
  }
  return time;
}

std::optional<milliseconds> Chunker::deadline() const {
  const std::optional<milliseconds> oldest = oldest_arrival();
  if (!oldest) return std::nullopt;
  bool any = false;
  for_each_boundary(text_, [&](const Boundary &) {
    any = true;
    return false;  // one is enough
  });
  if (!any) return std::nullopt;
  return *oldest + options_.max_wait;
}

void Chunker::emit(size_t end, ChunkReason reason, std::vector<Chunk> &out, bool merge) {
  std::string_view piece = std::string_view(text_).substr(0, end);
  if (reason == ChunkReason::end_of_stream) {
    while (!piece.empty() && is_space_byte(piece.back())) piece.remove_suffix(1);
  }
  bool speakable = false;
  for (const char c : piece) speakable |= !is_space_byte(c);
  if (merge) {
    out.back().text.append(piece);
  } else if (speakable) {
    out.push_back({std::string(piece), reason});
  }
  text_.erase(0, end);
  if (text_.empty()) {
    arrivals_.clear();
    return;
  }
  // Keep the arrival that covers the new first byte, and those after it.
  size_t keep = 0;
  while (keep + 1 < arrivals_.size() && arrivals_[keep + 1].offset <= end) ++keep;
  arrivals_.erase(arrivals_.begin(), arrivals_.begin() + static_cast<std::ptrdiff_t>(keep));
  for (Arrival &arrival : arrivals_) arrival.offset = arrival.offset > end ? arrival.offset - end : 0;
}

}  // namespace parley::pipeline
