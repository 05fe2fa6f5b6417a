#include "raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <random>
#include <stdexcept>

namespace parley::fakes::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string ssl_error_text() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

}  // namespace

uint16_t WsFrame::close_code() const {
  if (opcode != 8 || payload.size() < 2) return 0;
  return static_cast<uint16_t>((static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]));
}

std::string WsFrame::close_reason() const { return opcode == 8 && payload.size() > 2 ? payload.substr(2) : std::string(); }

RawClient::RawClient(uint16_t port, bool tls, const std::string &ca_file) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    throw std::runtime_error("connect() failed: " + std::string(std::strerror(errno)));
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!tls) return;
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  ssl_ctx_ = ctx;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (ca_file.empty()) {
    SSL_CTX_set_default_verify_paths(ctx);
  } else if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    release();
    throw std::runtime_error("cannot load CA file " + ca_file);
  }
  SSL *ssl = SSL_new(ctx);
  ssl_ = ssl;
  SSL_set_fd(ssl, fd_);
  SSL_set_tlsext_host_name(ssl, "localhost");
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
  if (SSL_connect(ssl) != 1) {
    const long verify = SSL_get_verify_result(ssl);
    const std::string reason = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : ssl_error_text();
    release();  // a throwing constructor runs no destructor
    throw std::runtime_error("TLS handshake failed: " + reason);
  }
}

RawClient::~RawClient() { release(); }

void RawClient::release() noexcept {
  if (ssl_) SSL_free(static_cast<SSL *>(ssl_));
  if (ssl_ctx_) SSL_CTX_free(static_cast<SSL_CTX *>(ssl_ctx_));
  if (fd_ >= 0) ::close(fd_);
  ssl_ = ssl_ctx_ = nullptr;
  fd_ = -1;
}

void RawClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const long n = ssl_ ? SSL_write(static_cast<SSL *>(ssl_), bytes.data(), static_cast<int>(bytes.size()))
                        : ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("send failed");
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void RawClient::shutdown_write() {
  if (ssl_) SSL_shutdown(static_cast<SSL *>(ssl_));
  ::shutdown(fd_, SHUT_WR);
}

bool RawClient::fill(Clock::time_point deadline) {
  if (closed_) return false;
  const bool pending = ssl_ && SSL_pending(static_cast<SSL *>(ssl_)) > 0;
  if (!pending) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<long long>(0, left))) <= 0) return false;
  }
  char buf[16384];
  const long n = ssl_ ? SSL_read(static_cast<SSL *>(ssl_), buf, sizeof buf) : ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    if (ssl_ && n < 0 && SSL_get_error(static_cast<SSL *>(ssl_), static_cast<int>(n)) == SSL_ERROR_WANT_READ) return true;
    closed_ = true;
    return false;
  }
  buffer_.append(buf, static_cast<size_t>(n));
  return true;
}

bool RawClient::need(size_t bytes, Clock::time_point deadline) {
  while (buffer_.size() < bytes) {
    if (!fill(deadline)) return false;
  }
  return true;
}

std::string RawClient::read_some(std::chrono::milliseconds timeout) {
  if (buffer_.empty()) fill(Clock::now() + timeout);
  return std::exchange(buffer_, {});
}

std::string RawClient::read_until_closed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (fill(deadline)) {
  }
  return std::exchange(buffer_, {});
}

bool RawClient::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!closed_ && Clock::now() < deadline) {
    fill(deadline);
    buffer_.clear();
  }
  return closed_;
}

std::string RawClient::http_request(std::string_view method, std::string_view target, const Headers &headers, std::string_view body) {
  std::string out = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  bool has_length = false;
  for (const auto &[name, value] : headers) {
    out += name + ": " + value + "\r\n";
    has_length = has_length || lower(name) == "content-length" || lower(name) == "transfer-encoding";
  }
  if (!body.empty() && !has_length) out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "\r\n";
  out += body;
  return out;
}

