// `openai`: OpenAI-compatible chat completions, streamed (../shared/protocols/
// openai-compatible.md). One adapter serves OpenAI, Groq, Cerebras, vLLM, llama.cpp's
// llama-server and Ollama; they differ only in base URL, key variable and default model.
//
// Config ({"provider":"openai", ...}; the aliases take the same keys):
//   "base_url"               ends in /v1; default per provider (openai: env OPENAI_BASE_URL,
//                            else https://api.openai.com/v1)
//   "api_key" / "api_key_env" the key, or the variable holding it (openai: OPENAI_API_KEY,
//                            groq: GROQ_API_KEY, cerebras: CEREBRAS_API_KEY, vllm:
//                            VLLM_API_KEY, llamacpp: LLAMA_API_KEY). Never logged.
//   "model"                  openai: env OPENAI_MODEL, else gpt-4o-mini; required for vllm
//                            and ollama (the served model's name)
//   "temperature", "max_tokens"  defaults for requests that do not set them
//   "max_tokens_param"       "max_tokens" (default; what compatible servers know) or
//                            "max_completion_tokens" (OpenAI's reasoning models)
//   "connect_timeout_ms"     default 5000
//   "first_token_timeout_ms" request start -> first content or tool-call delta; default 20000
//   "idle_timeout_ms"        longest silence inside the stream; default 15000
//   "max_retries"            default 2, as the official SDK
//   "headers"                extra request headers (OpenAI-Organization, ...): an object
//                            {"Name":"value"} or a string of "Name: value" lines
//   "verify_tls"             default true; "ca_file" a PEM bundle instead of the system's
//
// Behaviour the pipeline relies on: text and tool-call deltas as they stream; tool calls
// assembled by index into LlmResult::tool_calls; usage from the usage chunk; time to first
// token at the first content or tool-call delta (never at the role chunk); retries as the
// SDK does them (408/409/429/5xx and connection errors, Retry-After honoured) but never once
// a token was delivered; every failure a typed ProviderError carrying the server's message.
//
// The pure pieces (request body, stream decoder, retry rules, error bodies) are public in
// namespace `openai` for the tests, the fuzz target and the benchmarks; the TTS and STT
// adapters (tts/openai_tts, stt/openai_stt) share the config reader and the retrying
// exchange.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config_reader.hpp"
#include "net/http_client.hpp"
#include "providers/llm/llm.hpp"

