// The WebSocket client, after Boost.Beast's websocket client examples (async, and async-ssl):
// resolve → connect → [TLS handshake with SNI and host verification] → upgrade → read loop.
// The connection lives on its own strand; the handler's callbacks are posted to the
// executor the user gave, guarded so that none runs after abort().
#include "net/websocket_client.hpp"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <optional>

#include "common/error.hpp"

namespace parley::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct Endpoint {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;  // path and query
};

Endpoint parse_ws_url(const std::string &url) {
  Endpoint e;
  std::string_view rest = url;
  if (rest.rfind("wss://", 0) == 0) {
    e.tls = true;
    rest.remove_prefix(6);
  } else if (rest.rfind("ws://", 0) == 0) {
    rest.remove_prefix(5);
  } else {
    throw Error(Status::invalid_argument, "websocket url must start with ws:// or wss://: " + url);
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  e.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.empty()) throw Error(Status::invalid_argument, "websocket url has no host: " + url);
  std::string_view port;
  if (authority.front() == '[') {  // [v6-address]:port
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) throw Error(Status::invalid_argument, "websocket url: bad IPv6 host: " + url);
    e.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    e.host = std::string(authority.substr(0, colon));
    port = authority.substr(colon + 1);
  } else {
    e.host = std::string(authority);
  }
  e.port = port.empty() ? (e.tls ? "443" : "80") : std::string(port);
  if (e.host.empty() || e.port.empty()) throw Error(Status::invalid_argument, "websocket url: bad host or port: " + url);
  return e;
}

using PlainStream = websocket::stream<beast::tcp_stream>;
using TlsStream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

template <typename Stream>
class Client final : public WebSocketClient, public std::enable_shared_from_this<Client<Stream>> {
 public:
  Client(asio::io_context &io, WebSocketClientOptions options, Endpoint endpoint,
         std::shared_ptr<Handler> handler, asio::any_io_executor executor,
         std::shared_ptr<asio::ssl::context> tls)
      : options_(std::move(options)),
        endpoint_(std::move(endpoint)),
        strand_(asio::make_strand(io)),
        resolver_(strand_),
        tls_(std::move(tls)),
        ws_(make_stream()),
        handler_(std::move(handler)),
        executor_(std::move(executor)) {}

  void run() {
    resolver_.async_resolve(endpoint_.host, endpoint_.port,
                            [self = this->shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
                              if (ec) return self->fail(0, "cannot resolve " + self->endpoint_.host + ": " + ec.message());
                              self->connect(results);
                            });
  }

  void send_text(std::string message) override { queue(std::move(message), true); }
  void send_binary(std::string message) override { queue(std::move(message), false); }

  void close(uint16_t code, std::string reason) override {
    asio::post(strand_, [self = this->shared_from_this(), code, reason = std::move(reason)]() mutable {
      if (self->ended_ || self->close_requested_) return;
      self->close_requested_ = true;
      self->close_code_ = code;
      self->close_reason_ = std::move(reason);
      if (self->open_ && !self->writing_) self->send_close();
      if (!self->open_) self->shutdown();
    });
  }

  void abort() override {
    aborted_->store(true, std::memory_order_release);
    asio::post(strand_, [self = this->shared_from_this()] { self->shutdown(); });
  }

 private:
  void connect(const tcp::resolver::results_type &results) {
    beast::get_lowest_layer(ws_).expires_after(options_.connect_timeout);
    beast::get_lowest_layer(ws_).async_connect(
        results, [self = this->shared_from_this()](beast::error_code ec, const tcp::endpoint &) {
          if (ec) return self->fail(0, "cannot connect to " + self->endpoint_.host + ":" + self->endpoint_.port + ": " + ec.message());
          self->secure();
        });
  }

