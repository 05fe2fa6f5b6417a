#include "providers/elevenlabs.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "providers/registry.hpp"
#include "providers/stt/elevenlabs_stt.hpp"
#include "providers/tts/elevenlabs_tts.hpp"

namespace parley::providers {

void register_elevenlabs(Registry &registry) {
  registry.add_tts("elevenlabs", make_elevenlabs_tts);
  registry.add_tts("elevenlabs_ws", make_elevenlabs_ws_tts);
  registry.add_stt("elevenlabs", make_elevenlabs_stt);
}

namespace elevenlabs {
namespace {

using nlohmann::json;
using speech::json_field;
using speech::json_number;
using speech::json_string;

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// Times past a day are nonsense from a server; capped so sums stay inside an int.
constexpr int64_t kMaxMs = 100'000'000;

// Milliseconds from a JSON number, in 0..kMaxMs whatever the server sent.
int clamp_ms(double value) { return static_cast<int>(std::clamp(value, 0.0, static_cast<double>(kMaxMs))); }

// A code is what ElevenLabs puts in "status"/"error": lower-case words joined by '_'.
bool looks_like_code(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_' || (c >= '0' && c <= '9'); });
}

std::vector<AlignedChar> parse_alignment(const json &object) {
  std::vector<AlignedChar> chars;
  const json *chars_field = json_field(object, "chars");
  const json *starts = json_field(object, "charStartTimesMs");
  const json *durations = json_field(object, "charDurationsMs");
  if (!chars_field || !chars_field->is_array()) return chars;
  const size_t n = chars_field->size();
  chars.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const json &ch = (*chars_field)[i];
    if (!ch.is_string()) return {};
    AlignedChar out;
    out.text = ch.get<std::string>();
    if (starts && starts->is_array() && i < starts->size() && (*starts)[i].is_number()) out.start_ms = clamp_ms((*starts)[i].get<double>());
    if (durations && durations->is_array() && i < durations->size() && (*durations)[i].is_number()) {
      out.duration_ms = clamp_ms((*durations)[i].get<double>());
    }
    chars.push_back(std::move(out));
  }
  return chars;
}

// "Hello," -> "Hello": ASCII punctuation at the edges is not part of the spoken word.
std::string trim_word(std::string_view word) {
  auto junk = [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x80 && !std::isalnum(u);
  };
  while (!word.empty() && junk(word.front())) word.remove_prefix(1);
  while (!word.empty() && junk(word.back())) word.remove_suffix(1);
  return std::string(word);
}

bool is_scribe_error_type(std::string_view type) {
  static constexpr std::string_view kTypes[] = {
      "error",          "auth_error",        "quota_exceeded",           "commit_throttled",        "transcriber_error",
      "unaccepted_terms_error", "rate_limited", "input_error",             "queue_overflow",          "resource_exhausted",
      "session_time_limit_exceeded", "chunk_size_exceeded", "insufficient_audio_activity", "quota_exceeded_error"};
  if (std::find(std::begin(kTypes), std::end(kTypes), type) != std::end(kTypes)) return true;
  return type.size() >= 5 && type.substr(type.size() - 5) == "error";
}

}  // namespace

std::optional<OutputFormat> output_format(std::string_view name) {
  if (name == "ulaw_8000") return OutputFormat{speech::WireAudio::ulaw, 8000};
  for (const int rate : {8000, 16000, 22050, 24000, 32000, 44100, 48000}) {
    if (name == "pcm_" + std::to_string(rate)) return OutputFormat{speech::WireAudio::pcm16, rate};
  }
  return std::nullopt;
}

const std::vector<std::string_view> &output_format_names() {
  static const std::vector<std::string_view> names = {"pcm_8000",  "pcm_16000", "pcm_22050", "pcm_24000",
                                                      "pcm_32000", "pcm_44100", "pcm_48000", "ulaw_8000"};
  return names;
}

std::string error_message(std::string_view body) {
  const json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::string(body);
  if (const json *detail = json_field(doc, "detail")) {
    if (detail->is_string()) return detail->get<std::string>();
    if (detail->is_object()) {
      const std::string message = json_string(*detail, "message");
      const std::string status = json_string(*detail, "status");
      if (!message.empty()) return status.empty() ? message : message + " (" + status + ")";
      if (!status.empty()) return status;
    }
    if (detail->is_array()) {
      std::string out;
      for (const json &item : *detail) {
        std::string where;
        if (const json *loc = json_field(item, "loc"); loc && loc->is_array()) {
          for (const json &part : *loc) {
            if (!where.empty()) where += '.';
            where += part.is_string() ? part.get<std::string>() : part.dump();
          }
        }
        const std::string msg = json_string(item, "msg");
        if (msg.empty()) continue;
        if (!out.empty()) out += "; ";
        out += where.empty() ? msg : where + ": " + msg;
      }
      if (!out.empty()) return out;
    }
  }
  const std::string message = json_string(doc, "message");
  const std::string error = json_string(doc, "error");
  if (!message.empty()) return error.empty() || error == message ? message : message + " (" + error + ")";
  if (!error.empty()) return error;
  return std::string(body);
}

ErrorKind kind_of_error_code(std::string_view code) {
  if (contains(code, "auth") || contains(code, "api_key") || contains(code, "unaccepted_terms") ||
      contains(code, "permission")) {
    return ErrorKind::auth;
  }
  if (contains(code, "quota") || contains(code, "rate_limit") || contains(code, "too_many") ||
      contains(code, "throttled") || contains(code, "concurrent") || contains(code, "queue_overflow") ||
      contains(code, "resource_exhausted")) {
    return ErrorKind::rate_limited;
  }
  if (contains(code, "timeout")) return ErrorKind::timeout;
  if (contains(code, "input") || contains(code, "invalid") || contains(code, "chunk_size") ||
      contains(code, "insufficient_audio") || contains(code, "unsupported")) {
    return ErrorKind::bad_request;
  }
  return ErrorKind::server;
}

// ---------------------------------------------------------------------------------------------
// stream-input

std::optional<StreamInputMessage> parse_stream_input_message(std::string_view text, std::string &problem) {
  const json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    problem = "not a JSON object";
    return std::nullopt;
  }
  StreamInputMessage message;
  if (const json *audio = json_field(doc, "audio"); audio && !audio->is_null()) {
    if (!audio->is_string()) {
      problem = "\"audio\" is not a string";
      return std::nullopt;
    }
    message.audio = speech::decode_base64(audio->get_ref<const std::string &>());
    if (!message.audio) {
      problem = "\"audio\" is not valid base64";
      return std::nullopt;
    }
  }
  message.is_final = speech::json_bool(doc, "isFinal", false);
  if (const json *alignment = json_field(doc, "alignment"); alignment && alignment->is_object()) {
    message.alignment = parse_alignment(*alignment);
  }
  if (message.alignment.empty()) {
    if (const json *normalized = json_field(doc, "normalizedAlignment"); normalized && normalized->is_object()) {
      message.alignment = parse_alignment(*normalized);
    }
  }
  if (const json *error = json_field(doc, "error"); error && !error->is_null()) {
    message.error = error->is_string() ? error->get<std::string>() : error->dump();
    if (message.error.empty()) message.error = "error";
  }
  message.message = json_string(doc, "message");
  return message;
}

