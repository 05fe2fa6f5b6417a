#include "transports/host/host_call.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <map>
#include <nlohmann/json.hpp>

#include "audio/g711.hpp"
#include "audio/resampler.hpp"
#include "common/error.hpp"
#include "core/behaviour.hpp"
#include "core/config_reader.hpp"
#include "core/runtime.hpp"
#include "core/session.hpp"

namespace parley::host {
namespace {

int checked_rate(core::ConfigReader &reader, const char *key, int fallback) {
  const int rate = static_cast<int>(reader.integer(key, fallback, 8000, 48000));
  if (!audio::Resampler::is_supported_rate(rate)) {
    reader.fail(key, "unsupported rate " + std::to_string(rate) + " (8000, 16000, 22050, 24000, 44100 or 48000)");
  }
  return rate;
}

void require_supported(int rate, const char *what) {
  if (!audio::Resampler::is_supported_rate(rate)) {
    throw Error(Status::unsupported, std::string(what) + ": unsupported sample rate " + std::to_string(rate));
  }
}

}  // namespace

class HostCall final : public core::MediaPort, public std::enable_shared_from_this<HostCall> {
 public:
  HostCall(core::Runtime &runtime, std::shared_ptr<core::Session> session, int output_rate)
      : runtime_(runtime),
        session_(std::move(session)),
        output_rate_(output_rate),
        to_host_(session_->options().sample_rate, output_rate) {}

  void send_audio(std::span<const int16_t> samples) override {
    to_host_buffer_.resize(to_host_.max_output(samples.size()));
    to_host_buffer_.resize(to_host_.process(samples, to_host_buffer_));
    if (!to_host_buffer_.empty()) session_->post_audio_event(core::EventType::audio, to_host_buffer_, output_rate_);
  }

  void send_mark(std::string_view name) override {
    runtime_.post(core::make_event(core::EventType::audio_mark, session_->id(), nlohmann::json{{"name", name}}.dump()));
  }

  void clear() override { runtime_.post(core::make_event(core::EventType::audio_clear, session_->id(), "{}")); }

  // The host's own telephony sends the tones and moves the call; events in the same queue
  // as the agent audio, so they arrive after the audio delivered before them.
  bool send_dtmf(std::string_view digits) override {
    runtime_.post(core::make_event(core::EventType::send_dtmf, session_->id(), nlohmann::json{{"digits", digits}}.dump()));
    return true;
  }

  bool can_transfer() const noexcept override { return true; }

  bool transfer(std::string_view target) override {
    runtime_.post(core::make_event(core::EventType::transfer, session_->id(), nlohmann::json{{"target", target}}.dump()));
    return true;
  }

  void hang_up(std::string_view reason) override {
    boost::asio::post(session_->strand(), [session = session_, why = std::string(reason)] { session->on_transport_closed(why); });
  }

  // Caller audio from the host, on the strand.
  void caller_audio(std::span<const int16_t> samples, int rate) {
    if (rate == session_->options().sample_rate) return session_->on_caller_audio(samples);
    auto [it, inserted] = from_host_.try_emplace(rate, rate, session_->options().sample_rate);
    buffer_.resize(it->second.max_output(samples.size()));
    const size_t n = it->second.process(samples, buffer_);
    if (n > 0) session_->on_caller_audio(std::span<const int16_t>(buffer_.data(), n));
  }

  core::Session &session() { return *session_; }

 private:
  core::Runtime &runtime_;
  std::shared_ptr<core::Session> session_;
  const int output_rate_;
  audio::Resampler to_host_;
  std::map<int, audio::Resampler> from_host_;
  std::vector<int16_t> buffer_;
  std::vector<int16_t> to_host_buffer_;
};

HostSession create_session(core::Runtime &runtime, const nlohmann::json &config) {
  core::ConfigReader root(config, "host session config");
  core::SessionOptions options;
  auto behaviour = core::read_behaviour(root, runtime, options.behaviour);
  options.sample_rate = checked_rate(root, "sample_rate", 16000);
  const int output_rate = checked_rate(root, "output_rate", options.sample_rate);
  options.playout_lead = std::chrono::milliseconds(root.integer("playout_lead_ms", 200, 20, 10000));
  if (root.boolean("caller_audio_events", false)) options.caller_audio = core::CallerAudioDelivery::events;
  options.max_audio_events_in_flight = static_cast<int>(root.integer("max_audio_events_in_flight", 50, 1, 100000));
  core::CallInfo info;
  info.transport = "host";
  info.call_id = root.string("call_id", "");
  if (auto parameters = root.object("custom_parameters")) {
    for (const auto &[key, value] : config.at("custom_parameters").items()) {
      if (!value.is_string()) parameters->fail(key, "expected a string; got " + std::string(value.type_name()));
      info.custom_parameters.emplace_back(key, value.get<std::string>());
      parameters->string(key, "");  // mark as read
    }
    parameters->reject_unknown_keys();
  }
  root.reject_unknown_keys();

  auto session = core::Session::create(runtime, boost::asio::make_strand(runtime.io_context_for_call()), options, "host");
  if (!runtime.sessions().admit(session, "host", 0)) {
    throw Error(Status::full, "host session: the runtime's max_sessions (" +
                                  std::to_string(runtime.config().max_sessions) + ") is reached");
  }
  auto call = std::make_shared<HostCall>(runtime, session, output_rate);
  session->attach(call);
  // Attached on the strand, where the behaviour's observer will live; a failure there ends
  // the call with an error event rather than a half-started agent.
  boost::asio::post(session->strand(), [session, behaviour, info = std::move(info)]() mutable {
    if (behaviour) {
      try {
        behaviour->attach(session);
      } catch (const std::exception &e) {
        session->emit_event(core::EventType::session_error,
                            nlohmann::json{{"code", "behaviour"}, {"message", e.what()}, {"fatal", true}}.dump());
        session->on_transport_closed("behaviour failed to start");
        return;
      }
    }
    session->on_started(std::move(info));
  });
  return {session, call};
}

void push_audio(HostCall &call, std::span<const int16_t> samples, int sample_rate) {
  require_supported(sample_rate, "push_audio");
  auto &session = call.session();
  if (session.state() == core::SessionState::closed) throw Error(Status::state, "push_audio: session " + session.id() + " is closed");
  boost::asio::post(session.strand(), [call = call.shared_from_this(), copy = std::vector<int16_t>(samples.begin(), samples.end()), sample_rate] {
    call->caller_audio(copy, sample_rate);
  });
}

void push_g711(HostCall &call, std::span<const uint8_t> bytes, G711 encoding, int sample_rate) {
  std::vector<int16_t> pcm(bytes.size());
  if (encoding == G711::ulaw) {
    audio::ulaw_decode(bytes, pcm);
  } else {
    audio::alaw_decode(bytes, pcm);
  }
  push_audio(call, pcm, sample_rate);
}

void push_dtmf(HostCall &call, std::string digit) {
  const bool valid = digit.size() == 1 && std::string_view("0123456789*#ABCD").find(digit[0]) != std::string_view::npos;
  if (!valid) throw Error(Status::invalid_argument, "push_dtmf: '" + digit.substr(0, 8) + "' is not a DTMF digit (0-9 * # A-D)");
  boost::asio::post(call.session().strand(), [call = call.shared_from_this(), digit = std::move(digit)] {
    call->session().on_dtmf(digit);
  });
}

void push_mark_played(HostCall &call, std::string name) {
  boost::asio::post(call.session().strand(), [call = call.shared_from_this(), name = std::move(name)] {
    call->session().on_mark_played(name);
  });
}

}  // namespace parley::host
