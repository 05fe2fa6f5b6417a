// GCC 12 reports a false -Wrestrict inside std::string's operator+ at -O3 (GCC bug 105329).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
#include "budget/strategies.hpp"

#include <gtest/gtest.h>

#include <random>

namespace parley::budget {
namespace {

Message msg(const std::string &role, const std::string &text) {
  Message m;
  m.role = role;
  m.text = text;
  return m;
}

// A random conversation: system prompt, pinned facts, user/assistant turns, tool exchanges.
std::vector<Message> random_history(std::mt19937 &rng, std::size_t turns) {
  std::vector<Message> h{msg("system", "be brief")};
  for (std::size_t t = 0; t < turns; ++t) {
    h.push_back(msg("user", "question " + std::to_string(t)));
    if (rng() % 9 == 0) h.back().pinned = true;
    if (rng() % 3 == 0) {
      Message call = msg("assistant", "");
      const std::size_t calls = 1 + rng() % 2;
      for (std::size_t c = 0; c < calls; ++c) call.tool_call_ids.push_back("c" + std::to_string(t) + "_" + std::to_string(c));
      h.push_back(call);
      for (std::size_t c = 0; c < calls; ++c) {
        Message result = msg("tool", "result");
        result.tool_call_id = call.tool_call_ids[c];
        h.push_back(result);
      }
    }
    h.push_back(msg("assistant", "answer " + std::to_string(t)));
  }
  h.push_back(msg("user", "latest question"));
  return h;
}

void check_invariants(const std::vector<Message> &h, const Selection &s, std::span<const std::size_t> tokens) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (h[i].role == "system" || h[i].pinned) {
      EXPECT_TRUE(s.keep[i]) << "instructions and pinned messages stay";
    }
    if (s.keep[i]) total += tokens[i];
    if (h[i].role == "tool") {
      std::size_t j = i;
      while (h[j].role == "tool") --j;  // its assistant call
      EXPECT_EQ(s.keep[i], s.keep[j]) << "a tool result goes with its call (message " << i << ")";
    }
  }
  EXPECT_TRUE(s.keep.back()) << "the latest user turn stays";
  EXPECT_EQ(total, s.tokens);
}

TEST(Strategies, InvariantsHoldForRandomHistoriesAndBudgets) {
  std::mt19937 rng(17);
  for (int round = 0; round < 300; ++round) {
    const auto h = random_history(rng, 1 + rng() % 30);
    std::vector<std::size_t> tokens(h.size());
    std::size_t total = 0;
    for (auto &t : tokens) total += t = 5 + rng() % 50;
    const auto units = group_units(h, tokens, 2);
    const std::size_t budget = rng() % (total + 1);
    Selection window{std::vector<bool>(h.size(), true), total};
    apply_sliding_window(units, window, budget, rng() % 8);
    check_invariants(h, window, tokens);
    // The window drops a prefix of the droppable units: nothing kept is older than something dropped.
    bool seen_kept_droppable = false;
    for (const auto &u : units) {
      if (u.is_protected) continue;
      if (window.keep[u.first]) {
        seen_kept_droppable = true;
      } else {
        EXPECT_FALSE(seen_kept_droppable) << "sliding window keeps order: oldest go first";
      }
    }
    std::vector<double> scores(units.size());
    for (auto &s : scores) s = static_cast<double>(rng() % 100);
    Selection trim{std::vector<bool>(h.size(), true), total};
    apply_relevance_trim(units, scores, trim, budget);
    check_invariants(h, trim, tokens);
    if (trim.tokens > budget) {
      for (const auto &u : units) EXPECT_TRUE(u.is_protected || !trim.keep[u.first]) << "stops only when nothing is left";
    }
  }
}

TEST(Strategies, SlidingWindowStopsAtTheRecentWindowAndMeetsBudgetOtherwise) {
  std::vector<Message> h{msg("system", "s")};
  for (int i = 0; i < 10; ++i) h.push_back(msg(i % 2 ? "assistant" : "user", "m"));
  const std::vector<std::size_t> tokens(h.size(), 10);
  const auto units = group_units(h, tokens, 1);
  Selection s{std::vector<bool>(h.size(), true), 110};
  EXPECT_EQ(apply_sliding_window(units, s, 0, 4), 60u);  // 6 old messages go, the last 4 stay
  EXPECT_EQ(s.tokens, 50u);
  Selection t{std::vector<bool>(h.size(), true), 110};
  EXPECT_EQ(apply_sliding_window(units, t, 85, 4), 30u);  // only as much as needed
  EXPECT_TRUE(t.keep[0] && !t.keep[1] && !t.keep[3] && t.keep[4]);
}

TEST(Strategies, Bm25RanksTheRelevantTurnFirst) {
  const TermBag billing = make_term_bag("My invoice shows a double charge on my card");
  const TermBag weather = make_term_bag("Is it going to rain in Lisbon tomorrow?");
  const TermBag greeting = make_term_bag("Hello, thanks for calling!");
  const TermBag query = make_term_bag("Can you refund the double charge on the invoice?");
  const std::vector<const TermBag *> docs{&billing, &weather, &greeting};
  const auto scores = bm25_scores(docs, query);
  EXPECT_GT(scores[0], scores[1]);
  EXPECT_GT(scores[0], scores[2]);
  EXPECT_EQ(scores[1], 0);
  EXPECT_EQ(make_term_bag("Hello HELLO hello!").size(), 1u);
  EXPECT_EQ(make_term_bag("Hello HELLO hello!")[0].second, 3u);
}

TEST(Strategies, CosineSimilarity) {
  const std::vector<float> a{1, 0, 0};
  const std::vector<float> b{0.5f, 0.5f, 0};
  EXPECT_NEAR(cosine_similarity(a, a), 1, 1e-9);
  EXPECT_NEAR(cosine_similarity(a, b), 0.70710678, 1e-6);
  EXPECT_EQ(cosine_similarity(a, std::vector<float>{1, 0}), 0);
  EXPECT_EQ(cosine_similarity(a, std::vector<float>{0, 0, 0}), 0);
}

}  // namespace
}  // namespace parley::budget
