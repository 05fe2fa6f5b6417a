// Tests of the simulated Twilio caller (transports/twilio/caller.hpp) against a tiny Beast
// WebSocket server written here, independent of the real server: the exact messages the caller
// sends, the playback model's mark and clear semantics, RTT accounting, validation of what a
// server sends, TLS, the fleet and the blocking TestCaller.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numbers>
#include <regex>
#include <set>
#include <map>
#include <atomic>
#include <algorithm>
#include <unistd.h>
#include <string>
#include <thread>
#include <vector>

#include "audio/g711.hpp"
#include "audio/wav.hpp"
#include "common/error.hpp"
#include "net/base64.hpp"
#include "transports/twilio/caller.hpp"
#include "support/test_certificate.hpp"

namespace parley::twilio {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// The fake server: thread per connection, synchronous Beast, scriptable by a callback that sees
// every message the caller sends and may answer.

struct Received {
  Clock::time_point at;
  bool binary = false;
  std::string text;
  json message;  // parsed text (null when not JSON)
};

class FakeServer;

class Connection {
 public:
  // Called on the connection's thread only (from the behaviour).
  void send_text(const std::string &text) { send_(text, false); }
  void send_binary(const std::string &bytes) { send_(bytes, true); }
  void close(uint16_t code, const std::string &reason) { close_(code, reason); }

  std::string stream_sid;  // from start, once received
  std::vector<uint8_t> pending_echo;  // for behaviours that re-chunk or delay
  size_t media_seen = 0;
  Clock::time_point sent_marker_at{};

  // Thread-safe views for the test.
  std::vector<Received> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  std::string header(const std::string &name) const {
    std::lock_guard lock(mutex_);
    const auto it = headers_.find(name);
    return it == headers_.end() ? "" : it->second;
  }
  bool finished() const {
    std::lock_guard lock(mutex_);
    return finished_;
  }
  int close_code() const {
    std::lock_guard lock(mutex_);
    return close_code_;
  }

 private:
  friend class FakeServer;
  mutable std::mutex mutex_;
  std::vector<Received> messages_;
  std::map<std::string, std::string> headers_;
  bool finished_ = false;
  int close_code_ = 0;
  std::function<void(const std::string &, bool)> send_;
  std::function<void(uint16_t, const std::string &)> close_;
};

using Behaviour = std::function<void(Connection &, const Received &)>;

std::string media_json(const std::string &sid, std::span<const uint8_t> audio) {
  std::string payload;
  net::base64_encode(audio, payload);
  return R"({"event":"media","streamSid":")" + sid + R"(","media":{"payload":")" + payload + "\"}}";
}
std::string mark_json(const std::string &sid, const std::string &name) {
  return R"({"event":"mark","streamSid":")" + sid + R"(","mark":{"name":")" + name + "\"}}";
}
std::string clear_json(const std::string &sid) { return R"({"event":"clear","streamSid":")" + sid + "\"}"; }

std::vector<uint8_t> decode_payload(const json &media_message) {
  const std::string payload = media_message["media"]["payload"];
  std::vector<uint8_t> out(net::base64_max_decoded_size(payload.size()));
  const auto n = net::base64_decode(payload, out);
  if (!n) throw std::runtime_error("bad base64");
  out.resize(*n);
  return out;
}

struct ServerOptions {
  int refuse_status = 0;  // answer the upgrade with this status instead
  bool tls = false;
};

