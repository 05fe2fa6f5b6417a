// GCC 12 reports a false -Wrestrict inside std::string's operator+ at -O3 (GCC bug 105329).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
#include "budget/controller.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "budget/simulator.hpp"
#include "common/error.hpp"

namespace parley::budget {
namespace {

using nlohmann::json;

std::string config_error(const char *config) {
  try {
    parse_controller_config(config);
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), Status::config);
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << config;
  return {};
}

TEST(ControllerConfig, DefaultsAndValues) {
  const auto d = parse_controller_config(nullptr);
  EXPECT_EQ(d.target_ms, 800);
  EXPECT_EQ(parse_controller_config("").percentile, 95);
  const auto c = parse_controller_config(
      R"({"target_ms": 500, "percentile": 99, "model": "gpt-3.5-turbo-0301", "verify": {"turns": 3},
          "strategies": {"relevance": {"scorer": "embeddings"}, "summary": {"enabled": true}}})");
  EXPECT_EQ(c.target_ms, 500);
  EXPECT_EQ(c.percentile, 99);
  EXPECT_EQ(c.format.per_message, 4);  // the 0301 accounting
  EXPECT_EQ(c.verify_turns, 3u);
  EXPECT_TRUE(c.relevance_embeddings);
  EXPECT_TRUE(c.summary);
}

TEST(ControllerConfig, ErrorsNameTheJsonPath) {
  EXPECT_NE(config_error(R"({"target": 1})").find("$.target: unknown key"), std::string::npos);
  EXPECT_NE(config_error(R"({"strategies": {"summary": {"enable": true}}})").find("$.strategies.summary.enable: unknown key"),
            std::string::npos);
  EXPECT_NE(config_error(R"({"target_ms": "fast"})").find("$.target_ms: expected a number"), std::string::npos);
  EXPECT_NE(config_error(R"({"target_ms": -5})").find("$.target_ms"), std::string::npos);
  EXPECT_NE(config_error(R"({"statistics": {"window": 2.5}})").find("$.statistics.window: expected an integer"),
            std::string::npos);
  EXPECT_NE(config_error(R"({"tokenizer": {"encoding": "p50k"}})").find("$.tokenizer.encoding: expected one of"),
            std::string::npos);
  EXPECT_NE(config_error(R"({"strategies": {"relevance": {"enabled": 1}}})").find("expected true or false"),
            std::string::npos);
  EXPECT_NE(config_error(R"({"tokenizer": []})").find("$.tokenizer: expected an object"), std::string::npos);
  EXPECT_NE(config_error("[1]").find("$: expected an object"), std::string::npos);
  EXPECT_NE(config_error("{bad").find("not valid JSON"), std::string::npos);
  EXPECT_NE(config_error(R"({"provider": ""})").find("$.provider"), std::string::npos);
  try {
    Controller::from_json(R"({"tokenizer": {"ranks_file": "/nonexistent.tiktoken", "encoding": "cl100k_base"}})");
    ADD_FAILURE();
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), Status::config);
    EXPECT_NE(std::string(e.what()).find("$.tokenizer.ranks_file"), std::string::npos);
  }
}

std::vector<Message> conversation(std::size_t turns) {
  SimulationConfig sim;
  sim.tool_call_every = 3;
  ConversationGenerator generator(sim);
  std::vector<Message> history;
  for (std::size_t t = 0; t < turns; ++t) {
    generator.add_user_turn(history);
    if (t + 1 < turns) generator.add_reply(history);
  }
  return history;
}

// Teaches a controller that TTFT = 200 + 0.1 * tokens with full-context samples.
void teach(Controller &c, std::size_t samples) {
  for (std::size_t i = 0; i < samples; ++i) {
    const double tokens = 500 + 300.0 * static_cast<double>(i);
    c.record_ttft(200 + 0.1 * tokens + static_cast<double>(i % 3), static_cast<std::int64_t>(tokens));
  }
}

