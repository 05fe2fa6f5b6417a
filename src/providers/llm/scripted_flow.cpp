#include "providers/llm/scripted_flow.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

namespace parley::providers::scripted {
namespace {

using nlohmann::json;
using Words = std::vector<std::string>;

// Regexes see at most this much of an utterance. libstdc++'s matcher recurses per input
// character, and a caller (or a runaway transcript) must not be able to exhaust the stack.
constexpr size_t kMaxMatchedBytes = 1000;

bool is_ascii_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_high(char c) { return static_cast<unsigned char>(c) >= 0x80; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool all_digits(std::string_view word) {
  return !word.empty() && std::all_of(word.begin(), word.end(), is_digit);
}

Words split_words(std::string_view normalized) {
  Words words;
  size_t i = 0;
  while (i < normalized.size()) {
    const size_t end = std::min(normalized.find(' ', i), normalized.size());
    if (end > i) words.emplace_back(normalized.substr(i, end - i));
    i = end + 1;
  }
  return words;
}

std::string join(const Words &words, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to && i < words.size(); ++i) out += (out.empty() ? "" : " ") + words[i];
  return out;
}

template <typename Container>
std::string join_names(const Container &names) {
  std::string out;
  for (const auto &name : names) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

// ---- numbers spoken as words ------------------------------------------------------------

constexpr std::array<std::string_view, 20> kSmall = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
constexpr std::array<std::string_view, 8> kTens = {"twenty", "thirty", "forty", "fifty",
                                                   "sixty", "seventy", "eighty", "ninety"};

std::optional<int> small_value(std::string_view word) {
  for (size_t i = 0; i < kSmall.size(); ++i)
    if (kSmall[i] == word) return static_cast<int>(i);
  return std::nullopt;
}

std::optional<int> tens_value(std::string_view word) {
  for (size_t i = 0; i < kTens.size(); ++i)
    if (kTens[i] == word) return static_cast<int>(20 + 10 * i);
  return std::nullopt;
}

std::optional<int64_t> digits_value(std::string_view word) {
  if (!all_digits(word) || word.size() > 15) return std::nullopt;
  int64_t value = 0;
  std::from_chars(word.data(), word.data() + word.size(), value);
  return value;
}

// Reads a cardinal number starting at words[i] ("twenty five", "one hundred and five",
// "a thousand", "42"); `end` is set past it. Stops where the words stop making one number,
// so "ten fifteen" reads as 10 and leaves "fifteen".
std::optional<int64_t> parse_number(const Words &w, size_t i, size_t &end) {
  if (i >= w.size()) return std::nullopt;
  if (auto value = digits_value(w[i])) {
    end = i + 1;
    return value;
  }
  enum class Last { none, unit, teen, tens, hundred, scale, conjunction };
  Last last = Last::none;
  int64_t total = 0;
  int64_t current = 0;
  size_t j = i;
  for (; j < w.size(); ++j) {
    const std::string &word = w[j];
    const bool next_is_scale = j + 1 < w.size() && (w[j + 1] == "hundred" || w[j + 1] == "thousand" || w[j + 1] == "million");
    const bool open = last == Last::none || last == Last::hundred || last == Last::scale || last == Last::conjunction;
    if (auto v = small_value(word)) {
      if (*v == 0) {
        if (last != Last::none) break;
        ++j;
        last = Last::unit;
        break;  // "zero" is a number on its own
      }
      const bool unit = *v < 10;
      if (!(open || (unit && last == Last::tens))) break;
      current += *v;
      last = unit ? Last::unit : Last::teen;
    } else if (auto t = tens_value(word)) {
      if (!open) break;
      current += *t;
      last = Last::tens;
    } else if (word == "a" && last == Last::none && next_is_scale) {
      current = 1;
      last = Last::unit;
    } else if (word == "hundred") {
      if (last != Last::unit && last != Last::teen) break;
      current *= 100;
      last = Last::hundred;
    } else if (word == "thousand" || word == "million") {
      if (last == Last::none || last == Last::conjunction || last == Last::scale) break;
      total += current * (word == "thousand" ? 1000 : 1000000);
      current = 0;
      last = Last::scale;
    } else if (word == "and" && (last == Last::hundred || last == Last::scale) && j + 1 < w.size() &&
               (small_value(w[j + 1]) || tens_value(w[j + 1]))) {
      last = Last::conjunction;
    } else {
      break;
    }
  }
  if (last == Last::none) return std::nullopt;
  end = j;
  return total + current;
}

// ---- slot extractors --------------------------------------------------------------------

constexpr std::array<std::string_view, 7> kDays = {"monday", "tuesday", "wednesday", "thursday",
                                                   "friday", "saturday", "sunday"};

std::string capitalised(std::string word) {
  if (!word.empty() && word[0] >= 'a' && word[0] <= 'z') word[0] = static_cast<char>(word[0] - 'a' + 'A');
  return word;
}

std::optional<std::string> extract_day(const Words &words) {
  for (const auto &word : words) {
    for (auto day : kDays) {
      if (word == day || (word.size() == day.size() + 1 && word.starts_with(day) && word.back() == 's'))
        return capitalised(std::string(day));
    }
  }
  return std::nullopt;
}

enum class Meridiem { none, am, pm };

// "a m", "am", "p m", "pm", "in the morning", "in the afternoon|evening", "at night", "tonight".
Meridiem read_meridiem(const Words &w, size_t &j) {
  auto at = [&](size_t k, std::string_view word) { return k < w.size() && w[k] == word; };
  if (at(j, "a") && at(j + 1, "m")) return j += 2, Meridiem::am;
  if (at(j, "p") && at(j + 1, "m")) return j += 2, Meridiem::pm;
  if (at(j, "am")) return j += 1, Meridiem::am;
  if (at(j, "pm")) return j += 1, Meridiem::pm;
  if (at(j, "in") && at(j + 1, "the") && at(j + 2, "morning")) return j += 3, Meridiem::am;
  if (at(j, "in") && at(j + 1, "the") && (at(j + 2, "afternoon") || at(j + 2, "evening"))) return j += 3, Meridiem::pm;
  if (at(j, "at") && at(j + 1, "night")) return j += 2, Meridiem::pm;
  if (at(j, "tonight")) return j += 1, Meridiem::pm;
  return Meridiem::none;
}

std::optional<std::string> format_time(int64_t hour, int64_t minute, Meridiem meridiem) {
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return std::nullopt;
  char text[16];
  if (meridiem != Meridiem::none && hour <= 12) {
    const int64_t h12 = hour == 0 ? 12 : hour;
    std::snprintf(text, sizeof text, "%d:%02d %s", static_cast<int>(h12), static_cast<int>(minute),
                  meridiem == Meridiem::am ? "AM" : "PM");
  } else {
    std::snprintf(text, sizeof text, "%d:%02d", static_cast<int>(hour), static_cast<int>(minute));
  }
  return std::string(text);
}

// "10:30", "10am", "10:30pm" as one word.
bool read_clock_word(std::string_view word, int64_t &hour, int64_t &minute, Meridiem &meridiem) {
  if (word.ends_with("am") || word.ends_with("pm")) {
    meridiem = word.ends_with("am") ? Meridiem::am : Meridiem::pm;
    word.remove_suffix(2);
  }
  const size_t colon = word.find(':');
  const std::string_view h = word.substr(0, colon);
  const std::string_view m = colon == std::string_view::npos ? std::string_view("0") : word.substr(colon + 1);
  if (!all_digits(h) || h.size() > 2 || !all_digits(m) || m.size() > 2) return false;
  if (colon == std::string_view::npos && meridiem == Meridiem::none) return false;  // a bare number
  hour = *digits_value(h);
  minute = *digits_value(m);
  return true;
}

// A time starting at words[i], or nullopt.
std::optional<std::string> time_at(const Words &w, size_t i) {
  const std::string &word = w[i];
  if (word == "noon" || word == "midday") return "12:00 PM";
  if (word == "midnight") return "12:00 AM";

  // "half past two", "quarter to three", "twenty past four", "ten to six"
  size_t j = i;
  std::optional<int64_t> minutes;
  if (word == "half" || word == "quarter") {
    minutes = word == "half" ? 30 : 15;
    j = i + 1;
  } else if (size_t end = 0; auto n = parse_number(w, i, end)) {
    if (*n >= 1 && *n <= 30) minutes = n, j = end;
    if (minutes && j < w.size() && (w[j] == "minutes" || w[j] == "minute")) ++j;
  }
  if (minutes && j < w.size() && (w[j] == "past" || w[j] == "after" || (w[j] == "to" && word != "half"))) {
    const bool to = w[j] == "to";
    size_t end = 0;
    if (auto hour = parse_number(w, j + 1, end); hour && *hour >= 1 && *hour <= 12) {
      Meridiem meridiem = read_meridiem(w, end);
      if (!to) return format_time(*hour, *minutes, meridiem);
      return format_time(*hour == 1 ? 12 : *hour - 1, 60 - *minutes, meridiem);
    }
  }

  // "10:30", "10am", "ten thirty a m", "two o'clock", "ten"
  int64_t hour = 0;
  int64_t minute = 0;
  Meridiem meridiem = Meridiem::none;
  j = i + 1;
  if (!read_clock_word(word, hour, minute, meridiem)) {
    size_t end = 0;
    auto h = parse_number(w, i, end);
    if (!h || *h > 23 || (all_digits(word) && word.size() > 2)) return std::nullopt;
    hour = *h;
    j = end;
    if (j < w.size() && (w[j] == "o'clock" || w[j] == "oclock")) {
      ++j;
    } else if (j + 1 < w.size() && w[j] == "o" && w[j + 1] == "clock") {
      j += 2;
    } else if (j + 1 < w.size() && (w[j] == "oh" || w[j] == "o") && small_value(w[j + 1]).value_or(0) >= 1 &&
               small_value(w[j + 1]).value_or(10) <= 9) {
      minute = *small_value(w[j + 1]);
      j += 2;
    } else if (size_t m_end = 0; auto m = parse_number(w, j, m_end)) {
      if (*m >= 10 && *m <= 59) minute = *m, j = m_end;
    }
  }
  if (meridiem == Meridiem::none) meridiem = read_meridiem(w, j);
  return format_time(hour, minute, meridiem);
}

std::optional<std::string> extract_time(const Words &words) {
  for (size_t i = 0; i < words.size(); ++i) {
    if (auto time = time_at(words, i)) return time;
  }
  return std::nullopt;
}

std::optional<std::string> extract_number(const Words &words) {
  for (size_t i = 0; i < words.size(); ++i) {
    size_t end = 0;
    if (auto n = parse_number(words, i, end)) return std::to_string(*n);
    // "2.5" survives normalisation as one word
    if (const auto dot = words[i].find('.'); dot != std::string::npos && all_digits(words[i].substr(0, dot)) &&
                                             all_digits(words[i].substr(dot + 1)))
      return words[i];
  }
  return std::nullopt;
}

// The digits a word stands for: "four" -> "4", "oh" -> "0", "456" -> "456"; "" if none.
std::string digit_word(std::string_view word) {
  if (word == "oh" || word == "o") return "0";
  if (auto v = small_value(word); v && *v <= 9) return std::string(1, static_cast<char>('0' + *v));
  if (all_digits(word)) return std::string(word);
  return {};
}

// The longest run of spoken digits ("double four" repeats). "oh" alone is an interjection.
std::optional<std::string> extract_digits(const Words &words) {
  std::string best;
  std::string run;
  bool run_has_digit = false;
  auto close_run = [&] {
    if (run_has_digit && run.size() > best.size()) best = run;
    run.clear();
    run_has_digit = false;
  };
  for (size_t i = 0; i < words.size(); ++i) {
    int repeat = 1;
    size_t k = i;
    if ((words[i] == "double" || words[i] == "triple") && i + 1 < words.size() && !digit_word(words[i + 1]).empty()) {
      repeat = words[i] == "double" ? 2 : 3;
      k = i + 1;
    }
    const std::string digits = digit_word(words[k]);
    if (digits.empty()) {
      close_run();
      continue;
    }
    for (int r = 0; r < repeat; ++r) run += digits;
    run_has_digit = run_has_digit || (words[k] != "oh" && words[k] != "o");
    i = k;
  }
  close_run();
  if (best.empty()) return std::nullopt;
  return best;
}

bool contains_word(const Words &words, std::initializer_list<std::string_view> wanted) {
  return std::any_of(words.begin(), words.end(), [&](const std::string &word) {
    return std::find(wanted.begin(), wanted.end(), word) != wanted.end();
  });
}

// "no" words win: "not correct" is a no.
std::optional<bool> classify_yes_no(const Words &words) {
  if (contains_word(words, {"no", "nope", "nah", "not", "wrong", "incorrect", "negative", "don't", "dont"})) return false;
  if (contains_word(words, {"yes", "yeah", "yep", "yup", "yea", "sure", "correct", "right", "ok", "okay",
                            "absolutely", "definitely", "affirmative", "certainly", "please"}))
    return true;
  return std::nullopt;
}

std::optional<std::string> extract_name(const Words &w) {
  static const std::vector<std::vector<std::string_view>> kIntros = {
      {"my", "name", "is"}, {"my", "name's"}, {"the", "name", "is"}, {"name", "is"}, {"name's"},
      {"this", "is"},       {"it", "is"},     {"it's"},              {"i", "am"},    {"i'm"},
      {"call", "me"},       {"under"}};
  size_t from = 0;
  for (size_t i = 0; i < w.size() && from == 0; ++i) {
    for (const auto &intro : kIntros) {
      if (i + intro.size() > w.size() || !std::equal(intro.begin(), intro.end(), w.begin() + static_cast<long>(i))) continue;
      from = i + intro.size();
      break;
    }
  }
  static constexpr std::array<std::string_view, 13> kFillers = {"uh", "um", "er", "erm", "hmm", "well", "oh",
                                                                 "so", "yes", "yeah", "hi", "hello", "it's"};
  while (from < w.size() && std::find(kFillers.begin(), kFillers.end(), w[from]) != kFillers.end()) ++from;
  size_t to = w.size();
  while (to > from && (w[to - 1] == "please" || w[to - 1] == "thanks")) --to;
  if (to >= from + 2 && w[to - 2] == "thank" && w[to - 1] == "you") to -= 2;
  to = std::min(to, from + 4);  // a name, not a sentence
  if (to <= from) return std::nullopt;
  std::string name;
  for (size_t i = from; i < to; ++i) name += (name.empty() ? "" : " ") + capitalised(w[i]);
  return name;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::optional<std::string> extract_from_words(SlotType type, const Words &words, std::string_view raw) {
  switch (type) {
    case SlotType::day_of_week: return extract_day(words);
    case SlotType::time: return extract_time(words);
    case SlotType::number: return extract_number(words);
    case SlotType::digits: return extract_digits(words);
    case SlotType::yes_no: {
      auto answer = classify_yes_no(words);
      if (!answer) return std::nullopt;
      return std::string(*answer ? "yes" : "no");
    }
    case SlotType::name: return extract_name(words);
    case SlotType::text: {
      auto text = trim(raw);
      if (text.empty()) return std::nullopt;
      return std::string(text);
    }
  }
  return std::nullopt;
}

// ---- templates: "Booked for {day} at {time}." -------------------------------------------

struct Piece {
  bool slot = false;
  std::string text;  // literal text, or the slot's name
};
using Template = std::vector<Piece>;

bool valid_slot_name(std::string_view name, bool allow_dots) {
  if (name.empty() || is_digit(name[0]) || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return is_ascii_alnum(c) || c == '_' || (allow_dots && c == '.'); });
}

// `{slot}` inserts a slot; `{{` and `}}` are literal braces.
Template parse_template(std::string_view text, const std::string &path) {
  Template out;
  std::string literal;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      literal += c;
      ++i;
    } else if (c == '}') {
      throw FlowError(path, "unmatched '}' in template (write '}}' for a brace)");
    } else if (c == '{') {
      const size_t close = text.find('}', i);
      if (close == std::string_view::npos) throw FlowError(path, "unclosed '{' in template");
      const std::string_view name = text.substr(i + 1, close - i - 1);
      if (!valid_slot_name(name, true)) throw FlowError(path, "bad slot name \"" + std::string(name) + "\" in template");
      if (!literal.empty()) out.push_back({false, std::move(literal)});
      literal.clear();
      out.push_back({true, std::string(name)});
      i = close;
    } else {
      literal += c;
    }
  }
  if (!literal.empty()) out.push_back({false, std::move(literal)});
  return out;
}

struct SlotValue {
  std::string value;
  SlotType type = SlotType::text;
};
using Slots = std::map<std::string, SlotValue, std::less<>>;

std::string render(const Template &pieces, const Slots &slots) {
  std::string out;
  for (const auto &piece : pieces) {
    if (!piece.slot) {
      out += piece.text;
    } else if (auto it = slots.find(piece.text); it != slots.end()) {
      out += it->second.value;
    }
  }
  return out;
}

// ---- regex: ECMAScript plus named groups ------------------------------------------------

struct CompiledRegex {
  std::regex regex;
  std::vector<std::string> groups;  // the name of group k+1, "" when unnamed
};

// std::regex has no named groups: rewrite "(?<name>" to "(" and remember which capture
// number each name got. Captures are numbered by their opening parenthesis, outside
// character classes, skipping "(?:", "(?=" and "(?!".
CompiledRegex compile_regex(const std::string &pattern, const std::string &path) {
  // std::regex compiles by recursive descent: bound what a flow can ask of the stack.
  constexpr size_t kMaxPattern = 2000;
  constexpr int kMaxDepth = 32;
  constexpr size_t kMaxRepeats = 1000;
  size_t repeats = 1;
  if (pattern.size() > kMaxPattern) throw FlowError(path, "invalid regex: longer than 2000 bytes");
  CompiledRegex out;
  std::string rewritten;
  bool in_class = false;
  int depth = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (!in_class && c == '(' && ++depth > kMaxDepth) throw FlowError(path, "invalid regex: groups nested deeper than 32");
    if (!in_class && c == ')') --depth;
    if (!in_class && c == '{') {
      // libstdc++ unrolls a{n,m} into m copies; nested counts multiply.
      size_t bound = 0;
      for (size_t k = i + 1; k < pattern.size() && (is_digit(pattern[k]) || pattern[k] == ','); ++k) {
        bound = pattern[k] == ',' ? 0 : std::min<size_t>(bound * 10 + static_cast<size_t>(pattern[k] - '0'), kMaxRepeats + 1);
      }
      repeats *= std::max<size_t>(bound, 1);
      if (repeats > kMaxRepeats) throw FlowError(path, "invalid regex: counted repetitions multiply past 1000");
    }
    if (c == '\\' && i + 1 < pattern.size()) {
      rewritten += pattern.substr(i, 2);
      ++i;
      continue;
    }
    if (in_class) {
      in_class = c != ']';
    } else if (c == '[') {
      in_class = true;
    } else if (c == '(' && i + 2 < pattern.size() && pattern[i + 1] == '?' && pattern[i + 2] == '<' &&
               i + 3 < pattern.size() && pattern[i + 3] != '=' && pattern[i + 3] != '!') {
      const size_t close = pattern.find('>', i + 3);
      const std::string name = close == std::string::npos ? "" : pattern.substr(i + 3, close - i - 3);
      if (!valid_slot_name(name, false)) throw FlowError(path, "invalid regex: bad group name at offset " + std::to_string(i));
      if (std::find(out.groups.begin(), out.groups.end(), name) != out.groups.end())
        throw FlowError(path, "invalid regex: group name \"" + name + "\" used twice");
      if (name == "tool_result") throw FlowError(path, "invalid regex: \"tool_result\" is a reserved slot name");
      out.groups.push_back(name);
      rewritten += '(';
      i = close;
      continue;
    } else if (c == '(' && !(i + 1 < pattern.size() && pattern[i + 1] == '?')) {
      out.groups.emplace_back();
    }
    rewritten += c;
  }
  try {
    out.regex = std::regex(rewritten, std::regex::ECMAScript | std::regex::icase);
  } catch (const std::regex_error &e) {
    throw FlowError(path, std::string("invalid regex: ") + e.what());
  }
  return out;
}

