// The only translation unit that instantiates Beast's server-side WebSocket templates.
// Structure after Beast's example/websocket/server/async and advanced_server_flex.
#include "net/websocket_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <algorithm>
#include <future>
#include <optional>

#include "common/error.hpp"

namespace parley::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// A connection's handlers run on its IO loop's own executor, not on a strand. Every
// io_context a server hands connections to is run by one thread (the contract in
// websocket_server.hpp; the runtime has one thread per loop), which serialises them already.
// A strand would add a queue, a lock and an invoker to every completion on the frame path:
// a tenth of the echo server's CPU under load (docs/sessions.md).
using LoopExecutor = asio::io_context::executor_type;
// A bare socket under the WebSocket stream, not beast::basic_stream: basic_stream's timeout
// bookkeeping and shared state on every read and write cost another tenth. The connection
// bounds its opening handshake with a timer of its own (on_handshake_deadline).
using Socket = tcp::socket::rebind_executor<LoopExecutor>::other;
using LoopTimer = asio::basic_waitable_timer<Clock, asio::wait_traits<Clock>, LoopExecutor>;

// A spent outgoing buffer keeps its capacity for the next message, unless a rare large
// message grew it past this (so an idle call does not keep a large buffer).
constexpr size_t kMaxReusedWriteBuffer = 16 * 1024;

constexpr int kDebug = 1, kInfo = 2, kWarn = 3;
constexpr size_t kMaxUpgradeHeaderBytes = 16 * 1024;

struct Shared {
  WebSocketServerOptions options;
  WebSocketServer::Decide decide;
  WebSocketServer::Accept accept;
  WebSocketServer::Log log;
  WebSocketServer::PickContext pick_context;
  std::optional<asio::ssl::context> tls;
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string path_of(std::string_view target) { return std::string(target.substr(0, target.find('?'))); }

template <typename Stream>
class Connection final : public WebSocketConnection, public std::enable_shared_from_this<Connection<Stream>> {
 public:
  template <typename... StreamArgs>
  Connection(std::shared_ptr<Shared> shared, Socket &&socket, StreamArgs &&...args)
      : shared_(std::move(shared)),
        executor_(socket.get_executor()),
        ws_(std::move(socket), std::forward<StreamArgs>(args)...),
        timer_(beast::get_lowest_layer(ws_).get_executor()) {
    beast::error_code ec;
    const auto endpoint = beast::get_lowest_layer(ws_).remote_endpoint(ec);
    request_.remote_address = ec ? "unknown" : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  }

  void run() {
    arm_handshake_deadline();
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<Socket>>) {
      ws_.next_layer().async_handshake(asio::ssl::stream_base::server,
          [self = this->shared_from_this()](beast::error_code ec) {
            if (ec) return self->drop("TLS handshake failed: " + ec.message());
            self->read_upgrade_request();
          });
    } else {
      read_upgrade_request();
    }
  }

  const asio::any_io_executor &executor() const noexcept override { return executor_; }

  void start(std::shared_ptr<Handler> handler) override {
    handler_ = std::move(handler);
    read_next();
    arm_idle_timer();
  }

  void send_text(std::string message) override { queue(std::move(message), true); }
  void send_text_copy(std::string_view message) override { queue(message, true); }
  void send_binary(std::string message) override { queue(std::move(message), false); }

  void close(uint16_t code, std::string reason) override {
    if (closed_ || close_requested_) return;
    close_requested_ = true;
    close_code_ = code;
    close_reason_ = std::move(reason);
    if (!writing_) send_close();
  }

  void abort(std::string reason) override {
    if (closed_) return;
    close_socket();
    finish(std::move(reason));
  }

  size_t queued_bytes() const noexcept override { return queued_bytes_; }

