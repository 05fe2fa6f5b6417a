// The `parley` executable's subcommands. Each takes the arguments after its own name and
// returns the process exit code (0 success, 1 failure, 2 usage error).
#pragma once

#include <span>

namespace parley::cli {

using Args = std::span<char *const>;

int run_demo(Args args);
int run_selftest(Args args);
int run_serve(Args args);
int run_tokens(Args args);
int run_budget(Args args);
int run_loadgen(Args args);
int run_tts(Args args);
int run_stt(Args args);
int run_llm(Args args);

}  // namespace parley::cli
