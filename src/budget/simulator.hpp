// A simulated model and conversation, to exercise the controller without a provider:
// TTFT = a + b * prompt_tokens + heavy-tailed (Pareto) noise, optionally with a penalty on
// compressed prompts (as when compression breaks a provider's prompt cache).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "budget/controller.hpp"

namespace parley::budget {

struct SimulationConfig {
  std::size_t turns = 200;
  double base_ms = 250;           ///< a
  double ms_per_token = 0.12;     ///< b
  double noise_ms = 40;           ///< scale of the Pareto noise
  double tail_alpha = 2.5;        ///< Pareto shape: smaller = heavier tail
  double compression_penalty_ms = 0;  ///< added to every compressed prompt's TTFT
  std::uint64_t seed = 42;
  std::size_t words_per_user_turn = 40;
  std::size_t words_per_reply = 90;
  std::size_t tool_call_every = 7;  ///< every Nth turn calls a tool (0 = never)
};

/// Parses the simulation part of `parley budget simulate`'s JSON (NULL/"" = defaults).
SimulationConfig parse_simulation_config(const char *json_text);

struct TurnRecord {
  std::size_t full_tokens = 0;
  std::size_t sent_tokens = 0;
  double ttft_ms = 0;
  bool compressed = false;
};

struct SimulationResult {
  std::vector<TurnRecord> turns;
  std::uint64_t tokens_removed = 0;
};

/// A synthetic but token-realistic conversation: a system prompt, a pinned message, then
/// user/assistant turns with periodic tool calls and results.
class ConversationGenerator {
 public:
  explicit ConversationGenerator(const SimulationConfig &config);
  /// Appends the next user turn (and a tool exchange on tool turns) to `history`.
  void add_user_turn(std::vector<Message> &history);
  /// Appends the assistant's reply.
  void add_reply(std::vector<Message> &history);

 private:
  std::string sentence(std::size_t words);
  Message make(const std::string &role, const std::string &text);

  SimulationConfig config_;
  std::mt19937_64 rng_;
  std::size_t turn_ = 0;
};

/// Runs `turns` turns: grow the conversation, prepare(), simulate the TTFT, record it.
SimulationResult simulate(Controller &controller, const SimulationConfig &config);

/// The same conversation and model with a fixed sliding window of the last
/// `keep_messages` non-system messages, for comparison.
SimulationResult simulate_fixed_window(const SimulationConfig &config, const TokenCounter &counter,
                                       const ChatFormat &format, std::size_t keep_messages);

/// P-th percentile of the TTFTs of turns [from, to).
double turns_percentile(const SimulationResult &result, double p, std::size_t from, std::size_t to);

}  // namespace parley::budget
