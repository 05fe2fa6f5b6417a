// `parley stt`: streams a WAV file through any registered STT provider in 20 ms frames, in
// real time (or, with --fast, as fast as it goes), as a call would; partial transcripts show
// on stderr as they come, finals go to stdout, one line each.
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
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
using namespace std::chrono_literals;

constexpr auto kFrame = 20ms;
// --fast pushes this much audio per turn of the strand, so callbacks interleave.
constexpr size_t kFastFramesPerTurn = 50;
// After finalize(), a final that nothing follows for this long ends the run: a provider may
// still be delivering finals of earlier utterances when finalize() goes out, and the one
// finalize() asked for is the last.
constexpr auto kSettle = 500ms;

void print_stt_usage(std::FILE *to) {
  std::fprintf(to,
               "usage: parley stt [--provider NAME] [--grammar FILE.jsgf] [--keywords \"a,b\"]\n"
               "                  [--config JSON|FILE] [--fast] [options] in.wav\n"
               "\n"
               "Streams the WAV file (PCM16, mu-law or A-law, mono or stereo, any rate the resampler\n"
               "takes) to the provider in 20 ms frames at the provider's rate, in real time; at the\n"
               "end of the file calls finalize() and waits for the final transcript. Partial\n"
               "transcripts show on stderr as they come; final transcripts go to stdout, one line\n"
               "each. Then a summary on stderr: audio length, time to stream it, and the final's\n"
               "latency (from the end of the audio to the last final).\n"
               "\n"
               "  --provider NAME      pocketsphinx (default), deepgram, elevenlabs, openai, groq,\n"
               "                       azure, or any other registered STT\n"
               "  --grammar FILE       pocketsphinx: a JSGF grammar (config key grammar)\n"
               "  --keywords \"a,b\"     pocketsphinx: phrases to spot (config key keywords)\n"
               "  --language L         config key language\n"
               "  --rate HZ            the rate the provider takes (config key sample_rate)\n"
               "  --fast               push the audio as fast as the provider takes it instead of in\n"
               "                       real time (pocketsphinx: its max_backlog_ms is raised to hold\n"
               "                       the whole file unless the config sets it)\n"
               "%s"
               "                       (stt: counted from the end of the audio)\n"
               "\n"
               "Keys come from the environment (DEEPGRAM_API_KEY, ELEVENLABS_API_KEY, OPENAI_API_KEY,\n"
               "AZURE_SPEECH_KEY), or from the variable --api-key-env names.\n"
               "\n"
               "%s",
               kProviderFlagsHelp, kExitCodesHelp);
}

struct SttOptions {
  ProviderFlags provider;
  std::string input;
  bool fast = false;
};

std::optional<int> parse_stt_options(Args args, SttOptions &o) {
  std::vector<Flag> flags;
  o.provider.add_to(flags);
  o.provider.add_key_flag(flags, "--grammar", "grammar");
  o.provider.add_key_flag(flags, "--keywords", "keywords");
  o.provider.add_key_flag(flags, "--language", "language");
  flags.push_back({"--rate", "", true, [&o](const std::string &value) -> std::string {
                     char *end = nullptr;
                     const long rate = std::strtol(value.c_str(), &end, 10);
                     if (value.empty() || *end != '\0' || rate < 8000 || rate > 48000) {
                       return "expected a sample rate in Hz, 8000..48000; got '" + value + "'";
                     }
                     o.provider.keys["sample_rate"] = rate;
                     return {};
                   }});
  flags.push_back({"--fast", "", false, [&o](const std::string &) {
                     o.fast = true;
                     return std::string();
                   }});
  std::vector<std::string> positional;
  if (const auto stop = parse_flags("stt", args, flags, positional, print_stt_usage)) return stop;
  if (positional.size() != 1) {
    return usage_error("stt", positional.empty() ? "no WAV file given" : "one WAV file expected", print_stt_usage);
  }
  o.input = positional[0];
  return std::nullopt;
}

