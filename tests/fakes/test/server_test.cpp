// FakeServer itself: routing, recording, keep-alive, framing, every fault mode, TLS, and
// the WebSocket machinery, all checked with a raw client at the byte level.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "fakes/fake_server.hpp"
#include "raw_client.hpp"

namespace parley::fakes {
namespace {

using namespace std::chrono_literals;
using testing::RawClient;
using Clock = std::chrono::steady_clock;

Response chunks(std::vector<std::string> pieces, bool chunked = true) {
  Response response;
  response.headers = {{"Content-Type", "text/plain"}};
  response.chunks = std::move(pieces);
  response.chunked = chunked;
  return response;
}

// A server with /echo (body back, X-Test header as X-Seen) and /chunks ("hello world", "second").
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.route("POST", "/echo", [](const Request &r) {
      Response out = Response::text(200, r.body);
      out.headers.emplace_back("X-Seen", r.header("X-Test"));
      return out;
    });
    server_.route("GET", "/chunks", [](const Request &) { return chunks({"hello world", "second"}); });
    server_.route("GET", "/fixed", [](const Request &) { return chunks({"hello world", "second"}, false); });
  }
  FakeServer server_;
};

TEST_F(ServerTest, RecordsRequestsAndReusesTheConnection) {
  RawClient client(server_.port());
  const auto a = client.request("POST", "/echo?x=1&y=a%20b", {{"X-Test", "one"}}, "hello");
  const auto b = client.request("POST", "/echo", {{"X-Test", "two"}}, "world");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "hello");
  EXPECT_EQ(a.header("X-Seen"), "one");
  EXPECT_EQ(b.body, "world");
  EXPECT_EQ(server_.connections_accepted(), 1u);

  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].connection, requests[1].connection);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/echo?x=1&y=a%20b");
  EXPECT_EQ(requests[0].path, "/echo");
  EXPECT_EQ(requests[0].query_param("y"), "a b");
  EXPECT_EQ(requests[0].query_param("z"), std::nullopt);
  EXPECT_EQ(requests[0].header("x-test"), "one");
  EXPECT_EQ(requests[0].body, "hello");
  EXPECT_EQ(requests[0].response_status, 200);
  EXPECT_EQ(requests[1].body, "world");

  RawClient second(server_.port());
  EXPECT_EQ(second.request("POST", "/echo", {}, "x").status, 200);
  EXPECT_EQ(server_.connections_accepted(), 2u);
  EXPECT_NE(server_.last_request()->connection, requests[0].connection);
}

TEST_F(ServerTest, RepeatedQueryParametersAreAllKept) {
  RawClient client(server_.port());
  client.request("POST", "/echo?keyterm=a&keyterm=b+c", {}, "");
  EXPECT_EQ(server_.last_request()->query_params("keyterm"), (std::vector<std::string>{"a", "b c"}));
}

TEST_F(ServerTest, RecordingCanBeTurnedOffAndStillCounts) {
  server_.set_recording(false);
  RawClient client(server_.port());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client.request("POST", "/echo", {}, "x").status, 200);
  EXPECT_TRUE(server_.requests().empty());
  EXPECT_EQ(server_.request_count(), 3u);
  EXPECT_TRUE(server_.wait_for_requests(3));
  server_.set_recording(true);
  client.request("POST", "/echo", {}, "kept");
  ASSERT_EQ(server_.requests().size(), 1u);
  EXPECT_EQ(server_.requests()[0].body, "kept");
  EXPECT_EQ(server_.requests()[0].id, 4u);
}

TEST_F(ServerTest, UnknownRouteGetsTheProviderErrorBody) {
  RawClient client(server_.port());
  auto response = client.request("GET", "/nowhere");
  EXPECT_EQ(response.status, 404);
  server_.set_error_body([](int status, const std::string &message, const Request &) {
    return Response::json(status, "{\"provider\":\"" + message + "\"}");
  });
  response = client.request("GET", "/nowhere");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, "{\"provider\":\"no route for GET /nowhere\"}");
}

TEST_F(ServerTest, ChunkedFramingIsExactlyOneHttpChunkPerPiece) {
  RawClient client(server_.port());
  const auto response = client.request("GET", "/chunks");
  EXPECT_TRUE(response.complete);
  EXPECT_EQ(response.header("Transfer-Encoding"), "chunked");
  EXPECT_EQ(response.wire_body, "b\r\nhello world\r\n6\r\nsecond\r\n0\r\n\r\n");
  EXPECT_EQ(response.head.find("Content-Length"), std::string::npos);
}

