// Fake OpenAI-compatible server (../shared/protocols/openai-compatible.md):
//   POST /v1/chat/completions   stream:true SSE (role chunk, content chunks, tool-call
//                               fragments, finish chunk, usage chunk with
//                               stream_options.include_usage, data: [DONE]) or one JSON
//   POST /v1/audio/speech       response_format pcm (24 kHz s16le, chunked) or wav
//   POST /v1/audio/transcriptions  multipart/form-data; json, text or verbose_json
// The same routes answer under /openai/v1 (Groq's base URL). Errors carry
// {"error":{"message","type","param","code"}} and an x-request-id header.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fakes/fake_server.hpp"
#include "fakes/transcripts.hpp"

namespace parley::fakes {

struct ToolCall {
  std::string id;         // "call_abc"
  std::string name;       // "get_weather"
  std::string arguments;  // the JSON text, e.g. {"city":"Paris"}
  /// How `arguments` is streamed; empty = split after each ':' and ',' ({"city": | "Paris"}).
  std::vector<std::string> fragments;
  /// Variants some compatible servers send (the spec says clients accept both): the whole
  /// call in its first delta, and no "type":"function".
  bool whole = false;
  bool omit_type = false;
};

struct Usage {
  int prompt_tokens = 0;
  int completion_tokens = 0;
  int total_tokens = 0;
};

struct StreamError {
  size_t after_pieces = 0;  // content deltas sent before the error event
  std::string message = "The server had an error while processing your request.";
  std::string type = "server_error";
};

/// One scripted answer of the model.
struct ChatReply {
  std::string text;
  /// The content deltas exactly as streamed; empty = `text` split into word pieces
  /// ("Hello there!" -> "Hello", " there", "!").
  std::vector<std::string> pieces;
  std::vector<ToolCall> tool_calls;
  std::string finish_reason;   // "" = "tool_calls" when there are tool calls, else "stop"
  std::optional<Usage> usage;  // default: prompt = word pieces of the request's messages,
                               // completion = deltas sent, total = their sum
  std::optional<StreamError> error;  // streaming only: an in-stream error event, then the end
  std::string model;                 // "" = the request's model
  bool role_chunk = true;            // false: no delta ever carries "role" (some servers)

  ChatReply() = default;
  ChatReply(std::string reply_text) : text(std::move(reply_text)) {}  // NOLINT: implicit by design
  ChatReply(const char *reply_text) : text(reply_text) {}             // NOLINT
};

/// `text` split into the fake's content pieces.
std::vector<std::string> word_pieces(std::string_view text);
/// An OpenAI error body for `status` (message "" = a default for the status).
std::string openai_error_body(int status, std::string_view message = "");

struct MultipartPart {
  std::string name;
  std::string filename;  // "" for a plain field
  std::string content_type;
  std::string data;
};
/// Parses a multipart/form-data body given its Content-Type header; nullopt when malformed.
std::optional<std::vector<MultipartPart>> parse_multipart(std::string_view content_type, std::string_view body);

class OpenAiFake {
 public:
  /// Bytes to inject into a stream (server().inject_next(k, ...)): a line no SSE decoder
  /// understands, and a data event whose JSON is cut short.
  static constexpr std::string_view kGarbageLine = "\x01\x02 this is not server-sent events\n\n";
  static constexpr std::string_view kInvalidJsonEvent =
      "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"\n\n";

  explicit OpenAiFake(ServerOptions options = {});
  ~OpenAiFake();

  FakeServer &server() { return *server_; }
  /// "http://127.0.0.1:PORT/v1": what a client appends "/chat/completions" to.
  std::string base_url() const;

  /// When set, requests must carry "Authorization: Bearer <key>" (else 401 invalid_api_key).
  void set_api_key(std::string key);
  /// The reply to every chat request (after the queued ones). Default: "Hello!".
  void set_reply(ChatReply reply);
  /// Replies used once each, in order, before the default.
  void queue_reply(ChatReply reply);
  /// Pause between SSE events (default 0).
  void set_token_interval(Ms interval);

  /// Speech: audio per HTTP chunk (default 100 ms = 4800 bytes of 24 kHz PCM).
  void set_audio_chunk_ms(int ms);

  /// Transcriptions: scripted texts (queued, then the fallback; default fallback "").
  void add_transcript(std::string text);
  void set_fallback_transcript(std::optional<std::string> text);
  void set_stt_timing(SttTiming timing);  // min_audio is used

  /// The form of the latest transcription request.
  std::vector<MultipartPart> last_transcription_form() const;

 private:
  Response chat(const Request &request);
  Response speech(const Request &request);
  Response transcription(const Request &request);
  std::optional<Response> check_auth(const Request &request);
  Response error(int status, std::string_view message, const std::string &param = "", const std::string &code = "");

  mutable std::mutex mutex_;
  std::string api_key_;
  ChatReply default_reply_;
  std::vector<ChatReply> queued_;
  Ms token_interval_{0};
  int audio_chunk_ms_ = 100;
  TranscriptQueue transcripts_;
  SttTiming stt_timing_;
  std::vector<MultipartPart> last_form_;
  uint64_t completions_ = 0;
  std::unique_ptr<FakeServer> server_;  // last: stops before the state above goes
};

}  // namespace parley::fakes