// ---- the compiled flow --------------------------------------------------------------------

struct Reply {
  std::vector<Template> variants;  // empty: says nothing
  std::string path;                // picks the variant, with the seed and the turn
};

struct ToolAction {
  std::string name;
  json arguments;  // string values are templates
  std::string path;
};

struct Phrase {
  Words words;
  std::vector<bool> prefix;  // word k ended in '*': matches any word starting with it
};

struct Intent {
  std::string name;
  std::string path;
  std::vector<Phrase> any, all, none;
  std::optional<bool> yes_no;
  std::optional<CompiledRegex> regex;
  std::vector<std::pair<std::string, SlotType>> slots;
  Reply reply;
  std::string next_name;
  std::string next_path;
  int next = -1;  // -1: stay
  std::vector<ToolAction> tools;
  std::vector<Template> samples;
};

struct State {
  std::string name;
  std::string path;
  Reply entry;
  std::vector<ToolAction> tools;  // called on entry
  std::vector<Intent> intents;
  std::optional<Reply> fallback;
  bool end = false;
};

// What one turn says before it waits: a reply and the tool calls that follow it.
struct Step {
  const Reply *reply = nullptr;
  const std::vector<ToolAction> *tools = nullptr;  // never null
  int turn = 0;
};

const std::vector<ToolAction> kNoTools;

