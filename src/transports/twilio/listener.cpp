#include "transports/twilio/listener.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "audio/g711.hpp"
#include "audio/resampler.hpp"
#include "common/error.hpp"
#include "core/behaviour.hpp"
#include "core/config_reader.hpp"
#include "core/runtime.hpp"
#include "core/session.hpp"
#include "net/base64.hpp"
#include "net/websocket_server.hpp"
#include "transports/common/websocket_listener.hpp"
#include "transports/twilio/protocol.hpp"
#include "transports/twilio/signature.hpp"

namespace parley::twilio {
namespace {

using core::LogLevel;

constexpr int kTwilioRate = 8000;
constexpr int kMaxWarningEvents = 10;      // per call; later ones are only counted
constexpr int kMaxInvalidMessages = 200;   // a peer this broken is not Twilio: hang up
constexpr uint16_t kCloseNormal = 1000;
constexpr uint16_t kCloseUnsupported = 1003;
constexpr uint16_t kClosePolicy = 1008;

struct ListenerConfig {
  transports::WebSocketListenerSpec spec;  // what every WebSocket listener has
  std::string auth_token;
  std::string public_url;
  std::string record_dir;
};

ListenerConfig parse_config(const nlohmann::json &json, core::Runtime &runtime) {
  core::ConfigReader root(json, "twilio listener config");
  ListenerConfig config;
  root.choice("transport", "twilio", {"twilio"});
  config.auth_token = transports::read_common_keys(root, runtime, "/twilio", config.spec);
  config.public_url = root.string("public_url", "");
  config.spec.server.socket_send_buffer_bytes = static_cast<int>(root.integer("socket_send_buffer_bytes", 0, 0, 64 << 20));
  config.record_dir = root.string("record_dir", "");
  root.reject_unknown_keys();
  return config;
}

// One call: the WebSocket Twilio opened, the session it drives, and the audio conversions
// between Twilio's 8 kHz μ-law and the session rate. Everything runs on the connection's
// strand, which the session shares.
class TwilioCall final : public transports::WebSocketCall, public std::enable_shared_from_this<TwilioCall> {
 public:
  TwilioCall(core::Runtime &runtime, std::shared_ptr<net::WebSocketConnection> ws,
             std::shared_ptr<core::Session> session, std::string record_dir)
      : runtime_(runtime),
        ws_(std::move(ws)),
        session_(std::move(session)),
        record_dir_(std::move(record_dir)),
        up_(kTwilioRate, session_->options().sample_rate),
        down_(session_->options().sample_rate, kTwilioRate) {}

  // ---- inbound: Twilio -> session ------------------------------------------------------
  void on_text(std::string_view text) override {
    const ParseResult result = parser_.parse(text, message_);
    if (result == ParseResult::unknown_event) {
      log(LogLevel::debug, "ignored: " + parser_.error());  // new Twilio events are not errors
      return;
    }
    if (result == ParseResult::invalid) return invalid("malformed message ignored: " + parser_.error());
    switch (message_.event) {
      case Event::connected: return;
      case Event::start: return on_start();
      case Event::media: return on_media();
      case Event::dtmf: return on_dtmf();
      case Event::mark: return on_mark();
      case Event::stop: return on_stop();
    }
  }

  void on_binary(std::string_view message) override {
    invalid("binary frame of " + std::to_string(message.size()) + " bytes ignored: Twilio sends only JSON text");
  }

  void on_closed(std::string_view reason) override { session_->on_transport_closed(reason); }

  // ---- outbound: session -> Twilio -----------------------------------------------------
  void send_audio(std::span<const int16_t> samples) override {
    if (stream_sid_.empty()) return;
    narrow_pcm_.resize(down_.max_output(samples.size()));
    const size_t n = down_.process(samples, narrow_pcm_);
    if (n == 0) return;  // the resampler is still filling its filter
    ulaw_out_.resize(n);
    audio::ulaw_encode(std::span<const int16_t>(narrow_pcm_.data(), n), ulaw_out_);
    base64_.clear();
    net::base64_encode(ulaw_out_, base64_);
    json_.clear();
    write_media(json_, stream_sid_, base64_);
    send_json();
  }

