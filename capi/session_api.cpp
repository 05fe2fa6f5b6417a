// parley_listener_* and parley_session_*: calls and their media, from the host's side.
#include <nlohmann/json.hpp>

#include "boundary.hpp"
#include "core/config_reader.hpp"
#include "core/listener.hpp"
#include "core/runtime.hpp"
#include "core/session.hpp"
#include "runtime_handle.hpp"
#include "session_handle.hpp"
#include "transports/browser/listener.hpp"
#include "transports/host/host_call.hpp"
#include "transports/twilio/listener.hpp"

using parley::Error;
using parley::Status;
using parley::capi::checked_timeout;
using parley::capi::guard;
using parley::capi::require;

struct parley_listener {
  std::unique_ptr<parley::core::Listener> engine;
};


namespace {

std::unique_ptr<parley::core::Listener> make_listener(parley::core::Runtime &runtime, const char *config_json) {
  const auto config = parley::core::parse_config(config_json, "listener config");
  if (!config.is_object()) throw Error(Status::config, "listener config: $: expected an object");
  const auto transport = config.find("transport");
  if (transport == config.end() || !transport->is_string()) {
    throw Error(Status::config, "listener config: $.transport: required; one of: twilio, browser");
  }
  if (*transport == "twilio") return parley::twilio::start_listener(runtime, config);
  if (*transport == "browser") return parley::browser::start_listener(runtime, config);
  throw Error(Status::config, "listener config: $.transport: unknown transport " + transport->dump() + " (known: twilio, browser)");
}

parley::host::HostCall &host_call_of(parley_session *session, const char *function) {
  require(session, "session");
  if (!session->host) {
    throw Error(Status::invalid_argument, std::string(function) + ": session " + session->engine->id() +
                                              " is not a host-transport session created by this handle");
  }
  return *session->host;
}

}  // namespace

