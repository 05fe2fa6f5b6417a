// parley_agent_load: the voice agent under load, with the cloud providers replaced by fakes
// at fixed latencies (docs/agent.md, "Performance"; issue "The voice agent", Performance).
//
// In one process:
//   - the fakes (tests/fakes/), each on its own server thread: Deepgram live STT (every
//     utterance becomes final `--stt-final-ms` (150) after its last speech audio arrived, the
//     service's own endpointing: SttTiming::final_after_silence), an OpenAI-compatible model
//     (response head, so the first token, after `--llm-ms` (300)), Deepgram Aura TTS on a
//     second fake (first byte after `--tts-ms` (100); 50 ms of tone per character);
//   - an agent runtime started through the C ABI, with a Twilio listener ("behaviour":"agent");
//   - `--calls` (200) simulated Twilio callers (CallerFleet), started evenly over `--ramp`
//     (5 s). Each plays the same timeline of real espeak-ng speech: a question, silence while
//     the agent answers, a second line that cuts into the answer about a second after it
//     started (the barge-in), then silence long enough for the whole second answer.
//   - a few of those calls (`--probes`, 4) are played instead by a step-by-step caller
//     (TestCaller) that timestamps what it sends and receives (see "probe calls" below).
// It reads the PARLEY_EVENT_TURN and PARLEY_EVENT_INTERRUPTION events and prints, per answered
// turn, the engine's share of voice-to-voice, and per barge-in the engine's share of the time
// from the caller's speech start to `clear`; plus turns completed vs expected, CPU (by thread
// group: engine, fakes, callers) and memory. `--json` prints one JSON object; without it, a
// short table. A benchmark, never a test: it prints figures and judges nothing
// (scripts/bench-agent runs it on a release build; docs/agent.md, "Performance", has figures).
//
// What the overhead is. Every time in a TURN event is on the agent's steady clock, from the
// caller's speech end (the VAD's, backdated to its last speech frame):
//   voice_to_voice = endpointing + (end of turn → first LLM token) + tts_request
//                    + tts_first_byte + first_audio
// `endpointing` runs from the speech end to the moment the endpointer could end the turn: the
// VAD's stop window (800 ms of silence before the VAD confirms the end), the STT's final, and
// the minimum silence after it, whichever comes last. The 150 ms STT delay is inside it, and
// with the default windows it is hidden there (the final comes ~150 ms after the speech end,
// the VAD confirms the end at 800 ms), so endpointing is the VAD's stop window: all of it is
// waiting the configuration asks for, none of it work. After the end of turn the fakes hold
// the model's first token back 300 ms and the voice's first byte 100 ms. So
//   overhead = voice_to_voice − endpointing − 300 − 100
// is what is left: the engine deciding and building the request, both HTTP round trips over
// loopback, SSE decoding, the chunker, the TTS request, the audio handed to the session.
// It is an upper bound on the engine's own share: it also holds the fakes' own work and the
// lateness of their timers (their threads share the two cores with the engine, the callers
// and whatever else the machine runs). `overhead_parts_ms` splits it along the TURN fields.
// The fakes' lateness is measured too (FakeServer::head_timings) and taken off turn by turn
// (`overhead_less_fakes_lateness_ms`): numbered replies (numbered_reply) tell which model and
// voice requests were the turn's. `overhead_legs_ms` lays the turn out on one clock.
// It does not hold the caller's inbound audio path: the VAD's clock is anchored at the moment
// a frame is processed, so a frame that waited to be read shifts nothing. The probes see that.
//
// Barge-in. `clear_after_speech_start_ms` runs from the VAD's backdated speech start to the
// agent's clear; the VAD needs its start window (200 ms) of speech to confirm a start, so
//   barge_in = clear_after_speech_start_ms − start window
// is the agent's share. For the same reason as above it is ~0 by construction (the start is
// backdated from the very frame that triggers the clear), so the probes measure the caller's
// side: the barge-in line's onset (its first audible sample, placed on a frame boundary) to
// the `clear` arriving, minus the window; and, with the VAD's decisions replayed offline on
// the same audio through the same resampler and VAD, how much of that the VAD itself needs
// (`vad_start_lag_beyond_window_ms`) and how much is the engine and both transport directions
// (`clear_after_confirming_frame_ms`).
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "audio/g711.hpp"
#include "audio/resampler.hpp"
#include "audio/vad.hpp"
#include "fakes/deepgram_fake.hpp"
#include "fakes/openai_fake.hpp"
#include "parley/parley.h"
#include "speech.hpp"  // tests/unit/agent: caller speech from espeak-ng, as the agent tests make it
#include "transports/twilio/caller.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using nlohmann::json;
using std::chrono::milliseconds;

constexpr const char *kKey = "bench-key-not-secret";

// What the caller says and what the model answers (every request gets the same reply).
constexpr const char *kQuestion = "Hello, what time do you open on Saturday morning?";
constexpr const char *kBargeIn = "Sorry, I meant on Sunday.";
constexpr const char *kReply =
    "We open at nine in the morning on Saturdays. We close again at five in the afternoon. "
    "On Sundays the shop stays closed all day.";

// The k-th reply says a four-digit k where kReply says "nine" (same length, so the same
// audio): the turn's text, its model request and its voice requests can then be matched, and
// the fakes' own lateness taken off that turn's overhead.
std::string numbered_reply(size_t k) {
  std::string reply = kReply;
  char digits[8];
  std::snprintf(digits, sizeof digits, "%04zu", k % 10000);
  reply.replace(reply.find("nine"), 4, digits);
  return reply;
}

// The four-digit reply number in `text` ("We open at 0042 ..."), if any.
std::optional<size_t> reply_number(const std::string &text) {
  const size_t at = text.find("open at ");
  if (at == std::string::npos || at + 12 > text.size()) return std::nullopt;
  size_t k = 0;
  for (size_t i = at + 8; i < at + 12; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    k = k * 10 + static_cast<size_t>(text[i] - '0');
  }
  return k;
}

struct Options {
  int calls = 200;
  double ramp_s = 5.0;
  int io_threads = 1;
  int worker_threads = 2;
  int caller_threads = 1;
  int stt_final_ms = 150;
  int llm_ms = 300;
  int tts_ms = 100;
  int vad_start_ms = 200;
  int vad_stop_ms = 800;
  int min_silence_ms = 300;
  int barge_in_after_ms = 1000;  // after the first answer's expected first audio
  int session_rate = 16000;      // the listener's session rate (the VAD runs at it)
  int probes = 4;                // of the calls, played by a step-by-step caller that times the clear
  int load_nice = 0;              // nice value for the fakes' and callers' threads (0: as the engine)
  bool split_cores = false;       // the engine's threads on the last core, everything else on the others
  bool json = false;
  std::string turns_out;  // every turn's TURN payload, one JSON per line
};

[[noreturn]] void usage(int code) {
  std::fprintf(code == 0 ? stdout : stderr,
               "usage: parley_agent_load [--calls N] [--ramp S] [--json] [--io-threads N] [--worker-threads N]\n"
               "                         [--caller-threads N] [--stt-final-ms MS] [--llm-ms MS] [--tts-ms MS]\n"
               "                         [--vad-start-ms MS] [--vad-stop-ms MS] [--min-silence-ms MS]\n"
               "                         [--probes N] [--session-rate 8000|16000] [--turns-out FILE]\n"
               "                         [--load-nice N] [--split-cores]\n");
  std::exit(code);
}

