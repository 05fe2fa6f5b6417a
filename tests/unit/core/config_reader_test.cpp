#include "core/config_reader.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace parley::core {
namespace {

std::string error_of(const std::function<void()> &body) {
  try {
    body();
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), Status::config);
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return "";
}

TEST(ConfigReader, ReadsValuesAndDefaults) {
  const auto doc = nlohmann::json::parse(R"({"n": 5, "s": "x", "b": true, "f": 2.5, "o": {"k": "v"}})");
  ConfigReader reader(doc, "test config");
  EXPECT_EQ(reader.integer("n", 1, 0, 10), 5);
  EXPECT_EQ(reader.integer("missing", 7, 0, 10), 7);
  EXPECT_EQ(reader.string("s", "d"), "x");
  EXPECT_TRUE(reader.boolean("b", false));
  EXPECT_DOUBLE_EQ(reader.number("f", 0, 0, 10), 2.5);
  auto nested = reader.object("o");
  ASSERT_TRUE(nested.has_value());
  EXPECT_EQ(nested->string("k", ""), "v");
  EXPECT_EQ(nested->path(), "$.o");
  nested->reject_unknown_keys();
  reader.reject_unknown_keys();
}

TEST(ConfigReader, ErrorsNameTheJsonPath) {
  const auto doc = nlohmann::json::parse(R"({"n": "five", "r": 99, "c": "loud", "o": {"deep": 1, "extra": 2}})");
  EXPECT_EQ(error_of([&] { ConfigReader(doc, "test config").integer("n", 0, 0, 10); }),
            "test config: $.n: expected an integer in 0..10; got string \"five\"");
  EXPECT_EQ(error_of([&] { ConfigReader(doc, "test config").integer("r", 0, 0, 10); }),
            "test config: $.r: expected an integer in 0..10; got 99");
  EXPECT_EQ(error_of([&] { ConfigReader(doc, "test config").choice("c", "a", {"a", "b"}); }),
            "test config: $.c: expected one of a, b; got \"loud\"");
  EXPECT_EQ(error_of([&] {
              ConfigReader root(doc, "test config");
              auto nested = root.object("o");
              nested->integer("deep", 0, 0, 5);
              nested->reject_unknown_keys();
            }),
            "test config: $.o.extra: unknown key");
}

TEST(ConfigReader, RejectsNonObjectsAndFractions) {
  const auto array = nlohmann::json::parse("[1,2]");
  EXPECT_NE(error_of([&] { ConfigReader(array, "x"); }).find("$: expected an object; got array"),
            std::string::npos);
  const auto doc = nlohmann::json::parse(R"({"n": 1.5, "b": "yes"})");
  EXPECT_NE(error_of([&] { ConfigReader(doc, "x").integer("n", 0, 0, 10); }).find("expected an integer"),
            std::string::npos);
  EXPECT_NE(error_of([&] { ConfigReader(doc, "x").boolean("b", false); }).find("$.b: expected true or false"),
            std::string::npos);
}

TEST(ConfigReader, ParseReportsByteOffset) {
  EXPECT_TRUE(parse_config(nullptr, "x").is_object());
  EXPECT_TRUE(parse_config("", "x").is_object());
  const std::string message = error_of([] { parse_config("{\"a\": }", "runtime config"); });
  EXPECT_NE(message.find("runtime config: not valid JSON: parse error at line 1, column 7"), std::string::npos) << message;
}

}  // namespace
}  // namespace parley::core
