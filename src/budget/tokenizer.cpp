#include "budget/tokenizer.hpp"

#include <charconv>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "budget/bpe.hpp"
#include "common/error.hpp"

namespace parley::budget {
namespace {

struct BuiltinSpecial {
  const char *text;
  Rank rank;
};
// The special tokens of each encoding, for the `.tiktoken` format, which does not list them.
constexpr BuiltinSpecial kCl100kSpecial[] = {{"<|endoftext|>", 100257},
                                             {"<|fim_prefix|>", 100258},
                                             {"<|fim_middle|>", 100259},
                                             {"<|fim_suffix|>", 100260},
                                             {"<|endofprompt|>", 100276}};
constexpr BuiltinSpecial kO200kSpecial[] = {{"<|endoftext|>", 199999}, {"<|endofprompt|>", 200018}};

std::map<std::string, Rank> builtin_special(Encoding encoding) {
  std::map<std::string, Rank> special;
  if (encoding == Encoding::cl100k_base) {
    for (const auto &s : kCl100kSpecial) special.emplace(s.text, s.rank);
  } else {
    for (const auto &s : kO200kSpecial) special.emplace(s.text, s.rank);
  }
  return special;
}

int base64_value(unsigned char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with padding. Returns false on any malformed input.
bool base64_decode(std::string_view in, std::string &out) {
  out.clear();
  if (in.empty() || in.size() % 4 != 0) return false;
  std::size_t padding = 0;
  if (in.back() == '=') padding = in[in.size() - 2] == '=' ? 2 : 1;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::size_t i = 0; i < in.size() - padding; ++i) {
    const int v = base64_value(static_cast<unsigned char>(in[i]));
    if (v < 0) return false;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return true;
}

[[noreturn]] void bad_line(std::string_view source, std::size_t line_number, const std::string &why) {
  throw Error(Status::format, std::string(source) + ":" + std::to_string(line_number) + ": " + why);
}

Rank parse_rank(std::string_view field, std::string_view source, std::size_t line_number) {
  Rank value = 0;
  const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (error != std::errc() || end != field.data() + field.size() || field.empty()) {
    bad_line(source, line_number, "expected a rank, got \"" + std::string(field.substr(0, 32)) + "\"");
  }
  return value;
}

void add_token(RankTable &ranks, std::string_view base64, Rank rank, std::string &scratch,
               std::string_view source, std::size_t line_number) {
  if (!base64_decode(base64, scratch)) {
    bad_line(source, line_number, "invalid base64 token \"" + std::string(base64.substr(0, 32)) + "\"");
  }
  try {
    ranks.add(scratch, rank);
  } catch (const Error &e) {
    bad_line(source, line_number, e.what());
  }
}

// Both line formats: "<base64> <rank>" and "! <first rank> <base64> <base64> ...".
RankTable parse_rank_lines(std::string_view text, std::string_view source) {
  RankTable ranks;
  std::string scratch;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) bad_line(source, line_number, "expected \"<base64 token> <rank>\"");
    const std::string_view first = line.substr(0, space);
    std::string_view rest = line.substr(space + 1);
    if (first != "!") {
      add_token(ranks, first, parse_rank(rest, source, line_number), scratch, source, line_number);
      continue;
    }
    const std::size_t offset_end = rest.find(' ');
    Rank rank = parse_rank(rest.substr(0, offset_end), source, line_number);
    rest = offset_end == std::string_view::npos ? std::string_view() : rest.substr(offset_end + 1);
    while (!rest.empty()) {
      const std::size_t token_end = rest.find(' ');
      add_token(ranks, rest.substr(0, token_end), rank++, scratch, source, line_number);
      rest = token_end == std::string_view::npos ? std::string_view() : rest.substr(token_end + 1);
    }
  }
  if (ranks.size() == 0) throw Error(Status::format, std::string(source) + ": no tokens");
  ranks.require_all_bytes();
  return ranks;
}

std::optional<Encoding> encoding_for_pattern(std::string_view pattern) {
  if (pattern == pattern_string(SplitPattern::cl100k)) return Encoding::cl100k_base;
  if (pattern == pattern_string(SplitPattern::o200k)) return Encoding::o200k_base;
  return std::nullopt;
}

struct JsonRanks {
  Encoding encoding;
  std::string bpe_ranks;
  std::map<std::string, Rank> special;
};

JsonRanks parse_json_envelope(std::string_view data, std::optional<Encoding> expected, std::string_view source) {
  const std::string where(source);
  nlohmann::json doc = nlohmann::json::parse(data, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) throw Error(Status::format, where + ": not a JSON object");
  for (const auto &[key, value] : doc.items()) {
    if (key != "pat_str" && key != "special_tokens" && key != "bpe_ranks" && key != "explicit_n_vocab") {
      throw Error(Status::format, where + ": $." + key + ": unknown key");
    }
  }
  if (!doc.contains("bpe_ranks") || !doc["bpe_ranks"].is_string()) {
    throw Error(Status::format, where + ": $.bpe_ranks: expected a string");
  }
  if (!doc.contains("pat_str") || !doc["pat_str"].is_string()) {
    throw Error(Status::format, where + ": $.pat_str: expected a string");
  }
  const auto encoding = encoding_for_pattern(doc["pat_str"].get_ref<const std::string &>());
  if (!encoding) {
    throw Error(Status::unsupported, where + ": $.pat_str: not the cl100k_base or o200k_base split pattern");
  }
  if (expected && *expected != *encoding) {
    throw Error(Status::format, where + ": holds " + encoding_name(*encoding) + ", expected " +
                                    encoding_name(*expected));
  }
  JsonRanks result{*encoding, std::move(doc["bpe_ranks"].get_ref<std::string &>()), {}};
  if (doc.contains("special_tokens")) {
    const auto &special = doc["special_tokens"];
    if (!special.is_object()) throw Error(Status::format, where + ": $.special_tokens: expected an object");
    for (const auto &[text, rank] : special.items()) {
      if (!rank.is_number_unsigned() || rank.get<std::uint64_t>() >= (1u << 30) || text.empty()) {
        throw Error(Status::format, where + ": $.special_tokens." + text + ": expected a rank");
      }
      result.special.emplace(text, rank.get<Rank>());
    }
  }
  return result;
}

bool starts_like_json(std::string_view data) {
  for (const char c : data) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{';
  }
  return false;
}

thread_local BpeScratch t_scratch;
thread_local std::vector<Rank> t_tokens;

}  // namespace

