// A minimal blocking client for testing the fakes byte by byte: POSIX sockets, optional
// TLS (OpenSSL, verifying against a CA file or the system store), HTTP/1.1 responses
// parsed by hand (so chunk boundaries and cuts are visible), and WebSocket frames
// encoded/decoded by hand (so opcodes and close codes are visible).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fakes/fake_server.hpp"

namespace parley::fakes::testing {

using namespace std::chrono_literals;

struct HttpResponse {
  int status = 0;
  std::string head;  // status line and headers, up to and including the blank line
  Headers headers;
  std::string wire_body;            // body bytes exactly as received (chunk framing included)
  std::string body;                 // de-chunked
  std::vector<std::string> chunks;  // each chunk's data, when chunked
  bool chunked = false;
  bool complete = false;  // the body ended as its framing said (false: cut or timed out)

  std::string header(std::string_view name) const { return header_value(headers, name); }
};

struct WsFrame {
  int opcode = 0;  // 1 text, 2 binary, 8 close, 9 ping, 10 pong
  std::string payload;
  uint16_t close_code() const;     // for close frames (0 if none)
  std::string close_reason() const;
};

class RawClient {
 public:
  /// Connects to 127.0.0.1:port. With `tls`, verifies the server against `ca_file` (the
  /// system store when empty) and throws std::runtime_error naming the failure.
  explicit RawClient(uint16_t port, bool tls = false, const std::string &ca_file = "");
  ~RawClient();
  RawClient(const RawClient &) = delete;
  RawClient &operator=(const RawClient &) = delete;

  void send(std::string_view bytes);
  /// Whatever arrives within `timeout` ("" if nothing); closed() turns true at EOF.
  std::string read_some(std::chrono::milliseconds timeout);
  std::string read_until_closed(std::chrono::milliseconds timeout = 5s);
  bool closed() const noexcept { return closed_; }
  /// Sends FIN (what a WebSocket client does once the close handshake is over).
  void shutdown_write();
  /// True when the peer closes (EOF or reset) within `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout = 5s);

  /// "POST /x HTTP/1.1" with Host and, when there is a body, Content-Length.
  static std::string http_request(std::string_view method, std::string_view target, const Headers &headers = {},
                                  std::string_view body = {});
  /// Reads one response; incomplete when the connection ends or `timeout` passes first.
  HttpResponse read_response(std::chrono::milliseconds timeout = 5s);
  HttpResponse request(std::string_view method, std::string_view target, const Headers &headers = {},
                       std::string_view body = {});

  /// Sends an upgrade request; returns the response (101 on success; body read otherwise).
  HttpResponse ws_handshake(std::string_view target, const Headers &headers = {});
  void ws_send(int opcode, std::string_view payload);
  void ws_text(std::string_view text) { ws_send(1, text); }
  void ws_binary(std::string_view data) { ws_send(2, data); }
  void ws_close(uint16_t code, std::string_view reason = {});
  /// The next data or close frame (pings are answered); nullopt on timeout or EOF.
  std::optional<WsFrame> ws_read(std::chrono::milliseconds timeout = 5s);
  /// Data frames until a close frame (returned last) or EOF/timeout.
  std::vector<WsFrame> ws_read_all(std::chrono::milliseconds timeout = 5s);

 private:
  void release() noexcept;
  bool fill(std::chrono::steady_clock::time_point deadline);  // false: timeout or EOF
  bool need(size_t bytes, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  void *ssl_ctx_ = nullptr;
  void *ssl_ = nullptr;
  std::string buffer_;
  bool closed_ = false;
};

/// A connected client that has completed a WebSocket upgrade (asserts nothing; check .status).
struct WsClient {
  RawClient client;
  HttpResponse upgrade;
  WsClient(uint16_t port, std::string_view target, const Headers &headers = {}) : client(port) {
    upgrade = client.ws_handshake(target, headers);
  }
};

}  // namespace parley::fakes::testing
