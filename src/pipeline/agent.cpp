#include "pipeline/agent.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <deque>
#include <map>
#include <mutex>
#include <optional>

#include "audio/resampler.hpp"
#include "audio/vad.hpp"
#include "budget/controller.hpp"
#include "common/error.hpp"
#include "core/logger.hpp"
#include "core/runtime.hpp"
#include "core/session.hpp"
#include "pipeline/chunker.hpp"
#include "pipeline/endpointing.hpp"
#include "pipeline/heard_text.hpp"
#include "pipeline/interruption.hpp"
#include "providers/llm/chat_json.hpp"
#include "providers/registry.hpp"

namespace parley::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
using core::EventType;
using nlohmann::json;
using std::chrono::milliseconds;

enum class AgentState { idle, listening, thinking, speaking };

const char *state_name(AgentState state) {
  switch (state) {
    case AgentState::idle: return "idle";
    case AgentState::listening: return "listening";
    case AgentState::thinking: return "thinking";
    case AgentState::speaking: return "speaking";
  }
  return "idle";
}

// What every call of one listener shares: the config, the provider builder, and the budget
// controller (one per listener, so the latency curve it learns spans calls).
struct AgentShared {
  AgentShared(core::Runtime &rt, AgentConfig cfg, ProviderBuilder build, std::string w, std::string p)
      : runtime(rt), config(std::move(cfg)), builder(std::move(build)), what(std::move(w)), path(std::move(p)) {}
  core::Runtime &runtime;
  const AgentConfig config;
  const ProviderBuilder builder;
  const std::string what;
  const std::string path;
  std::mutex budget_mutex;
  std::unique_ptr<budget::Controller> budget;
};

struct SpeechChunk {
  PlayedChunk played;
  std::string mark;
  int round = 0;
  std::unique_ptr<providers::TtsStream> tts;
  bool synthesis_started = false;
  bool audio_complete = false;
  bool mark_resolved = false;
  std::vector<int16_t> pending;  // audio that arrived before the chunk's turn to play
};

struct PendingTool {
  std::string name;
  std::string fallback;
  std::unique_ptr<boost::asio::steady_timer> timer;
};

struct TurnTimes {
  std::optional<milliseconds> speech_end, stt_final, end_of_turn, llm_request, first_token, tts_request,
      tts_first_byte, first_audio;
  std::optional<double> llm_ttft_ms;  // as the provider measured it
};

struct Turn {
  int number = 0;
  std::string user_text;
  size_t context_start = 0;  // index of the turn's first message in the context
  TurnTimes times;
  std::deque<SpeechChunk> chunks;  // a deque: references stay valid as chunks are added
  size_t playing = 0;              // the chunk whose audio goes to the session now
  std::unique_ptr<providers::Cancellable> llm;
  int round = 0;                   // LLM rounds: tool results start a new one
  std::map<int, size_t> round_message;  // round → its assistant message in the context
  std::map<std::string, PendingTool> tools;
  bool generating = false;  // an LLM round or a host tool is outstanding
  bool tool_timed_out = false;
  bool hang_up_after = false;
  std::string hang_up_reason;
  std::string transfer_after;  // a target: the call moves there once the turn was heard
  bool interrupted = false;
  std::string heard_text;
  int tokens_in = 0;
  int tokens_out = 0;
  json tool_log = json::array();
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Spoken pieces joined as one text: a chunk carries the space that followed it, except the
// last of an LLM round or a said line, so one is added where two would touch.
void append_spoken(std::string &to, std::string_view piece) {
  if (piece.empty()) return;
  if (!to.empty() && !is_space(to.back()) && !is_space(piece.front())) to += ' ';
  to += piece;
}

std::string join(const std::vector<std::string> &parts) {
  std::string out;
  for (const auto &part : parts) append_spoken(out, part);
  return out;
}

std::string trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

json span_ms(const std::optional<milliseconds> &from, const std::optional<milliseconds> &to) {
  if (!from || !to) return nullptr;
  return (*to - *from).count();
}

class Agent final : public core::SessionObserver, public std::enable_shared_from_this<Agent> {
 public:
  Agent(std::shared_ptr<AgentShared> shared, const std::shared_ptr<core::Session> &session)
      : shared_(std::move(shared)),
        session_(session),
        strand_(session->strand()),
        epoch_(Clock::now()),
        vad_(vad_config(shared_->config, session->options().sample_rate)),
        endpointer_(shared_->config.endpointing),
        chunker_(shared_->config.chunker),
        endpoint_timer_(strand_),
        chunk_timer_(strand_),
        idle_timer_(strand_),
        duration_timer_(strand_),
        interruption_timer_(strand_),
        resume_timer_(strand_) {}

  // Builds the providers; throws when they cannot be built.
  void start() {
    auto session = session_.lock();
    auto context = providers::make_context(shared_->runtime, strand_, session->id());
    providers_ = shared_->builder(config(), context, shared_->what, shared_->path);
    session_rate_ = session->options().sample_rate;
    if (providers_.stt->sample_rate() != session_rate_) stt_resampler_.emplace(session_rate_, providers_.stt->sample_rate());
    tts_rate_ = providers_.tts->sample_rate();
    if (!config().system_prompt.empty()) context_.push_back({"system", config().system_prompt, {}, {}});
  }

