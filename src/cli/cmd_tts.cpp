// `parley tts`: speaks text through any registered TTS provider into a mono WAV file, for
// trying a voice by hand, and says how long the first audio took and how fast it went.
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "audio/resampler.hpp"
#include "audio/wav.hpp"
#include "cli/commands.hpp"
#include "cli/provider_flags.hpp"
#include "common/error.hpp"
#include "providers/registry.hpp"

namespace parley::cli {
namespace {

using Clock = std::chrono::steady_clock;

void print_tts_usage(std::FILE *to) {
  std::fprintf(to,
               "usage: parley tts [--provider NAME] [--voice V] [--model M] [--rate HZ]\n"
               "                  [--config JSON|FILE] [options] \"text\" -o out.wav\n"
               "\n"
               "Speaks the text (\"-\" reads it from stdin) through the provider, a sentence at a time as\n"
               "the agent pipeline would, and writes the audio to a mono PCM16 WAV file. Then prints one\n"
               "line: duration, sample rate, time to first audio (from the request to the first\n"
               "samples), total time and real-time factor (total time / audio duration), peak level.\n"
               "\n"
               "  -o, --output FILE    the WAV file to write (required)\n"
               "  --provider NAME      espeak (default), openai, elevenlabs, elevenlabs_ws, deepgram,\n"
               "                       azure, or any other registered TTS\n"
               "  --voice V            the voice (config key voice; deepgram: its model, e.g.\n"
               "                       aura-2-thalia-en)\n"
               "  --rate HZ            the WAV's sample rate. Asked of the provider where its config\n"
               "                       can say it (sample_rate; elevenlabs: output_format pcm_HZ;\n"
               "                       azure: output_format raw-NNkhz-16bit-mono-pcm); otherwise the\n"
               "                       provider's audio is resampled. Default: the provider's rate\n"
               "  --words              print word timings on stderr, when the provider gives them\n"
               "%s"
               "\n"
               "Keys come from the environment (OPENAI_API_KEY, ELEVENLABS_API_KEY, DEEPGRAM_API_KEY,\n"
               "AZURE_SPEECH_KEY), or from the variable --api-key-env names.\n"
               "\n"
               "%s",
               kProviderFlagsHelp, kExitCodesHelp);
}

struct TtsOptions {
  ProviderFlags provider;
  std::string text;
  std::string output;
  std::optional<int> rate;
  bool words = false;
};

std::optional<int> parse_tts_options(Args args, TtsOptions &o) {
  std::vector<Flag> flags;
  o.provider.add_to(flags);
  o.provider.add_key_flag(flags, "--voice", "voice");
  flags.push_back({"--output", "-o", true, [&o](const std::string &value) -> std::string {
                     if (value.empty()) return "expected a file name";
                     o.output = value;
                     return {};
                   }});
  flags.push_back({"--rate", "", true, [&o](const std::string &value) -> std::string {
                     char *end = nullptr;
                     const long rate = std::strtol(value.c_str(), &end, 10);
                     if (value.empty() || *end != '\0' || rate < 8000 || rate > 48000) {
                       return "expected a sample rate in Hz, 8000..48000; got '" + value + "'";
                     }
                     o.rate = static_cast<int>(rate);
                     return {};
                   }});
  flags.push_back({"--words", "", false, [&o](const std::string &) {
                     o.words = true;
                     return std::string();
                   }});
  std::vector<std::string> positional;
  if (const auto stop = parse_flags("tts", args, flags, positional, print_tts_usage)) return stop;
  if (positional.empty()) return usage_error("tts", "no text to speak", print_tts_usage);
  if (o.output.empty()) return usage_error("tts", "-o FILE is required", print_tts_usage);
  for (const auto &piece : positional) {
    if (!o.text.empty()) o.text += ' ';
    o.text += text_or_stdin(piece);
  }
  if (o.text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return usage_error("tts", "the text is empty", print_tts_usage);
  }
  return std::nullopt;
}

// The flags' keys said the way `provider` understands them. A rate the provider cannot be
// asked for is left out: its audio is resampled instead.
void translate_keys(const std::string &provider, std::optional<int> rate, nlohmann::json &config) {
  // Deepgram's voices are models ("aura-2-thalia-en").
  if (provider == "deepgram" && config.contains("voice")) {
    if (config.contains("model") && config["model"] != config["voice"]) {
      throw Error(Status::config, "deepgram: the voice is the model; give --voice or --model, not both");
    }
    config["model"] = config["voice"];
    config.erase("voice");
  }
  if (!rate) return;
  if (provider == "elevenlabs" || provider == "elevenlabs_ws") {
    for (const int r : {8000, 16000, 22050, 24000, 32000, 44100, 48000}) {
      if (r == *rate) config["output_format"] = "pcm_" + std::to_string(r);
    }
  } else if (provider == "azure") {
    for (const int r : {8000, 16000, 24000, 48000}) {
      if (r == *rate) config["output_format"] = "raw-" + std::to_string(r / 1000) + "khz-16bit-mono-pcm";
    }
  } else if (provider != "openai") {  // openai speaks at 24 kHz, always
    config["sample_rate"] = *rate;
  }
}

// The text cut where a pipeline's chunker would hand it over: after ., ! or ? followed by a
// space, and at line ends.
std::vector<std::string> sentences(const std::string &text) {
  std::vector<std::string> out;
  std::string current;
  auto flush = [&] {
    const size_t first = current.find_first_not_of(" \t\r\n");
    if (first != std::string::npos) {
      const size_t last = current.find_last_not_of(" \t\r\n");
      out.push_back(current.substr(first, last - first + 1));
    }
    current.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    current += c;
    const bool at_space = i + 1 == text.size() || std::isspace(static_cast<unsigned char>(text[i + 1]));
    if (c == '\n' || ((c == '.' || c == '!' || c == '?') && at_space)) flush();
  }
  flush();
  return out;
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// One utterance on the run's strand.
class TtsCommand {
 public:
  TtsCommand(ProviderRun &run, const TtsOptions &options) : run_(run), options_(options) {}

  void start() {
    const std::string name = options_.provider.provider_name("espeak");
    nlohmann::json config = options_.provider.provider_config(name);
    translate_keys(name, options_.rate, config);
    tts_ = providers::builtin_registry().make_tts(config, run_.context());
    const int provider_rate = tts_->sample_rate();
    rate_ = options_.rate.value_or(provider_rate);
    if (rate_ != provider_rate) {
      if (!audio::Resampler::is_supported_rate(provider_rate) || !audio::Resampler::is_supported_rate(rate_)) {
        throw Error(Status::unsupported, tts_->name() + " speaks at " + std::to_string(provider_rate) +
                                             " Hz, which cannot be resampled to " + std::to_string(rate_) + " Hz");
      }
      resampler_.emplace(provider_rate, rate_);
    }
    writer_.emplace(options_.output, audio::WavFormat{audio::WavEncoding::pcm16, 1, static_cast<uint32_t>(rate_)});

    providers::TtsCallbacks callbacks;
    callbacks.on_audio = [this](const int16_t *samples, size_t count) { on_audio(samples, count); };
    callbacks.on_done = [this] { on_done(); };
    callbacks.on_error = [this](providers::ProviderError error) { on_error(error); };
    if (options_.words) {
      callbacks.on_words = [this](std::vector<providers::WordTiming> words) {
        for (const auto &w : words) {
          run_.say("word " + std::to_string(w.start_ms) + "-" + std::to_string(w.end_ms) + " ms: " + w.word);
        }
      };
    }
    started_ = Clock::now();
    run_.arm_timeout(options_.provider.timeout, "the audio did not finish within the --timeout; cancelled");
    stream_ = tts_->start(std::move(callbacks));
    for (auto &sentence : sentences(options_.text)) stream_->push_text(std::move(sentence));
    stream_->finish();
  }

  void cancel() {
    if (stream_) stream_->cancel();
    keep_partial_output();
  }

 private:
  void on_audio(const int16_t *samples, size_t count) {
    if (!first_audio_) first_audio_ = Clock::now();
    if (!resampler_) return write(std::span(samples, count));
    resampled_.resize(resampler_->max_output(count));
    write(std::span(resampled_).first(resampler_->process(std::span(samples, count), resampled_)));
  }

  void write(std::span<const int16_t> samples) {
    if (failed_) return;
    try {
      writer_->write_pcm16(samples);
    } catch (const std::exception &e) {
      // A full disk: stop the provider, say why.
      failed_ = true;
      stream_->cancel();
      run_.say(e.what());
      run_.finish(kExitIo);
      return;
    }
    for (const int16_t s : samples) peak_ = std::max(peak_, std::abs(static_cast<int>(s)));
  }

  void on_done() {
    const auto total = Clock::now() - started_;
    if (resampler_) {
      resampled_.resize(resampler_->max_output(960));
      while (const size_t got = resampler_->flush(resampled_)) write(std::span(resampled_).first(got));
    }
    if (failed_) return;
    const uint64_t frames = writer_->frames_written();
    try {
      writer_->close();
    } catch (const std::exception &e) {
      run_.say(e.what());
      return run_.finish(kExitIo);
    }
    const double seconds = static_cast<double>(frames) / rate_;
    const std::string peak = peak_ == 0 ? "-inf" : format("%.1f", 20 * std::log10(peak_ / 32768.0));
    std::printf("%s: duration=%.3fs rate=%d ttfa=%s total=%.1fms rtf=%s peak=%sdBFS provider=%s\n",
                options_.output.c_str(), seconds, rate_,
                first_audio_ ? format("%.1fms", ms(*first_audio_ - started_)).c_str() : "none", ms(total),
                seconds > 0 ? format("%.3f", std::chrono::duration<double>(total).count() / seconds).c_str() : "-",
                peak.c_str(), tts_->name().c_str());
    std::fflush(stdout);
    run_.finish(kExitOk);
  }

  void on_error(const providers::ProviderError &error) {
    run_.say(tts_->name() + " failed: " + describe(error, run_.runtime()));
    keep_partial_output();
    run_.finish(kExitProvider);
  }

  // After a failure or a cancel: the audio so far stays in the file (it helps to hear where
  // a stream was cut); a file without audio is removed.
  void keep_partial_output() {
    if (!writer_ || !writer_->is_open()) return;
    const uint64_t frames = writer_->frames_written();
    try {
      writer_->close();
    } catch (const std::exception &) {  // NOLINT(bugprone-empty-catch): already failing
    }
    std::error_code ignored;
    if (frames == 0) {
      std::filesystem::remove(options_.output, ignored);
    } else {
      run_.say(format("%.3f", static_cast<double>(frames) / rate_) + " s of audio written to " + options_.output +
               " before the failure");
    }
  }

  template <typename... T>
  static std::string format(const char *pattern, T... values) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, pattern, values...);
    return buffer;
  }

  ProviderRun &run_;
  const TtsOptions &options_;
  std::unique_ptr<providers::Tts> tts_;
  std::unique_ptr<providers::TtsStream> stream_;  // after tts_: destroyed before it
  std::optional<audio::Resampler> resampler_;
  std::vector<int16_t> resampled_;
  std::optional<audio::WavFileWriter> writer_;
  int rate_ = 0;
  int peak_ = 0;
  bool failed_ = false;
  Clock::time_point started_;
  std::optional<Clock::time_point> first_audio_;
};

}  // namespace

int run_tts(Args args) {
  TtsOptions options;
  if (const auto stop = parse_tts_options(args, options)) return *stop;
  ProviderRun run("tts", options.provider.verbose);
  auto command = std::make_unique<TtsCommand>(run, options);
  const int code = run.run([&] { command->start(); }, [&] { command->cancel(); });
  run.on_strand([&] { command.reset(); });
  return code;
}

}  // namespace parley::cli