class FakeServer {
 public:
  explicit FakeServer(Behaviour behaviour, ServerOptions options = {})
      : behaviour_(std::move(behaviour)), options_(options), tls_(ssl::context::tls_server) {
    if (options_.tls) {
      tls_.use_certificate_chain(asio::buffer(std::string_view(test::kTestCertificate)));
      tls_.use_private_key(asio::buffer(std::string_view(test::kTestPrivateKey)), ssl::context::pem);
    }
    acceptor_.open(tcp::v4());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~FakeServer() {
    stopping_ = true;
    boost::system::error_code ignored;
    // Wake accept() with a connection of our own.
    tcp::socket poke(io_);
    poke.connect({asio::ip::make_address("127.0.0.1"), port_}, ignored);
    accept_thread_.join();
    for (auto &thread : session_threads_) thread.join();
  }

  std::string url(const std::string &path = "/twilio") const {
    return std::string(options_.tls ? "wss" : "ws") + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  uint16_t port() const { return port_; }

  std::vector<std::shared_ptr<Connection>> connections() const {
    std::lock_guard lock(mutex_);
    return connections_;
  }

  /// Waits until `count` connections have ended.
  bool wait_finished(size_t count, std::chrono::milliseconds timeout = 10s) const {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      size_t done = 0;
      for (const auto &c : connections()) done += c->finished() ? 1 : 0;
      if (done >= count) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

 private:
  void accept_loop() {
    for (;;) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (stopping_) return;
      if (ec) continue;
      socket.set_option(tcp::no_delay(true), ec);
      auto connection = std::make_shared<Connection>();
      {
        std::lock_guard lock(mutex_);
        connections_.push_back(connection);
      }
      session_threads_.emplace_back([this, connection, s = std::move(socket)]() mutable {
        if (options_.tls) {
          websocket::stream<ssl::stream<tcp::socket>> ws(std::move(s), tls_);
          boost::system::error_code handshake_ec;
          ws.next_layer().handshake(ssl::stream_base::server, handshake_ec);
          if (!handshake_ec) serve(ws, *connection);
        } else {
          websocket::stream<tcp::socket> ws(std::move(s));
          serve(ws, *connection);
        }
        std::lock_guard lock(connection->mutex_);
        connection->finished_ = true;
      });
    }
  }

  template <class Ws>
  void serve(Ws &ws, Connection &connection) {
    boost::system::error_code ec;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::read(ws.next_layer(), buffer, request, ec);
    if (ec) return;
    {
      std::lock_guard lock(connection.mutex_);
      for (const auto &field : request) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        connection.headers_[name] = std::string(field.value());
      }
      connection.headers_[":target"] = std::string(request.target());
    }
    if (options_.refuse_status != 0) {
      http::response<http::string_body> response(static_cast<http::status>(options_.refuse_status), request.version());
      response.body() = "refused";
      response.prepare_payload();
      http::write(ws.next_layer(), response, ec);
      return;
    }
    ws.accept(request, ec);
    if (ec) return;
    connection.send_ = [&ws](const std::string &data, bool binary) {
      boost::system::error_code write_ec;
      ws.binary(binary);
      ws.write(asio::buffer(data), write_ec);
    };
    connection.close_ = [&ws](uint16_t code, const std::string &reason) {
      boost::system::error_code close_ec;
      ws.close(websocket::close_reason(static_cast<websocket::close_code>(code), reason), close_ec);
    };
    for (;;) {
      beast::flat_buffer message;
      ws.read(message, ec);
      if (ec) {
        std::lock_guard lock(connection.mutex_);
        if (ec == websocket::error::closed) connection.close_code_ = ws.reason().code;
        return;
      }
      Received received{Clock::now(), !ws.got_text(), beast::buffers_to_string(message.data()), nullptr};
      if (!received.binary) received.message = json::parse(received.text, nullptr, false);
      if (received.message.is_object() && received.message.value("event", "") == "start") {
        connection.stream_sid = received.message["start"]["streamSid"];
      }
      {
        std::lock_guard lock(connection.mutex_);
        connection.messages_.push_back(received);
      }
      if (behaviour_) behaviour_(connection, received);
    }
  }

  Behaviour behaviour_;
  ServerOptions options_;
  ssl::context tls_;
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::vector<std::thread> session_threads_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Connection>> connections_;
};

bool is_media(const Received &r) { return r.message.is_object() && r.message.value("event", "") == "media"; }

// Behaviours
void echo_now(Connection &c, const Received &r) {
  if (is_media(r)) c.send_text(media_json(c.stream_sid, decode_payload(r.message)));
}

Behaviour echo_after_frames(size_t frames) {
  return [frames](Connection &c, const Received &r) {
    if (!is_media(r)) return;
    const auto audio = decode_payload(r.message);
    c.pending_echo.insert(c.pending_echo.end(), audio.begin(), audio.end());
    if (c.pending_echo.size() > frames * 160) {
      c.send_text(media_json(c.stream_sid, std::span<const uint8_t>(c.pending_echo.data(), 160)));
      c.pending_echo.erase(c.pending_echo.begin(), c.pending_echo.begin() + 160);
    }
  };
}

Behaviour echo_rechunked(size_t chunk) {
  return [chunk](Connection &c, const Received &r) {
    if (!is_media(r)) return;
    const auto audio = decode_payload(r.message);
    c.pending_echo.insert(c.pending_echo.end(), audio.begin(), audio.end());
    while (c.pending_echo.size() >= chunk) {
      c.send_text(media_json(c.stream_sid, std::span<const uint8_t>(c.pending_echo.data(), chunk)));
      c.pending_echo.erase(c.pending_echo.begin(), c.pending_echo.begin() + static_cast<std::ptrdiff_t>(chunk));
    }
  };
}

std::shared_ptr<const std::vector<uint8_t>> ramp_audio() {
  auto audio = std::make_shared<std::vector<uint8_t>>(1000);
  for (size_t i = 0; i < audio->size(); ++i) (*audio)[i] = static_cast<uint8_t>(i * 7);
  return audio;
}

CallerScript script_for(const FakeServer &server, std::chrono::milliseconds duration) {
  CallerScript script;
  script.url = server.url();
  script.duration = duration;
  script.ulaw = ramp_audio();
  script.drain_timeout = 1s;
  return script;
}

CallerReport run_one(CallerScript script) {
  auto reports = run_callers({std::move(script)}, 0ms);
  return std::move(reports.at(0));
}

std::vector<json> events_of(const std::vector<Received> &messages, const std::string &event) {
  std::vector<json> out;
  for (const auto &m : messages) {
    if (m.message.is_object() && m.message.value("event", "") == event) out.push_back(m.message);
  }
  return out;
}

int64_t number(const json &value) { return std::stoll(value.get<std::string>()); }

// ---------------------------------------------------------------------------------------------
// The messages the caller sends

TEST(TwilioCaller, SendsTheSpecsMessagesInOrderWithExactFields) {
  FakeServer server(nullptr);
  CallerScript script = script_for(server, 400ms);
  script.custom_parameters = {{"session", "s-123"}, {"quote\"d", "line\nbreak"}};
  script.dtmf = {{100ms, '5'}, {200ms, '#'}};
  script.signature = "c2lnbmF0dXJl";
  script.audio_offset = 10;
  const auto report = run_one(script);
  ASSERT_TRUE(server.wait_finished(1));
  ASSERT_TRUE(report.connected) << report.connect_error;
  EXPECT_TRUE(report.completed_cleanly()) << report.error;
  EXPECT_EQ(report.http_status, 101);

  const auto connection = server.connections().at(0);
  EXPECT_EQ(connection->header("x-twilio-signature"), "c2lnbmF0dXJl");
  EXPECT_EQ(connection->header(":target"), "/twilio");
  const auto messages = connection->messages();
  ASSERT_GE(messages.size(), 3u);
  for (const auto &m : messages) {
    EXPECT_FALSE(m.binary);
    ASSERT_TRUE(m.message.is_object()) << m.text;
  }

  // connected: exactly the spec's text, first, once.
  EXPECT_EQ(messages[0].text, R"({"event":"connected","protocol":"Call","version":"1.0.0"})");
  EXPECT_EQ(events_of(messages, "connected").size(), 1u);

  // start: second, sequenceNumber "1", the sids' shapes, the media format as numbers.
  const json &start = messages[1].message;
  EXPECT_EQ(start["event"], "start");
  EXPECT_EQ(start["sequenceNumber"], "1");
  const std::regex sid_shape("[0-9a-f]{32}");
  const std::string stream_sid = start["streamSid"];
  EXPECT_EQ(start["start"]["streamSid"], stream_sid);
  EXPECT_EQ(stream_sid, report.stream_sid);
  for (const auto &[field, prefix] : {std::pair{"accountSid", "AC"}, {"callSid", "CA"}, {"streamSid", "MZ"}}) {
    const std::string sid = start["start"][field];
    EXPECT_EQ(sid.substr(0, 2), prefix) << field;
    EXPECT_TRUE(std::regex_match(sid.substr(2), sid_shape)) << field << ": " << sid;
  }
  EXPECT_EQ(start["start"]["tracks"], json::array({"inbound"}));
  EXPECT_EQ(start["start"]["mediaFormat"], json::parse(R"({"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1})"));
  EXPECT_EQ(start["start"]["customParameters"], json::parse(R"({"session":"s-123","quote\"d":"line\nbreak"})"));
  EXPECT_EQ(events_of(messages, "start").size(), 1u);

  // One sequence counter for everything after connected, +1 per message.
  for (size_t i = 1; i < messages.size(); ++i) {
    EXPECT_EQ(number(messages[i].message["sequenceNumber"]), static_cast<int64_t>(i)) << messages[i].text;
    EXPECT_EQ(messages[i].message["streamSid"], stream_sid);
  }

  // media: 400 ms = 20 frames, chunk from 1, timestamps 20 ms apart, 160 bytes of our audio.
  const auto media = events_of(messages, "media");
  ASSERT_EQ(media.size(), 20u);
  EXPECT_EQ(report.frames_sent, 20u);
  const auto expected_audio = script_audio(script, 20);
  for (size_t i = 0; i < media.size(); ++i) {
    const json &m = media[i];
    EXPECT_EQ(m.size(), 4u) << m.dump();
    EXPECT_EQ(m["media"].size(), 4u) << m.dump();
    EXPECT_EQ(m["media"]["track"], "inbound");
    EXPECT_EQ(number(m["media"]["chunk"]), static_cast<int64_t>(i + 1));
    EXPECT_EQ(number(m["media"]["timestamp"]) - number(media[0]["media"]["timestamp"]), static_cast<int64_t>(20 * i));
    EXPECT_EQ(m["media"]["payload"].get<std::string>().size(), 216u);
    const auto audio = decode_payload(m);
    EXPECT_TRUE(std::equal(audio.begin(), audio.end(), expected_audio.begin() + static_cast<std::ptrdiff_t>(160 * i)));
  }
  EXPECT_GE(number(media[0]["media"]["timestamp"]), 0);
  EXPECT_LE(number(media[0]["media"]["timestamp"]), 100);

  // dtmf: the spec's shape, track "inbound_track", at their offsets from the first frame.
  const auto dtmf = events_of(messages, "dtmf");
  ASSERT_EQ(dtmf.size(), 2u);
  EXPECT_EQ(report.dtmf_sent, 2u);
  EXPECT_EQ(dtmf[0]["dtmf"], json::parse(R"({"track":"inbound_track","digit":"5"})"));
  EXPECT_EQ(dtmf[1]["dtmf"]["digit"], "#");
  EXPECT_EQ(dtmf[0].size(), 4u);
  // 100 ms after the first frame = right after the 6th frame (sequence numbers say the order).
  EXPECT_EQ(number(dtmf[0]["sequenceNumber"]), number(media[5]["sequenceNumber"]) + 1);

  // stop: last, with the account and call sids; then a normal close.
  const json &stop = messages.back().message;
  EXPECT_EQ(stop["event"], "stop");
  EXPECT_EQ(stop["stop"]["accountSid"], start["start"]["accountSid"]);
  EXPECT_EQ(stop["stop"]["callSid"], start["start"]["callSid"]);
  EXPECT_EQ(stop.size(), 4u);
  EXPECT_TRUE(report.stop_sent);
  EXPECT_EQ(connection->close_code(), 1000);
}

TEST(TwilioCaller, UsesGivenSidsAndSendsAnEmptyParameterObject) {
  FakeServer server(nullptr);
  CallerScript script = script_for(server, 40ms);
  script.account_sid = "AC0123456789abcdef0123456789abcdef";
  script.call_sid = "CA0123456789abcdef0123456789abcdef";
  script.stream_sid = "MZ0123456789abcdef0123456789abcdef";
  run_one(script);
  ASSERT_TRUE(server.wait_finished(1));
  const auto start = events_of(server.connections().at(0)->messages(), "start").at(0);
  EXPECT_EQ(start["start"]["accountSid"], script.account_sid);
  EXPECT_EQ(start["start"]["callSid"], script.call_sid);
  EXPECT_EQ(start["streamSid"], script.stream_sid);
  EXPECT_TRUE(start["start"]["customParameters"].is_object());
  EXPECT_TRUE(start["start"]["customParameters"].empty());
}

TEST(TwilioCaller, PacesFramesAgainstAbsoluteDeadlines) {
  FakeServer server(nullptr);
  const auto report = run_one(script_for(server, 2000ms));
  ASSERT_TRUE(server.wait_finished(1));
  std::vector<Clock::time_point> arrivals;
  for (const auto &m : server.connections().at(0)->messages()) {
    if (is_media(m)) arrivals.push_back(m.at);
  }
  ASSERT_EQ(arrivals.size(), 100u);
  // 99 intervals of 20 ms: no drift beyond scheduling jitter.
  const double span_ms = std::chrono::duration<double, std::milli>(arrivals.back() - arrivals.front()).count();
  EXPECT_NEAR(span_ms, 99 * 20, 15);
  EXPECT_LT(report.max_send_lateness_ms, 15);
}

TEST(TwilioCaller, IdleCallSendsStartThenNothingUntilStop) {
  FakeServer server(nullptr);
  CallerScript script = script_for(server, 300ms);
  script.send_media = false;
  const auto started = Clock::now();
  const auto report = run_one(script);
  EXPECT_GE(Clock::now() - started, 300ms);
  ASSERT_TRUE(server.wait_finished(1));
  const auto messages = server.connections().at(0)->messages();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[1].message["event"], "start");
  EXPECT_EQ(messages[2].message["event"], "stop");
  EXPECT_EQ(messages[2].message["sequenceNumber"], "2");
  EXPECT_EQ(report.frames_sent, 0u);
  EXPECT_TRUE(report.completed_cleanly());
}

