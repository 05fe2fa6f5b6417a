// Fake Azure Speech REST: TTS, STT short audio, token exchange.
#include "fakes/azure_fake.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "audio/wav.hpp"
#include "fakes/provider_util.hpp"

namespace parley::fakes {
namespace {

using detail::ojson;

constexpr size_t kMaxUserAgent = 255;
constexpr double kMaxSttSeconds = 60.0;
constexpr int64_t kTicksPerSecond = 10'000'000;  // Offset/Duration are 100-ns ticks

Response empty_error(int status) {
  Response response = Response::empty(status);
  return response;
}

std::string decode_entities(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    const size_t semi = text.find(';', i);
    if (semi == std::string_view::npos) {
      out += text[i];
      continue;
    }
    const std::string_view entity = text.substr(i + 1, semi - i - 1);
    if (entity == "amp") out += '&';
    else if (entity == "lt") out += '<';
    else if (entity == "gt") out += '>';
    else if (entity == "quot") out += '"';
    else if (entity == "apos") out += '\'';
    else if (entity.starts_with("#")) {
      const bool hex = entity.size() > 1 && (entity[1] == 'x' || entity[1] == 'X');
      const unsigned long cp = std::strtoul(std::string(entity.substr(hex ? 2 : 1)).c_str(), nullptr, hex ? 16 : 10);
      if (cp < 0x80) {
        out += static_cast<char>(cp);
      } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      }
    } else {
      out += std::string(text.substr(i, semi - i + 1));  // unknown: kept as written
    }
    i = semi;
  }
  return out;
}

// The value of attribute `name` in tag text `tag` ("voice xml:lang='en-US' name='x'").
std::string attribute(std::string_view tag, std::string_view name) {
  size_t at = 0;
  while ((at = tag.find(name, at)) != std::string_view::npos) {
    const bool boundary = at > 0 && std::isspace(static_cast<unsigned char>(tag[at - 1]));
    size_t p = at + name.size();
    while (p < tag.size() && tag[p] == ' ') ++p;
    if (boundary && p < tag.size() && tag[p] == '=') {
      ++p;
      while (p < tag.size() && tag[p] == ' ') ++p;
      if (p < tag.size() && (tag[p] == '\'' || tag[p] == '"')) {
        const size_t end = tag.find(tag[p], p + 1);
        if (end != std::string_view::npos) return decode_entities(tag.substr(p + 1, end - p - 1));
      }
    }
    at += name.size();
  }
  return {};
}

