// The WebSocket client against the engine's own WebSocket server (plain and TLS).
#include "net/websocket_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <mutex>
#include <sys/socket.h>
#include <cstdio>
#include <thread>

#include "net/websocket_server.hpp"
#include "support/test_certificate.hpp"

namespace parley::net {
namespace {

namespace asio = boost::asio;

// run_for leaves the context stopped once it runs out of work; later runs need a restart.
void pump(asio::io_context &io, std::chrono::milliseconds d) {
  if (io.stopped()) io.restart();
  io.run_for(d);
}
using namespace std::chrono_literals;

// Echoes text back prefixed with "echo:"; "close" makes the server close with 4001.
class EchoHandler : public WebSocketConnection::Handler,
                    public std::enable_shared_from_this<EchoHandler> {
 public:
  // Weak: the connection owns its handler, and a server stopped mid-call must not leave a cycle.
  explicit EchoHandler(std::shared_ptr<WebSocketConnection> c) : connection_(c) {}
  void on_text(std::string_view message) override {
    auto c = connection_.lock();
    if (!c) return;
    if (message == "close") return c->close(4001, "told to close");
    c->send_text("echo:" + std::string(message));
  }
  void on_binary(std::string_view message) override {
    if (auto c = connection_.lock()) c->send_text("bytes:" + std::to_string(message.size()));
  }
  void on_closed(std::string_view) override {}

 private:
  std::weak_ptr<WebSocketConnection> connection_;
};

WebSocketClientOptions to(std::string url, bool with_token = false) {
  WebSocketClientOptions options;
  options.url = std::move(url);
  if (with_token) options.headers = {{"X-Token", "secret"}};
  return options;
}

struct Recorder : WebSocketClient::Handler {
  bool opened = false;
  std::vector<std::string> texts;
  bool closed = false;
  int code = -1, http_status = -1;
  std::string reason;
  void on_open() override { opened = true; }
  void on_text(std::string_view m) override { texts.emplace_back(m); }
  void on_binary(std::string_view m) override { texts.emplace_back("binary:" + std::string(m)); }
  void on_closed(int c, std::string_view r, int s) override {
    closed = true;
    code = c;
    reason = r;
    http_status = s;
  }
};

class WebSocketClientTest : public ::testing::Test {
 protected:
  void start_server(bool tls, UpgradeDecision decision = {}, std::chrono::milliseconds handshake_timeout = 10s) {
    WebSocketServerOptions options;
    options.path = "/ws";
    options.handshake_timeout = handshake_timeout;
    if (tls) {
      cert_file_ = test::write_test_certificate_file();
      key_file_ = cert_file_ + ".key";
      FILE *f = std::fopen(key_file_.c_str(), "w");
      std::fputs(test::kTestPrivateKey, f);
      std::fclose(f);
      options.tls_certificate_file = cert_file_;
      options.tls_private_key_file = key_file_;
    }
    server_ = std::make_unique<WebSocketServer>(
        server_io_, options, [decision](const UpgradeRequest &req) {
          if (req.header("X-Token") != "secret") return UpgradeDecision{401, "bad token"};
          return decision;
        },
        [](std::shared_ptr<WebSocketConnection> c, const UpgradeRequest &) {
          auto handler = std::make_shared<EchoHandler>(c);
          c->start(handler);
        },
        [this](int, const std::string &line) {
          std::lock_guard lock(log_mutex_);
          server_log_.push_back(line);
        });
    server_thread_ = std::thread([this] {
      auto guard = asio::make_work_guard(server_io_);
      server_io_.run();
    });
  }

  void TearDown() override {
    server_io_.stop();
    if (server_thread_.joinable()) server_thread_.join();
    if (!cert_file_.empty()) std::remove(cert_file_.c_str());
    if (!key_file_.empty()) std::remove(key_file_.c_str());
  }

  std::string url(bool tls) const {
    return std::string(tls ? "wss" : "ws") + "://127.0.0.1:" + std::to_string(server_->port()) + "/ws";
  }

  template <typename Pred>
  void run_until(Pred pred, std::chrono::milliseconds limit = 5s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < until) pump(io_, 10ms);
  }

  asio::io_context io_;
  asio::io_context server_io_;
  std::unique_ptr<WebSocketServer> server_;
  std::thread server_thread_;
  std::string cert_file_, key_file_;
  std::mutex log_mutex_;
  std::vector<std::string> server_log_;

  // The handshake deadline: a peer that connects and stalls (slowloris) is dropped once
  // handshake_timeout has passed since the accept, whether it sent nothing or half an
  // upgrade request.
  void expect_stalled_peers_dropped(bool tls);

