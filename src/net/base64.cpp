#include "net/base64.hpp"

#include <array>

namespace parley::net {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint8_t kInvalid = 0xFF;

constexpr std::array<uint8_t, 256> make_decode_table() {
  std::array<uint8_t, 256> table{};
  for (auto &entry : table) entry = kInvalid;
  for (uint8_t i = 0; i < 64; ++i) table[static_cast<uint8_t>(kAlphabet[i])] = i;
  return table;
}

constexpr auto kDecode = make_decode_table();

}  // namespace

void base64_encode(std::span<const uint8_t> in, std::string &out) {
  const size_t start = out.size();
  out.resize(start + base64_encoded_size(in.size()));
  char *o = out.data() + start;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = kAlphabet[v & 63];
  }
  if (const size_t rest = in.size() - i; rest > 0) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (rest == 2 ? uint32_t{in[i + 1]} << 8 : 0);
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    *o++ = '=';
  }
}

std::optional<size_t> base64_decode(std::string_view in, std::span<uint8_t> out) noexcept {
  if (in.size() % 4 != 0 || out.size() < base64_max_decoded_size(in.size())) return std::nullopt;
  size_t padding = 0;
  if (!in.empty() && in.back() == '=') padding = (in.size() >= 2 && in[in.size() - 2] == '=') ? 2 : 1;
  const size_t full_groups = in.size() / 4 - (padding > 0 ? 1 : 0);
  size_t written = 0;
  const auto *p = reinterpret_cast<const uint8_t *>(in.data());
  for (size_t g = 0; g < full_groups; ++g, p += 4) {
    const uint8_t a = kDecode[p[0]], b = kDecode[p[1]], c = kDecode[p[2]], d = kDecode[p[3]];
    if ((a | b | c | d) & 0xC0) return std::nullopt;  // kInvalid has the top bits set
    const uint32_t v = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c} << 6) | d;
    out[written++] = static_cast<uint8_t>(v >> 16);
    out[written++] = static_cast<uint8_t>(v >> 8);
    out[written++] = static_cast<uint8_t>(v);
  }
  if (padding > 0) {
    const uint8_t a = kDecode[p[0]], b = kDecode[p[1]];
    const uint8_t c = padding == 1 ? kDecode[p[2]] : 0;
    if ((a | b | c) & 0xC0) return std::nullopt;
    const uint32_t v = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c} << 6);
    // Bits past the last byte must be zero, or two encodings would decode the same.
    if ((padding == 2 && (v & 0xFFFF)) || (padding == 1 && (v & 0xFF))) return std::nullopt;
    out[written++] = static_cast<uint8_t>(v >> 16);
    if (padding == 1) out[written++] = static_cast<uint8_t>(v >> 8);
  }
  return written;
}

}  // namespace parley::net
