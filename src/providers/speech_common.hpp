// What the cloud speech adapters (ElevenLabs, Deepgram, Azure) share: endpoint settings read
// from config, query strings, HTTP and WebSocket failures turned into ProviderErrors, a
// streaming raw-audio decoder, and a ChunkSynthesizer for HTTP APIs that stream raw audio.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/config_reader.hpp"
#include "core/logger.hpp"
#include "net/http_client.hpp"
#include "net/websocket_client.hpp"
#include "providers/provider.hpp"
#include "providers/stt/stt.hpp"
#include "providers/tts/tts.hpp"

namespace boost::asio {
class io_context;
}

namespace parley::providers::speech {

using std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------------
// Config

/// Where a service is and how patient to be with it.
struct Endpoint {
  std::string base_url;  // "https://api.example.com" (no trailing slash); tests point it at a fake
  milliseconds connect_timeout{5'000};
  milliseconds first_byte_timeout{15'000};  // request sent -> first byte of the answer
  milliseconds idle_timeout{15'000};        // between two pieces of a streaming answer
  bool verify_tls = true;
  std::string ca_file;  // PEM bundle instead of the system's
};

/// Reads base_url, connect_timeout_ms, first_byte_timeout_ms, idle_timeout_ms, verify_tls
/// and ca_file. base_url must be http(s):// or ws(s)://; it may be "" only when the
/// default is "" (the caller then needs another way to find the service).
Endpoint read_endpoint(core::ConfigReader &config, std::string default_base_url);

/// The API key (read_api_key), or a config error naming both ways to give it.
std::string require_api_key(core::ConfigReader &config, const ProviderContext &context, const char *default_env);

/// An HTTP request to `url` with the endpoint's timeouts and TLS settings.
net::HttpRequest http_request(const Endpoint &endpoint, std::string method, std::string url);

/// WebSocket options for `url` with the endpoint's connect timeout and TLS settings.
net::WebSocketClientOptions websocket_options(const Endpoint &endpoint, std::string url);

/// "https://host" -> "wss://host", "http://host" -> "ws://host"; ws(s) unchanged.
std::string websocket_base(std::string_view base_url);

/// The io_context behind a provider executor (a strand on an io_context, or the io_context's
/// own executor), which WebSocketClient::connect needs. Throws Error(internal) otherwise.
boost::asio::io_context &io_context_of(const boost::asio::any_io_executor &executor);

/// Percent-encoding of a URL path segment or query value (RFC 3986 unreserved kept).
std::string url_encode(std::string_view text);

/// Builds "?a=1&b=x%20y" in the order given.
class Query {
 public:
  Query &add(std::string_view name, std::string_view value);
  Query &add(std::string_view name, int64_t value);
  Query &add(std::string_view name, bool value);
  Query &add(std::string_view name, const char *value) { return add(name, std::string_view(value)); }
  /// "" when empty, else "?..."
  std::string str() const { return text_.empty() ? std::string() : "?" + text_; }

 private:
  std::string text_;
};

// ---------------------------------------------------------------------------------------------
// Errors

/// auth for 401/403, rate_limited for 429, timeout for 408, server for 5xx, else bad_request.
ErrorKind kind_of_status(int status) noexcept;

/// From retry-after-ms, else retry-after (seconds); 0 when absent or an HTTP date.
milliseconds retry_after(const net::HttpHeaders &headers);

/// `text` with every occurrence of `secret` masked, cut to a readable length.
std::string scrub(std::string_view text, std::string_view secret, size_t max_chars = 600);

/// The standard reason phrase ("Unauthorized") or "".
const char *reason_phrase(int status) noexcept;

/// A non-2xx answer: `message` is the provider's words (its error body, already parsed and
/// scrubbed; "" when it sent none: the reason phrase is used).
ProviderError status_error(std::string provider, int status, std::string message, milliseconds retry = milliseconds(0));

/// A transfer that failed before a complete answer (timeouts, TLS, refused, cut).
ProviderError transfer_error(std::string provider, const net::HttpResult &result);

/// How a WebSocket ended, for on_closed: upgrade refused (http_status != 0, its body in
/// `reason`), never opened or cut (code 0: refused, TLS, timeout, reset), or closed by the
/// server (`code` and its reason, kept verbatim). `body_message` parses a refusal body into
/// the provider's words. `fatal` is set only where retrying cannot help: a refusal with a
/// 4xx other than 408/429 (bad key, bad parameters) and a TLS failure; every drop of an
/// open stream is non-fatal, for a reconnecting caller.
ProviderError websocket_error(std::string provider, int code, std::string_view reason, int http_status,
                              const std::function<std::string(std::string_view body)> &body_message,
                              std::string_view secret);

void log(const ProviderContext &context, core::LogLevel level, std::string_view message);

// ---------------------------------------------------------------------------------------------
// JSON from the network: accessors that never throw, whatever the server sent

/// The member `key` of `object` (nullptr when `object` is not an object or lacks it).
const nlohmann::json *json_field(const nlohmann::json &object, const char *key);
/// A string member, else `fallback` (absent, null or another type).
std::string json_string(const nlohmann::json &object, const char *key, std::string fallback = {});
/// A number member; numbers sent as strings ("1.5") are accepted; else `fallback`.
double json_number(const nlohmann::json &object, const char *key, double fallback);
/// A boolean member, else `fallback`.
bool json_bool(const nlohmann::json &object, const char *key, bool fallback);

// ---------------------------------------------------------------------------------------------
// Audio

enum class WireAudio { pcm16, ulaw };  // headerless PCM16 little-endian, or G.711 mu-law

/// Turns raw audio bytes, split anywhere (a PCM16 sample may straddle two network reads),
/// into PCM16 samples.
class AudioDecoder {
 public:
  explicit AudioDecoder(WireAudio encoding) : encoding_(encoding) {}
  /// The samples `bytes` completes; valid until the next call.
  std::span<const int16_t> decode(std::string_view bytes);
  /// A lone byte of a PCM16 sample waits for its other half.
  bool holds_partial_sample() const noexcept { return has_carry_; }

 private:
  WireAudio encoding_;
  bool has_carry_ = false;
  uint8_t carry_ = 0;
  std::vector<int16_t> samples_;
};

/// Decodes standard base64 into bytes; nullopt when invalid.
std::optional<std::string> decode_base64(std::string_view text);
/// Base64 of PCM16 samples as little-endian bytes.
std::string encode_base64_pcm16(const int16_t *samples, size_t count);
/// PCM16 samples as little-endian bytes.
std::string pcm16_bytes(const int16_t *samples, size_t count);

// ---------------------------------------------------------------------------------------------
// HTTP synthesis

/// One text chunk = one HTTP request whose 200 body is raw audio, delivered as it arrives.
/// A non-2xx answer becomes status_error() with `error_message(status, body)`.
struct HttpSynthesisSpec {
  std::string provider;
  WireAudio encoding = WireAudio::pcm16;
  std::string secret;  // masked out of every message
  std::function<net::HttpRequest(const std::string &text)> build;
  std::function<std::string(int status, std::string_view body)> error_message;
};

/// A ChunkSynthesizer for make_chunked_stream(); `spec.build` may keep state across the
/// chunks of one utterance (one synthesizer per stream).
std::shared_ptr<ChunkSynthesizer> make_http_synthesizer(HttpSynthesisSpec spec, const ProviderContext &context);

// ---------------------------------------------------------------------------------------------
// WebSocket plumbing

/// Forwards a WebSocket's events to `T` while it lives; the connection holds only this.
template <typename T>
class WeakHandler final : public net::WebSocketClient::Handler {
 public:
  explicit WeakHandler(std::weak_ptr<T> target) : target_(std::move(target)) {}
  void on_open() override {
    if (auto t = target_.lock()) t->on_open();
  }
  void on_text(std::string_view message) override {
    if (auto t = target_.lock()) t->on_text(message);
  }
  void on_binary(std::string_view message) override {
    if (auto t = target_.lock()) t->on_binary(message);
  }
  void on_closed(int code, std::string_view reason, int http_status) override {
    if (auto t = target_.lock()) t->on_closed(code, reason, http_status);
  }

 private:
  std::weak_ptr<T> target_;
};

/// What the WebSocket STT adapters (Deepgram live, ElevenLabs Scribe) share: the
/// connection, the end of the stream, and the wait for the final that finalize() asks for.
///
/// The stream ends at the first error (after it nothing is delivered and audio is dropped).
/// A drop of an open stream - a close the client did not ask for, a cut, a timeout - is a
/// non-fatal error, reported at once, so a reconnecting caller can start a new stream and
/// replay the gap; failures that retrying cannot fix (a refused key, bad parameters, a
/// certificate) are fatal. cancel() says goodbye (goodbye()) and closes; no callback after.
class WebSocketStt : public std::enable_shared_from_this<WebSocketStt> {
 public:
  struct Options {
    std::string provider;
    std::string secret;  // the API key, masked out of every message
    milliseconds finalize_timeout{5'000};
    std::function<std::string(std::string_view body)> refusal_message;  // an upgrade refusal's body
  };

  WebSocketStt(Options options, ProviderContext context, SttCallbacks callbacks);
  virtual ~WebSocketStt();

  /// Connects (call once, on the executor). A failure to start is reported through on_error.
  void connect(net::WebSocketClientOptions options);

  virtual void push_audio(const int16_t *samples, size_t count) = 0;
  virtual void finalize() = 0;
  void cancel();

  // Connection events, on the executor (through a WeakHandler).
  void on_open();
  void on_text(std::string_view message);
  void on_binary(std::string_view message);
  void on_closed(int code, std::string_view reason, int http_status);

 protected:
  virtual void handle_text(std::string_view message) = 0;
  /// Messages to send before a deliberate close (Deepgram's CloseStream).
  virtual void goodbye() {}

  void send_text(std::string message);
  void send_binary(std::string message);
  /// Delivers a transcript; a final with speech_final ends the wait for one.
  void deliver(const Transcript &transcript);
  void deliver_speech_started();
  /// Starts (or keeps) the wait for a final after finalize(): a timeout error when none comes.
  void await_final();
  /// An empty speech-final at `at_ms`, from a fresh executor turn (finalize() with nothing
  /// to flush).
  void deliver_empty_final(int at_ms);
  /// Ends the stream with `error`; the connection is dropped.
  void fail(ProviderError error);
  ProviderError error(ErrorKind kind, std::string message, bool fatal) const;

  bool ended() const noexcept { return ended_; }
  bool open() const noexcept { return open_; }
  std::chrono::steady_clock::time_point last_sent() const noexcept { return last_sent_; }
  const ProviderContext &context() const noexcept { return context_; }
  const Options &options() const noexcept { return options_; }

 private:
  void end();

  Options options_;
  ProviderContext context_;
  SttCallbacks callbacks_;
  std::shared_ptr<net::WebSocketClient> client_;
  boost::asio::steady_timer finalize_timer_;
  std::chrono::steady_clock::time_point last_sent_ = std::chrono::steady_clock::now();
  bool awaiting_final_ = false;
  bool open_ = false;
  bool ended_ = false;
};

/// The SttStream handle over a WebSocketStt: forwards the calls, cancels when destroyed.
class WebSocketSttStream final : public SttStream {
 public:
  explicit WebSocketSttStream(std::shared_ptr<WebSocketStt> state) : state_(std::move(state)) {}
  ~WebSocketSttStream() override { state_->cancel(); }
  void push_audio(const int16_t *samples, size_t count) override { state_->push_audio(samples, count); }
  void finalize() override { state_->finalize(); }
  void cancel() override { state_->cancel(); }

 private:
  std::shared_ptr<WebSocketStt> state_;
};

/// The Stt of a streaming WebSocket service: each stream is a `Session` (a WebSocketStt
/// built from the vendor's shared settings, which carry `sample_rate`). Such streams can drop,
/// so the registry wraps this provider in reconnection.
template <typename Session, typename Settings>
class WebSocketSttProvider final : public Stt {
 public:
  WebSocketSttProvider(std::string name, Settings settings, ProviderContext context)
      : name_(std::move(name)),
        settings_(std::make_shared<const Settings>(std::move(settings))),
        context_(std::move(context)) {}

  const std::string &name() const noexcept override { return name_; }
  int sample_rate() const noexcept override { return settings_->sample_rate; }
  bool streams_can_drop() const noexcept override { return true; }

  std::unique_ptr<SttStream> start(SttCallbacks callbacks) override {
    auto state = std::make_shared<Session>(settings_, context_, std::move(callbacks));
    state->start();
    return std::make_unique<WebSocketSttStream>(std::move(state));
  }

 private:
  const std::string name_;
  std::shared_ptr<const Settings> settings_;
  ProviderContext context_;
};

}  // namespace parley::providers::speech