TEST_F(ServerTest, FixedResponsesCarryContentLength) {
  RawClient client(server_.port());
  const auto response = client.request("GET", "/fixed");
  EXPECT_EQ(response.header("Content-Length"), "17");
  EXPECT_EQ(response.body, "hello worldsecond");
}

TEST_F(ServerTest, ExpectContinueGetsA100BeforeTheBody) {
  RawClient client(server_.port());
  client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  std::string interim;
  const auto deadline = Clock::now() + 5s;
  while (interim.find("\r\n\r\n") == std::string::npos && Clock::now() < deadline) interim += client.read_some(100ms);
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  client.send("hello");
  EXPECT_EQ(client.read_response().body, "hello");
}

TEST_F(ServerTest, ChunkedRequestBodiesAreRecordedDechunked) {
  RawClient client(server_.port());
  client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  EXPECT_EQ(client.read_response().body, "abcde");
  EXPECT_EQ(server_.last_request()->body, "abcde");
}

TEST_F(ServerTest, FailNextAnswersWithTheErrorBodyAndHeadersForCountRequests) {
  server_.set_error_body([](int status, const std::string &, const Request &) { return Response::json(status, "{\"e\":1}"); });
  server_.fail_next(429, {{"retry-after-ms", "50"}, {"x-ratelimit-remaining-requests", "0"}}, 2);
  EXPECT_EQ(server_.pending_faults(), 2u);
  RawClient client(server_.port());
  for (int i = 0; i < 2; ++i) {
    const auto response = client.request("POST", "/echo", {}, "x");
    EXPECT_EQ(response.status, 429);
    EXPECT_EQ(response.body, "{\"e\":1}");
    EXPECT_EQ(response.header("retry-after-ms"), "50");
    EXPECT_EQ(response.header("x-ratelimit-remaining-requests"), "0");
  }
  EXPECT_EQ(client.request("POST", "/echo", {}, "x").status, 200);
  EXPECT_EQ(server_.connections_accepted(), 1u);  // error responses keep the connection
}

TEST_F(ServerTest, FaultHeadersAlsoDecorateSuccessAndABodyCanBeVerbatim) {
  Fault headers_only;
  headers_only.headers = {{"x-ratelimit-remaining-tokens", "10"}};
  server_.push_fault(headers_only);
  Fault verbatim;
  verbatim.status = 503;
  verbatim.body = "overloaded";
  server_.push_fault(verbatim);
  RawClient client(server_.port());
  auto response = client.request("POST", "/echo", {}, "ok");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ok");
  EXPECT_EQ(response.header("x-ratelimit-remaining-tokens"), "10");
  response = client.request("POST", "/echo", {}, "ok");
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.body, "overloaded");
}

TEST_F(ServerTest, FaultsWaitForARequestOnTheirPath) {
  Fault fault;
  fault.path_prefix = "/chunks";
  fault.status = 500;
  server_.push_fault(fault);
  RawClient client(server_.port());
  EXPECT_EQ(client.request("POST", "/echo", {}, "x").status, 200);
  EXPECT_EQ(server_.pending_faults(), 1u);
  EXPECT_EQ(client.request("GET", "/chunks").status, 500);
  EXPECT_EQ(server_.pending_faults(), 0u);
}

TEST_F(ServerTest, DelayedHeadArrivesLater) {
  server_.delay_next_head(400ms);
  RawClient client(server_.port());
  const auto start = Clock::now();
  client.send(RawClient::http_request("GET", "/chunks"));
  EXPECT_EQ(client.read_some(150ms), "");
  EXPECT_EQ(client.read_response().body, "hello worldsecond");
  EXPECT_GE(Clock::now() - start, 400ms);
}

TEST_F(ServerTest, DelayBetweenChunks) {
  server_.delay_next_chunks(150ms);
  RawClient client(server_.port());
  const auto start = Clock::now();
  const auto response = client.request("GET", "/chunks");
  EXPECT_GE(Clock::now() - start, 150ms);
  EXPECT_EQ(response.chunks, (std::vector<std::string>{"hello world", "second"}));
}

TEST_F(ServerTest, CutMidChunkAnnouncesTheFullChunkAndStopsAfterKBytes) {
  server_.cut_next_after(5);
  RawClient client(server_.port());
  const auto response = client.request("GET", "/chunks");
  EXPECT_EQ(response.status, 200);
  EXPECT_FALSE(response.complete);
  EXPECT_EQ(response.wire_body, "b\r\nhello");
  EXPECT_TRUE(client.wait_closed());
}

