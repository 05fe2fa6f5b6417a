#include "core/redact.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace parley::core {
namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~' || c == '+' ||
         c == '/' || c == '=' || c == '%';
}

bool is_name_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '-' || c == '_';
}

// Key names (compared case-insensitively, '-' and '_' alike) whose values are secrets.
constexpr std::array<std::string_view, 14> kSecretKeyWords = {
    "authorization", "apikey", "api_key", "xi_api_key", "ocp_apim_subscription_key",
    "token", "access_token", "auth_token", "secret", "password", "client_secret",
    "x_twilio_signature", "proxy_authorization", "key"};

std::string normalise_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) out.push_back(c == '-' ? '_' : lower(c));
  return out;
}

bool names_secret(std::string_view name) {
  const std::string normal = normalise_name(name);
  for (auto word : kSecretKeyWords) {
    if (normal == word) return true;
    // "openai_api_key", "deepgram_token", "my_secret" ...
    if (normal.size() > word.size() && word.size() >= 5 &&
        normal.compare(normal.size() - word.size(), word.size(), word) == 0 &&
        normal[normal.size() - word.size() - 1] == '_') {
      return true;
    }
  }
  return false;
}

// Scans for NAME SEP VALUE where NAME names a secret: `Authorization: Bearer x`,
// `api_key=x`, `"token": "x"`. Returns the text with each VALUE masked.
std::string mask_named_values(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (!is_name_char(text[i]) || (i > 0 && is_name_char(text[i - 1]))) {
      out.push_back(text[i++]);
      continue;
    }
    size_t name_end = i;
    while (name_end < text.size() && is_name_char(text[name_end])) ++name_end;
    const std::string_view name = text.substr(i, name_end - i);
    size_t j = name_end;
    if (j < text.size() && (text[j] == '"' || text[j] == '\'')) ++j;  // closing quote of a JSON key
    size_t sep = j;
    while (sep < text.size() && text[sep] == ' ') ++sep;
    const bool has_separator = sep < text.size() && (text[sep] == ':' || text[sep] == '=');
    if (!has_separator || !names_secret(name)) {
      out.append(name);
      i = name_end;
      continue;
    }
    size_t value = sep + 1;
    while (value < text.size() && (text[value] == ' ' || text[value] == '"' || text[value] == '\'')) ++value;
    out.append(text.substr(i, value - i));
    // An auth scheme word stays readable: "Bearer [REDACTED]".
    size_t scheme_end = value;
    while (scheme_end < text.size() && std::isalpha(static_cast<unsigned char>(text[scheme_end]))) ++scheme_end;
    const std::string scheme = normalise_name(text.substr(value, scheme_end - value));
    if ((scheme == "bearer" || scheme == "basic" || scheme == "token") &&
        scheme_end < text.size() && text[scheme_end] == ' ') {
      out.append(text.substr(value, scheme_end + 1 - value));
      value = scheme_end + 1;
    }
    size_t value_end = value;
    while (value_end < text.size() && is_token_char(text[value_end])) ++value_end;
    if (value_end > value) out.append(kRedacted);
    i = value_end;
  }
  return out;
}

// Masks `Bearer <token>` anywhere, and tokens with well-known provider key prefixes.
std::string mask_credential_shapes(std::string_view text) {
  constexpr std::array<std::string_view, 5> kPrefixes = {"sk-", "sk_", "xi-", "gsk_", "csk-"};
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const bool at_word_start = i == 0 || !is_token_char(text[i - 1]);
    if (at_word_start) {
      if (text.size() - i > 7 && normalise_name(text.substr(i, 7)) == "bearer ") {
        size_t end = i + 7;
        while (end < text.size() && is_token_char(text[end])) ++end;
        if (end > i + 7) {
          out.append(text.substr(i, 7)).append(kRedacted);
          i = end;
          continue;
        }
      }
      for (auto prefix : kPrefixes) {
        if (text.substr(i, prefix.size()) != prefix) continue;
        size_t end = i + prefix.size();
        while (end < text.size() && is_token_char(text[end])) ++end;
        if (end - i >= prefix.size() + 12) {  // long enough to be a key, not a word
          out.append(kRedacted);
          i = end;
          goto next;
        }
      }
    }
    out.push_back(text[i++]);
  next:;
  }
  return out;
}

}  // namespace

std::string redact_patterns(std::string_view text) {
  return mask_credential_shapes(mask_named_values(text));
}

void SecretRegistry::add(std::string secret) {
  constexpr size_t kMinimum = 6;
  if (secret.size() < kMinimum) return;
  std::lock_guard lock(mutex_);
  if (std::find(secrets_.begin(), secrets_.end(), secret) == secrets_.end()) {
    secrets_.push_back(std::move(secret));
    // Longest first, so a secret containing another is masked whole.
    std::sort(secrets_.begin(), secrets_.end(),
              [](const auto &a, const auto &b) { return a.size() > b.size(); });
  }
}

std::string SecretRegistry::redact(std::string_view text) const {
  std::string out(text);
  {
    std::lock_guard lock(mutex_);
    for (const auto &secret : secrets_) {
      for (size_t at = out.find(secret); at != std::string::npos; at = out.find(secret, at)) {
        out.replace(at, secret.size(), kRedacted);
        at += kRedacted.size();
      }
    }
  }
  return redact_patterns(out);
}

}  // namespace parley::core