  void secure() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      auto &tls = ws_.next_layer();
      if (!SSL_set_tlsext_host_name(tls.native_handle(), endpoint_.host.c_str())) {
        return fail(0, "TLS: cannot set SNI host name");
      }
      tls.set_verify_callback(asio::ssl::host_name_verification(endpoint_.host));
      tls.async_handshake(asio::ssl::stream_base::client, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return self->fail(0, "TLS handshake with " + self->endpoint_.host + " failed: " + ec.message());
        self->upgrade();
      });
    } else {
      upgrade();
    }
  }

  void upgrade() {
    ws_.set_option(websocket::stream_base::decorator([headers = options_.headers](websocket::request_type &req) {
      req.set(http::field::user_agent, "parley");
      for (const auto &[name, value] : headers) req.set(name, value);
    }));
    ws_.read_message_max(options_.max_message_bytes);
    std::string host = endpoint_.host;
    if (endpoint_.port != (endpoint_.tls ? "443" : "80")) host += ":" + endpoint_.port;
    ws_.async_handshake(response_, host, endpoint_.target, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) {
        // Only a declined upgrade carries a real response; on other failures Beast's
        // placeholder status means nothing.
        const int status = static_cast<int>(self->response_.result_int());
        if (ec == websocket::error::upgrade_declined && status != 0 && status != 101) {
          std::string body = self->response_.body();
          if (body.size() > 4096) body.resize(4096);
          return self->fail(0, body.empty() ? "upgrade refused" : body, status);
        }
        return self->fail(0, "WebSocket upgrade failed: " + ec.message());
      }
      self->on_open();
    });
  }

  void on_open() {
    beast::get_lowest_layer(ws_).expires_never();
    const auto idle = options_.idle_timeout.count() > 0 ? options_.idle_timeout
                                                        : websocket::stream_base::none();
    ws_.set_option(websocket::stream_base::timeout{options_.connect_timeout, idle, false});
    open_ = true;
    notify([](Handler &h) { h.on_open(); });
    read_next();
    if (!writes_.empty()) {
      write_next();
    } else if (close_requested_) {
      send_close();
    }
  }

  void queue(std::string message, bool text) {
    asio::post(strand_, [self = this->shared_from_this(), message = std::move(message), text]() mutable {
      if (self->ended_ || self->close_requested_) return;
      if (self->queued_bytes_ + message.size() > self->options_.max_send_queue_bytes) {
        return self->fail(0, "send queue over " + std::to_string(self->options_.max_send_queue_bytes) + " bytes: the server is not reading");
      }
      self->queued_bytes_ += message.size();
      self->writes_.push_back({std::move(message), text});
      if (self->open_ && !self->writing_) self->write_next();
    });
  }

  void write_next() {
    writing_ = true;
    ws_.text(writes_.front().text);
    ws_.async_write(asio::buffer(writes_.front().data), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      self->writing_ = false;
      if (self->ended_) return self->writes_.clear();
      if (ec) return self->fail(0, "write failed: " + ec.message());
      self->queued_bytes_ -= self->writes_.front().data.size();
      self->writes_.pop_front();
      if (!self->writes_.empty()) return self->write_next();
      if (self->close_requested_) self->send_close();
    });
  }

  void send_close() {
    ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(close_code_), close_reason_),
                    [self = this->shared_from_this()](beast::error_code) {
                      // The read loop sees the server's close frame and ends the connection.
                    });
  }

  void read_next() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ended_) return;
    if (ec) {
      if (ec == websocket::error::closed) {
        const auto &reason = ws_.reason();
        return end(reason.code, std::string(reason.reason.data(), reason.reason.size()), 0);
      }
      if (ec == beast::error::timeout) {
        return fail(0, "idle timeout: nothing received for " + std::to_string(options_.idle_timeout.count()) + " ms");
      }
      if (ec == websocket::error::message_too_big) {
        return fail(0, "message over the " + std::to_string(options_.max_message_bytes) + "-byte limit");
      }
      return fail(0, "connection lost: " + ec.message());
    }
    const auto data = buffer_.cdata();
    std::string message(static_cast<const char *>(data.data()), data.size());
    buffer_.consume(buffer_.size());
    if (ws_.got_text()) {
      notify([message = std::move(message)](Handler &h) { h.on_text(message); });
    } else {
      notify([message = std::move(message)](Handler &h) { h.on_binary(message); });
    }
    read_next();
  }

  void fail(int code, std::string reason, int http_status = 0) { end(code, std::move(reason), http_status); shutdown(); }

  void end(int code, std::string reason, int http_status) {
    if (ended_) return;
    ended_ = true;
    if (!writing_) writes_.clear();
    notify([code, reason = std::move(reason), http_status](Handler &h) { h.on_closed(code, reason, http_status); });
    // The handler is released on the executor after on_closed (posted in notify).
    asio::post(executor_, [handler = std::move(handler_)] {});
  }

  void shutdown() {
    if (!ended_) end(0, "aborted", 0);
    resolver_.cancel();
    beast::error_code ignored;
    auto &socket = beast::get_lowest_layer(ws_).socket();
    if (socket.is_open()) {
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
    }
  }

  template <typename Fn>
  void notify(Fn &&fn) {
    if (!handler_) return;
    asio::post(executor_, [handler = handler_, aborted = aborted_, fn = std::forward<Fn>(fn)]() mutable {
      if (!aborted->load(std::memory_order_acquire)) fn(*handler);
    });
  }

  struct Outgoing {
    std::string data;
    bool text;
  };

  Stream make_stream() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      return Stream(strand_, *tls_);
    } else {
      return Stream(strand_);
    }
  }

  WebSocketClientOptions options_;
  Endpoint endpoint_;
  asio::strand<asio::io_context::executor_type> strand_;
  tcp::resolver resolver_;
  std::shared_ptr<asio::ssl::context> tls_;  // outlives ws_, which refers to it
  Stream ws_;
  std::shared_ptr<Handler> handler_;
  asio::any_io_executor executor_;
  std::shared_ptr<std::atomic<bool>> aborted_ = std::make_shared<std::atomic<bool>>(false);
  websocket::response_type response_;
  beast::flat_buffer buffer_;
  std::deque<Outgoing> writes_;
  size_t queued_bytes_ = 0;
  bool open_ = false;
  bool writing_ = false;
  bool ended_ = false;
  bool close_requested_ = false;
  uint16_t close_code_ = 1000;
  std::string close_reason_;
};

std::shared_ptr<asio::ssl::context> make_client_tls(const WebSocketClientOptions &options) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1);
  beast::error_code ec;
  if (!options.ca_file.empty()) {
    context->load_verify_file(options.ca_file, ec);
    if (ec) throw Error(Status::config, "tls: cannot load CA file '" + options.ca_file + "': " + ec.message());
  } else {
    context->set_default_verify_paths(ec);
  }
  context->set_verify_mode(options.verify_tls ? asio::ssl::verify_peer : asio::ssl::verify_none);
  return context;
}

}  // namespace

std::shared_ptr<WebSocketClient> WebSocketClient::connect(asio::io_context &io, WebSocketClientOptions options,
                                                          std::shared_ptr<Handler> handler,
                                                          asio::any_io_executor executor) {
  Endpoint endpoint = parse_ws_url(options.url);
  if (endpoint.tls) {
    auto tls = make_client_tls(options);
    auto client = std::make_shared<Client<TlsStream>>(io, std::move(options), std::move(endpoint), std::move(handler),
                                                      std::move(executor), std::move(tls));
    client->run();
    return client;
  }
  auto client = std::make_shared<Client<PlainStream>>(io, std::move(options), std::move(endpoint), std::move(handler),
                                                      std::move(executor), nullptr);
  client->run();
  return client;
}

}  // namespace parley::net