extern "C" {

PARLEY_API int parley_listener_start(parley_listener **out, parley_runtime *runtime, const char *config_json) {
  return guard("parley_listener_start", [&] {
    require(out, "out");
    require(runtime, "runtime");
    require(config_json, "config_json");
    auto listener = make_listener(runtime->engine, config_json);
    *out = new parley_listener{std::move(listener)};
  });
}

PARLEY_API int parley_listener_port(const parley_listener *listener) {
  return listener == nullptr ? 0 : listener->engine->port();
}

PARLEY_API const char *parley_listener_id(const parley_listener *listener) {
  return listener == nullptr ? "" : listener->engine->id().c_str();
}

PARLEY_API int parley_listener_stop(size_t *out_hung_up, parley_listener *listener, int drain_timeout_ms) {
  return guard("parley_listener_stop", [&] {
    require(listener, "listener");
    const size_t hung_up = listener->engine->drain(checked_timeout(drain_timeout_ms));
    if (out_hung_up != nullptr) *out_hung_up = hung_up;
  });
}

PARLEY_API void parley_listener_destroy(parley_listener *listener) {
  guard("parley_listener_destroy", [&] { delete listener; });
}

PARLEY_API int parley_session_open(parley_session **out, parley_runtime *runtime, const char *session_id) {
  return guard("parley_session_open", [&] {
    require(out, "out");
    require(runtime, "runtime");
    require(session_id, "session_id");
    auto session = runtime->engine.sessions().find(session_id);
    if (!session) throw Error(Status::not_found, std::string("no live session with id '") + session_id + "'");
    *out = new parley_session{std::move(session), nullptr, runtime};
  });
}

PARLEY_API int parley_session_create_host(parley_session **out, parley_runtime *runtime, const char *config_json) {
  return guard("parley_session_create_host", [&] {
    require(out, "out");
    require(runtime, "runtime");
    const auto config = parley::core::parse_config(config_json, "host session config");
    auto created = parley::host::create_session(runtime->engine, config);
    *out = new parley_session{std::move(created.session), std::move(created.call), runtime};
  });
}

PARLEY_API const char *parley_session_id(const parley_session *session) {
  return session == nullptr ? "" : session->engine->id().c_str();
}

PARLEY_API int parley_session_get_state(const parley_session *session) {
  return session == nullptr ? PARLEY_SESSION_CLOSED : static_cast<int>(session->engine->state());
}

PARLEY_API int parley_session_play(parley_session *session, const int16_t *samples, size_t count, int sample_rate) {
  return guard("parley_session_play", [&] {
    require(session, "session");
    if (count > 0) require(samples, "samples");
    session->engine->play(std::span<const int16_t>(samples, count), sample_rate);
  });
}

PARLEY_API int parley_session_send_mark(parley_session *session, const char *name) {
  return guard("parley_session_send_mark", [&] {
    require(session, "session");
    require(name, "name");
    session->engine->send_mark(name);
  });
}

PARLEY_API int parley_session_wait_mark(int *out_outcome, parley_session *session, const char *name, int timeout_ms) {
  return guard("parley_session_wait_mark", [&] {
    require(out_outcome, "out_outcome");
    require(session, "session");
    require(name, "name");
    *out_outcome = static_cast<int>(session->engine->wait_mark(name, checked_timeout(timeout_ms)));
  });
}

PARLEY_API int parley_session_clear(parley_session *session) {
  return guard("parley_session_clear", [&] {
    require(session, "session");
    session->engine->clear();
  });
}

PARLEY_API int parley_session_hang_up(parley_session *session, const char *reason) {
  return guard("parley_session_hang_up", [&] {
    require(session, "session");
    session->engine->hang_up(reason == nullptr ? "hung up by host" : reason);
  });
}

PARLEY_API int parley_session_tool_result(parley_session *session, const char *tool_call_id, const char *result_json) {
  return guard("parley_session_tool_result", [&] {
    require(session, "session");
    require(tool_call_id, "tool_call_id");
    require(result_json, "result_json");
    if (!nlohmann::json::accept(result_json)) {
      throw parley::Error(parley::Status::format, std::string("tool result for '") + tool_call_id + "' is not valid JSON");
    }
    session->engine->deliver_tool_result(tool_call_id, result_json);
  });
}

PARLEY_API int parley_session_start_recording(parley_session *session, const char *path) {
  return guard("parley_session_start_recording", [&] {
    require(session, "session");
    require(path, "path");
    session->engine->start_recording(path);
  });
}

PARLEY_API int parley_session_stop_recording(parley_session *session) {
  return guard("parley_session_stop_recording", [&] {
    require(session, "session");
    session->engine->stop_recording();
  });
}

PARLEY_API int parley_session_close(parley_session *session) {
  return guard("parley_session_close", [&] {
    require(session, "session");
    session->engine->close();
  });
}

PARLEY_API void parley_session_destroy(parley_session *session) {
  guard("parley_session_destroy", [&] {
    if (session != nullptr && session->host) session->engine->close();
    delete session;
  });
}

PARLEY_API int parley_session_push_audio(parley_session *session, const int16_t *samples, size_t count, int sample_rate) {
  return guard("parley_session_push_audio", [&] {
    auto &call = host_call_of(session, "parley_session_push_audio");
    if (count > 0) require(samples, "samples");
    parley::host::push_audio(call, std::span<const int16_t>(samples, count), sample_rate);
  });
}

PARLEY_API int parley_session_push_g711(parley_session *session, const uint8_t *bytes, size_t count, int encoding,
                                        int sample_rate) {
  return guard("parley_session_push_g711", [&] {
    auto &call = host_call_of(session, "parley_session_push_g711");
    if (count > 0) require(bytes, "bytes");
    if (encoding != PARLEY_G711_ULAW && encoding != PARLEY_G711_ALAW) {
      throw Error(Status::invalid_argument, "parley_session_push_g711: encoding " + std::to_string(encoding) +
                                                " is not a parley_g711 (0 = μ-law, 1 = A-law)");
    }
    parley::host::push_g711(call, std::span<const uint8_t>(bytes, count),
                            encoding == PARLEY_G711_ULAW ? parley::host::G711::ulaw : parley::host::G711::alaw, sample_rate);
  });
}

PARLEY_API int parley_session_push_dtmf(parley_session *session, const char *digit) {
  return guard("parley_session_push_dtmf", [&] {
    auto &call = host_call_of(session, "parley_session_push_dtmf");
    require(digit, "digit");
    parley::host::push_dtmf(call, digit);
  });
}

PARLEY_API int parley_session_push_mark_played(parley_session *session, const char *name) {
  return guard("parley_session_push_mark_played", [&] {
    auto &call = host_call_of(session, "parley_session_push_mark_played");
    require(name, "name");
    parley::host::push_mark_played(call, name);
  });
}

}  // extern "C"
