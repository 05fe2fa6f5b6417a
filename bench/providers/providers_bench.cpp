// Benchmarks of the OpenAI-compatible LLM adapter (never run by ctest).
//
// Recorded bytes (no network): a realistic 1,000-token stream in the byte-exact format of
// openai-compatible.md §3 (role chunk, one chunk per token with "usage":null, finish chunk,
// usage chunk, [DONE]) fed through the adapter's parsing path, ChatStreamDecoder:
//   BM_Decode_*         throughput (bytes/s) and time per 1,000-token stream: SSE framing +
//                       chunk JSON (simdjson DOM) + delivery of each delta to a handler that
//                       appends it, as the pipeline's sink would
//   BM_SseFramingOnly   net::SseParser over the same bytes, for comparison (framing only)
//
// Over loopback, set up as a runtime runs a call: one thread runs the engine's io_context
// (io_context{1}, driven by io.run() as an IO thread is) with the HttpClient on it, and the
// adapter's callbacks go to a strand on it, as a session's do. The server runs on threads of
// its own. The CPU column is Google Benchmark's CPU time of the benchmark thread
// (CLOCK_THREAD_CPUTIME_ID), i.e. the engine's alone - libcurl, the client, the adapter,
// the callbacks, and the kernel's work on that thread's behalf - never the server's; the
// counters split it into user and kernel time (getrusage(RUSAGE_THREAD), per stream) and put
// the whole process's CPU beside it (process_cpu_us, server included) as a check.
// `handlers` counts the handlers the loop ran per stream: about one per wake-up of the
// thread, since the client delivers what one socket wake-up brought in that same handler.
//
// Engine CPU per stream = the work per token + what the kernel charges for each time the
// thread sleeps in epoll_wait and is woken again (about 8 us on the 2-vCPU KVM guest this
// was tuned on - see the floor below). How many wake-ups a stream costs is set by how the
// bytes arrive, so the stream is measured under three arrival patterns:
//   BM_Loopback_1000TokenStream   against the fake OpenAI server (tests/fakes/), which
//                       writes the events back to back, each costing it several us to
//                       build: the engine sleeps between bursts, 60 to 450 times a stream
//                       depending on the machine's load (and more often the faster the engine
//                       is). Faithful bytes, unsteady figure: read it with `handlers`.
//   BM_Replay_1000TokenStream/write:0/pace_us:0   a replay server writes the recorded
//                       stream (each event one HTTP chunk, as the fake frames them) in one
//                       go: a handful of wake-ups, so this is the engine's work per stream.
//   .../pace_us:1000, BM_Loopback_1000TokenStream_Paced1ms   one event per millisecond, as
//                       a model streams: one wake-up per token, the worst case; beside them
//   BM_Replay_Paced_BareSocketFloor   the same paced bytes read by a bare epoll + recv loop
//                       (no curl, no Asio, no parsing): what 1,000 wake-ups cost by themselves.
// And:
//   BM_Loopback_1000TokenTransportOnly  the fake's stream through HttpClient alone (no
//                       decoding): the transport's share of BM_Loopback_1000TokenStream
//   BM_Loopback_RequestOverhead   a one-token completion, connection reused: per-request cost
//   BM_Loopback_500Concurrent     500 streams at once with the client's default options;
//                       prints /proc/self/task before/during/after
#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.hpp"
#include "net/sse.hpp"
#include "providers/llm/openai.hpp"
#include "providers/registry.hpp"

#ifdef PARLEY_BENCH_WITH_FAKES
#include "fakes/openai_fake.hpp"
#endif

namespace {

using namespace parley;
using namespace parley::providers;
using namespace std::chrono_literals;

// Word-like tokens of typical length ("Sure", ",", " I", " can", ...).
std::vector<std::string> tokens(size_t count) {
  static const char *kWords[] = {" the", " table", " for", " two", " at", " seven", ",", " please", ".", " I",
                                 " can", " book", " that", " for", " you", "!", " Would", " you", " like", " a",
                                 " window", " seat", "?", " Sure"};
  std::vector<std::string> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) out.emplace_back(kWords[i % (sizeof kWords / sizeof *kWords)]);
  return out;
}