  // ---- session observer --------------------------------------------------------------
  void on_started(const core::CallInfo &) override {
    stt_ = providers_.stt->start({[this](const providers::Transcript &t) { on_transcript(t); }, {},
                                  [this](providers::ProviderError e) { on_stt_error(std::move(e)); }});
    set_state(AgentState::listening);
    if (config().max_call_duration.count() > 0) arm(duration_timer_, now() + config().max_call_duration, &Agent::on_max_duration);
    if (!config().greeting.empty()) {
      say(config().greeting, false);
    } else if (config().greet_from_llm) {
      begin_turn("");
      request_llm();
    } else {
      arm_idle_timer();
    }
  }

  void on_caller_audio(std::span<const int16_t> samples) override {
    if (!stt_ || closed_ || transferred_) return;
    push_to_stt(samples);
    const size_t n = vad_.frame_samples();
    if (!vad_aligned_) {
      // A transport's resampler holds a few samples back, so its first delivery is a little
      // short of a frame and every VAD frame would end a few samples into the next delivery:
      // each decision would wait one frame (20 ms) for them. Leading silence realigns them.
      vad_aligned_ = true;
      frames_.assign((n - samples.size() % n) % n, 0);
    }
    frames_.insert(frames_.end(), samples.begin(), samples.end());
    size_t offset = 0;
    for (; frames_.size() - offset >= n; offset += n) on_vad_frame(std::span<const int16_t>(frames_.data() + offset, n));
    frames_.erase(frames_.begin(), frames_.begin() + static_cast<std::ptrdiff_t>(offset));
  }

  void on_dtmf(std::string_view) override {
    if (!turn_) arm_idle_timer();  // a key press is the caller being there
  }

  void on_mark(std::string_view name, core::MarkOutcome outcome) override {
    if (!turn_) return;  // a mark of a turn already over (cleared by its interruption)
    for (auto &chunk : turn_->chunks) {
      if (chunk.mark != name) continue;
      chunk.mark_resolved = true;
      if (outcome == core::MarkOutcome::played) chunk.played.played_at = now();
      break;
    }
    if (turn_->generating && all_marks_resolved(*turn_)) set_state(AgentState::thinking);
    maybe_finish_turn();
  }

  void on_tool_result(const std::string &id, const std::string &result_json) override {
    if (!turn_ || turn_->tools.count(id) == 0) {
      log(core::LogLevel::warn, "tool result for '" + id + "' ignored: no such call is waiting (late or unknown)");
      return;
    }
    turn_->tools.erase(id);
    add_tool_message(id, result_json);
    after_tool_answer();
  }

  void on_closed(std::string_view reason) override {
    closed_ = true;
    deferred_turn_.reset();
    for (auto *timer : {&endpoint_timer_, &chunk_timer_, &idle_timer_, &duration_timer_, &interruption_timer_, &resume_timer_}) {
      timer->cancel();
    }
    if (turn_) {
      cancel_generation(*turn_);
      turn_->interrupted = !all_marks_resolved(*turn_);
      finish_turn();
    }
    if (stt_) stt_->cancel();
    set_state(AgentState::idle);
    log(core::LogLevel::debug, "agent stopped: " + std::string(reason));
  }

 private:
  static audio::VadConfig vad_config(const AgentConfig &config, int rate) {
    audio::VadConfig vad = config.vad;
    vad.sample_rate = rate;
    return vad;
  }

  const AgentConfig &config() const { return shared_->config; }
  core::RuntimeMetrics &metrics() { return shared_->runtime.metrics(); }
  milliseconds now() const { return std::chrono::duration_cast<milliseconds>(Clock::now() - epoch_); }

  void log(core::LogLevel level, const std::string &text) {
    if (auto session = session_.lock()) shared_->runtime.logger().log(level, session->id(), "agent: " + text);
  }

  void emit(EventType type, const json &payload) {
    if (auto session = session_.lock()) {
      session->emit_event(type, payload.dump(-1, ' ', false, json::error_handler_t::replace));
    }
  }

  void set_state(AgentState state) {
    if (state == state_) return;
    state_ = state;
    emit(EventType::agent_state, {{"state", state_name(state)}, {"turn", turn_ ? turn_->number : next_turn_ - 1}});
  }

  void arm(boost::asio::steady_timer &timer, milliseconds at, void (Agent::*handler)()) {
    timer.expires_at(epoch_ + at);
    timer.async_wait([weak = weak_from_this(), handler](const boost::system::error_code &ec) {
      if (ec) return;
      if (auto self = weak.lock(); self && !self->closed_) ((*self).*handler)();
    });
  }

  // Stops a provider stream now and frees it later: never inside its own callback.
  template <typename T>
  void retire(std::unique_ptr<T> &handle) {
    if (!handle) return;
    handle->cancel();
    boost::asio::post(strand_, [doomed = std::shared_ptr<T>(std::move(handle))] {});
  }

  // ---- hearing the caller ------------------------------------------------------------
  void push_to_stt(std::span<const int16_t> samples) {
    if (!stt_resampler_) return stt_->push_audio(samples.data(), samples.size());
    stt_buffer_.resize(stt_resampler_->max_output(samples.size()));
    const size_t n = stt_resampler_->process(samples, stt_buffer_);
    if (n > 0) stt_->push_audio(stt_buffer_.data(), n);
  }

  void on_vad_frame(std::span<const int16_t> frame) {
    const audio::VadEvent event = vad_.process(frame);
    // VAD times are stream time; this frame ends now on the agent's clock.
    const milliseconds shift = now() - (event.frame_start + audio::Vad::kFrameDuration);
    if (event.speech_started) on_speech_started(event.speech_start + shift);
    if (event.speech_stopped) on_speech_stopped(event.speech_end + shift);
  }

