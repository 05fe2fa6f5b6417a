// The pure parts of the speech adapters, table-driven: server-message parsers, error
// bodies, SSML, URLs and client messages, the raw-audio decoder, error mapping.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audio/g711.hpp"
#include "common/error.hpp"
#include "core/config_reader.hpp"
#include "providers/azure.hpp"
#include "providers/deepgram.hpp"
#include "providers/elevenlabs.hpp"
#include "providers/speech_common.hpp"
#include "providers/stt/azure_stt.hpp"
#include "providers/stt/deepgram_stt.hpp"
#include "providers/stt/elevenlabs_stt.hpp"
#include "providers/tts/azure_tts.hpp"
#include "providers/tts/deepgram_tts.hpp"
#include "providers/tts/elevenlabs_tts.hpp"

namespace parley::providers {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// AudioDecoder

TEST(SpeechAudioDecoder, Pcm16SplitAnywhereGivesTheSameSamples) {
  const std::vector<int16_t> samples = {0, 1, -1, 32767, -32768, 0x1234, -0x1234, 7};
  const std::string bytes = speech::pcm16_bytes(samples.data(), samples.size());
  // Every way of cutting the bytes in three.
  for (size_t a = 0; a <= bytes.size(); ++a) {
    for (size_t b = a; b <= bytes.size(); ++b) {
      speech::AudioDecoder decoder(speech::WireAudio::pcm16);
      std::vector<int16_t> out;
      for (const auto &[from, to] : {std::pair{size_t{0}, a}, std::pair{a, b}, std::pair{b, bytes.size()}}) {
        const auto part = decoder.decode(std::string_view(bytes).substr(from, to - from));
        out.insert(out.end(), part.begin(), part.end());
      }
      EXPECT_EQ(out, samples) << "cut at " << a << ", " << b;
      EXPECT_FALSE(decoder.holds_partial_sample());
    }
  }
}

TEST(SpeechAudioDecoder, OddTailWaitsForItsOtherHalf) {
  speech::AudioDecoder decoder(speech::WireAudio::pcm16);
  EXPECT_TRUE(decoder.decode(std::string("\x34", 1)).empty());
  EXPECT_TRUE(decoder.holds_partial_sample());
  const auto out = decoder.decode(std::string("\x12\x01", 2));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], 0x1234);
  EXPECT_TRUE(decoder.holds_partial_sample());
}

TEST(SpeechAudioDecoder, MulawDecodesEveryByte) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  speech::AudioDecoder decoder(speech::WireAudio::ulaw);
  const auto out = decoder.decode(bytes);
  ASSERT_EQ(out.size(), 256u);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(out[static_cast<size_t>(i)], audio::ulaw_decode(static_cast<uint8_t>(i)));
}

