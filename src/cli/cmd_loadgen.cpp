// `parley loadgen`: N simulated Twilio callers (transports/twilio/caller.hpp) against a Media
// Streams server, with the server's CPU and memory sampled from /proc. docs/loadgen.md says
// what each figure measures.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cli/commands.hpp"
#include "common/error.hpp"
#include "transports/twilio/caller.hpp"

namespace parley::cli {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace twilio = parley::twilio;

void print_loadgen_usage(std::FILE *to) {
  std::fprintf(to,
               "usage: parley loadgen --url URL --calls N --duration S [options]\n"
               "\n"
               "Simulates N concurrent Twilio Media Streams callers against a server: each connects,\n"
               "sends connected + start, streams 20 ms media frames in real time for S seconds, plays\n"
               "what the server sends (marks echoed, clear honoured), waits for the echo, sends stop.\n"
               "Prints round trips, losses, protocol violations and, with --server-pid, the server's\n"
               "CPU and memory per call. Exit status 0 when every call connected and completed without\n"
               "a protocol or transport error.\n"
               "\n"
               "  --url URL           ws:// or wss:// URL of the server's Media Streams endpoint\n"
               "  --calls N           concurrent calls (default 1)\n"
               "  --duration S        seconds of media per call (default 10)\n"
               "  --wav FILE          caller audio: PCM16/mu-law/A-law WAV, any supported rate, looped;\n"
               "                      default: a synthetic speech-like signal\n"
               "  --ramp S            start the calls evenly over S seconds (default calls x 5 ms, <= 10 s)\n"
               "  --dtmf-every S      each call sends a DTMF digit every S seconds (default: none)\n"
               "  --server-pid PID    sample that process's CPU and RSS from /proc\n"
               "  --idle              connect and start, then send no media for --duration\n"
               "                      (memory per connected idle call)\n"
               "  --threads N         io threads for the callers (default 1)\n"
               "  --drain-timeout S   after the media, wait at most S seconds for the echo (default 2)\n"
               "  --signature SIG     x-twilio-signature header to send\n"
               "  --param NAME=VALUE  a start.customParameters entry (repeatable)\n"
               "  --ca-file FILE      wss: trust this CA file; --insecure: accept any certificate\n"
               "  --json              print one JSON object instead of a table\n");
}

struct Options {
  std::string url;
  size_t calls = 1;
  double duration_s = 10;
  std::optional<std::string> wav;
  std::optional<double> ramp_s;
  double dtmf_every_s = 0;
  int server_pid = 0;
  bool idle = false;
  int threads = 1;
  double drain_timeout_s = 2;
  std::string signature;
  twilio::StringPairs parameters;
  twilio::CallerTls tls;
  bool json = false;
};

template <class Number>
bool parse_number(std::string_view text, Number &out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool parse_seconds(std::string_view text, double &out) {
  // from_chars for double is missing from some standard libraries: strtod on a copy.
  const std::string copy(text);
  char *end = nullptr;
  out = std::strtod(copy.c_str(), &end);
  return !copy.empty() && end == copy.c_str() + copy.size() && std::isfinite(out) && out >= 0;
}

// Returns the exit code for a usage error, or nullopt when the options are fine.
std::optional<int> parse_options(Args args, Options &o) {
  auto usage_error = [](const std::string &message) {
    std::fprintf(stderr, "parley loadgen: %s\n\n", message.c_str());
    print_loadgen_usage(stderr);
    return 2;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      print_loadgen_usage(stdout);
      return 0;
    }
    if (arg == "--idle") { o.idle = true; continue; }
    if (arg == "--json") { o.json = true; continue; }
    if (arg == "--insecure") { o.tls.verify = false; continue; }
    if (i + 1 >= args.size()) return usage_error("unknown option or missing value: '" + std::string(arg) + "'");
    const std::string_view value = args[++i];
    bool ok = true;
    if (arg == "--url") {
      o.url = value;
    } else if (arg == "--calls") {
      ok = parse_number(value, o.calls) && o.calls > 0;
    } else if (arg == "--duration") {
      ok = parse_seconds(value, o.duration_s);
    } else if (arg == "--wav") {
      o.wav = std::string(value);
    } else if (arg == "--ramp") {
      double ramp = 0;
      ok = parse_seconds(value, ramp);
      o.ramp_s = ramp;
    } else if (arg == "--dtmf-every") {
      ok = parse_seconds(value, o.dtmf_every_s);
    } else if (arg == "--server-pid") {
      ok = parse_number(value, o.server_pid) && o.server_pid > 0;
    } else if (arg == "--threads") {
      ok = parse_number(value, o.threads) && o.threads > 0;
    } else if (arg == "--drain-timeout") {
      ok = parse_seconds(value, o.drain_timeout_s);
    } else if (arg == "--signature") {
      o.signature = value;
    } else if (arg == "--param") {
      const size_t equals = value.find('=');
      ok = equals != std::string_view::npos && equals > 0;
      if (ok) o.parameters.emplace_back(std::string(value.substr(0, equals)), std::string(value.substr(equals + 1)));
    } else if (arg == "--ca-file") {
      o.tls.ca_file = value;
    } else {
      return usage_error("unknown option '" + std::string(arg) + "'");
    }
    if (!ok) return usage_error("bad value for " + std::string(arg) + ": '" + std::string(value) + "'");
  }
  if (o.url.empty()) return usage_error("--url is required");
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// /proc sampling of the server

class ServerProbe {
 public:
  explicit ServerProbe(int pid) : pid_(pid) {}
  bool enabled() const { return pid_ > 0; }

  /// utime + stime in milliseconds, or -1 when the process is gone.
  double cpu_ms() const {
    std::ifstream file("/proc/" + std::to_string(pid_) + "/stat");
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    const size_t paren = text.rfind(')');  // the command name may hold spaces and parentheses
    if (paren == std::string::npos) return -1;
    std::istringstream fields(text.substr(paren + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int index = 3; fields >> field; ++index) {  // field 3 is the state
      if (index == 14) utime = std::stod(field);
      if (index == 15) {
        stime = std::stod(field);
        return (utime + stime) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
      }
    }
    return -1;
  }

  /// VmRSS in kB, or -1.
  double rss_kb() const {
    std::ifstream file("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(file, line);) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6));
    }
    return -1;
  }

 private:
  int pid_;
};

// Whole-machine CPU from /proc/stat, in ms summed over every core. Interrupt and softirq time
// is apart: on loopback much of it is the two processes' own TCP traffic, not another process.
struct MachineCpu {
  double busy_ms = 0, interrupts_ms = 0, total_ms = 0;
};

MachineCpu machine_cpu() {
  std::ifstream file("/proc/stat");
  std::string label;
  file >> label;  // "cpu": the sum over all cores
  MachineCpu cpu;
  double value = 0;
  for (int index = 0; index < 8 && file >> value; ++index) {  // user nice system idle iowait irq softirq steal
    cpu.total_ms += value;
    if (index != 3 && index != 4) cpu.busy_ms += value;
    if (index == 5 || index == 6) cpu.interrupts_ms += value;
  }
  const double ms_per_tick = 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  cpu.busy_ms *= ms_per_tick;
  cpu.interrupts_ms *= ms_per_tick;
  cpu.total_ms *= ms_per_tick;
  return cpu;
}

double own_cpu_ms() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval &t) { return static_cast<double>(t.tv_sec) * 1000.0 + static_cast<double>(t.tv_usec) / 1000.0; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

// Each call needs a socket; the default soft limit (often 1024) is too low for 1,000 calls.
void raise_file_limit(size_t calls) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < calls + 64) {
    std::fprintf(stderr, "parley loadgen: warning: the open-file limit (%llu) is below %zu calls + 64\n",
                 static_cast<unsigned long long>(limit.rlim_cur), calls);
  }
}

// ---------------------------------------------------------------------------------------------
// Running

std::vector<twilio::CallerScript> make_scripts(const Options &o, std::shared_ptr<const std::vector<uint8_t>> audio) {
  const auto duration = std::chrono::milliseconds(std::llround(o.duration_s * 1000));
  std::vector<std::pair<std::chrono::milliseconds, char>> dtmf;
  if (o.dtmf_every_s > 0) {
    static constexpr char kDigits[] = "0123456789*#";
    const auto every = std::chrono::milliseconds(std::max<long long>(std::llround(o.dtmf_every_s * 1000), 20));
    int index = 0;
    for (auto at = every; at < duration; at += every, ++index) dtmf.emplace_back(at, kDigits[index % 12]);
  }
  std::vector<twilio::CallerScript> scripts(o.calls);
  for (size_t i = 0; i < scripts.size(); ++i) {
    auto &s = scripts[i];
    s.url = o.url;
    s.signature = o.signature;
    s.custom_parameters = o.parameters;
    s.ulaw = audio;
    // Callers do not all say the same thing at the same moment: start each at its own place.
    s.audio_offset = audio->empty() ? 0 : (i * 7919 * 160) % audio->size();
    s.duration = duration;
    s.send_media = !o.idle;
    s.dtmf = dtmf;
    s.drain_timeout = std::chrono::milliseconds(std::llround(o.drain_timeout_s * 1000));
    s.tls = o.tls;
    s.keep_received_audio = i == 0 && !o.idle;  // to check the echo's alignment on one call
  }
  return scripts;
}

struct Samples {
  double server_rss_before_kb = -1;
  double server_rss_all_connected_kb = -1;
  double server_peak_rss_kb = -1;
  // The steady window: every call in its media (or idle) phase.
  std::optional<double> steady_cpu_start_ms, steady_cpu_end_ms;
  Clock::time_point steady_start{}, steady_end{};
  MachineCpu machine_steady_start, machine_steady_end;
  double own_steady_start_ms = 0, own_steady_end_ms = 0;
  double server_cpu_run_start_ms = -1, server_cpu_run_end_ms = -1;
  double wall_s = 0;
  double loadgen_cpu_ms = 0;
};

// Polls the fleet every 50 ms until every call has finished; samples the server as it goes.
Samples watch(twilio::CallerFleet &fleet, const ServerProbe &server, Clock::duration hard_limit, bool quiet) {
  Samples s;
  if (server.enabled()) {
    s.server_rss_before_kb = s.server_peak_rss_kb = server.rss_kb();
    s.server_cpu_run_start_ms = server.cpu_ms();
  }
  const double cpu_before = own_cpu_ms();
  const auto started = Clock::now();
  auto next_rss = started, next_status = started + 5s;
  fleet.start();
  bool cancelled = false;
  while (!fleet.wait_for(50ms)) {
    const auto now = Clock::now();
    const auto progress = fleet.progress();
    const bool all_active = progress.active == progress.calls;
    if (server.enabled()) {
      if (all_active) {
        const double cpu = server.cpu_ms();
        const MachineCpu machine = machine_cpu();
        const double own = own_cpu_ms();
        if (!s.steady_cpu_start_ms) {
          s.steady_cpu_start_ms = cpu;
          s.steady_start = now;
          s.machine_steady_start = machine;
          s.own_steady_start_ms = own;
        }
        s.steady_cpu_end_ms = cpu;
        s.steady_end = now;
        s.machine_steady_end = machine;
        s.own_steady_end_ms = own;
      }
      if (now >= next_rss) {
        next_rss += 500ms;
        const double rss = server.rss_kb();
        s.server_peak_rss_kb = std::max(s.server_peak_rss_kb, rss);
        if (all_active) s.server_rss_all_connected_kb = rss;
      }
    }
    if (!quiet && now >= next_status) {
      next_status += 5s;
      std::fprintf(stderr, "loadgen: %4.0f s  waiting %zu  connecting %zu  active %zu  ending %zu  finished %zu (failed %zu)\n",
                   std::chrono::duration<double>(now - started).count(), progress.waiting, progress.connecting,
                   progress.active, progress.ending, progress.finished, progress.failed);
    }
    if (!cancelled && now - started > hard_limit) {
      std::fprintf(stderr, "parley loadgen: calls still running after %.0f s: cancelling them\n",
                   std::chrono::duration<double>(hard_limit).count());
      fleet.cancel();
      cancelled = true;
    }
  }
  s.wall_s = std::chrono::duration<double>(Clock::now() - started).count();
  s.loadgen_cpu_ms = own_cpu_ms() - cpu_before;
  if (server.enabled()) s.server_cpu_run_end_ms = server.cpu_ms();
  return s;
}

// ---------------------------------------------------------------------------------------------
// Figures

double percentile(std::vector<float> &values, double p) {
  if (values.empty()) return 0;
  const auto index = static_cast<size_t>(std::min<double>(static_cast<double>(values.size() - 1),
                                                          std::floor(p * static_cast<double>(values.size()))));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index), values.end());
  return values[index];
}

