// Benchmarks of the OpenAI-compatible LLM adapter (never run by ctest).
//
// Recorded bytes (no network): a realistic 1,000-token stream in the byte-exact format of
// openai-compatible.md §3 (role chunk, one chunk per token with "usage":null, finish chunk,
// usage chunk, [DONE]) fed through the adapter's parsing path, ChatStreamDecoder:
//   BM_Decode_*         throughput (bytes/s) and time per 1,000-token stream: SSE framing +
//                       chunk JSON (simdjson DOM) + delivery of each delta to a handler that
//                       appends it, as the pipeline's sink would
//   BM_SseFramingOnly   net::SseParser over the same bytes, for comparison (framing only)
// Loopback against the fake OpenAI server (tests/fakes/; it runs on its own thread, so the
// "CPU" column - this thread's CPU time - is the engine's: libcurl, the adapter, delivery):
//   BM_Loopback_1000TokenStream   a whole streamed completion of 1,000 tokens
//   BM_Loopback_1000TokenTransportOnly  the same bytes through HttpClient alone (the transport)
//   BM_Loopback_RequestOverhead   a one-token completion, connection reused: per-request cost
//   BM_Loopback_500Concurrent     500 streams at once; prints /proc/self/task before/during/after
#include <benchmark/benchmark.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
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

// The adapter over loopback: io_context run by this thread (curl and the adapter), the fake
// on its own thread.
struct Loopback {
  explicit Loopback(net::HttpClient::Options options = {}) : http(io, options) {
    register_openai(registry);
    fake.set_api_key("sk-bench-0000000000000000");
  }

  std::unique_ptr<Llm> llm() {
    ProviderContext context;
    context.executor = io.get_executor();
    context.workers = io.get_executor();
    context.http = &http;
    return registry.make_llm(nlohmann::json{{"provider", "openai"},
                              {"base_url", fake.base_url()},
                              {"api_key", "sk-bench-0000000000000000"},
                              {"model", "gpt-4o-mini"},
                              {"max_retries", 0}},
                             context);
  }

  template <typename Done>
  bool run_until(Done done, std::chrono::milliseconds timeout = 30s) {
    auto guard = boost::asio::make_work_guard(io);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_one_for(10ms);
    }
    return done();
  }

  fakes::OpenAiFake fake;
  boost::asio::io_context io;
  net::HttpClient http;
  Registry registry;
};

LlmRequest request() {
  LlmRequest r;
  r.messages = {{"system", "You book tables at a restaurant. Be brief.", {}, ""},
                {"user", "A table for two at seven, please.", {}, ""}};
  return r;
}

// One streamed completion; false on error.
bool complete(Loopback &loop, Llm &llm, size_t *text_bytes = nullptr) {
  bool done = false, failed = false;
  size_t bytes = 0;
  LlmCallbacks callbacks;
  callbacks.on_text = [&](std::string_view t) { bytes += t.size(); };
  callbacks.on_done = [&](LlmResult) { done = true; };
  callbacks.on_error = [&](ProviderError e) {
    std::fprintf(stderr, "error: %s\n", e.message.c_str());
    failed = true;
  };
  auto handle = llm.stream(request(), std::move(callbacks));
  loop.run_until([&] { return done || failed; });
  if (text_bytes) *text_bytes = bytes;
  return done;
}

void BM_Loopback_1000TokenStream(benchmark::State &state) {
  Loopback loop;
  fakes::ChatReply reply;
  reply.pieces = tokens(1000);
  loop.fake.set_reply(reply);
  auto llm = loop.llm();
  complete(loop, *llm);  // connect once, outside the timing
  for (auto _ : state) {
    if (!complete(loop, *llm)) {
      state.SkipWithError("stream failed");
      return;
    }
  }
  state.counters["connections"] = static_cast<double>(loop.fake.server().connections_accepted());
}
BENCHMARK(BM_Loopback_1000TokenStream)->Unit(benchmark::kMillisecond)->MinTime(2.0);

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
  auto fetch = [&] {
    net::HttpRequest r;
    r.method = "POST";
    r.url = loop.fake.base_url() + "/chat/completions";
    r.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer sk-bench-0000000000000000"}};
    r.body = body;
    bool complete = false;
    size_t bytes = 0;
    net::HttpCallbacks callbacks;
    callbacks.on_body = [&](std::string_view chunk) { bytes += chunk.size(); };
    callbacks.on_complete = [&](const net::HttpResult &) { complete = true; };
    auto call = loop.http.start(std::move(r), std::move(callbacks), loop.io.get_executor());
    loop.run_until([&] { return complete; });
    return bytes;
  };
  fetch();
  for (auto _ : state) benchmark::DoNotOptimize(fetch());
}
BENCHMARK(BM_Loopback_1000TokenTransportOnly)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_Loopback_RequestOverhead(benchmark::State &state) {
  Loopback loop;
  loop.fake.set_reply("Hi");
  auto llm = loop.llm();
  complete(loop, *llm);
  for (auto _ : state) {
    if (!complete(loop, *llm)) {
      state.SkipWithError("request failed");
      return;
    }
  }
  state.counters["connections"] = static_cast<double>(loop.fake.server().connections_accepted());
}
BENCHMARK(BM_Loopback_RequestOverhead)->Unit(benchmark::kMicrosecond)->MinTime(2.0);

void BM_Loopback_500Concurrent(benchmark::State &state) {
  constexpr size_t kStreams = 500;
  for (auto _ : state) {
    // curl's default per-host cap (64 in HttpClient::Options) would queue most of them.
    Loopback loop(net::HttpClient::Options{kStreams + 16, 2 * kStreams});
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
    loop.run_until([&] {
      if (std::chrono::steady_clock::now() >= next_sample) {
        next_sample += 10ms;
        peak_active = std::max(peak_active, loop.http.active());
        if (loop.fake.server().open_connections() >= kStreams) during = std::max(during, thread_count());
      }
      return done + failed == kStreams;
    }, 60s);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    handles.clear();
    loop.run_until([] { return false; }, 50ms);
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
