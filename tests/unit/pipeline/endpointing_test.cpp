// Endpointing on synthetic VAD/STT timelines. Each row is a list of timed inputs and the end
// of turn it must produce (or none). The runner polls every millisecond, so a row also
// checks that the turn ends exactly at its time: not a millisecond early, not late.
#include "pipeline/endpointing.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace parley::pipeline {
namespace {

using std::chrono::milliseconds;

enum class In { speech_start, speech_end, partial, final };

struct Event {
  int at;
  In kind;
  std::string text = {};
};

Event start(int at) { return {at, In::speech_start}; }
Event end(int at) { return {at, In::speech_end}; }
Event partial(int at, std::string text) { return {at, In::partial, std::move(text)}; }
Event final_(int at, std::string text) { return {at, In::final, std::move(text)}; }

struct Expected {
  int at;
  EndReason reason;
  std::string text;
  bool mid_number = false;
};

struct Row {
  const char *name;
  std::vector<Event> events;
  std::optional<Expected> expected;
  EndpointingOptions options = {};
};

constexpr int horizon_ms = 6000;  // polled this long past the last event

void feed(Endpointer &endpointer, const Event &event) {
  const milliseconds t{event.at};
  switch (event.kind) {
    case In::speech_start: endpointer.on_speech_start(t); break;
    case In::speech_end: endpointer.on_speech_end(t); break;
    case In::partial: endpointer.on_partial(event.text, t); break;
    case In::final: endpointer.on_final(event.text, t); break;
  }
}

// Events at a time go in before the poll at that time, as on a strand that handles its
// queue before its timer.
void check(const Row &row) {
  SCOPED_TRACE(row.name);
  Endpointer endpointer(row.options);
  std::optional<EndOfTurn> result;
  int polled_at = -1;
  size_t next = 0;
  const int last = row.events.empty() ? 0 : row.events.back().at;
  for (int now = 0; now <= last + horizon_ms && !result; ++now) {
    while (next < row.events.size() && row.events[next].at <= now) feed(endpointer, row.events[next++]);
    const std::optional<milliseconds> deadline = endpointer.deadline();
    result = endpointer.poll(milliseconds{now});
    if (result) {
      polled_at = now;
      ASSERT_TRUE(deadline.has_value());
      EXPECT_EQ(*deadline, result->at) << "deadline() and poll() disagree";
    } else if (deadline) {
      ASSERT_LT(now, deadline->count()) << "poll() missed its own deadline";
    }
  }
  if (!row.expected) {
    EXPECT_FALSE(result) << "ended at " << result->at.count() << " ms (" << end_reason_name(result->reason)
                         << "): " << result->text;
    return;
  }
  ASSERT_TRUE(result) << "no end of turn";
  EXPECT_EQ(result->at, milliseconds{row.expected->at});
  EXPECT_EQ(polled_at, row.expected->at) << "poll() ended the turn late";
  EXPECT_EQ(result->reason, row.expected->reason);
  EXPECT_EQ(result->text, row.expected->text);
  EXPECT_EQ(result->mid_number, row.expected->mid_number);
}

constexpr auto final_plus_silence = EndReason::final_plus_silence;
constexpr auto max_silence = EndReason::max_silence;

TEST(pipeline_endpointing, Timelines) {
  const std::vector<Row> rows{
      {"final, then 300 ms of silence",
       {start(0), partial(400, "I'd like"), final_(900, "I'd like a table."), end(1000)},
       Expected{1300, final_plus_silence, "I'd like a table."}},
      {"final after speech end, within the silence",
       {start(0), partial(500, "hello"), end(1000), final_(1150, "Hello there.")},
       Expected{1300, final_plus_silence, "Hello there."}},
      {"final arrives after the silence has elapsed: ends on arrival",
       {start(0), partial(500, "yes"), end(1000), final_(1600, "Yes.")},
       Expected{1600, final_plus_silence, "Yes."}},
      {"no final: max silence",
       {start(0), partial(300, "hello"), partial(700, "hello there"), end(1000)},
       Expected{2500, max_silence, "hello there"}},
      {"no transcript at all: max silence, empty text", {start(0), end(800)}, Expected{2300, max_silence, ""}},
      {"final too late for max silence",
       {start(0), partial(500, "yes"), end(1000), final_(2700, "Yes.")},
       Expected{2500, max_silence, "yes"}},
      {"speech resumes before the silence elapses",
       {start(0), final_(800, "I want to"), end(1000), start(1250), final_(1900, "book a table"), end(2000)},
       Expected{2300, final_plus_silence, "I want to book a table"}},
      {"speech resumes and goes on: no end",
       {start(0), final_(800, "I want to"), end(1000), start(1299)},
       std::nullopt},
      {"speech resumes before max silence",
       {start(0), partial(500, "so"), end(1000), start(2400), partial(2600, "so I was"), end(3000)},
       Expected{4500, max_silence, "so I was"}},
      {"multiple finals are joined",
       {start(0), final_(700, "I'd like"), final_(1200, " to book "), final_(1900, "a table."), end(2000)},
       Expected{2300, final_plus_silence, "I'd like to book a table."}},
      {"a partial newer than the last final waits for its final",
       {start(0), final_(700, "I'd like"), partial(900, "to bo"), end(1000), final_(1100, "to book")},
       Expected{1300, final_plus_silence, "I'd like to book"}},
      {"... or for max silence, with the partial in the text",
       {start(0), final_(700, "I'd like"), partial(900, "to bo"), end(1000)},
       Expected{2500, max_silence, "I'd like to bo"}},
      {"empty partials and finals are ignored",
       {start(0), partial(300, "  "), final_(500, "Okay."), partial(600, ""), final_(700, ""), end(1000)},
       Expected{1300, final_plus_silence, "Okay."}},
      {"an empty final settles the partial as nothing",
       {start(0), partial(300, "uh"), final_(600, ""), end(1000)},
       Expected{2500, max_silence, ""}},
      {"no VAD: the final's time starts the silence", {final_(500, "Yes please.")},
       Expected{800, final_plus_silence, "Yes please."}},
      {"no VAD, partials only", {partial(400, "yes"), partial(600, "yes please")},
       Expected{2100, max_silence, "yes please"}},
      {"nothing heard: no end", {}, std::nullopt},
      {"speech end without a start", {end(500), final_(600, "Hi.")}, Expected{800, final_plus_silence, "Hi."}},
  };
  for (const Row &row : rows) check(row);
}

TEST(pipeline_endpointing, MidNumberWaitsLonger) {
  const std::vector<Row> rows{
      {"digits", {start(0), end(1000), final_(1100, "My number is 555 123.")},
       Expected{2500, final_plus_silence, "My number is 555 123.", true}},
      {"number words", {start(0), end(1000), final_(1100, "my number is five five five one two")},
       Expected{2500, final_plus_silence, "my number is five five five one two", true}},
      {"oh", {start(0), end(1000), final_(1100, "it's five five five oh")},
       Expected{2500, final_plus_silence, "it's five five five oh", true}},
      {"zero", {start(0), end(1000), final_(1100, "zero four zero")},
       Expected{2500, final_plus_silence, "zero four zero", true}},
      {"card digits", {start(0), end(1000), final_(1100, "4111 1111")},
       Expected{2500, final_plus_silence, "4111 1111", true}},
      {"trailing hyphen", {start(0), end(1000), final_(1100, "call me at 555-")},
       Expected{2500, final_plus_silence, "call me at 555-", true}},
      {"one digit after a cue", {start(0), end(1000), final_(1100, "my card number is four")},
       Expected{2500, final_plus_silence, "my card number is four", true}},
      {"the number goes on: the next final ends normally",
       {start(0), end(1000), final_(1100, "my number is 555"), start(1900), end(2600), final_(2700, "123 4567")},
       Expected{2900, final_plus_silence, "my number is 555 123 4567"}},
      {"a complete phone number does not wait",
       {start(0), end(1000), final_(1100, "It's 555-123-4567.")}, Expected{1300, final_plus_silence, "It's 555-123-4567."}},
      {"a small number does not wait", {start(0), end(1000), final_(1100, "A table for 4.")},
       Expected{1300, final_plus_silence, "A table for 4."}},
      {"a time does not wait", {start(0), end(1000), final_(1100, "At 10:30.")},
       Expected{1300, final_plus_silence, "At 10:30."}},
      {"no final: max silence, not longer",
       {start(0), partial(600, "my number is five five five"), end(1000)},
       Expected{2500, max_silence, "my number is five five five"}},
      {"speech resumes during the extension",
       {start(0), end(1000), final_(1100, "my number is 555"), start(2000), end(2500), final_(2600, "1234")},
       Expected{4000, final_plus_silence, "my number is 555 1234", true}},
      {"custom extension",
       {start(0), end(1000), final_(1100, "555 12")},
       Expected{1800, final_plus_silence, "555 12", true},
       {.mid_number_extra = milliseconds{500}}},
      {"extension off", {start(0), end(1000), final_(1100, "555 12")}, Expected{1300, final_plus_silence, "555 12"},
       {.mid_number_extra = milliseconds{0}}},
      {"never past max silence",
       {start(0), end(1000), final_(1100, "555 12")},
       Expected{2000, final_plus_silence, "555 12", true},
       {.max_silence = milliseconds{1000}}},
  };
  for (const Row &row : rows) check(row);
}

TEST(pipeline_endpointing, CustomThresholds) {
  const EndpointingOptions options{.min_silence = milliseconds{500}, .max_silence = milliseconds{1000}};
  check({"final", {start(0), final_(900, "Hello."), end(1000)}, Expected{1500, final_plus_silence, "Hello."}, options});
  check({"max", {start(0), partial(900, "hello"), end(1000)}, Expected{2000, max_silence, "hello"}, options});
  check({"zero min silence", {start(0), end(1000), final_(1200, "Hi.")}, Expected{1200, final_plus_silence, "Hi."},
         {.min_silence = milliseconds{0}}});
}

struct MidNumberCase {
  const char *text;
  bool mid_number;
};

TEST(pipeline_endpointing, EndsMidNumber) {
  const std::vector<MidNumberCase> cases{
      {"my number is five five five one two", true},
      {"My number is 555 123.", true},
      {"4111 1111", true},
      {"4111-1111-1111", true},
      {"call me at 555-", true},
      {"call me at (555", true},
      {"it's five five five oh", true},
      {"zero zero seven", true},
      {"double five three", true},
      {"forty one eleven", true},
      {"twenty-one thirty", true},
      {"my zip is nine", true},
      {"the code is 4", true},
      {"call me at five", true},
      {"+1 555", true},
      {"555 123 4567", false},    // complete: 3-3-4
      {"1 555 123 4567", false},  // complete: 1-3-3-4
      {"4111 1111 1111 1111", false},
      {"(555) 123-4567", false},
      {"A table for 4.", false},
      {"I'm twenty one", false},
      {"I'm 25", false},
      {"at 10:30", false},
      {"It costs $12.50", false},
      {"the first one", false},
      {"Oh.", false},
      {"well-", false},
      {"", false},
      {"   ", false},
      {"book it for five pm", false},
      {"I want 2", false},
      {"my number is", true},
      {"Sure, call me at", true},
      {"my phone number's", true},
      {"the weather is", false},
      {"I'll be at", false},
      {"I'd like to place an order", false},
  };
  for (const MidNumberCase &c : cases) EXPECT_EQ(ends_mid_number(c.text), c.mid_number) << '"' << c.text << '"';
  EXPECT_FALSE(ends_mid_number("555 12", 6));
  EXPECT_TRUE(ends_mid_number("555 123", 6));
}

TEST(pipeline_endpointing, OnceUntilReset) {
  Endpointer endpointer;
  endpointer.on_speech_start(milliseconds{0});
  endpointer.on_final("Hello.", milliseconds{500});
  endpointer.on_speech_end(milliseconds{600});
  EXPECT_FALSE(endpointer.poll(milliseconds{899}));
  const std::optional<EndOfTurn> first = endpointer.poll(milliseconds{900});
  ASSERT_TRUE(first);
  EXPECT_EQ(first->text, "Hello.");
  EXPECT_FALSE(endpointer.poll(milliseconds{901}));
  EXPECT_FALSE(endpointer.deadline());

  // Ignored until reset(): a late final of the turn that just ended.
  endpointer.on_final("Hello there.", milliseconds{950});
  EXPECT_FALSE(endpointer.poll(milliseconds{5000}));

  endpointer.reset();
  EXPECT_FALSE(endpointer.poll(milliseconds{6000})) << "nothing heard in the new turn";
  endpointer.on_speech_start(milliseconds{6000});
  endpointer.on_final("Bye.", milliseconds{6500});
  endpointer.on_speech_end(milliseconds{6600});
  const std::optional<EndOfTurn> second = endpointer.poll(milliseconds{7000});
  ASSERT_TRUE(second);
  EXPECT_EQ(second->text, "Bye.");
  EXPECT_EQ(second->at, milliseconds{6900});
  EXPECT_EQ(second->reason, EndReason::final_plus_silence);
}

TEST(pipeline_endpointing, ResetKeepsTheCallerSpeaking) {
  Endpointer endpointer;
  endpointer.on_speech_start(milliseconds{0});
  endpointer.on_final("First.", milliseconds{400});
  endpointer.on_speech_end(milliseconds{500});
  ASSERT_TRUE(endpointer.poll(milliseconds{800}));
  endpointer.on_speech_start(milliseconds{850});  // talking again before the turn was taken
  endpointer.reset();
  EXPECT_TRUE(endpointer.speaking());
  EXPECT_FALSE(endpointer.deadline());
  endpointer.on_speech_end(milliseconds{1500});
  EXPECT_EQ(endpointer.deadline(), milliseconds{3000}) << "speech but no final yet: max silence";
  endpointer.on_final("Second.", milliseconds{1600});
  EXPECT_EQ(endpointer.deadline(), milliseconds{1800});
}

TEST(pipeline_endpointing, RejectsBadOptions) {
  EXPECT_THROW(Endpointer({.min_silence = milliseconds{-1}}), Error);
  EXPECT_THROW(Endpointer({.min_silence = milliseconds{2000}, .max_silence = milliseconds{1000}}), Error);
  EXPECT_THROW(Endpointer({.mid_number_extra = milliseconds{-5}}), Error);
  EXPECT_STREQ(end_reason_name(EndReason::max_silence), "max_silence");
}

}  // namespace
}  // namespace parley::pipeline
