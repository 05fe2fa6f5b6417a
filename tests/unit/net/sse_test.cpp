#include "net/sse.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.hpp"

namespace parley::net {
namespace {

struct Seen {
  std::string event, data, id;
  bool operator==(const Seen &) const = default;
};

std::vector<Seen> parse_in_pieces(std::string_view stream, size_t piece) {
  SseParser parser;
  std::vector<Seen> seen;
  for (size_t i = 0; i < stream.size(); i += piece) {
    parser.feed(stream.substr(i, piece), [&](const SseEvent &e) {
      seen.push_back({std::string(e.event), std::string(e.data), std::string(e.id)});
    });
  }
  return seen;
}

TEST(Sse, OpenAiFramingSplitAnywhereGivesTheSameEvents) {
  const std::string stream =
      "data: {\"a\":1}\n\n"
      ": keep-alive comment\n\n"
      "event: error\ndata: {\"error\":{}}\n\n"
      "data: line one\ndata: line two\n\n"
      "id: 7\ndata:no-space\r\n\r\n"
      "data: cr only\r\r"
      "data: [DONE]\n\n";
  const std::vector<Seen> expected = {{"", "{\"a\":1}", ""},
                                      {"error", "{\"error\":{}}", ""},
                                      {"", "line one\nline two", ""},
                                      {"", "no-space", "7"},
                                      {"", "cr only", "7"},
                                      {"", "[DONE]", "7"}};
  for (size_t piece : {stream.size(), size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{64}}) {
    EXPECT_EQ(parse_in_pieces(stream, piece), expected) << "piece size " << piece;
  }
}

TEST(Sse, IgnoresUnknownFieldsAndMalformedLinesAsTheFormatRequires) {
  const auto seen = parse_in_pieces("garbage line\nretry: 10\nfoo: bar\ndata: x\n\n", 5);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].data, "x");
}

TEST(Sse, EventWithoutDataIsNotDispatched) {
  EXPECT_TRUE(parse_in_pieces("event: ping\n\n\n\n", 3).empty());
}

TEST(Sse, UnfinishedEventIsHeldNotDispatched) {
  SseParser parser;
  int events = 0;
  parser.feed("data: partial", [&](const SseEvent &) { ++events; });
  parser.feed("\n", [&](const SseEvent &) { ++events; });
  EXPECT_EQ(events, 0);
  parser.feed("\n", [&](const SseEvent &) { ++events; });
  EXPECT_EQ(events, 1);
}

TEST(Sse, OversizedLineOrEventIsAFormatErrorNotUnboundedMemory) {
  SseParser parser(64);
  auto ignore = [](const SseEvent &) {};
  try {
    parser.feed(std::string(100, 'x'), ignore);
    FAIL() << "expected a format error";
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), Status::format);
  }
  SseParser event_bound(64);
  EXPECT_THROW(
      {
        for (int i = 0; i < 10; ++i) event_bound.feed("data: 0123456789\n", ignore);
      },
      Error);
}

}  // namespace
}  // namespace parley::net
