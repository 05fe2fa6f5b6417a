#include "transports/browser/listener.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdlib>
#include <deque>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <optional>

#include "audio/resampler.hpp"
#include "common/error.hpp"
#include "core/behaviour.hpp"
#include "core/config_reader.hpp"
#include "core/runtime.hpp"
#include "core/session.hpp"
#include "net/websocket_server.hpp"
#include "transports/browser/protocol.hpp"
#include "transports/common/websocket_listener.hpp"

namespace parley::browser {
namespace {

using core::LogLevel;

constexpr int kMaxWarningEvents = 10;      // per call, to the host and to the page; later ones are only counted
constexpr int kMaxInvalidMessages = 200;   // a peer this broken is not a working page: hang up
constexpr size_t kMaxPendingMarks = 1024;  // marks sent and not yet confirmed that we remember
constexpr size_t kMaxCloseReasonBytes = 123;  // RFC 6455: a close frame's payload is at most 125 bytes
constexpr uint16_t kCloseNormal = 1000;
constexpr uint16_t kCloseUnsupported = 1003;
constexpr uint16_t kClosePolicy = 1008;

struct ListenerConfig {
  transports::WebSocketListenerSpec spec;  // what every WebSocket listener has
  std::string auth_token;
  std::vector<std::string> allowed_origins;  // lower case; empty = any origin
  std::string record_dir;
};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// An origin is scheme://host[:port], exactly as a browser sends it in the Origin header.
std::vector<std::string> read_allowed_origins(core::ConfigReader &root) {
  std::vector<std::string> origins;
  const nlohmann::json *value = root.raw("allowed_origins");
  if (value == nullptr) return origins;
  if (!value->is_array()) root.fail("allowed_origins", "expected an array of origins (\"https://app.example.com\")");
  for (const auto &entry : *value) {
    if (!entry.is_string() || entry.get<std::string>().empty()) {
      root.fail("allowed_origins", "expected non-empty strings; got " + entry.dump());
    }
    const auto origin = entry.get<std::string>();
    const auto scheme_end = origin.find("://");
    if (scheme_end == std::string::npos || origin.find('/', scheme_end + 3) != std::string::npos) {
      root.fail("allowed_origins", "'" + origin + "' is not an origin (scheme://host[:port], no path)");
    }
    origins.push_back(lower(origin));
  }
  return origins;
}

ListenerConfig parse_config(const nlohmann::json &json, core::Runtime &runtime) {
  core::ConfigReader root(json, "browser listener config");
  ListenerConfig config;
  root.choice("transport", "browser", {"browser"});
  // max_message_bytes' default (128 KiB) leaves room for the largest audio frame (64 KiB); a
  // smaller limit closes the call on bigger messages (1009) instead of answering with an error.
  config.auth_token = transports::read_common_keys(root, runtime, "/browser", config.spec);
  config.allowed_origins = read_allowed_origins(root);
  config.record_dir = root.string("record_dir", "");
  root.reject_unknown_keys();
  return config;
}

// One call: the WebSocket a page opened, the session it drives, and the conversions between
// the page's rate and the session's. Everything runs on the connection's strand, which the
// session shares.
class BrowserCall final : public transports::WebSocketCall, public std::enable_shared_from_this<BrowserCall> {
 public:
  BrowserCall(std::shared_ptr<net::WebSocketConnection> ws, std::shared_ptr<core::Session> session, std::string record_dir)
      : ws_(std::move(ws)), session_(std::move(session)), record_dir_(std::move(record_dir)) {}

  // ---- inbound: page -> session --------------------------------------------------------
  void on_text(std::string_view text) override {
    if (!parser_.parse(text, message_)) return invalid(parser_.error() + " (message ignored)");
    switch (message_.type) {
      case MessageType::start: return on_start();
      case MessageType::mark: return on_mark();
      case MessageType::dtmf: return on_dtmf();
      case MessageType::stop: return on_stop();
    }
  }

  void on_binary(std::string_view frame) override {
    if (!started()) return invalid("audio frame of " + std::to_string(frame.size()) + " bytes before start ignored");
    if (const auto problem = check_audio_frame(frame.size()); !problem.empty()) return invalid(problem);
    if (frame.empty()) return;
    read_pcm16le(frame, page_pcm_);
    // Sized by what arrives (a 20 ms frame), not by the largest legal frame: idle calls
    // must stay small.
    session_pcm_.resize(up_->max_output(page_pcm_.size()));
    const size_t n = up_->process(page_pcm_, session_pcm_);
    if (n > 0) session_->on_caller_audio(std::span<const int16_t>(session_pcm_.data(), n));
  }

