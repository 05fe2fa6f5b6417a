// Small helpers the protocol fakes share (internal to tests/fakes).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "fakes/audio.hpp"
#include "fakes/fake_server.hpp"

namespace parley::fakes::detail {

using ojson = nlohmann::ordered_json;

/// Parses a JSON body; nullopt when it is not valid JSON (never throws).
std::optional<nlohmann::json> parse_json(std::string_view text);
/// A string field, or "" when absent or not a string.
std::string string_field(const nlohmann::json &object, const char *name);
/// "true"/"1" -> true, "false"/"0" -> false, else `fallback`.
bool query_bool(const Request &request, std::string_view name, bool fallback);
/// Whole-number query parameter, or `fallback` when absent or not a number.
long query_long(const Request &request, std::string_view name, long fallback);
/// Case-insensitive prefix test, for Content-Type values ("application/json; charset=utf-8").
bool starts_with_ci(std::string_view text, std::string_view prefix);
/// Splits `audio` into chunks of `ms` of `format` (whole samples).
std::vector<std::string> audio_chunks(const std::string &audio, const AudioFormat &format, int ms);
/// Base64 of `bytes`.
std::string base64(std::string_view bytes);
/// Decodes base64; nullopt when invalid.
std::optional<std::string> unbase64(std::string_view text);
/// Lowercase hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);
/// The same, fed piece by piece (a live stream's audio, without keeping it all).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256 &) = delete;
  Sha256 &operator=(const Sha256 &) = delete;
  void update(std::string_view bytes);
  /// Of everything fed so far (feeding may go on).
  std::string hex() const;

 private:
  void *context_;  // EVP_MD_CTX
};
/// A deterministic UUID-shaped id: 00000000-0000-4000-8000-<n as 12 hex digits>.
std::string fake_uuid(uint64_t n);

}  // namespace parley::fakes::detail