TEST(ControllerConfig, RankFileFormatsAndTheHeuristicFallback) {
  std::string lines;
  static const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int b = 0; b < 256; ++b) {
    lines += alphabet[b >> 2];
    lines += alphabet[(b & 3) << 4];
    lines += "== " + std::to_string(b) + "\n";
  }
  const auto path = std::filesystem::temp_directory_path() / "parley-controller-test.tiktoken";
  std::ofstream(path) << lines;
  // "auto" with a .tiktoken file: the encoding comes from the model.
  const std::string config = R"({"model": "gpt-4", "tokenizer": {"ranks_file": ")" + path.string() + R"("}})";
  const auto exact = Controller::from_json(config.c_str());
  EXPECT_TRUE(exact->counter().exact());
  EXPECT_EQ(exact->counter().name(), "cl100k_base");
  EXPECT_EQ(exact->count_tokens("abc"), 3u);  // single bytes only in this vocabulary
  std::filesystem::remove(path);
  const auto estimated = Controller::from_json(R"({"tokenizer": {"encoding": "heuristic"}})");
  EXPECT_FALSE(estimated->counter().exact());
  EXPECT_NE(estimated->stats_json().find(R"("exact":false)"), std::string::npos);
}

TEST(Controller, CompressesToTheCurveBudgetAndReportsIt) {
  Controller c(parse_controller_config(R"({"target_ms": 600, "tokenizer": {"encoding": "heuristic"}})"), TokenCounter());
  std::vector<std::string> compressions;
  Controller::Callbacks callbacks;
  callbacks.on_compression = [&](const std::string &j) { compressions.push_back(j); };
  c.set_callbacks(callbacks);
  const auto small = conversation(3);
  EXPECT_FALSE(c.prepare(small).compressed);  // nothing learned, nothing to do
  c.record_ttft(300, -1);
  teach(c, 20);
  const auto history = conversation(60);
  const Decision d = c.prepare(history);
  ASSERT_TRUE(d.compressed);
  // (600 * 0.95 - 200 - margin) / 0.1: a little under 3,700 tokens.
  EXPECT_GT(d.budget_tokens, 3000u);
  EXPECT_LE(d.budget_tokens, 3700u);
  EXPECT_LE(d.sent_tokens, d.budget_tokens);
  EXPECT_GT(d.sent_tokens, d.budget_tokens * 8 / 10);  // no more than needed
  EXPECT_EQ(d.strategies.front(), "sliding_window");
  ASSERT_EQ(compressions.size(), 1u);
  EXPECT_EQ(json::parse(compressions[0])["action"], "compress");
  c.record_ttft(500, -1);
  const auto report = json::parse(c.report(ReportFormat::json));
  EXPECT_EQ(report["compressions"], 1);
  EXPECT_EQ(report["compressions_helpful"], 1);
  EXPECT_EQ(report["tokens_saved"], d.full_tokens - d.sent_tokens);
  EXPECT_EQ(report["strategies"]["sliding_window"], 1);
  EXPECT_EQ(report["tokenizer"]["exact"], false);
  EXPECT_NE(c.report(ReportFormat::text).find("compressions       1 (helpful 1"), std::string::npos);
  const auto stats = json::parse(c.stats_json());
  EXPECT_NEAR(stats["fit"]["ms_per_token"].get<double>(), 0.1, 0.01);
  EXPECT_TRUE(stats["engaged"].get<bool>());
}