// A recorded stream as OpenAI sends it, obfuscation padding included (clients must skip it).
std::string recorded_stream(size_t token_count) {
  const std::string head =
      R"({"id":"chatcmpl-BZ3kq9xT2mVw8LpQ4rN7sYd1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_560af6e559",)";
  std::string out = "data: " + head +
                    R"("choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"x2Yq"})" +
                    "\n\n";
  for (const auto &token : tokens(token_count)) {
    std::string escaped;
    parley::providers::openai::append_json_string(escaped, token);
    out += "data: " + head + R"("choices":[{"index":0,"delta":{"content":)" + escaped +
           R"(},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"kP3"})" + "\n\n";
  }
  out += "data: " + head + R"("choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null,"obfuscation":"Zr"})" + "\n\n";
  out += "data: " + head +
         R"("choices":[],"usage":{"prompt_tokens":812,"completion_tokens":1000,"total_tokens":1812,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"obfuscation":"q"})" +
         "\n\n";
  out += "data: [DONE]\n\n";
  return out;
}

// What the pipeline's sink does with a delta: keep the text.
struct Sink final : openai::ChatStreamDecoder::Handler {
  std::string text;
  size_t calls = 0;
  void on_text(std::string_view piece) override {
    text.append(piece);
    ++calls;
  }
  void on_tool_call_delta(const ToolCallDelta &) override { ++calls; }
};

// Splits `bytes` into `size`-byte feeds (0 = one feed per SSE event, as a streaming server
// and libcurl deliver them).
std::vector<std::string_view> feeds(const std::string &bytes, size_t size) {
  std::vector<std::string_view> out;
  if (size == 0) {
    size_t at = 0;
    while (at < bytes.size()) {
      const size_t end = bytes.find("\n\n", at);
      const size_t stop = end == std::string::npos ? bytes.size() : end + 2;
      out.emplace_back(bytes.data() + at, stop - at);
      at = stop;
    }
    return out;
  }
  for (size_t at = 0; at < bytes.size(); at += size) out.emplace_back(std::string_view(bytes).substr(at, size));
  return out;
}

void decode(benchmark::State &state, size_t feed_size) {
  const std::string bytes = recorded_stream(1000);
  const auto pieces = feeds(bytes, feed_size);
  for (auto _ : state) {
    Sink sink;
    openai::ChatStreamDecoder decoder(sink);
    for (const auto piece : pieces) decoder.feed(piece);
    if (decoder.state() != openai::ChatStreamDecoder::State::done || sink.calls != 1000) {
      state.SkipWithError("the recorded stream did not decode");
      return;
    }
    benchmark::DoNotOptimize(sink.text.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
  state.counters["stream_bytes"] = static_cast<double>(bytes.size());
}

void BM_Decode_PerEventFeeds(benchmark::State &state) { decode(state, 0); }
void BM_Decode_16KiBFeeds(benchmark::State &state) { decode(state, 16 * 1024); }
void BM_Decode_1400ByteFeeds(benchmark::State &state) { decode(state, 1400); }
BENCHMARK(BM_Decode_PerEventFeeds)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Decode_16KiBFeeds)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Decode_1400ByteFeeds)->Unit(benchmark::kMicrosecond);

