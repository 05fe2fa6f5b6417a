// parley selftest [--json]: runs the audio round trip through the public C ABI and prints
// each check's signal-to-noise-and-distortion ratio. Exit 0 when every check passes.
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "parley/parley.h"

namespace parley::cli {

int run_selftest(Args args) {
  bool json = false;
  for (const char *arg : args) {
    if (std::strcmp(arg, "--json") == 0) {
      json = true;
    } else if (std::strcmp(arg, "--help") == 0) {
      std::printf("usage: parley selftest [--json]\n\n"
                  "Round-trips 440 Hz + 1 kHz tones through the resampler and the G.711 codecs as a\n"
                  "phone call does, and reports signal to noise-and-distortion (SINAD) per path.\n");
      return 0;
    } else {
      std::fprintf(stderr, "parley selftest: unknown option '%s'\n", arg);
      return 2;
    }
  }
  char *report_text = nullptr;
  if (parley_selftest(&report_text) != PARLEY_OK) {
    std::fprintf(stderr, "parley selftest: %s\n", parley_error_last()->message);
    return 1;
  }
  const auto report = nlohmann::json::parse(report_text);
  parley_string_free(report_text);
  if (json) {
    std::printf("%s\n", report.dump().c_str());
  } else {
    std::printf("%-34s %10s %10s %9s  %s\n", "path", "SINAD dB", "min dB", "gain dB", "result");
    for (const auto &check : report["checks"]) {
      std::printf("%-34s %10.1f %10.1f %9.1f  %s\n", check["name"].get<std::string>().c_str(),
                  check["sinad_db"].get<double>(), check["min_sinad_db"].get<double>(),
                  check["gain_db"].get<double>(), check["ok"].get<bool>() ? "ok" : "FAIL");
    }
    std::printf("selftest: %s\n", report["ok"].get<bool>() ? "passed" : "FAILED");
  }
  return report["ok"].get<bool>() ? 0 : 1;
}

}  // namespace parley::cli