Options parse_options(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    auto integer = [&] { return std::stoi(value()); };
    if (arg == "--calls") o.calls = integer();
    else if (arg == "--ramp") o.ramp_s = std::stod(value());
    else if (arg == "--load-nice") o.load_nice = integer();
    else if (arg == "--split-cores") o.split_cores = true;
    else if (arg == "--io-threads") o.io_threads = integer();
    else if (arg == "--worker-threads") o.worker_threads = integer();
    else if (arg == "--caller-threads") o.caller_threads = integer();
    else if (arg == "--stt-final-ms") o.stt_final_ms = integer();
    else if (arg == "--llm-ms") o.llm_ms = integer();
    else if (arg == "--tts-ms") o.tts_ms = integer();
    else if (arg == "--vad-start-ms") o.vad_start_ms = integer();
    else if (arg == "--vad-stop-ms") o.vad_stop_ms = integer();
    else if (arg == "--min-silence-ms") o.min_silence_ms = integer();
    else if (arg == "--turns-out") o.turns_out = value();
    else if (arg == "--probes") o.probes = integer();
    else if (arg == "--session-rate") o.session_rate = integer();
    else if (arg == "--json") o.json = true;
    else if (arg == "-h" || arg == "--help") usage(0);
    else usage(2);
  }
  if (o.calls < 1 || o.ramp_s < 0 || o.io_threads < 1 || o.caller_threads < 1 || o.probes < 0) usage(2);
  o.probes = std::min(o.probes, o.calls);
  return o;
}

// ---- caller speech ----------------------------------------------------------------------

// Speech at 8 kHz (the Twilio caller's rate), with where it is audible: its first and last
// sample of magnitude >= 500 (the fakes' speech threshold; espeak-ng's onsets are sharp).
struct Speech8 {
  std::vector<int16_t> pcm;
  size_t onset = 0;
  size_t end = 0;  // one past the last audible sample
};

Speech8 to_8k(const std::vector<int16_t> &speech16) {
  Speech8 out;
  parley::audio::Resampler down(16000, 8000);
  out.pcm.resize(down.max_output(speech16.size()));
  out.pcm.resize(down.process(speech16, out.pcm));
  bool heard = false;
  for (size_t i = 0; i < out.pcm.size(); ++i) {
    if (std::abs(static_cast<int>(out.pcm[i])) < 500) continue;
    if (!heard) out.onset = i;
    heard = true;
    out.end = i + 1;
  }
  return out;
}

constexpr size_t kFrame = 160;  // one Twilio frame: 20 ms of 8 kHz μ-law

// Where to place `speech` at or after sample `target` so that its onset starts a frame.
size_t onset_on_frame(size_t target, const Speech8 &speech) {
  return (target + speech.onset + kFrame - 1) / kFrame * kFrame - speech.onset;
}

// A caller's 8 kHz μ-law audio: silence with speech placed at given samples.
class Timeline {
 public:
  explicit Timeline(size_t samples) : pcm_(samples, 0) {}

  void place(size_t start, const Speech8 &speech) {
    for (size_t i = 0; i < speech.pcm.size() && start + i < pcm_.size(); ++i) pcm_[start + i] = speech.pcm[i];
  }

  std::shared_ptr<const std::vector<uint8_t>> ulaw() const {
    std::vector<uint8_t> out(pcm_.size());
    parley::audio::ulaw_encode(pcm_, out);
    return std::make_shared<const std::vector<uint8_t>>(std::move(out));
  }

 private:
  std::vector<int16_t> pcm_;
};

// ---- CPU by thread ----------------------------------------------------------------------

std::set<int> thread_ids() {
  std::set<int> ids;
  for (const auto &entry : std::filesystem::directory_iterator("/proc/self/task")) {
    ids.insert(std::stoi(entry.path().filename().string()));
  }
  return ids;
}

// One thread's time on a CPU and time runnable but waiting for one (the scheduler's run
// queue), ms, from /proc/self/task/TID/schedstat (ns); nullopt when it has exited.
struct ThreadTimes {
  double cpu_ms = 0;
  double wait_ms = 0;
  double slices = 0;
};

std::optional<ThreadTimes> thread_times(int tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/schedstat");
  double cpu_ns = 0, wait_ns = 0, slices = 0;
  if (!(in >> cpu_ns >> wait_ns >> slices)) return std::nullopt;
  return ThreadTimes{cpu_ns / 1e6, wait_ns / 1e6, slices};
}

