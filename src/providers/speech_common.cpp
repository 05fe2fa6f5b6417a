#include "providers/speech_common.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "audio/g711.hpp"
#include "common/error.hpp"
#include "core/redact.hpp"
#include "net/base64.hpp"
#include "providers/registry.hpp"

namespace parley::providers::speech {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

milliseconds read_ms(core::ConfigReader &config, std::string_view key, milliseconds fallback) {
  return milliseconds(config.integer(key, fallback.count(), 1, 600'000));
}

// Cuts at a UTF-8 character boundary so a clipped message stays valid text.
std::string clip(std::string text, size_t max_chars) {
  if (text.size() <= max_chars) return text;
  size_t end = max_chars;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text + "...";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Config

Endpoint read_endpoint(core::ConfigReader &config, std::string default_base_url) {
  Endpoint e;
  e.base_url = config.string("base_url", std::move(default_base_url));
  while (!e.base_url.empty() && e.base_url.back() == '/') e.base_url.pop_back();
  const std::string_view url = e.base_url;
  if (!url.empty() && !starts_with(url, "http://") && !starts_with(url, "https://") && !starts_with(url, "ws://") &&
      !starts_with(url, "wss://")) {
    config.fail("base_url", "expected an http://, https://, ws:// or wss:// URL; got \"" + e.base_url + "\"");
  }
  e.connect_timeout = read_ms(config, "connect_timeout_ms", e.connect_timeout);
  e.first_byte_timeout = read_ms(config, "first_byte_timeout_ms", e.first_byte_timeout);
  e.idle_timeout = read_ms(config, "idle_timeout_ms", e.idle_timeout);
  e.verify_tls = config.boolean("verify_tls", true);
  e.ca_file = config.string("ca_file", "");
  std::error_code ec;
  if (!e.ca_file.empty() && !std::filesystem::is_regular_file(e.ca_file, ec)) {
    config.fail("ca_file", "no such file: \"" + e.ca_file + "\"");
  }
  return e;
}

std::string require_api_key(core::ConfigReader &config, const ProviderContext &context, const char *default_env) {
  std::string key = read_api_key(config, context, default_env);
  if (key.empty()) {
    const std::string env = config.string("api_key_env", default_env);
    config.fail("api_key", "missing: give \"api_key\", or set the environment variable " + env);
  }
  return key;
}

net::HttpRequest http_request(const Endpoint &endpoint, std::string method, std::string url) {
  net::HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.connect_timeout = endpoint.connect_timeout;
  request.first_byte_timeout = endpoint.first_byte_timeout;
  request.idle_timeout = endpoint.idle_timeout;
  request.verify_tls = endpoint.verify_tls;
  request.ca_file = endpoint.ca_file;
  return request;
}

net::WebSocketClientOptions websocket_options(const Endpoint &endpoint, std::string url) {
  net::WebSocketClientOptions options;
  options.url = std::move(url);
  options.connect_timeout = endpoint.connect_timeout;
  options.verify_tls = endpoint.verify_tls;
  options.ca_file = endpoint.ca_file;
  return options;
}

std::string websocket_base(std::string_view base_url) {
  if (starts_with(base_url, "https://")) return "wss://" + std::string(base_url.substr(8));
  if (starts_with(base_url, "http://")) return "ws://" + std::string(base_url.substr(7));
  return std::string(base_url);
}

boost::asio::io_context &io_context_of(const boost::asio::any_io_executor &executor) {
  using IoExecutor = boost::asio::io_context::executor_type;
  if (const auto *strand = executor.target<boost::asio::strand<IoExecutor>>()) {
    return strand->get_inner_executor().context();
  }
  if (const auto *io = executor.target<IoExecutor>()) return io->context();
  throw Error(Status::internal, "the WebSocket providers need an executor on an io_context (a strand or its own)");
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' || u == '_' ||
        u == '.' || u == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

Query &Query::add(std::string_view name, std::string_view value) {
  if (!text_.empty()) text_ += '&';
  text_ += url_encode(name);
  text_ += '=';
  text_ += url_encode(value);
  return *this;
}
Query &Query::add(std::string_view name, int64_t value) { return add(name, std::string_view(std::to_string(value))); }
Query &Query::add(std::string_view name, bool value) { return add(name, std::string_view(value ? "true" : "false")); }

// ---------------------------------------------------------------------------------------------
// Errors

ErrorKind kind_of_status(int status) noexcept {
  if (status == 401 || status == 403) return ErrorKind::auth;
  if (status == 429) return ErrorKind::rate_limited;
  if (status == 408) return ErrorKind::timeout;
  if (status >= 500) return ErrorKind::server;
  return ErrorKind::bad_request;
}

milliseconds retry_after(const net::HttpHeaders &headers) {
  auto number = [](std::string_view text) -> std::optional<double> {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > 86'400'000) return std::nullopt;
    return value;
  };
  if (const auto ms = number(net::find_header(headers, "retry-after-ms"))) return milliseconds(static_cast<int64_t>(*ms));
  if (const auto s = number(net::find_header(headers, "retry-after"))) return milliseconds(static_cast<int64_t>(*s * 1000));
  return milliseconds(0);
}

std::string scrub(std::string_view text, std::string_view secret, size_t max_chars) {
  std::string out(text);
  if (!secret.empty()) {
    for (size_t at = out.find(secret); at != std::string::npos; at = out.find(secret, at + core::kRedacted.size())) {
      out.replace(at, secret.size(), core::kRedacted);
    }
  }
  out = core::redact_patterns(out);
  for (char &c : out) {
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return clip(std::move(out), max_chars);
}

const char *reason_phrase(int status) noexcept {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

ProviderError status_error(std::string provider, int status, std::string message, milliseconds retry) {
  ProviderError error;
  error.kind = kind_of_status(status);
  error.provider = std::move(provider);
  error.http_status = status;
  error.retry_after = retry;
  if (message.empty()) message = reason_phrase(status);
  if (message.empty()) message = "HTTP status " + std::to_string(status);
  error.message = std::move(message);
  return error;
}

ProviderError transfer_error(std::string provider, const net::HttpResult &result) {
  ProviderError error;
  error.provider = std::move(provider);
  error.http_status = result.status;
  const std::string detail = scrub(result.message, {});
  switch (result.failure) {
    case net::HttpFailure::tls:
      error.kind = ErrorKind::tls;
      error.message = "TLS failure: " + detail;
      break;
    case net::HttpFailure::timeout_connect:
      error.kind = ErrorKind::timeout;
      error.message = "connect timeout: " + detail;
      break;
    case net::HttpFailure::timeout_first_byte:
    case net::HttpFailure::timeout_idle:
    case net::HttpFailure::timeout_total:
      error.kind = ErrorKind::timeout;
      error.message = detail;
      break;
    case net::HttpFailure::cut:
      error.kind = ErrorKind::network;
      error.message = "the response was cut short: " + detail;
      break;
    case net::HttpFailure::cancelled:
      error.kind = ErrorKind::cancelled;
      error.message = "cancelled";
      break;
    case net::HttpFailure::connect:
      error.kind = ErrorKind::network;
      error.message = "cannot connect: " + detail;
      break;
    case net::HttpFailure::none:
    case net::HttpFailure::other:
      error.kind = ErrorKind::network;
      error.message = detail.empty() ? "request failed" : detail;
      break;
  }
  return error;
}

ProviderError websocket_error(std::string provider, int code, std::string_view reason, int http_status,
                              const std::function<std::string(std::string_view body)> &body_message,
                              std::string_view secret) {
  if (http_status != 0) {
    std::string words = body_message ? body_message(reason) : std::string(reason);
    if (words == "upgrade refused") words.clear();  // the client's placeholder for an empty body
    ProviderError error = status_error(std::move(provider), http_status, scrub(words, secret));
    error.fatal = http_status >= 400 && http_status < 500 && http_status != 408 && http_status != 429;
    return error;
  }
  ProviderError error;
  error.provider = std::move(provider);
  error.fatal = false;
  if (code == 0) {
    error.message = scrub(reason, secret);
    if (starts_with(reason, "TLS") || contains(reason, "certificate")) {
      error.kind = ErrorKind::tls;
      error.fatal = true;
    } else if (contains(reason, "timeout") || contains(reason, "timed out")) {
      error.kind = ErrorKind::timeout;
    } else {
      error.kind = ErrorKind::network;
    }
    if (error.message.empty()) error.message = "the connection ended";
    return error;
  }
  switch (code) {
    case 1008: error.kind = ErrorKind::bad_request; break;
    case 1000:
    case 1001:
    case 1006: error.kind = ErrorKind::network; break;
    default: error.kind = ErrorKind::server; break;
  }
  error.message = "closed by the server (" + std::to_string(code) + ")";
  if (!reason.empty()) error.message += ": " + scrub(reason, secret);
  return error;
}

void log(const ProviderContext &context, core::LogLevel level, std::string_view message) {
  if (context.logger && context.logger->enabled(level)) context.logger->log(level, context.call_id, message);
}

// ---------------------------------------------------------------------------------------------
// JSON

const nlohmann::json *json_field(const nlohmann::json &object, const char *key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string json_string(const nlohmann::json &object, const char *key, std::string fallback) {
  const auto *value = json_field(object, key);
  return value && value->is_string() ? value->get<std::string>() : fallback;
}

double json_number(const nlohmann::json &object, const char *key, double fallback) {
  const auto *value = json_field(object, key);
  if (!value) return fallback;
  if (value->is_number()) return value->get<double>();
  if (value->is_string()) {
    const auto &text = value->get_ref<const std::string &>();
    double number = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec == std::errc() && end == text.data() + text.size() && std::isfinite(number)) return number;
  }
  return fallback;
}

bool json_bool(const nlohmann::json &object, const char *key, bool fallback) {
  const auto *value = json_field(object, key);
  return value && value->is_boolean() ? value->get<bool>() : fallback;
}

// ---------------------------------------------------------------------------------------------
// Audio

std::span<const int16_t> AudioDecoder::decode(std::string_view bytes) {
  samples_.clear();
  const auto *in = reinterpret_cast<const uint8_t *>(bytes.data());
  size_t n = bytes.size();
  if (encoding_ == WireAudio::ulaw) {
    samples_.resize(n);
    audio::ulaw_decode(std::span<const uint8_t>(in, n), std::span<int16_t>(samples_));
    return samples_;
  }
  samples_.reserve(n / 2 + 1);
  if (has_carry_ && n > 0) {
    samples_.push_back(static_cast<int16_t>(static_cast<uint16_t>(carry_) | static_cast<uint16_t>(in[0]) << 8));
    has_carry_ = false;
    ++in;
    --n;
  }
  for (size_t i = 0; i + 1 < n; i += 2) {
    samples_.push_back(static_cast<int16_t>(static_cast<uint16_t>(in[i]) | static_cast<uint16_t>(in[i + 1]) << 8));
  }
  if (n % 2 == 1) {
    carry_ = in[n - 1];
    has_carry_ = true;
  }
  return samples_;
}

std::optional<std::string> decode_base64(std::string_view text) {
  std::string out(net::base64_max_decoded_size(text.size()), '\0');
  const auto n = net::base64_decode(text, std::span(reinterpret_cast<uint8_t *>(out.data()), out.size()));
  if (!n) return std::nullopt;
  out.resize(*n);
  return out;
}

std::string pcm16_bytes(const int16_t *samples, size_t count) {
  std::string out(count * 2, '\0');
  for (size_t i = 0; i < count; ++i) {
    const auto u = static_cast<uint16_t>(samples[i]);
    out[2 * i] = static_cast<char>(u & 0xFF);
    out[2 * i + 1] = static_cast<char>(u >> 8);
  }
  return out;
}

std::string encode_base64_pcm16(const int16_t *samples, size_t count) {
  const std::string bytes = pcm16_bytes(samples, count);
  std::string out;
  out.reserve(net::base64_encoded_size(bytes.size()));
  net::base64_encode(std::span(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size()), out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// HTTP synthesis

namespace {

constexpr size_t kMaxErrorBody = 16 * 1024;

// One chunk's request. Its HTTP callbacks hold it weakly: the handle owns it.
class HttpChunk : public std::enable_shared_from_this<HttpChunk> {
 public:
  HttpChunk(std::shared_ptr<const HttpSynthesisSpec> spec, TtsCallbacks callbacks)
      : spec_(std::move(spec)), callbacks_(std::move(callbacks)), decoder_(spec_->encoding) {}

  void start(net::HttpClient &http, net::HttpRequest request, boost::asio::any_io_executor executor) {
    std::weak_ptr<HttpChunk> weak = shared_from_this();
    net::HttpCallbacks cb;
    cb.on_head = [weak](const net::HttpResponseHead &head) {
      if (auto self = weak.lock()) self->on_head(head);
    };
    cb.on_body = [weak](std::string_view chunk) {
      if (auto self = weak.lock()) self->on_body(chunk);
    };
    cb.on_complete = [weak](const net::HttpResult &result) {
      if (auto self = weak.lock()) self->on_complete(result);
    };
    call_ = http.start(std::move(request), std::move(cb), std::move(executor));
  }

  void cancel() {
    ended_ = true;
    if (call_) call_->cancel();
  }

 private:
  bool success() const { return status_ >= 200 && status_ < 300; }

  void on_head(const net::HttpResponseHead &head) {
    status_ = head.status;
    retry_after_ = retry_after(head.headers);
  }

  void on_body(std::string_view chunk) {
    if (ended_) return;
    if (!success()) {
      if (error_body_.size() < kMaxErrorBody) error_body_.append(chunk.substr(0, kMaxErrorBody - error_body_.size()));
      return;
    }
    audio_bytes_ += chunk.size();
    const auto samples = decoder_.decode(chunk);
    if (!samples.empty() && callbacks_.on_audio) callbacks_.on_audio(samples.data(), samples.size());
  }

  void on_complete(const net::HttpResult &result) {
    if (ended_) return;
    ended_ = true;
    if (result.status != 0) status_ = result.status;
    if (result.failure != net::HttpFailure::none) {
      ProviderError error = transfer_error(spec_->provider, result);
      if (success() && audio_bytes_ > 0) error.message += " (after " + std::to_string(audio_bytes_) + " bytes of audio)";
      return fail(std::move(error));
    }
    if (!success()) {
      const std::string words = spec_->error_message ? spec_->error_message(status_, error_body_) : error_body_;
      return fail(status_error(spec_->provider, status_, scrub(words, spec_->secret), retry_after_));
    }
    if (callbacks_.on_done) callbacks_.on_done();
  }

  void fail(ProviderError error) {
    if (callbacks_.on_error) callbacks_.on_error(std::move(error));
  }

  std::shared_ptr<const HttpSynthesisSpec> spec_;
  TtsCallbacks callbacks_;
  AudioDecoder decoder_;
  std::unique_ptr<net::HttpCall> call_;
  int status_ = 0;
  milliseconds retry_after_{0};
  std::string error_body_;
  size_t audio_bytes_ = 0;
  bool ended_ = false;
};

class HttpChunkHandle final : public Cancellable {
 public:
  explicit HttpChunkHandle(std::shared_ptr<HttpChunk> chunk) : chunk_(std::move(chunk)) {}
  ~HttpChunkHandle() override { chunk_->cancel(); }
  void cancel() override { chunk_->cancel(); }

 private:
  std::shared_ptr<HttpChunk> chunk_;
};

// Reports a failure found before any request went out, from a fresh executor turn (never
// inline in synthesize()).
class FailedChunk final : public Cancellable {
 public:
  FailedChunk(boost::asio::any_io_executor executor, TtsCallbacks callbacks, ProviderError error)
      : alive_(std::make_shared<bool>(true)) {
    boost::asio::post(executor, [alive = alive_, callbacks = std::move(callbacks), error = std::move(error)]() mutable {
      if (*alive && callbacks.on_error) callbacks.on_error(std::move(error));
    });
  }
  ~FailedChunk() override { cancel(); }
  void cancel() override { *alive_ = false; }

 private:
  std::shared_ptr<bool> alive_;
};

class HttpSynthesizer final : public ChunkSynthesizer {
 public:
  HttpSynthesizer(HttpSynthesisSpec spec, const ProviderContext &context)
      : spec_(std::make_shared<HttpSynthesisSpec>(std::move(spec))), context_(context) {}

  std::unique_ptr<Cancellable> synthesize(const std::string &text, TtsCallbacks callbacks) override {
    if (!context_.http) {
      ProviderError error;
      error.kind = ErrorKind::internal;
      error.provider = spec_->provider;
      error.message = "no HTTP client in the provider context";
      return std::make_unique<FailedChunk>(context_.executor, std::move(callbacks), std::move(error));
    }
    auto chunk = std::make_shared<HttpChunk>(spec_, std::move(callbacks));
    chunk->start(*context_.http, spec_->build(text), context_.executor);
    return std::make_unique<HttpChunkHandle>(std::move(chunk));
  }

 private:
  std::shared_ptr<HttpSynthesisSpec> spec_;
  ProviderContext context_;
};

}  // namespace

std::shared_ptr<ChunkSynthesizer> make_http_synthesizer(HttpSynthesisSpec spec, const ProviderContext &context) {
  return std::make_shared<HttpSynthesizer>(std::move(spec), context);
}

// ---------------------------------------------------------------------------------------------
// WebSocketStt

WebSocketStt::WebSocketStt(Options options, ProviderContext context, SttCallbacks callbacks)
    : options_(std::move(options)),
      context_(std::move(context)),
      callbacks_(std::move(callbacks)),
      finalize_timer_(context_.executor) {}

WebSocketStt::~WebSocketStt() {
  if (client_) client_->abort();
}

void WebSocketStt::connect(net::WebSocketClientOptions options) {
  try {
    client_ = net::WebSocketClient::connect(io_context_of(context_.executor), std::move(options),
                                            std::make_shared<WeakHandler<WebSocketStt>>(weak_from_this()),
                                            context_.executor);
  } catch (const std::exception &e) {
    boost::asio::post(context_.executor, [self = shared_from_this(), failure = error(ErrorKind::internal, e.what(), true)]() mutable {
      self->fail(std::move(failure));
    });
  }
}

void WebSocketStt::cancel() {
  if (ended_) return;
  end();
  if (!client_) return;
  if (open_) goodbye();
  client_->close(1000);
  client_.reset();
}

void WebSocketStt::on_open() {
  if (!ended_) open_ = true;
}

void WebSocketStt::on_text(std::string_view message) {
  if (!ended_) handle_text(message);
}

void WebSocketStt::on_binary(std::string_view message) {
  if (!ended_) log(context_, core::LogLevel::debug, options_.provider + ": ignored a binary message of " + std::to_string(message.size()) + " bytes");
}

void WebSocketStt::on_closed(int code, std::string_view reason, int http_status) {
  client_.reset();
  if (ended_) return;
  fail(websocket_error(options_.provider, code, reason, http_status, options_.refusal_message, options_.secret));
}

void WebSocketStt::send_text(std::string message) {
  if (!client_) return;
  last_sent_ = std::chrono::steady_clock::now();
  client_->send_text(std::move(message));
}

void WebSocketStt::send_binary(std::string message) {
  if (!client_) return;
  last_sent_ = std::chrono::steady_clock::now();
  client_->send_binary(std::move(message));
}

void WebSocketStt::deliver(const Transcript &transcript) {
  if (ended_) return;
  if (transcript.is_final && awaiting_final_) {
    awaiting_final_ = false;
    finalize_timer_.cancel();
  }
  if (callbacks_.on_transcript) callbacks_.on_transcript(transcript);
}

void WebSocketStt::deliver_speech_started() {
  if (!ended_ && callbacks_.on_speech_started) callbacks_.on_speech_started();
}

void WebSocketStt::await_final() {
  if (ended_) return;
  awaiting_final_ = true;
  finalize_timer_.expires_after(options_.finalize_timeout);
  finalize_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->ended_ || !self->awaiting_final_) return;
    self->fail(self->error(ErrorKind::timeout,
                           "no final transcript within " + std::to_string(self->options_.finalize_timeout.count()) +
                               " ms of finalize",
                           false));
  });
}

void WebSocketStt::deliver_empty_final(int at_ms) {
  boost::asio::post(context_.executor, [weak = weak_from_this(), at_ms] {
    auto self = weak.lock();
    if (!self || self->ended_) return;
    Transcript empty;
    empty.is_final = true;
    empty.speech_final = true;
    empty.start_ms = empty.end_ms = at_ms;
    self->deliver(empty);
  });
}

void WebSocketStt::fail(ProviderError failure) {
  if (ended_) return;
  end();
  if (client_) {
    client_->abort();
    client_.reset();
  }
  log(context_, failure.fatal ? core::LogLevel::error : core::LogLevel::warn,
      options_.provider + ": " + failure.message + (failure.fatal ? "" : " (the stream ended; a new one may be started)"));
  if (callbacks_.on_error) callbacks_.on_error(std::move(failure));
}

ProviderError WebSocketStt::error(ErrorKind kind, std::string message, bool fatal) const {
  ProviderError out;
  out.kind = kind;
  out.provider = options_.provider;
  out.message = scrub(message, options_.secret);
  out.fatal = fatal;
  return out;
}

void WebSocketStt::end() {
  ended_ = true;
  awaiting_final_ = false;
  finalize_timer_.cancel();
}

}  // namespace parley::providers::speech
