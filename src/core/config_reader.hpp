// Reads one JSON object of a configuration document, checking types and ranges and
// rejecting unknown keys. Every error names the JSON path of the offending field:
//   "runtime config: $.log.level: expected one of trace, debug, info, warn, error, off; got \"loud\""
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace parley::core {

class ConfigReader {
 public:
  /// `what` prefixes every message ("runtime config"); `path` is the object's JSON path.
  /// Throws Error(Status::config) when `object` is not a JSON object.
  ConfigReader(const nlohmann::json &object, std::string what, std::string path = "$");

  int64_t integer(std::string_view key, int64_t fallback, int64_t min, int64_t max);
  double number(std::string_view key, double fallback, double min, double max);
  bool boolean(std::string_view key, bool fallback);
  std::string string(std::string_view key, std::string fallback);
  std::optional<std::string> optional_string(std::string_view key);
  std::string choice(std::string_view key, std::string fallback,
                     std::initializer_list<std::string_view> allowed);
  /// The nested object at `key`, or nullopt when absent.
  std::optional<ConfigReader> object(std::string_view key);

  /// The value at `key` as it is (marked as read), or nullptr when absent; for values a
  /// component validates itself (an inline document, a pass-through object).
  const nlohmann::json *raw(std::string_view key) { return find(key); }

  /// Throws naming the first key that no accessor asked for.
  void reject_unknown_keys() const;

  /// Throws Error(Status::config) about `key` with `problem` ("expected ...; got ...").
  [[noreturn]] void fail(std::string_view key, std::string_view problem) const;

  const std::string &path() const { return path_; }
  const std::string &what() const { return what_; }

 private:
  const nlohmann::json *find(std::string_view key);

  const nlohmann::json &object_;
  std::string what_;
  std::string path_;
  std::set<std::string, std::less<>> seen_;
};

/// Parses `text` (NULL or empty means "{}"). Throws Error(Status::config) naming `what`
/// and the byte offset on a syntax error.
nlohmann::json parse_config(const char *text, std::string_view what);

}  // namespace parley::core