TEST(SpeechBase64, Pcm16RoundTrip) {
  const std::vector<int16_t> samples = {1, -2, 300, -32768};
  const auto bytes = speech::decode_base64(speech::encode_base64_pcm16(samples.data(), samples.size()));
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(*bytes, speech::pcm16_bytes(samples.data(), samples.size()));
  EXPECT_FALSE(speech::decode_base64("not base64!").has_value());
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST(SpeechErrors, StatusKinds) {
  const std::vector<std::pair<int, ErrorKind>> table = {
      {400, ErrorKind::bad_request}, {401, ErrorKind::auth},         {403, ErrorKind::auth},
      {404, ErrorKind::bad_request}, {408, ErrorKind::timeout},      {422, ErrorKind::bad_request},
      {429, ErrorKind::rate_limited}, {500, ErrorKind::server},     {503, ErrorKind::server}};
  for (const auto &[status, kind] : table) EXPECT_EQ(speech::kind_of_status(status), kind) << status;
}

TEST(SpeechErrors, RetryAfterHeaders) {
  EXPECT_EQ(speech::retry_after({{"Retry-After", "2"}}).count(), 2000);
  EXPECT_EQ(speech::retry_after({{"retry-after", "1.5"}}).count(), 1500);
  EXPECT_EQ(speech::retry_after({{"retry-after-ms", "250"}, {"retry-after", "9"}}).count(), 250);
  EXPECT_EQ(speech::retry_after({{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}}).count(), 0);
  EXPECT_EQ(speech::retry_after({}).count(), 0);
}

TEST(SpeechErrors, ScrubMasksTheKeyAndFlattensLines) {
  EXPECT_EQ(speech::scrub("bad key ABCDEF123456 given\n", "ABCDEF123456"), "bad key [REDACTED] given");
  EXPECT_EQ(speech::scrub("ABCDEF123456ABCDEF123456", "ABCDEF123456"), "[REDACTED][REDACTED]");
  const std::string long_text(2000, 'x');
  EXPECT_LE(speech::scrub(long_text, "", 100).size(), 103u);
}

TEST(SpeechErrors, WebSocketEndings) {
  const auto body = [](std::string_view b) { return deepgram::error_message(b); };
  struct Row {
    int code;
    std::string reason;
    int http_status;
    ErrorKind kind;
    bool fatal;
    std::string message_part;
  };
  const std::vector<Row> table = {
      {0, R"({"err_code":"INVALID_AUTH","err_msg":"Invalid credentials."})", 401, ErrorKind::auth, true,
       "Invalid credentials. (INVALID_AUTH)"},
      {0, R"({"err_code":"Bad Request","err_msg":"bad model"})", 400, ErrorKind::bad_request, true, "bad model"},
      {0, "", 429, ErrorKind::rate_limited, false, "Too Many Requests"},
      {0, "upgrade refused", 503, ErrorKind::server, false, "Service Unavailable"},
      {1011, "NET-0001: no audio", 0, ErrorKind::server, false, "closed by the server (1011): NET-0001: no audio"},
      {1008, "DATA-0000: bad audio", 0, ErrorKind::bad_request, false, "DATA-0000: bad audio"},
      {1000, "", 0, ErrorKind::network, false, "closed by the server (1000)"},
      {0, "connection lost: End of file", 0, ErrorKind::network, false, "connection lost"},
      {0, "TLS handshake with 127.0.0.1 failed: certificate verify failed", 0, ErrorKind::tls, true, "certificate"},
      {0, "cannot connect to 127.0.0.1:1: The socket was closed due to a timeout", 0, ErrorKind::timeout, false, "timeout"},
  };
  for (const auto &row : table) {
    const auto error = speech::websocket_error("deepgram", row.code, row.reason, row.http_status, body, "KEY123456");
    EXPECT_EQ(error.kind, row.kind) << row.reason;
    EXPECT_EQ(error.fatal, row.fatal) << row.reason;
    EXPECT_NE(error.message.find(row.message_part), std::string::npos) << error.message;
    EXPECT_EQ(error.http_status, row.http_status);
  }
}

TEST(SpeechQuery, EncodesValuesInOrder) {
  speech::Query query;
  query.add("a", "x y").add("b", int64_t{3}).add("c", false).add("d", "é&=");
  EXPECT_EQ(query.str(), "?a=x%20y&b=3&c=false&d=%C3%A9%26%3D");
  EXPECT_EQ(speech::Query().str(), "");
  EXPECT_EQ(speech::websocket_base("https://api.x.com"), "wss://api.x.com");
  EXPECT_EQ(speech::websocket_base("http://127.0.0.1:9"), "ws://127.0.0.1:9");
  EXPECT_EQ(speech::websocket_base("wss://h"), "wss://h");
}

// ---------------------------------------------------------------------------------------------
// ElevenLabs

TEST(ElevenLabsParse, ErrorBodies) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {R"({"detail":{"status":"invalid_api_key","message":"Invalid API key"}})", "Invalid API key (invalid_api_key)"},
      {R"({"detail":[{"loc":["body","text"],"msg":"Field required","type":"missing"}]})", "body.text: Field required"},
      {R"({"detail":"Not found"})", "Not found"},
      {R"({"message":"Quota","error":"quota_exceeded"})", "Quota (quota_exceeded)"},
      {"plain words", "plain words"},
      {"", ""},
  };
  for (const auto &[body, words] : table) EXPECT_EQ(elevenlabs::error_message(body), words) << body;
}