const char *encoding_name(Encoding encoding) noexcept {
  return encoding == Encoding::cl100k_base ? "cl100k_base" : "o200k_base";
}

std::optional<Encoding> encoding_from_name(std::string_view name) noexcept {
  if (name == "cl100k_base") return Encoding::cl100k_base;
  if (name == "o200k_base") return Encoding::o200k_base;
  return std::nullopt;
}

SplitPattern split_pattern(Encoding encoding) noexcept {
  return encoding == Encoding::cl100k_base ? SplitPattern::cl100k : SplitPattern::o200k;
}

std::optional<Encoding> encoding_for_model(std::string_view model) noexcept {
  const std::size_t slash = model.rfind('/');  // "openai/gpt-4o" -> "gpt-4o"
  if (slash != std::string_view::npos) model.remove_prefix(slash + 1);
  for (const std::string_view prefix : {"gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4",
                                        "gpt-oss", "gpt-realtime"}) {
    if (model.starts_with(prefix)) return Encoding::o200k_base;
  }
  for (const std::string_view prefix : {"gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada-002"}) {
    if (model.starts_with(prefix)) return Encoding::cl100k_base;
  }
  return std::nullopt;
}

Tokenizer::Tokenizer(Encoding encoding, RankTable ranks, std::map<std::string, Rank> special)
    : encoding_(encoding), ranks_(std::move(ranks)), special_(std::move(special)) {}

std::shared_ptr<const Tokenizer> Tokenizer::parse(std::string_view data, std::optional<Encoding> expected,
                                                  std::string_view source) {
  if (starts_like_json(data)) {
    JsonRanks json = parse_json_envelope(data, expected, source);
    RankTable ranks = parse_rank_lines(json.bpe_ranks, std::string(source) + " $.bpe_ranks");
    return std::shared_ptr<const Tokenizer>(new Tokenizer(json.encoding, std::move(ranks), std::move(json.special)));
  }
  if (!expected) {
    throw Error(Status::invalid_argument,
                std::string(source) + ": a .tiktoken rank file needs the encoding to be named");
  }
  RankTable ranks = parse_rank_lines(data, source);
  return std::shared_ptr<const Tokenizer>(new Tokenizer(*expected, std::move(ranks), builtin_special(*expected)));
}

