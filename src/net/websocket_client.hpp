// A WebSocket client (Boost.Beast), ws:// or wss:// with certificate verification, behind
// a small type-erased interface so Beast's templates stay in one translation unit
// (net/websocket_client.cpp). One connection = one strand; the handler's callbacks run on
// the executor given to connect().
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace parley::net {

struct WebSocketClientOptions {
  std::string url;  // ws://host:port/path?query or wss://...
  std::vector<std::pair<std::string, std::string>> headers;  // sent with the upgrade
  std::chrono::milliseconds connect_timeout{5'000};  // TCP + TLS + upgrade
  std::chrono::milliseconds idle_timeout{0};          // no message for this long: closed; 0 = off
  size_t max_message_bytes = 16 * 1024 * 1024;
  size_t max_send_queue_bytes = 4 * 1024 * 1024;
  bool verify_tls = true;
  std::string ca_file;
};

class WebSocketClient {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void on_open() = 0;
    virtual void on_text(std::string_view message) = 0;
    virtual void on_binary(std::string_view message) = 0;
    /// Once, however the connection ended. `code` is the close code the server sent (0 when
    /// it did not send one: a refused connection, a failed upgrade, a cut). `http_status` is
    /// the upgrade's answer when it was not 101 (its body is in `reason`).
    virtual void on_closed(int code, std::string_view reason, int http_status) = 0;
  };

  /// Connects in the background. `handler` is kept until on_closed has run (or abort()).
  /// Callbacks are posted to `executor`.
  static std::shared_ptr<WebSocketClient> connect(boost::asio::io_context &io,
                                                  WebSocketClientOptions options,
                                                  std::shared_ptr<Handler> handler,
                                                  boost::asio::any_io_executor executor);

  virtual ~WebSocketClient() = default;
  /// Queue a message (before on_open they are held and sent once open). Any thread.
  virtual void send_text(std::string message) = 0;
  virtual void send_binary(std::string message) = 0;
  /// Sends a close frame after queued messages; on_closed follows.
  virtual void close(uint16_t code = 1000, std::string reason = {}) = 0;
  /// Drops the connection now; on_closed is not called after this returns on the executor.
  virtual void abort() = 0;
};

}  // namespace parley::net