void BM_SseFramingOnly(benchmark::State &state) {
  const std::string bytes = recorded_stream(1000);
  const auto pieces = feeds(bytes, 0);
  for (auto _ : state) {
    net::SseParser parser;
    size_t events = 0;
    for (const auto piece : pieces) parser.feed(piece, [&](const net::SseEvent &e) { events += e.data.size() > 0; });
    benchmark::DoNotOptimize(events);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_SseFramingOnly)->Unit(benchmark::kMicrosecond);

#ifdef PARLEY_BENCH_WITH_FAKES

size_t thread_count() {
  size_t n = 0;
  for ([[maybe_unused]] const auto &entry : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// The engine thread's user and kernel time per stream, and the whole process's (server
// included) beside it: see the top of the file.
class CpuMeter {
 public:
  CpuMeter() { snapshot(start_); }
  void report(benchmark::State &state) {
    Snapshot end;
    snapshot(end);
    const auto per_iteration = [&](double us) {
      return benchmark::Counter(us, benchmark::Counter::kAvgIterations);
    };
    state.counters["engine_user_us"] = per_iteration(end.user_us - start_.user_us);
    state.counters["engine_sys_us"] = per_iteration(end.sys_us - start_.sys_us);
    state.counters["process_cpu_us"] = per_iteration(end.process_us - start_.process_us);
  }

 private:
  struct Snapshot {
    double user_us = 0, sys_us = 0, process_us = 0;
  };
  static void snapshot(Snapshot &s) {
    rusage usage{};
    getrusage(RUSAGE_THREAD, &usage);
    s.user_us = static_cast<double>(usage.ru_utime.tv_sec) * 1e6 + static_cast<double>(usage.ru_utime.tv_usec);
    s.sys_us = static_cast<double>(usage.ru_stime.tv_sec) * 1e6 + static_cast<double>(usage.ru_stime.tv_usec);
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    s.process_us = static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
  }
  Snapshot start_;
};

// The adapter over loopback, set up as a runtime sets up a call: one io_context run by one
// thread (io_context{1}, like the runtime's IO loops) holds the HttpClient, and the
// provider's callbacks go to a strand on it (a session's executor); the fake runs on its own
// thread. The loop is driven by io.run(), as an IO thread does; the stream's last callback
// stops it.
struct Loopback {
  explicit Loopback(net::HttpClient::Options options = {}) : http(io, options) {
    register_openai(registry);
    fake.set_api_key("sk-bench-0000000000000000");
  }

  std::unique_ptr<Llm> llm(const std::string &base_url = "") {
    ProviderContext context;
    context.executor = strand;
    context.workers = io.get_executor();
    context.http = &http;
    return registry.make_llm(nlohmann::json{{"provider", "openai"},
                              {"base_url", base_url.empty() ? fake.base_url() : base_url},
                              {"api_key", "sk-bench-0000000000000000"},
                              {"model", "gpt-4o-mini"},
                              {"max_retries", 0}},
                             context);
  }

  // Runs the loop until `done()`; the callback that makes it true calls io.stop(). (No
  // watchdog timer: arming one per stream would be the harness's cost, counted as the
  // engine's; the adapter's own timeouts end a stream that hangs.)
  template <typename Done>
  bool run_until(Done done) {
    auto guard = boost::asio::make_work_guard(io);
    while (!done()) {
      io.restart();
      handlers += io.run();
    }
    return done();
  }

  // Polls `done()` every 10 ms of loop time (for the 500-stream case, which samples).
  template <typename Done>
  bool poll_until(Done done, std::chrono::milliseconds timeout = 30s) {
    auto guard = boost::asio::make_work_guard(io);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_one_for(10ms);
    }
    return done();
  }

  fakes::OpenAiFake fake;
  boost::asio::io_context io{1};
  boost::asio::any_io_executor strand = boost::asio::make_strand(io);
  net::HttpClient http;
  Registry registry;
  size_t handlers = 0;  // handlers the loop ran (Asio's count)
};

LlmRequest request() {
  LlmRequest r;
  r.messages = {{"system", "You book tables at a restaurant. Be brief.", {}, ""},
                {"user", "A table for two at seven, please.", {}, ""}};
  return r;
}

// One streamed completion; false on error.
bool complete(Loopback &loop, Llm &llm, size_t *text_calls = nullptr) {
  bool done = false, failed = false;
  size_t calls = 0;
  LlmCallbacks callbacks;
  callbacks.on_text = [&](std::string_view) { ++calls; };
  callbacks.on_done = [&](LlmResult) {
    done = true;
    loop.io.stop();
  };
  callbacks.on_error = [&](ProviderError e) {
    std::fprintf(stderr, "error: %s\n", e.message.c_str());
    failed = true;
    loop.io.stop();
  };
  auto handle = llm.stream(request(), std::move(callbacks));
  loop.run_until([&] { return done || failed; });
  if (text_calls) *text_calls = calls;
  return done;
}

// Times one whole stream per iteration, after one untimed stream that opens the connection;
// reports the engine's CPU, deltas and loop handlers per stream. False when a stream failed.
bool time_streams(benchmark::State &state, Loopback &loop, Llm &llm) {
  complete(loop, llm);  // connect once, outside the timing
  loop.handlers = 0;
  CpuMeter meter;
  size_t deltas = 0;
  for (auto _ : state) {
    size_t calls = 0;
    if (!complete(loop, llm, &calls)) {
      state.SkipWithError("stream failed");
      return false;
    }
    deltas += calls;
  }
  meter.report(state);
  state.counters["deltas"] = benchmark::Counter(static_cast<double>(deltas), benchmark::Counter::kAvgIterations);
  state.counters["handlers"] = benchmark::Counter(static_cast<double>(loop.handlers), benchmark::Counter::kAvgIterations);
  return true;
}

// A 1,000-token stream. The fake writes each SSE event as its own HTTP chunk in its own
// write; `pace` > 0 spaces them as a model does (each token then arrives alone: one socket
// wake per token, the engine's worst case), 0 writes them back to back.
void loopback_stream(benchmark::State &state, std::chrono::milliseconds pace) {
  Loopback loop;
  fakes::ChatReply reply;
  reply.pieces = tokens(1000);
  loop.fake.set_reply(reply);
  loop.fake.set_token_interval(pace);
  auto llm = loop.llm();
  if (!time_streams(state, loop, *llm)) return;
  state.counters["connections"] = static_cast<double>(loop.fake.server().connections_accepted());
}

void BM_Loopback_1000TokenStream(benchmark::State &state) { loopback_stream(state, 0ms); }
BENCHMARK(BM_Loopback_1000TokenStream)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_Loopback_1000TokenStream_Paced1ms(benchmark::State &state) { loopback_stream(state, 1ms); }
BENCHMARK(BM_Loopback_1000TokenStream_Paced1ms)->Unit(benchmark::kMillisecond)->Iterations(5);

// The same 1,000-event response through HttpClient alone (no decoding, no delivery): the
// transport's share of BM_Loopback_1000TokenStream.
void BM_Loopback_1000TokenTransportOnly(benchmark::State &state) {
  Loopback loop;
  fakes::ChatReply reply;
  reply.pieces = tokens(1000);
  loop.fake.set_reply(reply);
  openai::ChatOptions options;
  options.model = "gpt-4o-mini";
  const std::string body = openai::chat_request_body(request(), options);
  size_t chunks = 0;
  auto fetch = [&] {
    net::HttpRequest r;
    r.method = "POST";
    r.url = loop.fake.base_url() + "/chat/completions";
    r.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer sk-bench-0000000000000000"}};
    r.body = body;
    bool complete = false;
    size_t bytes = 0;
    net::HttpCallbacks callbacks;
    callbacks.on_body = [&](std::string_view chunk) {
      bytes += chunk.size();
      ++chunks;
    };
    callbacks.on_complete = [&](const net::HttpResult &) {
      complete = true;
      loop.io.stop();
    };
    auto call = loop.http.start(std::move(r), std::move(callbacks), loop.strand);
    loop.run_until([&] { return complete; });
    return bytes;
  };
  fetch();
  chunks = 0;
  loop.handlers = 0;
  CpuMeter meter;
  for (auto _ : state) benchmark::DoNotOptimize(fetch());
  meter.report(state);
  state.counters["body_callbacks"] = benchmark::Counter(static_cast<double>(chunks), benchmark::Counter::kAvgIterations);
  state.counters["handlers"] = benchmark::Counter(static_cast<double>(loop.handlers), benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_Loopback_1000TokenTransportOnly)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_Loopback_RequestOverhead(benchmark::State &state) {
  Loopback loop;
  loop.fake.set_reply("Hi");
  auto llm = loop.llm();
  complete(loop, *llm);
  CpuMeter meter;
  for (auto _ : state) {
    if (!complete(loop, *llm)) {
      state.SkipWithError("request failed");
      return;
    }
  }
  meter.report(state);
  state.counters["connections"] = static_cast<double>(loop.fake.server().connections_accepted());
}
BENCHMARK(BM_Loopback_RequestOverhead)->Unit(benchmark::kMicrosecond)->MinTime(2.0);

// A server that answers every request with the recorded 1,000-token stream (recorded_stream:
// OpenAI's exact chunk format), each SSE event one HTTP chunk as the fake sends them, but
// written in `write_size` pieces (0 = the whole response in one write) or one event per
// write `pace` apart. Unlike the fake it costs next to nothing per event, so what the engine
// sees is set by these two knobs rather than by how busy the machine is. Blocking sockets,
// a thread per connection.
class ReplayServer {
 public:
  ReplayServer(size_t write_size, std::chrono::microseconds pace)
      : write_size_(write_size), pace_(pace),
        acceptor_(io_, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    const std::string stream = recorded_stream(1000);
    response_ = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (const auto event : feeds(stream, 0)) {
      char size[16];
      std::snprintf(size, sizeof size, "%zx\r\n", event.size());
      events_.push_back(size + std::string(event) + "\r\n");
    }
    events_.push_back("0\r\n\r\n");
    for (const auto &event : events_) response_ += event;
    thread_ = std::thread([this] { accept_loop(); });
  }
  ~ReplayServer() {
    stopping_ = true;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    {
      std::lock_guard lock(mutex_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    thread_.join();
    for (auto &t : connections_) t.join();
  }
  std::string base_url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/v1";
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  void accept_loop() {
    while (!stopping_) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec) return;
      socket.set_option(boost::asio::ip::tcp::no_delay(true), ec);
      std::lock_guard lock(mutex_);
      fds_.push_back(socket.native_handle());
      connections_.emplace_back([this, s = std::move(socket)]() mutable { serve(s); });
    }
  }

  void serve(boost::asio::ip::tcp::socket &socket) {
    std::string in;
    char buffer[16384];
    boost::system::error_code ec;
    while (!stopping_) {
      // One request: the head, then Content-Length bytes.
      size_t head_end;
      while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
        const size_t n = socket.read_some(boost::asio::buffer(buffer), ec);
        if (ec) return;
        in.append(buffer, n);
      }
      size_t length = 0;
      if (const auto at = in.find("Content-Length: "); at != std::string::npos && at < head_end) {
        length = std::strtoul(in.c_str() + at + 16, nullptr, 10);
      }
      while (in.size() < head_end + 4 + length) {
        const size_t n = socket.read_some(boost::asio::buffer(buffer), ec);
        if (ec) return;
        in.append(buffer, n);
      }
      in.erase(0, head_end + 4 + length);
      if (pace_.count() > 0) {
        boost::asio::write(socket, boost::asio::buffer(response_.data(), response_.find("\r\n\r\n") + 4), ec);
        for (const auto &event : events_) {
          std::this_thread::sleep_for(pace_);
          boost::asio::write(socket, boost::asio::buffer(event), ec);
          if (ec) return;
        }
        continue;
      }
      const size_t step = write_size_ == 0 ? response_.size() : write_size_;
      for (size_t at = 0; at < response_.size() && !ec; at += step) {
        boost::asio::write(socket, boost::asio::buffer(response_.data() + at, std::min(step, response_.size() - at)), ec);
      }
      if (ec) return;
    }
  }

  size_t write_size_;
  std::chrono::microseconds pace_;
  std::string response_;
  std::vector<std::string> events_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<int> fds_;
  std::list<std::thread> connections_;
};

// The 1,000-token stream from the replay server: range(0) = write size (0 = all at once),
// range(1) = pace in microseconds between events (0 = none).
void BM_Replay_1000TokenStream(benchmark::State &state) {
  ReplayServer server(static_cast<size_t>(state.range(0)), std::chrono::microseconds(state.range(1)));
  Loopback loop;
  auto llm = loop.llm(server.base_url());
  time_streams(state, loop, *llm);
}
BENCHMARK(BM_Replay_1000TokenStream)->ArgNames({"write", "pace_us"})->Args({0, 0})->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_Replay_1000TokenStream)->ArgNames({"write", "pace_us"})->Args({0, 1000})->Unit(benchmark::kMillisecond)->Iterations(5);

// The floor under the paced case: the same paced bytes read by a bare epoll + recv loop (no
// curl, no Asio, no parsing) - what one wake per token costs on this machine by itself.
void BM_Replay_Paced_BareSocketFloor(benchmark::State &state) {
  ReplayServer server(0, std::chrono::microseconds(state.range(0)));
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(server.port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address);
  const int epoll = ::epoll_create1(0);
  epoll_event watch{};
  watch.events = EPOLLIN | EPOLLOUT | EPOLLET;
  ::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &watch);
  epoll_event ready{};
  ::epoll_wait(epoll, &ready, 1, 5000);  // connected
  const std::string request = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
  CpuMeter meter;
  size_t wakes = 0;
  for (auto _ : state) {
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
      state.SkipWithError("send failed");
      break;
    }
    char buffer[16384];
    std::string tail;
    bool end = false;
    while (!end) {
      if (::epoll_wait(epoll, &ready, 1, 5000) <= 0) {
        state.SkipWithError("no data");
        break;
      }
      ++wakes;
      for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        tail.append(buffer, static_cast<size_t>(n));
        if (tail.size() > 16) tail.erase(0, tail.size() - 16);
        end = tail.ends_with("\r\n0\r\n\r\n");
      }
    }
  }
  meter.report(state);
  state.counters["wakes"] = benchmark::Counter(static_cast<double>(wakes), benchmark::Counter::kAvgIterations);
  ::close(epoll);
  ::close(fd);
}
BENCHMARK(BM_Replay_Paced_BareSocketFloor)->ArgNames({"pace_us"})->Arg(1000)->Unit(benchmark::kMillisecond)->Iterations(5);

