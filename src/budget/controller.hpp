// The TTFT budget controller: before each LLM call it decides whether and how far to
// compress the conversation, from a learned TTFT ~= a + b * prompt_tokens curve; afterwards
// it attributes the measured time-to-first-token, verifies that compression helped, and
// rolls back to full context when it did not. See docs/budget.md for the decision rules.
//
// Thread-safety: every member function may be called from any thread (one internal lock).
// Callbacks run on the calling thread, after the lock is released (so a callback may call
// back into the controller, e.g. provide_summary() from inside the summariser), except the
// embedding callback, which runs inside prepare() and must not call back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "budget/messages.hpp"
#include "budget/stats.hpp"
#include "budget/strategies.hpp"
#include "budget/tokenizer.hpp"

namespace parley::budget {

struct ControllerConfig {
  double target_ms = 800;   ///< the TTFT the chosen percentile must stay under
  double percentile = 95;
  std::string provider = "default";
  std::string model;
  std::string encoding = "auto";  ///< auto (from model), cl100k_base, o200k_base, heuristic
  std::string ranks_file;         ///< explicit rank file (either format)
  std::string ranks_dir;          ///< folder with <encoding>.tiktoken or <encoding>.json
  ChatFormat format;
  std::size_t window = 50;          ///< TTFT samples in the rolling statistics
  std::size_t curve_samples = 200;  ///< (tokens, TTFT) samples the fit uses
  std::size_t min_samples = 8;      ///< observed percentiles count from this many samples
  double hysteresis = 0.10;         ///< relative band between engaging and releasing
  std::size_t min_budget_tokens = 256;
  std::size_t protect_recent_messages = 2;
  std::size_t verify_turns = 6;     ///< compressed turns judged together before a rollback
  double min_gain_ms = 0;           ///< a compression must beat full context by more than this
  std::size_t cooldown_turns = 10;  ///< turns at full context after a rollback
  bool sliding_window = true;
  std::size_t keep_recent_messages = 6;
  bool relevance = true;
  bool relevance_embeddings = false;  ///< score with the host's embeddings instead of BM25
  bool summary = false;
  std::size_t summary_min_messages = 6;
};

/// Parses the JSON configuration (NULL or "" = defaults). Throws Error(Status::config)
/// naming the JSON path of any unknown key, wrong type or out-of-range value.
ControllerConfig parse_controller_config(const char *json_text);

/// The counter a configuration asks for: exact when a rank file is found (ranks_file, then
/// ranks_dir, then $PARLEY_TOKENIZER_RANKS_DIR), otherwise the heuristic estimator.
TokenCounter make_token_counter(const ControllerConfig &config);

/// What prepare() decided for one LLM call.
struct Decision {
  std::vector<bool> keep;                     ///< per input message
  std::optional<std::size_t> summary_before;  ///< the summary goes before this input message
  std::string summary_content;
  std::size_t full_tokens = 0;  ///< prompt tokens of the full history
  std::size_t sent_tokens = 0;  ///< prompt tokens of what is sent
  std::size_t budget_tokens = 0;  ///< 0 when no budget applies
  bool compressed = false;
  std::vector<std::string> strategies;  ///< in the order applied
  std::string reason;                   ///< one line, for logs and the compression callback
};

enum class ReportFormat { json, text };

class Controller {
 public:
  struct Callbacks {
    /// After each compression (and each rollback), with a JSON description.
    std::function<void(const std::string &json)> on_compression;
    /// When a TTFT exceeds the target, or a budget cannot be met. JSON description.
    std::function<void(const std::string &json)> on_violation;
    /// Embedding of a text, for relevance trim; empty result = unavailable (BM25 is used).
    std::function<std::vector<float>(const std::string &text)> embed;
    /// Asked to summarise `messages_json`; answer later with provide_summary(request_id, ...).
    std::function<void(std::uint64_t request_id, const std::string &messages_json)> summarise;
  };

  Controller(ControllerConfig config, TokenCounter counter);
  /// Parses the config and loads the tokenizer it names.
  static std::unique_ptr<Controller> from_json(const char *config_json);

  void set_callbacks(Callbacks callbacks);

  /// Decides what to send for `history`. The messages are not modified.
  Decision prepare(const std::vector<Message> &history);
  /// JSON in, JSON out: the messages to send (an OpenAI-style array).
  std::string prepare_json(std::string_view messages_json);