  void on_speech_started(milliseconds at) {
    caller_speaking_ = true;
    caller_speech_start_ = at;
    caller_words_.clear();
    idle_timer_.cancel();
    endpointer_.on_speech_start(at);
    if (state_ == AgentState::speaking && config().interruption.enabled) {
      interruption_pending_ = true;
      try_interrupt();
    }
    arm_endpoint_timer();
  }

  void on_speech_stopped(milliseconds at) {
    caller_speaking_ = false;
    last_speech_end_ = at;
    speech_stop_confirmed_at_ = now();
    interruption_pending_ = false;  // it ended without qualifying: a backchannel or a noise
    endpointer_.on_speech_end(at);
    if (stt_) stt_->finalize();
    arm_endpoint_timer();
  }

  void on_transcript(const providers::Transcript &transcript) {
    const milliseconds at = now();
    if (trimmed(transcript.text).empty()) {
      if (transcript.is_final) endpointer_.on_final("", at);
      return arm_endpoint_timer();
    }
    emit(EventType::transcript,
         {{"role", "user"}, {"text", transcript.text}, {"final", transcript.is_final}, {"turn", next_turn_}});
    if (transcript.is_final) {
      endpointer_.on_final(transcript.text, at);
      last_final_at_ = at;
    } else {
      endpointer_.on_partial(transcript.text, at);
    }
    caller_words_ = transcript.text;
    if (meaningful_words(transcript.text, config().interruption.backchannels) > 0) words_since_interruption_ = true;
    if (interruption_pending_) try_interrupt();
    arm_endpoint_timer();
  }

  void on_stt_error(providers::ProviderError error) {
    core::add(metrics().provider_errors);
    emit(EventType::session_error, {{"code", "stt"}, {"message", error.message}, {"fatal", error.fatal},
                                    {"error", json::parse(error.to_json(), nullptr, false)}});
    if (!error.fatal) return;
    log(core::LogLevel::error, "speech recognition failed: " + error.message);
    if (auto session = session_.lock()) session->hang_up("speech recognition failed");
  }

  void arm_endpoint_timer() {
    if (auto deadline = endpointer_.deadline()) {
      arm(endpoint_timer_, *deadline, &Agent::poll_endpointer);
    } else {
      endpoint_timer_.cancel();
    }
  }

  void poll_endpointer() {
    auto end = endpointer_.poll(now());
    if (!end) return arm_endpoint_timer();
    // The rule may have been met in the past of a backdated speech end; the turn ended only
    // when the VAD had confirmed that end (its stop window later), and `endpointing` says so.
    end->at = std::max(end->at, speech_stop_confirmed_at_);
    endpointer_.reset();
    if (trimmed(end->text).empty()) return;  // noise, or a cough: nothing was said
    const auto &interruption = config().interruption;
    if (state_ == AgentState::speaking && !interruption.backchannels.empty() &&
        meaningful_words(end->text, interruption.backchannels) == 0) {
      return;  // "uh-huh" while the agent talks: it goes on
    }
    words_since_interruption_ = true;
    if (state_ == AgentState::speaking) {
      deferred_turn_ = std::move(end);  // it did not interrupt: answer once the agent has finished
      return;
    }
    start_user_turn(*end);
  }

  // ---- interruptions -----------------------------------------------------------------
  void try_interrupt() {
    const auto &options = config().interruption;
    if (!interruption_pending_ || state_ != AgentState::speaking || !turn_) return;
    const bool needs_words = options.min_words > 0 || !options.backchannels.empty();
    if (needs_words && meaningful_words(caller_words_, options.backchannels) < std::max(1, options.min_words)) return;
    if (now() < caller_speech_start_ + options.min_duration) {
      return arm(interruption_timer_, caller_speech_start_ + options.min_duration, &Agent::try_interrupt);
    }
    interrupt();
  }

  void interrupt() {
    interruption_pending_ = false;
    auto session = session_.lock();
    if (!session || !turn_) return;
    session->clear();
    const milliseconds at = now();
    auto &turn = *turn_;
    cancel_generation(turn);
    const auto parts = heard_parts(played_chunks(turn), at);
    turn.heard_text = join(parts);
    turn.interrupted = true;
    resume_text_ = unheard_text(turn, parts);
    truncate_context(turn, parts);
    emit(EventType::interruption, {{"turn", turn.number}, {"heard_text", turn.heard_text}, {"resumed", false},
                                   {"clear_after_speech_start_ms", (at - caller_speech_start_).count()}});
    core::add(metrics().interruptions);
    metrics().barge_in.record(static_cast<double>((at - caller_speech_start_).count()));
    const int interrupted_turn = turn.number;
    finish_turn();
    interrupted_turn_ = interrupted_turn;
    const auto timeout = config().interruption.false_interruption_timeout;
    if (timeout.count() > 0 && !trimmed(resume_text_).empty()) {
      words_since_interruption_ = false;
      arm(resume_timer_, caller_speech_start_ + timeout, &Agent::check_false_interruption);
    }
  }

  // No words came after an interruption: it was a cough or a door; say the rest.
  void check_false_interruption() {
    if (words_since_interruption_ || turn_ || trimmed(resume_text_).empty()) return;
    if (caller_speaking_) return arm(resume_timer_, now() + milliseconds(200), &Agent::check_false_interruption);
    emit(EventType::interruption, {{"turn", interrupted_turn_}, {"heard_text", ""}, {"resumed", true}});
    core::add(metrics().false_interruptions);
    const std::string rest = std::exchange(resume_text_, {});
    say(rest, false);
  }