TEST(ElevenLabsParse, ErrorCodeKinds) {
  const std::vector<std::pair<std::string, ErrorKind>> table = {
      {"invalid_api_key", ErrorKind::auth},        {"auth_error", ErrorKind::auth},
      {"unaccepted_terms_error", ErrorKind::auth}, {"quota_exceeded", ErrorKind::rate_limited},
      {"rate_limited", ErrorKind::rate_limited},   {"commit_throttled", ErrorKind::rate_limited},
      {"input_error", ErrorKind::bad_request},     {"chunk_size_exceeded", ErrorKind::bad_request},
      {"input_timeout_exceeded", ErrorKind::timeout}, {"transcriber_error", ErrorKind::server},
  };
  for (const auto &[code, kind] : table) EXPECT_EQ(elevenlabs::kind_of_error_code(code), kind) << code;
}

TEST(ElevenLabsParse, StreamInputMessages) {
  std::string problem;
  auto audio = elevenlabs::parse_stream_input_message(
      R"({"audio":"AAEC","isFinal":null,"normalizedAlignment":{"chars":["x"],"charStartTimesMs":[5],"charDurationsMs":[6]},)"
      R"("alignment":{"chars":["H","i"," "],"charStartTimesMs":[0,70,120],"charDurationsMs":[70,50,40]}})",
      problem);
  ASSERT_TRUE(audio) << problem;
  EXPECT_EQ(*audio->audio, std::string("\x00\x01\x02", 3));
  EXPECT_FALSE(audio->is_final);
  EXPECT_FALSE(audio->is_error());
  ASSERT_EQ(audio->alignment.size(), 3u);  // "alignment" wins over the normalized one
  EXPECT_EQ(audio->alignment[1].text, "i");
  EXPECT_EQ(audio->alignment[1].start_ms, 70);
  EXPECT_EQ(audio->alignment[1].duration_ms, 50);

  auto final = elevenlabs::parse_stream_input_message(R"({"isFinal":true})", problem);
  ASSERT_TRUE(final);
  EXPECT_TRUE(final->is_final);
  EXPECT_FALSE(final->audio.has_value());

  auto null_audio = elevenlabs::parse_stream_input_message(R"({"audio":null,"isFinal":true})", problem);
  ASSERT_TRUE(null_audio);
  EXPECT_FALSE(null_audio->audio.has_value());

  auto error = elevenlabs::parse_stream_input_message(R"({"message":"Invalid API key","error":"invalid_api_key","code":1008})", problem);
  ASSERT_TRUE(error);
  EXPECT_TRUE(error->is_error());
  EXPECT_EQ(error->error, "invalid_api_key");
  EXPECT_EQ(error->message, "Invalid API key");

  for (const char *bad : {"", "[]", "{", R"({"audio":"***"})", R"({"audio":5})"}) {
    problem.clear();
    EXPECT_FALSE(elevenlabs::parse_stream_input_message(bad, problem)) << bad;
    EXPECT_FALSE(problem.empty()) << bad;
  }
}

TEST(ElevenLabsParse, WordAlignerJoinsWordsAcrossMessages) {
  auto chars = [](std::string text, int start) {
    std::vector<elevenlabs::AlignedChar> out;
    for (char c : text) out.push_back({std::string(1, c), start, 10}), start += 10;
    return out;
  };
  elevenlabs::WordAligner aligner;
  auto first = aligner.add(chars("Hello, wo", 0), 0);  // "wo" goes on in the next message
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].word, "Hello");
  EXPECT_EQ(first[0].start_ms, 0);
  EXPECT_EQ(first[0].end_ms, 60);  // through the comma
  auto second = aligner.add(chars("rld! ok", 0), 1000);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].word, "world");
  EXPECT_EQ(second[0].start_ms, 70);
  EXPECT_EQ(second[0].end_ms, 1040);
  auto rest = aligner.finish();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].word, "ok");
  EXPECT_EQ(rest[0].start_ms, 1050);
  EXPECT_TRUE(aligner.finish().empty());
  EXPECT_TRUE(aligner.add(chars(" -- ", 0), 0).empty());  // punctuation alone is no word
}

