// The budget controller through the C ABI: argument checks, ownership, callbacks.
// GCC 12 reports a false -Wrestrict inside std::string's operator+ at -O3 (GCC bug 105329).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "parley/parley.h"

namespace {

std::string last_message() {
  const parley_error *e = parley_error_last();
  return e != nullptr ? e->message : "";
}

TEST(BudgetCApi, CreateRejectsBadConfigNamingTheKey) {
  parley_budget *b = nullptr;
  EXPECT_EQ(parley_budget_create(nullptr, nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_create(&b, R"({"strategies": {"sliding_window": {"keep": 3}}})"), PARLEY_ECONFIG);
  EXPECT_NE(last_message().find("$.strategies.sliding_window.keep"), std::string::npos);
  EXPECT_EQ(b, nullptr);
  EXPECT_EQ(parley_budget_create(&b, R"({"target_ms": "fast"})"), PARLEY_ECONFIG);
  EXPECT_NE(last_message().find("$.target_ms"), std::string::npos);
  EXPECT_EQ(parley_budget_create(&b, "not json"), PARLEY_ECONFIG);
  EXPECT_EQ(b, nullptr);
  parley_budget_destroy(nullptr);
}

TEST(BudgetCApi, EveryFunctionChecksItsArguments) {
  parley_budget *b = nullptr;
  ASSERT_EQ(parley_budget_create(&b, nullptr), PARLEY_OK);
  char *out = nullptr;
  int64_t count = 0;
  EXPECT_EQ(parley_budget_prepare(nullptr, b, "[]"), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_prepare(&out, nullptr, "[]"), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_prepare(&out, b, nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_prepare(&out, b, "[{\"role\": 1}]"), PARLEY_EFORMAT);
  EXPECT_NE(last_message().find("$[0].role"), std::string::npos);
  EXPECT_EQ(parley_budget_prepare(&out, b, "{{"), PARLEY_EFORMAT);
  EXPECT_EQ(out, nullptr);
  EXPECT_EQ(parley_budget_record_ttft(nullptr, 1, 1), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_record_ttft(b, NAN, 1), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_record_ttft(b, -3, 1), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_record_ttft(b, 100, -1), PARLEY_ESTATE);
  EXPECT_EQ(parley_budget_stats_json(nullptr, b), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_stats_json(&out, nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_report(&out, b, 7), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_report(nullptr, b, PARLEY_BUDGET_REPORT_JSON), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_count_tokens(&count, b, nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_count_tokens(nullptr, b, "x"), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_select_model(b, nullptr, "m"), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_select_model(b, "", "m"), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_select_model(nullptr, "p", "m"), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_set_callbacks(nullptr, nullptr, nullptr, nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_set_embedder(nullptr, nullptr, nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_set_summarizer(nullptr, nullptr, nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_provide_summary(nullptr, 1, "x"), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_provide_summary(b, 1, nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_budget_provide_summary(b, 1, "x"), PARLEY_ENOTFOUND);
  EXPECT_EQ(out, nullptr);
  EXPECT_EQ(count, 0);
  parley_budget_destroy(b);
}

struct Events {
  std::vector<std::string> compressions;
  std::vector<std::string> violations;
};

TEST(BudgetCApi, WrapsAHostsOwnLlmCalls) {
  parley_budget *b = nullptr;
  ASSERT_EQ(parley_budget_create(&b, R"({"target_ms": 600, "model": "gpt-4o", "tokenizer": {"encoding": "heuristic"}})"),
            PARLEY_OK);
  Events events;
  ASSERT_EQ(parley_budget_set_callbacks(
                b, [](const char *j, void *u) { static_cast<Events *>(u)->compressions.emplace_back(j); },
                [](const char *j, void *u) { static_cast<Events *>(u)->violations.emplace_back(j); }, &events),
            PARLEY_OK);
  nlohmann::json history = nlohmann::json::array({{{"role", "system"}, {"content", "Be brief."}}});
  std::size_t compressed_turns = 0;
  for (int turn = 0; turn < 80; ++turn) {
    history.push_back({{"role", "user"}, {"content", "Question " + std::to_string(turn) + ": where is my parcel, it was due on Friday?"}});
    char *to_send = nullptr;
    ASSERT_EQ(parley_budget_prepare(&to_send, b, history.dump().c_str()), PARLEY_OK);
    const auto sent = nlohmann::json::parse(to_send);
    parley_string_free(to_send);
    compressed_turns += sent.size() < history.size() ? 1 : 0;
    int64_t tokens = 0;
    ASSERT_EQ(parley_budget_count_tokens(&tokens, b, sent.dump().c_str()), PARLEY_OK);
    ASSERT_EQ(parley_budget_record_ttft(b, 200 + 0.25 * static_cast<double>(tokens), -1), PARLEY_OK);
    history.push_back({{"role", "assistant"}, {"content", "Your parcel left the warehouse and is on its way to you " + std::to_string(turn)}});
  }
  EXPECT_GT(compressed_turns, 10u);
  EXPECT_FALSE(events.compressions.empty());
  char *report = nullptr;
  ASSERT_EQ(parley_budget_report(&report, b, PARLEY_BUDGET_REPORT_JSON), PARLEY_OK);
  const auto r = nlohmann::json::parse(report);
  parley_string_free(report);
  EXPECT_EQ(r["turns"], 80);
  EXPECT_GT(r["tokens_saved"].get<int>(), 0);
  ASSERT_EQ(parley_budget_report(&report, b, PARLEY_BUDGET_REPORT_TEXT), PARLEY_OK);
  EXPECT_NE(std::string(report).find("TTFT P50/P95/P99"), std::string::npos);
  parley_string_free(report);
  char *stats = nullptr;
  ASSERT_EQ(parley_budget_stats_json(&stats, b), PARLEY_OK);
  EXPECT_EQ(nlohmann::json::parse(stats)["model"], "default/gpt-4o");
  parley_string_free(stats);
  EXPECT_EQ(parley_budget_select_model(b, "groq", nullptr), PARLEY_OK);
  parley_budget_destroy(b);
}

struct SummaryHost {
  parley_budget *budget = nullptr;
  int requests = 0;
};

TEST(BudgetCApi, SummariserMayAnswerFromInsideItsCallback) {
  parley_budget *b = nullptr;
  ASSERT_EQ(parley_budget_create(&b, R"({"target_ms": 500, "tokenizer": {"encoding": "heuristic"},
      "strategies": {"summary": {"enabled": true, "min_messages": 2}}})"), PARLEY_OK);
  SummaryHost host{b, 0};
  ASSERT_EQ(parley_budget_set_summarizer(
                b,
                [](uint64_t id, const char *messages, void *u) {
                  auto *h = static_cast<SummaryHost *>(u);
                  ++h->requests;
                  EXPECT_TRUE(nlohmann::json::parse(messages).is_array());
                  EXPECT_EQ(parley_budget_provide_summary(h->budget, id, "earlier: parcel questions"), PARLEY_OK);
                },
                &host),
            PARLEY_OK);
  nlohmann::json history = nlohmann::json::array();
  bool saw_summary = false;
  for (int turn = 0; turn < 80; ++turn) {
    history.push_back({{"role", "user"}, {"content", "Where is parcel " + std::to_string(turn) + "? It is late again and I need it."}});
    char *to_send = nullptr;
    ASSERT_EQ(parley_budget_prepare(&to_send, b, history.dump().c_str()), PARLEY_OK);
    const std::string sent = to_send;
    parley_string_free(to_send);
    saw_summary = saw_summary || sent.find("earlier: parcel questions") != std::string::npos;
    int64_t tokens = 0;
    ASSERT_EQ(parley_budget_count_tokens(&tokens, b, sent.c_str()), PARLEY_OK);
    ASSERT_EQ(parley_budget_record_ttft(b, 150 + 0.3 * static_cast<double>(tokens), -1), PARLEY_OK);
    history.push_back({{"role", "assistant"}, {"content", "It is on its way; it should arrive tomorrow morning."}});
  }
  EXPECT_GT(host.requests, 0);
  EXPECT_TRUE(saw_summary);
  parley_budget_destroy(b);
}

TEST(BudgetCApi, EmbedderFailureFallsBackToBm25) {
  parley_budget *b = nullptr;
  ASSERT_EQ(parley_budget_create(&b, R"({"strategies": {"relevance": {"scorer": "embeddings"}}})"), PARLEY_OK);
  ASSERT_EQ(parley_budget_set_embedder(b, [](float *, size_t, const char *, void *) { return -1; }, nullptr), PARLEY_OK);
  char *out = nullptr;
  ASSERT_EQ(parley_budget_prepare(&out, b, R"([{"role":"user","content":"hi","pinned":true}])"), PARLEY_OK);
  EXPECT_STREQ(out, R"([{"content":"hi","role":"user"}])");
  parley_string_free(out);
  parley_budget_destroy(b);
}

struct ReentrantEmbedder {
  parley_budget *budget = nullptr;
  int calls = 0;
  int reentry_status = 0;
};

TEST(BudgetCApi, EmbedderMustNotCallBackAndIsToldSo) {
  parley_budget *b = nullptr;
  ASSERT_EQ(parley_budget_create(&b, R"({"target_ms": 300, "tokenizer": {"encoding": "heuristic"},
      "strategies": {"sliding_window": {"enabled": false}, "relevance": {"scorer": "embeddings"}}})"), PARLEY_OK);
  ReentrantEmbedder host{b, 0, 0};
  ASSERT_EQ(parley_budget_set_embedder(
                b,
                [](float *out, size_t capacity, const char *, void *u) {
                  auto *h = static_cast<ReentrantEmbedder *>(u);
                  ++h->calls;
                  h->reentry_status = parley_budget_record_ttft(h->budget, 1, 1);
                  EXPECT_GE(capacity, 2u);
                  out[0] = 1;
                  out[1] = 0;
                  return 2;
                },
                &host),
            PARLEY_OK);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(parley_budget_record_ttft(b, 100 + 0.1 * (500 + 300 * i), 500 + 300 * i), PARLEY_OK);
  nlohmann::json history = nlohmann::json::array();
  for (int i = 0; i < 200; ++i) {
    history.push_back({{"role", i % 2 ? "assistant" : "user"}, {"content", "some words about turn " + std::to_string(i)}});
  }
  char *out = nullptr;
  ASSERT_EQ(parley_budget_prepare(&out, b, history.dump().c_str()), PARLEY_OK);
  EXPECT_LT(nlohmann::json::parse(out).size(), history.size());
  parley_string_free(out);
  EXPECT_GT(host.calls, 0);
  EXPECT_EQ(host.reentry_status, PARLEY_ESTATE);
  parley_budget_destroy(b);
}

}  // namespace