struct Conversation {
  int state = 0;
  Slots slots;
  int turn = 0;
};

bool phrase_matches(const Phrase &phrase, const Words &words) {
  if (phrase.words.empty() || phrase.words.size() > words.size()) return false;
  for (size_t i = 0; i + phrase.words.size() <= words.size(); ++i) {
    bool ok = true;
    for (size_t k = 0; k < phrase.words.size() && ok; ++k) {
      const std::string &word = words[i + k];
      ok = phrase.prefix[k] ? word.starts_with(phrase.words[k]) : word == phrase.words[k];
    }
    if (ok) return true;
  }
  return false;
}

uint64_t fnv1a(uint64_t hash, std::string_view bytes) {
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

}  // namespace

// ---- public helpers -----------------------------------------------------------------------

FlowError::FlowError(std::string path, std::string problem)
    : Error(Status::config, path + ": " + problem), path_(std::move(path)), problem_(std::move(problem)) {}

namespace {
constexpr std::array<std::pair<SlotType, const char *>, 7> kSlotTypes = {{
    {SlotType::day_of_week, "day_of_week"},
    {SlotType::time, "time"},
    {SlotType::number, "number"},
    {SlotType::digits, "digits"},
    {SlotType::yes_no, "yes_no"},
    {SlotType::name, "name"},
    {SlotType::text, "text"},
}};
}  // namespace

