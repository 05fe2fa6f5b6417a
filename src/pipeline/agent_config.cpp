#include "pipeline/agent_config.hpp"

#include "common/error.hpp"
#include "core/config_reader.hpp"

namespace parley::pipeline {
namespace {

using std::chrono::milliseconds;

milliseconds read_ms(core::ConfigReader &reader, const char *key, milliseconds fallback, int64_t max = 3'600'000) {
  return milliseconds(reader.integer(key, fallback.count(), 0, max));
}

nlohmann::json read_provider(core::ConfigReader &root, const char *key, nlohmann::json fallback) {
  const nlohmann::json *value = root.raw(key);
  if (value == nullptr) return fallback;
  if (!value->is_object()) root.fail(key, "expected an object like {\"provider\":\"NAME\", ...}");
  return *value;
}

std::vector<std::string> read_strings(core::ConfigReader &root, const char *key, std::vector<std::string> fallback) {
  const nlohmann::json *value = root.raw(key);
  if (value == nullptr) return fallback;
  if (!value->is_array()) root.fail(key, "expected an array of strings");
  std::vector<std::string> out;
  for (const auto &item : *value) {
    if (!item.is_string()) root.fail(key, "expected an array of strings; got " + item.dump());
    out.push_back(item.get<std::string>());
  }
  return out;
}

HostTool read_tool(const nlohmann::json &json, const std::string &what, const std::string &path) {
  core::ConfigReader tool(json, what, path);
  HostTool out;
  out.spec.name = tool.string("name", "");
  if (out.spec.name.empty()) tool.fail("name", "required");
  for (char c : out.spec.name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      tool.fail("name", "only letters, digits, '_' and '-' (what the OpenAI API accepts)");
    }
  }
  out.spec.description = tool.string("description", "");
  if (const nlohmann::json *parameters = tool.raw("parameters")) {
    if (!parameters->is_object()) tool.fail("parameters", "expected a JSON Schema object");
    out.spec.parameters_json = parameters->dump();
  }
  out.timeout = read_ms(tool, "timeout_ms", out.timeout, 600'000);
  out.fallback = tool.string("fallback", "");
  tool.reject_unknown_keys();
  return out;
}

std::vector<HostTool> read_tools(core::ConfigReader &root, const std::string &what) {
  const nlohmann::json *value = root.raw("tools");
  if (value == nullptr) return {};
  if (!value->is_array()) root.fail("tools", "expected an array of {\"name\", \"description\", \"parameters\"}");
  std::vector<HostTool> tools;
  for (size_t i = 0; i < value->size(); ++i) {
    tools.push_back(read_tool((*value)[i], what, root.path() + ".tools[" + std::to_string(i) + "]"));
  }
  return tools;
}

void read_vad(core::ConfigReader &root, audio::VadConfig &vad) {
  auto reader = root.object("vad");
  if (!reader) return;
  vad.start_window = read_ms(*reader, "start_window_ms", vad.start_window, 5000);
  vad.stop_window = read_ms(*reader, "stop_window_ms", vad.stop_window, 10000);
  vad.threshold = static_cast<float>(reader->number("threshold", vad.threshold, 0.01, 0.99));
  reader->reject_unknown_keys();
}

void read_endpointing(core::ConfigReader &root, EndpointingOptions &options) {
  auto reader = root.object("endpointing");
  if (!reader) return;
  options.min_silence = read_ms(*reader, "min_silence_ms", options.min_silence, 60000);
  options.max_silence = read_ms(*reader, "max_silence_ms", options.max_silence, 60000);
  options.mid_number_extra = read_ms(*reader, "mid_number_extra_ms", options.mid_number_extra, 60000);
  if (options.min_silence > options.max_silence) reader->fail("min_silence_ms", "must not exceed max_silence_ms");
  reader->reject_unknown_keys();
}

void read_chunker(core::ConfigReader &root, ChunkerOptions &options) {
  auto reader = root.object("chunker");
  if (!reader) return;
  options.min_chars = static_cast<size_t>(reader->integer("min_chars", static_cast<int64_t>(options.min_chars), 1, 10000));
  options.max_chars = static_cast<size_t>(reader->integer("max_chars", static_cast<int64_t>(options.max_chars), 1, 10000));
  options.max_wait = read_ms(*reader, "max_wait_ms", options.max_wait, 60000);
  options.strip_markdown = reader->boolean("strip_markdown", options.strip_markdown);
  if (options.min_chars > options.max_chars) reader->fail("min_chars", "must not exceed max_chars");
  reader->reject_unknown_keys();
}

void read_interruption(core::ConfigReader &root, InterruptionOptions &options) {
  auto reader = root.object("interruption");
  if (!reader) return;
  options.enabled = reader->boolean("enabled", options.enabled);
  options.min_duration = read_ms(*reader, "min_duration_ms", options.min_duration, 10000);
  options.min_words = static_cast<int>(reader->integer("min_words", options.min_words, 0, 20));
  options.backchannels = read_strings(*reader, "backchannels", options.backchannels);
  options.false_interruption_timeout =
      read_ms(*reader, "false_interruption_timeout_ms", options.false_interruption_timeout, 60000);
  reader->reject_unknown_keys();
}

void read_idle(core::ConfigReader &root, IdleOptions &options) {
  auto reader = root.object("idle");
  if (!reader) return;
  options.reprompt_after = read_ms(*reader, "reprompt_after_ms", options.reprompt_after);
  options.reprompt = reader->string("reprompt", options.reprompt);
  options.max_reprompts = static_cast<int>(reader->integer("max_reprompts", options.max_reprompts, 0, 100));
  options.goodbye = reader->string("goodbye", options.goodbye);
  reader->reject_unknown_keys();
}

void check_builtin_tools(core::ConfigReader &root, const std::vector<std::string> &names) {
  for (const auto &name : names) {
    if (name != "hang_up" && name != "send_dtmf" && name != "transfer") {
      root.fail("builtin_tools", "unknown built-in tool '" + name + "' (hang_up, send_dtmf, transfer)");
    }
  }
}

}  // namespace

AgentConfig AgentConfig::parse(const nlohmann::json &json, const std::string &what, const std::string &path) {
  core::ConfigReader root(json, what, path);
  AgentConfig config;
  config.stt = read_provider(root, "stt", config.stt);
  config.llm = read_provider(root, "llm", config.llm);
  config.tts = read_provider(root, "tts", config.tts);
  config.system_prompt = root.string("system_prompt", "");
  config.greeting = root.string("greeting", "");
  config.greet_from_llm = root.boolean("greet_from_llm", false);
  if (config.greet_from_llm && !config.greeting.empty()) root.fail("greeting", "give greeting or greet_from_llm, not both");
  config.tools = read_tools(root, what);
  config.builtin_tools = read_strings(root, "builtin_tools", config.builtin_tools);
  check_builtin_tools(root, config.builtin_tools);
  for (const auto &tool : config.tools) {
    for (const auto &builtin : config.builtin_tools) {
      if (tool.spec.name == builtin) root.fail("tools", "'" + builtin + "' is a built-in tool");
    }
  }
  config.tool_fallback = root.string("tool_fallback", config.tool_fallback);
  if (root.raw("temperature") != nullptr) config.temperature = root.number("temperature", 1.0, 0.0, 2.0);
  if (root.raw("max_tokens") != nullptr) config.max_tokens = static_cast<int>(root.integer("max_tokens", 0, 1, 1'000'000));
  read_vad(root, config.vad);
  read_endpointing(root, config.endpointing);
  read_chunker(root, config.chunker);
  read_interruption(root, config.interruption);
  read_idle(root, config.idle);
  config.max_call_duration = read_ms(root, "max_call_duration_ms", config.max_call_duration, 24 * 3'600'000LL);
  config.max_duration_message = root.string("max_duration_message", config.max_duration_message);
  config.max_tts_lookahead = static_cast<int>(root.integer("max_tts_lookahead", config.max_tts_lookahead, 0, 16));
  if (const nlohmann::json *budget = root.raw("budget")) {
    if (!budget->is_object()) root.fail("budget", "expected the budget controller's config object");
    config.budget = *budget;
  }
  root.reject_unknown_keys();
  return config;
}

}  // namespace parley::pipeline
