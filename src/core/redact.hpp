// Removes secrets from text before it is logged or put in an error message.
//
// Two layers: (1) known secret values (API keys and tokens read from config or the
// environment) are registered and replaced wherever they appear; (2) well-known shapes are
// masked even when nobody registered them: Authorization / api-key style headers, key=value
// and "key": "value" pairs whose key names a secret, Bearer/Basic credentials, and
// provider key prefixes such as sk-... and xi-....
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace parley::core {

inline constexpr std::string_view kRedacted = "[REDACTED]";

/// Masks the well-known secret shapes in `text`.
std::string redact_patterns(std::string_view text);

/// A thread-safe set of secret values, replaced wherever they appear.
class SecretRegistry {
 public:
  /// Registers a secret; values shorter than 6 characters are ignored (too likely to
  /// match ordinary words; such a key is not a real credential anyway).
  void add(std::string secret);
  /// `text` with every registered secret and every well-known shape masked.
  std::string redact(std::string_view text) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> secrets_;
};

}  // namespace parley::core
