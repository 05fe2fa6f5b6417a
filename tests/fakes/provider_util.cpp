#include "fakes/provider_util.hpp"

#include <openssl/evp.h>

#include <cctype>
#include <charconv>
#include <cstdio>
#include <vector>

#include "net/base64.hpp"

namespace parley::fakes::detail {

std::optional<nlohmann::json> parse_json(std::string_view text) {
  auto value = nlohmann::json::parse(text, nullptr, false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

std::string string_field(const nlohmann::json &object, const char *name) {
  if (!object.is_object()) return {};
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool query_bool(const Request &request, std::string_view name, bool fallback) {
  const auto value = request.query_param(name);
  if (!value) return fallback;
  if (*value == "true" || *value == "1") return true;
  if (*value == "false" || *value == "0") return false;
  return fallback;
}

long query_long(const Request &request, std::string_view name, long fallback) {
  const auto value = request.query_param(name);
  if (!value) return fallback;
  long out = 0;
  const auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), out);
  return ec == std::errc() && ptr == value->data() + value->size() ? out : fallback;
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) return false;
  }
  return true;
}

std::vector<std::string> audio_chunks(const std::string &audio, const AudioFormat &format, int ms) {
  const size_t bytes = static_cast<size_t>(format.bytes_per_second()) * static_cast<size_t>(ms > 0 ? ms : 100) / 1000;
  return split_bytes(audio, bytes);
}

std::string base64(std::string_view bytes) {
  std::string out;
  net::base64_encode(std::span(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size()), out);
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  std::string out(net::base64_max_decoded_size(text.size()), '\0');
  const auto size = net::base64_decode(text, std::span(reinterpret_cast<uint8_t *>(out.data()), out.size()));
  if (!size) return std::nullopt;
  out.resize(*size);
  return out;
}

namespace {
std::string hex_of(const unsigned char *digest, unsigned int length) {
  std::string out;
  char buf[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", digest[i]);
    out += buf;
  }
  return out;
}
}  // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  return hex_of(digest, length);
}

Sha256::Sha256() : context_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(static_cast<EVP_MD_CTX *>(context_), EVP_sha256(), nullptr); }
Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX *>(context_)); }
void Sha256::update(std::string_view bytes) { EVP_DigestUpdate(static_cast<EVP_MD_CTX *>(context_), bytes.data(), bytes.size()); }
std::string Sha256::hex() const {
  EVP_MD_CTX *copy = EVP_MD_CTX_new();
  EVP_MD_CTX_copy_ex(copy, static_cast<EVP_MD_CTX *>(context_));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(copy, digest, &length);
  EVP_MD_CTX_free(copy);
  return hex_of(digest, length);
}

std::string fake_uuid(uint64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012llx", static_cast<unsigned long long>(n));
  return buf;
}

}  // namespace parley::fakes::detail