  void on_closed(std::string_view reason) override { session_->on_transport_closed(reason); }

  // ---- outbound: session -> page -------------------------------------------------------
  void send_audio(std::span<const int16_t> samples) override {
    if (!started()) return;
    page_out_.resize(down_->max_output(samples.size()));
    const size_t n = down_->process(samples, page_out_);
    if (n == 0) return;  // the resampler is still filling its filter
    std::string frame;
    append_pcm16le(frame, std::span<const int16_t>(page_out_.data(), n));
    if (auto ws = ws_.lock()) ws->send_binary(std::move(frame));
  }

  void send_mark(std::string_view name) override {
    if (!started()) return;
    marks_sent_.emplace_back(name);
    if (marks_sent_.size() > kMaxPendingMarks) marks_sent_.pop_front();
    std::string json;
    write_mark(json, name);
    send(std::move(json));
  }

  void clear() override {
    if (!started()) return;
    std::string json;
    write_clear(json);
    send(std::move(json));
  }

  void hang_up(std::string_view reason) override {
    close(kCloseNormal, std::string(reason));
    end_session(std::string(reason));
  }

  void forward_event(core::EventType type, std::string_view payload_json) override {
    if (!started()) return;
    std::string json;
    write_event(json, core::event_type_name(static_cast<int>(type)), payload_json);
    send(std::move(json));
  }

 private:
  bool started() const noexcept { return up_.has_value(); }

  void on_start() {
    if (started()) return invalid("duplicate start ignored (session " + session_->id() + " already started)");
    const int64_t rate = message_.sample_rate == 0 ? kDefaultClientRate : message_.sample_rate;
    if (!is_client_rate(rate)) {
      const std::string why = "unsupported sample_rate " + std::to_string(rate) + " (8000, 16000, 24000 or 48000)";
      session_->on_transport_warning(why);
      send_error(why);
      return close(kCloseUnsupported, why);
    }
    page_rate_ = static_cast<int>(rate);
    up_.emplace(page_rate_, session_->options().sample_rate);
    down_.emplace(session_->options().sample_rate, page_rate_);
    core::CallInfo info;
    info.transport = "browser";
    info.call_id = std::string(message_.call_id);
    info.custom_parameters = std::move(message_.parameters);
    // Named by session id: the page chooses call_id, and a file name must not be its choice.
    if (!record_dir_.empty()) session_->start_recording(record_dir_ + "/" + session_->id() + ".wav");
    // `started` goes out before anything the session sends once it has started.
    std::string json;
    write_started(json, session_->id(), page_rate_);
    send(std::move(json));
    session_->on_started(std::move(info));
  }

  void on_mark() {
    if (!started()) return invalid("mark before start ignored");
    const auto it = std::find(marks_sent_.begin(), marks_sent_.end(), message_.mark_name);
    if (it == marks_sent_.end()) {
      return invalid("mark \"" + std::string(utf8_prefix(message_.mark_name, 64)) +
                     "\" ignored: no mark of that name is awaiting playback");
    }
    marks_sent_.erase(it);
    session_->on_mark_played(message_.mark_name);
  }

  void on_dtmf() {
    if (!started()) return invalid("dtmf before start ignored");
    session_->on_dtmf(message_.digit);
  }

  // The caller hung up, started or not; the close handshake finishes on its own.
  void on_stop() {
    close(kCloseNormal, "caller hung up");
    end_session("caller hung up (stop)");
  }

  // Posted, so the session is not torn down under a call that is still on the stack.
  void end_session(std::string reason) {
    boost::asio::post(session_->strand(), [session = session_, reason = std::move(reason)] { session->on_transport_closed(reason); });
  }

  void send(std::string message) {
    if (auto ws = ws_.lock()) ws->send_text(std::move(message));
  }

  void send_error(std::string_view why) {
    std::string json;
    write_error(json, why);
    send(std::move(json));
  }

  void close(uint16_t code, const std::string &reason) {
    if (auto ws = ws_.lock()) ws->close(code, std::string(utf8_prefix(reason, kMaxCloseReasonBytes)));
  }