 private:
  void read_upgrade_request() {
    parser_.emplace();
    parser_->header_limit(kMaxUpgradeHeaderBytes);
    parser_->body_limit(0);
    http::async_read(ws_.next_layer(), http_buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_upgrade_request(ec); });
  }

  void on_upgrade_request(beast::error_code ec) {
    if (ec) return drop("no upgrade request: " + ec.message());
    const auto &req = parser_->get();
    request_.target = std::string(req.target());
    for (const auto &field : req) request_.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    if (path_of(request_.target) != shared_->options.path) {
      return refuse(http::status::not_found, "no WebSocket endpoint at " + path_of(request_.target));
    }
    if (!websocket::is_upgrade(req)) return refuse(http::status::upgrade_required, "expected a WebSocket upgrade");
    const UpgradeDecision decision = shared_->decide(request_);
    if (decision.status != 101) return refuse(static_cast<http::status>(decision.status), decision.reason);
    // Beast's idle timeout re-arms its timer on every read (a cancel, a completion and a new
    // wait per message); this connection keeps its own (see arm_idle_timer). Beast times
    // the 101 response and the closing handshake.
    ws_.set_option(websocket::stream_base::timeout{shared_->options.handshake_timeout, websocket::stream_base::none(), false});
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type &res) {
      res.set(http::field::server, "parley");
    }));
    ws_.read_message_max(shared_->options.max_message_bytes);
    ws_.async_accept(req, [self = this->shared_from_this()](beast::error_code accept_ec) {
      if (accept_ec) return self->drop("WebSocket handshake failed: " + accept_ec.message());
      self->upgraded_ = true;
      self->timer_.cancel();  // the handshake deadline; start() arms the idle timeout
      self->shared_->accept(self, self->request_);
    });
  }

  void refuse(http::status status, std::string reason) {
    shared_->log(kInfo, "refused upgrade from " + request_.remote_address + " for " + request_.target + ": " +
                            std::to_string(static_cast<int>(status)) + " " + reason);
    auto response = std::make_shared<http::response<http::string_body>>(status, 11);
    response->set(http::field::server, "parley");
    response->set(http::field::content_type, "text/plain");
    response->set(http::field::connection, "close");
    response->body() = reason + "\n";
    response->prepare_payload();
    http::async_write(ws_.next_layer(), *response,
                      [self = this->shared_from_this(), response](beast::error_code, size_t) {
                        beast::error_code ignored;
                        beast::get_lowest_layer(self->ws_).shutdown(tcp::socket::shutdown_both, ignored);
                        self->closed_ = true;
                        self->timer_.cancel();
                      });
  }

  // A connection that never became a WebSocket: nothing to tell a handler.
  void drop(const std::string &why) {
    if (closed_) return;
    shared_->log(kDebug, "connection from " + request_.remote_address + " dropped: " + why);
    closed_ = true;
    timer_.cancel();
  }

  // The TLS handshake, the upgrade request and the 101 response must all be done within
  // handshake_timeout of the TCP accept; a peer that connects and stalls is dropped then.
  void arm_handshake_deadline() {
    timer_.expires_after(shared_->options.handshake_timeout);
    timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) { self->on_handshake_deadline(ec); });
  }

  void on_handshake_deadline(beast::error_code ec) {
    if (ec || upgraded_ || closed_) return;
    drop("no WebSocket upgrade within " + std::to_string(shared_->options.handshake_timeout.count()) + " ms");
    close_socket();  // the pending read or handshake ends, aborted
  }

  void close_socket() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close(ignored);
  }

  void read_next() {
    last_read_start_ = Clock::now();
    ws_.async_read(read_buffer_, [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) return finish(describe(ec));
    if (closed_) return;
    const auto data = read_buffer_.cdata();
    const std::string_view message(static_cast<const char *>(data.data()), data.size());
    if (ws_.got_text()) {
      handler_->on_text(message);
    } else {
      handler_->on_binary(message);
    }
    read_buffer_.consume(read_buffer_.size());
    if (!closed_) read_next();
  }

  // The idle timeout, as Beast's was: nothing received for idle_timeout since the last read
  // was started. One wait per idle_timeout per connection instead of one per message: when
  // the timer fires early (data came meanwhile) it is re-armed for the new deadline.
  void arm_idle_timer() {
    if (shared_->options.idle_timeout.count() <= 0) return;
    timer_.expires_at(last_read_start_ + shared_->options.idle_timeout);
    timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) { self->on_idle_timer(ec); });
  }

  void on_idle_timer(beast::error_code ec) {
    if (ec || closed_ || close_sent_) return;  // the close handshake has Beast's own timeout
    if (Clock::now() - last_read_start_ >= shared_->options.idle_timeout) return abort(describe(beast::error::timeout));
    arm_idle_timer();
  }

  // Both overloads check the bound the same way; the view is copied into a reused buffer.
  bool admit(size_t size) {
    if (closed_ || close_requested_) return false;
    if (queued_bytes_ + size > shared_->options.max_send_queue_bytes) {
      abort("peer is not reading: send queue over " + std::to_string(shared_->options.max_send_queue_bytes) + " bytes");
      return false;
    }
    queued_bytes_ += size;
    return true;
  }

  void queue(std::string message, bool text) {
    if (!admit(message.size())) return;
    auto &slot = writes_.push();
    slot.data.swap(message);
    slot.text = text;
    if (!writing_) write_next();
  }

  void queue(std::string_view message, bool text) {
    if (!admit(message.size())) return;
    auto &slot = writes_.push();
    slot.data.assign(message);
    slot.text = text;
    if (!writing_) write_next();
  }

  void write_next() {
    writing_ = true;
    ws_.text(writes_.front().text);
    ws_.async_write(asio::buffer(writes_.front().data), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      self->on_written(ec);
    });
  }

  void on_written(beast::error_code ec) {
    writing_ = false;
    // After finish() the queue is released here, once Beast no longer points into it.
    if (closed_) return release_writes();
    if (ec) return finish(describe(ec));
    queued_bytes_ -= writes_.front().data.size();
    writes_.pop();
    if (closed_) return;
    if (!writes_.empty()) return write_next();
    if (close_requested_) send_close();
  }

  void send_close() {
    close_sent_ = true;
    ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(close_code_), close_reason_),
                    [self = this->shared_from_this()](beast::error_code) {
                      self->finish("closed by server (" + std::to_string(self->close_code_) + " " + self->close_reason_ + ")");
                    });
  }

  std::string describe(beast::error_code ec) const {
    if (ec == websocket::error::closed) {
      const auto &reason = ws_.reason();
      return "peer closed (" + std::to_string(reason.code) + (reason.reason.empty() ? std::string() : " " + std::string(reason.reason.data(), reason.reason.size())) + ")";
    }
    if (ec == beast::error::timeout) return "idle timeout: nothing received for " + std::to_string(shared_->options.idle_timeout.count()) + " ms";
    if (ec == websocket::error::message_too_big) {
      return "message over the " + std::to_string(shared_->options.max_message_bytes) + "-byte limit";
    }
    if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == beast::http::error::end_of_stream) {
      return "connection dropped by peer (" + ec.message() + ")";
    }
    return "connection error: " + ec.message();
  }

  void finish(std::string reason) {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    if (!writing_) release_writes();  // else the buffer in flight must outlive the write
    if (auto handler = std::move(handler_)) handler->on_closed(reason);
  }

  void release_writes() {
    writes_.clear();
    queued_bytes_ = 0;
  }

  struct Outgoing {
    std::string data;
    bool text = true;
  };

  // The write queue: a ring of reused buffers, so queueing a message allocates nothing in
  // steady state (a deque allocates and frees a block every few messages). Slots are held
  // by pointer, so growing the ring never moves the buffer a write in flight points into.
  class WriteRing {
   public:
    bool empty() const noexcept { return count_ == 0; }
    Outgoing &front() { return *slots_[head_]; }
    Outgoing &push() {
      if (count_ == slots_.size()) {
        std::rotate(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(head_), slots_.end());
        head_ = 0;
        slots_.push_back(std::make_unique<Outgoing>());
      }
      return *slots_[(head_ + count_++) % slots_.size()];
    }
    void pop() {
      auto &slot = *slots_[head_];
      if (slot.data.capacity() > kMaxReusedWriteBuffer) {
        std::string().swap(slot.data);
      } else {
        slot.data.clear();
      }
      head_ = (head_ + 1) % slots_.size();
      --count_;
    }
    void clear() {
      slots_.clear();
      head_ = count_ = 0;
    }

   private:
    std::vector<std::unique_ptr<Outgoing>> slots_;
    size_t head_ = 0;
    size_t count_ = 0;
  };

  std::shared_ptr<Shared> shared_;
  asio::any_io_executor executor_;
  websocket::stream<Stream> ws_;
  beast::flat_buffer http_buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  UpgradeRequest request_;
  beast::flat_buffer read_buffer_;
  LoopTimer timer_;  // the handshake deadline, then the idle timeout
  Clock::time_point last_read_start_{};
  WriteRing writes_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool closed_ = false;
  bool upgraded_ = false;  // the 101 response went out
  bool close_requested_ = false;
  bool close_sent_ = false;
  uint16_t close_code_ = 1000;
  std::string close_reason_;
  std::shared_ptr<Handler> handler_;
};