TEST(TwilioCaller, WithoutStopClosesNormallyAfterTheMedia) {
  FakeServer server(nullptr);
  CallerScript script = script_for(server, 100ms);
  script.send_stop = false;
  const auto report = run_one(script);
  ASSERT_TRUE(server.wait_finished(1));
  EXPECT_TRUE(events_of(server.connections().at(0)->messages(), "stop").empty());
  EXPECT_EQ(server.connections().at(0)->close_code(), 1000);
  EXPECT_FALSE(report.stop_sent);
}

// ---------------------------------------------------------------------------------------------
// Connection failures

TEST(TwilioCaller, RecordsARefusedUpgrade) {
  FakeServer server(nullptr, {.refuse_status = 403});
  const auto report = run_one(script_for(server, 100ms));
  EXPECT_FALSE(report.connected);
  EXPECT_EQ(report.http_status, 403);
  EXPECT_NE(report.connect_error.find("403"), std::string::npos) << report.connect_error;
  EXPECT_FALSE(report.completed_cleanly());
}

TEST(TwilioCaller, RecordsAConnectionRefused) {
  uint16_t port;
  {
    asio::io_context io;
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = acceptor.local_endpoint().port();
  }
  CallerScript script;
  script.url = "ws://127.0.0.1:" + std::to_string(port) + "/twilio";
  script.duration = 100ms;
  const auto report = run_one(script);
  EXPECT_FALSE(report.connected);
  EXPECT_NE(report.connect_error.find("connect"), std::string::npos) << report.connect_error;
}

