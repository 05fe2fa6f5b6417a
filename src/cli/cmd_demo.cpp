// parley demo: a whole call on this machine, no network and no keys. A local agent —
// pocketsphinx with the appointment grammar, the scripted appointment flow, espeak-ng — answers
// a browser-protocol listener on loopback; a simulated caller connects over a real WebSocket,
// speaks its lines in another espeak-ng voice (barging in once, mid-sentence), and transcribes
// what it hears. Prints both sides live and a latency table per turn, writes the stereo
// recording, exits 0 when the booking flow completed. With OPENAI_API_KEY (or OPENAI_BASE_URL)
// set, the model behind OPENAI_BASE_URL/OPENAI_MODEL replaces the scripted flow.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.hpp"
#include "cli/demo_assets.hpp"
#include "parley/parley.h"
#include "providers/registry.hpp"
#include "providers/stt/pocketsphinx.hpp"
#include "providers/tts/espeak.hpp"
#include "transports/browser/client.hpp"

namespace parley::cli {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using namespace std::chrono_literals;

struct DemoOptions {
  bool json_output = false;
  std::string recording = "parley-demo.wav";
  std::string agent_voice = "en-us";
  std::string caller_voice = "en-us+f3";
  std::chrono::seconds timeout{150};
};

struct CallerLine {
  const char *text;
  bool barge_in;  // said while the agent is still talking
};

// What the caller says, in order: the first line cuts into the greeting.
constexpr CallerLine kScript[] = {{"i would like to book an appointment", true},
                                  {"tuesday", false},
                                  {"ten a m", false},
                                  {"my name is john", false},
                                  {"yes", false}};
constexpr auto kBargeInAfter = 1200ms;  // of greeting heard
constexpr auto kAnswerAfterSilence = 900ms;   // of agent silence before the next line
constexpr auto kMinAnswer = 500ms;            // of agent speech that counts as its answer
constexpr auto kEndOfAgentSpeech = 600ms;     // the caller's ear transcribes at each pause

const char *const kSystemPrompt =
    "You are the front desk of Parley Dental, answering the phone. Help the caller book an "
    "appointment: ask for the day, then the time, then their name, one short question at a time. "
    "Read the booking back and ask them to confirm; when they say yes, call book_appointment, then "
    "say goodbye in one sentence and call hang_up. Speak plainly: one or two short sentences, no "
    "lists, no markdown.";

int usage(std::FILE *to) {
  std::fprintf(to,
               "usage: parley demo [--json] [--recording FILE] [--voice V] [--caller-voice V] [--timeout S]\n"
               "  A whole call on loopback: a local agent (pocketsphinx, the scripted appointment flow,\n"
               "  espeak-ng) and a simulated caller on the browser protocol that barges in once.\n"
               "  --json             print one JSON object instead of the live transcript and table\n"
               "  --recording FILE   the stereo WAV (caller left, agent right); default parley-demo.wav\n"
               "  --voice V          the agent's espeak-ng voice (default en-us)\n"
               "  --caller-voice V   the caller's espeak-ng voice (default en-us+f3)\n"
               "  --timeout S        give up after S seconds (default 150)\n"
               "  With OPENAI_API_KEY or OPENAI_BASE_URL set (and OPENAI_MODEL), that model replaces\n"
               "  the scripted flow. Exit status 0 when the booking was made and the agent hung up.\n");
  return to == stdout ? 0 : 2;
}

std::optional<DemoOptions> parse(Args args) {
  DemoOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string arg = args[i];
    auto value = [&]() -> const char * { return i + 1 < args.size() ? args[++i] : nullptr; };
    if (arg == "--json") {
      options.json_output = true;
    } else if (arg == "--recording" || arg == "--voice" || arg == "--caller-voice" || arg == "--timeout") {
      const char *v = value();
      if (v == nullptr) return std::nullopt;
      if (arg == "--recording") options.recording = v;
      if (arg == "--voice") options.agent_voice = v;
      if (arg == "--caller-voice") options.caller_voice = v;
      if (arg == "--timeout") options.timeout = std::chrono::seconds(std::max(10, std::atoi(v)));
    } else {
      return std::nullopt;
    }
  }
  return options;
}

