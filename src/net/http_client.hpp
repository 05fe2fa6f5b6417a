// An HTTP client on one libcurl multi handle, driven by Asio: curl's sockets are watched by
// the io_context (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION), so no request ever has a thread
// of its own and nothing blocks an IO thread. Connections are reused across requests;
// TLS verification is on unless a request turns it off.
//
// Responses stream: the head, then body bytes as they arrive, then completion. Every
// callback runs on the executor given with the request, in that order, and never inside
// start() or cancel(): the client hands them over from its own loop handlers (a socket
// became ready, a timer fired), dispatching - so when that handler already runs on the
// executor's thread and the executor is free, the callback runs there and then, without a
// second trip through the queue; otherwise it is queued as a post would queue it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace parley::net {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// The first header named `name` (case-insensitive), or "".
std::string_view find_header(const HttpHeaders &headers, std::string_view name);

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HttpHeaders headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{5'000};
  /// From the start of the request to the first response byte (a model's think time counts).
  std::chrono::milliseconds first_byte_timeout{30'000};
  /// Longest silence between two body chunks once the response started.
  std::chrono::milliseconds idle_timeout{30'000};
  /// Whole request; 0 = none.
  std::chrono::milliseconds total_timeout{0};
  bool verify_tls = true;
  std::string ca_file;  // PEM bundle instead of the system's
};

enum class HttpFailure {
  none,
  connect,      // refused, unreachable, DNS
  tls,          // handshake or certificate verification
  timeout_connect,
  timeout_first_byte,
  timeout_idle,
  timeout_total,
  cut,          // the peer closed mid-response (partial body, bad chunked framing)
  cancelled,
  other,
};

const char *http_failure_name(HttpFailure failure) noexcept;

struct HttpResponseHead {
  int status = 0;
  HttpHeaders headers;
};

struct HttpResult {
  HttpFailure failure = HttpFailure::none;  // none: the response was received in full
  std::string message;                      // curl's words for a failure; no URL query, no key
  int status = 0;                           // 0 when no head arrived
  std::chrono::microseconds elapsed{0};
  std::chrono::microseconds time_to_first_byte{0};
};

struct HttpCallbacks {
  std::function<void(const HttpResponseHead &head)> on_head;  // once, before any body
  /// Body bytes as curl hands them over (for a chunked response, one call per HTTP chunk,
  /// or per part of one that the network split), valid during the call.
  std::function<void(std::string_view chunk)> on_body;
  std::function<void(const HttpResult &result)> on_complete;  // exactly once unless cancelled
};

class HttpCall {
 public:
  virtual ~HttpCall() = default;
  /// Aborts the transfer; no callback runs after this returns when called on the request's
  /// executor. Idempotent; safe from any thread.
  virtual void cancel() = 0;
  /// Lets the transfer run to its end with no more callbacks (the owner saw all it needed,
  /// e.g. [DONE]), so the connection goes back to the pool; destroying the handle afterwards
  /// does not cancel it. Call on the request's executor.
  virtual void detach() = 0;
};

class HttpClient {
 public:
  struct Options {
    /// A streaming request holds its connection for the whole stream, and an HTTP/1.1 host
    /// (vLLM, llama.cpp, Ollama, every plain-http server) needs one per concurrent stream:
    /// past the cap, requests wait for a free connection. (HTTP/2 hosts multiplex up to
    /// 100 streams per connection.) Sized for hundreds of calls on one provider.
    size_t max_connections_per_host = 1024;
    size_t max_total_connections = 4096;
  };

  /// Runs curl on `io` (one IO loop of the runtime). Destroy the client on that loop's
  /// thread or once the loop has stopped: in-flight requests end without callbacks.
  HttpClient(boost::asio::io_context &io, Options options);
  explicit HttpClient(boost::asio::io_context &io);
  ~HttpClient();
  HttpClient(const HttpClient &) = delete;
  HttpClient &operator=(const HttpClient &) = delete;

  /// Starts a request; callbacks run on `executor`, which must run handlers one at a time (a
  /// strand or a one-thread io_context) so they arrive in order. None runs before this
  /// returns. Safe from any thread. The call is cancelled when the returned handle is
  /// destroyed.
  std::unique_ptr<HttpCall> start(HttpRequest request, HttpCallbacks callbacks,
                                  boost::asio::any_io_executor executor);

  /// Requests in flight (for tests and the flat-thread-count benchmark).
  size_t active() const noexcept;

  struct Impl;  // opaque; public only so the call handle can name it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace parley::net
