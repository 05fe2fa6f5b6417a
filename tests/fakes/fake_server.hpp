// FakeServer: a loopback HTTP/1.1 + WebSocket server, plain or TLS, on which the protocol
// fakes (openai_fake.hpp, elevenlabs_fake.hpp, deepgram_fake.hpp, azure_fake.hpp) are built.
//
// It runs its own io_context thread. Handlers run on that thread, one at a time; every
// public method here is safe from any thread. Responses are written byte by byte by this
// server (not by a serializer), so faults can cut a body mid-chunk, inject garbage, or
// pause between chunks exactly where a test wants. Beast and Asio stay inside
// fake_server.cpp: this header and the protocol fakes see only std types.
//
// Scripting: a FIFO of Faults. Each request (an HTTP request or a WebSocket upgrade)
// consumes the first queued fault whose path_prefix matches its path, if any.
// Recording: every request is kept (method, target, headers, body, and for WebSockets the
// messages both ways) for assertions.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::fakes {

using Ms = std::chrono::milliseconds;
using Headers = std::vector<std::pair<std::string, std::string>>;

/// The first header named `name` (case-insensitive), or "".
std::string header_value(const Headers &headers, std::string_view name);
/// Percent-decoding with '+' as space (application/x-www-form-urlencoded and URL queries).
std::string url_decode(std::string_view text);
/// "a=1&b=x%20y&a=2" -> {{"a","1"},{"b","x y"},{"a","2"}}.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

struct WsMessage {
  bool binary = false;
  std::string data;
};

/// One request as received. For a WebSocket, `received` and `sent` grow while it is open
/// (requests() returns a snapshot).
struct Request {
  uint64_t id = 0;          // 1, 2, ... in arrival order
  uint64_t connection = 0;  // 1, 2, ... per accepted TCP connection: equal ids = reused connection
  std::string method;
  std::string target;  // path and query as sent
  std::string path;    // without the query
  std::string query;   // after '?', still encoded
  Headers headers;
  std::string body;  // de-chunked
  bool websocket = false;
  int response_status = 0;          // what the fake answered (101 for an accepted upgrade; 0: none yet)
  std::vector<WsMessage> received;  // client -> server messages
  std::vector<WsMessage> sent;      // server -> client messages
  bool ws_closed = false;           // the WebSocket has ended
  uint16_t ws_client_close_code = 0;  // close code the client sent (0: none)

  std::string header(std::string_view name) const { return header_value(headers, name); }
  /// The first query parameter `name`, decoded; nullopt when absent.
  std::optional<std::string> query_param(std::string_view name) const;
  /// Every value of a repeated query parameter (keyterm=a&keyterm=b).
  std::vector<std::string> query_params(std::string_view name) const;
};

/// When a delayed response head (Fault::head_delay) went out, against when it was due: the
/// fake's own lateness (its timer and its thread's turn on a core), which a benchmark timing
/// a client through the fake must not count as the client's.
struct HeadTiming {
  uint64_t request_id = 0;  ///< Request::id
  std::string path;
  std::string body_start;  ///< the request body's first 256 bytes (to tell requests apart)
  std::chrono::steady_clock::time_point read_at;  ///< the request was read
  std::chrono::steady_clock::time_point head_at;  ///< the head's write began
  Ms delay{0};                                    ///< the scripted head_delay
  std::chrono::microseconds late() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(head_at - read_at - delay);
  }
};

/// An HTTP response. The body goes out as `chunks`, each one HTTP chunk when `chunked`
/// (Transfer-Encoding: chunked) with `interval` between them; otherwise with
/// Content-Length and the chunks written back to back.
struct Response {
  int status = 200;
  Headers headers;  // Content-Type goes here; framing headers are added by the server
  std::vector<std::string> chunks;
  bool chunked = false;
  Ms interval{0};

  static Response json(int status, std::string body, Headers headers = {});
  static Response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  static Response empty(int status);
  std::string body() const;  // all chunks joined
};

/// One scripted misbehaviour (see FakeServer::push_fault and the shorthands below).
struct Fault {
  enum class WsEnd { none, close, drop };

  std::string path_prefix;  // only a request whose path starts with this ("" = any)

  // HTTP (and WebSocket upgrades).
  int status = 0;                   // > 0: answer with this status and the provider's error body
  std::string message;              // message inside that body ("" = the provider's default)
  std::optional<std::string> body;  // the whole error body verbatim instead
  Headers headers;                  // added to whatever response goes out (e.g. x-ratelimit-*)
  Ms head_delay{0};                 // the response head (or the 101) this long after the request was read
  std::optional<Ms> interval;       // pause between body chunks / WebSocket messages
  std::optional<size_t> cut_after;  // HTTP: drop the TCP connection after this many body bytes
  bool hang = false;                // read the request, then never answer (socket held open)
  std::optional<size_t> inject_at;  // insert `inject` before body chunk / server message #inject_at
  std::string inject;               // (0-based; past the end = after the last one)

  // WebSocket, once upgraded: end the connection after `ws_after_sent` server messages, or
  // when set after `ws_after_received` client messages.
  WsEnd ws_end = WsEnd::none;
  size_t ws_after_sent = 0;
  std::optional<size_t> ws_after_received;
  uint16_t ws_close_code = 1011;
  std::string ws_close_reason;
};