  static std::vector<PlayedChunk> played_chunks(const Turn &turn) {
    std::vector<PlayedChunk> out;
    for (const auto &chunk : turn.chunks) out.push_back(chunk.played);
    return out;
  }

  static std::string unheard_text(const Turn &turn, const std::vector<std::string> &parts) {
    std::string rest;
    for (size_t i = 0; i < turn.chunks.size(); ++i) append_spoken(rest, turn.chunks[i].played.text.substr(parts[i].size()));
    return trimmed(rest);
  }

  // The assistant's messages of this turn keep only what the caller heard.
  void truncate_context(Turn &turn, const std::vector<std::string> &parts) {
    std::map<int, std::string> heard_by_round;
    std::map<int, bool> whole_by_round;
    for (size_t i = 0; i < turn.chunks.size(); ++i) {
      const int round = turn.chunks[i].round;
      append_spoken(heard_by_round[round], parts[i]);
      whole_by_round.try_emplace(round, true);
      if (parts[i].size() != turn.chunks[i].played.text.size()) whole_by_round[round] = false;
    }
    for (const auto &[round, heard] : heard_by_round) {
      auto message = turn.round_message.find(round);
      if (message != turn.round_message.end()) {
        if (!whole_by_round[round]) context_[message->second].content = trimmed(heard);
      } else if (!trimmed(heard).empty()) {
        context_.push_back({"assistant", trimmed(heard), {}, {}});  // the round was cut mid-stream
      }
    }
  }

  // ---- turns -------------------------------------------------------------------------
  void begin_turn(std::string user_text) {
    turn_ = std::make_unique<Turn>();
    turn_->number = next_turn_++;
    turn_->user_text = std::move(user_text);
    turn_->context_start = context_.size();
    if (!turn_->user_text.empty()) context_.push_back({"user", turn_->user_text, {}, {}});
    chunker_.reset();
  }

  void start_user_turn(const EndOfTurn &end) {
    idle_timer_.cancel();
    reprompts_ = 0;
    resume_text_.clear();
    std::string text = trimmed(end.text);
    if (turn_ && !turn_->times.first_audio) {
      // The caller went on before the agent said anything: answer everything together.
      text = turn_->user_text.empty() ? text : turn_->user_text + " " + text;
      cancel_generation(*turn_);
      context_.resize(turn_->context_start);
      turn_.reset();
    } else if (turn_) {
      cancel_generation(*turn_);  // waiting for a tool after speaking: the caller moved on
      finish_turn();
    }
    begin_turn(text);
    auto &times = turn_->times;
    times.speech_end = last_speech_end_;
    if (last_final_at_ && last_speech_end_ && *last_final_at_ + milliseconds(5000) >= *last_speech_end_) {
      times.stt_final = last_final_at_;
    }
    times.end_of_turn = end.at;
    request_llm();
  }

  void finish_turn() {
    if (!turn_) return;
    auto turn = std::move(turn_);
    std::string agent_text;
    for (auto &chunk : turn->chunks) {
      append_spoken(agent_text, chunk.played.text);
      retire(chunk.tts);
    }
    if (!turn->interrupted) turn->heard_text = agent_text;
    if (!trimmed(turn->heard_text).empty()) {
      emit(EventType::transcript,
           {{"role", "agent"}, {"text", trimmed(turn->heard_text)}, {"final", true}, {"turn", turn->number}});
    }
    emit(EventType::turn, turn_json(*turn, trimmed(agent_text)));
    count_turn(*turn);
    set_state(AgentState::listening);
    if (turn->hang_up_after) {
      if (auto session = session_.lock()) session->hang_up(turn->hang_up_reason);
      return;
    }
    if (!turn->transfer_after.empty()) {
      transferred_ = true;  // the call is someone else's now: the agent stops listening
      set_state(AgentState::idle);
      if (auto session = session_.lock()) session->transfer(turn->transfer_after);
      return;
    }
    if (deferred_turn_) {
      auto end = std::move(*deferred_turn_);
      deferred_turn_.reset();
      return start_user_turn(end);
    }
    arm_idle_timer();
  }

  json turn_json(const Turn &turn, const std::string &agent_text) const {
    const auto &t = turn.times;
    json latency{{"endpointing", span_ms(t.speech_end, t.end_of_turn)},
                 {"stt_final", span_ms(t.speech_end, t.stt_final)},
                 {"llm_first_token", span_ms(t.stt_final ? t.stt_final : t.end_of_turn, t.first_token)},
                 {"llm_ttft", t.llm_ttft_ms ? json(*t.llm_ttft_ms) : json(nullptr)},
                 {"tts_request", span_ms(t.first_token, t.tts_request)},
                 {"tts_first_byte", span_ms(t.tts_request, t.tts_first_byte)},
                 {"first_audio", span_ms(t.tts_first_byte, t.first_audio)},
                 {"voice_to_voice", span_ms(t.speech_end, t.first_audio)}};
    return {{"turn", turn.number}, {"user_text", turn.user_text}, {"agent_text", agent_text},
            {"heard_text", trimmed(turn.heard_text)}, {"interrupted", turn.interrupted}, {"latency_ms", latency},
            {"tokens_in", turn.tokens_in}, {"tokens_out", turn.tokens_out}, {"tool_calls", turn.tool_log}};
  }

