// The only translation unit of the fakes that sees Beast. Layout, top to bottom:
//   text helpers, Request/Response       - the plain types of fake_server.hpp
//   Gate                                 - posting to the server thread from any thread, safely
//   FakeServer::Impl                     - routes, faults, records, accept loop, shutdown
//   HttpConn<Stream>                     - one TCP connection: requests in, raw bytes out
//   WsConn<Stream> + SessionProxy        - one upgraded connection, and the handle handlers get
//
// Responses are written as raw bytes (head, chunk framing) rather than through Beast's
// serializer: a fault must be able to stop in the middle of a chunk or insert bytes no
// serializer would produce. Requests are parsed by Beast.
#include "fakes/fake_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "fakes/test_ca.hpp"

namespace parley::fakes {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// ---------------------------------------------------------------------------------------------
// Text helpers and the plain types

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string hex(size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), digits[n & 15]);
    n >>= 4;
  } while (n != 0);
  return out;
}

constexpr size_t kMaxBodyBytes = 64 * 1024 * 1024;
constexpr size_t kMaxHeaderBytes = 64 * 1024;

}  // namespace

std::string header_value(const Headers &headers, std::string_view name) {
  for (const auto &[key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

std::string url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    if (!item.empty()) {
      const size_t eq = item.find('=');
      if (eq == std::string_view::npos) {
        params.emplace_back(url_decode(item), "");
      } else {
        params.emplace_back(url_decode(item.substr(0, eq)), url_decode(item.substr(eq + 1)));
      }
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return params;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  for (auto &[key, value] : parse_query(query)) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::vector<std::string> Request::query_params(std::string_view name) const {
  std::vector<std::string> values;
  for (auto &[key, value] : parse_query(query)) {
    if (key == name) values.push_back(value);
  }
  return values;
}

Response Response::json(int status, std::string body, Headers headers) {
  Response response;
  response.status = status;
  response.headers = std::move(headers);
  response.headers.emplace_back("Content-Type", "application/json");
  if (!body.empty()) response.chunks.push_back(std::move(body));
  return response;
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response response;
  response.status = status;
  response.headers.emplace_back("Content-Type", std::move(content_type));
  if (!body.empty()) response.chunks.push_back(std::move(body));
  return response;
}

Response Response::empty(int status) {
  Response response;
  response.status = status;
  return response;
}

std::string Response::body() const {
  std::string out;
  for (const auto &chunk : chunks) out += chunk;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Gate: posts to the io_context while it exists; a no-op once the server is gone, so a
// session handle kept by a test can never touch a destroyed io_context.

namespace {

class Gate {
 public:
  explicit Gate(asio::io_context &io) : io_(&io) {}
  template <typename Fn>
  void post(Fn &&fn) {
    std::lock_guard lock(mutex_);
    if (io_) asio::post(*io_, std::forward<Fn>(fn));
  }
  void close() {
    std::lock_guard lock(mutex_);
    io_ = nullptr;
  }

 private:
  std::mutex mutex_;
  asio::io_context *io_;
};

// What drop_all_connections() and shutdown need from any connection.
class Conn {
 public:
  virtual ~Conn() = default;
  virtual void kill() = 0;           // on the server thread: drop now
  virtual void shutdown_now() = 0;   // server thread stopped: close, break reference cycles
};

class WsConnBase;

}  // namespace

// ---------------------------------------------------------------------------------------------
// FakeServer::Impl

struct FakeServer::Impl : std::enable_shared_from_this<FakeServer::Impl> {
  struct HttpRoute {
    std::string method, prefix;
    HttpHandler handler;
  };

  ServerOptions options;
  std::unique_ptr<asio::io_context> io = std::make_unique<asio::io_context>(1);
  std::shared_ptr<Gate> gate = std::make_shared<Gate>(*io);
  std::optional<ssl::context> tls;
  std::optional<tcp::acceptor> acceptor;
  uint16_t port = 0;
  std::string ca_file;
  std::thread thread;
  std::atomic<uint64_t> connections{0};

  mutable std::mutex mutex;  // everything below
  mutable std::condition_variable changed;
  std::vector<HttpRoute> http_routes;
  std::vector<std::pair<std::string, WsRoute>> ws_routes;
  ErrorBody error_body;
  std::deque<Fault> faults;
  std::vector<std::shared_ptr<Request>> records;
  uint64_t next_request_id = 1;
  bool recording = true;
  uint64_t dropped_records = 0;  // requests not kept while recording was off
  uint64_t version = 0;  // bumped on every change to records, for wait_until()
  std::vector<HeadTiming> head_timings;
  std::map<uint64_t, std::weak_ptr<Conn>> conns;  // by connection id
  std::map<uint64_t, std::shared_ptr<WsSession>> sessions;  // open WebSockets by request id

  void start();
  void accept_next();
  void shutdown();

  std::shared_ptr<Request> add_record(Request request) {
    auto record = std::make_shared<Request>(std::move(request));
    std::lock_guard lock(mutex);
    record->id = next_request_id++;
    if (recording) {
      records.push_back(record);
    } else {
      ++dropped_records;
    }
    ++version;
    changed.notify_all();
    return record;
  }

  void add_head_timing(HeadTiming timing) {
    std::lock_guard lock(mutex);
    if (head_timings.size() < 1'000'000) head_timings.push_back(std::move(timing));
  }

  // A WebSocket message, kept in its request's record only while recording is on (a
  // benchmark's long streams would otherwise grow without bound).
  void add_ws_message(const std::shared_ptr<Request> &record, WsMessage message, bool received) {
    std::lock_guard lock(mutex);
    if (recording) (received ? record->received : record->sent).push_back(std::move(message));
    ++version;
    changed.notify_all();
  }

  // Applies `update` to a live record under the lock and wakes waiters.
  template <typename Fn>
  void update(const std::shared_ptr<Request> &record, Fn &&fn) {
    std::lock_guard lock(mutex);
    fn(*record);
    ++version;
    changed.notify_all();
  }

  Fault take_fault(const std::string &path) {
    std::lock_guard lock(mutex);
    for (auto it = faults.begin(); it != faults.end(); ++it) {
      if (path.starts_with(it->path_prefix)) {
        Fault fault = std::move(*it);
        faults.erase(it);
        return fault;
      }
    }
    return {};
  }

  Response error_response(int status, const std::string &message, const Request &request) {
    ErrorBody body;
    {
      std::lock_guard lock(mutex);
      body = error_body;
    }
    if (body) return body(status, message, request);
    return Response::json(status, "{\"error\":\"" + (message.empty() ? std::to_string(status) : message) + "\"}");
  }

  // The response for an HTTP request: a scripted status, the route's answer, or 404.
  Response respond(const Request &request, const Fault &fault) {
    Response response;
    if (fault.status > 0) {
      response = error_response(fault.status, fault.message, request);
    } else if (auto handler = find_http_route(request.method, request.path)) {
      try {
        response = handler(request);
      } catch (const std::exception &e) {
        response = error_response(500, std::string("fake handler failed: ") + e.what(), request);
      }
    } else {
      response = error_response(404, "no route for " + request.method + " " + request.path, request);
    }
    if (fault.status > 0 && fault.body) {
      response.chunks = {*fault.body};
      response.chunked = false;
    }
    for (const auto &header : fault.headers) response.headers.push_back(header);
    return response;
  }

  HttpHandler find_http_route(const std::string &method, const std::string &path) {
    std::lock_guard lock(mutex);
    const HttpRoute *best = nullptr;
    for (const auto &route : http_routes) {
      if ((route.method == "*" || route.method == method) && path.starts_with(route.prefix) &&
          (!best || route.prefix.size() > best->prefix.size())) {
        best = &route;
      }
    }
    return best ? best->handler : HttpHandler{};
  }

  WsRoute find_ws_route(const std::string &path) {
    std::lock_guard lock(mutex);
    const std::pair<std::string, WsRoute> *best = nullptr;
    for (const auto &route : ws_routes) {
      if (path.starts_with(route.first) && (!best || route.first.size() > best->first.size())) best = &route;
    }
    return best ? best->second : WsRoute{};
  }

  void register_conn(uint64_t id, std::weak_ptr<Conn> conn) {
    std::lock_guard lock(mutex);
    conns[id] = std::move(conn);
  }
  void unregister_conn(uint64_t id, const Conn *conn) {
    std::lock_guard lock(mutex);
    auto it = conns.find(id);
    // A WebSocket takes over its HTTP connection's id: only the current owner unregisters.
    if (it != conns.end() && (it->second.expired() || it->second.lock().get() == conn)) conns.erase(it);
  }
};

namespace {

using Impl = FakeServer::Impl;

// ---------------------------------------------------------------------------------------------
// WebSocket: the connection, and the thread-safe handle given to handlers and tests.

class WsConnBase : public Conn {
 public:
  virtual void do_send(bool binary, std::string message) = 0;
  virtual void do_close(uint16_t code, std::string reason) = 0;
  virtual void do_schedule(uint64_t id, Ms delay, std::function<void()> fn) = 0;
  virtual void do_cancel(uint64_t id) = 0;
  virtual void do_set_interval(Ms interval) = 0;
};

class SessionProxy final : public WsSession {
 public:
  SessionProxy(std::weak_ptr<WsConnBase> conn, std::shared_ptr<Gate> gate, std::shared_ptr<Impl> server,
               std::shared_ptr<Request> record)
      : conn_(std::move(conn)), gate_(std::move(gate)), server_(std::move(server)), record_(std::move(record)) {}

  void send_text(std::string message) override { send(false, std::move(message)); }
  void send_binary(std::string message) override { send(true, std::move(message)); }
  void close(uint16_t code, std::string reason) override {
    gate_->post([conn = conn_, code, reason = std::move(reason)]() mutable {
      if (auto c = conn.lock()) c->do_close(code, std::move(reason));
    });
  }
  void drop() override {
    gate_->post([conn = conn_] {
      if (auto c = conn.lock()) c->kill();
    });
  }
  uint64_t schedule(Ms delay, std::function<void()> fn) override {
    const uint64_t id = next_timer_.fetch_add(1) + 1;
    gate_->post([conn = conn_, id, delay, fn = std::move(fn)]() mutable {
      if (auto c = conn.lock()) c->do_schedule(id, delay, std::move(fn));
    });
    return id;
  }
  void cancel(uint64_t timer) override {
    gate_->post([conn = conn_, timer] {
      if (auto c = conn.lock()) c->do_cancel(timer);
    });
  }
  void set_interval(Ms interval) override {
    gate_->post([conn = conn_, interval] {
      if (auto c = conn.lock()) c->do_set_interval(interval);
    });
  }
  Request request() const override {
    std::lock_guard lock(server_->mutex);
    return *record_;
  }
  bool open() const override {
    std::lock_guard lock(server_->mutex);
    return !record_->ws_closed;
  }

 private:
  void send(bool binary, std::string message) {
    gate_->post([conn = conn_, binary, message = std::move(message)]() mutable {
      if (auto c = conn.lock()) c->do_send(binary, std::move(message));
    });
  }

  std::weak_ptr<WsConnBase> conn_;
  std::shared_ptr<Gate> gate_;
  std::shared_ptr<Impl> server_;
  std::shared_ptr<Request> record_;
  std::atomic<uint64_t> next_timer_{0};
};

template <typename Stream>
class WsConn final : public WsConnBase, public std::enable_shared_from_this<WsConn<Stream>> {
 public:
  WsConn(Impl *server, std::shared_ptr<Impl> server_ref, uint64_t id, Stream &&stream, std::shared_ptr<Request> record,
         std::shared_ptr<WsHandler> handler, Fault fault)
      : server_(server),
        server_ref_(std::move(server_ref)),
        id_(id),
        ws_(std::move(stream)),
        record_(std::move(record)),
        handler_(std::move(handler)),
        fault_(std::move(fault)),
        pace_(ws_.get_executor()) {
    if (fault_.interval) interval_ = *fault_.interval;
  }
  ~WsConn() override { server_->unregister_conn(id_, this); }

  void accept(http::request<http::string_body> request, Headers extra) {
    upgrade_request_ = std::move(request);
    server_->register_conn(id_, this->shared_from_this());
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(websocket::stream_base::timeout{std::chrono::seconds(30), websocket::stream_base::none(), false});
    ws_.set_option(websocket::stream_base::decorator([extra = std::move(extra)](websocket::response_type &res) {
      res.set(http::field::server, "parley-fake");
      for (const auto &[name, value] : extra) res.insert(name, value);
    }));
    ws_.read_message_max(kMaxBodyBytes);
    auto self = this->shared_from_this();
    ws_.async_accept(upgrade_request_, [self](error_code ec) {
      if (ec) return self->end(0);
      self->on_accepted();
    });
  }

  void do_send(bool binary, std::string message) override {
    if (ended_ || close_queued_) return;
    queue_.push_back({binary, std::move(message)});
    write_next();
  }

  void do_close(uint16_t code, std::string reason) override {
    if (ended_ || close_queued_) return;
    close_queued_ = true;
    close_code_ = code;
    close_reason_ = std::move(reason);
    write_next();
  }

  void do_schedule(uint64_t id, Ms delay, std::function<void()> fn) override {
    if (ended_) return;
    auto timer = std::make_shared<asio::steady_timer>(ws_.get_executor());
    timer->expires_after(delay);
    timers_[id] = timer;
    std::weak_ptr<WsConn> weak = this->shared_from_this();
    timer->async_wait([weak, id, fn = std::move(fn)](error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->ended_) return;
      self->timers_.erase(id);
      fn();
    });
  }

  void do_cancel(uint64_t id) override {
    auto it = timers_.find(id);
    if (it == timers_.end()) return;
    it->second->cancel();
    timers_.erase(it);
  }

  void do_set_interval(Ms interval) override {
    if (!fault_.interval) interval_ = interval;
  }

  void kill() override {
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).socket().close(ignored);
    end(0);
  }

  void shutdown_now() override {
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    timers_.clear();
    handler_.reset();
    proxy_.reset();
  }

 private:
  void on_accepted() {
    proxy_ = std::make_shared<SessionProxy>(this->shared_from_this(), server_->gate, server_ref_, record_);
    server_->update(record_, [&](Request &r) {
      r.response_status = 101;
      server_->sessions[r.id] = proxy_;
    });
    check_fault();  // "close after 0 messages" happens before anything is sent
    if (auto handler = handler_) handler->on_open(proxy_);
    read_next();
  }

  void read_next() {
    auto self = this->shared_from_this();
    ws_.async_read(read_buffer_, [self](error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (ec) {
      const uint16_t code = ec == websocket::error::closed ? static_cast<uint16_t>(ws_.reason().code) : 0;
      return end(code);
    }
    if (ended_) return;
    WsMessage message{!ws_.got_text(), beast::buffers_to_string(read_buffer_.data())};
    read_buffer_.consume(read_buffer_.size());
    server_->add_ws_message(record_, message, true);
    ++received_;
    if (auto handler = handler_) {
      if (message.binary) {
        handler->on_binary(message.data);
      } else {
        handler->on_text(message.data);
      }
    }
    check_fault();
    if (!ended_) read_next();
  }

  // One write in flight (Beast's rule); a close frame only once the queue is empty.
  void write_next() {
    if (writing_ || pacing_ || ended_ || close_sent_) return;
    if (fault_.inject_at && !injected_ && sent_ >= *fault_.inject_at && !fault_done_) {
      injected_ = true;
      queue_.push_front({false, fault_.inject});
    }
    if (queue_.empty()) {
      if (close_queued_) send_close();
      return;
    }
    writing_ = true;
    ws_.text(!queue_.front().binary);
    auto self = this->shared_from_this();
    ws_.async_write(asio::buffer(queue_.front().data), [self](error_code ec, size_t) { self->on_written(ec); });
  }

  void on_written(error_code ec) {
    writing_ = false;
    if (ended_) return;
    if (ec) return end(0);
    WsMessage message = std::move(queue_.front());
    queue_.pop_front();
    server_->add_ws_message(record_, std::move(message), false);
    ++sent_;
    check_fault();
    if (ended_) return;
    if (interval_.count() > 0 && !close_queued_) {
      pacing_ = true;
      pace_.expires_after(interval_);
      auto self = this->shared_from_this();
      pace_.async_wait([self](error_code) {
        self->pacing_ = false;
        self->write_next();
      });
      return;
    }
    write_next();
  }

  void send_close() {
    close_sent_ = true;
    auto self = this->shared_from_this();
    ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(close_code_), close_reason_), [self](error_code ec) {
      if (ec) self->end(0);
      // Otherwise the read loop ends when the client's close frame arrives.
    });
  }

  void check_fault() {
    if (fault_.ws_end == Fault::WsEnd::none || fault_done_ || ended_) return;
    const bool due = fault_.ws_after_received ? received_ >= *fault_.ws_after_received : sent_ >= fault_.ws_after_sent;
    if (!due) return;
    fault_done_ = true;
    if (fault_.ws_end == Fault::WsEnd::drop) return kill();
    // Messages not yet written are discarded (the one being written is Beast's until done).
    queue_.erase(writing_ ? queue_.begin() + 1 : queue_.begin(), queue_.end());
    close_queued_ = true;
    close_code_ = fault_.ws_close_code;
    close_reason_ = fault_.ws_close_reason;
    pacing_ = false;
    pace_.cancel();
    write_next();
  }

  void end(uint16_t client_code) {
    if (ended_) return;
    ended_ = true;
    timers_.clear();
    pace_.cancel();
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    // The handler hears of it before the record says so: a test waiting on the record
    // then sees the handler's reaction too.
    if (auto handler = std::move(handler_)) handler->on_closed(client_code);
    server_->update(record_, [&](Request &r) {
      server_->sessions.erase(r.id);
      r.ws_closed = true;
      r.ws_client_close_code = client_code;
    });
    proxy_.reset();
  }

  Impl *server_;
  std::shared_ptr<Impl> server_ref_;  // for the proxy's request()/open()
  uint64_t id_;
  websocket::stream<Stream> ws_;
  http::request<http::string_body> upgrade_request_;  // Beast reads it during the accept
  std::shared_ptr<Request> record_;
  std::shared_ptr<WsHandler> handler_;
  std::shared_ptr<SessionProxy> proxy_;
  Fault fault_;
  beast::flat_buffer read_buffer_;
  std::deque<WsMessage> queue_;
  asio::steady_timer pace_;
  Ms interval_{0};
  std::map<uint64_t, std::shared_ptr<asio::steady_timer>> timers_;
  size_t sent_ = 0, received_ = 0;
  bool writing_ = false, pacing_ = false, close_queued_ = false, close_sent_ = false, ended_ = false;
  bool fault_done_ = false, injected_ = false;
  uint16_t close_code_ = 1000;
  std::string close_reason_;
};

// ---------------------------------------------------------------------------------------------
// HTTP: one accepted TCP connection, keep-alive, until it upgrades or closes.

template <typename Stream>
class HttpConn final : public Conn, public std::enable_shared_from_this<HttpConn<Stream>> {
 public:
  template <typename... Args>
  HttpConn(Impl *server, uint64_t id, tcp::socket &&socket, Args &&...args)
      : server_(server), id_(id), stream_(std::move(socket), std::forward<Args>(args)...), timer_(stream_.get_executor()) {}
  ~HttpConn() override { server_->unregister_conn(id_, this); }

  void run() {
    server_->register_conn(id_, this->shared_from_this());
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      auto self = this->shared_from_this();
      stream_.async_handshake(ssl::stream_base::server, [self](error_code ec) {
        if (ec) return self->kill();
        self->read_request();
      });
    } else {
      read_request();
    }
  }

  void kill() override {
    if (upgraded_) return;
    timer_.cancel();
    error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

  void shutdown_now() override { kill(); }

 private:
  void read_request() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(kMaxBodyBytes);
    auto self = this->shared_from_this();
    http::async_read_header(stream_, buffer_, *parser_, [self](error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(error_code ec) {
    if (ec) return kill();
    if (iequals(parser_->get()[http::field::expect], "100-continue")) {
      auto continue_line = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
      auto self = this->shared_from_this();
      asio::async_write(stream_, asio::buffer(*continue_line), [self, continue_line](error_code wec, size_t) {
        if (wec) return self->kill();
        self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return on_request();
    auto self = this->shared_from_this();
    http::async_read(stream_, buffer_, *parser_, [self](error_code ec, size_t) {
      if (ec) return self->kill();
      self->on_request();
    });
  }

  void on_request() {
    request_read_at_ = std::chrono::steady_clock::now();
    const auto &req = parser_->get();
    Request request;
    request.connection = id_;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    const size_t q = request.target.find('?');
    request.path = request.target.substr(0, q);
    if (q != std::string::npos) request.query = request.target.substr(q + 1);
    for (const auto &field : req) request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    request.body = req.body();
    request.websocket = websocket::is_upgrade(req);
    keep_alive_ = req.keep_alive();
    record_ = server_->add_record(std::move(request));
    fault_ = server_->take_fault(record_->path);

    if (record_->websocket) {
      if (WsRoute route = server_->find_ws_route(record_->path)) return after_head_delay([this, route] { upgrade(route); });
    }
    if (fault_.hang) return hold();
    Response response = server_->respond(*record_, fault_);
    after_head_delay([this, response = std::move(response)]() mutable { start_response(std::move(response)); });
  }

  // The head goes out `head_delay` after the request was read, however long the handler
  // took to prepare the response (a TTS fake synthesising its audio): a fixed delay is fixed.
  template <typename Fn>
  void after_head_delay(Fn fn) {
    if (fault_.head_delay.count() <= 0) return fn();
    timer_.expires_at(request_read_at_ + fault_.head_delay);
    auto self = this->shared_from_this();
    timer_.async_wait([self, fn = std::move(fn)](error_code ec) mutable {
      if (ec) return;
      const Request &request = *self->record_;
      self->server_->add_head_timing({request.id, request.path, request.body.substr(0, 256), self->request_read_at_,
                                      std::chrono::steady_clock::now(), self->fault_.head_delay});
      fn();
    });
  }

  // "Never answers": the request was read; keep reading (and ignoring) until the client
  // gives up, so the socket stays open exactly as long as the client wants.
  void hold() {
    auto self = this->shared_from_this();
    stream_.async_read_some(asio::buffer(hold_buffer_), [self](error_code ec, size_t) {
      if (ec) return self->kill();
      self->hold();
    });
  }

  void upgrade(const WsRoute &route) {
    if (fault_.hang) return hold();
    keep_alive_ = false;
    if (fault_.status > 0) return start_response(server_->respond(*record_, fault_));
    WsAccept accept;
    try {
      accept = route(*record_);
    } catch (const std::exception &e) {
      accept.refusal = server_->error_response(500, std::string("fake handler failed: ") + e.what(), *record_);
    }
    if (!accept.handler) {
      for (const auto &header : fault_.headers) accept.refusal.headers.push_back(header);
      return start_response(std::move(accept.refusal));
    }
    Headers extra = std::move(accept.headers);
    for (const auto &header : fault_.headers) extra.push_back(header);
    upgraded_ = true;
    auto ws = std::make_shared<WsConn<Stream>>(server_, server_self(), id_, std::move(stream_), record_,
                                               std::move(accept.handler), std::move(fault_));
    ws->accept(parser_->release(), std::move(extra));
  }

  std::shared_ptr<Impl> server_self() { return server_->shared_from_this(); }

  void start_response(Response response) {
    response_ = std::move(response);
    server_->update(record_, [&](Request &r) { r.response_status = response_.status; });
    if (fault_.inject_at) {
      const size_t at = std::min(*fault_.inject_at, response_.chunks.size());
      response_.chunks.insert(response_.chunks.begin() + static_cast<std::ptrdiff_t>(at), fault_.inject);
    }
    // Empty chunks would read as the terminating chunk.
    std::erase_if(response_.chunks, [](const std::string &chunk) { return chunk.empty(); });
    interval_ = fault_.interval.value_or(response_.interval);
    next_chunk_ = 0;
    body_sent_ = 0;
    out_ = head();
    write(false);
  }

  std::string head() const {
    const auto status = static_cast<unsigned>(response_.status);
    std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(http::obsolete_reason(http::int_to_status(status))) + "\r\n";
    for (const auto &[name, value] : response_.headers) out += name + ": " + value + "\r\n";
    if (response_.chunked) {
      out += "Transfer-Encoding: chunked\r\n";
    } else {
      size_t length = 0;
      for (const auto &chunk : response_.chunks) length += chunk.size();
      out += "Content-Length: " + std::to_string(length) + "\r\n";
    }
    if (!keep_alive_) out += "Connection: close\r\n";
    out += "\r\n";
    return out;
  }

  // Writes out_, then: cut, pause, next chunk, or the end.
  void write(bool cut) {
    auto self = this->shared_from_this();
    asio::async_write(stream_, asio::buffer(out_), [self, cut](error_code ec, size_t) {
      if (ec || cut) return self->kill();
      if (self->next_chunk_ > 0 && self->next_chunk_ < self->response_.chunks.size() && self->interval_.count() > 0) {
        self->timer_.expires_after(self->interval_);
        self->timer_.async_wait([self](error_code wec) {
          if (!wec) self->write_chunk();
        });
        return;
      }
      self->write_chunk();
    });
  }

  void write_chunk() {
    if (next_chunk_ == response_.chunks.size()) return write_end();
    const std::string &data = response_.chunks[next_chunk_++];
    size_t take = data.size();
    bool cut = false;
    if (fault_.cut_after && body_sent_ + take >= *fault_.cut_after) {
      take = *fault_.cut_after - body_sent_;
      cut = true;
    }
    body_sent_ += take;
    if (response_.chunked) {
      // A cut chunk announces its full size, as a server dying mid-write would have.
      out_ = hex(data.size()) + "\r\n" + data.substr(0, take) + (take == data.size() ? "\r\n" : "");
    } else {
      out_ = data.substr(0, take);
    }
    write(cut);
  }

  void write_end() {
    if (fault_.cut_after) return kill();  // cut at or past the end: the terminator never comes
    if (!response_.chunked) return done();
    out_ = "0\r\n\r\n";
    auto self = this->shared_from_this();
    asio::async_write(stream_, asio::buffer(out_), [self](error_code ec, size_t) {
      if (ec) return self->kill();
      self->done();
    });
  }

  void done() {
    if (!keep_alive_) return kill();
    fault_ = {};
    read_request();
  }

  Impl *server_;
  uint64_t id_;
  Stream stream_;
  asio::steady_timer timer_;
  std::chrono::steady_clock::time_point request_read_at_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Request> record_;
  Fault fault_;
  Response response_;
  Ms interval_{0};
  size_t next_chunk_ = 0, body_sent_ = 0;
  std::string out_;
  std::array<char, 512> hold_buffer_{};
  bool keep_alive_ = true;
  bool upgraded_ = false;
};

}  // namespace
}  // namespace parley::fakes

// ---------------------------------------------------------------------------------------------
// Impl lifecycle, then FakeServer's methods (thin: lock, queue, copy).

namespace parley::fakes {

void FakeServer::Impl::start() {
  if (options.tls) {
    const TestCertificates &certs = test_certificates();
    tls.emplace(ssl::context::tls_server);
    tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    tls->use_certificate_chain(asio::buffer(certs.cert_pem));
    tls->use_private_key(asio::buffer(certs.key_pem), ssl::context::pem);
    ca_file = certs.ca_file;
  }
  const tcp::endpoint endpoint(asio::ip::make_address(options.address), options.port);
  acceptor.emplace(*io);
  acceptor->open(endpoint.protocol());
  acceptor->set_option(asio::socket_base::reuse_address(true));
  acceptor->bind(endpoint);
  acceptor->listen(asio::socket_base::max_listen_connections);
  port = acceptor->local_endpoint().port();
  accept_next();
  thread = std::thread([this] { io->run(); });
}

void FakeServer::Impl::accept_next() {
  acceptor->async_accept([this](error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
    if (!ec) {
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);  // each SSE event leaves at once
      const uint64_t id = connections.fetch_add(1) + 1;
      if (tls) {
        std::make_shared<HttpConn<beast::ssl_stream<beast::tcp_stream>>>(this, id, std::move(socket), *tls)->run();
      } else {
        std::make_shared<HttpConn<beast::tcp_stream>>(this, id, std::move(socket))->run();
      }
    }
    accept_next();
  });
}

// Stops the thread, then closes every connection and breaks handler <-> session cycles
// while this Impl is still whole, then destroys the io_context (and with it every pending
// handler and the connections they own).
void FakeServer::Impl::shutdown() {
  gate->close();
  io->stop();
  if (thread.joinable()) thread.join();
  std::vector<std::shared_ptr<Conn>> live;
  {
    std::lock_guard lock(mutex);
    for (auto &[id, weak] : conns) {
      if (auto conn = weak.lock()) live.push_back(std::move(conn));
    }
    sessions.clear();
  }
  error_code ignored;
  if (acceptor) acceptor->close(ignored);
  for (auto &conn : live) conn->shutdown_now();
  live.clear();
  io.reset();
  acceptor.reset();
  std::lock_guard lock(mutex);
  for (auto &record : records) record->ws_closed = record->ws_closed || record->websocket;
  changed.notify_all();
}

FakeServer::FakeServer(ServerOptions options) : impl_(std::make_shared<Impl>()) {
  impl_->options = std::move(options);
  impl_->start();
}

FakeServer::~FakeServer() { impl_->shutdown(); }

uint16_t FakeServer::port() const noexcept { return impl_->port; }
bool FakeServer::tls() const noexcept { return impl_->options.tls; }
std::string FakeServer::http_url() const {
  return (tls() ? "https://" : "http://") + impl_->options.address + ":" + std::to_string(port());
}
std::string FakeServer::ws_url() const {
  return (tls() ? "wss://" : "ws://") + impl_->options.address + ":" + std::to_string(port());
}
std::string FakeServer::ca_file() const { return impl_->ca_file; }

void FakeServer::route(std::string method, std::string path_prefix, HttpHandler handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->http_routes.push_back({std::move(method), std::move(path_prefix), std::move(handler)});
}

void FakeServer::websocket(std::string path_prefix, WsRoute route) {
  std::lock_guard lock(impl_->mutex);
  impl_->ws_routes.emplace_back(std::move(path_prefix), std::move(route));
}

void FakeServer::set_error_body(ErrorBody error_body) {
  std::lock_guard lock(impl_->mutex);
  impl_->error_body = std::move(error_body);
}

void FakeServer::push_fault(Fault fault, size_t count) {
  std::lock_guard lock(impl_->mutex);
  for (size_t i = 0; i < count; ++i) impl_->faults.push_back(fault);
}

void FakeServer::fail_next(int status, Headers headers, size_t count) {
  Fault fault;
  fault.status = status;
  fault.headers = std::move(headers);
  push_fault(std::move(fault), count);
}

void FakeServer::delay_next_head(Ms delay, size_t count) {
  Fault fault;
  fault.head_delay = delay;
  push_fault(std::move(fault), count);
}

void FakeServer::delay_next_chunks(Ms interval, size_t count) {
  Fault fault;
  fault.interval = interval;
  push_fault(std::move(fault), count);
}

void FakeServer::cut_next_after(size_t body_bytes, size_t count) {
  Fault fault;
  fault.cut_after = body_bytes;
  push_fault(std::move(fault), count);
}

void FakeServer::hang_next(size_t count) {
  Fault fault;
  fault.hang = true;
  push_fault(std::move(fault), count);
}

void FakeServer::inject_next(size_t at_chunk, std::string bytes) {
  Fault fault;
  fault.inject_at = at_chunk;
  fault.inject = std::move(bytes);
  push_fault(std::move(fault));
}

void FakeServer::ws_close_next_after(size_t sent_messages, uint16_t code, std::string reason) {
  Fault fault;
  fault.ws_end = Fault::WsEnd::close;
  fault.ws_after_sent = sent_messages;
  fault.ws_close_code = code;
  fault.ws_close_reason = std::move(reason);
  push_fault(std::move(fault));
}

void FakeServer::ws_drop_next_after(size_t sent_messages) {
  Fault fault;
  fault.ws_end = Fault::WsEnd::drop;
  fault.ws_after_sent = sent_messages;
  push_fault(std::move(fault));
}

void FakeServer::clear_faults() {
  std::lock_guard lock(impl_->mutex);
  impl_->faults.clear();
}

size_t FakeServer::pending_faults() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->faults.size();
}

std::vector<Request> FakeServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<Request> copy;
  copy.reserve(impl_->records.size());
  for (const auto &record : impl_->records) copy.push_back(*record);
  return copy;
}

std::optional<Request> FakeServer::last_request(std::string_view path_prefix) const {
  std::lock_guard lock(impl_->mutex);
  for (auto it = impl_->records.rbegin(); it != impl_->records.rend(); ++it) {
    if ((*it)->path.starts_with(path_prefix)) return **it;
  }
  return std::nullopt;
}

std::vector<HeadTiming> FakeServer::head_timings() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->head_timings;
}

size_t FakeServer::request_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->records.size() + impl_->dropped_records;
}

void FakeServer::set_recording(bool on) {
  std::lock_guard lock(impl_->mutex);
  impl_->recording = on;
}

bool FakeServer::wait_for_requests(size_t count, Ms timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->records.size() + impl_->dropped_records >= count; });
}

bool FakeServer::wait_until(const std::function<bool(const std::vector<Request> &)> &pred, Ms timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(impl_->mutex);
  while (true) {
    const uint64_t seen = impl_->version;
    std::vector<Request> copy;
    copy.reserve(impl_->records.size());
    for (const auto &record : impl_->records) copy.push_back(*record);
    lock.unlock();
    if (pred(copy)) return true;
    lock.lock();
    if (!impl_->changed.wait_until(lock, deadline, [&] { return impl_->version != seen; })) return false;
  }
}

void FakeServer::clear_requests() {
  std::lock_guard lock(impl_->mutex);
  impl_->records.clear();
  impl_->dropped_records = 0;
  ++impl_->version;
}

size_t FakeServer::connections_accepted() const noexcept { return impl_->connections.load(); }

size_t FakeServer::open_connections() const {
  std::lock_guard lock(impl_->mutex);
  size_t open = 0;
  for (const auto &[id, conn] : impl_->conns) open += conn.expired() ? 0 : 1;
  return open;
}

std::vector<std::shared_ptr<WsSession>> FakeServer::ws_sessions() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<std::shared_ptr<WsSession>> open;
  for (const auto &[id, session] : impl_->sessions) open.push_back(session);
  return open;
}

void FakeServer::drop_all_connections() {
  impl_->gate->post([impl = impl_.get()] {
    std::vector<std::shared_ptr<Conn>> live;
    {
      std::lock_guard lock(impl->mutex);
      for (auto &[id, weak] : impl->conns) {
        if (auto conn = weak.lock()) live.push_back(std::move(conn));
      }
    }
    for (auto &conn : live) conn->kill();
  });
}

}  // namespace parley::fakes