std::optional<SlotType> slot_type_from_name(std::string_view name) {
  for (const auto &[type, text] : kSlotTypes)
    if (name == text) return type;
  return std::nullopt;
}

const char *slot_type_name(SlotType type) noexcept {
  for (const auto &[t, text] : kSlotTypes)
    if (t == type) return text;
  return "unknown";
}

std::string normalize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto push_space = [&] {
    if (!out.empty() && out.back() != ' ') out += ' ';
  };
  auto word_char = [](char c) { return is_ascii_alnum(c) || is_high(c); };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    size_t width = 1;
    if (text.substr(i, 3) == "\xE2\x80\x99" || text.substr(i, 3) == "\xE2\x80\x98") {
      c = '\'';  // typographic quotes, as STT engines and phones write "it\u2019s"
      width = 3;
    }
    const char prev = i > 0 ? text[i - 1] : ' ';
    const char next = i + width < text.size() ? text[i + width] : ' ';
    if (width == 1 && word_char(c)) {
      out += lower(c);
    } else if (c == '\'' && word_char(prev) && word_char(next)) {
      out += c;  // don't, o'clock
    } else if ((c == ':' || c == '.') && is_digit(prev) && is_digit(next)) {
      out += c;  // 10:30, 2.5
    } else if (c == ',' && is_digit(prev) && is_digit(next)) {
      // 1,000
    } else {
      push_space();
    }
    i += width - 1;
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::optional<std::string> extract_slot(SlotType type, std::string_view utterance) {
  return extract_from_words(type, split_words(normalize(utterance)), utterance);
}

std::vector<std::string_view> split_tokens(std::string_view text) {
  std::vector<std::string_view> tokens;
  auto word_char = [](char c) { return is_ascii_alnum(c) || is_high(c); };
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    while (i < text.size() && is_space(text[i])) ++i;
    if (i < text.size()) {
      if (word_char(text[i])) {
        while (i < text.size() && word_char(text[i])) ++i;
      } else if (text[i] == '\'' && i == start && i > 0 && word_char(text[i - 1]) && i + 1 < text.size() &&
                 word_char(text[i + 1])) {
        ++i;  // "'t" of "didn't", "'s" of "it's": one token, as a BPE model splits them
        while (i < text.size() && word_char(text[i])) ++i;
      } else {
        ++i;
      }
    }
    tokens.push_back(text.substr(start, i - start));
  }
  return tokens;
}

// ---- the flow -----------------------------------------------------------------------------

struct Flow::Impl {
  std::string name;
  std::vector<State> states;
  std::map<std::string, int, std::less<>> index;
  int start = 0;
  std::string start_name;
  std::vector<Intent> global_intents;
  Reply fallback;
  std::map<std::string, SlotType, std::less<>> slot_types;  // every slot the flow can fill