TEST_F(ServerTest, CutAcrossChunksAndInContentLengthBodies) {
  server_.cut_next_after(13);
  server_.cut_next_after(4);
  server_.cut_next_after(1000);
  {
    RawClient client(server_.port());
    const auto response = client.request("GET", "/chunks");
    EXPECT_EQ(response.wire_body, "b\r\nhello world\r\n6\r\nse");
    EXPECT_FALSE(response.complete);
  }
  {
    RawClient client(server_.port());
    const auto response = client.request("GET", "/fixed");
    EXPECT_EQ(response.header("Content-Length"), "17");
    EXPECT_EQ(response.body, "hell");
    EXPECT_FALSE(response.complete);
  }
  {
    // Past the end: every chunk, but never the terminating chunk.
    RawClient client(server_.port());
    const auto response = client.request("GET", "/chunks");
    EXPECT_EQ(response.wire_body, "b\r\nhello world\r\n6\r\nsecond\r\n");
    EXPECT_FALSE(response.complete);
    EXPECT_TRUE(client.closed());
  }
}

TEST_F(ServerTest, HangReadsTheRequestAndNeverAnswers) {
  server_.hang_next();
  {
    RawClient client(server_.port());
    client.send(RawClient::http_request("POST", "/echo", {}, "x"));
    ASSERT_TRUE(server_.wait_for_requests(1));
    EXPECT_EQ(client.read_some(300ms), "");
    EXPECT_FALSE(client.closed());
    EXPECT_EQ(server_.open_connections(), 1u);
    EXPECT_EQ(server_.last_request()->response_status, 0);
  }
  // The client gave up: the server lets go of the socket too.
  const auto deadline = Clock::now() + 5s;
  while (server_.open_connections() != 0 && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server_.open_connections(), 0u);
  RawClient client(server_.port());
  EXPECT_EQ(client.request("POST", "/echo", {}, "y").body, "y");
}

TEST_F(ServerTest, InjectAddsRawBytesAsTheirOwnChunk) {
  server_.inject_next(1, "data: garbage\n\n");
  RawClient client(server_.port());
  const auto response = client.request("GET", "/chunks");
  EXPECT_EQ(response.chunks, (std::vector<std::string>{"hello world", "data: garbage\n\n", "second"}));
  EXPECT_TRUE(response.complete);
}

TEST(ServerTls, VerifiesWithTheTestCaAndFailsWithoutIt) {
  ServerOptions options;
  options.tls = true;
  FakeServer server(options);
  server.route("GET", "/", [](const Request &) { return Response::text(200, "secure"); });
  EXPECT_TRUE(server.http_url().starts_with("https://127.0.0.1:"));
  EXPECT_TRUE(server.ws_url().starts_with("wss://"));
  ASSERT_FALSE(server.ca_file().empty());
  {
    RawClient client(server.port(), true, server.ca_file());
    EXPECT_EQ(client.request("GET", "/").body, "secure");
  }
  try {
    RawClient untrusting(server.port(), true);
    ADD_FAILURE() << "a client without the test CA completed the handshake";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("certificate"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server.connections_accepted(), 2u);
  EXPECT_EQ(server.request_count(), 1u);
}

// ---------------------------------------------------------------------------------------------
// WebSockets

class Echo final : public WsHandler {
 public:
  explicit Echo(std::atomic<int> *closed_code = nullptr, int greetings = 0) : closed_code_(closed_code), greetings_(greetings) {}
  void on_open(const std::shared_ptr<WsSession> &session) override {
    session_ = session;
    for (int i = 0; i < greetings_; ++i) session_->send_text("greeting " + std::to_string(i));
  }
  void on_text(std::string_view message) override { session_->send_text("echo " + std::string(message)); }
  void on_binary(std::string_view message) override { session_->send_binary(std::string(message)); }
  void on_closed(uint16_t code) override {
    if (closed_code_) *closed_code_ = code;
  }

 private:
  std::shared_ptr<WsSession> session_;
  std::atomic<int> *closed_code_;
  int greetings_;
};

class WsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.websocket("/ws", [this](const Request &request) {
      WsAccept accept;
      if (request.header("X-Refuse") == "yes") {
        accept.refusal = Response::json(403, "{\"refused\":true}");
        return accept;
      }
      accept.handler = std::make_shared<Echo>(&closed_code_, std::stoi(request.query_param("greetings").value_or("0")));
      accept.headers = {{"X-Extra", "1"}};
      return accept;
    });
  }
  FakeServer server_;
  std::atomic<int> closed_code_{-1};
};

