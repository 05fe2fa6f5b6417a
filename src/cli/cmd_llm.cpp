// `parley llm`: one streaming completion from any registered LLM provider, for trying it by
// hand. The reply streams to stdout as it arrives; time to first token, total time and usage
// follow on stderr; tool calls are printed as JSON lines after the text.
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/provider_flags.hpp"
#include "providers/registry.hpp"

namespace parley::cli {
namespace {

using Clock = std::chrono::steady_clock;
using providers::Llm;

void print_llm_usage(std::FILE *to) {
  std::fprintf(to,
               "usage: parley llm [--provider NAME] [--model M] [--system TEXT] [--flow FILE]\n"
               "                  [--config JSON|FILE] [options] [\"prompt\" | -]\n"
               "\n"
               "Sends one chat request (an optional system message, then the prompt as the user's\n"
               "message; \"-\" reads the prompt from stdin) and streams the reply to stdout as it\n"
               "arrives. Then prints, on stderr, the time to first token, the total time, the finish\n"
               "reason and the token usage; tool calls follow the text on stdout, one JSON line each:\n"
               "{\"tool_call\":{\"id\":...,\"name\":...,\"arguments\":\"...\"}}. Without a prompt the request\n"
               "ends with the --messages; with neither, it has no user message, and the scripted\n"
               "provider answers with its flow's greeting.\n"
               "\n"
               "  --provider NAME      scripted (default), openai, groq, cerebras, vllm, llamacpp, ollama,\n"
               "                       or any other registered LLM\n"
               "  --system TEXT        a system message before the prompt\n"
               "  --messages FILE      the conversation so far, between the system message and the\n"
               "                       prompt: a JSON array of chat messages ({\"role\",\"content\"},\n"
               "                       \"tool_calls\" on assistant messages, \"tool_call_id\" on tool ones)\n"
               "  --flow FILE          scripted: the dialogue flow (config key flow), e.g.\n"
               "                       examples/flows/appointment.json\n"
               "  --tools FILE         tools the model may call: a JSON array of {\"name\",\"description\",\n"
               "                       \"parameters\"} or OpenAI's {\"type\":\"function\",\"function\":{...}}\n"
               "  --temperature T      sampling temperature of the request\n"
               "  --max-tokens N       the most tokens the reply may have\n"
               "%s"
               "\n"
               "Keys come from the environment (OPENAI_API_KEY, GROQ_API_KEY ...; OPENAI_BASE_URL and\n"
               "OPENAI_MODEL for openai), or from the variable --api-key-env names. There is no flag for\n"
               "the key itself: command lines end up in shell histories and process lists.\n"
               "\n"
               "%s",
               kProviderFlagsHelp, kExitCodesHelp);
}

struct LlmOptions {
  ProviderFlags provider;
  std::string system;
  std::vector<providers::ChatMessage> history;
  std::vector<providers::ToolSpec> tools;
  std::optional<double> temperature;
  std::optional<int> max_tokens;
  std::optional<std::string> prompt;
};

std::string parse_tools(const std::string &path, std::vector<providers::ToolSpec> &tools) {
  std::string problem;
  const auto text = read_text_file(path, problem);
  if (!text) return problem;
  const auto document = nlohmann::json::parse(*text, nullptr, false);
  if (!document.is_array()) return path + ": expected a JSON array of tools";
  for (size_t i = 0; i < document.size(); ++i) {
    const auto where = path + ": [" + std::to_string(i) + "]";
    auto tool = document[i];
    if (tool.is_object() && tool.contains("function")) tool = tool["function"];
    if (!tool.is_object() || !tool.contains("name") || !tool["name"].is_string()) {
      return where + ": expected an object with a \"name\"";
    }
    providers::ToolSpec spec;
    spec.name = tool["name"].get<std::string>();
    if (tool.contains("description") && tool["description"].is_string()) {
      spec.description = tool["description"].get<std::string>();
    }
    if (tool.contains("parameters")) {
      if (!tool["parameters"].is_object()) return where + ".parameters: expected a JSON Schema object";
      spec.parameters_json = tool["parameters"].dump();
    }
    tools.push_back(std::move(spec));
  }
  return {};
}

// A string member of `object`, or "" when absent or null.
std::string string_field(const nlohmann::json &object, const char *key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// --messages: the conversation so far, as OpenAI's chat messages (tool_calls in either the
// API's {"id","type","function":{"name","arguments"}} shape or a flat {"id","name","arguments"}).
std::string parse_messages(const std::string &path, std::vector<providers::ChatMessage> &messages) {
  std::string problem;
  const auto text = read_text_file(path, problem);
  if (!text) return problem;
  const auto document = nlohmann::json::parse(*text, nullptr, false);
  if (!document.is_array()) return path + ": expected a JSON array of chat messages";
  for (size_t i = 0; i < document.size(); ++i) {
    const auto where = path + ": [" + std::to_string(i) + "]";
    const auto &item = document[i];
    if (!item.is_object() || string_field(item, "role").empty()) return where + ": expected an object with a \"role\"";
    providers::ChatMessage message;
    message.role = string_field(item, "role");
    message.content = string_field(item, "content");
    message.tool_call_id = string_field(item, "tool_call_id");
    if (const auto calls = item.find("tool_calls"); calls != item.end() && calls->is_array()) {
      for (const auto &call : *calls) {
        if (!call.is_object()) return where + ".tool_calls: expected objects";
        const auto &function = call.contains("function") ? call["function"] : call;
        message.tool_calls.push_back({string_field(call, "id"), string_field(function, "name"),
                                      string_field(function, "arguments")});
      }
    }
    messages.push_back(std::move(message));
  }
  return {};
}

std::optional<int> parse_llm_options(Args args, LlmOptions &o) {
  std::vector<Flag> flags;
  o.provider.add_to(flags);
  o.provider.add_key_flag(flags, "--flow", "flow");
  flags.push_back({"--system", "", true, [&o](const std::string &value) {
                     o.system = value;
                     return std::string();
                   }});
  flags.push_back({"--messages", "", true, [&o](const std::string &value) { return parse_messages(value, o.history); }});
  flags.push_back({"--tools", "", true, [&o](const std::string &value) { return parse_tools(value, o.tools); }});
  flags.push_back({"--temperature", "", true, [&o](const std::string &value) -> std::string {
                     char *end = nullptr;
                     const double t = std::strtod(value.c_str(), &end);
                     if (value.empty() || *end != '\0' || !(t >= 0 && t <= 2)) return "expected a number in 0..2";
                     o.temperature = t;
                     return {};
                   }});
  flags.push_back({"--max-tokens", "", true, [&o](const std::string &value) -> std::string {
                     char *end = nullptr;
                     const long n = std::strtol(value.c_str(), &end, 10);
                     if (value.empty() || *end != '\0' || n < 1 || n > 1'000'000) return "expected a positive integer";
                     o.max_tokens = static_cast<int>(n);
                     return {};
                   }});
  std::vector<std::string> positional;
  if (const auto stop = parse_flags("llm", args, flags, positional, print_llm_usage)) return stop;
  if (positional.size() > 1) {
    return usage_error("llm", "one prompt expected, got " + std::to_string(positional.size()) +
                                  " (quote the prompt, or use -- before a prompt that starts with -)",
                       print_llm_usage);
  }
  if (!positional.empty()) o.prompt = text_or_stdin(positional[0]);
  return std::nullopt;
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// One completion on the run's strand.
class LlmCommand {
 public:
  LlmCommand(ProviderRun &run, const LlmOptions &options) : run_(run), options_(options) {}

  void start() {
    const std::string name = options_.provider.provider_name("scripted");
    llm_ = providers::builtin_registry().make_llm(options_.provider.provider_config(name), run_.context());
    providers::LlmRequest request;
    if (!options_.system.empty()) request.messages.push_back({"system", options_.system, {}, {}});
    request.messages.insert(request.messages.end(), options_.history.begin(), options_.history.end());
    if (options_.prompt) request.messages.push_back({"user", *options_.prompt, {}, {}});
    request.tools = options_.tools;
    request.temperature = options_.temperature;
    request.max_tokens = options_.max_tokens;

    providers::LlmCallbacks callbacks;
    callbacks.on_text = [this](std::string_view text) { on_text(text); };
    callbacks.on_done = [this](providers::LlmResult result) { on_done(std::move(result)); };
    callbacks.on_error = [this](providers::ProviderError error) { on_error(error); };
    started_ = Clock::now();
    run_.arm_timeout(options_.provider.timeout, "no complete reply within the --timeout; cancelled");
    stream_ = llm_->stream(std::move(request), std::move(callbacks));
  }

  void cancel() {
    if (stream_) stream_->cancel();
    end_line();
  }

 private:
  void on_text(std::string_view text) {
    if (text.empty()) return;
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    line_open_ = text.back() != '\n';
  }

  void on_done(providers::LlmResult result) {
    const auto total = Clock::now() - started_;
    end_line();
    for (const auto &call : result.tool_calls) {
      const nlohmann::ordered_json line = {{"tool_call", {{"id", call.id}, {"name", call.name}, {"arguments", call.arguments}}}};
      std::printf("%s\n", line.dump().c_str());
    }
    std::fflush(stdout);

    std::string stats = llm_->name() + ": finish_reason=" + (result.finish_reason.empty() ? "-" : result.finish_reason);
    char buffer[96];
    if (result.time_to_first_token) {
      std::snprintf(buffer, sizeof buffer, " ttft=%.1fms",
                    std::chrono::duration<double, std::milli>(*result.time_to_first_token).count());
    } else {
      std::snprintf(buffer, sizeof buffer, " ttft=none");
    }
    stats += buffer;
    std::snprintf(buffer, sizeof buffer, " total=%.1fms", ms(total));
    stats += buffer;
    if (result.usage) {
      stats += " prompt_tokens=" + std::to_string(result.usage->prompt_tokens) +
               " completion_tokens=" + std::to_string(result.usage->completion_tokens);
    } else {
      stats += " usage=unreported";
    }
    if (!result.tool_calls.empty()) stats += " tool_calls=" + std::to_string(result.tool_calls.size());
    if (result.attempts > 1) stats += " attempts=" + std::to_string(result.attempts);
    run_.say(stats);
    run_.finish(kExitOk);
  }

  void on_error(const providers::ProviderError &error) {
    end_line();
    run_.say(llm_->name() + " failed: " + describe(error, run_.runtime()));
    run_.finish(kExitProvider);
  }

  // The reply's last line, ended so that what follows starts on its own.
  void end_line() {
    if (!line_open_) return;
    std::fputc('\n', stdout);
    std::fflush(stdout);
    line_open_ = false;
  }

  ProviderRun &run_;
  const LlmOptions &options_;
  std::unique_ptr<Llm> llm_;
  std::unique_ptr<providers::Cancellable> stream_;  // after llm_: destroyed before it
  Clock::time_point started_;
  bool line_open_ = false;
};

}  // namespace

int run_llm(Args args) {
  LlmOptions options;
  if (const auto stop = parse_llm_options(args, options)) return *stop;
  ProviderRun run("llm", options.provider.verbose);
  auto command = std::make_unique<LlmCommand>(run, options);
  const int code = run.run([&] { command->start(); }, [&] { command->cancel(); });
  run.on_strand([&] { command.reset(); });
  return code;
}

}  // namespace parley::cli
