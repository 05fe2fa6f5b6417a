#include "budget/simulator.hpp"

#include <algorithm>
#include <cmath>

#include "budget/json_config.hpp"

namespace parley::budget {
namespace {

constexpr std::string_view kContext = "simulation config";

const char *const kWords[] = {
    "the",      "a",        "to",        "and",      "of",       "I",         "you",      "it",       "is",
    "that",     "for",      "on",        "with",     "can",      "would",     "like",     "please",   "thanks",
    "order",    "delivery", "address",   "invoice",  "refund",   "account",   "password", "payment",  "card",
    "tomorrow", "morning",  "afternoon", "schedule", "doctor",   "appointment", "pharmacy", "insurance", "plan",
    "flight",   "hotel",    "booking",   "change",   "cancel",   "confirm",   "number",   "email",    "status",
    "tracking", "package",  "warehouse", "Berlin",   "Lisbon",   "Thursday",  "Friday",   "price",    "discount",
    "coupon",   "support",  "agent",     "manager",  "problem",  "error",     "network",  "router",   "restart"};

double uniform01(std::mt19937_64 &rng) { return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0); }

double pareto_noise(std::mt19937_64 &rng, double scale, double alpha) {
  const double u = std::max(uniform01(rng), 1e-12);
  return scale * (std::pow(u, -1.0 / alpha) - 1.0);
}

double simulated_ttft(const SimulationConfig &config, std::mt19937_64 &rng, std::size_t tokens, bool compressed) {
  return config.base_ms + config.ms_per_token * static_cast<double>(tokens) +
         pareto_noise(rng, config.noise_ms, config.tail_alpha) + (compressed ? config.compression_penalty_ms : 0.0);
}

}  // namespace

SimulationConfig parse_simulation_config(const char *json_text) {
  const auto root = json_config::parse_object(kContext, json_text);
  json_config::require_keys(kContext, root, "$",
                            {"turns", "base_ms", "ms_per_token", "noise_ms", "tail_alpha", "compression_penalty_ms",
                             "seed", "words_per_user_turn", "words_per_reply", "tool_call_every"});
  SimulationConfig c;
  auto size = [&](const char *key, std::size_t &value, std::int64_t min, std::int64_t max) {
    value = static_cast<std::size_t>(json_config::integer(kContext, root, "$", key, static_cast<std::int64_t>(value), min, max));
  };
  size("turns", c.turns, 1, 100000);
  c.base_ms = json_config::number(kContext, root, "$", "base_ms", c.base_ms, 0, 1e6);
  c.ms_per_token = json_config::number(kContext, root, "$", "ms_per_token", c.ms_per_token, 0, 1000);
  c.noise_ms = json_config::number(kContext, root, "$", "noise_ms", c.noise_ms, 0, 1e6);
  c.tail_alpha = json_config::number(kContext, root, "$", "tail_alpha", c.tail_alpha, 1.1, 100);
  c.compression_penalty_ms =
      json_config::number(kContext, root, "$", "compression_penalty_ms", c.compression_penalty_ms, -1e6, 1e6);
  c.seed = static_cast<std::uint64_t>(json_config::integer(kContext, root, "$", "seed", 42, 0, INT64_MAX));
  size("words_per_user_turn", c.words_per_user_turn, 1, 100000);
  size("words_per_reply", c.words_per_reply, 1, 100000);
  size("tool_call_every", c.tool_call_every, 0, 100000);
  return c;
}

ConversationGenerator::ConversationGenerator(const SimulationConfig &config) : config_(config), rng_(config.seed) {}

std::string ConversationGenerator::sentence(std::size_t words) {
  std::string text;
  constexpr std::size_t kCount = sizeof(kWords) / sizeof(kWords[0]);
  for (std::size_t i = 0; i < words; ++i) {
    if (i > 0) text += (i % 12 == 0) ? ". " : " ";
    text += kWords[rng_() % kCount];
  }
  return text + ".";
}

Message ConversationGenerator::make(const std::string &role, const std::string &text) {
  Message m;
  m.role = role;
  m.text = text;
  m.original = {{"role", role}, {"content", text}};
  return m;
}