  void count_turn(const Turn &turn) {
    auto &m = metrics();
    core::add(m.turns);
    core::add(m.tokens_in, static_cast<uint64_t>(turn.tokens_in));
    core::add(m.tokens_out, static_cast<uint64_t>(turn.tokens_out));
    const auto &t = turn.times;
    auto record = [](core::LatencyHistogram &histogram, const std::optional<milliseconds> &from,
                     const std::optional<milliseconds> &to) {
      if (from && to) histogram.record(static_cast<double>((*to - *from).count()));
    };
    record(m.voice_to_voice, t.speech_end, t.first_audio);
    record(m.endpointing, t.speech_end, t.end_of_turn);
    record(m.stt_final, t.speech_end, t.stt_final);
    record(m.llm_first_token, t.stt_final ? t.stt_final : t.end_of_turn, t.first_token);
    record(m.tts_first_byte, t.tts_request, t.tts_first_byte);
  }

  static bool all_marks_resolved(const Turn &turn) {
    if (turn.playing < turn.chunks.size()) return false;
    for (const auto &chunk : turn.chunks) {
      if (!chunk.mark_resolved) return false;
    }
    return true;
  }

  void maybe_finish_turn() {
    if (!turn_ || turn_->generating || !all_marks_resolved(*turn_)) return;
    finish_turn();
  }

  // Says `text` as a turn of its own (greeting, re-prompt, goodbye, the rest after a false
  // interruption), without the model.
  void say(const std::string &text, bool then_hang_up, std::string reason = "agent said goodbye") {
    begin_turn("");
    for (auto &chunk : chunker_.push(text, now())) add_chunk(chunk.text);
    for (auto &chunk : chunker_.flush()) add_chunk(chunk.text);
    turn_->round_message[0] = context_.size();
    context_.push_back({"assistant", text, {}, {}});
    turn_->hang_up_after = then_hang_up;
    turn_->hang_up_reason = std::move(reason);
    maybe_finish_turn();
  }

  void arm_idle_timer() {
    if (config().idle.reprompt_after.count() > 0 && !closed_) {
      arm(idle_timer_, now() + config().idle.reprompt_after, &Agent::on_idle);
    }
  }

  void on_idle() {
    if (turn_ || caller_speaking_) return;
    if (++reprompts_ > config().idle.max_reprompts) return say(config().idle.goodbye, true, "caller silent");
    say(config().idle.reprompt, false);
  }

  void on_max_duration() {
    deferred_turn_.reset();
    if (turn_) {
      if (auto session = session_.lock()) session->clear();
      cancel_generation(*turn_);
      turn_->interrupted = true;
      finish_turn();
    }
    say(config().max_duration_message, true, "maximum call duration");
  }

  // ---- the model ---------------------------------------------------------------------
  void request_llm() {
    auto &turn = *turn_;
    providers::LlmRequest request;
    request.messages = context_;
    request.tools = tool_specs();
    request.temperature = config().temperature;
    request.max_tokens = config().max_tokens;
    apply_budget(request);
    if (!turn.times.llm_request) turn.times.llm_request = now();
    turn.generating = true;
    if (state_ != AgentState::speaking) set_state(AgentState::thinking);
    turn.llm = providers_.llm->stream(
        std::move(request),
        {[this](std::string_view delta) { on_llm_text(delta); },
         [this](const providers::ToolCallDelta &) { note_first_token(); },
         [this](providers::LlmResult result) { on_llm_done(std::move(result)); },
         [this](providers::ProviderError error) { on_llm_error(std::move(error)); }});
  }

  std::vector<providers::ToolSpec> tool_specs() const {
    std::vector<providers::ToolSpec> specs;
    for (const auto &tool : config().tools) specs.push_back(tool.spec);
    for (const auto &name : config().builtin_tools) specs.push_back(builtin_spec(name));
    return specs;
  }

  static providers::ToolSpec builtin_spec(const std::string &name) {
    if (name == "hang_up") {
      return {name, "End the call once your last sentence has been heard.",
              R"({"type":"object","properties":{"reason":{"type":"string"}}})"};
    }
    if (name == "send_dtmf") {
      return {name, "Send touch-tone digits on the call (0-9, *, #).",
              R"({"type":"object","properties":{"digits":{"type":"string"}},"required":["digits"]})"};
    }
    return {name, "Transfer the call to another number or agent.",
            R"({"type":"object","properties":{"target":{"type":"string"}},"required":["target"]})"};
  }

  void apply_budget(providers::LlmRequest &request) {
    if (!shared_->budget) return;
    try {
      std::lock_guard lock(shared_->budget_mutex);
      const std::string prepared = shared_->budget->prepare_json(providers::chat_messages_json(request.messages).dump());
      request.messages = providers::chat_messages_from_json(json::parse(prepared));
    } catch (const std::exception &e) {
      log(core::LogLevel::warn, std::string("budget controller skipped: ") + e.what());
    }
  }

  void note_first_token() {
    if (turn_ && !turn_->times.first_token) turn_->times.first_token = now();
  }

  void on_llm_text(std::string_view delta) {
    note_first_token();
    for (auto &chunk : chunker_.push(delta, now())) add_chunk(chunk.text);
    arm_chunk_timer();
  }

  void arm_chunk_timer() {
    if (auto deadline = chunker_.deadline()) {
      arm(chunk_timer_, *deadline, &Agent::poll_chunker);
    } else {
      chunk_timer_.cancel();
    }
  }

