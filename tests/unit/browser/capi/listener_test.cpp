// A host starts a browser listener through the C ABI by its transport name, a page calls,
// and the host sees the call's events.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "parley/parley.h"
#include "transports/browser/client.hpp"

namespace {

using namespace std::chrono_literals;

std::string last_message() {
  const parley_error *error = parley_error_last();
  return error == nullptr ? "" : error->message;
}

// The next event of `type` (others are released); null on timeout. Caller releases.
parley_event *next_event(parley_runtime *runtime, int type, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    parley_event *event = nullptr;
    if (parley_runtime_poll_event(&event, runtime, 20) != PARLEY_OK) continue;
    if (parley_event_type_of(event) == type) return event;
    parley_event_release(event);
  }
  return nullptr;
}

TEST(BrowserCapi, ListenerStartsByTransportNameAndCarriesACall) {
  parley_runtime *runtime = nullptr;
  ASSERT_EQ(parley_runtime_create(&runtime, R"({"log":{"sink":"none"}})"), PARLEY_OK);
  parley_listener *listener = nullptr;
  ASSERT_EQ(parley_listener_start(&listener, runtime, R"({"transport":"browser","port":0,"behaviour":"echo"})"), PARLEY_OK)
      << last_message();
  const int port = parley_listener_port(listener);
  ASSERT_GT(port, 0);
  EXPECT_EQ(std::string(parley_listener_id(listener)).rfind("browser-", 0), 0u) << parley_listener_id(listener);

  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::thread thread([&] { io.run(); });
  parley::browser::BrowserCallerOptions options;
  options.url = "ws://127.0.0.1:" + std::to_string(port) + "/browser";
  options.call_id = "from-capi";
  auto caller = parley::browser::BrowserCaller::connect(io, options, {});

  parley_event *started = next_event(runtime, PARLEY_EVENT_SESSION_STARTED);
  ASSERT_NE(started, nullptr);
  const auto info = nlohmann::json::parse(parley_event_payload(started));
  EXPECT_EQ(info["transport"], "browser");
  EXPECT_EQ(info["call_id"], "from-capi");
  parley_event_release(started);

  caller->dtmf('4');
  parley_event *dtmf = next_event(runtime, PARLEY_EVENT_DTMF);
  ASSERT_NE(dtmf, nullptr);
  EXPECT_EQ(nlohmann::json::parse(parley_event_payload(dtmf))["digit"], "4");
  parley_event_release(dtmf);

  caller->hang_up();
  parley_event *stopped = next_event(runtime, PARLEY_EVENT_SESSION_STOPPED);
  ASSERT_NE(stopped, nullptr);
  EXPECT_EQ(nlohmann::json::parse(parley_event_payload(stopped))["reason"], "caller hung up (stop)");
  parley_event_release(stopped);

  caller.reset();
  guard.reset();
  thread.join();
  size_t hung_up = 99;
  EXPECT_EQ(parley_listener_stop(&hung_up, listener, 1000), PARLEY_OK);
  EXPECT_EQ(hung_up, 0u);
  parley_listener_destroy(listener);
  parley_runtime_destroy(runtime);
}

TEST(BrowserCapi, ConfigErrorsComeBackWithTheirPath) {
  parley_runtime *runtime = nullptr;
  ASSERT_EQ(parley_runtime_create(&runtime, R"({"log":{"sink":"none"}})"), PARLEY_OK);
  parley_listener *listener = nullptr;
  EXPECT_EQ(parley_listener_start(&listener, runtime, R"({"transport":"browser","allowed_origins":"*"})"), PARLEY_ECONFIG);
  EXPECT_NE(last_message().find("$.allowed_origins"), std::string::npos) << last_message();
  EXPECT_EQ(listener, nullptr) << "untouched on error";
  EXPECT_EQ(parley_listener_start(&listener, runtime, R"({"transport":"sip"})"), PARLEY_ECONFIG);
  EXPECT_NE(last_message().find("(known: twilio, browser)"), std::string::npos) << last_message();
  parley_runtime_destroy(runtime);
}

}  // namespace
