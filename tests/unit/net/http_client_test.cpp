// The HTTP client against a canned TCP server: a thread per connection reads each request
// and answers from a script, so framing, cuts, stalls and keep-alive are exact.
#include "net/http_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <list>
#include <mutex>
#include <sys/socket.h>
#include <thread>

namespace parley::net {
namespace {

namespace asio = boost::asio;

// run_for leaves the context stopped once it runs out of work; later runs need a restart.
void pump(asio::io_context &io, std::chrono::milliseconds d) {
  if (io.stopped()) io.restart();
  io.run_for(d);
}
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// What the server does with one request: a list of (bytes, pause-after) steps, then
// either keep the connection for the next request or close it.
struct Answer {
  std::vector<std::pair<std::string, std::chrono::milliseconds>> steps;
  bool close_after = false;
  bool hang = false;  // read the request, then say nothing until the client gives up
};

class CannedServer {
 public:
  explicit CannedServer(std::function<Answer(const std::string &request)> script)
      : script_(std::move(script)), acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { accept_loop(); });
  }
  ~CannedServer() {
    stopping_ = true;
    // shutdown(2) wakes threads blocked in accept and recv; close alone would not.
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    {
      std::lock_guard lock(mutex_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    thread_.join();
    for (auto &t : connections_) t.join();
  }
  std::string url(const std::string &path) const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  int connections() const { return accepted_.load(); }
  std::string last_request() {
    std::lock_guard lock(mutex_);
    return last_request_;
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec) return;
      ++accepted_;
      {
        std::lock_guard lock(mutex_);
        open_fds_.push_back(socket.native_handle());
      }
      connections_.emplace_back([this, s = std::move(socket)]() mutable { serve(std::move(s)); });
    }
  }

  void serve(tcp::socket socket) {
    asio::streambuf buffer;
    boost::system::error_code ec;
    while (!stopping_) {
      size_t header_bytes = asio::read_until(socket, buffer, "\r\n\r\n", ec);
      if (ec) return;
      std::string head(asio::buffers_begin(buffer.data()), asio::buffers_begin(buffer.data()) + header_bytes);
      buffer.consume(header_bytes);
      size_t length = 0;
      if (auto at = head.find("Content-Length: "); at != std::string::npos) length = std::stoul(head.substr(at + 16));
      while (buffer.size() < length) {
        asio::read(socket, buffer, asio::transfer_at_least(1), ec);
        if (ec) return;
      }
      std::string request = head + std::string(asio::buffers_begin(buffer.data()), asio::buffers_begin(buffer.data()) + length);
      buffer.consume(length);
      {
        std::lock_guard lock(mutex_);
        last_request_ = request;
      }
      Answer answer = script_(request);
      if (answer.hang) {
        while (!stopping_) std::this_thread::sleep_for(10ms);
        return;
      }
      for (const auto &[bytes, pause] : answer.steps) {
        asio::write(socket, asio::buffer(bytes), ec);
        if (ec) return;
        std::this_thread::sleep_for(pause);
      }
      if (answer.close_after) return;
    }
  }

  std::function<Answer(const std::string &)> script_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::list<std::thread> connections_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::mutex mutex_;
  std::string last_request_;
  std::vector<int> open_fds_;
};

HttpRequest get(std::string url) {
  HttpRequest request;
  request.url = std::move(url);
  return request;
}

struct Outcome {
  int head_status = 0;
  HttpHeaders headers;
  std::string body;
  std::vector<std::string> chunks;
  HttpResult result;
};

// Runs one request on a client whose loop is the test's io_context.
class HttpClientTest : public ::testing::Test {
 protected:
  Outcome run(HttpRequest request) {
    std::promise<Outcome> done;
    auto outcome = std::make_shared<Outcome>();
    HttpCallbacks callbacks;
    callbacks.on_head = [outcome](const HttpResponseHead &head) {
      outcome->head_status = head.status;
      outcome->headers = head.headers;
    };
    callbacks.on_body = [outcome](std::string_view chunk) {
      outcome->body.append(chunk);
      outcome->chunks.emplace_back(chunk);
    };
    callbacks.on_complete = [outcome, &done](const HttpResult &result) {
      outcome->result = result;
      done.set_value(*outcome);
    };
    auto call = client_.start(std::move(request), std::move(callbacks), io_.get_executor());
    auto future = done.get_future();
    while (future.wait_for(0ms) != std::future_status::ready) pump(io_, 10ms);
    return future.get();
  }

  asio::io_context io_;
  HttpClient client_{io_};
};

std::string ok_response(const std::string &body, const std::string &extra_headers = "") {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         extra_headers + "\r\n" + body;
}