  void poll_chunker() {
    if (!turn_) return;
    for (auto &chunk : chunker_.poll(now())) add_chunk(chunk.text);
    arm_chunk_timer();
  }

  void on_llm_done(providers::LlmResult result) {
    auto &turn = *turn_;
    retire(turn.llm);
    for (auto &chunk : chunker_.flush()) add_chunk(chunk.text);
    chunk_timer_.cancel();
    if (result.usage) {
      turn.tokens_in += result.usage->prompt_tokens;
      turn.tokens_out += result.usage->completion_tokens;
    }
    if (result.time_to_first_token && !turn.times.llm_ttft_ms) {
      turn.times.llm_ttft_ms = static_cast<double>(result.time_to_first_token->count()) / 1000.0;
      record_budget_ttft(*turn.times.llm_ttft_ms, result.usage ? result.usage->prompt_tokens : -1);
    }
    if (!result.text.empty() || !result.tool_calls.empty()) {
      turn.round_message[turn.round] = context_.size();
      context_.push_back({"assistant", result.text, result.tool_calls, {}});
    }
    if (result.tool_calls.empty()) {
      turn.generating = false;
    } else {
      run_tools(result.tool_calls);
    }
    maybe_finish_turn();
  }

  void record_budget_ttft(double ttft_ms, int prompt_tokens) {
    if (!shared_->budget) return;
    try {
      std::lock_guard lock(shared_->budget_mutex);
      shared_->budget->record_ttft(ttft_ms, prompt_tokens);
    } catch (const std::exception &e) {
      log(core::LogLevel::debug, std::string("budget: ") + e.what());
    }
  }

  void on_llm_error(providers::ProviderError error) {
    auto &turn = *turn_;
    retire(turn.llm);
    core::add(metrics().provider_errors);
    emit(EventType::session_error, {{"code", "llm"}, {"message", error.message}, {"fatal", false},
                                    {"error", json::parse(error.to_json(), nullptr, false)}});
    for (auto &chunk : chunker_.flush()) add_chunk(chunk.text);
    add_chunk(config().tool_fallback);
    turn.generating = false;
    maybe_finish_turn();
  }

  // ---- tools -------------------------------------------------------------------------
  void run_tools(const std::vector<providers::ToolCall> &calls) {
    auto &turn = *turn_;
    ++turn.round;  // what the model says after the results is a new round
    bool ask_again = false;
    for (const auto &call : calls) {
      json arguments = json::parse(call.arguments.empty() ? "{}" : call.arguments, nullptr, false);
      if (arguments.is_discarded()) arguments = call.arguments;
      turn.tool_log.push_back({{"id", call.id}, {"name", call.name}, {"arguments", arguments}});
      if (is_builtin(call.name)) {
        const json result = run_builtin(call.name, arguments);
        add_tool_message(call.id, result.dump());
        // After hang_up or transfer the agent has nothing more to say, unless they failed.
        ask_again = ask_again || result.contains("error") || call.name == "send_dtmf";
      } else if (const HostTool *tool = host_tool(call.name)) {
        start_host_tool(call, arguments, *tool);
      } else {
        add_tool_message(call.id, json{{"error", "unknown tool '" + call.name + "'"}}.dump());
        ask_again = true;
      }
    }
    if (!turn.tools.empty()) return;  // the host answers; after_tool_answer() goes on
    if (ask_again) return request_llm();
    turn.generating = false;
  }

  bool is_builtin(const std::string &name) const {
    const auto &names = config().builtin_tools;
    return std::find(names.begin(), names.end(), name) != names.end();
  }

  const HostTool *host_tool(const std::string &name) const {
    for (const auto &tool : config().tools) {
      if (tool.spec.name == name) return &tool;
    }
    return nullptr;
  }

  static std::string string_argument(const json &arguments, const char *key) {
    if (arguments.is_object() && arguments.contains(key) && arguments[key].is_string()) return arguments[key].get<std::string>();
    return {};
  }

  json run_builtin(const std::string &name, const json &arguments) {
    if (name == "hang_up") {
      turn_->hang_up_after = true;
      turn_->hang_up_reason = string_argument(arguments, "reason");
      if (turn_->hang_up_reason.empty()) turn_->hang_up_reason = "agent hung up";
      return {{"ok", true}};
    }
    auto session = session_.lock();
    if (name == "send_dtmf") {
      const std::string digits = string_argument(arguments, "digits");
      if (digits.empty() || digits.find_first_not_of("0123456789*#ABCD") != std::string::npos) {
        return {{"error", "digits must be 0-9, *, # or A-D"}};
      }
      if (session && session->send_dtmf(digits)) return {{"ok", true}};
    } else {
      const std::string target = string_argument(arguments, "target");
      if (target.empty()) return {{"error", "target is required"}};
      // Like hang_up, the transfer waits until what the agent said before it was heard.
      if (session && session->transfer_supported()) {
        turn_->transfer_after = target;
        return {{"ok", true}};
      }
    }
    // Twilio Media Streams and the browser protocol cannot send tones or move the call from
    // inside the media stream; docs/agent.md says how a host does it with a tool of its own.
    return {{"error", name + " is not supported by this call's transport"}};
  }