HttpResponse RawClient::read_response(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  HttpResponse response;
  size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline)) return response;
  }
  response.head = buffer_.substr(0, end + 4);
  buffer_.erase(0, end + 4);
  // Interim 1xx responses (100 Continue) carry no body: read on to the final one.
  response.status = std::atoi(response.head.c_str() + 9);
  if (response.status >= 100 && response.status < 200 && response.status != 101) return read_response(timeout);
  size_t line = response.head.find("\r\n") + 2;
  while (line < response.head.size() - 2) {
    const size_t eol = response.head.find("\r\n", line);
    const std::string field = response.head.substr(line, eol - line);
    const size_t colon = field.find(':');
    std::string value = field.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    response.headers.emplace_back(field.substr(0, colon), value);
    line = eol + 2;
  }
  if (response.status == 101) {
    response.complete = true;
    return response;
  }
  response.chunked = lower(response.header("Transfer-Encoding")) == "chunked";
  if (!response.chunked) {
    const size_t length = std::strtoul(response.header("Content-Length").c_str(), nullptr, 10);
    response.complete = need(length, deadline);
    response.body = response.wire_body = buffer_.substr(0, std::min(length, buffer_.size()));
    buffer_.erase(0, response.body.size());
    return response;
  }
  while (true) {
    size_t eol;
    while ((eol = buffer_.find("\r\n")) == std::string::npos) {
      if (!fill(deadline)) {
        response.wire_body += std::exchange(buffer_, {});
        return response;
      }
    }
    const size_t size = std::strtoul(buffer_.substr(0, eol).c_str(), nullptr, 16);
    if (!need(eol + 2 + size + 2, deadline)) {
      response.wire_body += buffer_;
      if (buffer_.size() > eol + 2) response.body += buffer_.substr(eol + 2, size);
      buffer_.clear();
      return response;
    }
    response.wire_body += buffer_.substr(0, eol + 2 + size + 2);
    if (size == 0) {
      buffer_.erase(0, eol + 4);
      response.complete = true;
      return response;
    }
    response.chunks.push_back(buffer_.substr(eol + 2, size));
    response.body += response.chunks.back();
    buffer_.erase(0, eol + 2 + size + 2);
  }
}

HttpResponse RawClient::request(std::string_view method, std::string_view target, const Headers &headers, std::string_view body) {
  send(http_request(method, target, headers, body));
  return read_response();
}

HttpResponse RawClient::ws_handshake(std::string_view target, const Headers &headers) {
  Headers all = {{"Upgrade", "websocket"},
                 {"Connection", "Upgrade"},
                 {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                 {"Sec-WebSocket-Version", "13"}};
  all.insert(all.end(), headers.begin(), headers.end());
  send(http_request("GET", target, all));
  return read_response();
}

void RawClient::ws_send(int opcode, std::string_view payload) {
  std::string frame;
  frame += static_cast<char>(0x80 | opcode);
  if (payload.size() < 126) {
    frame += static_cast<char>(0x80 | payload.size());
  } else if (payload.size() < 65536) {
    frame += static_cast<char>(0x80 | 126);
    frame += static_cast<char>(payload.size() >> 8);
    frame += static_cast<char>(payload.size() & 0xFF);
  } else {
    frame += static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i) frame += static_cast<char>((payload.size() >> (8 * i)) & 0xFF);
  }
  static std::mt19937 rng(12345);
  char mask[4];
  for (char &m : mask) m = static_cast<char>(rng() & 0xFF);
  frame.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i) frame += static_cast<char>(payload[i] ^ mask[i % 4]);
  send(frame);
}

void RawClient::ws_close(uint16_t code, std::string_view reason) {
  std::string payload;
  payload += static_cast<char>(code >> 8);
  payload += static_cast<char>(code & 0xFF);
  payload += reason;
  ws_send(8, payload);
}

std::optional<WsFrame> RawClient::ws_read(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  WsFrame message;
  bool started = false;
  while (true) {
    if (!need(2, deadline)) return std::nullopt;
    const auto b0 = static_cast<unsigned char>(buffer_[0]);
    const auto b1 = static_cast<unsigned char>(buffer_[1]);
    size_t header = 2;
    uint64_t length = b1 & 0x7F;
    if (length == 126) {
      if (!need(4, deadline)) return std::nullopt;
      length = (static_cast<unsigned char>(buffer_[2]) << 8) | static_cast<unsigned char>(buffer_[3]);
      header = 4;
    } else if (length == 127) {
      if (!need(10, deadline)) return std::nullopt;
      length = 0;
      for (int i = 0; i < 8; ++i) length = (length << 8) | static_cast<unsigned char>(buffer_[2 + i]);
      header = 10;
    }
    if (b1 & 0x80) throw std::runtime_error("server frame is masked");
    if (!need(header + length, deadline)) return std::nullopt;
    const std::string payload = buffer_.substr(header, length);
    buffer_.erase(0, header + length);
    const int opcode = b0 & 0x0F;
    if (opcode == 9) {  // ping: answer, keep reading
      ws_send(10, payload);
      continue;
    }
    if (opcode >= 8) return WsFrame{opcode, payload};
    if (!started) message.opcode = opcode;
    started = true;
    message.payload += payload;
    if (b0 & 0x80) return message;
  }
}

std::vector<WsFrame> RawClient::ws_read_all(std::chrono::milliseconds timeout) {
  std::vector<WsFrame> frames;
  const auto deadline = Clock::now() + timeout;
  while (auto frame = ws_read(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()))) {
    frames.push_back(*frame);
    if (frame->opcode == 8) break;
  }
  return frames;
}

}  // namespace parley::fakes::testing