  std::vector<Step> take_turn(Conversation &c, std::string_view utterance, std::string &intent_name) const;
  bool match(const Intent &intent, std::string_view raw, const std::string &normalized, const Words &words,
             Slots &slots) const;
  static Step entry_step(const State &state, int turn) { return {&state.entry, &state.tools, turn}; }
};

bool Flow::Impl::match(const Intent &intent, std::string_view raw, const std::string &normalized, const Words &words,
                       Slots &slots) const {
  auto matches = [&](const Phrase &p) { return phrase_matches(p, words); };
  if (!intent.any.empty() && std::none_of(intent.any.begin(), intent.any.end(), matches)) return false;
  if (!std::all_of(intent.all.begin(), intent.all.end(), matches)) return false;
  if (std::any_of(intent.none.begin(), intent.none.end(), matches)) return false;
  if (intent.yes_no && classify_yes_no(words) != intent.yes_no) return false;

  std::map<std::string, std::string, std::less<>> captured;
  if (intent.regex) {
    std::smatch m;
    if (!std::regex_search(normalized, m, intent.regex->regex)) return false;
    for (size_t g = 0; g < intent.regex->groups.size(); ++g) {
      if (!intent.regex->groups[g].empty() && m[g + 1].matched) captured[intent.regex->groups[g]] = m[g + 1].str();
    }
  }
  Slots found;
  for (const auto &[slot, type] : intent.slots) {
    auto it = captured.find(slot);
    std::optional<std::string> value = it == captured.end()
                                           ? extract_from_words(type, words, raw)
                                           : extract_from_words(type, split_words(it->second), it->second);
    if (!value) return false;
    found[slot] = {std::move(*value), type};
  }
  for (auto &[slot, text] : captured) {
    if (!found.count(slot)) found[slot] = {std::move(text), SlotType::text};
  }
  for (auto &[slot, value] : found) slots[slot] = std::move(value);
  return true;
}

std::vector<Step> Flow::Impl::take_turn(Conversation &c, std::string_view utterance, std::string &intent_name) const {
  const State &state = states[static_cast<size_t>(c.state)];
  if (state.end) {
    // Nothing leaves an end state: it says its piece (and hangs up) again.
    intent_name.clear();
    return {entry_step(state, c.turn)};
  }
  std::string normalized = normalize(utterance);
  if (normalized.size() > kMaxMatchedBytes) {
    normalized.resize(kMaxMatchedBytes);
    if (const auto space = normalized.rfind(' '); space != std::string::npos) normalized.resize(space);
  }
  const Words words = split_words(normalized);
  const Intent *hit = nullptr;
  for (const auto *list : {&state.intents, &global_intents}) {
    for (const auto &intent : *list) {
      if (match(intent, utterance, normalized, words, c.slots)) {
        hit = &intent;
        break;
      }
    }
    if (hit) break;
  }
  if (!hit) {
    intent_name = "fallback";
    return {Step{state.fallback ? &*state.fallback : &fallback, &kNoTools, c.turn}};
  }
  intent_name = hit->name;
  std::vector<Step> steps{Step{&hit->reply, &hit->tools, c.turn}};
  if (hit->next >= 0) {
    c.state = hit->next;
    steps.push_back(entry_step(states[static_cast<size_t>(hit->next)], c.turn));
  }
  return steps;
}

namespace {

// The result of a tool call becomes {tool_result}, and each field of a JSON object result
// {tool_result.field}, for the replies that follow it.
void record_tool_result(Slots &slots, const std::string &content) {
  for (auto it = slots.begin(); it != slots.end();) {
    it = (it->first == "tool_result" || it->first.starts_with("tool_result.")) ? slots.erase(it) : std::next(it);
  }
  slots["tool_result"] = {content, SlotType::text};
  const json result = json::parse(content, nullptr, false);
  if (!result.is_object()) return;
  for (const auto &[key, value] : result.items()) {
    slots["tool_result." + key] = {value.is_string() ? value.get<std::string>() : value.dump(), SlotType::text};
  }
}

json render_arguments(const json &value, const Slots &slots) {
  if (value.is_string()) {
    const Template pieces = parse_template(value.get<std::string>(), "");
    // An argument that is exactly "{slot}" keeps the slot's type: a number slot is a JSON
    // number, a slot not filled yet is null.
    if (pieces.size() == 1 && pieces[0].slot) {
      auto it = slots.find(pieces[0].text);
      if (it == slots.end()) return nullptr;
      if (it->second.type == SlotType::number) {
        json number = json::parse(it->second.value, nullptr, false);
        if (number.is_number()) return number;
      }
      return it->second.value;
    }
    return render(pieces, slots);
  }
  if (value.is_object()) {
    json out = json::object();
    for (const auto &[key, item] : value.items()) out[key] = render_arguments(item, slots);
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (const auto &item : value) out.push_back(render_arguments(item, slots));
    return out;
  }
  return value;
}

}  // namespace

Turn Flow::respond(const std::vector<ChatMessage> &messages, uint64_t seed) const {
  const Impl &f = *impl_;
  Conversation c;
  c.state = f.start;
  std::vector<Step> steps = {Impl::entry_step(f.states[static_cast<size_t>(f.start)], 0)};
  Turn out;
  size_t rounds = 0;  // tool-result rounds since the last user message
  bool in_tool_results = false;
  std::string_view last_role;
  for (const auto &message : messages) {
    if (message.role != "user" && message.role != "assistant" && message.role != "tool") continue;
    last_role = message.role;
    if (message.role == "user") {
      ++c.turn;
      steps = f.take_turn(c, message.content, out.intent);
      rounds = 0;
      in_tool_results = false;
    } else if (message.role == "tool") {
      record_tool_result(c.slots, message.content);
      if (!in_tool_results) ++rounds;
      in_tool_results = true;
    } else {
      in_tool_results = false;
    }
  }
  out.state = f.states[static_cast<size_t>(c.state)].name;
  for (const auto &[slot, value] : c.slots) out.slots[slot] = value.value;
  if (last_role == "assistant") return out;  // the model has already spoken

  // A turn's steps are said in rounds: each step that calls tools ends a round, and the
  // next round is the answer to the request that carries those tools' results.
  size_t round = 0;
  int call_number = 0;
  for (const Step &step : steps) {
    if (round == rounds) {
      if (!step.reply->variants.empty()) {
        const uint64_t key = fnv1a(fnv1a(14695981039346656037ULL ^ seed, std::to_string(step.turn)), step.reply->path);
        const auto &variant = step.reply->variants[key % step.reply->variants.size()];
        const std::string text = render(variant, c.slots);
        if (!text.empty()) out.text += (out.text.empty() ? "" : " ") + text;
      }
      for (const auto &action : *step.tools) {
        out.tool_calls.push_back(ToolCall{"call_" + std::to_string(c.turn) + "_" + std::to_string(call_number),
                                          action.name,
                                          render_arguments(action.arguments, c.slots)
                                              .dump(-1, ' ', false, json::error_handler_t::replace)});
        ++call_number;
      }
    } else {
      call_number += static_cast<int>(step.tools->size());
    }
    if (!step.tools->empty() && ++round > rounds) break;
  }
  return out;
}

