#include "budget/controller.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "budget/json_config.hpp"
#include "common/error.hpp"

namespace parley::budget {
namespace {

using nlohmann::json;
constexpr std::string_view kContext = "budget config";
constexpr const char *kSummaryPrefix = "Summary of the earlier conversation:\n";
// Below this slope (ms per token) prompt size does not drive latency: compressing is futile.
constexpr double kMinSlope = 1e-4;
// ...and the trend must be significant (Kendall's tau z-score), not noise on a flat line.
constexpr double kMinTrendZ = 3.0;

void parse_tokenizer(const json &root, ControllerConfig &c) {
  const auto it = root.find("tokenizer");
  if (it == root.end()) return;
  const std::string path = "$.tokenizer";
  json_config::require_keys(kContext, *it, path, {"encoding", "ranks_file", "ranks_dir"});
  c.encoding = json_config::choice(kContext, *it, path, "encoding", c.encoding,
                                   {"auto", "cl100k_base", "o200k_base", "heuristic"});
  c.ranks_file = json_config::string(kContext, *it, path, "ranks_file", c.ranks_file);
  c.ranks_dir = json_config::string(kContext, *it, path, "ranks_dir", c.ranks_dir);
}

void parse_chat_format(const json &root, ControllerConfig &c) {
  const auto it = root.find("chat_format");
  if (it == root.end()) return;
  const std::string path = "$.chat_format";
  json_config::require_keys(kContext, *it, path, {"per_message", "per_name", "reply_priming", "per_tool_call"});
  auto field = [&](const char *key, int &value) {
    value = static_cast<int>(json_config::integer(kContext, *it, path, key, value, -16, 64));
  };
  field("per_message", c.format.per_message);
  field("per_name", c.format.per_name);
  field("reply_priming", c.format.reply_priming);
  field("per_tool_call", c.format.per_tool_call);
}

std::size_t size_field(const json &object, const std::string &path, const char *key, std::size_t fallback,
                       std::int64_t min, std::int64_t max) {
  return static_cast<std::size_t>(
      json_config::integer(kContext, object, path, key, static_cast<std::int64_t>(fallback), min, max));
}

void parse_statistics(const json &root, ControllerConfig &c) {
  const auto it = root.find("statistics");
  if (it == root.end()) return;
  const std::string path = "$.statistics";
  json_config::require_keys(kContext, *it, path, {"window", "curve_samples", "min_samples"});
  c.window = size_field(*it, path, "window", c.window, 5, 10000);
  c.curve_samples = size_field(*it, path, "curve_samples", c.curve_samples, 10, 1000);
  c.min_samples = size_field(*it, path, "min_samples", c.min_samples, 3, 1000);
}

void parse_verify(const json &root, ControllerConfig &c) {
  const auto it = root.find("verify");
  if (it == root.end()) return;
  const std::string path = "$.verify";
  json_config::require_keys(kContext, *it, path, {"turns", "min_gain_ms", "cooldown_turns"});
  c.verify_turns = size_field(*it, path, "turns", c.verify_turns, 1, 1000);
  c.min_gain_ms = json_config::number(kContext, *it, path, "min_gain_ms", c.min_gain_ms, -1e6, 1e6);
  c.cooldown_turns = size_field(*it, path, "cooldown_turns", c.cooldown_turns, 0, 100000);
}

void parse_strategies(const json &root, ControllerConfig &c) {
  const auto it = root.find("strategies");
  if (it == root.end()) return;
  const std::string path = "$.strategies";
  json_config::require_keys(kContext, *it, path, {"sliding_window", "relevance", "summary"});
  if (const auto s = it->find("sliding_window"); s != it->end()) {
    const std::string p = path + ".sliding_window";
    json_config::require_keys(kContext, *s, p, {"enabled", "keep_recent_messages"});
    c.sliding_window = json_config::boolean(kContext, *s, p, "enabled", c.sliding_window);
    c.keep_recent_messages = size_field(*s, p, "keep_recent_messages", c.keep_recent_messages, 0, 100000);
  }
  if (const auto s = it->find("relevance"); s != it->end()) {
    const std::string p = path + ".relevance";
    json_config::require_keys(kContext, *s, p, {"enabled", "scorer"});
    c.relevance = json_config::boolean(kContext, *s, p, "enabled", c.relevance);
    c.relevance_embeddings =
        json_config::choice(kContext, *s, p, "scorer", c.relevance_embeddings ? "embeddings" : "bm25",
                            {"bm25", "embeddings"}) == "embeddings";
  }
  if (const auto s = it->find("summary"); s != it->end()) {
    const std::string p = path + ".summary";
    json_config::require_keys(kContext, *s, p, {"enabled", "min_messages"});
    c.summary = json_config::boolean(kContext, *s, p, "enabled", c.summary);
    c.summary_min_messages = size_field(*s, p, "min_messages", c.summary_min_messages, 1, 100000);
  }
}

std::string model_key(const std::string &provider, const std::string &model) {
  return model.empty() ? provider : provider + "/" + model;
}

double round2(double v) { return std::round(v * 100.0) / 100.0; }

}  // namespace

ControllerConfig parse_controller_config(const char *json_text) {
  const json root = json_config::parse_object(kContext, json_text);
  json_config::require_keys(kContext, root, "$",
                            {"target_ms", "percentile", "provider", "model", "tokenizer", "chat_format",
                             "statistics", "hysteresis", "min_budget_tokens", "protect_recent_messages", "verify",
                             "strategies"});
  ControllerConfig c;
  c.target_ms = json_config::number(kContext, root, "$", "target_ms", c.target_ms, 1, 600000);
  c.percentile = json_config::number(kContext, root, "$", "percentile", c.percentile, 50, 99.9);
  c.provider = json_config::string(kContext, root, "$", "provider", c.provider);
  c.model = json_config::string(kContext, root, "$", "model", c.model);
  c.format = chat_format_for_model(c.model);
  parse_tokenizer(root, c);
  parse_chat_format(root, c);
  parse_statistics(root, c);
  c.hysteresis = json_config::number(kContext, root, "$", "hysteresis", c.hysteresis, 0, 0.5);
  c.min_budget_tokens = size_field(root, "$", "min_budget_tokens", c.min_budget_tokens, 0, 100000000);
  c.protect_recent_messages = size_field(root, "$", "protect_recent_messages", c.protect_recent_messages, 1, 100000);
  parse_verify(root, c);
  parse_strategies(root, c);
  if (c.provider.empty()) json_config::fail(kContext, "$.provider", "must not be empty");
  return c;
}

TokenCounter make_token_counter(const ControllerConfig &config) {
  if (config.encoding == "heuristic") return TokenCounter();
  std::optional<Encoding> encoding = encoding_from_name(config.encoding);
  if (!encoding) encoding = encoding_for_model(config.model);
  if (!encoding) encoding = Encoding::o200k_base;
  if (!config.ranks_file.empty()) {
    try {
      if (config.encoding != "auto") return TokenCounter(Tokenizer::load_file(config.ranks_file, encoding));
      try {
        return TokenCounter(Tokenizer::load_file(config.ranks_file, std::nullopt));  // JSON: pat_str decides
      } catch (const Error &e) {
        if (e.status() != Status::invalid_argument) throw;
        return TokenCounter(Tokenizer::load_file(config.ranks_file, encoding));  // .tiktoken: from the model
      }
    } catch (const Error &e) {
      throw Error(Status::config, std::string(kContext) + ": $.tokenizer.ranks_file: " + e.what());
    }
  }
  std::vector<std::string> dirs;
  if (!config.ranks_dir.empty()) dirs.push_back(config.ranks_dir);
  if (const char *env = std::getenv("PARLEY_TOKENIZER_RANKS_DIR"); env != nullptr && *env != '\0') dirs.emplace_back(env);
  for (const auto &dir : dirs) {
    for (const char *extension : {".tiktoken", ".json"}) {
      const std::filesystem::path candidate = std::filesystem::path(dir) / (std::string(encoding_name(*encoding)) + extension);
      std::error_code error;
      if (std::filesystem::is_regular_file(candidate, error)) {
        return TokenCounter(Tokenizer::load_file(candidate.string(), encoding));
      }
    }
  }
  return TokenCounter();
}

Controller::Controller(ControllerConfig config, TokenCounter counter)
    : config_(std::move(config)), counter_(std::move(counter)), verify_gains_(config_.verify_turns) {
  model_key_ = model_key(config_.provider, config_.model);
}

std::unique_ptr<Controller> Controller::from_json(const char *config_json) {
  ControllerConfig config = parse_controller_config(config_json);
  TokenCounter counter = make_token_counter(config);
  return std::make_unique<Controller>(std::move(config), std::move(counter));
}

void Controller::set_callbacks(Callbacks callbacks) {
  const std::lock_guard lock(mutex_);
  callbacks_ = std::move(callbacks);
}

void Controller::select_model(const std::string &provider, const std::string &model) {
  if (provider.empty()) throw Error(Status::invalid_argument, "select_model: provider must not be empty");
  const std::lock_guard lock(mutex_);
  model_key_ = model_key(provider, model);
}

// Residuals of all recent samples, compressed ones included: the curve itself learns only
// from full-context turns (which stop while compressing), but the noise keeps being
// measured on every turn, so the margin tracks the tail the controller actually sees.
double Controller::ModelState::margin(const ControllerConfig &c) const {
  if (residuals.size() >= c.min_samples) return residuals.percentile(c.percentile);
  return curve.residual_percentile(c.percentile);
}

Controller::ModelState &Controller::current_model() {
  auto &slot = models_[model_key_];
  if (!slot) slot = std::make_unique<ModelState>(config_);
  return *slot;
}

const Controller::ModelState *Controller::current_model() const {
  const auto it = models_.find(model_key_);
  return it == models_.end() ? nullptr : it->second.get();
}

Controller::Cached &Controller::cached(const Message &message) {
  auto [it, inserted] = cache_.try_emplace(message.content_hash());
  if (inserted) it->second.tokens = message_tokens(message, counter_, config_.format);
  return it->second;
}

Decision Controller::prepare(const std::vector<Message> &history) {
  Calls calls;
  Decision decision;
  {
    const std::lock_guard lock(mutex_);
    if (in_embedding_callback_) throw Error(Status::state, "budget: prepare called from its own embedding callback");
    ++prepares_;
    if (cache_.size() > 100000) cache_.clear();  // bounds memory in very long sessions
    std::vector<std::size_t> tokens(history.size());
    entries_.resize(history.size());
    decision.full_tokens = static_cast<std::size_t>(std::max(0, config_.format.reply_priming));
    for (std::size_t i = 0; i < history.size(); ++i) {
      entries_[i] = &cached(history[i]);  // stable: unordered_map never moves its elements
      tokens[i] = entries_[i]->tokens;
      decision.full_tokens += tokens[i];
    }
    decision.keep.assign(history.size(), true);
    decision.sent_tokens = decision.full_tokens;
    update_engagement(decision.full_tokens, decision);
    if (engaged_ && decision.full_tokens > budget_) compress(history, tokens, decision, calls);
    last_ = {true, decision.compressed, decision.full_tokens, decision.sent_tokens};
    if (decision.compressed) {
      ++compressions_;
      tokens_saved_ += decision.full_tokens - decision.sent_tokens;
      for (const auto &s : decision.strategies) ++strategy_counts_[s];
      if (callbacks_.on_compression) {
        json event = {{"action", "compress"},       {"full_tokens", decision.full_tokens},
                      {"sent_tokens", decision.sent_tokens}, {"budget_tokens", decision.budget_tokens},
                      {"strategies", decision.strategies},    {"reason", decision.reason}};
        calls.push_back([cb = callbacks_.on_compression, text = event.dump()] { cb(text); });
      }
    }
  }
  for (auto &call : calls) call();
  return decision;
}

// Engages compression when the learned curve (or, before there is one, the observed
// percentile) says full context misses the target; releases it only once full context is
// predicted comfortably (by `hysteresis`) under the target, so it does not oscillate.
void Controller::update_engagement(std::size_t full_tokens, Decision &decision) {
  if (cooldown_ > 0) {
    engaged_ = false;
    decision.reason = "full context: rolled back, " + std::to_string(cooldown_) + " turns of cooldown left";
    return;
  }
  ModelState &model = current_model();
  const double target = config_.target_ms;
  const auto &fit = model.curve.fit();
  const bool size_driven = fit && fit->slope > kMinSlope && fit->trend_z >= kMinTrendZ;
  const double margin = fit ? model.margin(config_) : 0;
  const double predicted_full = fit ? fit->predict(static_cast<double>(full_tokens)) + margin : 0;
  const bool observed_ready = model.ttft.size() >= config_.min_samples;
  const double observed = observed_ready ? model.ttft.percentile(config_.percentile) : 0;
  if (!engaged_) {
    engaged_ = (size_driven && predicted_full > target) || (!fit && observed_ready && observed > target);
    if (engaged_) budget_ = 0;
  } else if (fit && (!size_driven || predicted_full <= target * (1 - config_.hysteresis))) {
    engaged_ = false;
  }
  if (!engaged_) {
    decision.reason = fit && !size_driven && observed > target
                          ? "full context: TTFT does not grow with prompt size, compression cannot help"
                          : "full context: predicted within target";
    return;
  }
  // Aim at the middle of the band, so that noise around the aim stays under the target.
  const double aim = target * (1 - config_.hysteresis / 2);
  double raw = 0;
  if (size_driven) {
    raw = (aim - fit->intercept - margin) / fit->slope;
    decision.reason = "budget from curve a=" + std::to_string(round2(fit->intercept)) +
                      " ms, b=" + std::to_string(fit->slope) + " ms/token, margin " +
                      std::to_string(round2(margin)) + " ms";
  } else {
    // No curve yet: scale the prompt down in proportion to the overshoot, with the band.
    raw = static_cast<double>(full_tokens) * aim / std::max(observed, 1.0);
    decision.reason = "budget scaled from observed P" + std::to_string(static_cast<int>(config_.percentile)) +
                      " (no curve yet)";
  }
  raw = std::max(raw, static_cast<double>(config_.min_budget_tokens));
  const double current = static_cast<double>(budget_);
  // Keep the budget still unless the curve moved it by more than half the band.
  if (budget_ == 0 || std::fabs(raw - current) > current * config_.hysteresis / 2) {
    budget_ = static_cast<std::size_t>(std::min(raw, 1e12));
  }
  decision.budget_tokens = budget_;
}

std::vector<std::size_t> Controller::compressible_indices(const std::vector<Message> &history) const {
  std::vector<std::size_t> indices;
  for (std::size_t i = 0; i < history.size(); ++i) {
    if (!history[i].is_instructions() && !history[i].pinned) indices.push_back(i);
  }
  return indices;
}

std::uint64_t Controller::prefix_hash(const std::vector<Message> &history, const std::vector<std::size_t> &indices,
                                      std::size_t count) const {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (std::size_t k = 0; k < count && k < indices.size(); ++k) {
    h = (h ^ history[indices[k]].content_hash()) * 0x100000001B3ull;
  }
  return h;
}

std::vector<double> Controller::relevance_scores(const std::vector<Message> &history, const std::vector<Unit> &units,
                                                 Decision &decision) {
  std::size_t query = history.size();
  for (std::size_t i = history.size(); i-- > 0;) {
    if (history[i].role == "user") {
      query = i;
      break;
    }
  }
  std::vector<double> scores(units.size(), 0.0);
  if (query == history.size()) return scores;
  if (config_.relevance_embeddings && callbacks_.embed) {
    auto embedding_of = [&](std::size_t index) -> std::shared_ptr<std::vector<float>> {
      const Message &m = history[index];
      Cached &entry = *entries_[index];
      if (!entry.embedding) {
        in_embedding_callback_ = true;
        try {
          entry.embedding = std::make_shared<std::vector<float>>(callbacks_.embed(m.text + "\n" + m.tool_call_text));
        } catch (...) {
          in_embedding_callback_ = false;
          throw;
        }
        in_embedding_callback_ = false;
      }
      return entry.embedding;
    };
    const auto query_vector = embedding_of(query);
    if (!query_vector->empty()) {
      for (std::size_t u = 0; u < units.size(); ++u) {
        if (units[u].is_protected) continue;
        double best = -1;
        for (std::size_t m = units[u].first; m <= units[u].last; ++m) {
          best = std::max(best, cosine_similarity(*embedding_of(m), *query_vector));
        }
        scores[u] = best;
      }
      return scores;
    }
    decision.reason += "; embeddings unavailable, BM25 used";
  }
  auto bag_of = [&](std::size_t index) -> const TermBag * {
    const Message &m = history[index];
    Cached &entry = *entries_[index];
    if (!entry.terms) entry.terms = std::make_shared<TermBag>(make_term_bag(m.text + "\n" + m.tool_call_text));
    return entry.terms.get();
  };
  std::vector<TermBag> merged(units.size());
  std::vector<const TermBag *> documents(units.size());
  for (std::size_t u = 0; u < units.size(); ++u) {
    if (units[u].first == units[u].last) {
      documents[u] = bag_of(units[u].first);
      continue;
    }
    std::vector<const TermBag *> parts;
    for (std::size_t m = units[u].first; m <= units[u].last; ++m) parts.push_back(bag_of(m));
    merged[u] = merge_term_bags(parts);
    documents[u] = &merged[u];
  }
  return bm25_scores(documents, *bag_of(query));
}

// Cheapest first: a ready summary stands in for the oldest messages; the sliding window
// drops the oldest units outside the recent window; relevance trim drops the units least
// related to the latest user turn; a last sliding pass may go into the recent window.
void Controller::compress(const std::vector<Message> &history, std::span<const std::size_t> tokens,
                          Decision &decision, Calls &calls) {
  const std::size_t budget = budget_;
  const auto units = group_units(history, tokens, config_.protect_recent_messages);
  Selection selection{decision.keep, decision.full_tokens};
  const auto compressible = compressible_indices(history);
  if (summary_ && summary_->covered <= compressible.size() &&
      prefix_hash(history, compressible, summary_->covered) == summary_->covered_hash) {
    bool all_droppable = true;
    for (std::size_t k = 0; k < summary_->covered; ++k) {
      const std::size_t m = compressible[k];
      const auto unit = std::find_if(units.begin(), units.end(), [&](const Unit &u) { return u.first <= m && m <= u.last; });
      all_droppable = all_droppable && unit != units.end() && !unit->is_protected;
    }
    if (all_droppable) {
      for (std::size_t k = 0; k < summary_->covered; ++k) {
        selection.keep[compressible[k]] = false;
        selection.tokens -= tokens[compressible[k]];
      }
      // Dropping a message partially out of a unit would split a tool call from its result.
      for (const Unit &u : units) {
        const bool any_dropped = std::any_of(selection.keep.begin() + static_cast<std::ptrdiff_t>(u.first),
                                             selection.keep.begin() + static_cast<std::ptrdiff_t>(u.last) + 1,
                                             [](bool k) { return !k; });
        if (!any_dropped) continue;
        for (std::size_t m = u.first; m <= u.last; ++m) {
          if (selection.keep[m]) {
            selection.keep[m] = false;
            selection.tokens -= tokens[m];
          }
        }
      }
      selection.tokens += summary_->tokens;
      decision.summary_before = compressible[0];
      decision.summary_content = summary_->content;
      decision.strategies.emplace_back("summary");
    }
  }
  if (config_.sliding_window && selection.tokens > budget &&
      apply_sliding_window(units, selection, budget, config_.keep_recent_messages) > 0) {
    decision.strategies.emplace_back("sliding_window");
  }
  if (config_.relevance && selection.tokens > budget) {
    const auto scores = relevance_scores(history, units, decision);
    if (apply_relevance_trim(units, scores, selection, budget) > 0) decision.strategies.emplace_back("relevance");
  }
  if (selection.tokens > budget && apply_sliding_window(units, selection, budget, 0) > 0 &&
      std::find(decision.strategies.begin(), decision.strategies.end(), "sliding_window") == decision.strategies.end()) {
    decision.strategies.emplace_back("sliding_window");
  }
  decision.keep = std::move(selection.keep);
  decision.sent_tokens = selection.tokens;
  decision.compressed = decision.sent_tokens < decision.full_tokens || decision.summary_before.has_value();
  if (selection.tokens > budget) {
    ++unreachable_;
    if (callbacks_.on_violation) {
      json event = {{"kind", "budget_unreachable"}, {"budget_tokens", budget}, {"sent_tokens", selection.tokens},
                    {"reason", "protected messages alone exceed the budget"}};
      calls.push_back([cb = callbacks_.on_violation, text = event.dump()] { cb(text); });
    }
  }
  maybe_request_summary(history, decision, calls);
}

// Asks the host for a summary of the oldest dropped messages once enough of them have
// gone beyond what the current summary covers. The host answers whenever it likes; until
// then the messages are simply dropped, so no turn ever waits for a summary.
void Controller::maybe_request_summary(const std::vector<Message> &history, const Decision &decision, Calls &calls) {
  if (!config_.summary || !callbacks_.summarise || pending_summary_) return;
  const auto compressible = compressible_indices(history);
  std::size_t dropped_prefix = 0;
  while (dropped_prefix < compressible.size() && !decision.keep[compressible[dropped_prefix]]) ++dropped_prefix;
  const std::size_t covered = summary_ ? summary_->covered : 0;
  if (dropped_prefix < covered + config_.summary_min_messages) return;
  Summary pending;
  pending.request_id = next_request_id_++;
  pending.covered = dropped_prefix;
  pending.covered_hash = prefix_hash(history, compressible, dropped_prefix);
  json messages = json::array();
  for (std::size_t k = 0; k < dropped_prefix; ++k) messages.push_back(history[compressible[k]].original);
  pending_summary_ = pending;
  calls.push_back([cb = callbacks_.summarise, id = pending.request_id, text = messages.dump()] { cb(id, text); });
}

bool Controller::provide_summary(std::uint64_t request_id, std::string_view summary) {
  const std::lock_guard lock(mutex_);
  if (!pending_summary_ || pending_summary_->request_id != request_id) return false;
  Summary ready = *pending_summary_;
  pending_summary_.reset();
  if (summary.empty()) return true;  // the host declined; the messages stay dropped
  ready.content = kSummaryPrefix + std::string(summary);
  Message as_message;
  as_message.role = "system";
  as_message.text = ready.content;
  ready.tokens = message_tokens(as_message, counter_, config_.format);
  summary_ = std::move(ready);
  return true;
}

std::string Controller::prepare_json(std::string_view messages_json) {
  const std::vector<Message> history = parse_messages(messages_json);
  const Decision decision = prepare(history);
  Message summary;
  if (decision.summary_before) {
    summary.role = "system";
    summary.original = {{"role", "system"}, {"content", decision.summary_content}};
  }
  std::vector<const Message *> out;
  for (std::size_t i = 0; i < history.size(); ++i) {
    if (decision.summary_before == i) out.push_back(&summary);
    if (decision.keep[i]) out.push_back(&history[i]);
  }
  return serialize_messages(out);
}

void Controller::record_ttft(double ttft_ms, std::int64_t prompt_tokens) {
  if (!std::isfinite(ttft_ms) || ttft_ms < 0 || ttft_ms > 3.6e6) {
    throw Error(Status::invalid_argument, "record_ttft: ttft_ms must be a finite number in [0, 3600000]");
  }
  if (prompt_tokens < -1) throw Error(Status::invalid_argument, "record_ttft: prompt_tokens must be >= 0, or -1");
  Calls calls;
  {
    const std::lock_guard lock(mutex_);
    if (in_embedding_callback_) throw Error(Status::state, "budget: record_ttft called from its own embedding callback");
    if (prompt_tokens == -1 && !last_.valid) {
      throw Error(Status::state, "record_ttft: prompt_tokens is -1 but there is no prepare() to attribute it to");
    }
    const bool attributed = last_.valid && (prompt_tokens == -1 || static_cast<std::size_t>(prompt_tokens) == last_.sent_tokens);
    const double sent = prompt_tokens >= 0 ? static_cast<double>(prompt_tokens) : static_cast<double>(last_.sent_tokens);
    const bool compressed = attributed && last_.compressed;
    const double full = attributed ? static_cast<double>(last_.full_tokens) : sent;
    last_.valid = false;
    ++turns_;
    ModelState &model = current_model();
    model.ttft.add(ttft_ms);
    all_ttft_.add(ttft_ms);
    if (cooldown_ > 0) --cooldown_;
    if (const auto &fit = model.curve.fit()) {
      model.residuals.add(ttft_ms - fit->predict(sent));
      model.residual_compressed.push_back(compressed);
      if (model.residual_compressed.size() > model.residuals.size()) model.residual_compressed.pop_front();
    }
    if (!compressed) {
      model.curve.add(sent, ttft_ms);
      model.uncompressed.add(ttft_ms);
    } else {
      // Did it help? Compare with what full context would have taken: the curve's
      // prediction, or before there is a curve, the median of uncompressed turns.
      const auto &fit = model.curve.fit();
      const bool has_baseline = fit.has_value() || !model.uncompressed.empty();
      if (has_baseline) {
        const double baseline = fit ? fit->predict(full) : model.uncompressed.percentile(50);
        const double gain = baseline - ttft_ms;
        // Compressed samples never feed the curve: if compression itself costs time (a lost
        // prompt cache), they would bend the curve and hide exactly that.
        if (gain > config_.min_gain_ms) {
          ++helpful_;
        } else {
          ++harmful_;
        }
        verify_gains_.add(gain);
        if (verify_gains_.size() >= config_.verify_turns) {
          const double median_gain = verify_gains_.percentile(50);
          if (median_gain <= config_.min_gain_ms) rollback(calls, median_gain);
        }
      }
    }
    if (ttft_ms > config_.target_ms) {
      ++violations_;
      if (callbacks_.on_violation) {
        json event = {{"kind", "ttft_over_target"},
                      {"ttft_ms", ttft_ms},
                      {"target_ms", config_.target_ms},
                      {"prompt_tokens", sent},
                      {"recent_percentile_ms", round2(model.ttft.percentile(config_.percentile))}};
        calls.push_back([cb = callbacks_.on_violation, text = event.dump()] { cb(text); });
      }
    }
  }
  for (auto &call : calls) call();
}

void Controller::rollback(Calls &calls, double median_gain) {
  ++rollbacks_;
  // What the compressed turns measured was the cost of compressing, not the model's noise:
  // forget those residuals, or the margin would demand ever deeper compression next time.
  ModelState &model = current_model();
  RollingWindow kept(model.residuals.capacity());
  std::deque<bool> kept_flags;
  for (std::size_t i = 0; i < model.residuals.size(); ++i) {
    if (model.residual_compressed[i]) continue;
    kept.add(model.residuals.values()[i]);
    kept_flags.push_back(false);
  }
  model.residuals = std::move(kept);
  model.residual_compressed = std::move(kept_flags);
  engaged_ = false;
  budget_ = 0;
  cooldown_ = config_.cooldown_turns;
  verify_gains_ = RollingWindow(config_.verify_turns);
  if (callbacks_.on_compression) {
    json event = {{"action", "rollback"},
                  {"median_gain_ms", round2(median_gain)},
                  {"cooldown_turns", cooldown_},
                  {"reason", "compressed turns were not faster than full context"}};
    calls.push_back([cb = callbacks_.on_compression, text = event.dump()] { cb(text); });
  }
}

std::string Controller::stats_json() const {
  const std::lock_guard lock(mutex_);
  const ModelState *model = current_model();
  json stats = {{"model", model_key_}, {"samples", model ? model->ttft.size() : 0}};
  if (model) {
    stats["p50_ms"] = round2(model->ttft.percentile(50));
    stats["p95_ms"] = round2(model->ttft.percentile(95));
    stats["p99_ms"] = round2(model->ttft.percentile(99));
    stats["jitter_ms"] = round2(model->ttft.jitter());
  }
  const auto *fit = model && model->curve.fit() ? &*model->curve.fit() : nullptr;
  stats["fit"] = fit ? json{{"intercept_ms", round2(fit->intercept)}, {"ms_per_token", fit->slope}, {"samples", fit->samples}}
                     : json(nullptr);
  stats["engaged"] = engaged_;
  stats["budget_tokens"] = engaged_ && budget_ > 0 ? json(budget_) : json(nullptr);
  stats["cooldown_turns"] = cooldown_;
  stats["tokenizer"] = {{"name", counter_.name()}, {"exact", counter_.exact()}};
  return stats.dump();
}

json Controller::report_json() const {
  const double p95 = all_ttft_.percentile(95);
  json models = json::array();
  for (const auto &[key, state] : models_) {
    const auto &fit = state->curve.fit();
    models.push_back({{"model", key},
                      {"samples", state->curve.samples()},
                      {"fit", fit ? json{{"intercept_ms", round2(fit->intercept)}, {"ms_per_token", fit->slope}}
                                  : json(nullptr)}});
  }
  return {{"turns", turns_},
          {"prepares", prepares_},
          {"target_ms", config_.target_ms},
          {"percentile", config_.percentile},
          {"ttft_ms",
           {{"p50", round2(all_ttft_.percentile(50))},
            {"p95", round2(p95)},
            {"p99", round2(all_ttft_.percentile(99))},
            {"jitter", round2(all_ttft_.jitter())}}},
          {"target_met", turns_ > 0 && all_ttft_.percentile(config_.percentile) <= config_.target_ms},
          {"compressions", compressions_},
          {"compressions_helpful", helpful_},
          {"compressions_harmful", harmful_},
          {"rollbacks", rollbacks_},
          {"tokens_saved", tokens_saved_},
          {"violations", violations_},
          {"budget_unreachable", unreachable_},
          {"strategies", strategy_counts_},
          {"tokenizer", {{"name", counter_.name()}, {"exact", counter_.exact()}}},
          {"models", models}};
}

std::string Controller::report(ReportFormat format) const {
  const std::lock_guard lock(mutex_);
  const json r = report_json();
  if (format == ReportFormat::json) return r.dump();
  std::ostringstream out;
  const auto &t = r["ttft_ms"];
  out << "turns              " << turns_ << "\n"
      << "TTFT P50/P95/P99   " << t["p50"].get<double>() << " / " << t["p95"].get<double>() << " / "
      << t["p99"].get<double>() << " ms (jitter " << t["jitter"].get<double>() << " ms)\n"
      << "target             P" << config_.percentile << " <= " << config_.target_ms << " ms: "
      << (r["target_met"].get<bool>() ? "met" : "NOT met") << "\n"
      << "compressions       " << compressions_ << " (helpful " << helpful_ << ", harmful " << harmful_
      << ", rollbacks " << rollbacks_ << ")\n"
      << "tokens saved       " << tokens_saved_ << "\n"
      << "violations         " << violations_ << " turns over target, " << unreachable_ << " budgets unreachable\n"
      << "strategies         ";
  if (strategy_counts_.empty()) out << "none";
  for (const auto &[name, count] : strategy_counts_) out << name << " x" << count << "  ";
  out << "\ntokenizer          " << counter_.name() << (counter_.exact() ? " (exact)" : " (approximate)") << "\n";
  for (const auto &m : r["models"]) {
    out << "curve              " << m["model"].get<std::string>() << ": ";
    if (m["fit"].is_null()) {
      out << "not fitted yet";
    } else {
      out << "TTFT = " << m["fit"]["intercept_ms"].get<double>() << " ms + " << m["fit"]["ms_per_token"].get<double>()
          << " ms/token";
    }
    out << " (" << m["samples"].get<std::size_t>() << " samples)\n";
  }
  return out.str();
}

}  // namespace parley::budget