TEST(TwilioCaller, RejectsAMalformedUrl) {
  CallerScript script;
  script.url = "http://127.0.0.1/twilio";
  const auto report = run_one(script);
  EXPECT_FALSE(report.connected);
  EXPECT_NE(report.connect_error.find("ws://"), std::string::npos) << report.connect_error;
}

TEST(TwilioCaller, ServerClosingFirstIsRecordedAndNothingMoreIsSent) {
  FakeServer server([](Connection &c, const Received &r) {
    if (is_media(r) && ++c.media_seen == 5) c.close(1011, "going away now");
  });
  const auto report = run_one(script_for(server, 1000ms));
  ASSERT_TRUE(server.wait_finished(1));
  EXPECT_TRUE(report.closed_by_server);
  EXPECT_EQ(report.close_code, 1011);
  EXPECT_EQ(report.close_reason, "going away now");
  EXPECT_FALSE(report.stop_sent);
  EXPECT_FALSE(report.completed_cleanly());
  EXPECT_TRUE(events_of(server.connections().at(0)->messages(), "stop").empty());
  EXPECT_LT(report.frames_sent, 20u);
}

TEST(TwilioCaller, ServerClosingNormallyAfterStopIsClean) {
  FakeServer server([](Connection &c, const Received &r) {
    if (r.message.value("event", "") == "stop") c.close(1000, "");
  });
  const auto report = run_one(script_for(server, 200ms));
  ASSERT_TRUE(server.wait_finished(1));
  EXPECT_TRUE(report.stop_sent);
  EXPECT_TRUE(report.error.empty()) << report.error;
  EXPECT_TRUE(report.completed_cleanly());
}

// ---------------------------------------------------------------------------------------------
// RTT accounting

TEST(TwilioCaller, ImmediateEchoReturnsEveryFrameQuickly) {
  FakeServer server(echo_now);
  CallerScript script = script_for(server, 1000ms);
  script.keep_received_audio = true;
  const auto report = run_one(script);
  EXPECT_TRUE(report.completed_cleanly()) << report.error << (report.protocol_errors.empty() ? "" : report.protocol_errors[0]);
  EXPECT_EQ(report.frames_sent, 50u);
  EXPECT_EQ(report.frames_received, 50u);
  EXPECT_EQ(report.frames_lost(), 0u);
  EXPECT_EQ(report.media_received, 50u);
  EXPECT_EQ(report.bytes_received, 8000u);
  ASSERT_EQ(report.rtt_ms.size(), 50u);
  for (float rtt : report.rtt_ms) {
    EXPECT_GE(rtt, 0.0f);
    EXPECT_LT(rtt, 15.0f);
  }
  EXPECT_EQ(report.rtt_start_ms.size(), 50u);
  EXPECT_GE(report.first_response_ms, 0.0f);
  EXPECT_LT(report.first_response_ms, 15.0f);
  EXPECT_FALSE(report.drain_timed_out);
  EXPECT_EQ(report.received_audio, script_audio(script, 50));
  // The echo is aligned sample for sample.
  const auto alignment = estimate_echo_lag(script_audio(script, 50), report.received_audio);
  EXPECT_EQ(alignment.lag_samples, 0);
  EXPECT_GT(alignment.correlation, 0.99);
}