bool env_set(const char *name) {
  const char *value = std::getenv(name);
  return value != nullptr && *value != '\0';
}

bool uses_openai() { return env_set("OPENAI_API_KEY") || env_set("OPENAI_BASE_URL"); }

json agent_config(const DemoOptions &options) {
  json llm = uses_openai() ? json{{"provider", "openai"}}
                           : json{{"provider", "scripted"}, {"flow_json", std::string(kDemoFlowJson)}};
  json agent{{"stt", {{"provider", "pocketsphinx"}, {"jsgf", std::string(kDemoGrammarJsgf)}}},
             {"llm", llm},
             {"tts", {{"provider", "espeak"}, {"voice", options.agent_voice}}},
             {"greet_from_llm", true},
             {"tools",
              {{{"name", "book_appointment"},
                {"description", "Books the appointment once the caller has confirmed it."},
                {"parameters",
                 {{"type", "object"},
                  {"properties", {{"day", {{"type", "string"}}}, {"time", {{"type", "string"}}}, {"name", {{"type", "string"}}}}},
                  {"required", {"day", "time", "name"}}}},
                {"timeout_ms", 5000}}}}};
  if (uses_openai()) agent["system_prompt"] = kSystemPrompt;
  return agent;
}

std::string last_error() {
  const parley_error *error = parley_error_last();
  return error != nullptr ? error->message : "unknown error";
}

// Lines to stdout from two threads (agent events, caller hearing), whole.
class Printer {
 public:
  explicit Printer(bool quiet) : quiet_(quiet) {}
  void line(const std::string &text) {
    if (quiet_) return;
    std::lock_guard lock(mutex_);
    std::printf("%s\n", text.c_str());
    std::fflush(stdout);
  }

 private:
  bool quiet_;
  std::mutex mutex_;
};

// ---- the agent side: a host program on the C ABI -------------------------------------

struct AgentSide {
  parley_runtime *runtime = nullptr;
  parley_listener *listener = nullptr;
  parley_session *session = nullptr;
  std::mutex mutex;
  std::vector<json> turns;
  std::vector<json> interruptions;
  std::vector<std::string> errors;
  bool booked = false;
  bool agent_hung_up = false;
  std::optional<std::string> stopped_reason;
};

void on_tool_call(AgentSide &agent, Printer &printer, const json &payload) {
  const std::string name = payload.value("name", "");
  json result = {{"error", "unknown tool " + name}};
  if (name == "book_appointment") {
    result = {{"booked", true}, {"confirmation", "PD-1042"}};
    std::lock_guard lock(agent.mutex);
    agent.booked = true;
  }
  printer.line("tool:   " + name + "(" + payload.value("arguments", json::object()).dump() + ") -> " + result.dump());
  if (agent.session != nullptr) {
    parley_session_tool_result(agent.session, payload.value("id", "").c_str(), result.dump().c_str());
  }
}

void on_agent_event(AgentSide &agent, Printer &printer, const DemoOptions &options, parley_event *event) {
  const int type = parley_event_type_of(event);
  const json payload = json::parse(parley_event_payload(event), nullptr, false);
  switch (type) {
    case PARLEY_EVENT_SESSION_STARTED:
      if (parley_session_open(&agent.session, agent.runtime, parley_event_session_id(event)) == PARLEY_OK &&
          parley_session_start_recording(agent.session, options.recording.c_str()) != PARLEY_OK) {
        printer.line("warning: no recording: " + last_error());
      }
      break;
    case PARLEY_EVENT_TRANSCRIPT:
      if (payload.value("role", "") == "user" && payload.value("final", false)) {
        printer.line("caller: " + payload.value("text", ""));
      } else if (payload.value("role", "") == "agent" && !payload.value("final", false)) {
        printer.line("agent:  " + payload.value("text", ""));
      }
      break;
    case PARLEY_EVENT_INTERRUPTION: {
      std::lock_guard lock(agent.mutex);
      agent.interruptions.push_back(payload);
      if (!payload.value("resumed", false)) {
        printer.line("        [barge-in: the agent stopped " + std::to_string(payload.value("clear_after_speech_start_ms", 0)) +
                     " ms after the caller started; the caller heard \"" + payload.value("heard_text", "") + "\"]");
      }
      break;
    }
    case PARLEY_EVENT_TOOL_CALL: on_tool_call(agent, printer, payload); break;
    case PARLEY_EVENT_TURN: {
      std::lock_guard lock(agent.mutex);
      for (const auto &call : payload.value("tool_calls", json::array())) {
        if (call.value("name", "") == "hang_up") agent.agent_hung_up = true;
      }
      agent.turns.push_back(payload);
      break;
    }
    case PARLEY_EVENT_SESSION_ERROR: {
      std::lock_guard lock(agent.mutex);
      agent.errors.push_back(payload.value("message", ""));
      printer.line("warning: " + payload.value("message", ""));
      break;
    }
    case PARLEY_EVENT_SESSION_STOPPED: {
      std::lock_guard lock(agent.mutex);
      agent.stopped_reason = payload.value("reason", "");
      break;
    }
    default: break;
  }
}