/// What the server gives a WebSocket handler: a connection whose methods are safe from any
/// thread (they are queued to the server's thread). Messages are written in order.
class WsSession {
 public:
  virtual ~WsSession() = default;
  virtual void send_text(std::string message) = 0;
  virtual void send_binary(std::string message) = 0;
  /// Close frame after the queued messages, then wait for the client's.
  virtual void close(uint16_t code, std::string reason = {}) = 0;
  /// Drop the TCP connection now, without a close frame.
  virtual void drop() = 0;
  /// Run `fn` on the server thread after `delay`, unless cancelled or the session ended.
  virtual uint64_t schedule(Ms delay, std::function<void()> fn) = 0;
  virtual void cancel(uint64_t timer) = 0;
  /// Pause between server messages from now on (a Fault's interval overrides it).
  virtual void set_interval(Ms interval) = 0;
  /// A snapshot of the upgrade request (and the messages so far).
  virtual Request request() const = 0;
  virtual bool open() const = 0;
};

/// Callbacks of one WebSocket connection, on the server thread.
class WsHandler {
 public:
  virtual ~WsHandler() = default;
  virtual void on_open(const std::shared_ptr<WsSession> &session) = 0;
  virtual void on_text(std::string_view message) = 0;
  virtual void on_binary(std::string_view message) = 0;
  /// Once, however it ended; `code` is the client's close code (0 when it sent none).
  virtual void on_closed(uint16_t code) { (void)code; }
};

/// The answer to an upgrade request: a handler accepts it, no handler refuses it with
/// `refusal` (e.g. 401 and the provider's error body).
struct WsAccept {
  std::shared_ptr<WsHandler> handler;
  Response refusal;
  Headers headers;  // extra headers on the 101
};

using HttpHandler = std::function<Response(const Request &)>;
using WsRoute = std::function<WsAccept(const Request &)>;
/// The provider's error response for `status` (message "" = its default for that status).
using ErrorBody = std::function<Response(int status, const std::string &message, const Request &)>;

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0 = a free port
  bool tls = false;   // HTTPS / WSS with a certificate from a test CA (ca_file())
};

class FakeServer {
 public:
  explicit FakeServer(ServerOptions options = {});
  ~FakeServer();
  FakeServer(const FakeServer &) = delete;
  FakeServer &operator=(const FakeServer &) = delete;

  uint16_t port() const noexcept;
  bool tls() const noexcept;
  std::string http_url() const;  // "http://127.0.0.1:PORT" (https with TLS)
  std::string ws_url() const;    // "ws://127.0.0.1:PORT" (wss with TLS)
  /// PEM file of the CA that signed the server certificate (for the client's ca_file);
  /// "" without TLS. The certificate is for 127.0.0.1 and localhost.
  std::string ca_file() const;

  // Routes: the longest matching path prefix wins; method "*" matches any method.
  void route(std::string method, std::string path_prefix, HttpHandler handler);
  void websocket(std::string path_prefix, WsRoute route);
  void set_error_body(ErrorBody error_body);

  // Faults.
  void push_fault(Fault fault, size_t count = 1);
  /// The next `count` requests get `status` with the provider's error body plus `headers`.
  void fail_next(int status, Headers headers = {}, size_t count = 1);
  void delay_next_head(Ms delay, size_t count = 1);
  void delay_next_chunks(Ms interval, size_t count = 1);
  void cut_next_after(size_t body_bytes, size_t count = 1);
  void hang_next(size_t count = 1);
  void inject_next(size_t at_chunk, std::string bytes);
  void ws_close_next_after(size_t sent_messages, uint16_t code, std::string reason);
  void ws_drop_next_after(size_t sent_messages);
  void clear_faults();
  size_t pending_faults() const;

  // Observation.
  std::vector<Request> requests() const;
  /// The latest request whose path starts with `path_prefix`.
  std::optional<Request> last_request(std::string_view path_prefix = "") const;
  size_t request_count() const;
  /// Waits until at least `count` requests arrived; false on timeout.
  bool wait_for_requests(size_t count, Ms timeout = Ms(5000)) const;
  /// Waits until `pred(requests())` holds (checked on every change); false on timeout.
  bool wait_until(const std::function<bool(const std::vector<Request> &)> &pred, Ms timeout = Ms(5000)) const;
  void clear_requests();
  /// Every delayed head so far, in the order they went out; kept with recording off too
  /// (the first 1,000,000).
  std::vector<HeadTiming> head_timings() const;
  /// Keep requests for requests() and friends (default). Benchmarks turn it off so a long
  /// run does not grow; request_count() still counts.
  void set_recording(bool on);
  size_t connections_accepted() const noexcept;
  size_t open_connections() const;
  /// The WebSockets open now, oldest first. A session is listed (and its request's
  /// response_status is 101) once the server has completed the upgrade, which may be just
  /// after the client saw the 101: wait_until() for it.
  std::vector<std::shared_ptr<WsSession>> ws_sessions() const;
  /// Drops every open connection (a server restart, as a client sees it).
  void drop_all_connections();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace parley::fakes