TEST_F(HttpClientTest, PostsBodyAndHeadersAndReadsTheWholeResponse) {
  CannedServer server([](const std::string &) { return Answer{{{ok_response("hello", "X-Request-Id: r1\r\n"), 0ms}}}; });
  HttpRequest request;
  request.method = "POST";
  request.url = server.url("/v1/thing");
  request.headers = {{"Authorization", "Bearer k"}, {"Content-Type", "application/json"}};
  request.body = R"({"q":1})";
  Outcome out = run(request);
  EXPECT_EQ(out.result.failure, HttpFailure::none) << out.result.message;
  EXPECT_EQ(out.head_status, 200);
  EXPECT_EQ(out.result.status, 200);
  EXPECT_EQ(out.body, "hello");
  EXPECT_EQ(find_header(out.headers, "x-request-id"), "r1");
  const std::string sent = server.last_request();
  EXPECT_NE(sent.find("POST /v1/thing HTTP/1.1"), std::string::npos);
  EXPECT_NE(sent.find("Authorization: Bearer k"), std::string::npos);
  EXPECT_NE(sent.find("\r\n\r\n{\"q\":1}"), std::string::npos);
}

TEST_F(HttpClientTest, StreamsChunkedBodyPieceByPieceAsItArrives) {
  CannedServer server([](const std::string &) {
    return Answer{{{"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n", 0ms},
                   {"5\r\ndata:\r\n", 30ms},
                   {"3\r\n a\n\r\n", 30ms},
                   {"0\r\n\r\n", 0ms}}};
  });
  Outcome out = run(get(server.url("/stream")));
  EXPECT_EQ(out.result.failure, HttpFailure::none) << out.result.message;
  EXPECT_EQ(out.body, "data: a\n");
  EXPECT_GE(out.chunks.size(), 2u) << "chunks sent 30 ms apart arrive separately";
}

TEST_F(HttpClientTest, ErrorStatusIsAResponseNotAFailure) {
  CannedServer server([](const std::string &) {
    return Answer{{{"HTTP/1.1 429 Too Many Requests\r\nretry-after-ms: 120\r\nContent-Length: 13\r\n\r\n{\"error\":\"x\"}", 0ms}}};
  });
  Outcome out = run(get(server.url("/")));
  EXPECT_EQ(out.result.failure, HttpFailure::none);
  EXPECT_EQ(out.result.status, 429);
  EXPECT_EQ(find_header(out.headers, "Retry-After-Ms"), "120");
  EXPECT_EQ(out.body, "{\"error\":\"x\"}");
}