TEST(TwilioCaller, DelayedEchoShowsUpInTheRtt) {
  // Frame k is sent back when frame k+5 arrives: about 100 ms later.
  FakeServer server(echo_after_frames(5));
  const auto report = run_one(script_for(server, 1000ms));
  EXPECT_EQ(report.frames_sent, 50u);
  EXPECT_EQ(report.frames_received, 45u);  // the last 5 never come back
  EXPECT_EQ(report.frames_lost(), 5u);
  EXPECT_TRUE(report.drain_timed_out);
  ASSERT_EQ(report.rtt_ms.size(), 45u);
  for (float rtt : report.rtt_ms) EXPECT_NEAR(rtt, 100.0f, 15.0f);
}

TEST(TwilioCaller, RechunkedEchoIsMeasuredByByteCount) {
  // 400-byte chunks (2.5 frames): frame k is back when the chunk holding its last byte is.
  FakeServer server(echo_rechunked(400));
  const auto report = run_one(script_for(server, 1000ms));  // 8000 bytes = 20 chunks
  EXPECT_EQ(report.media_received, 20u);
  EXPECT_EQ(report.frames_received, 50u);
  ASSERT_EQ(report.rtt_ms.size(), 50u);
  // Frame 0 (bytes 0-159) comes back with the chunk sent after frame 2 arrives: ~40 ms.
  EXPECT_NEAR(report.rtt_ms[0], 40.0f, 15.0f);
  // Frame 2 (bytes 320-479) needs the second chunk (bytes 400-799), sent after frame 4: ~40 ms.
  EXPECT_NEAR(report.rtt_ms[2], 40.0f, 15.0f);
  // Frame 4 (bytes 640-799) is in the second chunk too: ~0 ms.
  EXPECT_LT(report.rtt_ms[4], 15.0f);
  // Start RTTs: frame 1's echo starts in the first chunk (~20 ms), frame 2's in it too (~0 ms).
  ASSERT_EQ(report.rtt_start_ms.size(), 50u);
  EXPECT_NEAR(report.rtt_start_ms[0], 40.0f, 15.0f);
  EXPECT_NEAR(report.rtt_start_ms[1], 20.0f, 15.0f);
  EXPECT_LT(report.rtt_start_ms[2], 15.0f);
}

TEST(TwilioCaller, EchoOffsetShiftsTheByteAccounting) {
  // The server prepends 80 bytes (10 ms) of silence to its echo.
  FakeServer server([](Connection &c, const Received &r) {
    if (!is_media(r)) return;
    if (c.media_seen++ == 0) c.send_text(media_json(c.stream_sid, std::vector<uint8_t>(80, 0xFF)));
    echo_now(c, r);
  });
  CallerScript script = script_for(server, 400ms);
  script.echo_offset_bytes = 80;
  script.keep_received_audio = true;
  const auto report = run_one(script);
  EXPECT_EQ(report.frames_received, 20u);
  ASSERT_EQ(report.rtt_ms.size(), 20u);
  for (float rtt : report.rtt_ms) EXPECT_LT(rtt, 15.0f);
  const auto alignment = estimate_echo_lag(script_audio(script, 20), report.received_audio, 200, 3000);
  EXPECT_EQ(alignment.lag_samples, 80);
}

// ---------------------------------------------------------------------------------------------
// Playback model: marks and clear (spec §5)

TEST(TwilioCaller, MarkComesBackWhenTheAudioBeforeItHasPlayed) {
  FakeServer server([](Connection &c, const Received &r) {
    if (r.message.is_object() && r.message.value("event", "") == "start") {
      c.send_text(media_json(c.stream_sid, std::vector<uint8_t>(8000, 0xFF)));  // 1 s
      c.send_text(mark_json(c.stream_sid, "after-1s"));
      c.sent_marker_at = Clock::now();
    }
  });
  const auto report = run_one(script_for(server, 1600ms));
  ASSERT_TRUE(server.wait_finished(1));
  const auto connection = server.connections().at(0);
  const auto messages = connection->messages();
  const auto marks = events_of(messages, "mark");
  ASSERT_EQ(marks.size(), 1u);
  EXPECT_EQ(marks[0]["mark"]["name"], "after-1s");
  EXPECT_EQ(marks[0].size(), 4u);
  EXPECT_EQ(report.marks_received, 1u);
  EXPECT_EQ(report.marks_echoed, 1u);
  for (const auto &m : messages) {
    if (m.message.value("event", "") == "mark") {
      const auto delay = m.at - connection->sent_marker_at;
      EXPECT_GE(delay, 980ms);
      EXPECT_LE(delay, 1100ms);
    }
  }
  // Real log: 50 media messages between a mark and the next.
  const auto media = events_of(messages, "media");
  EXPECT_GE(number(marks[0]["sequenceNumber"]) - number(media.at(0)["sequenceNumber"]), 48);
}