// ---- the caller side: a simulated browser ---------------------------------------------

// espeak-ng and pocketsphinx for the caller, on its own io_context and worker.
struct CallerEngines {
  boost::asio::io_context io;
  boost::asio::thread_pool workers{1};
  providers::Registry registry;

  CallerEngines() {
    providers::register_espeak(registry);
    providers::register_pocketsphinx(registry);
  }
  ~CallerEngines() { workers.join(); }

  providers::ProviderContext context() {
    providers::ProviderContext context;
    context.executor = io.get_executor();
    context.workers = workers.get_executor();
    context.call_id = "demo-caller";
    return context;
  }

  // Synthesised ahead of the call, on an io_context of its own.
  std::vector<int16_t> synthesize(const std::string &text, const std::string &voice) {
    boost::asio::io_context synth_io;
    auto context = this->context();
    context.executor = synth_io.get_executor();
    auto tts = registry.make_tts({{"provider", "espeak"}, {"voice", voice}, {"sample_rate", 16000}}, context);
    std::vector<int16_t> samples;
    bool done = false;
    auto stream = tts->start({[&](const int16_t *s, size_t n) { samples.insert(samples.end(), s, s + n); }, {},
                              [&] { done = true; }, [&](providers::ProviderError) { done = true; }});
    stream->push_text(text);
    stream->finish();
    auto busy = boost::asio::make_work_guard(synth_io);  // synthesis runs on the worker meanwhile
    while (!done) synth_io.run_one();
    stream.reset();
    synth_io.poll();
    return samples;
  }
};

class SimulatedCaller {
 public:
  SimulatedCaller(CallerEngines &engines, Printer &printer, const DemoOptions &options)
      : engines_(engines), printer_(printer), tick_(engines.io) {
    for (const auto &line : kScript) lines_.push_back(engines_.synthesize(line.text, options.caller_voice));
    // The caller's ear: pocketsphinx with its general language model, as a person would
    // not know the agent's script in advance.
    ear_provider_ = engines_.registry.make_stt({{"provider", "pocketsphinx"}}, engines_.context());
    ear_ = ear_provider_->start({[this](const providers::Transcript &t) {
                                   if (t.is_final && !t.text.empty()) heard(t.text);
                                 },
                                 {}, [](providers::ProviderError) {}});
  }

  void connect(const std::string &url) {
    browser::BrowserCallerOptions options;
    options.url = url;
    options.call_id = "demo";
    browser::BrowserCallerCallbacks callbacks;
    callbacks.on_heard = [this](std::span<const int16_t> samples) {
      ear_->push_audio(samples.data(), samples.size());
      ear_pending_ = true;
      heard_samples_ += samples.size();
      // The answer to a line is what plays once the caller has finished saying it.
      if (next_line_ > 0 && !caller_->speaking()) heard_since_line_ += samples.size();
      last_heard_ = Clock::now();
    };
    callbacks.on_closed = [this](int, const std::string &) { closed_ = true; };
    caller_ = browser::BrowserCaller::connect(engines_.io, options, callbacks);
    schedule();
  }