TEST(ElevenLabsParse, ScribeMessages) {
  using Type = elevenlabs::ScribeMessage::Type;
  struct Row {
    std::string text;
    Type type;
    std::string words;  // text, or the error words
    std::string code;
  };
  const std::vector<Row> table = {
      {R"({"message_type":"session_started","session_id":"x","config":{}})", Type::session_started, "", ""},
      {R"({"message_type":"partial_transcript","text":"hello how are"})", Type::partial, "hello how are", ""},
      {R"({"message_type":"committed_transcript","text":"Hello, how are you?"})", Type::committed, "Hello, how are you?", ""},
      {R"({"message_type":"committed_transcript_entities","text":"x","entities":[]})", Type::other, "x", ""},
      {R"({"message_type":"quota_exceeded","error":"Quota exceeded"})", Type::error, "Quota exceeded", "quota_exceeded"},
      {R"({"message_type":"auth_error","error":"bad key"})", Type::error, "bad key", "auth_error"},
      {R"({"message_type":"error","error":"input_error","message":"chunk too big"})", Type::error, "chunk too big", "input_error"},
      {R"({"message_type":"error","error":"Something broke"})", Type::error, "Something broke", "error"},
      {R"({"message_type":"quota_exceeded_error","error":"q"})", Type::error, "q", "quota_exceeded_error"},
  };
  for (const auto &row : table) {
    std::string problem;
    const auto message = elevenlabs::parse_scribe_message(row.text, problem);
    ASSERT_TRUE(message) << row.text << ": " << problem;
    EXPECT_EQ(message->type, row.type) << row.text;
    if (row.type == Type::error) {
      EXPECT_EQ(message->error, row.words) << row.text;
      EXPECT_EQ(message->error_code, row.code) << row.text;
    } else {
      EXPECT_EQ(message->text, row.words) << row.text;
    }
  }
  std::string problem;
  const auto timed = elevenlabs::parse_scribe_message(
      R"({"message_type":"committed_transcript_with_timestamps","text":"Hi you","words":[)"
      R"({"text":"Hi","start":0.5,"end":0.8,"type":"word"},{"text":" ","start":0.8,"end":0.9,"type":"spacing"},)"
      R"({"text":"you","start":0.9,"end":1.25,"type":"word"}]})",
      problem);
  ASSERT_TRUE(timed);
  EXPECT_DOUBLE_EQ(timed->start, 0.5);
  EXPECT_DOUBLE_EQ(timed->end, 1.25);
  for (const char *bad : {"", "null", "{}", R"({"message_type":3})", "[1]"}) {
    EXPECT_FALSE(elevenlabs::parse_scribe_message(bad, problem)) << bad;
  }
}

TEST(ElevenLabsMessages, ClientMessages) {
  EXPECT_EQ(elevenlabs::text_message("Hello there.", true), R"({"text":"Hello there. ","try_trigger_generation":false,"flush":true})");
  EXPECT_EQ(elevenlabs::text_message("Hi \"x\" ", false), R"({"text":"Hi \"x\" ","try_trigger_generation":true,"flush":false})");
  const std::vector<int16_t> samples = {1, 2};
  const json chunk = json::parse(elevenlabs::audio_chunk_message(samples.data(), samples.size(), 16000));
  EXPECT_EQ(chunk["message_type"], "input_audio_chunk");
  EXPECT_EQ(chunk["audio_base_64"], "AQACAA==");
  EXPECT_EQ(chunk["commit"], false);
  EXPECT_EQ(chunk["sample_rate"], 16000);
  const json commit = json::parse(elevenlabs::commit_message(8000));
  EXPECT_EQ(commit["audio_base_64"], "");
  EXPECT_EQ(commit["commit"], true);
}

