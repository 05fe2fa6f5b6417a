#include "transports/twilio/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <map>
#include <set>

#include "net/base64.hpp"

namespace parley::twilio {
namespace {

std::string string_to_sign(std::string_view url, const FormParameters &parameters) {
  // Sorted names; a repeated name contributes each distinct value, values sorted.
  std::map<std::string, std::set<std::string>> sorted;
  for (const auto &[name, value] : parameters) sorted[name].insert(value);
  std::string text(url);
  for (const auto &[name, values] : sorted) {
    for (const auto &value : values) text.append(name).append(value);
  }
  return text;
}

// The URL with the default port for its scheme added (when absent) or removed (when
// present); empty when the URL has no recognisable authority.
std::string other_port_form(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const std::string_view scheme = url.substr(0, scheme_end);
  const bool secure = scheme == "https" || scheme == "wss";
  const std::string default_port = secure ? "443" : "80";
  const size_t host_start = scheme_end + 3;
  const size_t host_end = std::min(url.find_first_of("/?#", host_start), url.size());
  const std::string_view authority = url.substr(host_start, host_end - host_start);
  const auto colon = authority.rfind(':');
  std::string out(url.substr(0, host_start));
  if (colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    if (authority.substr(colon + 1) != default_port) return {};
    out.append(authority.substr(0, colon));
  } else {
    out.append(authority).append(":").append(default_port);
  }
  out.append(url.substr(host_end));
  return out;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string compute_signature(std::string_view auth_token, std::string_view url, const FormParameters &parameters) {
  const std::string message = string_to_sign(url, parameters);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha1(), auth_token.data(), static_cast<int>(auth_token.size()),
       reinterpret_cast<const unsigned char *>(message.data()), message.size(), digest, &length);
  std::string signature;
  net::base64_encode(std::span<const uint8_t>(digest, length), signature);
  return signature;
}

bool validate_signature(std::string_view auth_token, std::string_view signature, std::string_view url,
                        const FormParameters &parameters) {
  if (signature.empty() || auth_token.empty()) return false;
  if (equal_constant_time(compute_signature(auth_token, url, parameters), signature)) return true;
  const std::string alternative = other_port_form(url);
  return !alternative.empty() && equal_constant_time(compute_signature(auth_token, alternative, parameters), signature);
}

}  // namespace parley::twilio