asio::ssl::context make_tls_context(const WebSocketServerOptions &options) {
  asio::ssl::context context(asio::ssl::context::tls_server);
  context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  beast::error_code ec;
  context.use_certificate_chain_file(options.tls_certificate_file, ec);
  if (ec) throw Error(Status::config, "tls: cannot load certificate '" + options.tls_certificate_file + "': " + ec.message());
  context.use_private_key_file(options.tls_private_key_file, asio::ssl::context::pem, ec);
  if (ec) throw Error(Status::config, "tls: cannot load private key '" + options.tls_private_key_file + "': " + ec.message());
  return context;
}

}  // namespace

std::string UpgradeRequest::header(std::string_view name) const {
  for (const auto &[key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

struct WebSocketServer::Impl : std::enable_shared_from_this<WebSocketServer::Impl> {
  Impl(asio::io_context &io_context, std::shared_ptr<Shared> shared_state)
      : io(io_context), shared(std::move(shared_state)), acceptor(asio::make_strand(io_context)) {}

  void listen() {
    beast::error_code ec;
    const auto address = asio::ip::make_address(shared->options.address, ec);
    if (ec) throw Error(Status::config, "listener: '" + shared->options.address + "' is not an IP address");
    const tcp::endpoint endpoint(address, shared->options.port);
    const std::string where = shared->options.address + ":" + std::to_string(shared->options.port);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(shared->options.backlog, ec);
    if (ec) throw Error(Status::io, "listener: cannot listen on " + where + ": " + ec.message());
    port = acceptor.local_endpoint().port();
  }

  void accept_next() {
    asio::io_context &target = shared->pick_context ? shared->pick_context() : io;
    acceptor.async_accept(target.get_executor(), [self = shared_from_this()](beast::error_code ec, Socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (ec) {
        self->shared->log(kWarn, "accept failed: " + ec.message());
      } else {
        socket.set_option(tcp::no_delay(true), ec);
        if (const int size = self->shared->options.socket_send_buffer_bytes; size > 0) {
          socket.set_option(asio::socket_base::send_buffer_size(size), ec);
        }
        self->launch(std::move(socket));
      }
      self->accept_next();
    });
  }

  void launch(Socket socket) {
    if (shared->tls) {
      std::make_shared<Connection<beast::ssl_stream<Socket>>>(shared, std::move(socket), *shared->tls)->run();
    } else {
      std::make_shared<Connection<Socket>>(shared, std::move(socket))->run();
    }
  }

  asio::io_context &io;
  std::shared_ptr<Shared> shared;
  tcp::acceptor acceptor;
  uint16_t port = 0;
};

WebSocketServer::WebSocketServer(asio::io_context &io, WebSocketServerOptions options, Decide decide, Accept accept, Log log,
                                 PickContext pick_context) {
  auto shared = std::make_shared<Shared>();
  const bool want_tls = !options.tls_certificate_file.empty() || !options.tls_private_key_file.empty();
  if (want_tls) {
    if (options.tls_certificate_file.empty() || options.tls_private_key_file.empty()) {
      throw Error(Status::config, "tls: both a certificate file and a private key file are needed");
    }
    shared->tls.emplace(make_tls_context(options));
  }
  shared->options = std::move(options);
  shared->decide = std::move(decide);
  shared->accept = std::move(accept);
  shared->log = std::move(log);
  shared->pick_context = std::move(pick_context);
  impl_ = std::make_shared<Impl>(io, std::move(shared));
  impl_->listen();
  impl_->accept_next();
}

WebSocketServer::~WebSocketServer() { stop_accepting(); }

uint16_t WebSocketServer::port() const noexcept { return impl_->port; }
bool WebSocketServer::tls() const noexcept { return impl_->shared->tls.has_value(); }

void WebSocketServer::stop_accepting() {
  std::promise<void> done;
  auto future = done.get_future();
  asio::dispatch(impl_->acceptor.get_executor(), [impl = impl_, &done] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
    done.set_value();
  });
  if (impl_->io.stopped()) return;  // nobody runs the io_context: the post is dropped with it
  future.wait();
}

}  // namespace parley::net