TEST(ElevenLabsMessages, UrlsAndBodies) {
  elevenlabs::TtsSettings tts;
  tts.voice = "voice/1";
  tts.endpoint.base_url = "https://api.elevenlabs.io";
  tts.optimize_streaming_latency = 2;
  tts.enable_logging = false;
  EXPECT_EQ(elevenlabs::stream_url(tts),
            "https://api.elevenlabs.io/v1/text-to-speech/voice%2F1/stream?output_format=pcm_16000&optimize_streaming_latency=2&enable_logging=false");
  tts.language = "en";
  EXPECT_EQ(elevenlabs::stream_input_url(tts),
            "wss://api.elevenlabs.io/v1/text-to-speech/voice%2F1/stream-input?model_id=eleven_flash_v2_5&output_format=pcm_16000&language_code=en&enable_logging=false");
  tts.voice_settings = R"({"stability":0.5})";
  const json body = json::parse(elevenlabs::stream_body(tts, "Hi.", "Before."));
  EXPECT_EQ(body, json::parse(R"({"text":"Hi.","model_id":"eleven_flash_v2_5","language_code":"en","voice_settings":{"stability":0.5},"previous_text":"Before."})"));
  EXPECT_EQ(json::parse(elevenlabs::initialize_message(tts)), json::parse(R"({"text":" ","voice_settings":{"stability":0.5}})"));

  elevenlabs::SttSettings stt;
  stt.endpoint.base_url = "http://127.0.0.1:5";
  stt.language = "en";
  stt.include_timestamps = true;
  stt.vad_silence_threshold_secs = 0.5;
  EXPECT_EQ(elevenlabs::scribe_url(stt),
            "ws://127.0.0.1:5/v1/speech-to-text/realtime?model_id=scribe_v2_realtime&audio_format=pcm_16000&commit_strategy=manual"
            "&language_code=en&vad_silence_threshold_secs=0.5&include_timestamps=true");
}

// ---------------------------------------------------------------------------------------------
// Deepgram

TEST(DeepgramParse, Messages) {
  using Type = deepgram::Message::Type;
  std::string problem;
  const auto results = deepgram::parse_message(
      R"({"type":"Results","channel_index":[0,1],"duration":1.5,"start":3.0,"is_final":true,"speech_final":true,"from_finalize":false,)"
      R"("channel":{"alternatives":[{"transcript":"hello there","confidence":0.98,"words":[]}]},"metadata":{}})",
      problem);
  ASSERT_TRUE(results) << problem;
  EXPECT_EQ(results->type, Type::results);
  EXPECT_EQ(results->transcript, "hello there");
  EXPECT_DOUBLE_EQ(results->confidence, 0.98);
  EXPECT_TRUE(results->is_final);
  EXPECT_TRUE(results->speech_final);
  EXPECT_FALSE(results->from_finalize);
  EXPECT_DOUBLE_EQ(results->start, 3.0);
  EXPECT_DOUBLE_EQ(results->duration, 1.5);

  const auto utterance_end = deepgram::parse_message(R"({"type":"UtteranceEnd","channel":[0,1],"last_word_end":2.395})", problem);
  ASSERT_TRUE(utterance_end);
  EXPECT_EQ(utterance_end->type, Type::utterance_end);
  EXPECT_DOUBLE_EQ(utterance_end->last_word_end, 2.395);

  const auto started = deepgram::parse_message(R"({"type":"SpeechStarted","channel":[0],"timestamp":0.5})", problem);
  ASSERT_TRUE(started);
  EXPECT_EQ(started->type, Type::speech_started);

  const auto metadata = deepgram::parse_message(R"({"type":"Metadata","request_id":"x","duration":0.0,"channels":0})", problem);
  ASSERT_TRUE(metadata);
  EXPECT_EQ(metadata->type, Type::metadata);

  const auto error = deepgram::parse_message(R"({"type":"Error","description":"Bad audio","variant":"x"})", problem);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->type, Type::error);
  EXPECT_EQ(error->error, "Bad audio");

  const auto unknown = deepgram::parse_message(R"({"type":"Whatever"})", problem);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->type, Type::other);

  const auto empty_alternatives = deepgram::parse_message(R"({"type":"Results","channel":{"alternatives":[]}})", problem);
  ASSERT_TRUE(empty_alternatives);
  EXPECT_EQ(empty_alternatives->transcript, "");

  for (const char *bad : {"", "x", "{}", R"({"type":"Results"})", R"({"type":"Results","channel":{"alternatives":{}}})"}) {
    EXPECT_FALSE(deepgram::parse_message(bad, problem)) << bad;
  }
}