  void send_mark(std::string_view name) override {
    if (stream_sid_.empty()) return;
    json_.clear();
    write_mark(json_, stream_sid_, name);
    send_json();
  }

  void clear() override {
    if (stream_sid_.empty()) return;
    json_.clear();
    write_clear(json_, stream_sid_);
    send_json();
  }

  void hang_up(std::string_view reason) override {
    // Closing the socket ends <Connect><Stream>; Twilio then runs the next TwiML verb or
    // hangs up. The call is over now; the close handshake finishes on its own.
    close(kCloseNormal, std::string(reason.substr(0, 120)));
    end_session(std::string(reason));
  }

 private:
  void on_start() {
    if (!stream_sid_.empty()) return invalid("duplicate start ignored (stream " + stream_sid_ + " already started)");
    const auto &start = message_.start;
    if ((!start.encoding.empty() && start.encoding != "audio/x-mulaw") ||
        (start.sample_rate != 0 && start.sample_rate != kTwilioRate) || (start.channels != 0 && start.channels != 1)) {
      session_->on_transport_warning("unsupported media format " + start.encoding + "/" +
                                     std::to_string(start.sample_rate) + "/" + std::to_string(start.channels));
      return close(kCloseUnsupported, "unsupported media format");
    }
    stream_sid_ = std::string(message_.stream_sid);
    core::CallInfo info;
    info.transport = "twilio";
    info.call_id = start.call_sid;
    info.stream_id = stream_sid_;
    info.account_id = start.account_sid;
    info.custom_parameters = start.custom_parameters;
    call_id_ = info.call_id;
    if (!record_dir_.empty()) {
      session_->start_recording(record_dir_ + "/" + (call_id_.empty() ? stream_sid_ : call_id_) + ".wav");
    }
    session_->on_started(std::move(info));
  }

  bool for_this_stream(const char *what) {
    if (stream_sid_.empty()) {
      invalid(std::string(what) + " before start ignored");
      return false;
    }
    if (!message_.stream_sid.empty() && message_.stream_sid != stream_sid_) {
      invalid(std::string(what) + " for stream '" + std::string(message_.stream_sid.substr(0, 64)) +
              "' ignored: this call's stream is " + stream_sid_);
      return false;
    }
    return true;
  }

  void on_media() {
    if (!for_this_stream("media")) return;
    if (!message_.track.empty() && message_.track != "inbound") return;  // only the caller's track
    ulaw_in_.resize(net::base64_max_decoded_size(message_.payload.size()));
    const auto decoded = net::base64_decode(message_.payload, ulaw_in_);
    if (!decoded) return invalid("media with invalid base64 payload ignored");
    narrow_pcm_.resize(*decoded);
    audio::ulaw_decode(std::span<const uint8_t>(ulaw_in_.data(), *decoded), narrow_pcm_);
    // Sized by what arrives (a 20 ms frame needs 322 samples), not by the largest legal
    // payload: idle calls must stay small.
    session_pcm_.resize(up_.max_output(narrow_pcm_.size()));
    const size_t n = up_.process(narrow_pcm_, session_pcm_);
    if (n > 0) session_->on_caller_audio(std::span<const int16_t>(session_pcm_.data(), n));
  }

  void on_dtmf() {
    if (!for_this_stream("dtmf")) return;
    const auto digit = message_.digit;
    const bool valid = digit.size() == 1 && (std::isdigit(static_cast<unsigned char>(digit[0])) || digit[0] == '*' || digit[0] == '#');
    if (!valid) return invalid("dtmf with digit '" + std::string(digit.substr(0, 8)) + "' ignored (0-9, * or #)");
    session_->on_dtmf(digit);
  }

  void on_mark() {
    if (!for_this_stream("mark")) return;
    session_->on_mark_played(message_.mark_name);
  }