TEST(Controller, KeepsPinnedSystemAndToolPairsInJsonOutput) {
  Controller c(parse_controller_config(R"({"target_ms": 600, "tokenizer": {"encoding": "heuristic"}})"), TokenCounter());
  teach(c, 20);
  json messages = json::array();
  messages.push_back({{"role", "system"}, {"content", "You are terse."}});
  messages.push_back({{"role", "user"}, {"content", "My account number is 12345."}, {"pinned", true}});
  for (int i = 0; i < 300; ++i) {
    messages.push_back({{"role", "user"}, {"content", "filler question number " + std::to_string(i) + " about nothing much"}});
    if (i % 10 == 0) {
      messages.push_back({{"role", "assistant"}, {"content", nullptr},
                          {"tool_calls", {{{"id", "t" + std::to_string(i)}, {"type", "function"},
                                           {"function", {{"name", "lookup"}, {"arguments", "{}"}}}}}}});
      messages.push_back({{"role", "tool"}, {"tool_call_id", "t" + std::to_string(i)}, {"content", "ok"}});
    }
    messages.push_back({{"role", "assistant"}, {"content", "an answer that takes a few tokens to say " + std::to_string(i)}});
  }
  messages.push_back({{"role", "user"}, {"content", "What is my account number?"}});
  const json out = json::parse(c.prepare_json(messages.dump()));
  ASSERT_LT(out.size(), messages.size());
  EXPECT_EQ(out[0]["role"], "system");
  EXPECT_EQ(out[1]["content"], "My account number is 12345.");
  EXPECT_FALSE(out[1].contains("pinned"));  // Parley's field never reaches the provider
  EXPECT_EQ(out.back()["content"], "What is my account number?");
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i]["role"] == "tool") {
      ASSERT_GT(i, 0u);
      EXPECT_TRUE(out[i - 1].contains("tool_calls")) << "tool result kept without its call";
    }
    if (out[i].contains("tool_calls")) {
      ASSERT_LT(i + 1, out.size());
      EXPECT_EQ(out[i + 1]["role"], "tool") << "tool call kept without its result";
    }
  }
  // Order kept: the surviving filler is a suffix of the original, in order.
  int last = -1;
  for (const auto &m : out) {
    const std::string text = m["content"].is_string() ? m["content"].get<std::string>() : "";
    if (text.rfind("filler question number ", 0) == 0) {
      const int n = std::stoi(text.substr(23));
      EXPECT_GT(n, last);
      last = n;
    }
  }
}

TEST(Controller, MessagesErrorsNameTheJsonPath) {
  Controller c(parse_controller_config(nullptr), TokenCounter());
  const auto error = [&](const char *messages) {
    try {
      c.prepare_json(messages);
    } catch (const Error &e) {
      EXPECT_EQ(e.status(), Status::format);
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(error("{").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error("{}").find("expected an array"), std::string::npos);
  EXPECT_NE(error("[1]").find("$[0]: expected a message object"), std::string::npos);
  EXPECT_NE(error(R"([{"content": "x"}])").find("$[0].role: missing"), std::string::npos);
  EXPECT_NE(error(R"([{"role": "robot"}])").find("$[0].role"), std::string::npos);
  EXPECT_NE(error(R"([{"role": "user", "content": 5}])").find("$[0].content"), std::string::npos);
  EXPECT_NE(error(R"([{"role": "user", "content": [{"type": "text", "text": 1}]}])").find("$[0].content[0].text"),
            std::string::npos);
  EXPECT_NE(error(R"([{"role": "assistant", "tool_calls": [{"function": {"name": "f"}}]}])").find("$[0].tool_calls[0].id"),
            std::string::npos);
  EXPECT_NE(error(R"([{"role": "tool", "content": "x"}])").find("$[0].tool_call_id"), std::string::npos);
  EXPECT_NE(error(R"([{"role": "user", "pinned": "yes"}])").find("$[0].pinned"), std::string::npos);
  EXPECT_EQ(c.prepare_json(R"([{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url"}]}])"),
            R"([{"content":[{"text":"hi","type":"text"},{"type":"image_url"}],"role":"user"}])");
}

TEST(Controller, RecordTtftChecksItsArguments) {
  Controller c(parse_controller_config(nullptr), TokenCounter());
  EXPECT_THROW(c.record_ttft(100, -1), Error);  // nothing prepared
  EXPECT_THROW(c.record_ttft(-1, 10), Error);
  EXPECT_THROW(c.record_ttft(std::nan(""), 10), Error);
  EXPECT_THROW(c.record_ttft(100, -2), Error);
  c.record_ttft(100, 10);
  EXPECT_EQ(json::parse(c.report(ReportFormat::json))["turns"], 1);
}