TEST(TwilioCaller, MarkWithNothingQueuedComesBackAtOnce) {
  FakeServer server([](Connection &c, const Received &r) {
    if (r.message.value("event", "") == "start") {
      c.send_text(mark_json(c.stream_sid, "now"));
      c.sent_marker_at = Clock::now();
    }
  });
  const auto report = run_one(script_for(server, 200ms));
  ASSERT_TRUE(server.wait_finished(1));
  const auto connection = server.connections().at(0);
  for (const auto &m : connection->messages()) {
    if (m.message.value("event", "") == "mark") {
      EXPECT_LT(m.at - connection->sent_marker_at, 15ms);
    }
  }
  EXPECT_EQ(report.marks_echoed_names, std::vector<std::string>{"now"});
}

TEST(TwilioCaller, ClearFlushesAudioAndEchoesEveryPendingMarkInOrder) {
  FakeServer server([](Connection &c, const Received &r) {
    if (r.message.value("event", "") == "start") {
      c.send_text(media_json(c.stream_sid, std::vector<uint8_t>(16000, 0xFF)));  // 2 s
      c.send_text(mark_json(c.stream_sid, "a"));
      c.send_text(media_json(c.stream_sid, std::vector<uint8_t>(800, 0xFF)));
      c.send_text(mark_json(c.stream_sid, "b"));
    }
    if (is_media(r) && ++c.media_seen == 10) {
      c.send_text(clear_json(c.stream_sid));
      c.sent_marker_at = Clock::now();
    }
  });
  const auto report = run_one(script_for(server, 600ms));
  ASSERT_TRUE(server.wait_finished(1));
  const auto connection = server.connections().at(0);
  const auto messages = connection->messages();
  const auto marks = events_of(messages, "mark");
  ASSERT_EQ(marks.size(), 2u);
  EXPECT_EQ(marks[0]["mark"]["name"], "a");
  EXPECT_EQ(marks[1]["mark"]["name"], "b");
  EXPECT_EQ(number(marks[1]["sequenceNumber"]), number(marks[0]["sequenceNumber"]) + 1);
  for (const auto &m : messages) {
    if (m.message.value("event", "") == "mark") {
      EXPECT_LT(m.at - connection->sent_marker_at, 15ms);
    }
  }
  EXPECT_EQ(report.clears_received, 1u);
  EXPECT_EQ(report.marks_echoed, 2u);
  // The flushed audio no longer holds the call open: no drain timeout.
  EXPECT_FALSE(report.drain_timed_out);
}