  /// Runs the call until the agent hangs up or `deadline`.
  void run(Clock::time_point deadline) {
    while (!closed_ && Clock::now() < deadline) engines_.io.run_one_until(deadline);
    tick_.cancel();
    if (!closed_ && caller_) caller_->hang_up();
    ear_->finalize();
    auto busy = boost::asio::make_work_guard(engines_.io);  // the ear's last words, decoded on the worker
    const auto drain = Clock::now() + 1500ms;
    while (Clock::now() < drain) engines_.io.run_one_until(drain);
  }

  bool closed() const { return closed_; }
  const std::vector<std::string> &heard_lines() const { return heard_lines_; }
  size_t lines_said() const { return next_line_; }

  ~SimulatedCaller() {
    ear_.reset();
    caller_.reset();
  }

 private:
  void heard(const std::string &text) {
    heard_lines_.push_back(text);
    printer_.line("        (the caller heard: \"" + text + "\")");
  }

  void schedule() {
    tick_.expires_after(50ms);
    tick_.async_wait([this](const boost::system::error_code &ec) {
      if (ec || closed_) return;
      step();
      schedule();
    });
  }

  // Says the next line when its moment has come; transcribes each stretch of agent speech.
  void step() {
    const auto quiet_for = Clock::now() - last_heard_;
    if (ear_pending_ && quiet_for >= kEndOfAgentSpeech) {
      ear_pending_ = false;
      ear_->finalize();
    }
    if (next_line_ >= lines_.size() || caller_->speaking()) return;
    const auto &line = kScript[next_line_];
    const auto heard_ms = std::chrono::milliseconds(heard_samples_ / 16);
    const auto answer_ms = std::chrono::milliseconds(heard_since_line_ / 16);
    const bool due = line.barge_in ? heard_ms >= kBargeInAfter : answer_ms >= kMinAnswer && quiet_for >= kAnswerAfterSilence;
    if (!due) return;
    caller_->say(lines_[next_line_]);
    ++next_line_;
    heard_since_line_ = 0;
  }

  CallerEngines &engines_;
  Printer &printer_;
  boost::asio::steady_timer tick_;
  std::vector<std::vector<int16_t>> lines_;
  std::unique_ptr<providers::Stt> ear_provider_;
  std::unique_ptr<providers::SttStream> ear_;
  std::shared_ptr<browser::BrowserCaller> caller_;
  size_t next_line_ = 0;
  bool ear_pending_ = false;
  size_t heard_samples_ = 0;
  size_t heard_since_line_ = 0;
  Clock::time_point last_heard_ = Clock::now();
  bool closed_ = false;
  std::vector<std::string> heard_lines_;
};

// ---- the report ----------------------------------------------------------------------

std::string cell(const json &value) {
  if (!value.is_number()) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.0f", value.get<double>());
  return text;
}

std::string clipped(std::string text, size_t width) {
  if (text.size() > width) text = text.substr(0, width - 3) + "...";
  return text;
}

void print_table(const std::vector<json> &turns) {
  std::printf("\n%-4s %-36s %-44s %6s %6s %6s %6s %6s %6s\n", "turn", "caller said", "agent said (what the caller heard)",
              "endp", "stt", "llm", "tts", "audio", "v2v");
  for (const auto &turn : turns) {
    std::string agent = turn.value("agent_text", "");
    if (turn.value("interrupted", false)) agent = "[cut] " + turn.value("heard_text", "");
    const auto &latency = turn["latency_ms"];
    std::printf("%-4d %-36s %-44s %6s %6s %6s %6s %6s %6s\n", turn.value("turn", 0),
                clipped(turn.value("user_text", ""), 36).c_str(), clipped(agent, 44).c_str(),
                cell(latency["endpointing"]).c_str(), cell(latency["stt_final"]).c_str(),
                cell(latency["llm_first_token"]).c_str(), cell(latency["tts_first_byte"]).c_str(),
                cell(latency["first_audio"]).c_str(), cell(latency["voice_to_voice"]).c_str());
  }
  std::printf("(ms) endp: speech end -> end of turn; stt: speech end -> final; llm: final -> first token;\n"
              "     tts: TTS request -> first audio; audio: -> first frame sent; v2v: speech end -> first frame sent\n");
}

