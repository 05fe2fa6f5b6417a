#include "pipeline/endpointing.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "common/error.hpp"

namespace parley::pipeline {
namespace {

using std::chrono::milliseconds;

struct DigitWord {
  std::string_view word;
  int digits;  // how many digits it stands for, roughly ("double five" is two)
};

constexpr auto digit_words = std::to_array<DigitWord>({
    {"zero", 1},     {"oh", 1},       {"o", 1},        {"one", 1},       {"two", 1},
    {"three", 1},    {"four", 1},     {"five", 1},     {"six", 1},       {"seven", 1},
    {"eight", 1},    {"nine", 1},     {"double", 1},   {"triple", 2},    {"ten", 2},
    {"eleven", 2},   {"twelve", 2},   {"thirteen", 2}, {"fourteen", 2},  {"fifteen", 2},
    {"sixteen", 2},  {"seventeen", 2}, {"eighteen", 2}, {"nineteen", 2},
    // Tens count one: "twenty one" is two digits. "Hundred" and "thousand" name amounts
    // more often than digits read out, so they count one as well.
    {"twenty", 1},   {"thirty", 1},   {"forty", 1},    {"fifty", 1},     {"sixty", 1},
    {"seventy", 1},  {"eighty", 1},   {"ninety", 1},   {"hundred", 1},   {"thousand", 1},
});

// Words that announce a number, so that even one digit after them is "mid-number".
constexpr auto cue_words = std::to_array<std::string_view>({
    "number", "numbers", "phone", "cell", "mobile", "card", "digits", "digit", "code", "zip",
    "postcode", "account", "pin", "extension", "ext", "call", "dial", "reach", "text", "fax",
    "ssn", "id", "policy", "confirmation", "routing",
});

// Words that close "my number is", "call me at": the number comes next.
constexpr auto link_words = std::to_array<std::string_view>({"is", "at", "was", "are"});

constexpr int cue_window = 4;  // words before the number that may hold a cue
constexpr size_t max_groups = 8;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::string_view trim_right(std::string_view text, std::string_view chars) {
  while (!text.empty() && chars.find(text.back()) != std::string_view::npos) text.remove_suffix(1);
  return text;
}

// Splits the last whitespace-separated word off `text` (which keeps what precedes it).
std::string_view pop_word(std::string_view &text) {
  text = trim_right(text, " \t\r\n");
  size_t start = text.size();
  while (start > 0 && !is_space(text[start - 1])) --start;
  const std::string_view word = text.substr(start);
  text = text.substr(0, start);
  return word;
}

// Lower-cases a short ASCII word into `buffer`, without surrounding punctuation.
std::string_view lower_word(std::string_view word, std::array<char, 16> &buffer) {
  while (!word.empty() && !std::isalnum(static_cast<unsigned char>(word.front()))) word.remove_prefix(1);
  while (!word.empty() && !std::isalnum(static_cast<unsigned char>(word.back()))) word.remove_suffix(1);
  if (word.size() > buffer.size()) return {};
  for (size_t i = 0; i < word.size(); ++i) {
    buffer[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(word[i])));
  }
  return {buffer.data(), word.size()};
}

int digit_word_value(std::string_view lower) {
  for (const DigitWord &entry : digit_words) {
    if (entry.word == lower) return entry.digits;
  }
  return 0;
}

// Digits in a word written with numerals: "555", "(555)", "123-4567", "+1". Records the
// length of each digit group. 0 when the word is anything else ("10:30", "$12.50", "4th").
int numeral_digits(std::string_view word, std::array<int, max_groups> &groups, size_t &group_count) {
  int digits = 0;
  int run = 0;
  std::array<int, max_groups> found{};
  size_t count = 0;
  for (const char c : word) {
    if (is_digit(c)) {
      ++run;
      continue;
    }
    if (c != '-' && c != '(' && c != ')' && c != '+' && c != ',') return 0;
    if (run > 0 && count < max_groups) found[count++] = run;
    digits += run;
    run = 0;
  }
  if (run > 0 && count < max_groups) found[count++] = run;
  digits += run;
  // Words are read from the end backwards: put this word's groups in front of the others.
  if (digits > 0 && group_count + count <= max_groups) {
    std::copy_backward(groups.begin(), groups.begin() + static_cast<std::ptrdiff_t>(group_count),
                       groups.begin() + static_cast<std::ptrdiff_t>(group_count + count));
    std::copy_n(found.begin(), count, groups.begin());
    group_count += count;
  }
  return digits;
}

int word_digits(std::string_view word, std::array<int, max_groups> &groups, size_t &group_count, bool &spoken) {
  const std::string_view bare = trim_right(word, ".,;:!?");
  if (const int digits = numeral_digits(bare, groups, group_count); digits > 0) return digits;
  // Spoken digits, also hyphenated: "twenty-one".
  int digits = 0;
  for (std::string_view rest = bare; !rest.empty();) {
    const size_t dash = std::min(rest.find('-'), rest.size());
    std::array<char, 16> buffer{};
    const int value = digit_word_value(lower_word(rest.substr(0, dash), buffer));
    if (value == 0) return 0;
    digits += value;
    rest.remove_prefix(std::min(dash + 1, rest.size()));
  }
  spoken |= digits > 0;
  return digits;
}

// A phone number (3-3-4, 1-3-3-4) or card number (4-4-4-4) written out in full.
bool looks_complete(const std::array<int, max_groups> &groups, size_t count) {
  const auto is = [&](std::initializer_list<int> shape) {
    return count == shape.size() && std::equal(shape.begin(), shape.end(), groups.begin());
  };
  return is({3, 3, 4}) || is({1, 3, 3, 4}) || is({4, 4, 4, 4});
}

bool is_cue(std::string_view word) {
  std::array<char, 16> buffer{};
  const std::string_view lower = lower_word(word, buffer);
  return std::find(cue_words.begin(), cue_words.end(), lower) != cue_words.end();
}

// "my number is", "call me at", "my number's": the caller is about to read a number out.
bool announces_number(std::string_view last, std::string_view rest) {
  std::array<char, 16> buffer{};
  const std::string_view lower = lower_word(last, buffer);
  if (lower.ends_with("'s")) return is_cue(lower.substr(0, lower.size() - 2));
  if (std::find(link_words.begin(), link_words.end(), lower) == link_words.end()) return false;
  for (int i = 0; i < cue_window - 1; ++i) {
    const std::string_view word = pop_word(rest);
    if (word.empty()) break;
    if (is_cue(word)) return true;
  }
  return false;
}

}  // namespace