TEST(TwilioCaller, MarksBetweenSmallChunksComeBackInOrder) {
  FakeServer server([](Connection &c, const Received &r) {
    if (r.message.value("event", "") != "start") return;
    for (int i = 0; i < 5; ++i) {
      c.send_text(media_json(c.stream_sid, std::vector<uint8_t>(400, 0xFF)));  // 50 ms each
      std::string name = "m";
      name += std::to_string(i);
      c.send_text(mark_json(c.stream_sid, name));
    }
  });
  const auto report = run_one(script_for(server, 600ms));
  EXPECT_EQ(report.marks_echoed_names, (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"}));
}

// ---------------------------------------------------------------------------------------------
// Validation of what the server sends

TEST(TwilioCaller, CountsEveryProtocolViolation) {
  FakeServer server([](Connection &c, const Received &r) {
    if (r.message.value("event", "") != "start") return;
    const std::string &sid = c.stream_sid;
    c.send_text("not json at all");
    c.send_binary("\x01\x02\x03");
    c.send_text(R"({"event":"speak","streamSid":")" + sid + "\"}");
    c.send_text(R"({"event":"media","media":{"payload":"AAAA"}})");
    c.send_text(R"({"event":"media","streamSid":"MZ00000000000000000000000000000000","media":{"payload":"AAAA"}})");
    c.send_text(R"({"event":"media","streamSid":")" + sid + R"(","media":{"payload":"not base64!"}})");
    c.send_text(R"({"event":"media","streamSid":")" + sid + R"(","media":{}})");
    c.send_text(R"({"event":"media","streamSid":")" + sid + R"(","media":{"payload":"AAAA","track":"outbound"}})");
    c.send_text(R"({"event":"mark","streamSid":")" + sid + R"(","mark":{}})");
    c.send_text(R"({"event":"clear","streamSid":")" + sid + R"(","extra":1})");
    c.send_text(R"([1,2,3])");
    c.send_text(R"({"event":"media","streamSid":")" + sid + R"(","media":{"payload":"//8="}})");  // valid
  });
  const auto report = run_one(script_for(server, 300ms));
  EXPECT_EQ(report.protocol_error_count, 11u);
  ASSERT_EQ(report.protocol_errors.size(), 11u);
  const std::vector<std::string> expected{"not JSON",          "binary frame",        "unknown event 'speak'",
                                          "'streamSid' is missing", "is not this stream's", "not valid padded base64",
                                          "'media.payload' is missing", "unexpected field 'media.track'",
                                          "'mark.name' is missing", "unexpected field 'extra'", "not a JSON object"};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NE(report.protocol_errors[i].find(expected[i]), std::string::npos) << report.protocol_errors[i];
  }
  EXPECT_EQ(report.media_received, 1u);
  EXPECT_EQ(report.bytes_received, 2u);
  EXPECT_FALSE(report.completed_cleanly());
}

TEST(TwilioCaller, ServerMessageReaderAcceptsTheSpecsExamples) {
  ServerMessageReader reader;
  const std::string sid = "MZ0123456789abcdef0123456789abcdef";
  auto media = reader.read(R"({"event":"media","streamSid":")" + sid + R"(","media":{"payload":"//8="}})", sid);
  ASSERT_TRUE(media) << reader.error();
  EXPECT_EQ(media->kind, ServerMessageReader::Kind::media);
  EXPECT_EQ(std::vector<uint8_t>(media->audio.begin(), media->audio.end()), (std::vector<uint8_t>{0xFF, 0xFF}));
  auto mark = reader.read(R"({"event":"mark","streamSid":")" + sid + R"(","mark":{"name":"tts-7"}})", sid);
  ASSERT_TRUE(mark) << reader.error();
  EXPECT_EQ(mark->mark_name, "tts-7");
  auto clear = reader.read(R"({"event":"clear","streamSid":")" + sid + "\"}", sid);
  ASSERT_TRUE(clear) << reader.error();
  EXPECT_EQ(clear->kind, ServerMessageReader::Kind::clear);
  EXPECT_FALSE(reader.read(R"({"event":"clear","streamSid":")" + sid + R"(","streamSid":"x"})", sid));
  EXPECT_NE(reader.error().find("duplicate"), std::string::npos);
  EXPECT_FALSE(reader.read(R"({"event":"start","streamSid":")" + sid + "\"}", sid));
  EXPECT_NE(reader.error().find("unknown event 'start'"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// TLS

struct TempFile {
  std::filesystem::path path;
  explicit TempFile(const std::string &content) {
    path = std::filesystem::temp_directory_path() /
           ("parley-caller-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++) + ".tmp");
    std::ofstream(path, std::ios::binary) << content;
  }
  ~TempFile() { std::filesystem::remove(path); }
  static int &counter() {
    static int n = 0;
    return n;
  }
};

TEST(TwilioCaller, ConnectsOverTlsTrustingAGivenCa) {
  FakeServer server(echo_now, {.tls = true});
  TempFile ca(test::kTestCertificate);
  CallerScript script = script_for(server, 200ms);
  script.tls.ca_file = ca.path.string();
  const auto report = run_one(script);
  EXPECT_TRUE(report.completed_cleanly()) << report.connect_error << report.error;
  EXPECT_EQ(report.frames_received, 10u);
}

TEST(TwilioCaller, TlsVerificationCanBeDisabledAndOtherwiseFails) {
  FakeServer server(nullptr, {.tls = true});
  CallerScript script = script_for(server, 100ms);
  script.tls.verify = false;
  EXPECT_TRUE(run_one(script).completed_cleanly());
  script.tls.verify = true;  // the system store does not know our test CA
  const auto refused = run_one(script);
  EXPECT_FALSE(refused.connected);
  EXPECT_NE(refused.connect_error.find("TLS"), std::string::npos) << refused.connect_error;
}

// ---------------------------------------------------------------------------------------------
// The fleet

TEST(TwilioCaller, FleetRunsManyCallsOnOneThreadOverARamp) {
  FakeServer server(echo_now);
  std::vector<CallerScript> scripts;
  for (int i = 0; i < 30; ++i) scripts.push_back(script_for(server, 500ms));
  CallerFleet fleet(scripts, {.ramp = 300ms, .io_threads = 1});
  const auto before = fleet.progress();
  EXPECT_EQ(before.calls, 30u);
  EXPECT_EQ(before.waiting, 30u);
  fleet.start();
  bool saw_all_active = false;
  while (!fleet.wait_for(5ms)) saw_all_active = saw_all_active || fleet.progress().active == 30;
  EXPECT_TRUE(saw_all_active);
  const auto reports = fleet.wait();
  ASSERT_EQ(reports.size(), 30u);
  std::set<std::string> sids;
  for (const auto &report : reports) {
    EXPECT_TRUE(report.completed_cleanly()) << report.connect_error << report.error;
    EXPECT_EQ(report.frames_received, 25u);
    sids.insert(report.stream_sid);
  }
  EXPECT_EQ(sids.size(), 30u);
  const auto after = fleet.progress();
  EXPECT_EQ(after.finished, 30u);
  EXPECT_EQ(after.connected, 30u);
  EXPECT_EQ(after.failed, 0u);
}

TEST(TwilioCaller, FleetSpreadsCallsOverSeveralThreads) {
  FakeServer server(echo_now);
  std::vector<CallerScript> scripts(8, script_for(server, 200ms));
  const auto reports = run_callers(scripts, 50ms, 3);
  for (const auto &report : reports) EXPECT_TRUE(report.completed_cleanly()) << report.error;
}

TEST(TwilioCaller, FleetCancelEndsEveryCall) {
  FakeServer server(nullptr);
  std::vector<CallerScript> scripts(5, script_for(server, 60s));
  CallerFleet fleet(scripts, {.ramp = 10s});
  fleet.start();
  std::this_thread::sleep_for(200ms);
  fleet.cancel();
  EXPECT_TRUE(fleet.wait_for(5s));
  const auto reports = fleet.wait();
  EXPECT_TRUE(reports[0].connected);
  EXPECT_EQ(reports[0].error, "cancelled");
  EXPECT_FALSE(reports[4].connected);
}

// ---------------------------------------------------------------------------------------------
// TestCaller

TEST(TwilioTestCaller, DrivesASessionStepByStep) {
  FakeServer server(echo_now);
  TestCaller caller;
  ASSERT_EQ(caller.connect(server.url(), {{"x-twilio-signature", "abc"}}), 101);
  caller.send_text(TwilioMessages::connected());
  caller.send_text(caller.twilio().start({{"k", "v"}}));
  const std::vector<uint8_t> frame(160, 0x55);
  caller.send_text(caller.twilio().media(frame, 20));
  const auto echoed = caller.read_text(2s);
  ASSERT_TRUE(echoed);
  const json message = json::parse(*echoed);
  EXPECT_EQ(decode_payload(message), frame);
  EXPECT_FALSE(caller.read_text(50ms));  // nothing more: a timeout, still open
  EXPECT_TRUE(caller.is_open());
  caller.send_text(caller.twilio().stop());
  caller.close();
  EXPECT_FALSE(caller.is_open());
  ASSERT_TRUE(server.wait_finished(1));
  const auto messages = server.connections().at(0)->messages();
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[3].message["sequenceNumber"], "3");
  EXPECT_EQ(server.connections().at(0)->header("x-twilio-signature"), "abc");
}

TEST(TwilioTestCaller, SendsMalformedInputAndSeesTheServerClose) {
  FakeServer server([](Connection &c, const Received &r) {
    if (r.binary) c.close(1003, "binary");
  });
  TestCaller caller;
  ASSERT_EQ(caller.connect(server.url()), 101);
  caller.send_text("{not json");
  caller.send_binary(std::vector<uint8_t>{1, 2, 3});
  EXPECT_FALSE(caller.read_text(2s));
  EXPECT_FALSE(caller.is_open());
  EXPECT_EQ(caller.close_code(), 1003);
  EXPECT_EQ(caller.close_reason(), "binary");
  ASSERT_TRUE(server.wait_finished(1));
  const auto messages = server.connections().at(0)->messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].text, "{not json");
  EXPECT_TRUE(messages[1].binary);
}

TEST(TwilioTestCaller, ReportsARefusedUpgradeStatus) {
  FakeServer server(nullptr, {.refuse_status = 403});
  TestCaller caller;
  EXPECT_EQ(caller.connect(server.url()), 403);
  EXPECT_EQ(caller.response_body(), "refused");
  EXPECT_FALSE(caller.is_open());
}

TEST(TwilioTestCaller, AbortsMidFrame) {
  FakeServer server(nullptr);
  TestCaller caller;
  ASSERT_EQ(caller.connect(server.url()), 101);
  caller.send_text(TwilioMessages::connected());
  caller.abort_mid_frame(R"({"event":"media","padding":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"})", 20, true);
  EXPECT_FALSE(caller.is_open());
  ASSERT_TRUE(server.wait_finished(1));
  EXPECT_EQ(server.connections().at(0)->messages().size(), 1u);
}