// ---- parsing ------------------------------------------------------------------------------

namespace {

std::string describe(const json &value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 60) text = text.substr(0, 60) + "...";
  return std::string(value.type_name()) + " " + text;
}

// One JSON object of the flow: typed accessors whose errors carry the field's path, and a
// check that every key was understood.
class Reader {
 public:
  Reader(const json &object, std::string path) : object_(object), path_(std::move(path)) {
    if (!object_.is_object()) throw FlowError(path_, "expected an object; got " + describe(object_));
  }
  const json *get(std::string_view key) {
    seen_.emplace(key);
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }
  std::optional<std::string> optional_string(std::string_view key) {
    const json *value = get(key);
    if (!value) return std::nullopt;
    if (!value->is_string()) fail(key, "expected a string; got " + describe(*value));
    return value->get<std::string>();
  }
  bool boolean(std::string_view key, bool fallback) {
    const json *value = get(key);
    if (!value) return fallback;
    if (!value->is_boolean()) fail(key, "expected true or false; got " + describe(*value));
    return value->get<bool>();
  }
  std::string child(std::string_view key) const { return path_ + "." + std::string(key); }
  const std::string &path() const { return path_; }
  [[noreturn]] void fail(std::string_view key, const std::string &problem) const { throw FlowError(child(key), problem); }
  void reject_unknown_keys() const {
    for (const auto &item : object_.items()) {
      if (!seen_.count(item.key())) throw FlowError(child(item.key()), "unknown key");
    }
  }

 private:
  const json &object_;
  std::string path_;
  std::set<std::string, std::less<>> seen_;
};