std::string collapse_whitespace(std::string_view text) {
  std::string out;
  bool space = false;
  for (const char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

// First and last sample loud enough to be speech, or nullopt for silence.
std::optional<std::pair<size_t, size_t>> speech_span(const std::vector<int16_t> &samples) {
  auto loud = [](int16_t s) { return std::abs(static_cast<int>(s)) >= 500; };
  const auto first = std::find_if(samples.begin(), samples.end(), loud);
  if (first == samples.end()) return std::nullopt;
  const auto last = std::find_if(samples.rbegin(), samples.rend(), loud);
  return std::pair(static_cast<size_t>(first - samples.begin()), static_cast<size_t>(samples.rend() - last));
}

}  // namespace

std::optional<AudioFormat> azure_output_format(std::string_view name) {
  const bool riff = name.starts_with("riff-");
  if (!riff && !name.starts_with("raw-")) return std::nullopt;
  const std::string_view rest = name.substr(riff ? 5 : 4);
  if (rest == "8khz-8bit-mono-mulaw") return AudioFormat{AudioEncoding::ulaw, 8000, riff};
  if (rest == "8khz-8bit-mono-alaw") return AudioFormat{AudioEncoding::alaw, 8000, riff};
  const std::pair<const char *, int> pcm[] = {{"8khz-16bit-mono-pcm", 8000},      {"16khz-16bit-mono-pcm", 16000},
                                              {"22050hz-16bit-mono-pcm", 22050},  {"24khz-16bit-mono-pcm", 24000},
                                              {"44100hz-16bit-mono-pcm", 44100},  {"48khz-16bit-mono-pcm", 48000}};
  for (const auto &[suffix, rate] : pcm) {
    if (rest == suffix) return AudioFormat{AudioEncoding::pcm16, rate, riff};
  }
  return std::nullopt;
}

std::optional<Ssml> parse_ssml(std::string_view body) {
  size_t at = body.find_first_not_of(" \t\r\n");
  if (at != std::string_view::npos && body.substr(at, 5) == "<?xml") at = body.find("?>", at);
  if (at == std::string_view::npos) return std::nullopt;
  const size_t speak = body.find("<speak", at);
  if (speak == std::string_view::npos) return std::nullopt;
  const size_t close = body.find("</speak>", speak);
  if (close == std::string_view::npos) return std::nullopt;
  Ssml ssml;
  std::string text;
  size_t p = speak;
  while (p < close) {
    if (body[p] == '<') {
      const size_t end = body.find('>', p);
      if (end == std::string_view::npos || end > close) return std::nullopt;
      const std::string_view tag = body.substr(p + 1, end - p - 1);
      if (tag.starts_with("speak")) ssml.lang = attribute(tag, "xml:lang");
      if (tag.starts_with("voice") && ssml.voice.empty()) ssml.voice = attribute(tag, "name");
      text += ' ';  // a tag separates words (<break/>, </voice>)
      p = end + 1;
    } else {
      const size_t next = body.find('<', p);
      text += decode_entities(body.substr(p, next - p));
      p = next;
    }
  }
  ssml.text = collapse_whitespace(text);
  return ssml;
}

AzureSpeechFake::AzureSpeechFake(ServerOptions options) : server_(std::make_unique<FakeServer>(std::move(options))) {
  server_->set_error_body([](int status, const std::string &, const Request &) { return empty_error(status); });
  server_->route("POST", "/cognitiveservices/v1", [this](const Request &r) { return tts(r); });
  server_->route("GET", "/cognitiveservices/voices/list", [this](const Request &r) {
    if (const int status = auth_status(r, 401)) return empty_error(status);
    const ojson voice{{"Name", "Microsoft Server Speech Text to Speech Voice (en-US, JennyNeural)"},
                      {"DisplayName", "Jenny"},
                      {"LocalName", "Jenny"},
                      {"ShortName", "en-US-JennyNeural"},
                      {"Gender", "Female"},
                      {"Locale", "en-US"},
                      {"LocaleName", "English (United States)"},
                      {"SampleRateHertz", "24000"},
                      {"VoiceType", "Neural"},
                      {"Status", "GA"},
                      {"WordsPerMinute", "152"}};
    return Response::json(200, ojson::array({voice}).dump());
  });
  server_->route("POST", "/speech/recognition/conversation/cognitiveservices/v1", [this](const Request &r) { return stt(r); });
  server_->route("POST", "/sts/v1.0/issueToken", [this](const Request &r) { return issue_token(r); });
}

AzureSpeechFake::~AzureSpeechFake() { server_.reset(); }

void AzureSpeechFake::set_api_key(std::string key) {
  std::lock_guard lock(mutex_);
  api_key_ = std::move(key);
}
void AzureSpeechFake::set_audio_chunk_ms(int ms) {
  std::lock_guard lock(mutex_);
  audio_chunk_ms_ = ms;
}
void AzureSpeechFake::add_transcript(std::string text) { transcripts_.push(std::move(text)); }
void AzureSpeechFake::set_fallback_transcript(std::optional<std::string> text) { transcripts_.set_fallback(std::move(text)); }
void AzureSpeechFake::set_stt_timing(SttTiming timing) {
  std::lock_guard lock(mutex_);
  stt_timing_ = timing;
}
std::vector<std::string> AzureSpeechFake::issued_tokens() const {
  std::lock_guard lock(mutex_);
  return tokens_;
}

int AzureSpeechFake::auth_status(const Request &request, int missing_status) const {
  std::lock_guard lock(mutex_);
  if (api_key_.empty()) return 0;
  const std::string key = request.header("Ocp-Apim-Subscription-Key");
  const std::string auth = request.header("Authorization");
  if (key.empty() && auth.empty()) return missing_status;
  if (!key.empty() && key == api_key_) return 0;
  if (auth.starts_with("Bearer ") && std::find(tokens_.begin(), tokens_.end(), auth.substr(7)) != tokens_.end()) return 0;
  return 401;
}

Response AzureSpeechFake::tts(const Request &request) {
  if (const int status = auth_status(request, 401)) return empty_error(status);
  if (!detail::starts_with_ci(request.header("Content-Type"), "application/ssml+xml")) return empty_error(415);
  const auto format = azure_output_format(request.header("X-Microsoft-OutputFormat"));
  if (!format) return empty_error(400);
  const std::string user_agent = request.header("User-Agent");
  if (user_agent.empty() || user_agent.size() >= kMaxUserAgent) return empty_error(400);
  const auto ssml = parse_ssml(request.body);
  if (!ssml || ssml->text.empty()) return empty_error(400);
  int chunk_ms;
  {
    std::lock_guard lock(mutex_);
    chunk_ms = audio_chunk_ms_;
  }
  Response out;
  out.chunked = true;
  out.headers = {{"Content-Type", format->wav ? "audio/x-wav" : "application/octet-stream"},
                 {"X-RequestId", detail::fake_uuid(request.id)}};
  out.chunks = detail::audio_chunks(synthesize(ssml->text, *format), *format, chunk_ms);
  return out;
}

Response AzureSpeechFake::stt(const Request &request) {
  if (const int status = auth_status(request, 403)) return empty_error(status);
  const std::string language = request.query_param("language").value_or("");
  const std::string format = request.query_param("format").value_or("simple");
  if (language.empty() || (format != "simple" && format != "detailed")) return empty_error(400);
  if (!detail::starts_with_ci(request.header("Content-Type"), "audio/wav")) return empty_error(400);
  audio::WavAudio wav;
  try {
    wav = audio::read_wav(std::span(reinterpret_cast<const uint8_t *>(request.body.data()), request.body.size()));
  } catch (const std::exception &) {
    return empty_error(400);
  }
  if (wav.format.encoding != audio::WavEncoding::pcm16 || wav.format.channels != 1 || wav.format.sample_rate != 16000) {
    return empty_error(400);
  }
  const double duration = static_cast<double>(wav.frames()) / 16000.0;
  if (duration > kMaxSttSeconds) return empty_error(400);
  SttTiming timing;
  {
    std::lock_guard lock(mutex_);
    timing = stt_timing_;
  }
  const auto ticks = [](size_t samples) { return static_cast<int64_t>(samples) * kTicksPerSecond / 16000; };
  const auto span = speech_span(wav.samples);
  ojson out;
  if (!span || duration * 1000.0 < static_cast<double>(timing.min_audio.count())) {
    out = {{"RecognitionStatus", "InitialSilenceTimeout"}, {"Offset", ticks(wav.samples.size())}, {"Duration", 0}};
    return Response::json(200, out.dump());
  }
  const auto text = transcripts_.pop();
  const int64_t offset = ticks(span->first), length = ticks(span->second - span->first);
  if (!text || text->empty()) {
    out = {{"RecognitionStatus", "NoMatch"}, {"Offset", offset}, {"Duration", length}};
    return Response::json(200, out.dump());
  }
  if (format == "simple") {
    out = {{"RecognitionStatus", "Success"}, {"DisplayText", *text}, {"Offset", offset}, {"Duration", length}};
    return Response::json(200, out.dump());
  }
  std::vector<std::string> lexical;
  for (const auto &word : split_words(*text)) lexical.push_back(lexical_word(word));
  const std::string lex = join_words(lexical, lexical.size());
  const ojson best{{"Confidence", 0.98}, {"Lexical", lex}, {"ITN", lex}, {"MaskedITN", lex}, {"Display", *text}};
  out = {{"RecognitionStatus", "Success"}, {"Offset", offset}, {"Duration", length}, {"DisplayText", *text}};
  out["NBest"] = ojson::array({best});
  return Response::json(200, out.dump());
}

Response AzureSpeechFake::issue_token(const Request &request) {
  std::string token;
  {
    std::lock_guard lock(mutex_);
    const std::string key = request.header("Ocp-Apim-Subscription-Key");
    if (key.empty() || (!api_key_.empty() && key != api_key_)) return empty_error(401);
    // JWT-shaped and unique; no secret in it.
    const std::string header = detail::base64(R"({"alg":"none","typ":"JWT"})");
    const std::string payload = detail::base64(R"({"iss":"parley-fake","n":)" + std::to_string(tokens_.size() + 1) + "}");
    token = header + "." + payload + ".fake";
    std::replace(token.begin(), token.end(), '+', '-');
    std::replace(token.begin(), token.end(), '/', '_');
    token.erase(std::remove(token.begin(), token.end(), '='), token.end());
    tokens_.push_back(token);
  }
  return Response::text(200, token, "text/plain; charset=utf-8");
}

}  // namespace parley::fakes