TEST(TwilioTestCaller, MaskedFrameIsAValidClientFrame) {
  FakeServer server(nullptr);
  TestCaller caller;
  ASSERT_EQ(caller.connect(server.url()), 101);
  const std::string text(300, 'x');  // 16-bit length form
  caller.send_raw(TestCaller::masked_frame(1, std::span(reinterpret_cast<const uint8_t *>(text.data()), text.size())));
  caller.close();
  ASSERT_TRUE(server.wait_finished(1));
  const auto messages = server.connections().at(0)->messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].text, text);
}

TEST(TwilioTestCaller, WorksOverTls) {
  FakeServer server(echo_now, {.tls = true});
  TestCaller caller(CallerTls{.ca_file = "", .verify = false});
  ASSERT_EQ(caller.connect(server.url()), 101);
  caller.send_text(TwilioMessages::connected());
  caller.send_text(caller.twilio().start());
  caller.send_text(caller.twilio().media(std::vector<uint8_t>(160, 1), 0));
  EXPECT_TRUE(caller.read_text(2s));
  caller.close();
}

// ---------------------------------------------------------------------------------------------
// Caller audio

TEST(TwilioCallerAudio, LoadsPcmWavAtAnyRateAsUlaw8k) {
  std::vector<int16_t> tone(16000);  // 1 s of 440 Hz at 16 kHz
  for (size_t i = 0; i < tone.size(); ++i) {
    tone[i] = static_cast<int16_t>(8000 * std::sin(2 * std::numbers::pi * 440 * static_cast<double>(i) / 16000));
  }
  const auto bytes = audio::wav_bytes_pcm16(tone, 1, 16000);
  TempFile wav(std::string(bytes.begin(), bytes.end()));
  const auto ulaw = load_caller_audio(wav.path.string());
  EXPECT_NEAR(static_cast<double>(ulaw.size()), 8000, 2);
  // Still a 440 Hz tone: a zero crossing roughly every 1/880 s.
  int crossings = 0;
  for (size_t i = 1001; i < 7000; ++i) {
    crossings += (audio::ulaw_decode(ulaw[i - 1]) < 0) != (audio::ulaw_decode(ulaw[i]) < 0) ? 1 : 0;
  }
  EXPECT_NEAR(crossings, 880 * 6000 / 8000, 10);
}

TEST(TwilioCallerAudio, TakesUlaw8kWavByteForByte) {
  std::vector<uint8_t> codes(800);
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<uint8_t>(i);
  const auto bytes = audio::wav_bytes({audio::WavEncoding::ulaw, 1, 8000}, codes);
  TempFile wav(std::string(bytes.begin(), bytes.end()));
  EXPECT_EQ(load_caller_audio(wav.path.string()), codes);
  EXPECT_THROW(load_caller_audio("/nonexistent/file.wav"), Error);
}

TEST(TwilioCallerAudio, SyntheticSpeechHasSyllablesAndPauses) {
  const auto ulaw = synthetic_speech_ulaw(2400ms);
  ASSERT_EQ(ulaw.size(), 19200u);
  auto energy = [&](size_t from, size_t to) {
    double sum = 0;
    for (size_t i = from; i < to; ++i) sum += std::pow(audio::ulaw_decode(ulaw[i]), 2);
    return sum / static_cast<double>(to - from);
  };
  EXPECT_GT(energy(800, 1200), 1e5);             // middle of the first syllable
  EXPECT_LT(energy(16000 + 400, 19200), 10.0);  // the pause at 2.0-2.4 s
}

}  // namespace
}  // namespace parley::twilio