// Rounds to `decimals` places; the division gives the double nearest the decimal (20.24, not
// 20.240000000000002), so the JSON stays readable.
double round_to(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

nlohmann::ordered_json figures(const Options &o, const std::string &audio_name,
                               std::chrono::milliseconds ramp, const std::vector<twilio::CallerReport> &reports,
                               const Samples &s) {
  uint64_t frames_sent = 0, frames_received = 0, marks_echoed = 0, marks_received = 0, clears = 0, dtmf = 0;
  uint64_t protocol_errors = 0;
  size_t connect_failures = 0, transport_errors = 0, closed_by_server = 0, drain_timeouts = 0, clean = 0;
  float max_lateness = 0;
  std::vector<float> rtt, rtt_start, first_response;
  nlohmann::ordered_json error_examples = nlohmann::json::array(), connect_examples = nlohmann::json::array();
  for (size_t i = 0; i < reports.size(); ++i) {
    const auto &r = reports[i];
    frames_sent += r.frames_sent;
    frames_received += std::min(r.frames_received, r.frames_sent);
    marks_echoed += r.marks_echoed;
    marks_received += r.marks_received;
    clears += r.clears_received;
    dtmf += r.dtmf_sent;
    protocol_errors += r.protocol_error_count;
    connect_failures += r.connected ? 0 : 1;
    transport_errors += r.error.empty() ? 0 : 1;
    closed_by_server += r.closed_by_server ? 1 : 0;
    drain_timeouts += r.drain_timed_out ? 1 : 0;
    clean += r.completed_cleanly() ? 1 : 0;
    max_lateness = std::max(max_lateness, r.max_send_lateness_ms);
    rtt.insert(rtt.end(), r.rtt_ms.begin(), r.rtt_ms.end());
    rtt_start.insert(rtt_start.end(), r.rtt_start_ms.begin(), r.rtt_start_ms.end());
    if (r.first_response_ms >= 0) first_response.push_back(r.first_response_ms);
    for (const auto &e : r.protocol_errors) {
      if (error_examples.size() < 5) error_examples.push_back("call " + std::to_string(i) + ": " + e);
    }
    if (!r.connected && connect_examples.size() < 5) connect_examples.push_back("call " + std::to_string(i) + ": " + r.connect_error);
    if (!r.error.empty() && connect_examples.size() < 5) connect_examples.push_back("call " + std::to_string(i) + ": " + r.error);
  }
  const double calls = static_cast<double>(reports.size());
  nlohmann::ordered_json j;
  j["mode"] = o.idle ? "idle" : "media";
  j["url"] = o.url;
  j["calls"] = reports.size();
  j["duration_s"] = o.duration_s;
  j["ramp_s"] = std::chrono::duration<double>(ramp).count();
  j["io_threads"] = o.threads;
  j["audio"] = audio_name;
  j["calls_completed"] = clean;
  j["connect_failures"] = connect_failures;
  j["transport_errors"] = transport_errors;
  j["closed_by_server"] = closed_by_server;
  j["failures"] = connect_examples;
  j["frames_sent"] = frames_sent;
  j["frames_received"] = frames_received;
  j["frames_lost"] = frames_sent - frames_received;
  j["rtt_samples"] = rtt.size();
  // null when there is nothing to take a percentile of
  auto stat = [](std::vector<float> &values, double p) {
    return values.empty() ? nlohmann::json(nullptr) : nlohmann::json(round_to(percentile(values, p), 2));
  };
  j["rtt_ms_p50"] = stat(rtt, 0.50);
  j["rtt_ms_p90"] = stat(rtt, 0.90);
  j["rtt_ms_p99"] = stat(rtt, 0.99);
  j["rtt_ms_max"] = stat(rtt, 1.0);
  j["rtt_start_ms_p50"] = stat(rtt_start, 0.50);
  j["rtt_start_ms_p99"] = stat(rtt_start, 0.99);
  j["rtt_start_ms_max"] = stat(rtt_start, 1.0);
  j["first_response_ms_p50"] = stat(first_response, 0.50);
  j["first_response_ms_max"] = stat(first_response, 1.0);
  j["drain_timeouts"] = drain_timeouts;
  j["marks_received"] = marks_received;
  j["marks_echoed"] = marks_echoed;
  j["clears_received"] = clears;
  j["dtmf_sent"] = dtmf;
  j["protocol_errors"] = protocol_errors;
  j["protocol_error_examples"] = error_examples;
  j["loadgen_cpu_percent"] = round_to(s.wall_s > 0 ? s.loadgen_cpu_ms / (s.wall_s * 10) : 0, 1);
  j["loadgen_max_send_lateness_ms"] = round_to(max_lateness, 2);

  const bool server = o.server_pid > 0;
  const double steady_s =
      s.steady_cpu_start_ms ? std::chrono::duration<double>(s.steady_end - s.steady_start).count() : 0;
  if (server && steady_s >= 1) {
    j["server_cpu_window"] = "steady";
    j["server_cpu_window_s"] = round_to(steady_s, 2);
    j["server_cpu_ms_per_call_second"] =
        round_to((*s.steady_cpu_end_ms - *s.steady_cpu_start_ms) / (calls * steady_s), 3);
  } else if (server && frames_sent > 0) {
    // No second with every call streaming (ramp >= duration): whole run over media seconds sent.
    j["server_cpu_window"] = "whole_run";
    j["server_cpu_window_s"] = round_to(s.wall_s, 2);
    j["server_cpu_ms_per_call_second"] =
        round_to((s.server_cpu_run_end_ms - s.server_cpu_run_start_ms) / (static_cast<double>(frames_sent) * 0.02), 3);
  } else {
    j["server_cpu_window"] = nullptr;
    j["server_cpu_ms_per_call_second"] = nullptr;
  }
  j["server_cpu_percent_of_one_core"] =
      server && steady_s >= 1 ? nlohmann::json(round_to((*s.steady_cpu_end_ms - *s.steady_cpu_start_ms) / (steady_s * 10), 1))
                              : nlohmann::json(nullptr);
  if (server && steady_s >= 1) {
    // Everything else the machine did meanwhile: a busy machine invalidates the figures.
    const double cores = static_cast<double>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
    const double busy = s.machine_steady_end.busy_ms - s.machine_steady_start.busy_ms;
    const double total = s.machine_steady_end.total_ms - s.machine_steady_start.total_ms;
    const double interrupts = s.machine_steady_end.interrupts_ms - s.machine_steady_start.interrupts_ms;
    const double ours = (*s.steady_cpu_end_ms - *s.steady_cpu_start_ms) + (s.own_steady_end_ms - s.own_steady_start_ms);
    j["machine_cores"] = static_cast<int>(cores);
    j["machine_cpu_busy_percent"] = round_to(total > 0 ? 100 * busy / total : 0, 1);
    j["machine_irq_softirq_percent_of_one_core"] = round_to(interrupts / (steady_s * 10), 1);
    j["other_processes_cpu_percent_of_one_core"] =
        round_to(std::max(0.0, busy - interrupts - ours) / (steady_s * 10), 1);
  }
  j["server_rss_before_mb"] = server ? nlohmann::json(round_to(s.server_rss_before_kb / 1024, 2)) : nlohmann::json(nullptr);
  j["server_peak_rss_mb"] = server ? nlohmann::json(round_to(s.server_peak_rss_kb / 1024, 2)) : nlohmann::json(nullptr);
  j["server_rss_per_call_kb"] =
      server && s.server_rss_all_connected_kb >= 0
          ? nlohmann::json(round_to((s.server_rss_all_connected_kb - s.server_rss_before_kb) / calls, 1))
          : nlohmann::json(nullptr);
  j["wall_s"] = round_to(s.wall_s, 2);
  return j;
}

void print_table(const nlohmann::ordered_json &j) {
  for (const auto &[key, value] : j.items()) {
    if (value.is_array()) {
      std::printf("%-32s %s\n", key.c_str(), value.empty() ? "-" : "");
      for (const auto &line : value) std::printf("    %s\n", line.get<std::string>().c_str());
    } else {
      std::printf("%-32s %s\n", key.c_str(), value.is_string() ? value.get<std::string>().c_str() : value.dump().c_str());
    }
  }
}

}  // namespace