// The file's audio as mono PCM16 (a stereo file's channels averaged).
std::vector<int16_t> mono(const audio::WavAudio &wav) {
  if (wav.format.channels == 1) return wav.samples;
  std::vector<int16_t> out(wav.frames());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<int16_t>((wav.samples[2 * i] + wav.samples[2 * i + 1]) / 2);
  }
  return out;
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// One stream on the run's strand. Owned by a shared_ptr so that the frame pump's posted
// handlers can tell it is gone.
class SttCommand : public std::enable_shared_from_this<SttCommand> {
 public:
  SttCommand(ProviderRun &run, const SttOptions &options, std::vector<int16_t> samples, int file_rate)
      : run_(run), options_(options), file_samples_(std::move(samples)), file_rate_(file_rate),
        pump_(run.executor()), settle_(run.executor()), stderr_is_tty_(isatty(STDERR_FILENO) == 1) {}

  void start() {
    const std::string name = options_.provider.provider_name("pocketsphinx");
    nlohmann::json config = options_.provider.provider_config(name);
    const auto file_ms = static_cast<int64_t>(file_samples_.size() * 1000 / static_cast<size_t>(file_rate_));
    if (options_.fast && name == "pocketsphinx" && !config.contains("max_backlog_ms")) {
      config["max_backlog_ms"] = std::clamp<int64_t>(file_ms + 1000, 3000, 600'000);
    }
    stt_ = providers::builtin_registry().make_stt(config, run_.context());
    rate_ = stt_->sample_rate();
    if (file_rate_ != rate_ && !audio::Resampler::is_supported_rate(file_rate_)) {
      throw Error(Status::format, options_.input + " is at " + std::to_string(file_rate_) +
                                      " Hz, which cannot be resampled to " + stt_->name() + "'s " + std::to_string(rate_) + " Hz");
    }
    samples_ = resample_all(std::move(file_samples_), file_rate_, rate_);
    frame_ = static_cast<size_t>(rate_) / 50;

    providers::SttCallbacks callbacks;
    callbacks.on_transcript = [this](const providers::Transcript &t) { on_transcript(t); };
    callbacks.on_error = [this](providers::ProviderError error) { on_error(error); };
    if (options_.provider.verbose) callbacks.on_speech_started = [this] { run_.say("speech started"); };
    stream_ = stt_->start(std::move(callbacks));
    started_ = Clock::now();
    pump();
  }

  void cancel() {
    stopped_ = true;
    pump_.cancel();
    settle_.cancel();
    if (stream_) stream_->cancel();
    clear_partial();
  }

 private:
  // Pushes the frames that are due (all of them at once with --fast, a turn at a time), then
  // waits for the next one; after the last, finalize().
  void pump() {
    if (stopped_) return;
    const size_t frames = (samples_.size() + frame_ - 1) / frame_;
    size_t pushed_now = 0;
    while (next_frame_ < frames) {
      if (options_.fast ? pushed_now == kFastFramesPerTurn : Clock::now() < due(next_frame_)) break;
      const size_t offset = next_frame_ * frame_;
      stream_->push_audio(samples_.data() + offset, std::min(frame_, samples_.size() - offset));
      ++next_frame_;
      ++pushed_now;
    }
    if (next_frame_ == frames) return finalize();
    auto self = weak_from_this();
    if (options_.fast) {
      boost::asio::post(run_.executor(), [self] {
        if (auto command = self.lock()) command->pump();
      });
      return;
    }
    pump_.expires_at(due(next_frame_));
    pump_.async_wait([self](const boost::system::error_code &ec) {
      if (ec) return;
      if (auto command = self.lock()) command->pump();
    });
  }

  Clock::time_point due(size_t frame) const { return started_ + kFrame * static_cast<int64_t>(frame); }

  void finalize() {
    finalized_at_ = Clock::now();
    stream_->finalize();
    run_.arm_timeout(options_.provider.timeout,
                     "no final transcript within the --timeout after the end of the audio; cancelled");
  }

  void on_transcript(const providers::Transcript &t) {
    if (!t.is_final) {
      show_partial(t.text);
    } else {
      clear_partial();
      if (!t.text.empty()) {
        std::printf("%s\n", t.text.c_str());
        std::fflush(stdout);
        ++finals_;
      }
    }
    if (!finalized_at_) return;
    if (t.is_final && t.speech_final) {
      got_final_ = true;
      last_final_ = Clock::now();
    } else if (!t.is_final) {
      got_final_ = false;  // another utterance is still being recognised
    }
    if (!got_final_) return;
    auto self = weak_from_this();
    settle_.expires_after(kSettle);
    settle_.async_wait([self](const boost::system::error_code &ec) {
      if (ec) return;
      if (auto command = self.lock()) command->done();
    });
  }

  void done() {
    if (stopped_) return;
    stopped_ = true;
    const double audio_s = static_cast<double>(samples_.size()) / rate_;
    char line[256];
    std::snprintf(line, sizeof line, "%s: audio=%.3fs rate=%d streamed_in=%.1fms final_latency=%.1fms finals=%d",
                  stt_->name().c_str(), audio_s, rate_, ms(*finalized_at_ - started_), ms(*last_final_ - *finalized_at_),
                  finals_);
    run_.say(line);
    run_.finish(kExitOk);
  }

  void on_error(const providers::ProviderError &error) {
    if (!error.fatal) {
      clear_partial();
      return run_.say("warning: " + stt_->name() + ": " + describe(error, run_.runtime()));
    }
    stopped_ = true;
    pump_.cancel();
    settle_.cancel();
    clear_partial();
    run_.say(stt_->name() + " failed: " + describe(error, run_.runtime()));
    run_.finish(kExitProvider);
  }

  // A terminal shows the partial on one line that each new one overwrites; a pipe or a file
  // gets one line per partial.
  void show_partial(const std::string &text) {
    if (stderr_is_tty_) {
      std::fprintf(stderr, "\r\033[K... %s", text.c_str());
      partial_shown_ = true;
    } else {
      std::fprintf(stderr, "partial: %s\n", text.c_str());
    }
    std::fflush(stderr);
  }

  void clear_partial() {
    if (!partial_shown_) return;
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    partial_shown_ = false;
  }

  ProviderRun &run_;
  const SttOptions &options_;
  std::vector<int16_t> file_samples_;
  int file_rate_;
  boost::asio::steady_timer pump_;
  boost::asio::steady_timer settle_;
  bool stderr_is_tty_;
  std::unique_ptr<providers::Stt> stt_;
  std::unique_ptr<providers::SttStream> stream_;  // after stt_: destroyed before it
  std::vector<int16_t> samples_;  // at the provider's rate
  int rate_ = 0;
  size_t frame_ = 0;
  size_t next_frame_ = 0;
  Clock::time_point started_;
  std::optional<Clock::time_point> finalized_at_, last_final_;
  bool got_final_ = false;
  bool stopped_ = false;
  bool partial_shown_ = false;
  int finals_ = 0;
};

}  // namespace

int run_stt(Args args) {
  SttOptions options;
  if (const auto stop = parse_stt_options(args, options)) return *stop;
  audio::WavAudio wav;
  try {
    wav = audio::read_wav_file(options.input);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "parley stt: %s\n", e.what());
    return kExitIo;
  }
  const int file_rate = static_cast<int>(wav.format.sample_rate);
  ProviderRun run("stt", options.provider.verbose);
  auto command = std::make_shared<SttCommand>(run, options, mono(wav), file_rate);
  const int code = run.run([&] { command->start(); }, [&] { command->cancel(); });
  run.on_strand([&] { command.reset(); });
  return code;
}

}  // namespace parley::cli