double process_cpu_ms() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto ms = [](const timeval &t) { return static_cast<double>(t.tv_sec) * 1000.0 + static_cast<double>(t.tv_usec) / 1000.0; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

double rss_mb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// Busy and total jiffies of the whole machine (all cores), from /proc/stat.
std::pair<double, double> machine_jiffies() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  const double busy = user + nice + system + irq + softirq + steal;
  return {busy, busy + idle + iowait};
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// A group of threads and their times at the start of the measured window.
struct ThreadGroup {
  std::map<int, ThreadTimes> start;
  void add(const std::set<int> &ids) {
    for (int id : ids) {
      if (auto times = thread_times(id)) start[id] = *times;
    }
  }
  ThreadTimes used() const {
    ThreadTimes total;
    for (const auto &[id, at_start] : start) {
      if (auto now = thread_times(id)) {
        total.cpu_ms += now->cpu_ms - at_start.cpu_ms;
        total.wait_ms += now->wait_ms - at_start.wait_ms;
        total.slices += now->slices - at_start.slices;
      }
    }
    return total;
  }
};

// --load-nice: the fakes and the callers stand for services and phones on other machines;
// at a higher nice value they stop taking a core from the engine whenever it wakes.
// --split-cores: the engine's threads get the last core to themselves and the rest (fakes,
// callers, the host's event loop) the others, as when the far ends run on other machines.
void pin(const std::set<int> &threads, bool engine) {
  const unsigned cores = std::max(2u, std::thread::hardware_concurrency());
  cpu_set_t set;
  CPU_ZERO(&set);
  if (engine) {
    CPU_SET(cores - 1, &set);
  } else {
    for (unsigned c = 0; c + 1 < cores; ++c) CPU_SET(c, &set);
  }
  for (int id : threads) {
    if (sched_setaffinity(id, sizeof set, &set) != 0) std::perror("parley_agent_load: sched_setaffinity");
  }
}

void renice(const std::set<int> &threads, int nice) {
  if (nice == 0) return;
  for (int id : threads) {
    if (setpriority(PRIO_PROCESS, static_cast<id_t>(id), nice) != 0) std::perror("parley_agent_load: setpriority");
  }
}

std::set<int> minus(const std::set<int> &a, const std::set<int> &b) {
  std::set<int> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}

// ---- statistics -------------------------------------------------------------------------

json summary(std::vector<double> values) {
  if (values.empty()) return {{"count", 0}};
  std::sort(values.begin(), values.end());
  const auto rank = [&](double p) {  // nearest rank
    const size_t index = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
    return values[std::clamp<size_t>(index, 1, values.size()) - 1];
  };
  double sum = 0;
  for (double v : values) sum += v;
  const auto round2 = [](double v) { return std::round(v * 100.0) / 100.0; };
  return {{"count", values.size()}, {"min", round2(values.front())}, {"p50", round2(rank(50))},
          {"mean", round2(sum / static_cast<double>(values.size()))}, {"p99", round2(rank(99))},
          {"max", round2(values.back())}};
}

std::optional<double> number(const json &object, const char *key) {
  if (!object.contains(key) || !object[key].is_number()) return std::nullopt;
  return object[key].get<double>();
}

// ---- the VAD's decisions, replayed --------------------------------------------------------

// Feeds the timeline through what the engine does to a Twilio caller's audio (μ-law decode,
// the listener's 8 → 16 kHz resampler, the agent's 20 ms VAD frames, aligned as the agent
// aligns them, with the agent's VAD config) and notes, for each confirmed speech start and stop, the index of the Twilio frame
// whose arrival completed the confirming VAD frame. With no processing time at all, the agent
// could act when that frame arrives: a phone sends frame k at t0 + 20(k + 1) ms.
struct VadReplay {
  std::vector<size_t> start_frames;
  std::vector<size_t> stop_frames;
};

VadReplay replay_vad(const std::vector<uint8_t> &ulaw, const parley::audio::VadConfig &config) {
  VadReplay replay;
  parley::audio::Vad vad(config);
  parley::audio::Resampler up(8000, config.sample_rate);
  std::vector<int16_t> narrow(kFrame), wide, pending;
  const size_t vad_frame = static_cast<size_t>(config.sample_rate / 50);
  for (size_t k = 0; k + kFrame <= ulaw.size(); k += kFrame) {
    parley::audio::ulaw_decode(std::span<const uint8_t>(ulaw.data() + k, kFrame), narrow);
    wide.resize(up.max_output(narrow.size()));
    wide.resize(up.process(narrow, wide));
    // As the agent does: the resampler's first delivery is a little short of a frame, so the
    // agent pads it with leading silence to keep its VAD frames ending where deliveries do.
    if (k == 0) pending.assign((vad_frame - wide.size() % vad_frame) % vad_frame, 0);
    pending.insert(pending.end(), wide.begin(), wide.end());
    size_t offset = 0;
    for (; pending.size() - offset >= vad_frame; offset += vad_frame) {
      const auto event = vad.process(std::span<const int16_t>(pending.data() + offset, vad_frame));
      if (event.speech_started) replay.start_frames.push_back(k / kFrame);
      if (event.speech_stopped) replay.stop_frames.push_back(k / kFrame);
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(offset));
  }
  return replay;
}

// ---- probe calls ------------------------------------------------------------------------

// A few calls are played by a step-by-step caller (TestCaller) instead of the fleet, so that
// the caller's side of the barge-in can be timed: the agent's clear_after_speech_start_ms
// starts on the agent's clock at the frame that confirmed the speech start, so it cannot see
// how late that frame was processed. A probe sends frame k (timeline samples 160k..160k+159)
// at t0 + 20(k + 1) ms, as a phone does once it has captured it, plays what it receives by
// the same playback model as the fleet (a FIFO of audio and marks, 20 ms per tick, marks
// echoed once the audio before them has played, clear echoes every pending mark), and notes
// when things arrive.
struct ProbeResult {
  std::string error;
  // The engine's share at the caller: arrival minus the earliest moment it could have come
  // (the confirming frame's send time, plus the fakes' fixed delays for agent audio).
  std::optional<double> clear_late_ms;
  std::optional<double> audio_late_ms;
  std::optional<double> audio_again_late_ms;
  std::optional<double> clear_ms;        // barge-in onset → clear received
  std::optional<double> heard_ms;        // the question's last audible sample → first agent audio
  std::optional<double> heard_again_ms;  // the barge-in's last audible sample → first audio after the clear
};

struct ProbeTimes {
  double question_end_ms = 0;
  double barge_in_onset_ms = 0;
  double barge_in_end_ms = 0;
  // From the replayed VAD: when the frame completing each confirmation is sent.
  double question_stop_confirmed_ms = 0;
  double barge_in_start_confirmed_ms = 0;
  double barge_in_stop_confirmed_ms = 0;
  double provider_delays_ms = 0;  // the model's first token + the voice's first byte
};

ProbeResult run_probe(const std::string &url, const std::vector<uint8_t> &ulaw, const ProbeTimes &times) {
  ProbeResult result;
  try {
    parley::twilio::TestCaller caller;
    const double fixed = times.provider_delays_ms;
    if (const int status = caller.connect(url); status != 101) {
      result.error = "upgrade answered " + std::to_string(status);
      return result;
    }
    auto &twilio = caller.twilio();
    caller.send_text(parley::twilio::TwilioMessages::connected());
    caller.send_text(twilio.start());
    parley::twilio::ServerMessageReader reader;
    struct Item {
      size_t bytes = 0;
      std::string mark;  // a mark when not empty
    };
    std::deque<Item> playback;
    const auto t0 = Clock::now();
    const auto since = [&](Clock::time_point at) { return std::chrono::duration<double, std::milli>(at - t0).count(); };
    std::optional<Clock::time_point> clear_at, first_audio, first_audio_after_clear;
    const size_t frames = ulaw.size() / kFrame;
    for (size_t k = 0; k < frames; ++k) {
      const auto deadline = t0 + milliseconds(20 * static_cast<int64_t>(k + 1));
      for (;;) {
        const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) break;
        auto text = caller.read_text(left);
        if (!text) {
          if (!caller.is_open()) throw std::runtime_error("the server closed the call");
          continue;
        }
        const auto at = Clock::now();
        const auto message = reader.read(*text, twilio.stream_sid());
        if (!message) throw std::runtime_error("bad server message: " + reader.error());
        switch (message->kind) {
          case parley::twilio::ServerMessageReader::Kind::media:
            if (!first_audio) first_audio = at;
            if (clear_at && !first_audio_after_clear) first_audio_after_clear = at;
            playback.push_back({message->audio.size(), {}});
            break;
          case parley::twilio::ServerMessageReader::Kind::mark:
            if (playback.empty()) {
              caller.send_text(twilio.mark(message->mark_name));  // nothing playing: heard at once
            } else {
              playback.push_back({0, std::string(message->mark_name)});
            }
            break;
          case parley::twilio::ServerMessageReader::Kind::clear:
            if (!clear_at && since(at) > times.barge_in_onset_ms) clear_at = at;
            for (const auto &item : playback) {
              if (!item.mark.empty()) caller.send_text(twilio.mark(item.mark));
            }
            playback.clear();
            break;
        }
      }
      caller.send_text(twilio.media(std::span<const uint8_t>(ulaw.data() + k * kFrame, kFrame), 20 * static_cast<int64_t>(k + 1)));
      // One tick of playback: marks at the head were heard; then up to 160 bytes, never past a mark.
      while (!playback.empty() && !playback.front().mark.empty()) {
        caller.send_text(twilio.mark(playback.front().mark));
        playback.pop_front();
      }
      for (size_t budget = kFrame; budget > 0 && !playback.empty() && playback.front().mark.empty();) {
        const size_t take = std::min(budget, playback.front().bytes);
        playback.front().bytes -= take;
        budget -= take;
        if (playback.front().bytes == 0) playback.pop_front();
      }
    }
    caller.send_text(twilio.stop());
    caller.close();
    if (first_audio && since(*first_audio) > times.question_end_ms) result.heard_ms = since(*first_audio) - times.question_end_ms;
    if (clear_at) result.clear_ms = since(*clear_at) - times.barge_in_onset_ms;
    if (clear_at) result.clear_late_ms = since(*clear_at) - times.barge_in_start_confirmed_ms;
    if (first_audio) result.audio_late_ms = since(*first_audio) - times.question_stop_confirmed_ms - fixed;
    if (first_audio_after_clear) {
      result.audio_again_late_ms = since(*first_audio_after_clear) - times.barge_in_stop_confirmed_ms - fixed;
    }
    if (first_audio_after_clear && since(*first_audio_after_clear) > times.barge_in_end_ms) {
      result.heard_again_ms = since(*first_audio_after_clear) - times.barge_in_end_ms;
    }
  } catch (const std::exception &e) {
    result.error = e.what();
  }
  return result;
}

}  // namespace