  /// Records the measured time to first token of the call prepared last. `prompt_tokens`
  /// < 0 means "the tokens of the last prepare()". Throws Error(invalid_argument) for a
  /// negative or non-finite TTFT, Error(state) for -1 with no prepare to attribute to.
  void record_ttft(double ttft_ms, std::int64_t prompt_tokens);

  /// Supplies the summary asked for by the summarise callback. Unknown or superseded
  /// request ids are ignored (returns false).
  bool provide_summary(std::uint64_t request_id, std::string_view summary);

  /// Switches the latency curve (kept per provider and model) the decisions use.
  void select_model(const std::string &provider, const std::string &model);

  std::size_t count_tokens(std::string_view text) const { return counter_.count(text); }
  const TokenCounter &counter() const noexcept { return counter_; }
  const ControllerConfig &config() const noexcept { return config_; }

  std::string stats_json() const;
  std::string report(ReportFormat format) const;

 private:
  struct ModelState {
    explicit ModelState(const ControllerConfig &c)
        : curve(c.curve_samples), ttft(c.window), uncompressed(c.window), residuals(c.curve_samples) {}
    LatencyCurve curve;
    RollingWindow ttft;
    RollingWindow uncompressed;
    RollingWindow residuals;  ///< every sample's TTFT minus the curve at its sent size
    std::deque<bool> residual_compressed;  ///< parallel to residuals: from a compressed turn?
    /// The noise margin to add to the curve to predict the configured percentile.
    double margin(const ControllerConfig &c) const;
  };
  struct Cached {
    std::size_t tokens = 0;
    std::shared_ptr<TermBag> terms;
    std::shared_ptr<std::vector<float>> embedding;
  };
  struct Summary {
    std::uint64_t request_id = 0;
    std::size_t covered = 0;      ///< leading compressible messages it stands for
    std::uint64_t covered_hash = 0;
    std::string content;
    std::size_t tokens = 0;
  };
  struct LastPrepare {
    bool valid = false;
    bool compressed = false;
    std::size_t full_tokens = 0;
    std::size_t sent_tokens = 0;
  };
  using Calls = std::vector<std::function<void()>>;

  ModelState &current_model();
  const ModelState *current_model() const;
  Cached &cached(const Message &message);
  void update_engagement(std::size_t full_tokens, Decision &decision);
  void compress(const std::vector<Message> &history, std::span<const std::size_t> tokens, Decision &decision,
                Calls &calls);
  std::vector<double> relevance_scores(const std::vector<Message> &history, const std::vector<Unit> &units,
                                       Decision &decision);
  std::vector<std::size_t> compressible_indices(const std::vector<Message> &history) const;
  std::uint64_t prefix_hash(const std::vector<Message> &history, const std::vector<std::size_t> &indices,
                            std::size_t count) const;
  void maybe_request_summary(const std::vector<Message> &history, const Decision &decision, Calls &calls);
  void rollback(Calls &calls, double median_gain);
  nlohmann::json report_json() const;

  ControllerConfig config_;
  TokenCounter counter_;
  Callbacks callbacks_;
  mutable std::recursive_mutex mutex_;
  bool in_embedding_callback_ = false;

  std::string model_key_;
  std::map<std::string, std::unique_ptr<ModelState>> models_;
  std::unordered_map<std::uint64_t, Cached> cache_;
  std::vector<Cached *> entries_;  ///< cache entries of the messages being prepared, by index
  RollingWindow all_ttft_{1 << 20};
  RollingWindow verify_gains_;

  bool engaged_ = false;
  std::size_t budget_ = 0;
  std::size_t cooldown_ = 0;
  LastPrepare last_;
  std::optional<Summary> summary_;
  std::optional<Summary> pending_summary_;
  std::uint64_t next_request_id_ = 1;

  std::size_t prepares_ = 0;
  std::size_t turns_ = 0;
  std::size_t compressions_ = 0;
  std::size_t helpful_ = 0;
  std::size_t harmful_ = 0;
  std::size_t rollbacks_ = 0;
  std::size_t violations_ = 0;
  std::size_t unreachable_ = 0;
  std::uint64_t tokens_saved_ = 0;
  std::map<std::string, std::size_t> strategy_counts_;
};

}  // namespace parley::budget