TEST(Controller, ViolationCallbackOnSlowTurns) {
  Controller c(parse_controller_config(R"({"target_ms": 500})"), TokenCounter());
  std::vector<json> violations;
  Controller::Callbacks callbacks;
  callbacks.on_violation = [&](const std::string &j) { violations.push_back(json::parse(j)); };
  c.set_callbacks(callbacks);
  c.record_ttft(400, 100);
  c.record_ttft(900, 100);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0]["kind"], "ttft_over_target");
  EXPECT_EQ(violations[0]["ttft_ms"], 900);
}

TEST(Controller, SummaryIsPreparedInTheBackgroundAndSwappedIn) {
  Controller c(parse_controller_config(
                   R"({"target_ms": 600, "tokenizer": {"encoding": "heuristic"}, "strategies": {"summary": {"enabled": true}}})"),
               TokenCounter());
  std::uint64_t request = 0;
  std::string asked;
  Controller::Callbacks callbacks;
  callbacks.summarise = [&](std::uint64_t id, const std::string &messages) {
    request = id;
    asked = messages;
  };
  c.set_callbacks(callbacks);
  teach(c, 20);
  auto history = conversation(60);
  const Decision first = c.prepare(history);
  ASSERT_TRUE(first.compressed);
  EXPECT_FALSE(first.summary_before);  // nothing ready yet: the turn does not wait
  ASSERT_NE(request, 0u);
  const auto dropped = json::parse(asked);
  EXPECT_GE(dropped.size(), 6u);
  EXPECT_FALSE(c.provide_summary(request + 1, "wrong id"));
  EXPECT_TRUE(c.provide_summary(request, "The caller asked about orders and deliveries."));
  EXPECT_FALSE(c.provide_summary(request, "again"));
  c.record_ttft(500, -1);
  const Decision second = c.prepare(history);
  ASSERT_TRUE(second.summary_before);
  EXPECT_NE(second.summary_content.find("orders and deliveries"), std::string::npos);
  EXPECT_LE(second.sent_tokens, second.budget_tokens);
  EXPECT_EQ(second.strategies.front(), "summary");
  // In JSON: one system message with the summary, where the dropped messages were.
  const auto out = json::parse(c.prepare_json(
      [&] {
        json array = json::array();
        for (const auto &m : history) {
          json o = m.original;
          if (m.pinned) o["pinned"] = true;
          array.push_back(o);
        }
        return array.dump();
      }()));
  std::size_t summaries = 0;
  for (const auto &m : out) summaries += m["role"] == "system" && m["content"].get<std::string>().find("Summary") == 0;
  EXPECT_EQ(summaries, 1u);
}

TEST(Controller, RelevanceUsesHostEmbeddingsWhenConfigured) {
  Controller c(parse_controller_config(R"({"target_ms": 600, "tokenizer": {"encoding": "heuristic"},
      "strategies": {"sliding_window": {"enabled": false}, "relevance": {"scorer": "embeddings"}}})"),
               TokenCounter());
  std::size_t calls = 0;
  Controller::Callbacks callbacks;
  callbacks.embed = [&](const std::string &text) {
    ++calls;
    // Two-dimensional toy embedding: does the text mention "zebra"? (not a generated word)
    return std::vector<float>{text.find("zebra") != std::string::npos ? 1.0f : 0.0f, 0.1f};
  };
  c.set_callbacks(callbacks);
  teach(c, 20);
  auto history = conversation(60);
  history[10].text = "I want to return the zebra costume";
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    if (it->role == "user") {
      it->text = "so what about that zebra?";  // the latest user turn is the query
      break;
    }
  }
  const Decision d = c.prepare(history);
  ASSERT_TRUE(d.compressed);
  EXPECT_EQ(d.strategies.front(), "relevance");
  EXPECT_TRUE(d.keep[10]) << "the relevant old turn survives";
  EXPECT_GT(calls, 10u);
  const std::size_t after_first = calls;
  c.record_ttft(500, -1);
  c.prepare(history);
  EXPECT_EQ(calls, after_first) << "embeddings are cached per message";
}

}  // namespace
}  // namespace parley::budget
