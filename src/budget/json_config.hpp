// Small helpers for strict JSON configuration: every error names the JSON path of the bad
// field, unknown keys are rejected, and wrong types say what was expected and what came.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace parley::budget::json_config {

using nlohmann::json;

/// Throws Error(Status::config, "<context>: <path>: <problem>").
[[noreturn]] void fail(std::string_view context, const std::string &path, const std::string &problem);

/// A short rendering of a JSON value for error messages ("\"fast\"", "[...]").
std::string describe(const json &value);

/// Parses `text` as a JSON object ("" and NULL mean {}), failing with Status::config.
json parse_object(std::string_view context, const char *text);

/// Fails unless `value` is an object whose keys are all in `allowed`.
void require_keys(std::string_view context, const json &value, const std::string &path,
                  std::initializer_list<std::string_view> allowed);

/// The number at object[key] within [min, max], or `fallback` when absent.
double number(std::string_view context, const json &object, const std::string &path, const char *key,
              double fallback, double min, double max);
/// The integer at object[key] within [min, max], or `fallback` when absent.
std::int64_t integer(std::string_view context, const json &object, const std::string &path, const char *key,
                     std::int64_t fallback, std::int64_t min, std::int64_t max);
bool boolean(std::string_view context, const json &object, const std::string &path, const char *key, bool fallback);
std::string string(std::string_view context, const json &object, const std::string &path, const char *key,
                   const std::string &fallback);
/// A string that must be one of `choices`.
std::string choice(std::string_view context, const json &object, const std::string &path, const char *key,
                   const std::string &fallback, std::initializer_list<std::string_view> choices);

}  // namespace parley::budget::json_config