std::shared_ptr<const Tokenizer> Tokenizer::load_file(const std::string &path, std::optional<Encoding> expected) {
  static std::mutex cache_mutex;
  static std::map<std::string, std::weak_ptr<const Tokenizer>> cache;
  const std::string key = path + "\n" + (expected ? encoding_name(*expected) : "");
  {
    const std::lock_guard lock(cache_mutex);
    if (auto cached = cache[key].lock()) return cached;
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(Status::io, "cannot open rank file \"" + path + "\"");
  std::ostringstream contents;
  contents << file.rdbuf();
  if (!file.good() && !file.eof()) throw Error(Status::io, "cannot read rank file \"" + path + "\"");
  auto tokenizer = parse(contents.str(), expected, path);
  const std::lock_guard lock(cache_mutex);
  cache[key] = tokenizer;
  return tokenizer;
}

void Tokenizer::encode_ordinary_into(std::string_view text, std::vector<Rank> &out) const {
  PieceSplitter splitter(split_pattern(encoding_), text);
  std::string_view piece;
  while (splitter.next(piece)) encode_piece(ranks_, piece, t_scratch, out);
}

void Tokenizer::encode(std::string_view text, std::vector<Rank> &out) const { encode_ordinary_into(text, out); }

void Tokenizer::encode_with_special(std::string_view text, std::vector<Rank> &out) const {
  std::size_t done = 0;
  std::size_t search = 0;
  while (true) {
    // Special tokens all begin "<|"; take the earliest, longest one that matches there.
    const std::size_t at = text.find("<|", search);
    if (at == std::string_view::npos) break;
    const std::pair<const std::string, Rank> *match = nullptr;
    for (const auto &entry : special_) {
      if (text.substr(at).starts_with(entry.first) && (!match || entry.first.size() > match->first.size())) {
        match = &entry;
      }
    }
    if (!match) {
      search = at + 2;
      continue;
    }
    encode_ordinary_into(text.substr(done, at - done), out);
    out.push_back(match->second);
    done = search = at + match->first.size();
  }
  encode_ordinary_into(text.substr(done), out);
}

std::size_t Tokenizer::count(std::string_view text) const {
  t_tokens.clear();
  encode_ordinary_into(text, t_tokens);
  return t_tokens.size();
}

std::string Tokenizer::decode(std::span<const Rank> tokens) const {
  std::string out;
  for (const Rank token : tokens) {
    const std::string_view bytes = ranks_.bytes_of(token);
    if (!bytes.empty()) {
      out.append(bytes);
      continue;
    }
    bool found = false;
    for (const auto &[text, rank] : special_) {
      if (rank == token) {
        out.append(text);
        found = true;
        break;
      }
    }
    if (!found) throw Error(Status::invalid_argument, "decode: unknown token " + std::to_string(token));
  }
  return out;
}

std::size_t estimate_tokens(std::string_view text, SplitPattern pattern) noexcept {
  // Per piece: a short ASCII word is usually one token, longer ones about one per 6 bytes;
  // digits group by three already; other scripts run about one token per 2.5 UTF-8 bytes
  // (CJK: ~1 per character, Cyrillic/Greek: ~1 per 2-3 letters).
  std::size_t total = 0;
  PieceSplitter splitter(pattern, text);
  std::string_view piece;
  while (splitter.next(piece)) {
    std::size_t ascii = 0;
    for (const char c : piece) ascii += static_cast<unsigned char>(c) < 0x80 ? 1 : 0;
    const std::size_t other = piece.size() - ascii;
    std::size_t tokens = ascii > 0 ? 1 + (ascii > 7 ? (ascii - 3) / 6 : 0) : 0;
    tokens += (other * 2 + 4) / 5;
    total += tokens == 0 ? 1 : tokens;
  }
  return total;
}

std::size_t TokenCounter::count(std::string_view text) const {
  return tokenizer_ ? tokenizer_->count(text) : estimate_tokens(text);
}

std::string TokenCounter::name() const {
  return tokenizer_ ? encoding_name(tokenizer_->encoding()) : "heuristic";
}

}  // namespace parley::budget