void ConversationGenerator::add_user_turn(std::vector<Message> &history) {
  if (history.empty()) {
    history.push_back(make("system", "You are a concise, friendly phone agent for an online shop. " + sentence(120)));
    Message pinned = make("user", "My customer number is 4471-9930 and I always want email confirmations.");
    pinned.pinned = true;
    history.push_back(std::move(pinned));
    history.push_back(make("assistant", "Noted: customer 4471-9930, confirmations by email."));
  }
  ++turn_;
  history.push_back(make("user", sentence(config_.words_per_user_turn)));
  if (config_.tool_call_every > 0 && turn_ % config_.tool_call_every == 0) {
    Message call = make("assistant", "");
    const std::string id = "call_" + std::to_string(turn_);
    call.tool_call_ids.push_back(id);
    call.tool_call_text = "lookup_order {\"order\": \"" + std::to_string(turn_ * 7919 % 100000) + "\"}\n";
    call.original = {{"role", "assistant"},
                     {"content", nullptr},
                     {"tool_calls",
                      {{{"id", id},
                        {"type", "function"},
                        {"function", {{"name", "lookup_order"}, {"arguments", "{\"order\": \"" + std::to_string(turn_ * 7919 % 100000) + "\"}"}}}}}}};
    history.push_back(std::move(call));
    Message result = make("tool", "{\"status\": \"" + sentence(20) + "\"}");
    result.tool_call_id = id;
    result.original["tool_call_id"] = id;
    history.push_back(std::move(result));
  }
}

void ConversationGenerator::add_reply(std::vector<Message> &history) {
  history.push_back(make("assistant", sentence(config_.words_per_reply)));
}

SimulationResult simulate(Controller &controller, const SimulationConfig &config) {
  SimulationResult result;
  ConversationGenerator conversation(config);
  std::mt19937_64 latency_rng(config.seed ^ 0x5DEECE66Dull);
  std::vector<Message> history;
  for (std::size_t turn = 0; turn < config.turns; ++turn) {
    conversation.add_user_turn(history);
    const Decision decision = controller.prepare(history);
    const double ttft = simulated_ttft(config, latency_rng, decision.sent_tokens, decision.compressed);
    controller.record_ttft(ttft, -1);
    result.turns.push_back({decision.full_tokens, decision.sent_tokens, ttft, decision.compressed});
    result.tokens_removed += decision.full_tokens - std::min(decision.full_tokens, decision.sent_tokens);
    conversation.add_reply(history);
  }
  return result;
}

SimulationResult simulate_fixed_window(const SimulationConfig &config, const TokenCounter &counter,
                                       const ChatFormat &format, std::size_t keep_messages) {
  SimulationResult result;
  ConversationGenerator conversation(config);
  std::mt19937_64 latency_rng(config.seed ^ 0x5DEECE66Dull);
  std::vector<Message> history;
  for (std::size_t turn = 0; turn < config.turns; ++turn) {
    conversation.add_user_turn(history);
    std::vector<std::size_t> tokens(history.size());
    std::size_t full = static_cast<std::size_t>(std::max(0, format.reply_priming));
    for (std::size_t i = 0; i < history.size(); ++i) full += tokens[i] = message_tokens(history[i], counter, format);
    auto units = group_units(history, tokens, 1);
    for (auto &u : units) u.is_protected = history[u.first].is_instructions();  // a plain window: only the system prompt stays
    Selection selection{std::vector<bool>(history.size(), true), full};
    apply_sliding_window(units, selection, 0, keep_messages);
    const bool compressed = selection.tokens < full;
    const double ttft = simulated_ttft(config, latency_rng, selection.tokens, compressed);
    result.turns.push_back({full, selection.tokens, ttft, compressed});
    result.tokens_removed += full - selection.tokens;
    conversation.add_reply(history);
  }
  return result;
}

double turns_percentile(const SimulationResult &result, double p, std::size_t from, std::size_t to) {
  std::vector<double> values;
  for (std::size_t i = from; i < std::min(to, result.turns.size()); ++i) values.push_back(result.turns[i].ttft_ms);
  return percentile_of(values, p);
}

}  // namespace parley::budget