int run_loadgen(Args args) {
  Options o;
  if (const auto exit_code = parse_options(args, o)) return *exit_code;
  try {
    raise_file_limit(o.calls);
    std::string audio_name;
    std::shared_ptr<const std::vector<uint8_t>> audio;
    if (o.wav) {
      audio = std::make_shared<const std::vector<uint8_t>>(twilio::load_caller_audio(*o.wav));
      audio_name = *o.wav;
    } else {
      std::fprintf(stderr, "parley loadgen: no --wav given: callers send a synthetic speech-like signal\n");
      audio = std::make_shared<const std::vector<uint8_t>>(twilio::synthetic_speech_ulaw(9600ms));
      audio_name = "synthetic";
    }
    const auto ramp = o.ramp_s ? std::chrono::milliseconds(std::llround(*o.ramp_s * 1000))
                               : std::min<std::chrono::milliseconds>(5ms * static_cast<int64_t>(o.calls), 10s);
    auto scripts = make_scripts(o, audio);
    const auto script0 = scripts.empty() ? twilio::CallerScript{} : scripts[0];
    const ServerProbe server(o.server_pid);
    if (server.enabled() && server.rss_kb() < 0) {
      std::fprintf(stderr, "parley loadgen: cannot read /proc/%d (no such process?)\n", o.server_pid);
      return 1;
    }
    twilio::CallerFleet fleet(std::move(scripts), {ramp, o.threads});
    const auto hard_limit = ramp + std::chrono::milliseconds(std::llround((o.duration_s + o.drain_timeout_s) * 1000)) + 60s;
    const Samples samples = watch(fleet, server, hard_limit, o.json);
    const auto reports = fleet.wait();
    auto j = figures(o, audio_name, ramp, reports, samples);
    if (!reports.empty() && !reports[0].received_audio.empty()) {
      // The RTT figures assume the echo lines up with what was sent, sample for sample:
      // check it on call 0 (docs/loadgen.md).
      const auto alignment = twilio::estimate_echo_lag(twilio::script_audio(script0, reports[0].frames_sent),
                                                       reports[0].received_audio, 400, 16000);
      j["echo_lag_ms_call0"] = round_to(alignment.lag_samples / 8.0, 3);
      j["echo_correlation_call0"] = round_to(alignment.correlation, 3);
    }
    if (o.json) {
      std::printf("%s\n", j.dump().c_str());
    } else {
      print_table(j);
    }
    const bool all_good = j["calls_completed"].get<size_t>() == reports.size();
    return all_good ? 0 : 1;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "parley loadgen: %s\n", e.what());
    return 1;
  }
}

}  // namespace parley::cli