std::vector<WordTiming> WordAligner::add(const std::vector<AlignedChar> &chars, int offset_ms) {
  std::vector<WordTiming> out;
  for (const AlignedChar &ch : chars) {
    const int64_t start = int64_t{offset_ms} + ch.start_ms;
    const int64_t end = start + ch.duration_ms;
    // A "character" is one code point in practice; any whitespace inside one still splits.
    for (const char c : ch.text) {
      if (std::isspace(static_cast<unsigned char>(c))) {
        close_word(out);
        continue;
      }
      if (word_.empty()) start_ms_ = static_cast<int>(std::min<int64_t>(start, kMaxMs));
      word_ += c;
      end_ms_ = std::max(end_ms_, static_cast<int>(std::min<int64_t>(end, kMaxMs)));
    }
  }
  return out;
}

std::vector<WordTiming> WordAligner::finish() {
  std::vector<WordTiming> out;
  close_word(out);
  return out;
}

void WordAligner::close_word(std::vector<WordTiming> &out) {
  if (word_.empty()) return;
  std::string word = trim_word(word_);
  if (!word.empty()) out.push_back(WordTiming{std::move(word), start_ms_, std::max(end_ms_, start_ms_)});
  word_.clear();
  end_ms_ = 0;
}

// ---------------------------------------------------------------------------------------------
// Scribe

std::optional<ScribeMessage> parse_scribe_message(std::string_view text, std::string &problem) {
  const json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    problem = "not a JSON object";
    return std::nullopt;
  }
  ScribeMessage message;
  message.message_type = json_string(doc, "message_type");
  if (message.message_type.empty()) {
    problem = "no message_type";
    return std::nullopt;
  }
  const std::string &type = message.message_type;
  message.text = json_string(doc, "text");
  if (type == "session_started") {
    message.type = ScribeMessage::Type::session_started;
  } else if (type == "partial_transcript") {
    message.type = ScribeMessage::Type::partial;
  } else if (type == "committed_transcript") {
    message.type = ScribeMessage::Type::committed;
  } else if (type == "committed_transcript_with_timestamps") {
    message.type = ScribeMessage::Type::committed_with_timestamps;
    if (const json *words = json_field(doc, "words"); words && words->is_array()) {
      for (const json &word : *words) {
        const std::string kind = json_string(word, "type", "word");
        if (kind != "word") continue;
        const double start = json_number(word, "start", -1), end = json_number(word, "end", -1);
        if (start >= 0 && (message.start < 0 || start < message.start)) message.start = start;
        if (end >= 0 && end > message.end) message.end = end;
      }
    }
  } else if (is_scribe_error_type(type) || (json_field(doc, "error") && !json_field(doc, "text"))) {
    message.type = ScribeMessage::Type::error;
    const json *error = json_field(doc, "error");
    std::string words = error && error->is_string() ? error->get<std::string>() : (error ? error->dump() : "");
    const std::string detail = json_string(doc, "message");
    message.error_code = type;
    // The skills doc's form: message_type "error" with the code in "error".
    if (type == "error" && looks_like_code(words)) {
      message.error_code = words;
      words = detail.empty() ? words : detail;
    } else if (words.empty()) {
      words = detail;
    }
    message.error = words.empty() ? message.error_code : words;
  }
  return message;
}

}  // namespace elevenlabs
}  // namespace parley::providers