json report_json(const AgentSide &agent, const SimulatedCaller &caller, const DemoOptions &options, bool completed) {
  json turns = json::array();
  for (const auto &turn : agent.turns) {
    json out{{"turn", turn["turn"]}, {"user_text", turn["user_text"]}, {"agent_text", turn["agent_text"]},
             {"heard_text", turn["heard_text"]}, {"interrupted", turn["interrupted"]}};
    for (const auto &[key, value] : turn["latency_ms"].items()) out[key + "_ms"] = value;
    out["tool_calls"] = turn["tool_calls"];
    turns.push_back(std::move(out));
  }
  return {{"completed", completed},
          {"llm", uses_openai() ? "openai" : "scripted"},
          {"turns", turns},
          {"interruptions", agent.interruptions},
          {"caller_heard", caller.heard_lines()},
          {"recording", options.recording},
          {"stopped_reason", agent.stopped_reason.value_or("")},
          {"errors", agent.errors}};
}

int run(const DemoOptions &options) {
  Printer printer(options.json_output);
  AgentSide agent;
  if (parley_runtime_create(&agent.runtime, R"({"io_threads":1,"worker_threads":2,"log":{"level":"error"}})") != PARLEY_OK) {
    std::fprintf(stderr, "parley demo: %s\n", last_error().c_str());
    return 1;
  }
  const json listener{{"transport", "browser"}, {"address", "127.0.0.1"}, {"port", 0},
                      {"behaviour", "agent"}, {"agent", agent_config(options)}};
  if (parley_listener_start(&agent.listener, agent.runtime, listener.dump().c_str()) != PARLEY_OK) {
    std::fprintf(stderr, "parley demo: %s\n", last_error().c_str());
    parley_runtime_destroy(agent.runtime);
    return 1;
  }
  const std::string url = "ws://127.0.0.1:" + std::to_string(parley_listener_port(agent.listener)) + "/browser";
  printer.line("parley demo: agent at " + url + " (pocketsphinx, " + (uses_openai() ? "OpenAI-compatible model" : "scripted appointment flow") +
               ", espeak-ng); the caller speaks in voice " + options.caller_voice + "\n");

  std::atomic<bool> stop{false};
  std::thread events([&] {
    while (!stop.load()) {
      parley_event *event = nullptr;
      if (parley_runtime_poll_event(&event, agent.runtime, 50) != PARLEY_OK) continue;
      on_agent_event(agent, printer, options, event);
      parley_event_release(event);
    }
  });

  CallerEngines engines;
  bool completed = false;
  {
    SimulatedCaller caller(engines, printer, options);
    caller.connect(url);
    caller.run(Clock::now() + options.timeout);
    // The agent's last events (its final turn, the stop) follow the hang-up closely.
    for (int i = 0; i < 40; ++i) {
      std::lock_guard lock(agent.mutex);
      if (agent.stopped_reason) break;
      std::this_thread::sleep_for(50ms);
    }
    stop = true;
    events.join();
    std::lock_guard lock(agent.mutex);
    completed = agent.booked && agent.agent_hung_up && caller.closed() && caller.lines_said() == std::size(kScript);
    if (options.json_output) {
      std::printf("%s\n", report_json(agent, caller, options, completed).dump(2).c_str());
    } else {
      print_table(agent.turns);
      std::printf("\nrecording: %s (caller left, agent right)\n", options.recording.c_str());
      std::printf("completed: %s\n", completed ? "yes: booked, and the agent hung up" : "no");
    }
  }
  parley_session_destroy(agent.session);
  parley_listener_destroy(agent.listener);
  parley_runtime_destroy(agent.runtime);
  return completed ? 0 : 1;
}

}  // namespace

int run_demo(Args args) {
  if (!args.empty() && (std::strcmp(args[0], "--help") == 0 || std::strcmp(args[0], "-h") == 0)) return usage(stdout);
  auto options = parse(args);
  if (!options) return usage(stderr);
  return run(*options);
}

}  // namespace parley::cli
