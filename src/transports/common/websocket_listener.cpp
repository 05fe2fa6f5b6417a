#include "transports/common/websocket_listener.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "core/runtime.hpp"

namespace parley::transports {
namespace {

using core::LogLevel;

constexpr uint16_t kCloseTryLater = 1013;

// What the server's callbacks need. Shared with them, so a handshake still in flight when
// the listener is destroyed finds it alive (and `open` false).
struct ListenerState {
  ListenerState(core::Runtime &rt, WebSocketListenerSpec s) : runtime(rt), spec(std::move(s)) {}
  core::Runtime &runtime;
  const WebSocketListenerSpec spec;
  std::string id;
  bool tls = false;
  std::atomic<bool> open{true};

  void log(LogLevel level, const std::string &text) const {
    runtime.logger().log(level, "", spec.transport + " listener " + id + ": " + text);
  }
};

std::string listener_id_for(const std::string &transport, uint16_t port) {
  static std::atomic<int> counter{0};
  return transport + "-" + std::to_string(port) + "-" + std::to_string(counter.fetch_add(1));
}

net::UpgradeDecision decide_upgrade(const ListenerState &state, const net::UpgradeRequest &request) {
  if (!state.open.load()) return {503, "listener is shutting down"};
  if (!state.spec.check_upgrade) return {};
  return state.spec.check_upgrade(request, state.id, state.tls);
}

void refuse_at_capacity(ListenerState &state, net::WebSocketConnection &ws, const net::UpgradeRequest &request) {
  auto &runtime = state.runtime;
  const std::string reason = "server at capacity (" + std::to_string(runtime.sessions().count_of(state.id)) + " calls)";
  runtime.post(core::make_event(core::EventType::session_rejected, "",
                                nlohmann::json{{"listener", state.id}, {"remote", request.remote_address}, {"reason", reason}}.dump()));
  state.log(LogLevel::warn, "refused " + request.remote_address + ": " + reason);
  ws.close(kCloseTryLater, reason);
}

void accept_call(ListenerState &state, std::shared_ptr<net::WebSocketConnection> ws, const net::UpgradeRequest &request) {
  if (!state.open.load()) return ws->close(kCloseTryLater, "listener is shutting down");
  const auto &spec = state.spec;
  auto session = core::Session::create(state.runtime, ws->strand(), spec.session, state.id);
  if (!state.runtime.sessions().admit(session, state.id, spec.max_calls)) return refuse_at_capacity(state, *ws, request);
  auto call = spec.make_call(ws, session);
  session->attach(call);
  if (spec.behaviour) {
    try {
      spec.behaviour->attach(session);
    } catch (const std::exception &e) {
      state.log(LogLevel::error, spec.session.behaviour + ": " + e.what());
      session->on_transport_closed("behaviour failed to start");
      return ws->close(kCloseTryLater, spec.session.behaviour + " failed to start");
    }
  }
  ws->start(call);
}

class WebSocketListener final : public core::Listener {
 public:
  WebSocketListener(core::Runtime &runtime, WebSocketListenerSpec spec)
      : state_(std::make_shared<ListenerState>(runtime, std::move(spec))) {
    auto decide = [state = state_](const net::UpgradeRequest &request) { return decide_upgrade(*state, request); };
    auto accept = [state = state_](std::shared_ptr<net::WebSocketConnection> ws, const net::UpgradeRequest &request) {
      accept_call(*state, std::move(ws), request);
    };
    auto log = [&runtime, transport = state_->spec.transport](int level, const std::string &message) {
      runtime.logger().log(static_cast<LogLevel>(level), "", transport + " listener: " + message);
    };
    auto pick = [&runtime]() -> boost::asio::io_context & { return runtime.io_context_for_call(); };
    const auto &options = state_->spec.server;
    server_ = std::make_unique<net::WebSocketServer>(runtime.io_context(), options, decide, accept, log, pick);
    state_->id = listener_id_for(state_->spec.transport, server_->port());
    state_->tls = server_->tls();
    state_->log(LogLevel::info, std::string("on ") + (state_->tls ? "wss://" : "ws://") + options.address + ":" +
                                    std::to_string(server_->port()) + options.path);
  }

  ~WebSocketListener() override { stop_accepting(); }

  const std::string &id() const noexcept override { return state_->id; }
  const std::string &transport() const noexcept override { return state_->spec.transport; }
  uint16_t port() const noexcept override { return server_->port(); }

  void stop_accepting() override {
    state_->open = false;
    server_->stop_accepting();
  }

  size_t drain(std::chrono::milliseconds deadline) override {
    stop_accepting();
    auto &sessions = state_->runtime.sessions();
    if (sessions.wait_until_empty(state_->id, deadline)) return 0;
    auto remaining = sessions.sessions_of(state_->id);
    for (const auto &session : remaining) session->hang_up("server shutting down");
    sessions.wait_until_empty(state_->id, std::chrono::seconds(5));
    return remaining.size();
  }

 private:
  std::shared_ptr<ListenerState> state_;
  std::unique_ptr<net::WebSocketServer> server_;
};

}  // namespace

std::unique_ptr<core::Listener> start_websocket_listener(core::Runtime &runtime, WebSocketListenerSpec spec) {
  return std::make_unique<WebSocketListener>(runtime, std::move(spec));
}

}  // namespace parley::transports