TEST(DeepgramParse, ErrorBodies) {
  EXPECT_EQ(deepgram::error_message(R"({"err_code":"INVALID_AUTH","err_msg":"Invalid credentials.","request_id":"x"})"),
            "Invalid credentials. (INVALID_AUTH)");
  EXPECT_EQ(deepgram::error_message(R"({"category":"INVALID_JSON","message":"Bad body"})"), "Bad body");
  EXPECT_EQ(deepgram::error_message("oops"), "oops");
}

TEST(DeepgramMessages, Urls) {
  deepgram::SttSettings stt;
  stt.endpoint.base_url = "https://api.deepgram.com";
  EXPECT_EQ(deepgram::listen_url(stt),
            "wss://api.deepgram.com/v1/listen?model=nova-3&encoding=linear16&sample_rate=16000&channels=1&interim_results=true"
            "&endpointing=300&utterance_end_ms=1000&vad_events=true&smart_format=true");
  stt.endpointing_ms = 0;
  stt.utterance_end_ms = 0;
  stt.language = "de";
  EXPECT_EQ(deepgram::listen_url(stt),
            "wss://api.deepgram.com/v1/listen?model=nova-3&encoding=linear16&sample_rate=16000&channels=1&interim_results=true"
            "&endpointing=false&vad_events=true&smart_format=true&language=de");
  deepgram::TtsSettings tts;
  tts.endpoint.base_url = "https://api.deepgram.com";
  EXPECT_EQ(deepgram::speak_url(tts), "https://api.deepgram.com/v1/speak?model=aura-2-thalia-en&encoding=linear16&sample_rate=16000&container=none");
  EXPECT_EQ(deepgram::speak_body("Say \"hi\""), R"({"text":"Say \"hi\""})");
}

// ---------------------------------------------------------------------------------------------
// Azure

TEST(AzureSsml, EscapesTextAndAttributes) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"plain", "plain"},
      {"Tom & Jerry", "Tom &amp; Jerry"},
      {"1 < 2 > 0", "1 &lt; 2 &gt; 0"},
      {"\"quoted\" 'single'", "&quot;quoted&quot; &apos;single&apos;"},
      {std::string("bell\x07 nul\x01", 10), "bell  nul "},
      {"tab\tnew\nline", "tab\tnew\nline"},
      {"caf\xC3\xA9", "caf\xC3\xA9"},
  };
  for (const auto &[in, out] : table) EXPECT_EQ(azure::escape_xml(in), out) << in;
  EXPECT_EQ(azure::ssml("Hi & bye", "en-US-JennyNeural", "en-US"),
            "<speak version='1.0' xml:lang='en-US'><voice xml:lang='en-US' name='en-US-JennyNeural'>Hi &amp; bye</voice></speak>");
  EXPECT_EQ(azure::ssml("x", "v'1", "l"), "<speak version='1.0' xml:lang='l'><voice xml:lang='l' name='v&apos;1'>x</voice></speak>");
  EXPECT_EQ(azure::voice_locale("en-US-JennyNeural"), "en-US");
  EXPECT_EQ(azure::voice_locale("zh-CN-shaanxi-XiaoniNeural"), "zh-CN");
  EXPECT_EQ(azure::voice_locale("Jenny"), "");
}