  // A message that breaks the protocol: an error to the page and a warning to the host (a
  // few times per call), never a crash; a peer that keeps at it is hung up on.
  void invalid(const std::string &why) {
    ++invalid_messages_;
    if (invalid_messages_ <= kMaxWarningEvents) {
      session_->on_transport_warning(why);
      send_error(why);
    }
    if (invalid_messages_ == kMaxInvalidMessages) {
      session_->on_transport_warning("closing: " + std::to_string(kMaxInvalidMessages) + " invalid messages");
      close(kClosePolicy, "too many invalid messages");
    }
  }

  // Weak: the connection owns this call (as its handler), never the other way round, so a
  // runtime torn down mid close-handshake leaves no cycle behind.
  std::weak_ptr<net::WebSocketConnection> ws_;
  std::shared_ptr<core::Session> session_;
  std::string record_dir_;
  MessageParser parser_;
  ClientMessage message_;
  int page_rate_ = 0;
  std::optional<audio::Resampler> up_;    // page rate -> session rate; set by start
  std::optional<audio::Resampler> down_;  // session rate -> page rate
  std::deque<std::string> marks_sent_;    // sent, not yet confirmed, oldest first
  int invalid_messages_ = 0;
  // Reused buffers: the frame path allocates nothing in steady state but the frame it sends.
  std::vector<int16_t> page_pcm_;
  std::vector<int16_t> session_pcm_;
  std::vector<int16_t> page_out_;
};

// %XX and '+' decoding of one query value; nullopt when malformed.
std::optional<std::string> percent_decode(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex(text[i + 1]), lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// The first `name` parameter of the target's query string, decoded.
std::optional<std::string> query_parameter(std::string_view target, std::string_view name) {
  const size_t question = target.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t equals = pair.find('=');
    if (pair.substr(0, equals) != name) continue;
    const std::string_view value = equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1);
    // Malformed escapes are compared as written: they cannot match a token sent correctly.
    return percent_decode(value).value_or(std::string(value));
  }
  return std::nullopt;
}

// Compares digests, so the time taken says nothing about the token's length or content.
bool token_matches(std::string_view expected, std::string_view given) {
  unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char *>(expected.data()), expected.size(), a);
  SHA256(reinterpret_cast<const unsigned char *>(given.data()), given.size(), b);
  return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

net::UpgradeDecision refuse(core::Runtime &runtime, const std::string &listener_id, const net::UpgradeRequest &request,
                            std::string why) {
  // The target is not logged: it carries the token.
  runtime.logger().log(LogLevel::warn, "", "browser listener " + listener_id + ": refused " + request.remote_address + ": " + why);
  return {403, std::move(why)};
}

net::UpgradeDecision check_access(core::Runtime &runtime, const ListenerConfig &config, const net::UpgradeRequest &request,
                                  const std::string &listener_id) {
  auto refuse_because = [&](std::string why) { return refuse(runtime, listener_id, request, std::move(why)); };
  const auto &origins = config.allowed_origins;
  if (!origins.empty()) {
    // Browsers always send Origin on a WebSocket upgrade; a page elsewhere must not be able
    // to ride on the user's network position (cross-site WebSocket hijacking).
    const std::string origin = request.header("origin");
    if (origin.empty()) return refuse_because("missing Origin header");
    if (std::find(origins.begin(), origins.end(), lower(origin)) == origins.end()) {
      return refuse_because("origin " + std::string(utf8_prefix(origin, 100)) + " is not allowed");
    }
  }
  if (!config.auth_token.empty()) {
    const auto token = query_parameter(request.target, "token");
    if (!token) return refuse_because("missing token (connect with ?token=...)");
    if (!token_matches(config.auth_token, *token)) return refuse_because("token does not match");
  }
  return {};
}

}  // namespace

std::unique_ptr<core::Listener> start_listener(core::Runtime &runtime, const nlohmann::json &json) {
  auto config = std::make_shared<const ListenerConfig>(parse_config(json, runtime));
  transports::WebSocketListenerSpec spec = config->spec;
  spec.transport = "browser";
  spec.check_upgrade = [&runtime, config](const net::UpgradeRequest &request, const std::string &id, bool) {
    return check_access(runtime, *config, request, id);
  };
  spec.make_call = [config](std::shared_ptr<net::WebSocketConnection> ws, std::shared_ptr<core::Session> session) {
    return std::make_shared<BrowserCall>(std::move(ws), std::move(session), config->record_dir);
  };
  return transports::start_websocket_listener(runtime, std::move(spec));
}

}  // namespace parley::browser