void BM_Loopback_500Concurrent(benchmark::State &state) {
  constexpr size_t kStreams = 500;
  for (auto _ : state) {
    // The client's default connection caps (HttpClient::Options): every stream gets its own
    // connection to the one (HTTP/1.1) host at once; the old default of 64 per host queued
    // 436 of the 500 behind the others (8.8 s instead of about 1 s).
    Loopback loop;
    fakes::ChatReply reply;
    reply.pieces = tokens(40);
    loop.fake.set_reply(reply);
    loop.fake.set_token_interval(25ms);  // each stream lasts ~1 s: all 500 overlap
    auto llm = loop.llm();
    const size_t before = thread_count();
    size_t done = 0, failed = 0, during = 0, peak_active = 0;
    std::vector<std::unique_ptr<Cancellable>> handles;
    const auto started = std::chrono::steady_clock::now();
    for (size_t i = 0; i < kStreams; ++i) {
      LlmCallbacks callbacks;
      callbacks.on_done = [&](LlmResult) { ++done; };
      callbacks.on_error = [&](ProviderError e) {
        if (failed++ == 0) std::fprintf(stderr, "first error: %s\n", e.message.c_str());
      };
      handles.push_back(llm->stream(request(), std::move(callbacks)));
    }
    // Sampled every 10 ms, so the measuring does not weigh on the CPU figure.
    auto next_sample = std::chrono::steady_clock::now();
    loop.poll_until([&] {
      if (std::chrono::steady_clock::now() >= next_sample) {
        next_sample += 10ms;
        peak_active = std::max(peak_active, loop.http.active());
        if (loop.fake.server().open_connections() >= kStreams) during = std::max(during, thread_count());
      }
      return done + failed == kStreams;
    }, 60s);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    handles.clear();
    loop.poll_until([] { return false; }, 50ms);
    const size_t after = thread_count();
    std::printf("500 concurrent streams: threads before %zu, during %zu (all 500 connections open), after %zu; "
                "%zu done, %zu failed, peak active transfers %zu, %.2f s\n",
                before, during, after, done, failed, peak_active, seconds);
    state.counters["threads_before"] = static_cast<double>(before);
    state.counters["threads_during"] = static_cast<double>(during);
    state.counters["threads_after"] = static_cast<double>(after);
    state.counters["done"] = static_cast<double>(done);
    state.counters["peak_active"] = static_cast<double>(peak_active);
  }
}
BENCHMARK(BM_Loopback_500Concurrent)->Unit(benchmark::kMillisecond)->Iterations(1);

#endif  // PARLEY_BENCH_WITH_FAKES

}  // namespace

BENCHMARK_MAIN();
