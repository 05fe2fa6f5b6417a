// A WebSocket server (Boost.Beast), plain or TLS, that hands each accepted connection to a
// transport through a small type-erased interface, so Beast's templates live in one
// translation unit (net/websocket_server.cpp).
//
// Each connection runs on the executor of the io_context it was accepted onto, and every
// io_context given to the server (the acceptor's and each one PickContext returns) must be
// run by exactly one thread: that alone serialises a connection's handlers, with no strand
// (the runtime's IO loops are built so; docs/sessions.md says why). Reads are continuous;
// the handler's callbacks run on that executor. Writes are queued (one in flight, as Beast requires); the queue is
// bounded in bytes, and a peer that stops reading is disconnected when it overflows, so
// memory stays bounded whatever the peer does.
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

struct WebSocketServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: pick a free port (see WebSocketServer::port())
  std::string path = "/";
  std::string tls_certificate_file;  // PEM; both files set = TLS
  std::string tls_private_key_file;
  size_t max_message_bytes = 256 * 1024;
  size_t max_send_queue_bytes = 1024 * 1024;
  /// From the TCP accept to the 101 response (TLS handshake and upgrade request included),
  /// and for the closing handshake.
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds idle_timeout{30'000};
  int backlog = 1024;
  /// SO_SNDBUF for accepted sockets (0: the kernel's default). Smaller means a peer that
  /// stops reading is noticed sooner, with less audio stuck in kernel buffers.
  int socket_send_buffer_bytes = 0;
};

struct UpgradeRequest {
  std::string target;  // path and query as requested
  std::string remote_address;
  std::vector<std::pair<std::string, std::string>> headers;
  /// The first header named `name` (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

/// What to do with an upgrade request: 101 accepts, anything else is sent as that status.
struct UpgradeDecision {
  int status = 101;
  std::string reason;
};

class WebSocketConnection {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void on_text(std::string_view message) = 0;
    virtual void on_binary(std::string_view message) = 0;
    /// Called once when the connection is gone, whoever ended it, with a readable reason.
    virtual void on_closed(std::string_view reason) = 0;
  };

  virtual ~WebSocketConnection() = default;
  /// The executor the connection runs on, which serialises its handlers: its IO loop's own
  /// (the server's io_contexts each have one thread). A session shares it.
  virtual const boost::asio::any_io_executor &executor() const noexcept = 0;
  /// Starts the read loop. Call on executor().
  virtual void start(std::shared_ptr<Handler> handler) = 0;
  /// Queues a text message. Call on executor(). Over the send-queue bound the peer is
  /// disconnected (on_closed says so) and the message is dropped.
  virtual void send_text(std::string message) = 0;
  /// The same, copying `message` into a buffer the connection reuses: a transport that
  /// builds each message in a buffer of its own then allocates nothing per message.
  virtual void send_text_copy(std::string_view message) { send_text(std::string(message)); }
  /// Queues a binary message, in order with text ones, under the same bound. Call on executor().
  virtual void send_binary(std::string message) = 0;
  /// Sends a close frame once queued messages are written, then waits for the peer's.
  virtual void close(uint16_t code, std::string reason) = 0;
  /// Drops the TCP connection now.
  virtual void abort(std::string reason) = 0;
  virtual size_t queued_bytes() const noexcept = 0;
};

class WebSocketServer {
 public:
  using Decide = std::function<UpgradeDecision(const UpgradeRequest &)>;
  using Accept = std::function<void(std::shared_ptr<WebSocketConnection>, const UpgradeRequest &)>;
  using Log = std::function<void(int level, const std::string &message)>;  // core::LogLevel values
  /// Chooses the io_context an accepted connection runs on (default: the acceptor's). Each
  /// must be run by one thread.
  using PickContext = std::function<boost::asio::io_context &()>;

  /// Throws Error(io) when the address cannot be bound, Error(config) for bad TLS files.
  WebSocketServer(boost::asio::io_context &io, WebSocketServerOptions options, Decide decide, Accept accept, Log log,
                  PickContext pick_context = {});
  ~WebSocketServer();
  WebSocketServer(const WebSocketServer &) = delete;
  WebSocketServer &operator=(const WebSocketServer &) = delete;

  /// The bound port (the real one when options.port was 0).
  uint16_t port() const noexcept;
  bool tls() const noexcept;
  /// Stops accepting new connections; established ones carry on.
  void stop_accepting();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace parley::net
