#include "budget/json_config.hpp"

#include <cmath>

#include "common/error.hpp"

namespace parley::budget::json_config {

void fail(std::string_view context, const std::string &path, const std::string &problem) {
  throw Error(Status::config, std::string(context) + ": " + path + ": " + problem);
}

std::string describe(const json &value) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  std::string text = value.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

json parse_object(std::string_view context, const char *text) {
  if (text == nullptr || *text == '\0') return json::object();
  json value = json::parse(text, nullptr, false);
  if (value.is_discarded()) throw Error(Status::config, std::string(context) + ": not valid JSON");
  if (!value.is_object()) fail(context, "$", "expected an object, got " + describe(value));
  return value;
}

void require_keys(std::string_view context, const json &value, const std::string &path,
                  std::initializer_list<std::string_view> allowed) {
  if (!value.is_object()) fail(context, path, "expected an object, got " + describe(value));
  for (const auto &item : value.items()) {
    bool known = false;
    for (const auto key : allowed) known = known || item.key() == key;
    if (!known) fail(context, path + "." + item.key(), "unknown key");
  }
}

namespace {
std::string range_text(double min, double max) {
  const auto show = [](double v) {
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  };
  return "in [" + show(min) + ", " + show(max) + "]";
}
}  // namespace

double number(std::string_view context, const json &object, const std::string &path, const char *key,
              double fallback, double min, double max) {
  const auto it = object.find(key);
  if (it == object.end()) return fallback;
  const std::string where = path + "." + key;
  if (!it->is_number()) fail(context, where, "expected a number " + range_text(min, max) + ", got " + describe(*it));
  const double value = it->get<double>();
  if (!std::isfinite(value) || value < min || value > max) {
    fail(context, where, "expected a number " + range_text(min, max) + ", got " + describe(*it));
  }
  return value;
}

std::int64_t integer(std::string_view context, const json &object, const std::string &path, const char *key,
                     std::int64_t fallback, std::int64_t min, std::int64_t max) {
  const auto it = object.find(key);
  if (it == object.end()) return fallback;
  const std::string where = path + "." + key;
  const std::string expected = "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  if (!it->is_number_integer()) fail(context, where, expected + ", got " + describe(*it));
  const std::int64_t value = it->is_number_unsigned() && it->get<std::uint64_t>() > INT64_MAX
                                 ? INT64_MAX
                                 : it->get<std::int64_t>();
  if (value < min || value > max) fail(context, where, expected + ", got " + describe(*it));
  return value;
}

bool boolean(std::string_view context, const json &object, const std::string &path, const char *key, bool fallback) {
  const auto it = object.find(key);
  if (it == object.end()) return fallback;
  if (!it->is_boolean()) fail(context, path + "." + key, "expected true or false, got " + describe(*it));
  return it->get<bool>();
}

std::string string(std::string_view context, const json &object, const std::string &path, const char *key,
                   const std::string &fallback) {
  const auto it = object.find(key);
  if (it == object.end()) return fallback;
  if (!it->is_string()) fail(context, path + "." + key, "expected a string, got " + describe(*it));
  return it->get<std::string>();
}

std::string choice(std::string_view context, const json &object, const std::string &path, const char *key,
                   const std::string &fallback, std::initializer_list<std::string_view> choices) {
  std::string value = string(context, object, path, key, fallback);
  std::string list;
  for (const auto c : choices) {
    if (value == c) return value;
    list += (list.empty() ? "\"" : ", \"") + std::string(c) + "\"";
  }
  fail(context, path + "." + key, "expected one of " + list + ", got " + describe(object.at(key)));
}

}  // namespace parley::budget::json_config