bool ends_mid_number(std::string_view transcript, int min_digits) {
  // STTs end finals with sentence punctuation; it says nothing about the caller.
  std::string_view rest = trim_right(transcript, " \t\r\n.,!?;");
  bool open = false;  // "555-", "(555": the caller is plainly not done
  if (!rest.empty() && (rest.back() == '-' || rest.back() == '(')) {
    open = true;
    rest.remove_suffix(1);
  }
  int digits = 0;
  std::array<int, max_groups> groups{};
  size_t group_count = 0;
  bool spoken = false;
  std::string_view word;
  while (!(word = pop_word(rest)).empty()) {
    const int value = word_digits(word, groups, group_count, spoken);
    if (value == 0) break;  // `word` is the first one before the number
    digits += value;
  }
  if (digits == 0) return announces_number(word, rest);
  if (open) return true;
  if (!spoken && looks_complete(groups, group_count)) return false;
  if (digits >= min_digits) return true;
  for (int i = 0; i < cue_window && !word.empty(); ++i, word = pop_word(rest)) {
    if (is_cue(word)) return true;
  }
  return false;
}

const char *end_reason_name(EndReason reason) noexcept {
  switch (reason) {
    case EndReason::final_plus_silence: return "final_plus_silence";
    case EndReason::max_silence: return "max_silence";
  }
  return "unknown";
}

Endpointer::Endpointer(EndpointingOptions options) : options_(options) {
  const bool negative = options_.min_silence.count() < 0 || options_.max_silence.count() < 0 ||
                        options_.mid_number_extra.count() < 0;
  if (negative || options_.min_silence > options_.max_silence) {
    throw Error(Status::invalid_argument,
                "endpointing: need 0 <= min_silence (" + std::to_string(options_.min_silence.count()) +
                    " ms) <= max_silence (" + std::to_string(options_.max_silence.count()) +
                    " ms) and mid_number_extra >= 0");
  }
}

void Endpointer::on_speech_start(milliseconds) {
  speaking_ = true;
  silence_since_.reset();
  if (ended_) return;
  vad_heard_ = true;
  heard_ = true;
}

void Endpointer::on_speech_end(milliseconds t) {
  speaking_ = false;
  if (ended_) return;
  silence_since_ = t;
  vad_heard_ = true;  // a VAD is at work, even if its speech start came before reset()
}

void Endpointer::on_partial(std::string_view text, milliseconds t) {
  text = trim(text);
  if (ended_ || text.empty()) return;  // some STTs send empty partials between words
  partial_.assign(text);
  heard_ = true;
  // Without a VAD in the turn, transcripts are the only sign of speech.
  if (!vad_heard_) silence_since_ = t;
}

void Endpointer::on_final(std::string_view text, milliseconds t) {
  if (ended_) return;
  text = trim(text);
  partial_.clear();
  if (!text.empty()) {
    if (!finals_.empty()) finals_ += ' ';
    finals_.append(text);
    heard_ = true;
  }
  final_at_ = t;
  if (!vad_heard_) silence_since_ = t;
}

std::optional<Endpointer::Decision> Endpointer::decide() const {
  if (ended_ || speaking_ || !heard_ || !silence_since_) return std::nullopt;
  const bool settled = !finals_.empty() && partial_.empty();
  if (!settled) return Decision{EndReason::max_silence, *silence_since_ + options_.max_silence, false};
  const bool mid_number =
      options_.mid_number_extra.count() > 0 && ends_mid_number(finals_, options_.mid_number_min_digits);
  const milliseconds wait =
      std::min(options_.min_silence + (mid_number ? options_.mid_number_extra : milliseconds{0}), options_.max_silence);
  // A final that comes after the silence has already run ends the turn on arrival.
  return Decision{EndReason::final_plus_silence, std::max(*silence_since_ + wait, final_at_), mid_number};
}

std::optional<EndOfTurn> Endpointer::poll(milliseconds now) {
  const std::optional<Decision> decision = decide();
  if (!decision || now < decision->at) return std::nullopt;
  ended_ = true;
  return EndOfTurn{decision->reason, text(), decision->at, decision->mid_number};
}

std::optional<milliseconds> Endpointer::deadline() const {
  const std::optional<Decision> decision = decide();
  if (!decision) return std::nullopt;
  return decision->at;
}

void Endpointer::reset() {
  finals_.clear();
  partial_.clear();
  ended_ = false;
  heard_ = vad_heard_ = speaking_;  // a caller still talking is already in the next turn
  silence_since_.reset();
  final_at_ = milliseconds{0};
}

std::string Endpointer::text() const {
  if (partial_.empty()) return finals_;
  if (finals_.empty()) return partial_;
  return finals_ + ' ' + partial_;
}

}  // namespace parley::pipeline
