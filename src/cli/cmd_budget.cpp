// `parley budget simulate`: runs the TTFT budget controller against a simulated model and
// prints its report, next to what a fixed sliding window would have done.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>

#include "budget/controller.hpp"
#include "budget/simulator.hpp"
#include "cli/commands.hpp"
#include "common/error.hpp"

namespace parley::cli {
namespace {

void print_budget_usage(std::FILE *to) {
  std::fprintf(to,
               "usage: parley budget simulate [--config FILE] [--turns N] [--target-ms MS]\n"
               "                              [--penalty-ms MS] [--seed N] [--fixed-window N] [--json]\n"
               "\n"
               "Runs the budget controller for N turns against a simulated model whose\n"
               "TTFT = a + b * prompt_tokens + heavy-tailed noise, and prints the controller's report\n"
               "and the tokens a fixed sliding window of the last N messages would have removed.\n"
               "\n"
               "  --config FILE     JSON {\"controller\": {budget config}, \"simulation\": {turns, base_ms,\n"
               "                    ms_per_token, noise_ms, tail_alpha, compression_penalty_ms, seed,\n"
               "                    words_per_user_turn, words_per_reply, tool_call_every}}\n"
               "  --turns N         turns to simulate (default 200)\n"
               "  --target-ms MS    the controller's target (default 800)\n"
               "  --penalty-ms MS   extra TTFT of compressed prompts, to see a rollback (default 0)\n"
               "  --seed N          random seed (default 42)\n"
               "  --fixed-window N  messages the comparison window keeps (default 8)\n"
               "  --json            print JSON instead of text\n");
}

bool read_file(const std::string &path, std::string &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

struct Options {
  nlohmann::json controller = nlohmann::json::object();
  nlohmann::json simulation = nlohmann::json::object();
  std::size_t fixed_window = 8;
  bool json = false;
};

// Returns 0 when parsed, else the exit code.
int parse_options(Args args, Options &options) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      print_budget_usage(stdout);
      return -1;
    }
    if (arg == "--json") {
      options.json = true;
      continue;
    }
    if (i + 1 >= args.size()) {
      std::fprintf(stderr, "parley budget simulate: '%.*s' needs a value or is unknown\n\n",
                   static_cast<int>(arg.size()), arg.data());
      print_budget_usage(stderr);
      return 2;
    }
    const std::string value = args[++i];
    try {
      if (arg == "--config") {
        std::string text;
        if (!read_file(value, text)) {
          std::fprintf(stderr, "parley budget simulate: cannot read %s\n", value.c_str());
          return 1;
        }
        const auto doc = nlohmann::json::parse(text);
        if (!doc.is_object()) throw std::invalid_argument("the config file must hold a JSON object");
        for (const auto &[key, part] : doc.items()) {
          if (key == "controller") {
            options.controller = part;
          } else if (key == "simulation") {
            options.simulation = part;
          } else {
            throw std::invalid_argument("$." + key + ": unknown key (controller, simulation)");
          }
        }
      } else if (arg == "--turns") {
        options.simulation["turns"] = std::stoll(value);
      } else if (arg == "--target-ms") {
        options.controller["target_ms"] = std::stod(value);
      } else if (arg == "--penalty-ms") {
        options.simulation["compression_penalty_ms"] = std::stod(value);
      } else if (arg == "--seed") {
        options.simulation["seed"] = std::stoll(value);
      } else if (arg == "--fixed-window") {
        options.fixed_window = static_cast<std::size_t>(std::stoul(value));
      } else {
        std::fprintf(stderr, "parley budget simulate: unknown option '%.*s'\n\n", static_cast<int>(arg.size()), arg.data());
        print_budget_usage(stderr);
        return 2;
      }
    } catch (const std::exception &e) {
      std::fprintf(stderr, "parley budget simulate: %.*s %s: %s\n", static_cast<int>(arg.size()), arg.data(),
                   value.c_str(), e.what());
      return 2;
    }
  }
  return 0;
}

int run_simulate(Args args) {
  Options options;
  if (const int code = parse_options(args, options); code != 0) return code < 0 ? 0 : code;
  try {
    const std::string controller_json = options.controller.dump();
    const std::string simulation_json = options.simulation.dump();
    auto controller = budget::Controller::from_json(controller_json.c_str());
    const budget::SimulationConfig simulation = budget::parse_simulation_config(simulation_json.c_str());
    const budget::SimulationResult result = budget::simulate(*controller, simulation);
    const budget::SimulationResult fixed = budget::simulate_fixed_window(
        simulation, controller->counter(), controller->config().format, options.fixed_window);
    const double fixed_p95 = budget::turns_percentile(fixed, controller->config().percentile, 0, fixed.turns.size());
    if (options.json) {
      auto report = nlohmann::json::parse(controller->report(budget::ReportFormat::json));
      report["simulation"] = {{"turns", simulation.turns},
                              {"tokens_removed", result.tokens_removed},
                              {"fixed_window",
                               {{"keep_messages", options.fixed_window},
                                {"tokens_removed", fixed.tokens_removed},
                                {"ttft_percentile_ms", fixed_p95}}}};
      std::printf("%s\n", report.dump(2).c_str());
    } else {
      std::printf("%s", controller->report(budget::ReportFormat::text).c_str());
      std::printf("simulated model    TTFT = %g ms + %g ms/token + Pareto noise (scale %g ms, alpha %g)%s\n",
                  simulation.base_ms, simulation.ms_per_token, simulation.noise_ms, simulation.tail_alpha,
                  simulation.compression_penalty_ms != 0 ? ", compressed prompts penalised" : "");
      std::printf("tokens removed     %llu by the controller; %llu by a fixed window of %zu messages (P%g %.1f ms)\n",
                  static_cast<unsigned long long>(result.tokens_removed),
                  static_cast<unsigned long long>(fixed.tokens_removed), options.fixed_window,
                  controller->config().percentile, fixed_p95);
    }
    return 0;
  } catch (const Error &e) {
    std::fprintf(stderr, "parley budget simulate: %s\n", e.what());
    return e.status() == Status::config ? 2 : 1;
  }
}

}  // namespace

int run_budget(Args args) {
  if (args.empty()) {
    print_budget_usage(stderr);
    return 2;
  }
  const std::string_view sub = args[0];
  if (sub == "--help" || sub == "-h" || sub == "help") {
    print_budget_usage(stdout);
    return 0;
  }
  if (sub == "simulate") return run_simulate(args.subspan(1));
  std::fprintf(stderr, "parley budget: unknown subcommand '%.*s'\n\n", static_cast<int>(sub.size()), sub.data());
  print_budget_usage(stderr);
  return 2;
}

}  // namespace parley::cli