TEST_F(HttpClientTest, ConnectionCutMidBodyIsReportedAsCut) {
  CannedServer server([](const std::string &) {
    return Answer{{{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", 0ms}}, true};
  });
  Outcome out = run(get(server.url("/")));
  EXPECT_EQ(out.result.failure, HttpFailure::cut) << http_failure_name(out.result.failure) << ": " << out.result.message;
  EXPECT_EQ(out.body, "partial") << "what arrived before the cut is delivered";
}

TEST_F(HttpClientTest, ServerThatNeverAnswersHitsTheFirstByteTimeout) {
  CannedServer server([](const std::string &) { return Answer{{}, false, true}; });
  HttpRequest request = get(server.url("/"));
  request.first_byte_timeout = 200ms;
  Outcome out = run(request);
  EXPECT_EQ(out.result.failure, HttpFailure::timeout_first_byte);
  EXPECT_NE(out.result.message.find("200 ms"), std::string::npos) << out.result.message;
  EXPECT_EQ(out.head_status, 0);
}

TEST_F(HttpClientTest, StreamThatStallsHitsTheIdleTimeout) {
  CannedServer server([](const std::string &) {
    return Answer{{{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", 600ms}}, true};
  });
  HttpRequest request = get(server.url("/"));
  request.idle_timeout = 200ms;
  Outcome out = run(request);
  EXPECT_EQ(out.result.failure, HttpFailure::timeout_idle);
  EXPECT_EQ(out.body, "abc");
}

TEST_F(HttpClientTest, RefusedConnectionIsAConnectFailure) {
  uint16_t port;
  {
    asio::io_context io;
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }
  Outcome out = run(get("http://127.0.0.1:" + std::to_string(port) + "/"));
  EXPECT_EQ(out.result.failure, HttpFailure::connect) << out.result.message;
}

TEST_F(HttpClientTest, SequentialRequestsReuseOneConnection) {
  CannedServer server([](const std::string &) { return Answer{{{ok_response("ok"), 0ms}}}; });
  for (int i = 0; i < 5; ++i) {
    Outcome out = run(get(server.url("/again")));
    ASSERT_EQ(out.result.failure, HttpFailure::none);
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(HttpClientTest, CancelledRequestDeliversNothingMore) {
  CannedServer server([](const std::string &) {
    return Answer{{{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", 300ms}, {"3\r\ndef\r\n0\r\n\r\n", 0ms}}};
  });
  int bodies = 0, completes = 0;
  HttpCallbacks callbacks;
  std::unique_ptr<HttpCall> call;
  callbacks.on_body = [&](std::string_view) {
    ++bodies;
    call->cancel();  // on the executor: nothing may follow
  };
  callbacks.on_complete = [&](const HttpResult &) { ++completes; };
  call = client_.start(get(server.url("/")), std::move(callbacks), io_.get_executor());
  const auto until = std::chrono::steady_clock::now() + 800ms;
  while (std::chrono::steady_clock::now() < until) pump(io_, 20ms);
  EXPECT_EQ(bodies, 1);
  EXPECT_EQ(completes, 0);
  EXPECT_EQ(client_.active(), 0u);
}

TEST_F(HttpClientTest, ManyConcurrentRequestsAllComplete) {
  CannedServer server([](const std::string &) { return Answer{{{ok_response("x"), 0ms}}}; });
  int completes = 0;
  std::vector<std::unique_ptr<HttpCall>> calls;
  for (int i = 0; i < 50; ++i) {
    HttpCallbacks callbacks;
    callbacks.on_complete = [&](const HttpResult &r) { completes += r.failure == HttpFailure::none && r.status == 200; };
    std::string path = "/n";
    path += std::to_string(i);
    calls.push_back(client_.start(get(server.url(path)), std::move(callbacks), io_.get_executor()));
  }
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (completes < 50 && std::chrono::steady_clock::now() < until) pump(io_, 10ms);
  EXPECT_EQ(completes, 50);
}


// Callbacks are dispatched from the client's own handlers: on a strand of the client's loop
// they run in that strand, in order, and never inside the call to start().
TEST_F(HttpClientTest, CallbacksRunInTheStrandInOrderNeverInsideStart) {
  CannedServer server([](const std::string &) {
    return Answer{{{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0ms},
                   {"3\r\nabc\r\n", 20ms},
                   {"3\r\ndef\r\n", 20ms},
                   {"0\r\n\r\n", 0ms}}};
  });
  auto strand = asio::make_strand(io_);
  std::vector<std::string> events;
  std::string body;
  bool returned = false, outside = false;
  std::unique_ptr<HttpCall> call;
  HttpCallbacks callbacks;
  auto note = [&](std::string what) {
    outside = outside || !returned || !strand.running_in_this_thread();
    events.push_back(std::move(what));
  };
  callbacks.on_head = [&](const HttpResponseHead &head) { note("head " + std::to_string(head.status)); };
  callbacks.on_body = [&](std::string_view chunk) {
    note("body");
    body.append(chunk);
  };
  callbacks.on_complete = [&](const HttpResult &result) { note(std::string("complete ") + http_failure_name(result.failure)); };
  asio::post(strand, [&] {
    call = client_.start(get(server.url("/")), std::move(callbacks), strand);
    returned = true;
  });
  const auto until = std::chrono::steady_clock::now() + 5s;
  while ((events.empty() || events.back().rfind("complete", 0) != 0) && std::chrono::steady_clock::now() < until) {
    pump(io_, 10ms);
  }
  EXPECT_FALSE(outside) << "a callback ran outside the strand or inside start()";
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.front(), "head 200");
  EXPECT_EQ(events.back(), "complete none");
  for (size_t i = 1; i + 1 < events.size(); ++i) EXPECT_EQ(events[i], "body");
  EXPECT_EQ(body, "abcdef");
}

// A request that fails in the client's very first turn (a scheme curl is not allowed to
// use) still reports from that turn, after start() returned - even with the caller's
// handler and the client on one thread.
TEST_F(HttpClientTest, AnImmediateFailureIsNotDeliveredInsideStart) {
  bool returned = false, inside = false, completed = false;
  HttpResult outcome;
  std::unique_ptr<HttpCall> call;
  asio::post(io_, [&] {
    HttpCallbacks callbacks;
    callbacks.on_complete = [&](const HttpResult &result) {
      inside = !returned;
      completed = true;
      outcome = result;
    };
    call = client_.start(get("ftp://127.0.0.1:1/file"), std::move(callbacks), io_.get_executor());
    returned = true;
  });
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (!completed && std::chrono::steady_clock::now() < until) pump(io_, 10ms);
  ASSERT_TRUE(completed);
  EXPECT_FALSE(inside);
  EXPECT_NE(outcome.failure, HttpFailure::none);
}

// A hundred chunks written at once: read together, delivered in one turn of the executor,
// but still a call per chunk, each exactly as the server framed it.
TEST_F(HttpClientTest, ChunksThatArriveTogetherKeepTheirBoundaries) {
  std::string chunked;
  std::vector<std::string> expected;
  for (int i = 0; i < 100; ++i) {
    expected.push_back("piece " + std::to_string(i) + "\n");
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", expected.back().size());
    chunked += size + expected.back() + "\r\n";
  }
  CannedServer server([&](const std::string &) {
    return Answer{{{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked + "0\r\n\r\n", 0ms}}};
  });
  Outcome out = run(get(server.url("/many")));
  EXPECT_EQ(out.result.failure, HttpFailure::none) << out.result.message;
  EXPECT_EQ(out.chunks, expected);
}

// The executor on another thread, busy while the response arrives: what piled up meanwhile
// comes in order once it is free, on its thread.
TEST_F(HttpClientTest, BusyExecutorOnAnotherThreadGetsEverythingInOrder) {
  CannedServer server([](const std::string &) {
    return Answer{{{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 30ms},
                   {"3\r\nabc\r\n", 10ms},
                   {"3\r\ndef\r\n", 10ms},
                   {"0\r\n\r\n", 0ms}}};
  });
  asio::io_context other;
  auto work = asio::make_work_guard(other);
  std::thread thread([&] { other.run(); });
  auto strand = asio::make_strand(other);
  std::mutex mutex;
  std::vector<std::string> events;
  std::string body;
  bool wrong_thread = false;
  std::promise<void> done;
  HttpCallbacks callbacks;
  callbacks.on_head = [&](const HttpResponseHead &) {
    std::this_thread::sleep_for(200ms);  // the body and the end arrive meanwhile
    std::lock_guard lock(mutex);
    wrong_thread = wrong_thread || std::this_thread::get_id() != thread.get_id();
    events.push_back("head");
  };
  callbacks.on_body = [&](std::string_view chunk) {
    std::lock_guard lock(mutex);
    wrong_thread = wrong_thread || std::this_thread::get_id() != thread.get_id();
    events.push_back("body");
    body.append(chunk);
  };
  callbacks.on_complete = [&](const HttpResult &) {
    {
      std::lock_guard lock(mutex);
      wrong_thread = wrong_thread || std::this_thread::get_id() != thread.get_id();
      events.push_back("complete");
    }
    done.set_value();
  };
  auto call = client_.start(get(server.url("/")), std::move(callbacks), strand);
  auto future = done.get_future();
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (future.wait_for(0ms) != std::future_status::ready && std::chrono::steady_clock::now() < until) {
    pump(io_, 10ms);
  }
  // The transfer holds the strand: let the client drop it before `other` goes.
  call.reset();
  pump(io_, 20ms);
  work.reset();
  thread.join();
  std::lock_guard lock(mutex);
  EXPECT_FALSE(wrong_thread);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.front(), "head");
  EXPECT_EQ(events.back(), "complete");
  EXPECT_EQ(body, "abcdef");
}

// Cancelled on its executor while the body and the end wait for it: nothing more comes.
TEST_F(HttpClientTest, CancelOnTheExecutorDropsWhatIsAlreadyWaiting) {
  CannedServer server([](const std::string &) {
    return Answer{{{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 30ms},
                   {"3\r\nabc\r\n0\r\n\r\n", 0ms}}};
  });
  asio::io_context other;
  auto work = asio::make_work_guard(other);
  std::thread thread([&] { other.run(); });
  auto strand = asio::make_strand(other);
  std::atomic<int> heads{0}, bodies{0}, completes{0};
  std::unique_ptr<HttpCall> call;
  HttpCallbacks callbacks;
  callbacks.on_head = [&](const HttpResponseHead &) {
    ++heads;
    std::this_thread::sleep_for(200ms);  // the body and the end are waiting by now
    call->cancel();
  };
  callbacks.on_body = [&](std::string_view) { ++bodies; };
  callbacks.on_complete = [&](const HttpResult &) { ++completes; };
  call = client_.start(get(server.url("/")), std::move(callbacks), strand);
  const auto until = std::chrono::steady_clock::now() + 800ms;
  while (std::chrono::steady_clock::now() < until) pump(io_, 20ms);
  // The transfer holds the strand: let the client drop it before `other` goes.
  call.reset();
  pump(io_, 20ms);
  work.reset();
  thread.join();
  EXPECT_EQ(heads, 1);
  EXPECT_EQ(bodies, 0);
  EXPECT_EQ(completes, 0);
}

TEST_F(HttpClientTest, DefaultCapsLetHundredsOfStreamsToOneHostRunAtOnce) {
  const HttpClient::Options defaults;
  EXPECT_GE(defaults.max_connections_per_host, 500u);
  EXPECT_GE(defaults.max_total_connections, defaults.max_connections_per_host);
}

}  // namespace
}  // namespace parley::net
