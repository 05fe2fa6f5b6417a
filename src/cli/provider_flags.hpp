// What `parley tts`, `parley stt` and `parley llm` share: flag parsing, the flags every
// provider command takes (--provider, --config, --base-url, --api-key-env, --timeout ...),
// the provider config they build, the exit codes, and ProviderRun: a runtime, a strand and
// Ctrl-C handling around one provider request. docs/cli-providers.md describes the commands.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.hpp"
#include "providers/provider.hpp"

namespace parley::core {
class Runtime;
}

namespace parley::cli {

/// The exit codes of the provider commands, distinct so a script can tell them apart.
enum ExitCode : int {
  kExitOk = 0,
  kExitProvider = 1,        // the provider reported an error (its kind and message are printed)
  kExitUsage = 2,           // bad flags or arguments
  kExitConfig = 3,          // unknown provider, or a config key or value it rejected
  kExitIo = 4,              // an input or output file could not be read, written or parsed
  kExitTimeout = 5,         // the provider did not finish within --timeout
  kExitInterrupted = 130,   // SIGINT or SIGTERM: the request was cancelled
};

/// The "exit status" paragraph of the commands' --help.
extern const char kExitCodesHelp[];
/// The help lines of the flags ProviderFlags adds.
extern const char kProviderFlagsHelp[];

/// One command-line flag. `apply` gets the value ("" for a switch) and returns a problem to
/// report as a usage error, or "" when the value is fine.
struct Flag {
  std::string_view name;       // "--voice"
  std::string_view alias;      // "-o", or ""
  bool takes_value = true;
  std::function<std::string(const std::string &value)> apply;
};

/// Parses `args`: "--name value", "--name=value", switches, and positional arguments (all
/// of them after "--"; a lone "-" is positional). Returns the exit code when the command
/// should stop here: 0 after --help (usage on stdout), 2 after a usage error (message and
/// usage on stderr); nullopt otherwise.
std::optional<int> parse_flags(const char *command, Args args, const std::vector<Flag> &flags,
                               std::vector<std::string> &positional, void (*usage)(std::FILE *to));

/// Reports a usage error found after parsing: "parley tts: <message>", then the usage.
int usage_error(const char *command, const std::string &message, void (*usage)(std::FILE *to));

/// The flags every provider command takes, and the config they build.
struct ProviderFlags {
  std::string provider;                                // --provider
  nlohmann::json config = nlohmann::json::object();    // --config
  nlohmann::json keys = nlohmann::json::object();      // provider keys set by flags
  std::chrono::milliseconds timeout{60'000};           // --timeout
  bool verbose = false;                                // --verbose

  /// Adds --provider, --config, --base-url, --api-key-env, --timeout and --verbose.
  void add_to(std::vector<Flag> &flags);
  /// Adds `name` setting provider key `key` to the value given.
  void add_key_flag(std::vector<Flag> &flags, std::string_view name, std::string key);

  /// --provider, else --config's "provider", else `fallback`.
  std::string provider_name(const char *fallback) const;
  /// {"provider": name} + --config's keys + the flags' keys (which win).
  nlohmann::json provider_config(const std::string &name) const;
};

/// Reads `value` as text: "-" is stdin, anything else is the text itself.
std::string text_or_stdin(const std::string &value);
/// Reads a whole file; nullopt and a reason in `problem` when it cannot.
std::optional<std::string> read_text_file(const std::string &path, std::string &problem);

/// "auth: Incorrect API key provided (HTTP 401)", redacted through `runtime`'s secrets.
std::string describe(const providers::ProviderError &error, core::Runtime &runtime);

/// The exit code for an engine Error's status (config problems, I/O, others).
int exit_code_for(const std::exception &error);

/// A runtime (one IO thread, two workers, warnings on stderr), a strand for the provider
/// and the Ctrl-C handling of one command. The command's state lives on the strand: it is
/// built by the job given to run(), and torn down by a job given to on_strand() after.
class ProviderRun {
 public:
  ProviderRun(const char *command, bool verbose);
  ~ProviderRun();
  ProviderRun(const ProviderRun &) = delete;
  ProviderRun &operator=(const ProviderRun &) = delete;

  core::Runtime &runtime() noexcept { return *runtime_; }
  const providers::ProviderContext &context() const noexcept { return context_; }
  const boost::asio::any_io_executor &executor() const noexcept { return context_.executor; }
  const char *command() const noexcept { return command_; }

  /// Runs `start` on the strand and waits until finish() is called. On SIGINT/SIGTERM, or
  /// when an armed timeout expires, `cancel` runs on the strand first. An exception from
  /// `start` is reported and ends the run with exit_code_for(it). Returns the exit code.
  int run(std::function<void()> start, std::function<void()> cancel);

  /// Ends run() with `code`; the first call wins. On the strand.
  void finish(int code);
  bool finished() const noexcept { return finished_on_strand_; }

  /// From now on, the run must end within `timeout`, else it is cancelled and ends with
  /// kExitTimeout after printing `what` ("no reply within 60 s"). On the strand.
  void arm_timeout(std::chrono::milliseconds timeout, std::string what);

  /// Runs `job` on the strand and waits for it. Not from the strand.
  void on_strand(std::function<void()> job);

  /// Prints "parley <command>: <message>" on stderr.
  void say(const std::string &message) const;

 private:
  struct Timers;
  void interrupt(int code, const std::string &message);

  const char *command_;
  std::unique_ptr<core::Runtime> runtime_;
  providers::ProviderContext context_;
  std::unique_ptr<Timers> timers_;  // the signal set and the timeout timer, on the strand
  std::function<void()> cancel_;
  bool finished_on_strand_ = false;

  std::mutex mutex_;
  std::condition_variable done_;
  std::optional<int> exit_code_;
};

/// Converts mono PCM16 from `from` Hz to `to` Hz in one go (tail included). Throws
/// Error(unsupported) when either rate is not one the resampler knows.
std::vector<int16_t> resample_all(std::vector<int16_t> samples, int from, int to);

}  // namespace parley::cli