namespace parley::providers {

class Registry;

/// Registers the LLM "openai" and its aliases "groq", "cerebras", "vllm", "llamacpp",
/// "ollama"; the TTS "openai" (openai_tts.hpp); the STT "openai" and "groq" (openai_stt.hpp).
void register_openai(Registry &registry);

namespace openai {

// ---------------------------------------------------------------------------------------------
// Configuration shared by the three adapters.

/// What differs between OpenAI and the compatible services.
struct Flavor {
  const char *name;           // provider name in errors and logs
  const char *base_url;       // default base URL, ending in /v1
  const char *key_env;        // default api_key_env ("" = none)
  const char *base_url_env;   // environment variable overriding base_url ("" = none)
  const char *model_env;      // environment variable overriding the default model ("" = none)
  const char *default_model;  // "" = the config must name one
  bool key_required;          // a key is required when base_url is the default one
};

/// The flavours registered by register_openai: openai, groq, cerebras, vllm, llamacpp, ollama.
const std::vector<Flavor> &flavors();
/// The flavour named `name`; throws Error(Status::not_found) for an unknown one.
const Flavor &flavor(std::string_view name);

struct ClientOptions {
  std::string provider = "openai";
  std::string base_url;  // without the trailing slash
  std::string api_key;   // "" = no Authorization header
  net::HttpHeaders headers;  // extra headers from config
  std::chrono::milliseconds connect_timeout{5'000};
  /// Request start -> first delivered data (LLM token, TTS audio) or, where nothing
  /// streams (STT), the first response byte.
  std::chrono::milliseconds first_timeout{20'000};
  std::chrono::milliseconds idle_timeout{15'000};
  int max_retries = 2;
  bool verify_tls = true;
  std::string ca_file;
};

/// Reads base_url, api_key/api_key_env, headers, connect_timeout_ms, `first_timeout_key`
/// (e.g. "first_token_timeout_ms"), idle_timeout_ms, max_retries, verify_tls and ca_file.
/// Throws Error(Status::config) naming the JSON path of a bad value.
ClientOptions read_client_options(core::ConfigReader &config, const ProviderContext &context,
                                  const Flavor &flavor, const char *first_timeout_key,
                                  std::chrono::milliseconds first_timeout_default);

/// Parses "Name: value" lines (LF or CRLF separated) into headers; nullopt and a reason in
/// `problem` when a line is not a header.
std::optional<net::HttpHeaders> parse_header_lines(std::string_view text, std::string &problem);

// ---------------------------------------------------------------------------------------------
// Retry rules of the official SDK (openai-python _base_client.py).

/// The server's requested delay: retry-after-ms (float ms), else retry-after as float
/// seconds, else as an HTTP date relative to `now`. nullopt when absent or unparsable.
std::optional<std::chrono::milliseconds> parse_retry_after(
    const net::HttpHeaders &headers, std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

/// Whether a response with `status` is worth retrying: not when Retry-After asks for more
/// than 120 s; else x-should-retry: true|false when present; else 408, 409, 429 and >= 500.
bool should_retry(int status, const net::HttpHeaders &headers,
                  std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

/// The pause before retry number `retries_taken` + 1: the server's delay when 0 < d <= 120 s,
/// else min(0.5 s * 2^retries_taken, 8 s) * `jitter` (the SDK draws jitter in (0.75, 1]).
std::chrono::milliseconds retry_delay(const net::HttpHeaders &headers, int retries_taken, double jitter,
                                      std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

/// A uniform draw in (0.75, 1].
double draw_jitter();

/// "6m0s", "12ms", "1.5s", "1h2m3.5s" (x-ratelimit-reset-*) -> milliseconds; nullopt if not
/// such a duration.
std::optional<std::chrono::milliseconds> parse_reset_duration(std::string_view text);

/// The ErrorKind of an HTTP error status: 401/403 auth, 429 rate_limited, 408 timeout,
/// >= 500 server, other 4xx bad_request.
ErrorKind kind_for_status(int status);

/// The provider's words from an error body ({"error":{"message":...}}, {"error":"..."},
/// {"message":...} or {"detail":...}); else the status line and the start of the body,
/// printable characters only.
std::string error_message(int status, std::string_view body);

/// `text` with `secret` and anything shaped like an OpenAI key ("sk-...") masked, so a
/// server echoing a key cannot put it into an error event.
std::string scrub(std::string text, std::string_view secret);

// ---------------------------------------------------------------------------------------------
// The chat request.

struct ChatOptions {
  std::string model;
  std::optional<double> temperature;  // used when the request sets none
  std::optional<int> max_tokens;      // likewise
  std::string max_tokens_param = "max_tokens";
};

/// Appends `text` as a JSON string literal; invalid UTF-8 becomes U+FFFD.
void append_json_string(std::string &out, std::string_view text);

/// The request body in the spec's shape: model, stream:true, stream_options.include_usage,
/// messages (tool calls and tool results included), tools with tool_choice "auto",
/// temperature, max_tokens. Throws Error(Status::invalid_argument) when a tool's
/// parameters_json is not a JSON object.
std::string chat_request_body(const LlmRequest &request, const ChatOptions &options);

// ---------------------------------------------------------------------------------------------
// The stream decoder: SSE framing, chunk JSON, tool-call assembly. Bytes in as they arrive;
// deltas out through the handler; the assembled result at the end.

class ChatStreamDecoder {
 public:
  class Handler {
   public:
    virtual void on_text(std::string_view text) = 0;
    virtual void on_tool_call_delta(const ToolCallDelta &delta) = 0;

   protected:
    ~Handler() = default;
  };

  enum class State {
    streaming,  // wants more bytes
    done,       // data: [DONE] seen; later bytes are ignored
    failed,     // error(): malformed SSE, invalid JSON, an error event, or an oversized event
    stopped,    // stop() was called from a handler callback
  };

  /// `max_event_bytes` bounds one SSE line and one event.
  explicit ChatStreamDecoder(Handler &handler, size_t max_event_bytes = 1 << 20);
  ~ChatStreamDecoder();
  ChatStreamDecoder(const ChatStreamDecoder &) = delete;
  ChatStreamDecoder &operator=(const ChatStreamDecoder &) = delete;

  /// Decodes `bytes`, calling the handler for each delta; returns the state after them.
  State feed(std::string_view bytes);
  /// From inside a handler callback: deliver nothing more.
  void stop() noexcept;

  State state() const noexcept { return state_; }
  /// The failure (kind protocol, or the kind an in-stream error event implies) once failed.
  const ProviderError &error() const noexcept { return error_; }
  /// text, tool_calls, finish_reason and usage so far (time_to_first_token and attempts
  /// are the caller's).
  const LlmResult &result() const noexcept { return result_; }
  LlmResult take_result() { return std::move(result_); }
  /// Content and tool-call deltas delivered so far.
  size_t deltas() const noexcept { return deltas_; }
  /// Whether any event carried a finish_reason.
  bool finished() const noexcept { return !result_.finish_reason.empty(); }

 private:
  struct Json;  // simdjson's parser, kept out of this header

  bool next_line(std::string_view &bytes, std::string_view &line);
  void field(std::string_view line);
  void dispatch();
  void chunk(std::string_view json);
  void fail(ErrorKind kind, std::string message);
  void text_delta(std::string_view text);
  void tool_delta(int64_t index, std::string_view id, std::string_view name, std::string_view arguments);

  Handler &handler_;
  size_t max_event_bytes_;
  std::unique_ptr<Json> json_;
  State state_ = State::streaming;
  ProviderError error_;
  LlmResult result_;
  size_t deltas_ = 0;
  std::vector<int64_t> tool_indexes_;  // the server's index of result_.tool_calls[i]

  // SSE framing
  std::string partial_;  // an unfinished line carried over from the previous feed
  std::string line_;     // a line that spanned feeds
  bool skip_lf_ = false;
  bool has_data_ = false;
  std::string data_;
  std::string event_;
};

/// A non-streamed chat completion (a server that ignored "stream":true): the assembled
/// result, or an error (protocol for a body that is not a completion).
std::optional<ProviderError> parse_chat_completion(std::string_view body, LlmResult &result);

// ---------------------------------------------------------------------------------------------
// One HTTP exchange with the SDK's retry rules, shared by the three adapters.
//
// Every attempt runs on ProviderContext::executor. The owner reads the 2xx response through
// `Handler` and calls commit() once it delivered something to its user: from then on nothing
// is retried. A non-2xx answer, a transport failure or a missing first delivery
// (ClientOptions::first_timeout, when `first_deadline` is set) before commit() is retried up
// to max_retries times, then reported through Handler::on_error as a ProviderError.

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  struct Handler {
    /// A 2xx head; a new attempt starts over (its on_head comes again).
    std::function<void(const net::HttpResponseHead &head)> on_head;
    std::function<void(std::string_view chunk)> on_body;
    /// The 2xx response arrived in full. A transport failure after commit() goes to
    /// on_error instead.
    std::function<void(const net::HttpResult &result)> on_complete;
    /// The final failure, after retries; or the owner's own through fail().
    std::function<void(ProviderError error)> on_error;
    /// Optional: words for a cut response's message ("before [DONE], after 3 deltas").
    std::function<std::string()> describe_progress;
  };

  /// `what` names the first delivery in a timeout message ("token", "audio").
  Exchange(const ClientOptions &options, const ProviderContext &context, net::HttpRequest request,
           Handler handler, bool first_deadline, std::string what);
  ~Exchange();

  /// Starts the first attempt (in a fresh executor turn: never calls back inline).
  void start();
  /// Data reached the user: no retry from now on, and the first-delivery deadline is met.
  void commit() noexcept { committed_ = true; }
  bool committed() const noexcept { return committed_; }
  /// Ends the exchange with `error` (no retry); on_error runs before this returns.
  void fail(ProviderError error);
  /// Stops everything; no handler runs after this returns. Idempotent.
  void cancel();
  /// The owner is done with the response (it saw its end, e.g. [DONE]) but the transfer may
  /// still be reading the last bytes: let it finish quietly, so the connection is reused.
  void detach();

  /// 1 + retries taken so far.
  int attempts() const noexcept { return attempt_; }
  std::chrono::steady_clock::time_point started() const noexcept { return started_; }
  /// Headers of the latest response head (rate-limit headers for the owner's logs).
  const net::HttpHeaders &last_headers() const noexcept { return last_headers_; }

 private:
  struct Attempt;

  void launch();
  void on_head(const net::HttpResponseHead &head);
  void on_body(std::string_view chunk);
  void on_complete(const net::HttpResult &result);
  void on_first_deadline();
  void attempt_failed(ProviderError error, bool retryable, const net::HttpHeaders *headers);
  void report(ProviderError error);
  void end_call();
  void log_warn(const std::string &message) const;
  template <typename Fn>
  void call_handler(Fn &&fn);

  ClientOptions options_;
  ProviderContext context_;
  net::HttpRequest request_;
  Handler handler_;
  bool first_deadline_;
  std::string what_;
  std::shared_ptr<Attempt> attempt_state_;  // timers; released with the exchange
  std::unique_ptr<net::HttpCall> call_;
  std::chrono::steady_clock::time_point started_;
  int attempt_ = 0;
  bool committed_ = false;
  bool ended_ = false;     // reported, cancelled or detached
  bool detached_ = false;
  bool success_ = false;   // the current attempt got a 2xx head
  bool in_handler_ = false;
  int status_ = 0;
  net::HttpHeaders last_headers_;
  std::string error_body_;  // a non-2xx body, bounded
  size_t body_bytes_ = 0;
};

/// A Handler that forwards to `owner`'s on_head(head), on_body(chunk), on_complete() and
/// deliver_error(error) while the owner lives: the exchange holds it weakly, never keeping its
/// owner alive. describe_progress is left to the caller.
template <typename Owner>
Exchange::Handler forward_to(const std::weak_ptr<Owner> &owner) {
  Exchange::Handler handler;
  handler.on_head = [owner](const net::HttpResponseHead &head) {
    if (auto self = owner.lock()) self->on_head(head);
  };
  handler.on_body = [owner](std::string_view chunk) {
    if (auto self = owner.lock()) self->on_body(chunk);
  };
  handler.on_complete = [owner](const net::HttpResult &) {
    if (auto self = owner.lock()) self->on_complete();
  };
  handler.on_error = [owner](ProviderError error) {
    if (auto self = owner.lock()) self->deliver_error(std::move(error));
  };
  return handler;
}

/// The HttpRequest every exchange starts from: URL base_url + `path`, the bearer key, extra
/// headers, timeouts and TLS settings.
net::HttpRequest make_request(const ClientOptions &options, std::string_view path, std::string content_type,
                              std::string body);

/// Builds the LLM for one flavour from config (what register_openai registers).
std::unique_ptr<Llm> make_llm(core::ConfigReader &config, const ProviderContext &context, const Flavor &flavor);

}  // namespace openai
}  // namespace parley::providers