  bool server_logged(std::string_view text) {
    std::lock_guard lock(log_mutex_);
    for (const auto &line : server_log_) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

// A blocking TCP peer that connects, writes `bytes` and then only waits: how long until the
// server hangs up on it (or `limit`, if it never does).
std::chrono::milliseconds time_until_hung_up(uint16_t port, std::string_view bytes, std::chrono::milliseconds limit) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  const auto start = std::chrono::steady_clock::now();
  if (!bytes.empty()) asio::write(socket, asio::buffer(bytes));
  timeval timeout{static_cast<time_t>(limit.count() / 1000), static_cast<suseconds_t>(limit.count() % 1000 * 1000)};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  char byte = 0;
  while (::recv(socket.native_handle(), &byte, 1, 0) > 0) {
  }  // a refusal's response, if any, then the end
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

TEST_F(WebSocketClientTest, ExchangesTextAndBinaryAndSeesTheServersCloseCode) {
  start_server(false);
  auto recorder = std::make_shared<Recorder>();
  WebSocketClientOptions options = to(url(false), true);
  auto client = WebSocketClient::connect(io_, options, recorder, io_.get_executor());
  client->send_text("queued before open");
  client->send_binary(std::string(10, '\x01'));
  run_until([&] { return recorder->texts.size() == 2; });
  EXPECT_TRUE(recorder->opened);
  ASSERT_EQ(recorder->texts.size(), 2u);
  EXPECT_EQ(recorder->texts[0], "echo:queued before open");
  EXPECT_EQ(recorder->texts[1], "bytes:10");
  client->send_text("close");
  run_until([&] { return recorder->closed; });
  EXPECT_EQ(recorder->code, 4001);
  EXPECT_EQ(recorder->reason, "told to close");
}

TEST_F(WebSocketClientTest, RefusedUpgradeReportsTheHttpStatusAndBody) {
  start_server(false);
  auto recorder = std::make_shared<Recorder>();
  auto client = WebSocketClient::connect(io_, to(url(false)), recorder, io_.get_executor());
  run_until([&] { return recorder->closed; });
  EXPECT_FALSE(recorder->opened);
  EXPECT_EQ(recorder->http_status, 401);
  EXPECT_NE(recorder->reason.find("bad token"), std::string::npos) << recorder->reason;
}

TEST_F(WebSocketClientTest, TlsVerifiesTheServerCertificate) {
  start_server(true);
  auto trusted = std::make_shared<Recorder>();
  WebSocketClientOptions options = to(url(true), true);
  options.ca_file = cert_file_;
  auto ok = WebSocketClient::connect(io_, options, trusted, io_.get_executor());
  ok->send_text("over tls");
  run_until([&] { return !trusted->texts.empty() || trusted->closed; });
  ASSERT_EQ(trusted->texts.size(), 1u) << trusted->reason;
  EXPECT_EQ(trusted->texts[0], "echo:over tls");

  auto untrusted = std::make_shared<Recorder>();
  options.ca_file.clear();  // the system store does not know the test certificate
  auto bad = WebSocketClient::connect(io_, options, untrusted, io_.get_executor());
  run_until([&] { return untrusted->closed; });
  EXPECT_FALSE(untrusted->opened);
  EXPECT_NE(untrusted->reason.find("TLS"), std::string::npos) << untrusted->reason;
}

TEST_F(WebSocketClientTest, RefusedConnectionEndsWithAReasonAndAbortSilencesCallbacks) {
  auto recorder = std::make_shared<Recorder>();
  auto client = WebSocketClient::connect(io_, to("ws://127.0.0.1:1/x"), recorder, io_.get_executor());
  run_until([&] { return recorder->closed; });
  EXPECT_NE(recorder->reason.find("cannot connect"), std::string::npos) << recorder->reason;

  start_server(false);
  auto silent = std::make_shared<Recorder>();
  auto aborted = WebSocketClient::connect(io_, to(url(false), true), silent,
                                          io_.get_executor());
  aborted->abort();
  run_until([] { return false; }, 300ms);
  EXPECT_FALSE(silent->opened);
  EXPECT_FALSE(silent->closed);
}

// The handshake deadline: a peer that connects and stalls (slowloris) is dropped once
// handshake_timeout has passed since the accept, whether it sent nothing, half an upgrade
// request, or (TLS) no ClientHello; a connection upgraded in time is never touched by it.
void WebSocketClientTest::expect_stalled_peers_dropped(bool tls) {
  start_server(tls, {}, 300ms);
  std::vector<std::string_view> stalls{""};  // connects, sends nothing (no ClientHello with TLS)
  if (!tls) stalls.emplace_back("GET /ws HTTP/1.1\r\nHost: x\r\n");  // half an upgrade request
  for (const std::string_view sent : stalls) {
    const auto waited = time_until_hung_up(server_->port(), sent, 5s);
    EXPECT_GE(waited, 250ms) << "sent " << sent.size() << " bytes";
    EXPECT_LT(waited, 5s) << "sent " << sent.size() << " bytes: never dropped";
  }
  run_until([&] { return server_logged("no WebSocket upgrade within 300 ms"); }, 1s);
  EXPECT_TRUE(server_logged("no WebSocket upgrade within 300 ms"));
}

TEST_F(WebSocketClientTest, ServerDropsAPeerThatStallsBeforeTheUpgrade) { expect_stalled_peers_dropped(false); }

TEST_F(WebSocketClientTest, ServerDropsATlsPeerThatStallsBeforeTheUpgrade) { expect_stalled_peers_dropped(true); }

TEST_F(WebSocketClientTest, HandshakeDeadlineLeavesAnUpgradedConnectionAlone) {
  start_server(false, {}, 200ms);
  auto recorder = std::make_shared<Recorder>();
  auto client = WebSocketClient::connect(io_, to(url(false), true), recorder, io_.get_executor());
  run_until([&] { return recorder->opened || recorder->closed; });
  ASSERT_TRUE(recorder->opened) << recorder->reason;
  run_until([] { return false; }, 500ms);  // past the deadline
  client->send_text("still here");
  run_until([&] { return !recorder->texts.empty() || recorder->closed; });
  ASSERT_EQ(recorder->texts.size(), 1u) << recorder->reason;
  EXPECT_EQ(recorder->texts[0], "echo:still here");
  EXPECT_FALSE(recorder->closed);
}

TEST(WebSocketUrl, RejectsUrlsThatAreNotWebSocket) {
  asio::io_context io;
  auto recorder = std::make_shared<Recorder>();
  EXPECT_THROW(WebSocketClient::connect(io, to("http://x/"), recorder, io.get_executor()), std::exception);
}

}  // namespace
}  // namespace parley::net
