#include "providers/llm/scripted.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <concepts>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.hpp"
#include "core/logger.hpp"
#include "providers/registry.hpp"

namespace parley::providers {
namespace {

using Clock = std::chrono::steady_clock;

// A model's prompt-token count, approximated with the streaming tokenizer plus OpenAI's
// per-message overhead. The providers module cannot use budget/'s exact BPE (it is a
// higher layer), and nothing here needs exactness.
int estimate_prompt_tokens(const LlmRequest &request) {
  size_t tokens = 3;  // the reply's priming
  for (const auto &message : request.messages) {
    tokens += 4 + scripted::split_tokens(message.content).size();
    for (const auto &call : message.tool_calls) {
      tokens += scripted::split_tokens(call.name).size() + scripted::split_tokens(call.arguments).size();
    }
  }
  for (const auto &tool : request.tools) {
    tokens += scripted::split_tokens(tool.name).size() + scripted::split_tokens(tool.description).size() +
              scripted::split_tokens(tool.parameters_json).size();
  }
  return static_cast<int>(tokens);
}

// One completion as it streams. Timer handlers hold it alive; the handle the caller got
// cancels it. Everything runs on the provider's executor, so nothing here is locked.
struct StreamState : std::enable_shared_from_this<StreamState> {
  struct Piece {
    int tool = -1;            // -1: text; otherwise the index of the tool call it belongs to
    bool tool_start = false;  // the delta carrying the call's id and name
    std::string text;
  };

  StreamState(boost::asio::any_io_executor executor, LlmCallbacks cb)
      : timer(std::move(executor)), callbacks(std::move(cb)) {}

  boost::asio::steady_timer timer;
  LlmCallbacks callbacks;
  std::vector<Piece> pieces;
  std::vector<ToolCall> planned;  // the calls the pieces spell out
  size_t next = 0;
  Clock::time_point started = Clock::now();
  Clock::duration interval{};
  bool truncated = false;  // max_tokens cut the reply short
  LlmResult result;
  bool ended = false;        // done, failed or cancelled: nothing more is delivered
  bool in_callback = false;  // a callback of ours is on the stack

  void begin(std::chrono::milliseconds first_token_delay) {
    timer.expires_after(first_token_delay);
    arm();
  }

  void arm() {
    timer.async_wait([self = shared_from_this()](const boost::system::error_code &ec) { self->tick(ec); });
  }

  void tick(const boost::system::error_code &ec) {
    if (ec || ended) return;
    if (next < pieces.size()) {
      deliver(pieces[next++]);
      if (ended) return;
      if (next < pieces.size() && interval == Clock::duration::zero()) {
        // Unpaced: one token per executor turn, without a trip through the timer queue.
        boost::asio::post(timer.get_executor(), [self = shared_from_this()] { self->tick({}); });
        return;
      }
      if (next < pieces.size()) {
        // From the previous expiry, not from now: the pace holds even if the executor is busy.
        timer.expires_at(timer.expiry() + interval);
        arm();
        return;
      }
      // The end of a stream comes in its own executor turn, as a model's final chunk does.
      boost::asio::post(timer.get_executor(), [self = shared_from_this()] {
        if (!self->ended) self->finish();
      });
      return;
    }
    finish();
  }

  void deliver(const Piece &piece) {
    if (!result.time_to_first_token) {
      result.time_to_first_token = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
    }
    in_callback = true;
    if (piece.tool < 0) {
      result.text += piece.text;
      if (callbacks.on_text) callbacks.on_text(piece.text);
    } else {
      const ToolCall &call = planned[static_cast<size_t>(piece.tool)];
      ToolCallDelta delta;
      delta.index = piece.tool;
      if (piece.tool_start) {
        result.tool_calls.push_back({call.id, call.name, ""});
        delta.id = call.id;
        delta.name = call.name;
      } else {
        result.tool_calls.back().arguments += piece.text;
        delta.arguments = piece.text;
      }
      if (callbacks.on_tool_call_delta) callbacks.on_tool_call_delta(delta);
    }
    in_callback = false;
    if (ended) callbacks = {};  // cancelled from inside the callback: release it now
  }

  void finish() {
    ended = true;
    result.finish_reason = truncated ? "length" : result.tool_calls.empty() ? "stop" : "tool_calls";
    result.usage->completion_tokens = static_cast<int>(next);
    // Moved out first: on_done may destroy the handle, and the callbacks may hold what owns it.
    auto on_done = std::move(callbacks.on_done);
    callbacks = {};
    if (on_done) on_done(std::move(result));
  }

  void fail(ProviderError error) {
    boost::asio::post(timer.get_executor(), [self = shared_from_this(), error = std::move(error)]() mutable {
      if (self->ended) return;
      self->ended = true;
      auto on_error = std::move(self->callbacks.on_error);
      self->callbacks = {};
      if (on_error) on_error(std::move(error));
    });
  }

  void cancel() {
    ended = true;
    timer.cancel();
    if (!in_callback) callbacks = {};  // else deliver() releases them when the callback returns
  }
};

class ScriptedStream final : public Cancellable {
 public:
  explicit ScriptedStream(std::shared_ptr<StreamState> state) : state_(std::move(state)) {}
  ~ScriptedStream() override { state_->cancel(); }
  void cancel() override { state_->cancel(); }

 private:
  std::shared_ptr<StreamState> state_;
};

class ScriptedLlm final : public Llm {
 public:
  ScriptedLlm(std::shared_ptr<const scripted::Flow> flow, ScriptedOptions options, const ProviderContext &context)
      : flow_(std::move(flow)), options_(options), context_(context) {}