TEST_F(WsTest, EchoesTextAsTextAndBinaryAsBinaryAndRecordsBothWays) {
  testing::WsClient ws(server_.port(), "/ws?x=1", {{"Authorization", "Token k"}});
  ASSERT_EQ(ws.upgrade.status, 101);
  EXPECT_EQ(ws.upgrade.header("X-Extra"), "1");
  ws.client.ws_text("hi");
  auto frame = ws.client.ws_read();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->opcode, 1);
  EXPECT_EQ(frame->payload, "echo hi");
  ws.client.ws_binary(std::string("\x00\x01\xff", 3));
  frame = ws.client.ws_read();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->opcode, 2);
  EXPECT_EQ(frame->payload, std::string("\x00\x01\xff", 3));
  ws.client.ws_close(1000, "done");
  frame = ws.client.ws_read();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->opcode, 8);
  EXPECT_EQ(frame->close_code(), 1000);
  EXPECT_TRUE(ws.client.wait_closed());  // the server closes TCP first (RFC 6455 7.1.1)
  ws.client.shutdown_write();

  ASSERT_TRUE(server_.wait_until([](const auto &requests) { return !requests.empty() && requests[0].ws_closed; }));
  const Request request = *server_.last_request("/ws");
  EXPECT_TRUE(request.websocket);
  EXPECT_EQ(request.response_status, 101);
  EXPECT_EQ(request.header("Authorization"), "Token k");
  EXPECT_EQ(request.query_param("x"), "1");
  ASSERT_EQ(request.received.size(), 2u);
  EXPECT_FALSE(request.received[0].binary);
  EXPECT_EQ(request.received[0].data, "hi");
  EXPECT_TRUE(request.received[1].binary);
  ASSERT_EQ(request.sent.size(), 2u);
  EXPECT_EQ(request.sent[0].data, "echo hi");
  EXPECT_EQ(request.ws_client_close_code, 1000);
  EXPECT_EQ(closed_code_, 1000);
}

TEST_F(WsTest, RouteCanRefuseTheUpgradeWithAnHttpAnswer) {
  testing::WsClient ws(server_.port(), "/ws", {{"X-Refuse", "yes"}});
  EXPECT_EQ(ws.upgrade.status, 403);
  EXPECT_EQ(ws.upgrade.body, "{\"refused\":true}");
  EXPECT_TRUE(ws.client.wait_closed());
}

TEST_F(WsTest, FailNextRefusesTheUpgradeWithTheErrorBody) {
  server_.set_error_body([](int status, const std::string &, const Request &) { return Response::json(status, "{\"err\":\"auth\"}"); });
  server_.fail_next(401);
  testing::WsClient ws(server_.port(), "/ws");
  EXPECT_EQ(ws.upgrade.status, 401);
  EXPECT_EQ(ws.upgrade.body, "{\"err\":\"auth\"}");
}

TEST_F(WsTest, CloseAfterKSentMessagesWithCodeAndReason) {
  server_.ws_close_next_after(2, 1011, "boom");
  testing::WsClient ws(server_.port(), "/ws?greetings=5");
  ASSERT_EQ(ws.upgrade.status, 101);
  const auto frames = ws.client.ws_read_all();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].payload, "greeting 0");
  EXPECT_EQ(frames[1].payload, "greeting 1");
  EXPECT_EQ(frames[2].opcode, 8);
  EXPECT_EQ(frames[2].close_code(), 1011);
  EXPECT_EQ(frames[2].close_reason(), "boom");
}

TEST_F(WsTest, CloseBeforeAnythingIsSent) {
  server_.ws_close_next_after(0, 4001, "go away");
  testing::WsClient ws(server_.port(), "/ws?greetings=3");
  const auto frames = ws.client.ws_read_all();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].close_code(), 4001);
}

TEST_F(WsTest, DropAfterKSentMessagesCutsTcpWithoutACloseFrame) {
  server_.ws_drop_next_after(1);
  testing::WsClient ws(server_.port(), "/ws?greetings=5");
  const auto frames = ws.client.ws_read_all();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, "greeting 0");
  EXPECT_TRUE(ws.client.closed());
  ASSERT_TRUE(server_.wait_until([](const auto &requests) { return !requests.empty() && requests[0].ws_closed; }));
  EXPECT_EQ(closed_code_, 0);
}