  // `stop` is the end of the call (Twilio closes the socket next); do not wait for that.
  void on_stop() {
    if (!for_this_stream("stop")) return;
    close(kCloseNormal, "stop received");
    end_session("caller hung up (stop)");
  }

  // Posted, so the session is not torn down under a call that is still on the stack.
  void end_session(std::string reason) {
    boost::asio::post(session_->strand(), [session = session_, reason = std::move(reason)] { session->on_transport_closed(reason); });
  }

  // Sends json_, which the connection copies into a buffer of its own that it reuses.
  void send_json() {
    if (auto ws = ws_.lock()) ws->send_text_copy(json_);
  }

  void close(uint16_t code, std::string reason) {
    if (auto ws = ws_.lock()) ws->close(code, std::move(reason));
  }

  // A message that breaks the protocol: warn (a few times per call), never crash; a peer
  // that keeps at it is not Twilio and is hung up on.
  void invalid(const std::string &why) {
    ++invalid_messages_;
    if (invalid_messages_ <= kMaxWarningEvents) {
      session_->on_transport_warning(why);
    }
    if (invalid_messages_ == kMaxInvalidMessages) {
      session_->on_transport_warning("closing: " + std::to_string(kMaxInvalidMessages) + " invalid messages");
      close(kClosePolicy, "too many invalid messages");
    }
  }

  void log(LogLevel level, const std::string &text) { runtime_.logger().log(level, call_id_, text); }

  core::Runtime &runtime_;
  // Weak: the connection owns this call (as its handler), never the other way round, so a
  // runtime torn down mid close-handshake leaves no cycle behind.
  std::weak_ptr<net::WebSocketConnection> ws_;
  std::shared_ptr<core::Session> session_;
  std::string record_dir_;
  MessageParser parser_;
  Message message_;
  std::string stream_sid_;
  std::string call_id_;
  int invalid_messages_ = 0;
  audio::Resampler up_;
  audio::Resampler down_;
  // Reused buffers: the frame path allocates nothing in steady state.
  std::vector<uint8_t> ulaw_in_;
  std::vector<int16_t> narrow_pcm_;
  std::vector<int16_t> session_pcm_;
  std::vector<uint8_t> ulaw_out_;
  std::string base64_;
  std::string json_;  // the message being sent
};

// The upgrade must carry a valid X-Twilio-Signature when an auth token is configured.
net::UpgradeDecision check_signature(core::Runtime &runtime, const ListenerConfig &config, const net::UpgradeRequest &request,
                                     const std::string &listener_id, bool tls) {
  if (config.auth_token.empty()) return {};
  const std::string signature = request.header("x-twilio-signature");
  std::string url = config.public_url;
  if (url.empty()) url = std::string(tls ? "wss://" : "ws://") + request.header("host") + request.target;
  if (validate_signature(config.auth_token, signature, url)) return {};
  runtime.logger().log(LogLevel::warn, "", "twilio listener " + listener_id + ": refused " + request.remote_address +
                                               (signature.empty() ? ": no X-Twilio-Signature" : ": X-Twilio-Signature mismatch") +
                                               " for " + url);
  return {403, signature.empty() ? "missing X-Twilio-Signature" : "X-Twilio-Signature does not match"};
}

}  // namespace

std::unique_ptr<core::Listener> start_listener(core::Runtime &runtime, const nlohmann::json &json) {
  auto config = std::make_shared<const ListenerConfig>(parse_config(json, runtime));
  transports::WebSocketListenerSpec spec = config->spec;
  spec.transport = "twilio";
  spec.check_upgrade = [&runtime, config](const net::UpgradeRequest &request, const std::string &id, bool tls) {
    return check_signature(runtime, *config, request, id, tls);
  };
  spec.make_call = [&runtime, config](std::shared_ptr<net::WebSocketConnection> ws, std::shared_ptr<core::Session> session) {
    return std::make_shared<TwilioCall>(runtime, std::move(ws), std::move(session), config->record_dir);
  };
  return transports::start_websocket_listener(runtime, std::move(spec));
}

}  // namespace parley::twilio