int main(int argc, char **argv) {
  const Options o = parse_options(argc, argv);
  const std::string load_start = load_average();
  const std::set<int> main_threads = thread_ids();

  // ---- the caller's timeline ----
  // The question at 0.5 s; the barge-in a second into the answer's expected first audio;
  // then silence for the whole second answer. Both onsets start a Twilio frame.
  const Speech8 question = to_8k(parley::agent_testing::speech(kQuestion));
  const Speech8 barge_in = to_8k(parley::agent_testing::speech(kBargeIn));
  const milliseconds reply_ms(static_cast<int64_t>(std::string_view(kReply).size()) * parley::fakes::kToneMsPerChar);
  const milliseconds agent_wait(o.vad_stop_ms + o.llm_ms + o.tts_ms);  // speech end → first agent audio, ideally
  const size_t question_at = onset_on_frame(500 * 8, question);
  const size_t question_end = question_at + question.end;
  const size_t barge_in_at =
      onset_on_frame(question_end + static_cast<size_t>((agent_wait.count() + o.barge_in_after_ms) * 8), barge_in);
  const size_t barge_in_onset = barge_in_at + barge_in.onset;
  const size_t barge_in_end = barge_in_at + barge_in.end;
  const size_t samples = (barge_in_end + static_cast<size_t>((agent_wait + reply_ms + 1500ms).count() * 8) + kFrame - 1) / kFrame * kFrame;
  const milliseconds length(static_cast<int64_t>(samples / 8));
  Timeline timeline(samples);
  timeline.place(question_at, question);
  timeline.place(barge_in_at, barge_in);
  parley::audio::VadConfig vad_config;
  vad_config.start_window = milliseconds(o.vad_start_ms);
  vad_config.stop_window = milliseconds(o.vad_stop_ms);
  vad_config.sample_rate = o.session_rate;
  const VadReplay replay = replay_vad(*timeline.ulaw(), vad_config);
  const double question_end_ms = static_cast<double>(question_end) / 8.0;
  const double barge_in_onset_ms = static_cast<double>(barge_in_onset) / 8.0;

  // ---- the fakes ----
  parley::fakes::OpenAiFake llm;
  parley::fakes::DeepgramFake stt;
  parley::fakes::DeepgramFake tts;
  for (auto *server : {&llm.server(), &stt.server(), &tts.server()}) server->set_recording(false);
  llm.set_api_key(kKey);
  stt.set_api_key(kKey);
  tts.set_api_key(kKey);
  llm.set_reply(kReply);
  const size_t numbered_replies = static_cast<size_t>(o.calls + o.probes) * 2 + 16;
  for (size_t k = 1; k <= numbered_replies; ++k) llm.queue_reply(numbered_reply(k));
  stt.set_fallback_transcript("what time do you open on saturday");
  // Finals only from silence (or the agent's Finalize): `utterance` is longer than any line.
  stt.set_stt_timing({60s, 250ms, 100ms, milliseconds(o.stt_final_ms)});
  // Enough delayed heads for every request the run can make (left-overs are reported).
  const size_t llm_delays = static_cast<size_t>(o.calls) * 4 + 16;
  const size_t tts_delays = static_cast<size_t>(o.calls) * 12 + 16;
  parley::fakes::Fault llm_delay;
  llm_delay.path_prefix = "/v1/chat/completions";
  llm_delay.head_delay = milliseconds(o.llm_ms);
  llm.server().push_fault(llm_delay, llm_delays);
  parley::fakes::Fault tts_delay;
  tts_delay.path_prefix = "/v1/speak";
  tts_delay.head_delay = milliseconds(o.tts_ms);
  tts.server().push_fault(tts_delay, tts_delays);
  const std::set<int> fake_threads = minus(thread_ids(), main_threads);
  renice(fake_threads, o.load_nice);

  // ---- the agent runtime, through the C ABI ----
  const json runtime_config{{"io_threads", o.io_threads}, {"worker_threads", o.worker_threads},
                            {"event_queue_capacity", 1 << 18}, {"log", {{"level", "warn"}}}};
  parley_runtime *runtime = nullptr;
  if (parley_runtime_create(&runtime, runtime_config.dump().c_str()) != PARLEY_OK) {
    std::fprintf(stderr, "parley_agent_load: runtime: %s\n", parley_error_last()->message);
    return 1;
  }
  const json agent{
      {"stt", {{"provider", "deepgram"}, {"base_url", stt.base_url()}, {"api_key", kKey}}},
      {"llm", {{"provider", "openai"}, {"base_url", llm.base_url()}, {"api_key", kKey}, {"model", "fake-model"}}},
      {"tts", {{"provider", "deepgram"}, {"base_url", tts.base_url()}, {"api_key", kKey}}},
      {"system_prompt", "You are the front desk of a shop."},
      {"vad", {{"start_window_ms", o.vad_start_ms}, {"stop_window_ms", o.vad_stop_ms}}},
      {"endpointing", {{"min_silence_ms", o.min_silence_ms}}}};
  const json listener_config{{"transport", "twilio"}, {"port", 0}, {"sample_rate", o.session_rate},
                             {"behaviour", "agent"}, {"agent", agent}};
  parley_listener *listener = nullptr;
  if (parley_listener_start(&listener, runtime, listener_config.dump().c_str()) != PARLEY_OK) {
    std::fprintf(stderr, "parley_agent_load: listener: %s\n", parley_error_last()->message);
    parley_runtime_destroy(runtime);
    return 1;
  }
  const std::set<int> engine_threads = minus(minus(thread_ids(), main_threads), fake_threads);
  if (o.split_cores) {
    pin(engine_threads, true);
    pin(main_threads, false);
    pin(fake_threads, false);
  }

  // ---- the callers ----
  std::vector<parley::twilio::CallerScript> scripts;
  const auto audio = timeline.ulaw();
  const std::string url = "ws://127.0.0.1:" + std::to_string(parley_listener_port(listener)) + "/twilio";
  for (int i = 0; i < o.calls - o.probes; ++i) {
    parley::twilio::CallerScript script;
    script.url = url;
    script.ulaw = audio;
    script.duration = length;
    script.drain_timeout = 0ms;
    scripts.push_back(std::move(script));
  }
  const double rss_before = rss_mb();
  const std::set<int> before_fleet = thread_ids();
  const auto ramp = milliseconds(static_cast<int64_t>(o.ramp_s * 1000.0));
  std::optional<parley::twilio::CallerFleet> fleet;
  if (!scripts.empty()) fleet.emplace(std::move(scripts), parley::twilio::FleetOptions{ramp, o.caller_threads});

  // Where the probes' frames let the VAD confirm (the replay), for their caller-side figures.
  ProbeTimes probe_times{question_end_ms, barge_in_onset_ms, static_cast<double>(barge_in_end) / 8.0};
  probe_times.provider_delays_ms = o.llm_ms + o.tts_ms;
  const auto sent_at = [](size_t frame) { return 20.0 * static_cast<double>(frame + 1); };
  const auto first_after = [](const std::vector<size_t> &frames, size_t sample) -> std::optional<size_t> {
    for (size_t frame : frames) {
      if (frame * kFrame >= sample) return frame;
    }
    return std::nullopt;
  };
  const auto question_stop = first_after(replay.stop_frames, question_end);
  const auto barge_in_start = first_after(replay.start_frames, barge_in_onset);
  const auto barge_in_stop = first_after(replay.stop_frames, barge_in_end);
  if (question_stop) probe_times.question_stop_confirmed_ms = sent_at(*question_stop);
  if (barge_in_start) probe_times.barge_in_start_confirmed_ms = sent_at(*barge_in_start);
  if (barge_in_stop) probe_times.barge_in_stop_confirmed_ms = sent_at(*barge_in_stop);

  ThreadGroup fakes_cpu, engine_cpu, main_cpu;
  fakes_cpu.add(fake_threads);
  engine_cpu.add(engine_threads);
  main_cpu.add(main_threads);
  const double process_start = process_cpu_ms();
  const auto started = Clock::now();
  const int64_t started_us = std::chrono::duration_cast<std::chrono::microseconds>(started.time_since_epoch()).count();
  if (fleet) fleet->start();
  // The probes start spread over the ramp, so they meet the load the fleet builds.
  std::atomic<int> probes_done{0};
  std::vector<std::future<ProbeResult>> probes;
  for (int j = 0; j < o.probes; ++j) {
    const auto start_at = started + ramp * (2 * j + 1) / (2 * o.probes);
    probes.push_back(std::async(std::launch::async, [&, start_at] {
      std::this_thread::sleep_until(start_at);
      ProbeResult result = run_probe(url, *audio, probe_times);
      ++probes_done;
      return result;
    }));
  }
  const auto calls_running = [&] { return (fleet && !fleet->wait_for(0ms)) || probes_done.load() < o.probes; };

  // ---- events ----
  std::vector<json> turns;
  std::vector<json> interruptions;
  std::map<std::string, std::map<std::string, double>> state_times;  // "session/turn" → state → first time
  std::map<std::string, int> sessions_started;
  size_t sessions_stopped = 0, session_errors = 0, overflow_dropped = 0;
  std::vector<std::string> error_samples;
  auto take_events = [&](int timeout_ms) {
    bool any = false;
    parley_event *event = nullptr;
    while (parley_runtime_poll_event(&event, runtime, any ? 0 : timeout_ms) == PARLEY_OK) {
      any = true;
      const int type = parley_event_type_of(event);
      switch (type) {
        case PARLEY_EVENT_TURN: {
          json payload = json::parse(parley_event_payload(event), nullptr, false);
          payload["session"] = parley_event_session_id(event);
          payload["at_s"] = static_cast<double>(parley_event_timestamp_us(event) - started_us) / 1e6;
          turns.push_back(std::move(payload));
          break;
        }
        case PARLEY_EVENT_AGENT_STATE: {
          // When each turn started thinking and speaking (µs event times; see overhead_fine_ms).
          const json payload = json::parse(parley_event_payload(event), nullptr, false);
          const std::string key = std::string(parley_event_session_id(event)) + "/" + std::to_string(payload.value("turn", -1));
          const double at = static_cast<double>(parley_event_timestamp_us(event) - started_us) / 1e6;
          state_times[key].emplace(payload.value("state", "") + "_at_s", at);
          break;
        }
        case PARLEY_EVENT_INTERRUPTION: interruptions.push_back(json::parse(parley_event_payload(event), nullptr, false)); break;
        case PARLEY_EVENT_SESSION_STARTED: ++sessions_started[parley_event_session_id(event)]; break;
        case PARLEY_EVENT_SESSION_STOPPED: ++sessions_stopped; break;
        case PARLEY_EVENT_SESSION_ERROR:
        case PARLEY_EVENT_RUNTIME_ERROR:
          ++session_errors;
          if (error_samples.size() < 5) error_samples.emplace_back(parley_event_payload(event));
          break;
        case PARLEY_EVENT_OVERFLOW:
          overflow_dropped += json::parse(parley_event_payload(event), nullptr, false).value("dropped", 0u);
          break;
        default: break;
      }
      parley_event_release(event);
    }
    return any;
  };
  // Threads born during the run (the callers' io threads, and any the engine starts late)
  // exit when their work is done: their CPU is sampled as the run goes.
  // Once a second: this process's CPU and the machine's, so a reader can see when other
  // processes took the cores (figures taken while they did are not the engine's alone).
  json per_second = json::array();
  auto last_second = Clock::now();
  double last_process_ms = process_cpu_ms();
  auto last_jiffies = machine_jiffies();
  const double cores = static_cast<double>(std::thread::hardware_concurrency());
  double last_engine_ms = 0;
  auto sample_second = [&] {
    const auto now = Clock::now();
    const double wall = std::chrono::duration<double, std::milli>(now - last_second).count();
    const double process = process_cpu_ms();
    const double engine = engine_cpu.used().cpu_ms;
    const auto jiffies = machine_jiffies();
    const double total = jiffies.second - last_jiffies.second;
    const double machine_busy_ms = total > 0 ? (jiffies.first - last_jiffies.first) / total * wall * cores : 0;
    per_second.push_back({{"t_s", std::round(std::chrono::duration<double>(now - started).count())},
                          {"process_cpu_percent_of_one_core", std::round((process - last_process_ms) / wall * 100.0)},
                          {"engine_cpu_percent_of_one_core", std::round((engine - last_engine_ms) / wall * 100.0)},
                          {"other_processes_cpu_percent_of_one_core",
                           std::round(std::max(0.0, machine_busy_ms - (process - last_process_ms)) / wall * 100.0)}});
    last_engine_ms = engine;
    last_second = now;
    last_process_ms = process;
    last_jiffies = jiffies;
  };
  std::map<int, ThreadTimes> born_cpu;
  auto sample_born = [&] {
    for (int id : minus(thread_ids(), before_fleet)) {
      if (!born_cpu.contains(id)) {
        renice({id}, o.load_nice);
        if (o.split_cores) pin({id}, false);
      }
      if (auto times = thread_times(id)) born_cpu[id] = *times;
    }
  };
  for (auto next_sample = Clock::now(); calls_running();) {
    take_events(20);
    if (Clock::now() >= next_sample) {
      sample_born();
      next_sample = Clock::now() + 200ms;
    }
    if (Clock::now() - last_second >= 1s) sample_second();
  }
  const auto calls_done = Clock::now();
  // The last calls' closing events.
  for (auto until = Clock::now() + 3s; sessions_stopped < sessions_started.size() && Clock::now() < until;) take_events(50);
  take_events(0);
  const auto ended = Clock::now();
  const double process_ms = process_cpu_ms() - process_start;
  json engine_threads_json = json::array();  // busiest first: the IO thread, then workers and dispatchers
  for (const auto &[id, at_start] : engine_cpu.start) {
    if (auto now = thread_times(id)) {
      engine_threads_json.push_back({{"cpu_ms", std::round(now->cpu_ms - at_start.cpu_ms)},
                                     {"run_queue_wait_ms", std::round(now->wait_ms - at_start.wait_ms)},
                                     {"slices", now->slices - at_start.slices}});
    }
  }
  std::sort(engine_threads_json.begin(), engine_threads_json.end(),
            [](const json &a, const json &b) { return a["cpu_ms"].get<double>() > b["cpu_ms"].get<double>(); });
  const ThreadTimes engine_times = engine_cpu.used();
  const ThreadTimes fakes_times = fakes_cpu.used();
  const double engine_ms = engine_times.cpu_ms;
  const double fakes_ms = fakes_times.cpu_ms;
  const double main_ms = main_cpu.used().cpu_ms;
  sample_born();
  ThreadTimes callers_times;
  for (const auto &[id, times] : born_cpu) {
    callers_times.cpu_ms += times.cpu_ms;
    callers_times.wait_ms += times.wait_ms;
    callers_times.slices += times.slices;
  }
  // The callers' share by difference (their threads may have exited between two samples).
  const double callers_ms = process_ms - engine_ms - fakes_ms - main_ms;
  const auto reports = fleet ? fleet->wait() : std::vector<parley::twilio::CallerReport>{};
  std::vector<ProbeResult> probe_results;
  for (auto &probe : probes) probe_results.push_back(probe.get());
  const std::string load_end = load_average();
  const double peak_rss = peak_rss_mb();
  // Each fake's delayed heads in request order, and how late each went out.
  const auto late_ms = [](const parley::fakes::HeadTiming &t) { return static_cast<double>(t.late().count()) / 1000.0; };
  const auto heads_in_request_order = [](const parley::fakes::FakeServer &server) {
    auto timings = server.head_timings();
    std::sort(timings.begin(), timings.end(), [](const auto &a, const auto &b) { return a.request_id < b.request_id; });
    return timings;
  };
  const auto llm_heads = heads_in_request_order(llm.server()), tts_heads = heads_in_request_order(tts.server());
  std::vector<double> llm_head_late, tts_head_late;
  for (const auto &timing : llm_heads) llm_head_late.push_back(late_ms(timing));
  for (const auto &timing : tts_heads) tts_head_late.push_back(late_ms(timing));
  // Per reply number: the model's head (the k-th chat request got reply k) and the first
  // voice request carrying the number (the reply's first chunk).
  std::map<size_t, parley::fakes::HeadTiming> llm_by_reply, tts_by_reply;
  for (size_t i = 0; i < llm_heads.size() && i < numbered_replies; ++i) llm_by_reply[i + 1] = llm_heads[i];
  for (const auto &timing : tts_heads) {
    if (const auto k = reply_number(timing.body_start)) tts_by_reply.emplace(*k, timing);  // the first wins
  }
  // A fake's time point on the run's clock (ms since the calls started, as the state events).
  const auto at_ms = [&](std::chrono::steady_clock::time_point t) {
    return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() -
                               started_us) / 1000.0;
  };
  const size_t llm_delays_left = llm.server().pending_faults();
  const size_t tts_delays_left = tts.server().pending_faults();

  parley_listener_destroy(listener);
  parley_runtime_destroy(runtime);

  // ---- figures ----
  std::vector<double> overhead_fine, overhead_engine, overhead_engine_ms;
  std::vector<double> leg_request_to_model, leg_model_to_voice, leg_voice_to_frame;
  std::map<size_t, std::vector<double>> fine_by_second;  // by the second the turn's request went out
  std::vector<double> overhead, v2v, endpointing, stt_final, decide_to_token, llm_beyond, chunker, tts_beyond, first_audio;
  size_t answered = 0, interrupted_turns = 0;
  std::ofstream turns_file;
  if (!o.turns_out.empty()) turns_file.open(o.turns_out);
  for (const auto &turn : turns) {
    if (turns_file) {
      json line = turn;
      const std::string key = turn.value("session", "") + "/" + std::to_string(turn.value("turn", -1));
      for (const auto &[state, at] : state_times[key]) line[state] = at;
      turns_file << line.dump() << '\n';
    }
    if (turn.value("interrupted", false)) ++interrupted_turns;
    const json &latency = turn.contains("latency_ms") ? turn["latency_ms"] : json::object();
    const auto total = number(latency, "voice_to_voice");
    const auto end = number(latency, "endpointing");
    if (!total || !end) continue;  // not a caller turn the agent answered
    ++answered;
    v2v.push_back(*total);
    endpointing.push_back(*end);
    overhead.push_back(*total - *end - o.llm_ms - o.tts_ms);
    {
      const std::string key = turn.value("session", "") + "/" + std::to_string(turn.value("turn", -1));
      const auto &states = state_times[key];
      const auto thinking = states.find("thinking_at_s"), speaking = states.find("speaking_at_s");
      if (thinking != states.end() && speaking != states.end()) {
        overhead_fine.push_back((speaking->second - thinking->second) * 1000.0 - o.llm_ms - o.tts_ms);
        fine_by_second[static_cast<size_t>(std::max(0.0, thinking->second))].push_back(overhead_fine.back());
        const auto k = reply_number(turn.value("agent_text", ""));
        const auto model_head = k ? llm_by_reply.find(*k) : llm_by_reply.end();
        const auto voice_head = k ? tts_by_reply.find(*k) : tts_by_reply.end();
        if (model_head != llm_by_reply.end() && voice_head != tts_by_reply.end()) {
          const auto &model = model_head->second, &voice = voice_head->second;
          const double fakes_late = late_ms(model) + late_ms(voice);
          overhead_engine.push_back(overhead_fine.back() - fakes_late);
          overhead_engine_ms.push_back(overhead.back() - fakes_late);
          // The turn's path leg by leg, on one clock: request out → the model fake reads it;
          // its head out → the voice fake reads the first chunk's request; its head out → the
          // first agent frame.
          leg_request_to_model.push_back(at_ms(model.read_at) - thinking->second * 1000.0);
          leg_model_to_voice.push_back(at_ms(voice.read_at) - at_ms(model.head_at));
          leg_voice_to_frame.push_back(speaking->second * 1000.0 - at_ms(voice.head_at));
        }
      }
    }
    const auto final_ms = number(latency, "stt_final");
    if (final_ms) stt_final.push_back(*final_ms);
    // llm_first_token counts from the STT final when there was one, else from the end of turn.
    if (const auto to_token = number(latency, "llm_first_token")) {
      const double from_end = final_ms ? *to_token - (*end - *final_ms) : *to_token;
      if (const auto ttft = number(latency, "llm_ttft")) {
        decide_to_token.push_back(from_end - *ttft);
        llm_beyond.push_back(*ttft - o.llm_ms);
      }
    }
    if (const auto v = number(latency, "tts_request")) chunker.push_back(*v);
    if (const auto v = number(latency, "tts_first_byte")) tts_beyond.push_back(*v - o.tts_ms);
    if (const auto v = number(latency, "first_audio")) first_audio.push_back(*v);
  }
  // Each second's turns (by when their request went out) next to the CPU figures: the tail
  // is where the engine, or the machine, was busiest.
  for (auto &second : per_second) {
    const auto t = static_cast<size_t>(second["t_s"].get<double>());
    if (t == 0) continue;
    const auto found = fine_by_second.find(t - 1);  // sample t_s covers the second before it
    if (found == fine_by_second.end()) continue;
    const json stats = summary(found->second);
    second["turns"] = stats["count"];
    second["overhead_fine_p50_ms"] = stats["p50"];
    second["overhead_fine_max_ms"] = stats["max"];
  }
  std::vector<double> clear_after, barge;
  for (const auto &interruption : interruptions) {
    if (interruption.value("resumed", false)) continue;
    if (const auto v = number(interruption, "clear_after_speech_start_ms")) {
      clear_after.push_back(*v);
      barge.push_back(*v - o.vad_start_ms);
    }
  }
  std::vector<double> caller_heard;
  size_t clean = 0, connected = 0, cleared = 0;
  float lateness = 0;
  for (const auto &report : reports) {
    clean += report.completed_cleanly() ? 1 : 0;
    connected += report.connected ? 1 : 0;
    cleared += report.clears_received > 0 ? 1 : 0;
    lateness = std::max(lateness, report.max_send_lateness_ms);
    // The caller's frames start at timeline 0: first audio back minus the question's end.
    if (report.first_response_ms >= 0) caller_heard.push_back(report.first_response_ms - question_end_ms);
  }
  std::vector<double> probe_barge_in, probe_heard, probe_clear_late, probe_audio_late;
  std::vector<std::string> probe_errors;
  for (const auto &probe : probe_results) {
    if (!probe.error.empty()) probe_errors.push_back(probe.error);
    if (probe.clear_late_ms) probe_clear_late.push_back(*probe.clear_late_ms);
    if (probe.audio_late_ms) probe_audio_late.push_back(*probe.audio_late_ms);
    if (probe.audio_again_late_ms) probe_audio_late.push_back(*probe.audio_again_late_ms);
    if (probe.clear_ms) probe_barge_in.push_back(*probe.clear_ms - o.vad_start_ms);
    if (probe.heard_ms) probe_heard.push_back(*probe.heard_ms);
    if (probe.heard_again_ms) probe_heard.push_back(*probe.heard_again_ms);
  }
  const double wall_ms = std::chrono::duration<double, std::milli>(ended - started).count();
  double others_mean = 0, others_max = 0;
  for (const auto &second : per_second) {
    const double v = second["other_processes_cpu_percent_of_one_core"].get<double>();
    others_mean += v / static_cast<double>(std::max<size_t>(1, per_second.size()));
    others_max = std::max(others_max, v);
  }
  const double call_seconds = static_cast<double>(o.calls) * static_cast<double>(length.count()) / 1000.0;
  const auto round1 = [](double v) { return std::round(v * 10.0) / 10.0; };

  json out{
      {"calls", o.calls},
      {"ramp_s", o.ramp_s},
      {"call_length_s", static_cast<double>(length.count()) / 1000.0},
      {"wall_s", round1(wall_ms / 1000.0)},
      {"cores", std::thread::hardware_concurrency()},
      {"load_average", {{"start", load_start}, {"end", load_end}}},
      {"config",
       {{"stt_final_after_silence_ms", o.stt_final_ms}, {"llm_first_token_ms", o.llm_ms}, {"tts_first_byte_ms", o.tts_ms},
        {"vad_start_window_ms", o.vad_start_ms}, {"vad_stop_window_ms", o.vad_stop_ms},
        {"min_silence_ms", o.min_silence_ms}, {"session_rate", o.session_rate}, {"io_threads", o.io_threads}, {"worker_threads", o.worker_threads},
        {"caller_threads", o.caller_threads}, {"load_nice", o.load_nice}, {"split_cores", o.split_cores}}},
      {"turns", {{"expected", 2 * o.calls}, {"answered", answered}, {"interrupted", interrupted_turns}, {"events", turns.size()}}},
      {"barge_ins", {{"expected", o.calls}, {"measured", barge.size()}, {"calls_cleared", cleared}}},
      {"overhead_ms", summary(overhead)},
      // The same at µs resolution, from the agent's state events: "thinking" (the request is
      // being sent, right after the end of turn) to "speaking" (the first agent frame), minus the
      // fixed delays. It leaves out the end of turn → thinking step, under a millisecond (the
      // TURN fields are whole milliseconds, so `overhead_ms` is ±1 ms).
      {"overhead_fine_ms", summary(overhead_fine)},
      // The same less the lateness of this turn's two fake heads (the model's, and the voice's
      // for the reply's first chunk): what is left is the engine's, the loopback's, and the
      // fakes' reading of the requests. Turns matched by the reply's number (see numbered_reply).
      {"overhead_fine_less_fakes_lateness_ms", summary(overhead_engine)},
      // And `overhead_ms` (whole-ms TURN fields, so ±1 ms, but from the dated end of turn: it
      // holds the step to "thinking" that the µs figure leaves out) less the same lateness.
      {"overhead_less_fakes_lateness_ms", summary(overhead_engine_ms)},
      {"overhead_legs_ms",
       {{"request_out_to_model_fake_read", summary(leg_request_to_model)},
        {"model_head_to_voice_fake_read", summary(leg_model_to_voice)},
        {"voice_head_to_first_frame", summary(leg_voice_to_frame)}}},
      {"overhead_parts_ms",
       {{"end_of_turn_to_llm_request_and_first_delta_to_agent", summary(decide_to_token)},
        {"llm_ttft_beyond_fixed_delay", summary(llm_beyond)},
        {"chunker_wait", summary(chunker)},
        {"tts_first_byte_beyond_fixed_delay", summary(tts_beyond)},
        {"tts_audio_to_first_frame", summary(first_audio)}}},
      // How late the fakes sent their delayed heads (their timer and their thread's turn on a
      // core): inside the overhead above, yet none of it the engine's work.
      {"fakes_head_late_ms", {{"llm", summary(llm_head_late)}, {"tts", summary(tts_head_late)}}},
      {"voice_to_voice_ms", summary(v2v)},
      {"endpointing_ms", summary(endpointing)},
      {"stt_final_ms", summary(stt_final)},
      // The fleet's callers: the question's last audible sample to the first agent audio. It
      // holds the VAD's stop window and the tail the VAD still calls speech (the same for every
      // call), so its spread, not its level, is the figure.
      {"fleet_first_audio_after_question_ms", summary(caller_heard)},
      {"probes",
       {{"calls", o.probes},
        {"errors", probe_errors},
        {"barge_in_ms", summary(probe_barge_in)},
        {"heard_after_speech_end_ms", summary(probe_heard)},
        // The engine's share at the caller (both directions of the transport included):
        // arrival minus the send time of the frame that let the VAD confirm, minus the fakes'
        // fixed delays for agent audio.
        {"clear_after_confirming_frame_ms", summary(probe_clear_late)},
        {"first_audio_after_confirming_frame_and_fixed_delays_ms", summary(probe_audio_late)},
        // What the VAD itself needs beyond its start window, from the onset (no processing).
        {"vad_start_lag_beyond_window_ms",
         barge_in_start ? json(std::round((sent_at(*barge_in_start) - barge_in_onset_ms - o.vad_start_ms) * 10) / 10)
                        : json(nullptr)},
        {"vad_stop_after_question_end_ms",
         question_stop ? json(std::round((sent_at(*question_stop) - question_end_ms) * 10) / 10) : json(nullptr)}}},
      {"barge_in_ms", summary(barge)},
      {"clear_after_speech_start_ms", summary(clear_after)},
      {"fleet_calls", reports.size()},
      {"calls_connected", connected},
      {"calls_completed_cleanly", clean},
      {"session_errors", session_errors},
      {"session_error_samples", error_samples},
      {"events_dropped", overflow_dropped},
      {"caller_max_send_lateness_ms", round1(lateness)},
      {"fake_delays_left", {{"llm", llm_delays_left}, {"tts", tts_delays_left}}},
      {"cpu",
       {{"engine_ms", round1(engine_ms)},
        {"engine_percent_of_one_core", round1(engine_ms / wall_ms * 100.0)},
        {"engine_ms_per_call_second", std::round(engine_ms / call_seconds * 1000.0) / 1000.0},
        {"fakes_ms", round1(fakes_ms)},
        {"callers_ms", round1(callers_ms)},
        {"callers_sampled_ms", round1(callers_times.cpu_ms)},
        {"threads_born_during_run", born_cpu.size()},
        {"host_main_thread_ms", round1(main_ms)},
        {"process_ms", round1(process_ms)},
        {"process_percent_of_one_core", round1(process_ms / wall_ms * 100.0)}}},
      // Time runnable but waiting for a core: contention for the two cores, in total and per
      // time a thread was scheduled in (schedstat).
      {"run_queue_wait",
       {{"engine_ms", round1(engine_times.wait_ms)},
        {"engine_ms_per_slice", std::round(engine_times.wait_ms / std::max(1.0, engine_times.slices) * 1000.0) / 1000.0},
        {"fakes_ms", round1(fakes_times.wait_ms)},
        {"fakes_ms_per_slice", std::round(fakes_times.wait_ms / std::max(1.0, fakes_times.slices) * 1000.0) / 1000.0},
        {"callers_ms", round1(callers_times.wait_ms)},
        {"callers_ms_per_slice", std::round(callers_times.wait_ms / std::max(1.0, callers_times.slices) * 1000.0) / 1000.0},
        {"engine_threads", engine_threads_json}}},
      {"memory",
       {{"rss_before_calls_mb", round1(rss_before)},
        {"peak_rss_mb", round1(peak_rss)},
        {"peak_growth_per_call_kb", std::round((peak_rss - rss_before) * 1024.0 / o.calls)}}},
      {"other_processes_cpu_percent_of_one_core", {{"mean", round1(others_mean)}, {"max", round1(others_max)}}},
      {"per_second", per_second},
      {"started_monotonic_s", static_cast<double>(started_us) / 1e6},  // to line up with perf traces
      {"calls_seconds_to_finish", round1(std::chrono::duration<double>(calls_done - started).count())}};

  if (o.json) {
    std::cout << out.dump(2) << '\n';
    return 0;
  }
  const auto row = [](const char *name, const json &s) {
    if (s.value("count", 0) == 0) return std::printf("  %-44s (none)\n", name), void();
    std::printf("  %-44s p50 %7.1f  p99 %7.1f  max %7.1f  (n=%zu)\n", name, s["p50"].get<double>(),
                s["p99"].get<double>(), s["max"].get<double>(), s["count"].get<size_t>());
  };
  std::printf("agent load: %d calls over %.1f s ramp, %.1f s each; load average %s -> %s; %u cores\n", o.calls,
              o.ramp_s, static_cast<double>(length.count()) / 1000.0, load_start.c_str(), load_end.c_str(),
              std::thread::hardware_concurrency());
  std::printf("other processes meanwhile: %.0f%% of one core on average, %.0f%% at most (of %u cores)\n", others_mean,
              others_max, std::thread::hardware_concurrency());
  std::printf("turns answered %zu of %d expected (%zu interrupted); barge-ins %zu of %d; fleet calls clean %zu of %zu\n",
              answered, 2 * o.calls, interrupted_turns, barge.size(), o.calls, clean, reports.size());
  std::printf("engine overhead on voice-to-voice (v2v - endpointing - %d - %d), ms:\n", o.llm_ms, o.tts_ms);
  row("overhead", out["overhead_ms"]);
  row("overhead, µs clock (thinking -> speaking - fixed)", out["overhead_fine_ms"]);
  for (const auto &[name, s] : out["overhead_parts_ms"].items()) row(("  " + name).c_str(), s);
  row("overhead less the fakes' lateness", out["overhead_less_fakes_lateness_ms"]);
  row("overhead, µs clock, less the fakes' lateness", out["overhead_fine_less_fakes_lateness_ms"]);
  for (const auto &[name, s] : out["overhead_legs_ms"].items()) row(("  leg: " + name).c_str(), s);
  row("fakes' lateness: model's head (each request)", out["fakes_head_late_ms"]["llm"]);
  row("fakes' lateness: voice's head (each request)", out["fakes_head_late_ms"]["tts"]);
  row("voice_to_voice", out["voice_to_voice_ms"]);
  row("endpointing", out["endpointing_ms"]);
  row("fleet: question's end -> first audio heard", out["fleet_first_audio_after_question_ms"]);
  std::printf("barge-in (clear_after_speech_start - %d ms start window), ms:\n", o.vad_start_ms);
  row("barge_in", out["barge_in_ms"]);
  row("caller side (probes: onset -> clear received - window)", out["probes"]["barge_in_ms"]);
  row("caller side (probes: confirming frame sent -> clear received)", out["probes"]["clear_after_confirming_frame_ms"]);
  std::printf("  the VAD needs %s ms beyond its window after the onset (no processing: the replay)\n",
              out["probes"]["vad_start_lag_beyond_window_ms"].dump().c_str());
  std::printf("probes' first agent audio beyond (confirming frame sent + %d + %d), ms:\n", o.llm_ms, o.tts_ms);
  row("caller side", out["probes"]["first_audio_after_confirming_frame_and_fixed_delays_ms"]);
  const auto &cpu = out["cpu"];
  std::printf("cpu: engine %.0f ms (%.1f%% of a core, %.3f ms per call-second); fakes %.0f ms; callers %.0f ms; "
              "process %.0f ms\n",
              cpu["engine_ms"].get<double>(), cpu["engine_percent_of_one_core"].get<double>(),
              cpu["engine_ms_per_call_second"].get<double>(), cpu["fakes_ms"].get<double>(),
              cpu["callers_ms"].get<double>(), cpu["process_ms"].get<double>());
  std::printf("engine threads waited %.0f ms in the run queue (runnable, no core free)\n",
              out["run_queue_wait"]["engine_ms"].get<double>());
  std::printf("memory (whole process): %.1f MB before the calls, peak %.1f MB\n", out["memory"]["rss_before_calls_mb"].get<double>(),
              out["memory"]["peak_rss_mb"].get<double>());
  if (session_errors > 0) std::printf("session errors: %zu, e.g. %s\n", session_errors, error_samples.front().c_str());
  return 0;
}