TEST(AzureParse, Recognitions) {
  struct Row {
    std::string body;
    std::string status;
    std::string text;
    double confidence;
    int64_t offset;
    int64_t duration;
  };
  const std::vector<Row> table = {
      {R"({"RecognitionStatus":"Success","DisplayText":"Remind me.","Offset":1236645672,"Duration":12000000})", "Success",
       "Remind me.", 0, 1236645672, 12000000},
      {R"({"RecognitionStatus":"Success","Offset":"700000","Duration":"8400000","NBest":[{"Confidence":0.98,"Lexical":"good morning","Display":"Good morning."}]})",
       "Success", "Good morning.", 0.98, 700000, 8400000},
      {R"({"RecognitionStatus":"Success","DisplayText":"Top.","NBest":[{"Confidence":0.5,"Display":"Other."}]})", "Success", "Top.",
       0.5, 0, 0},
      {R"({"RecognitionStatus":"NoMatch","Offset":100,"Duration":200,"DisplayText":"ignored"})", "NoMatch", "", 0, 100, 200},
      {R"({"RecognitionStatus":"InitialSilenceTimeout","Offset":"nan","Duration":-5})", "InitialSilenceTimeout", "", 0, 0, 0},
  };
  for (const auto &row : table) {
    std::string problem;
    const auto r = azure::parse_recognition(row.body, problem);
    ASSERT_TRUE(r) << row.body << ": " << problem;
    EXPECT_EQ(r->status, row.status);
    EXPECT_EQ(r->text, row.text);
    EXPECT_DOUBLE_EQ(r->confidence, row.confidence);
    EXPECT_EQ(r->offset_ticks, row.offset);
    EXPECT_EQ(r->duration_ticks, row.duration);
  }
  std::string problem;
  for (const char *bad : {"", "[]", "{}", R"({"RecognitionStatus":1})"}) EXPECT_FALSE(azure::parse_recognition(bad, problem)) << bad;
}

TEST(AzureParse, ErrorMessages) {
  EXPECT_EQ(azure::error_message(401, ""), "Unauthorized: the key or token is wrong, or is for another region");
  EXPECT_EQ(azure::error_message(400, R"({"error":{"code":"BadArgument","message":"bad voice"}})"), "bad voice (BadArgument)");
  EXPECT_EQ(azure::error_message(500, "Server on fire"), "Server on fire");
  EXPECT_EQ(azure::error_message(599, ""), "");
}

TEST(AzureMessages, EndpointFromRegionOrBaseUrl) {
  auto endpoint = [](json config, azure::Service service) {
    core::ConfigReader reader(config, "tts config");
    return azure::read_endpoint(reader, service).base_url;
  };
  EXPECT_EQ(endpoint({{"region", "westeurope"}}, azure::Service::tts), "https://westeurope.tts.speech.microsoft.com");
  EXPECT_EQ(endpoint({{"region", "westeurope"}}, azure::Service::stt), "https://westeurope.stt.speech.microsoft.com");
  EXPECT_EQ(endpoint({{"base_url", "http://127.0.0.1:9/"}}, azure::Service::stt), "http://127.0.0.1:9");
  auto error = [&](json config) {
    try {
      endpoint(std::move(config), azure::Service::tts);
    } catch (const Error &e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error(json::object()).find("$.region: missing"), std::string::npos);
  EXPECT_NE(error({{"region", "west europe"}}).find("$.region: expected a region name"), std::string::npos);
  EXPECT_NE(error({{"region", "westeurope"}, {"base_url", "http://x"}}).find("not both"), std::string::npos);
  EXPECT_NE(error({{"base_url", "ftp://x"}}).find("$.base_url: expected"), std::string::npos);
}

}  // namespace
}  // namespace parley::providers