  const std::string &name() const noexcept override { return name_; }

  std::unique_ptr<Cancellable> stream(LlmRequest request, LlmCallbacks callbacks) override {
    auto state = std::make_shared<StreamState>(context_.executor, std::move(callbacks));
    state->result.usage = LlmUsage{estimate_prompt_tokens(request), 0};
    if (options_.tokens_per_second > 0) {
      state->interval = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(1.0 / options_.tokens_per_second));
    }
    try {
      plan(*state, flow_->respond(request.messages, options_.seed), request.max_tokens);
    } catch (const std::exception &e) {
      // A regex that gives up on a pathological utterance (std::regex_error), or memory.
      state->fail(ProviderError{ErrorKind::internal, name_, std::string("flow failed: ") + e.what()});
      return std::make_unique<ScriptedStream>(std::move(state));
    }
    state->begin(options_.first_token_delay);
    return std::make_unique<ScriptedStream>(std::move(state));
  }

 private:
  // Splits the turn into the pieces the stream delivers: the reply's tokens, then per tool
  // call one delta with its id and name and the arguments token by token.
  void plan(StreamState &state, scripted::Turn turn, std::optional<int> max_tokens) const {
    for (auto token : scripted::split_tokens(turn.text)) state.pieces.push_back({-1, false, std::string(token)});
    const size_t text_pieces = state.pieces.size();
    for (size_t i = 0; i < turn.tool_calls.size(); ++i) {
      const int index = static_cast<int>(i);
      state.pieces.push_back({index, true, {}});
      for (auto token : scripted::split_tokens(turn.tool_calls[i].arguments)) {
        state.pieces.push_back({index, false, std::string(token)});
      }
    }
    state.planned = std::move(turn.tool_calls);
    if (max_tokens && static_cast<size_t>(std::max(*max_tokens, 0)) < state.pieces.size()) {
      // As a model does at its limit: the text stops mid-reply and no tool call is made.
      state.pieces.resize(std::min(static_cast<size_t>(std::max(*max_tokens, 0)), text_pieces));
      state.planned.clear();
      state.truncated = true;
    }
    if (context_.logger && context_.logger->enabled(core::LogLevel::debug)) {
      // The caller's words stay out of the log; the flow's path through them is enough.
      context_.logger->log(core::LogLevel::debug, context_.call_id,
                           "scripted: intent \"" + turn.intent + "\", state \"" + turn.state + "\", " +
                               std::to_string(state.pieces.size()) + " tokens, " +
                               std::to_string(state.planned.size()) + " tool calls");
    }
  }

  const std::string name_ = "scripted";
  std::shared_ptr<const scripted::Flow> flow_;
  ScriptedOptions options_;
  ProviderContext context_;
};

std::string read_file(core::ConfigReader &config, const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) config.fail("flow", "cannot read \"" + path + "\": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// ConfigReader hands out scalars and objects, not the raw JSON an inline flow needs. When it
// offers `raw(key)` (requested from the lead), "flow_json" may be an object; until then it is a
// string holding the flow's JSON text.
template <typename Reader>
const nlohmann::json *raw_value(Reader &config, std::string_view key) {
  if constexpr (requires {
                  { config.raw(key) } -> std::convertible_to<const nlohmann::json *>;
                }) {
    return config.raw(key);
  } else {
    return nullptr;
  }
}

std::shared_ptr<const scripted::Flow> load_flow(core::ConfigReader &config) {
  const auto file = config.optional_string("flow");
  const nlohmann::json *inline_flow = raw_value(config, "flow_json");
  std::optional<std::string> inline_text;
  if (!inline_flow || inline_flow->is_string()) inline_text = config.optional_string("flow_json");
  if (file && (inline_flow || inline_text)) config.fail("flow_json", "give \"flow\" or \"flow_json\", not both");
  try {
    if (file) return scripted::Flow::parse_text(read_file(config, *file));
    if (inline_text) return scripted::Flow::parse_text(*inline_text);
    if (inline_flow) return scripted::Flow::parse(*inline_flow);
  } catch (const scripted::FlowError &e) {
    // The flow's own path continues the config's: "$.flow_json" + ".states.ask_day...".
    if (file) config.fail("flow", *file + ": " + e.what());
    config.fail("flow_json" + e.path().substr(1), e.problem());
  }
  config.fail("flow", "missing: give \"flow\" (a flow file) or \"flow_json\" (the flow itself)");
}

}  // namespace

std::unique_ptr<Llm> make_scripted_llm(std::shared_ptr<const scripted::Flow> flow, ScriptedOptions options,
                                       const ProviderContext &context) {
  return std::make_unique<ScriptedLlm>(std::move(flow), options, context);
}

std::unique_ptr<Llm> make_scripted_llm(core::ConfigReader &config, const ProviderContext &context) {
  auto flow = load_flow(config);
  ScriptedOptions options;
  options.tokens_per_second = config.number("tokens_per_second", options.tokens_per_second, 0, 1e6);
  options.first_token_delay = std::chrono::milliseconds(
      config.integer("first_token_delay_ms", options.first_token_delay.count(), 0, 600000));
  options.seed = static_cast<uint64_t>(config.integer("seed", 0, 0, INT64_MAX));
  return make_scripted_llm(std::move(flow), options, context);
}

void register_scripted(Registry &registry) {
  registry.add_llm("scripted", [](core::ConfigReader &config, const ProviderContext &context) {
    return make_scripted_llm(config, context);
  });
}

}  // namespace parley::providers