  void start_host_tool(const providers::ToolCall &call, const json &arguments, const HostTool &tool) {
    emit(EventType::tool_call, {{"id", call.id}, {"name", call.name}, {"arguments", arguments}});
    core::add(metrics().tool_calls);
    PendingTool pending{call.name, tool.fallback.empty() ? config().tool_fallback : tool.fallback,
                        std::make_unique<boost::asio::steady_timer>(strand_)};
    pending.timer->expires_after(tool.timeout);
    pending.timer->async_wait([weak = weak_from_this(), id = call.id](const boost::system::error_code &ec) {
      if (ec) return;
      if (auto self = weak.lock(); self && !self->closed_) self->on_tool_timeout(id);
    });
    turn_->tools.emplace(call.id, std::move(pending));
  }

  void on_tool_timeout(const std::string &id) {
    if (!turn_) return;
    auto found = turn_->tools.find(id);
    if (found == turn_->tools.end()) return;
    log(core::LogLevel::warn, "tool " + found->second.name + " (" + id + ") did not answer in time");
    core::add(metrics().tool_timeouts);
    add_chunk(found->second.fallback);
    turn_->tools.erase(found);
    add_tool_message(id, json{{"error", "the tool did not answer in time"}}.dump());
    turn_->tool_timed_out = true;
    after_tool_answer();
  }

  void after_tool_answer() {
    if (!turn_->tools.empty()) return;
    if (turn_->tool_timed_out) {
      turn_->generating = false;  // the fallback was said; the model is not asked again
      return maybe_finish_turn();
    }
    request_llm();
  }

  void add_tool_message(const std::string &id, std::string content) {
    context_.push_back({"tool", std::move(content), {}, id});
  }

  // Stops the model, the voice and the tools of `turn`; what was said stays said.
  void cancel_generation(Turn &turn) {
    retire(turn.llm);
    chunker_.reset();
    chunk_timer_.cancel();
    for (auto &chunk : turn.chunks) {
      retire(chunk.tts);
      chunk.pending.clear();
      if (!chunk.audio_complete) chunk.audio_complete = true;
      chunk.mark_resolved = chunk.mark_resolved || !chunk.played.first_audio_at;
    }
    turn.playing = turn.chunks.size();
    for (auto &[id, tool] : turn.tools) add_tool_message(id, json{{"error", "cancelled: the caller interrupted"}}.dump());
    turn.tools.clear();
    turn.generating = false;
  }

  // ---- the voice ---------------------------------------------------------------------
  void add_chunk(const std::string &text) {
    if (trimmed(text).empty() || !turn_) return;
    auto &turn = *turn_;
    auto &chunk = turn.chunks.emplace_back();
    chunk.played.text = text;
    chunk.round = turn.round;
    chunk.mark = "t" + std::to_string(turn.number) + "c" + std::to_string(turn.chunks.size() - 1);
    emit(EventType::transcript, {{"role", "agent"}, {"text", trimmed(text)}, {"final", false}, {"turn", turn.number}});
    pump_tts();
  }

  void pump_tts() {
    auto &turn = *turn_;
    const size_t end = std::min(turn.chunks.size(), turn.playing + 1 + static_cast<size_t>(config().max_tts_lookahead));
    for (size_t i = turn.playing; i < end; ++i) {
      if (!turn.chunks[i].synthesis_started) start_tts(turn, i);
    }
  }

  void start_tts(Turn &turn, size_t index) {
    auto &chunk = turn.chunks[index];
    chunk.synthesis_started = true;
    if (!turn.times.tts_request) turn.times.tts_request = now();
    const int number = turn.number;
    chunk.tts = providers_.tts->start(
        {[this, number, index](const int16_t *samples, size_t count) { on_tts_audio(number, index, samples, count); },
         [this, number, index](std::vector<providers::WordTiming> words) {
           if (Turn *t = current(number)) {
             auto &target = t->chunks[index].played.words;
             target.insert(target.end(), words.begin(), words.end());
           }
         },
         [this, number, index] { on_tts_done(number, index); },
         [this, number, index](providers::ProviderError error) { on_tts_error(number, index, std::move(error)); }});
    chunk.tts->push_text(chunk.played.text);
    chunk.tts->finish();
  }

  Turn *current(int number) { return turn_ && turn_->number == number ? turn_.get() : nullptr; }

  void on_tts_audio(int number, size_t index, const int16_t *samples, size_t count) {
    Turn *turn = current(number);
    if (turn == nullptr || count == 0) return;
    auto &chunk = turn->chunks[index];
    if (!turn->times.tts_first_byte) turn->times.tts_first_byte = now();
    chunk.played.duration_ms += static_cast<double>(count) * 1000.0 / tts_rate_;
    if (index == turn->playing) {
      play(*turn, chunk, std::span<const int16_t>(samples, count));
    } else {
      chunk.pending.insert(chunk.pending.end(), samples, samples + count);
    }
  }

  void play(Turn &turn, SpeechChunk &chunk, std::span<const int16_t> samples) {
    auto session = session_.lock();
    if (!session) return;
    if (!chunk.played.first_audio_at) chunk.played.first_audio_at = now();
    if (!turn.times.first_audio) turn.times.first_audio = now();
    set_state(AgentState::speaking);
    try {
      session->play(samples, tts_rate_);
    } catch (const std::exception &e) {
      log(core::LogLevel::warn, std::string("agent audio dropped: ") + e.what());
    }
  }

  void on_tts_done(int number, size_t index) {
    Turn *turn = current(number);
    if (turn == nullptr) return;
    auto &chunk = turn->chunks[index];
    chunk.audio_complete = true;
    retire(chunk.tts);
    if (index == turn->playing) advance(*turn);
  }