std::string index_path(const std::string &path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

class Parser {
 public:
  explicit Parser(Flow::Impl &flow) : f_(flow) {}

  void document(const json &doc) {
    Reader r(doc, "$");
    if (const json *version = r.get("version"); version && *version != 1)
      r.fail("version", "expected 1; got " + describe(*version));
    f_.name = r.optional_string("name").value_or("");
    r.optional_string("description");
    states(r);
    f_.start_name = r.optional_string("start").value_or("");
    if (f_.start_name.empty()) r.fail("start", "missing: name the state the conversation starts in");
    if (auto it = f_.index.find(f_.start_name); it != f_.index.end()) {
      f_.start = it->second;
    } else {
      r.fail("start", unknown_state(f_.start_name));
    }
    f_.global_intents = intents(r, "global_intents");
    f_.fallback = reply(r, "fallback").value_or(Reply{{parse_template("Sorry, I didn't catch that.", "")}, "$.fallback"});
    r.reject_unknown_keys();
    resolve();
  }

 private:
  void states(Reader &r) {
    const json *states = r.get("states");
    if (!states) r.fail("states", "missing: a flow needs at least one state");
    if (!states->is_object() || states->empty())
      r.fail("states", "expected an object of states by name; got " + describe(*states));
    for (const auto &[name, value] : states->items()) {
      if (name.empty()) throw FlowError(r.child("states"), "a state needs a non-empty name");
      f_.index[name] = static_cast<int>(f_.index.size());
    }
    for (const auto &[name, value] : states->items()) f_.states.push_back(state(name, value, r.child("states") + "." + name));
  }

  State state(const std::string &name, const json &value, std::string path) {
    Reader r(value, path);
    State s;
    s.name = name;
    s.path = std::move(path);
    s.end = r.boolean("end", false);
    s.entry = reply(r, "entry").value_or(Reply{{}, r.child("entry")});
    s.tools = tool_actions(r, "tool_call");
    s.intents = intents(r, "intents");
    s.fallback = reply(r, "fallback");
    r.reject_unknown_keys();
    if (s.end && !s.intents.empty()) r.fail("intents", "an end state takes no intents");
    if (s.end && s.fallback) r.fail("fallback", "an end state has no fallback: it repeats its entry");
    return s;
  }

  std::vector<Intent> intents(Reader &r, std::string_view key) {
    std::vector<Intent> out;
    const json *list = r.get(key);
    if (!list) return out;
    if (!list->is_array()) r.fail(key, "expected an array of intents; got " + describe(*list));
    for (size_t i = 0; i < list->size(); ++i) out.push_back(intent((*list)[i], index_path(r.child(key), i)));
    return out;
  }

  Intent intent(const json &value, std::string path) {
    Reader r(value, path);
    Intent in;
    in.path = std::move(path);
    in.name = r.optional_string("name").value_or("");
    keywords(r, in);
    if (auto pattern = r.optional_string("regex")) {
      in.regex = compile_regex(*pattern, r.child("regex"));
      for (const auto &group : in.regex->groups)
        if (!group.empty()) declare_slot(group, SlotType::text, false);
    }
    slots(r, in);
    if (auto answer = r.optional_string("yes_no")) {
      if (*answer != "yes" && *answer != "no") r.fail("yes_no", "expected \"yes\" or \"no\"; got \"" + *answer + "\"");
      in.yes_no = *answer == "yes";
    }
    in.reply = reply(r, "reply").value_or(Reply{{}, r.child("reply")});
    if (auto next = r.optional_string("next")) {
      if (next->empty()) r.fail("next", "expected a state name; leave \"next\" out to stay in this state");
      in.next_name = *next;
      in.next_path = r.child("next");
    }
    in.tools = tool_actions(r, "tool_call");
    if (const json *samples = r.get("sample_utterances")) {
      if (!samples->is_array()) r.fail("sample_utterances", "expected an array of strings; got " + describe(*samples));
      for (size_t i = 0; i < samples->size(); ++i) {
        const std::string sample_path = index_path(r.child("sample_utterances"), i);
        if (!(*samples)[i].is_string()) throw FlowError(sample_path, "expected a string; got " + describe((*samples)[i]));
        in.samples.push_back(checked_template((*samples)[i].get<std::string>(), sample_path));
      }
    }
    r.reject_unknown_keys();  // first: a misspelt "keyword" is likelier than a missing matcher
    if (in.any.empty() && in.all.empty() && in.none.empty() && !in.regex && in.slots.empty() && !in.yes_no)
      throw FlowError(in.path, "an intent needs at least one of keywords, regex, slots or yes_no");
    return in;
  }

  void keywords(Reader &r, Intent &in) {
    const json *value = r.get("keywords");
    if (!value) return;
    const std::string path = r.child("keywords");
    if (value->is_array()) {
      in.any = phrases(*value, path);
    } else if (value->is_object()) {
      Reader k(*value, path);
      for (auto [key, target] : {std::pair{"any", &in.any}, std::pair{"all", &in.all}, std::pair{"none", &in.none}}) {
        if (const json *list = k.get(key)) *target = phrases(*list, k.child(key));
      }
      k.reject_unknown_keys();
    } else {
      r.fail("keywords", "expected an array of phrases or {\"any\", \"all\", \"none\"}; got " + describe(*value));
    }
    if (in.any.empty() && in.all.empty() && in.none.empty()) r.fail("keywords", "no phrases given");
  }

  std::vector<Phrase> phrases(const json &list, const std::string &path) {
    if (!list.is_array()) throw FlowError(path, "expected an array of phrases; got " + describe(list));
    std::vector<Phrase> out;
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string item_path = index_path(path, i);
      if (!list[i].is_string()) throw FlowError(item_path, "expected a string; got " + describe(list[i]));
      Phrase phrase;
      // Split on spaces first so a trailing '*' (prefix match) survives normalisation.
      std::string text = list[i].get<std::string>();
      std::replace_if(text.begin(), text.end(), is_space, ' ');
      for (const auto &raw : split_words(text)) {
        const bool star = raw.ends_with('*');
        const std::string core = normalize(star ? raw.substr(0, raw.size() - 1) : raw);
        if (star && core.empty()) throw FlowError(item_path, "a '*' must end a word");
        auto words = split_words(core);
        for (size_t k = 0; k < words.size(); ++k) {
          phrase.words.push_back(words[k]);
          phrase.prefix.push_back(star && k + 1 == words.size());
        }
      }
      if (phrase.words.empty()) throw FlowError(item_path, "an empty phrase matches nothing");
      out.push_back(std::move(phrase));
    }
    return out;
  }

  void slots(Reader &r, Intent &in) {
    const json *value = r.get("slots");
    if (!value) return;
    const std::string path = r.child("slots");
    if (!value->is_object() || value->empty())
      r.fail("slots", "expected an object of slot name to type; got " + describe(*value));
    for (const auto &[slot, type_value] : value->items()) {
      const std::string slot_path = path + "." + slot;
      if (!valid_slot_name(slot, false) || slot == "tool_result")
        throw FlowError(slot_path, "bad slot name (letters, digits and '_'; \"tool_result\" is reserved)");
      std::optional<SlotType> type;
      if (type_value.is_string()) type = slot_type_from_name(type_value.get<std::string>());
      if (!type) {
        std::vector<std::string> known;
        for (const auto &[t, text] : kSlotTypes) known.emplace_back(text);
        throw FlowError(slot_path, "expected a slot type (" + join_names(known) + "); got " + describe(type_value));
      }
      in.slots.emplace_back(slot, *type);
      declare_slot(slot, *type, true);
    }
  }

  void declare_slot(const std::string &slot, SlotType type, bool typed) {
    auto [it, inserted] = f_.slot_types.emplace(slot, type);
    if (!inserted && typed) it->second = type;
  }

  std::optional<Reply> reply(Reader &r, std::string_view key) {
    const json *value = r.get(key);
    if (!value) return std::nullopt;
    Reply out;
    out.path = r.child(key);
    if (value->is_string()) {
      out.variants.push_back(checked_template(value->get<std::string>(), out.path));
    } else if (value->is_array() && !value->empty()) {
      for (size_t i = 0; i < value->size(); ++i) {
        const std::string path = index_path(out.path, i);
        if (!(*value)[i].is_string()) throw FlowError(path, "expected a string; got " + describe((*value)[i]));
        out.variants.push_back(checked_template((*value)[i].get<std::string>(), path));
      }
    } else {
      r.fail(key, "expected a string or a non-empty array of strings (variants); got " + describe(*value));
    }
    return out;
  }

  std::vector<ToolAction> tool_actions(Reader &r, std::string_view key) {
    std::vector<ToolAction> out;
    const json *value = r.get(key);
    if (!value) return out;
    if (value->is_object()) {
      out.push_back(tool_action(*value, r.child(key)));
    } else if (value->is_array() && !value->empty()) {
      for (size_t i = 0; i < value->size(); ++i) out.push_back(tool_action((*value)[i], index_path(r.child(key), i)));
    } else {
      r.fail(key, "expected a tool call {\"name\", \"arguments\"} or an array of them; got " + describe(*value));
    }
    return out;
  }

  ToolAction tool_action(const json &value, std::string path) {
    Reader r(value, path);
    ToolAction action;
    action.path = std::move(path);
    action.name = r.optional_string("name").value_or("");
    const bool valid_name = !action.name.empty() && action.name.size() <= 64 &&
                            std::all_of(action.name.begin(), action.name.end(),
                                        [](char c) { return is_ascii_alnum(c) || c == '_' || c == '-'; });
    if (!valid_name) r.fail("name", "expected a tool name of 1 to 64 letters, digits, '_' or '-'");
    if (const json *arguments = r.get("arguments")) {
      if (!arguments->is_object()) r.fail("arguments", "expected an object; got " + describe(*arguments));
      action.arguments = *arguments;
      check_argument_templates(action.arguments, r.child("arguments"));
    } else {
      action.arguments = json::object();
    }
    r.reject_unknown_keys();
    return action;
  }

  void check_argument_templates(const json &value, const std::string &path) {
    if (value.is_string()) {
      checked_template(value.get<std::string>(), path);
    } else if (value.is_object()) {
      for (const auto &[key, item] : value.items()) check_argument_templates(item, path + "." + key);
    } else if (value.is_array()) {
      for (size_t i = 0; i < value.size(); ++i) check_argument_templates(value[i], index_path(path, i));
    }
  }

  // Parses a template and remembers its slots, checked once every slot is declared.
  Template checked_template(const std::string &text, const std::string &path) {
    Template t = parse_template(text, path);
    for (const auto &piece : t) {
      if (piece.slot) slot_refs_.push_back({piece.text, path});
    }
    return t;
  }

  std::string unknown_state(const std::string &name) const {
    std::vector<std::string> names;
    for (const auto &[n, i] : f_.index) names.push_back(n);
    return "unknown state \"" + name + "\" (states: " + join_names(names) + ")";
  }

  void resolve_next(Intent &in) const {
    if (in.next_name.empty()) return;
    auto it = f_.index.find(in.next_name);
    if (it == f_.index.end()) throw FlowError(in.next_path, unknown_state(in.next_name));
    in.next = it->second;
  }

  void resolve() {
    for (auto &s : f_.states)
      for (auto &in : s.intents) resolve_next(in);
    for (auto &in : f_.global_intents) resolve_next(in);
    for (const auto &[slot, path] : slot_refs_) {
      if (slot == "tool_result" || slot.starts_with("tool_result.")) continue;
      if (f_.slot_types.find(slot) == f_.slot_types.end()) {
        std::vector<std::string> names;
        for (const auto &[n, t] : f_.slot_types) names.push_back(n);
        throw FlowError(path, "unknown slot \"" + slot + "\" in template (slots: " + join_names(names) + ")");
      }
    }
  }

  struct SlotRef {
    std::string slot;
    std::string path;
  };

  Flow::Impl &f_;
  std::vector<SlotRef> slot_refs_;
};

}  // namespace

