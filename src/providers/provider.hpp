// What every provider (LLM, TTS, STT) shares: the typed error it reports, the context it is
// built with, and the handle that cancels a stream.
//
// Threading contract, for every provider kind:
// - A provider is built per session and used from one executor, `ProviderContext::executor`
//   (the session's strand). Its methods are called on that executor.
// - Every callback runs on that executor, never inline inside the call that caused it, never
//   on a worker or a libcurl thread.
// - After `cancel()` (or the stream's destruction) returns, no callback of that stream runs.
// - Blocking work (espeak-ng, pocketsphinx) runs on `ProviderContext::workers`.
// - A provider outlives the streams it started.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <string>

namespace parley::core {
class Logger;
}
namespace parley::net {
class HttpClient;
}

namespace parley::providers {

enum class ErrorKind {
  auth,          // 401/403: bad or missing key
  rate_limited,  // 429 after the retries
  bad_request,   // other 4xx: the request itself is wrong
  server,        // 5xx after the retries
  timeout,       // connect, first byte or idle timeout
  network,       // refused, reset, DNS, a stream cut short
  tls,           // certificate verification failed
  protocol,      // malformed SSE, invalid JSON, unexpected message
  cancelled,
  internal,
};

/// Short stable name of a kind ("rate_limited"), for events and logs.
const char *error_kind_name(ErrorKind kind) noexcept;

/// A provider failure as the host sees it in an error event. `message` carries the
/// provider's own words (its error body) and never an API key.
struct ProviderError {
  ErrorKind kind = ErrorKind::internal;
  std::string provider;     // "openai", "elevenlabs", ...
  std::string message;
  int http_status = 0;      // 0 when not an HTTP answer
  bool fatal = true;        // false: the stream goes on (an STT reconnect in progress, say)
  std::chrono::milliseconds retry_after{0};

  /// {"kind":"rate_limited","provider":"openai","message":"...","http_status":429,...}
  std::string to_json() const;
};

/// What a factory needs to build a provider for one session.
struct ProviderContext {
  boost::asio::any_io_executor executor;  // the session's strand: callbacks run here
  boost::asio::any_io_executor workers;   // the runtime's bounded worker pool
  net::HttpClient *http = nullptr;        // the runtime's libcurl multi, driven by Asio
  core::Logger *logger = nullptr;         // may be null in tests
  std::string call_id;                    // for log lines
};

/// A running request (an LLM completion, a TTS utterance, an STT stream) that can be stopped.
class Cancellable {
 public:
  virtual ~Cancellable() = default;
  /// Stops the request; no callback runs after this returns. Call on the provider's
  /// executor. Idempotent.
  virtual void cancel() = 0;
};

}  // namespace parley::providers