TEST_F(WsTest, CloseAfterKReceivedMessages) {
  Fault fault;
  fault.ws_end = Fault::WsEnd::close;
  fault.ws_after_received = 2;
  fault.ws_close_code = 1008;
  fault.ws_close_reason = "enough";
  server_.push_fault(fault);
  testing::WsClient ws(server_.port(), "/ws");
  ws.client.ws_text("one");
  ASSERT_EQ(ws.client.ws_read()->payload, "echo one");
  ws.client.ws_text("two");
  const auto frames = ws.client.ws_read_all();
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames.back().opcode, 8);
  EXPECT_EQ(frames.back().close_code(), 1008);
  EXPECT_EQ(frames.back().close_reason(), "enough");
}

TEST_F(WsTest, InjectAndIntervalApplyToMessages) {
  Fault fault;
  fault.inject_at = 1;
  fault.inject = "{not json";
  fault.interval = 100ms;
  server_.push_fault(fault);
  const auto start = Clock::now();
  testing::WsClient ws(server_.port(), "/ws?greetings=2");
  std::vector<std::string> payloads;
  for (int i = 0; i < 3; ++i) payloads.push_back(ws.client.ws_read()->payload);
  EXPECT_EQ(payloads, (std::vector<std::string>{"greeting 0", "{not json", "greeting 1"}));
  EXPECT_GE(Clock::now() - start, 200ms);
}

TEST_F(WsTest, TestsCanDriveOpenSessions) {
  testing::WsClient ws(server_.port(), "/ws");
  ASSERT_EQ(ws.upgrade.status, 101);
  ASSERT_TRUE(server_.wait_until([&](const auto &) { return server_.ws_sessions().size() == 1; }));
  auto session = server_.ws_sessions().front();
  EXPECT_TRUE(session->open());
  session->send_text("pushed");
  EXPECT_EQ(ws.client.ws_read()->payload, "pushed");
  session->close(4000, "bye");
  const auto frame = ws.client.ws_read();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->close_code(), 4000);
  EXPECT_EQ(frame->close_reason(), "bye");
  ws.client.ws_close(4000);
  EXPECT_TRUE(ws.client.wait_closed());
  ws.client.shutdown_write();
  ASSERT_TRUE(server_.wait_until([&](const auto &) { return !session->open(); }));
  EXPECT_TRUE(server_.ws_sessions().empty());
}

TEST_F(WsTest, DropAllConnectionsEndsHttpAndWebSocketClients) {
  server_.route("GET", "/", [](const Request &) { return Response::text(200, "ok"); });
  RawClient http(server_.port());
  EXPECT_EQ(http.request("GET", "/").status, 200);
  testing::WsClient ws(server_.port(), "/ws");
  ASSERT_EQ(ws.upgrade.status, 101);
  server_.drop_all_connections();
  EXPECT_TRUE(http.wait_closed());
  EXPECT_TRUE(ws.client.wait_closed());
}

TEST(ServerTls, WebSocketOverTls) {
  ServerOptions options;
  options.tls = true;
  FakeServer server(options);
  server.websocket("/ws", [](const Request &) { return WsAccept{std::make_shared<Echo>(nullptr, 1), {}, {}}; });
  RawClient client(server.port(), true, server.ca_file());
  ASSERT_EQ(client.ws_handshake("/ws").status, 101);
  EXPECT_EQ(client.ws_read()->payload, "greeting 0");
  client.ws_text("over tls");
  EXPECT_EQ(client.ws_read()->payload, "echo over tls");
}

TEST(ServerLifetime, DestroyingTheServerClosesEveryConnection) {
  auto server = std::make_unique<FakeServer>();
  server->websocket("/ws", [](const Request &) { return WsAccept{std::make_shared<Echo>(), {}, {}}; });
  server->hang_next();
  RawClient hanging(server->port());
  hanging.send(RawClient::http_request("GET", "/"));
  testing::WsClient ws(server->port(), "/ws");
  ASSERT_EQ(ws.upgrade.status, 101);
  ASSERT_TRUE(server->wait_until([&](const auto &) { return server->ws_sessions().size() == 1; }));
  auto session = server->ws_sessions().front();  // a handle outliving the server is harmless
  server.reset();
  EXPECT_TRUE(hanging.wait_closed());
  EXPECT_TRUE(ws.client.wait_closed());
  session->send_text("nobody hears this");
  EXPECT_FALSE(session->open());
}

}  // namespace
}  // namespace parley::fakes
