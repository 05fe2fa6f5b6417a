// parley — the command-line front end of the runtime.
#include <cstdio>
#include <cstring>
#include <span>
#include <string_view>

#include "cli/commands.hpp"
#include "parley/parley.h"

namespace {

struct Command {
  const char *name;
  const char *summary;
  int (*run)(parley::cli::Args);
};

constexpr Command kCommands[] = {
    {"demo", "a whole call on loopback: a local agent and a simulated caller who barges in once",
     parley::cli::run_demo},
    {"selftest", "round-trip a tone through the codecs and resampler; report the error",
     parley::cli::run_selftest},
    {"serve", "run listeners from a JSON config until SIGINT/SIGTERM, then drain", parley::cli::run_serve},
    {"tokens", "count (or list) the tokens of stdin: --encoding cl100k_base|o200k_base",
     parley::cli::run_tokens},
    {"budget", "budget controller tools: `budget simulate` runs it against a simulated model",
     parley::cli::run_budget},
    {"loadgen", "simulate N concurrent Twilio callers against a server and measure it",
     parley::cli::run_loadgen},
    {"tts", "speak text through a TTS provider into a WAV file", parley::cli::run_tts},
    {"stt", "stream a WAV file through an STT provider; print its transcripts", parley::cli::run_stt},
    {"llm", "stream one reply from an LLM provider; print time to first token and usage",
     parley::cli::run_llm},
};

void print_usage(std::FILE *to) {
  std::fprintf(to, "usage: parley [--version] <command> [args]\n\ncommands:\n");
  for (const auto &command : kCommands) {
    std::fprintf(to, "  %-10s %s\n", command.name, command.summary);
  }
  std::fprintf(to, "\nRun `parley <command> --help` for a command's options.\n");
}

}  // namespace

int main(int argc, char **argv) {
  const std::span<char *const> args(argv, static_cast<size_t>(argc));
  if (args.size() < 2) {
    print_usage(stderr);
    return 2;
  }
  const std::string_view first = args[1];
  if (first == "--version" || first == "version") {
    std::printf("parley %s\n", parley_version());
    return 0;
  }
  if (first == "--help" || first == "-h" || first == "help") {
    print_usage(stdout);
    return 0;
  }
  for (const auto &command : kCommands) {
    if (first == command.name) {
      return command.run(args.subspan(2));
    }
  }
  std::fprintf(stderr, "parley: unknown command '%s'\n\n", argv[1]);
  print_usage(stderr);
  return 2;
}
