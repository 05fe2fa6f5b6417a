#include "core/config_reader.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace parley::core {
namespace {

std::string describe(const nlohmann::json &value) {
  std::string text = value.dump();
  constexpr size_t kMax = 60;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return std::string(value.type_name()) + " " + text;
}

}  // namespace

ConfigReader::ConfigReader(const nlohmann::json &object, std::string what, std::string path)
    : object_(object), what_(std::move(what)), path_(std::move(path)) {
  if (!object_.is_object()) {
    throw Error(Status::config, what_ + ": " + path_ + ": expected an object; got " + describe(object_));
  }
}

void ConfigReader::fail(std::string_view key, std::string_view problem) const {
  throw Error(Status::config, what_ + ": " + path_ + "." + std::string(key) + ": " + std::string(problem));
}

const nlohmann::json *ConfigReader::find(std::string_view key) {
  seen_.emplace(key);
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

int64_t ConfigReader::integer(std::string_view key, int64_t fallback, int64_t min, int64_t max) {
  const auto *value = find(key);
  if (value == nullptr) return fallback;
  const std::string range = std::to_string(min) + ".." + std::to_string(max);
  if (!value->is_number_integer() &&
      !(value->is_number_float() && std::trunc(value->get<double>()) == value->get<double>())) {
    fail(key, "expected an integer in " + range + "; got " + describe(*value));
  }
  const double as_double = value->get<double>();
  if (as_double < static_cast<double>(min) || as_double > static_cast<double>(max)) {
    fail(key, "expected an integer in " + range + "; got " + value->dump());
  }
  return value->get<int64_t>();
}

double ConfigReader::number(std::string_view key, double fallback, double min, double max) {
  const auto *value = find(key);
  if (value == nullptr) return fallback;
  if (!value->is_number()) fail(key, "expected a number; got " + describe(*value));
  const double number = value->get<double>();
  if (number < min || number > max) {
    fail(key, "expected a number in " + nlohmann::json(min).dump() + ".." +
                  nlohmann::json(max).dump() + "; got " + value->dump());
  }
  return number;
}

bool ConfigReader::boolean(std::string_view key, bool fallback) {
  const auto *value = find(key);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) fail(key, "expected true or false; got " + describe(*value));
  return value->get<bool>();
}

std::string ConfigReader::string(std::string_view key, std::string fallback) {
  auto value = optional_string(key);
  return value ? *value : std::move(fallback);
}

std::optional<std::string> ConfigReader::optional_string(std::string_view key) {
  const auto *value = find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) fail(key, "expected a string; got " + describe(*value));
  return value->get<std::string>();
}

std::string ConfigReader::choice(std::string_view key, std::string fallback,
                                 std::initializer_list<std::string_view> allowed) {
  std::string value = string(key, std::move(fallback));
  for (auto option : allowed) {
    if (value == option) return value;
  }
  std::string list;
  for (auto option : allowed) list += (list.empty() ? "" : ", ") + std::string(option);
  fail(key, "expected one of " + list + "; got \"" + value + "\"");
}

std::optional<ConfigReader> ConfigReader::object(std::string_view key) {
  const auto *value = find(key);
  if (value == nullptr) return std::nullopt;
  return ConfigReader(*value, what_, path_ + "." + std::string(key));
}

void ConfigReader::reject_unknown_keys() const {
  for (const auto &item : object_.items()) {
    if (seen_.find(item.key()) == seen_.end()) {
      throw Error(Status::config, what_ + ": " + path_ + "." + item.key() + ": unknown key");
    }
  }
}

nlohmann::json parse_config(const char *text, std::string_view what) {
  if (text == nullptr || *text == '\0') return nlohmann::json::object();
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception &e) {
    // Syntax errors and number overflow ("1e400") alike. nlohmann's text starts with "[json.exception.parse_error.101] "; keep what follows,
    // which already says "parse error at line L, column C: ...".
    std::string detail = e.what();
    if (const auto bracket = detail.find("] "); bracket != std::string::npos) detail.erase(0, bracket + 2);
    throw Error(Status::config, std::string(what) + ": not valid JSON: " + detail);
  }
}

}  // namespace parley::core