Flow::Flow(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Flow::~Flow() = default;

std::shared_ptr<const Flow> Flow::parse(const json &document) {
  auto impl = std::make_unique<Impl>();
  Parser(*impl).document(document);
  return std::shared_ptr<const Flow>(new Flow(std::move(impl)));
}

std::shared_ptr<const Flow> Flow::parse_text(std::string_view text) {
  json document = json::parse(text, nullptr, false);
  if (document.is_discarded()) {
    // Parse again with exceptions for nlohmann's line and column.
    try {
      document = json::parse(text);
    } catch (const json::exception &e) {
      std::string detail = e.what();
      if (const auto bracket = detail.find("] "); bracket != std::string::npos) detail.erase(0, bracket + 2);
      throw FlowError("$", "not valid JSON: " + detail);
    }
  }
  return parse(document);
}

const std::string &Flow::name() const noexcept { return impl_->name; }
const std::string &Flow::start_state() const noexcept { return impl_->start_name; }

// ---- JSGF -------------------------------------------------------------------------------

namespace {

// Rules for the typed slots, in the words pocketsphinx's en-us dictionary knows.
const char *jsgf_rule(SlotType type) {
  switch (type) {
    case SlotType::day_of_week: return "<day_of_week> = monday | tuesday | wednesday | thursday | friday | saturday | sunday;";
    case SlotType::time:
      return "<hour> = one | two | three | four | five | six | seven | eight | nine | ten | eleven | twelve;\n"
             "<minutes> = oh five | ten | fifteen | twenty | twenty five | thirty | thirty five | forty | forty five | fifty | fifty five;\n"
             "<meridiem> = a m | p m | in the morning | in the afternoon | in the evening;\n"
             "<time> = [at] (<hour> [o'clock | <minutes>] [<meridiem>] | (half past | quarter past | quarter to) <hour> [<meridiem>] | noon | midnight);";
    case SlotType::digits:
      return "<digit> = zero | oh | one | two | three | four | five | six | seven | eight | nine;\n"
             "<digits> = <digit>+;";
    case SlotType::number:
      return "<unit> = one | two | three | four | five | six | seven | eight | nine;\n"
             "<number> = zero | <unit> [hundred] | ten | eleven | twelve | thirteen | fourteen | fifteen | sixteen | seventeen | eighteen | nineteen"
             " | (twenty | thirty | forty | fifty | sixty | seventy | eighty | ninety) [<unit>];";
    case SlotType::yes_no:
      return "<yes> = yes | yeah | yep | sure | correct | right | okay | yes please | that's right;\n"
             "<no> = no | nope | wrong | no thanks;\n"
             "<yes_no> = <yes> | <no>;";
    case SlotType::name:
    case SlotType::text: return nullptr;  // no general grammar: only sample utterances
  }
  return nullptr;
}

std::string jsgf_words(std::string_view text) {
  std::string out;
  for (const auto &word : split_words(normalize(text))) out += (out.empty() ? "" : " ") + word;
  return out;
}

}  // namespace

std::string Flow::to_jsgf(std::string_view grammar_name) const {
  const Impl &f = *impl_;
  std::set<std::string> alternatives;
  std::set<SlotType> used;
  auto typed = [&](SlotType type) -> std::string {
    if (!jsgf_rule(type)) return {};
    used.insert(type);
    return std::string("<") + slot_type_name(type) + ">";
  };
  auto add_intent = [&](const Intent &in) {
    for (const auto &sample : in.samples) {
      std::string line;
      bool speakable = true;
      for (const auto &piece : sample) {
        std::string part;
        if (!piece.slot) {
          part = jsgf_words(piece.text);
        } else if (auto it = f.slot_types.find(piece.text); it != f.slot_types.end()) {
          part = typed(it->second);
          speakable = speakable && !part.empty();
        } else {
          speakable = false;
        }
        if (!part.empty()) line += (line.empty() ? "" : " ") + part;
      }
      if (speakable && !line.empty()) alternatives.insert(line);
    }
    for (const auto &phrase : in.any) {
      if (std::none_of(phrase.prefix.begin(), phrase.prefix.end(), [](bool p) { return p; }))
        alternatives.insert(join(phrase.words, 0, phrase.words.size()));
    }
    if (in.yes_no) {
      typed(SlotType::yes_no);
      alternatives.insert(*in.yes_no ? "<yes>" : "<no>");
    }
    if (in.samples.empty() && in.any.empty() && !in.regex) {
      for (const auto &[slot, type] : in.slots) {
        if (auto rule = typed(type); !rule.empty()) alternatives.insert(rule);
      }
    }
  };
  for (const auto &state : f.states)
    for (const auto &in : state.intents) add_intent(in);
  for (const auto &in : f.global_intents) add_intent(in);

  std::string name;
  for (char c : grammar_name) name += is_ascii_alnum(c) ? c : '_';
  if (name.empty()) name = "flow";
  std::string out = "#JSGF V1.0;\ngrammar " + name + ";\n\n";
  for (SlotType type : used) out += std::string(jsgf_rule(type)) + "\n";
  if (!used.empty()) out += "\n";
  out += "public <utterance> =";
  if (alternatives.empty()) out += " <NULL>";
  bool first = true;
  for (const auto &alternative : alternatives) {
    out += (first ? "\n    " : "\n  | ") + alternative;
    first = false;
  }
  out += ";\n";
  return out;
}

}  // namespace parley::providers::scripted