  void on_tts_error(int number, size_t index, providers::ProviderError error) {
    core::add(metrics().provider_errors);
    emit(EventType::session_error, {{"code", "tts"}, {"message", error.message}, {"fatal", false},
                                    {"error", json::parse(error.to_json(), nullptr, false)}});
    on_tts_done(number, index);  // skip the chunk; the rest of the reply goes on
  }

  // Sends the mark of each finished chunk, then the audio already waiting in the next.
  void advance(Turn &turn) {
    auto session = session_.lock();
    while (turn.playing < turn.chunks.size() && turn.chunks[turn.playing].audio_complete) {
      auto &chunk = turn.chunks[turn.playing];
      if (!chunk.played.first_audio_at) {
        chunk.mark_resolved = true;  // nothing to hear (an empty synthesis or a failed chunk)
      } else if (session) {
        try {
          session->send_mark(chunk.mark);
        } catch (const std::exception &) {
          chunk.mark_resolved = true;  // the call is closing: no mark will come back
        }
      }
      ++turn.playing;
      if (turn.playing < turn.chunks.size()) {
        auto &next = turn.chunks[turn.playing];
        if (!next.pending.empty()) {
          auto waiting = std::move(next.pending);
          next.pending = {};
          play(turn, next, waiting);
        }
      }
    }
    pump_tts();
    maybe_finish_turn();
  }

  std::shared_ptr<AgentShared> shared_;
  std::weak_ptr<core::Session> session_;
  boost::asio::any_io_executor strand_;
  Clock::time_point epoch_;
  int session_rate_ = 16000;
  int tts_rate_ = 16000;
  // Before every stream: a provider outlives the streams it started.
  AgentProviders providers_;
  std::unique_ptr<providers::SttStream> stt_;
  std::optional<audio::Resampler> stt_resampler_;
  std::vector<int16_t> stt_buffer_;
  std::vector<int16_t> frames_;  // caller audio not yet a whole VAD frame
  bool vad_aligned_ = false;     // frames_ padded so VAD frames end where deliveries do
  audio::Vad vad_;
  Endpointer endpointer_;
  Chunker chunker_;
  std::vector<providers::ChatMessage> context_;
  std::unique_ptr<Turn> turn_;
  int next_turn_ = 0;
  AgentState state_ = AgentState::idle;
  bool closed_ = false;
  bool transferred_ = false;

  bool caller_speaking_ = false;
  milliseconds caller_speech_start_{0};
  std::string caller_words_;  // the latest transcript of the caller's current speech
  std::optional<milliseconds> last_speech_end_;
  milliseconds speech_stop_confirmed_at_{0};  // when the VAD reported the latest speech end
  std::optional<milliseconds> last_final_at_;
  std::optional<EndOfTurn> deferred_turn_;
  bool interruption_pending_ = false;
  bool words_since_interruption_ = false;
  int interrupted_turn_ = -1;
  std::string resume_text_;
  int reprompts_ = 0;

  boost::asio::steady_timer endpoint_timer_;
  boost::asio::steady_timer chunk_timer_;
  boost::asio::steady_timer idle_timer_;
  boost::asio::steady_timer duration_timer_;
  boost::asio::steady_timer interruption_timer_;
  boost::asio::steady_timer resume_timer_;
};

class AgentBehaviour final : public core::Behaviour {
 public:
  explicit AgentBehaviour(std::shared_ptr<AgentShared> shared) : shared_(std::move(shared)) {}

  void attach(const std::shared_ptr<core::Session> &session) override {
    const int rate = session->options().sample_rate;
    if (rate != 8000 && rate != 16000) {
      throw Error(Status::config, "agent: the session rate must be 8000 or 16000 (the VAD's); it is " + std::to_string(rate));
    }
    auto agent = std::make_shared<Agent>(shared_, session);
    agent->start();
    session->set_observer(std::move(agent));
  }

 private:
  std::shared_ptr<AgentShared> shared_;
};

}  // namespace

AgentProviders build_providers(const providers::Registry &registry, const AgentConfig &config,
                               const providers::ProviderContext &context, const std::string &what, const std::string &path) {
  AgentProviders out;
  out.stt = registry.make_stt(config.stt, context, what, path + ".stt");
  out.llm = registry.make_llm(config.llm, context, what, path + ".llm");
  out.tts = registry.make_tts(config.tts, context, what, path + ".tts");
  return out;
}

std::shared_ptr<core::Behaviour> make_agent_behaviour(core::Runtime &runtime, ProviderBuilder builder,
                                                      const nlohmann::json &json, const std::string &what,
                                                      const std::string &path) {
  auto shared = std::make_shared<AgentShared>(runtime, AgentConfig::parse(json, what, path), std::move(builder), what, path);
  // Build each provider once now, so a bad key or a missing model fails here.
  auto probe_strand = boost::asio::make_strand(runtime.io_context());
  shared->builder(shared->config, providers::make_context(runtime, probe_strand, "config-check"), what, path);
  if (!shared->config.budget.is_null()) shared->budget = budget::Controller::from_json(shared->config.budget.dump().c_str());
  return std::make_shared<AgentBehaviour>(std::move(shared));
}

void register_agent_behaviour(core::Runtime &runtime, ProviderBuilder builder) {
  runtime.register_behaviour("agent", [&runtime, builder](const nlohmann::json &json, const std::string &what,
                                                           const std::string &path) {
    return make_agent_behaviour(runtime, builder, json, what, path);
  });
}

}  // namespace parley::pipeline
