// The simulated Twilio client (caller.hpp). Layout, top to bottom:
//   URLs, sids, JSON text helpers, TwilioMessages   - what a Twilio client sends
//   ServerMessageReader                             - strict checks of what a server sends
//   Playback, EchoMeter                             - the spec's playback model, RTT by byte count
//   Metronome                                       - one 1 ms ticker per io thread for all calls
//   CallBase (protocol logic) + CallIo<Stream>      - one call; Beast I/O in the template
//   CallerFleet                                     - io threads, ramp, counters
//   TestCaller                                      - blocking client for tests
//   caller audio                                    - WAV loading, synthetic speech, echo lag
#include "transports/twilio/caller.hpp"
#include "transports/twilio/protocol.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <numbers>
#include <random>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "audio/g711.hpp"
#include "audio/resampler.hpp"
#include "audio/wav.hpp"
#include "common/error.hpp"
#include "net/base64.hpp"

namespace parley::twilio {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;

constexpr size_t kFrameBytes = 160;  // 20 ms of μ-law at 8 kHz
constexpr auto kFrameInterval = std::chrono::milliseconds(20);
constexpr size_t kMaxMessageBytes = 16 * 1024 * 1024;  // one server message
constexpr const char *kUserAgent = "parley-twilio-caller/1.0";

float to_ms(Clock::duration d) { return std::chrono::duration<float, std::milli>(d).count(); }

// ---------------------------------------------------------------------------------------------
// URLs

struct ParsedUrl {
  bool tls = false;
  std::string host;         // for the resolver and SNI: no brackets around IPv6 literals
  std::string port;
  std::string host_header;  // Host: as written, with the port when it is not the default
  std::string target;       // path (and query), at least "/"
};

ParsedUrl parse_url(std::string_view url) {
  ParsedUrl out;
  std::string_view rest;
  if (url.starts_with("ws://")) {
    rest = url.substr(5);
  } else if (url.starts_with("wss://")) {
    out.tls = true;
    rest = url.substr(6);
  } else {
    throw Error(Status::invalid_argument, "caller: URL must start with ws:// or wss://: '" + std::string(url) + "'");
  }
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  std::string_view host = authority, port;
  if (authority.starts_with('[')) {  // [IPv6]:port
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) throw Error(Status::invalid_argument, "caller: bad IPv6 host in '" + std::string(url) + "'");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') throw Error(Status::invalid_argument, "caller: bad authority in '" + std::string(url) + "'");
      port = authority.substr(close + 2);
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) throw Error(Status::invalid_argument, "caller: no host in '" + std::string(url) + "'");
  out.host = std::string(host);
  out.port = port.empty() ? (out.tls ? "443" : "80") : std::string(port);
  out.host_header = std::string(authority);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Text helpers

void append_number(std::string &out, uint64_t value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

void append_number(std::string &out, int64_t value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

// For messages about bad input: the first `limit` characters, control bytes shown as '?'.
std::string excerpt(std::string_view text, size_t limit = 60) {
  std::string out;
  for (char c : text.substr(0, limit)) out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  if (text.size() > limit) out += "...";
  return out;
}

std::mt19937_64 &random_engine() {
  thread_local std::mt19937_64 engine{[] {
    std::random_device device;
    return (uint64_t{device()} << 32) ^ device() ^ static_cast<uint64_t>(Clock::now().time_since_epoch().count());
  }()};
  return engine;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// What a Twilio client sends

std::string random_sid(std::string_view prefix) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string sid(prefix);
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = random_engine()();
    for (int i = 0; i < 16; ++i, bits >>= 4) sid += kHex[bits & 15];
  }
  return sid;
}

TwilioMessages::TwilioMessages(std::string account_sid, std::string call_sid, std::string stream_sid)
    : account_sid_(account_sid.empty() ? random_sid("AC") : std::move(account_sid)),
      call_sid_(call_sid.empty() ? random_sid("CA") : std::move(call_sid)),
      stream_sid_(stream_sid.empty() ? random_sid("MZ") : std::move(stream_sid)) {}

std::string TwilioMessages::connected() { return R"({"event":"connected","protocol":"Call","version":"1.0.0"})"; }

void TwilioMessages::append_sequence(std::string &out) {
  out += "\"sequenceNumber\":\"";
  append_number(out, sequence_++);
  out += '"';
}

std::string TwilioMessages::start(const StringPairs &custom_parameters) {
  std::string out = R"({"event":"start",)";
  append_sequence(out);
  out += R"(,"start":{"accountSid":")" + account_sid_ + R"(","streamSid":")" + stream_sid_ + R"(","callSid":")" +
         call_sid_ +
         R"(","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},)"
         R"("customParameters":{)";
  for (size_t i = 0; i < custom_parameters.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    append_json_escaped(out, custom_parameters[i].first);
    out += "\":\"";
    append_json_escaped(out, custom_parameters[i].second);
    out += '"';
  }
  out += R"(}},"streamSid":")" + stream_sid_ + "\"}";
  return out;
}

void TwilioMessages::append_media(std::string &out, std::span<const uint8_t> ulaw, int64_t timestamp_ms) {
  out += R"({"event":"media",)";
  append_sequence(out);
  out += R"(,"media":{"track":"inbound","chunk":")";
  append_number(out, chunk_++);
  out += R"(","timestamp":")";
  append_number(out, timestamp_ms);
  out += R"(","payload":")";
  net::base64_encode(ulaw, out);
  out += R"("},"streamSid":")";
  out += stream_sid_;
  out += "\"}";
}

void TwilioMessages::append_dtmf(std::string &out, char digit) {
  out += R"({"event":"dtmf","streamSid":")";
  out += stream_sid_;
  out += "\",";
  append_sequence(out);
  out += R"(,"dtmf":{"track":"inbound_track","digit":")";
  append_json_escaped(out, std::string_view(&digit, 1));
  out += "\"}}";
}

void TwilioMessages::append_mark(std::string &out, std::string_view name) {
  out += R"({"event":"mark",)";
  append_sequence(out);
  out += R"(,"streamSid":")";
  out += stream_sid_;
  out += R"(","mark":{"name":")";
  append_json_escaped(out, name);
  out += "\"}}";
}

void TwilioMessages::append_stop(std::string &out) {
  out += R"({"event":"stop",)";
  append_sequence(out);
  out += R"(,"streamSid":")" + stream_sid_ + R"(","stop":{"accountSid":")" + account_sid_ + R"(","callSid":")" +
         call_sid_ + "\"}}";
}

std::string TwilioMessages::media(std::span<const uint8_t> ulaw, int64_t timestamp_ms) {
  std::string out;
  append_media(out, ulaw, timestamp_ms);
  return out;
}
std::string TwilioMessages::dtmf(char digit) {
  std::string out;
  append_dtmf(out, digit);
  return out;
}
std::string TwilioMessages::mark(std::string_view name) {
  std::string out;
  append_mark(out, name);
  return out;
}
std::string TwilioMessages::stop() {
  std::string out;
  append_stop(out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// What a server sends: strict validation (spec §4)

struct ServerMessageReader::Impl {
  simdjson::dom::parser parser;
  std::string padded;  // the text plus simdjson's padding, reused
  std::vector<uint8_t> audio;
  std::string error;

  std::nullopt_t fail(std::string message) {
    error = std::move(message);
    return std::nullopt;
  }
};

ServerMessageReader::ServerMessageReader() : impl_(std::make_unique<Impl>()) {}
ServerMessageReader::~ServerMessageReader() = default;
const std::string &ServerMessageReader::error() const noexcept { return impl_->error; }

std::optional<ServerMessageReader::Message> ServerMessageReader::read(std::string_view text,
                                                                      std::string_view stream_sid) {
  namespace dom = simdjson::dom;
  Impl &m = *impl_;
  m.padded.resize(text.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(m.padded.data(), text.data(), text.size());
  dom::element root;
  if (const auto code = m.parser.parse(m.padded.data(), text.size(), false).get(root)) {
    return m.fail(std::string("not JSON (") + simdjson::error_message(code) + "): '" + excerpt(text) + "'");
  }
  dom::object object;
  if (root.get_object().get(object)) return m.fail("not a JSON object: '" + excerpt(text) + "'");

  // Collect the fields once; duplicates and strangers are violations whatever the event.
  std::optional<dom::element> event, sid, media, mark;
  for (const auto field : object) {
    std::optional<dom::element> *slot = field.key == "event"       ? &event
                                        : field.key == "streamSid" ? &sid
                                        : field.key == "media"     ? &media
                                        : field.key == "mark"      ? &mark
                                                                   : nullptr;
    if (slot == nullptr) return m.fail("unexpected field '" + excerpt(field.key) + "': '" + excerpt(text) + "'");
    if (slot->has_value()) return m.fail("duplicate field '" + std::string(field.key) + "'");
    *slot = field.value;
  }
  std::string_view name;
  if (!event) return m.fail("no 'event' field: '" + excerpt(text) + "'");
  if (event->get_string().get(name)) return m.fail("'event' is not a string: '" + excerpt(text) + "'");
  Message out;
  if (name == "media") {
    out.kind = Kind::media;
  } else if (name == "mark") {
    out.kind = Kind::mark;
  } else if (name == "clear") {
    out.kind = Kind::clear;
  } else {
    return m.fail("unknown event '" + excerpt(name) + "' (a server sends media, mark or clear)");
  }
  const std::string prefix = std::string(name) + ": ";
  std::string_view sid_text;
  if (!sid) return m.fail(prefix + "'streamSid' is missing");
  if (sid->get_string().get(sid_text)) return m.fail(prefix + "'streamSid' is not a string");
  if (sid_text != stream_sid) {
    return m.fail(prefix + "streamSid '" + excerpt(sid_text) + "' is not this stream's '" + std::string(stream_sid) + "'");
  }
  if (out.kind != Kind::media && media) return m.fail(prefix + "unexpected field 'media'");
  if (out.kind != Kind::mark && mark) return m.fail(prefix + "unexpected field 'mark'");

  if (out.kind == Kind::media) {
    dom::object body;
    if (!media) return m.fail(prefix + "'media' is missing");
    if (media->get_object().get(body)) return m.fail(prefix + "'media' is not an object");
    std::optional<std::string_view> payload;
    for (const auto field : body) {
      if (field.key != "payload") {
        return m.fail(prefix + "unexpected field 'media." + excerpt(field.key) +
                      "' (outbound media carries only a payload)");
      }
      std::string_view value;
      if (field.value.get_string().get(value)) return m.fail(prefix + "'media.payload' is not a string");
      payload = value;
    }
    if (!payload) return m.fail(prefix + "'media.payload' is missing");
    m.audio.resize(net::base64_max_decoded_size(payload->size()));
    const auto decoded = net::base64_decode(*payload, m.audio);
    if (!decoded) return m.fail(prefix + "'media.payload' is not valid padded base64: '" + excerpt(*payload) + "'");
    out.audio = std::span<const uint8_t>(m.audio.data(), *decoded);
  } else if (out.kind == Kind::mark) {
    dom::object body;
    if (!mark) return m.fail(prefix + "'mark' is missing");
    if (mark->get_object().get(body)) return m.fail(prefix + "'mark' is not an object");
    std::optional<std::string_view> mark_name;
    for (const auto field : body) {
      if (field.key != "name") return m.fail(prefix + "unexpected field 'mark." + excerpt(field.key) + "'");
      std::string_view value;
      if (field.value.get_string().get(value)) return m.fail(prefix + "'mark.name' is not a string");
      mark_name = value;
    }
    if (!mark_name) return m.fail(prefix + "'mark.name' is missing");
    out.mark_name = *mark_name;
  }
  return out;
}

namespace {

// ---------------------------------------------------------------------------------------------
// The playback model of spec §5.
//
// One FIFO of audio and marks. Audio content does not matter here, only its length, so the
// FIFO is stored as "audio bytes at the head" followed by marks, each with the audio bytes
// queued after it: no allocation per media message. Every 20 ms a tick first echoes the marks
// at the head (the audio before them finished playing during the previous tick), then plays
// up to 160 bytes, never past the next mark. A mark arriving while nothing is queued or
// playing is echoed at once. `clear` drops the audio, stops the frame playing and echoes every
// pending mark, in order.
class Playback {
 public:
  // Twilio discards media once more than ~10 minutes are queued (warning 31931).
  static constexpr uint64_t kCeilingBytes = 10ull * 60 * 8000;

  /// False when the audio was discarded because of the ceiling.
  bool push_audio(uint64_t bytes) {
    if (queued_ + bytes > kCeilingBytes) return false;
    (marks_.empty() ? head_audio_ : marks_.back().audio_after) += bytes;
    queued_ += bytes;
    return true;
  }

  /// True when the mark is due now (the caller echoes it); otherwise it is queued.
  bool push_mark(std::string_view name) {
    if (head_audio_ == 0 && marks_.empty() && !frame_playing_) return true;
    marks_.push_back({std::string(name), 0});
    return false;
  }

  template <class Echo>
  void tick(Echo &&echo) {
    while (head_audio_ == 0 && !marks_.empty()) {
      echo(marks_.front().name);
      head_audio_ = marks_.front().audio_after;
      marks_.pop_front();
    }
    const uint64_t played = std::min<uint64_t>(kFrameBytes, head_audio_);
    head_audio_ -= played;
    queued_ -= played;
    frame_playing_ = played > 0;
  }

  template <class Echo>
  void clear(Echo &&echo) {
    for (const auto &mark : marks_) echo(mark.name);
    marks_.clear();
    head_audio_ = queued_ = 0;
    frame_playing_ = false;
  }

  bool idle() const noexcept { return queued_ == 0 && marks_.empty() && !frame_playing_; }

 private:
  struct PendingMark {
    std::string name;
    uint64_t audio_after = 0;
  };
  uint64_t head_audio_ = 0;
  uint64_t queued_ = 0;
  bool frame_playing_ = false;
  std::deque<PendingMark> marks_;
};

// ---------------------------------------------------------------------------------------------
// Round trips by byte count (docs/loadgen.md).
//
// The echo of the caller's byte b is the server's byte b + offset. Frame k covers sent bytes
// [160k, 160k + 160), so it is back when the received byte count reaches 160(k+1) + offset; its
// RTT is that moment minus the moment frame k was queued for sending. A resampler in the echo
// path cannot emit a sample before the input that follows it has arrived, so its delay shows
// up here as it would for a caller. The echo of frame k *starts* when the count passes
// 160k + offset: that moment gives the start RTT, which leaves out what the server holds back.
class EchoMeter {
 public:
  void reset(int64_t offset_bytes) {
    offset_ = offset_bytes;
    send_times_.assign(kRing, Clock::time_point{});
  }

  void frame_sent(Clock::time_point when) {
    if (sent_ == 0) first_send_ = when;
    send_times_[sent_ % kRing] = when;
    ++sent_;
  }

  void audio_received(uint64_t bytes, Clock::time_point when, std::vector<float> &rtt_ms,
                      std::vector<float> &rtt_start_ms) {
    received_ += static_cast<int64_t>(bytes);
    const int64_t echoed = received_ - offset_;
    while (begun_ < sent_ && echoed > static_cast<int64_t>(kFrameBytes * begun_)) {
      rtt_start_ms.push_back(to_ms(when - send_time(begun_)));
      ++begun_;
    }
    while (matched_ < sent_ && echoed >= static_cast<int64_t>(kFrameBytes * (matched_ + 1))) {
      rtt_ms.push_back(to_ms(when - send_time(matched_)));
      ++matched_;
    }
  }

  /// Echoed frames, a frame more than half back counting as back.
  uint64_t frames_echoed() const noexcept {
    const int64_t echoed = received_ - offset_;
    return echoed <= 0 ? 0 : static_cast<uint64_t>(echoed + kFrameBytes / 2 - 1) / kFrameBytes;
  }
  Clock::time_point first_send() const noexcept { return first_send_; }
  uint64_t sent() const noexcept { return sent_; }

 private:
  static constexpr uint64_t kRing = 512;  // 10 s of frames; older ones use their deadline

  Clock::time_point send_time(uint64_t frame) const {
    if (sent_ - frame <= kRing) return send_times_[frame % kRing];
    return first_send_ + kFrameInterval * static_cast<int64_t>(frame);
  }

  std::vector<Clock::time_point> send_times_;
  Clock::time_point first_send_{};
  uint64_t sent_ = 0;
  uint64_t matched_ = 0;  // frames completely back
  uint64_t begun_ = 0;    // frames whose echo has started
  int64_t received_ = 0;
  int64_t offset_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Metronome: the 20 ms clock of every call on one io thread.
//
// One timer per io thread ticks every millisecond against absolute deadlines (epoch + k ms);
// call frames fall on one of 20 slots, so tick k visits the calls of slot k % 20. At 1,000 calls
// that is 1,000 timer waits a second instead of 50,000 (one timer per call), and the calls'
// phases stay spread over the 20 ms like real callers' instead of arriving in one burst. A late
// wake-up visits every missed tick (up to a second's worth), so frames catch up rather than drift.

class Ticking {
 public:
  /// `due` is this tick's deadline, `now` when it ran. Returns false to leave the metronome.
  virtual bool on_tick(Clock::time_point due, Clock::time_point now) = 0;

 protected:
  ~Ticking() = default;
};

class Metronome {
 public:
  static constexpr int kSlots = 20;
  static constexpr auto kTick = std::chrono::milliseconds(1);
  static constexpr int64_t kMaxCatchUp = 1000;

  explicit Metronome(asio::io_context &io) : timer_(io), epoch_(Clock::now()) {}

  /// Adds `member`; its first tick is the next one, whose deadline this returns.
  Clock::time_point join(Ticking *member) {
    const int64_t tick = std::max(next_tick_, ticks_until(Clock::now()) + 1);
    slots_[static_cast<size_t>(tick % kSlots)].push_back(member);
    ++members_;
    if (!armed_) arm(tick);
    return tick_time(tick);
  }

 private:
  int64_t ticks_until(Clock::time_point when) const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(when - epoch_).count();
  }
  Clock::time_point tick_time(int64_t tick) const { return epoch_ + kTick * tick; }

  void arm(int64_t tick) {
    next_tick_ = tick;
    armed_ = true;
    timer_.expires_at(tick_time(tick));
    timer_.async_wait([this](error_code ec) { on_timer(ec); });
  }

  void on_timer(error_code ec) {
    armed_ = false;
    if (ec) return;
    const auto now = Clock::now();
    const int64_t due = ticks_until(now);
    const int64_t last = std::min(due, next_tick_ + kMaxCatchUp);
    for (int64_t tick = next_tick_; tick <= last && members_ > 0; ++tick) visit(tick, now);
    next_tick_ = due + 1;
    if (members_ > 0) arm(next_tick_);
  }

  void visit(int64_t tick, Clock::time_point now) {
    auto &slot = slots_[static_cast<size_t>(tick % kSlots)];
    const auto deadline = tick_time(tick);
    for (size_t i = 0; i < slot.size();) {
      if (slot[i]->on_tick(deadline, now)) {
        ++i;
      } else {
        slot[i] = slot.back();
        slot.pop_back();
        --members_;
      }
    }
  }

  asio::steady_timer timer_;
  Clock::time_point epoch_;
  std::array<std::vector<Ticking *>, kSlots> slots_;
  size_t members_ = 0;
  int64_t next_tick_ = 0;
  bool armed_ = false;
};

// ---------------------------------------------------------------------------------------------
// Shared state of a fleet

struct Target {
  ParsedUrl url;
  tcp::resolver::results_type endpoints;
  std::string error;  // why the URL could not be used
  ssl::context *tls = nullptr;
};

enum class Phase { waiting, connecting, media, draining, closing, done };

struct FleetCounters {
  std::atomic<size_t> waiting{0}, connecting{0}, active{0}, ending{0}, finished{0}, connected{0}, failed{0};

  std::atomic<size_t> *of(Phase phase) {
    switch (phase) {
      case Phase::waiting: return &waiting;
      case Phase::connecting: return &connecting;
      case Phase::media: return &active;
      case Phase::draining:
      case Phase::closing: return &ending;
      case Phase::done: return &finished;
    }
    return nullptr;
  }
};

class CallBase;

// One io thread's world: its io_context, metronome, message reader and calls.
struct IoShard {
  asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_1};
  Metronome metronome{io};
  ServerMessageReader reader;
  asio::steady_timer starter{io};
  std::vector<CallBase *> calls;  // in start order
  std::vector<Clock::time_point> start_times;
  size_t next_start = 0;
  size_t finished = 0;
  std::thread thread;
  std::function<void()> on_all_finished;  // tells the fleet

  // Stops the io_context once every call is done: Beast may leave a handshake timer armed
  // after a refused upgrade, and nothing should keep the thread waiting for it.
  void call_finished() {
    if (++finished < calls.size()) return;
    io.stop();
    if (on_all_finished) on_all_finished();
  }
};

// ---------------------------------------------------------------------------------------------
// One call: the protocol logic. CallIo<> below adds the Beast I/O.

class CallBase : protected Ticking {
 public:
  CallBase(IoShard &shard, const CallerScript &script, const Target &target, FleetCounters &counters)
      : shard_(shard),
        script_(script),
        target_(target),
        counters_(counters),
        messages_(script.account_sid, script.call_sid, script.stream_sid),
        total_frames_(static_cast<uint64_t>(script.duration / kFrameInterval)) {
    report_.stream_sid = messages_.stream_sid();
    report_.call_sid = messages_.call_sid();
    counters_.waiting.fetch_add(1, std::memory_order_relaxed);
  }
  virtual ~CallBase() = default;
  CallBase(const CallBase &) = delete;
  CallBase &operator=(const CallBase &) = delete;

  /// Starts connecting (called by the ramp).
  void begin() {
    if (phase_ != Phase::waiting) return;
    move_to(Phase::connecting);
    if (!target_.error.empty()) return fail_to_connect(target_.error, 0);
    connect();
  }

  /// Drops the connection (fleet cancel).
  void cancel() {
    if (phase_ == Phase::waiting) {
      report_.connect_error = "cancelled before connecting";
      return finish();
    }
    if (phase_ == Phase::done) return;
    if (phase_ == Phase::connecting) {
      report_.connect_error = "cancelled";
      return abort_transport();  // the pending connect step's handler finishes the call
    }
    transport_failed("cancelled");
  }

  CallerReport take_report() { return std::move(report_); }

 protected:
  // I/O hooks
  virtual void connect() = 0;
  virtual void flush() = 0;              // start writing the outbox if idle; close when asked
  virtual void abort_transport() = 0;    // close the socket; pending operations end

  // ---- events from the I/O layer

  void fail_to_connect(std::string what, int http_status) {
    if (report_.connect_error.empty()) report_.connect_error = std::move(what);
    report_.http_status = http_status;
    finish();
  }

  void upgraded() {
    report_.connected = true;
    report_.http_status = 101;
    counters_.connected.fetch_add(1, std::memory_order_relaxed);
    if (script_.send_media) {
      report_.rtt_ms.reserve(total_frames_);
      report_.rtt_start_ms.reserve(total_frames_);
    }
    meter_.reset(script_.echo_offset_bytes);
    outbox_.push() = TwilioMessages::connected();
    outbox_.push() = messages_.start(script_.custom_parameters);
    stream_start_ = Clock::now();
    move_to(Phase::media);
    shard_.metronome.join(this);
  }

  void text_received(std::string_view text, Clock::time_point now) {
    // Reading starts only once `start` is written, so a server that speaks first fails the
    // streamSid check: it cannot know the sid yet. After `stop` nothing more is heard.
    if (phase_ != Phase::media && phase_ != Phase::draining) return;
    const auto message = shard_.reader.read(text, messages_.stream_sid());
    if (!message) return protocol_error(shard_.reader.error());
    switch (message->kind) {
      case ServerMessageReader::Kind::media: return media_received(message->audio, now);
      case ServerMessageReader::Kind::mark:
        ++report_.marks_received;
        if (playback_.push_mark(message->mark_name)) echo_mark(message->mark_name);
        return;
      case ServerMessageReader::Kind::clear:
        ++report_.clears_received;
        playback_.clear([this](std::string_view name) { echo_mark(name); });
        return;
    }
  }

  void binary_received(size_t bytes) {
    if (phase_ != Phase::media && phase_ != Phase::draining) return;
    protocol_error("binary frame of " + std::to_string(bytes) + " bytes (every message must be a JSON text frame)");
  }

  void server_closed(int code, std::string reason) {
    report_.closed_by_server = true;
    report_.close_code = code;
    report_.close_reason = std::move(reason);
    end_without_stop();
  }

  void transport_failed(std::string what) {
    if (report_.error.empty()) report_.error = std::move(what);
    end_without_stop();
    abort_transport();
  }

  /// All I/O is over: the call is done.
  void finish() {
    if (phase_ == Phase::done) return;
    if (!report_.completed_cleanly()) counters_.failed.fetch_add(1, std::memory_order_relaxed);
    move_to(Phase::done);
    shard_.call_finished();
  }

  // ---- the outbox: messages waiting for the socket, in order

  class Outbox {
   public:
    static constexpr size_t kLimit = 1000;  // 20 s of frames: the server has stopped reading
    std::string &push() {
      if (count_ == slots_.size()) grow();
      std::string &slot = slots_[(head_ + count_++) % slots_.size()];
      slot.clear();
      return slot;
    }
    /// Swaps the oldest message into `out` (keeping both buffers' capacity) and drops it.
    void pop_into(std::string &out) {
      std::swap(out, slots_[head_]);
      head_ = (head_ + 1) % slots_.size();
      --count_;
    }
    void clear() noexcept { head_ = count_ = 0; }
    bool empty() const noexcept { return count_ == 0; }
    size_t size() const noexcept { return count_; }

   private:
    void grow() {
      std::vector<std::string> bigger(slots_.size() * 2);
      for (size_t i = 0; i < count_; ++i) bigger[i] = std::move(slots_[(head_ + i) % slots_.size()]);
      slots_ = std::move(bigger);
      head_ = 0;
    }
    std::vector<std::string> slots_ = std::vector<std::string>(8);
    size_t head_ = 0, count_ = 0;
  };

  bool can_write() const noexcept {
    return phase_ == Phase::media || phase_ == Phase::draining || phase_ == Phase::closing;
  }

  IoShard &shard_;
  const CallerScript &script_;
  const Target &target_;
  CallerReport report_;
  Outbox outbox_;
  bool close_requested_ = false;  // send a close frame once the outbox is written
  Phase phase_ = Phase::waiting;

 private:
  void move_to(Phase next) {
    counters_.of(phase_)->fetch_sub(1, std::memory_order_relaxed);
    counters_.of(next)->fetch_add(1, std::memory_order_relaxed);
    phase_ = next;
  }

  // ---- the 20 ms clock

  bool on_tick(Clock::time_point due, Clock::time_point now) override {
    if (phase_ != Phase::media && phase_ != Phase::draining) return false;
    report_.max_send_lateness_ms = std::max(report_.max_send_lateness_ms, to_ms(now - due));
    playback_.tick([this](std::string_view name) { echo_mark(name); });
    if (phase_ == Phase::media) media_tick(due, now);
    if (phase_ == Phase::draining && drain_over(due)) end_call();
    flush();
    return phase_ == Phase::media || phase_ == Phase::draining;
  }

  // Frame n goes at media_epoch + n * 20 ms; the phase ends when the last frame has played
  // out, `duration` after the first (an idle call stays silent exactly that long).
  void media_tick(Clock::time_point due, Clock::time_point now) {
    if (ticks_ == 0) media_epoch_ = due;
    if (ticks_ < total_frames_) {
      if (script_.send_media) send_frame(due, now);
      if (phase_ != Phase::media) return;  // the transport failed
      send_due_dtmf(due);
      ++ticks_;
      return;
    }
    move_to(Phase::draining);
    drain_start_ = due;
  }

  void send_frame(Clock::time_point due, Clock::time_point now) {
    std::array<uint8_t, kFrameBytes> frame;
    const auto *audio = script_.ulaw.get();
    if (audio == nullptr || audio->empty()) {
      frame.fill(audio::ulaw_silence);
    } else {
      for (size_t filled = 0; filled < frame.size();) {  // the audio loops
        const size_t n = std::min(frame.size() - filled, audio->size() - audio_position_);
        std::memcpy(frame.data() + filled, audio->data() + audio_position_, n);
        filled += n;
        audio_position_ = (audio_position_ + n) % audio->size();
      }
    }
    const auto timestamp = std::chrono::duration_cast<std::chrono::milliseconds>(due - stream_start_).count();
    messages_.append_media(outbox_.push(), frame, timestamp);
    meter_.frame_sent(now);
    ++report_.frames_sent;
    if (outbox_.size() > Outbox::kLimit) {
      transport_failed("the server stopped reading: " + std::to_string(outbox_.size()) + " messages queued");
    }
  }

  void send_due_dtmf(Clock::time_point due) {
    while (next_dtmf_ < script_.dtmf.size() && media_epoch_ + script_.dtmf[next_dtmf_].first <= due) {
      messages_.append_dtmf(outbox_.push(), script_.dtmf[next_dtmf_++].second);
      ++report_.dtmf_sent;
    }
  }

  // The echo is back when the playback queue is empty and every frame has returned; a server
  // that sends nothing at all is given 300 ms, any other the drain timeout.
  bool drain_over(Clock::time_point due) {
    if (playback_.idle()) {
      if (meter_.frames_echoed() >= report_.frames_sent) return true;
      if (report_.media_received == 0 && due - drain_start_ >= std::chrono::milliseconds(300)) return true;
    }
    if (due - drain_start_ >= script_.drain_timeout) {
      report_.drain_timed_out = true;
      return true;
    }
    return false;
  }

  void end_call() {
    report_.frames_received = meter_.frames_echoed();
    move_to(Phase::closing);
    if (script_.send_stop) {
      messages_.append_stop(outbox_.push());
      report_.stop_sent = true;
    }
    close_requested_ = true;
  }

  // Server closed or the transport failed: nothing more is sent.
  void end_without_stop() {
    report_.frames_received = meter_.frames_echoed();
    outbox_.clear();
    close_requested_ = false;
    if (phase_ == Phase::media || phase_ == Phase::draining) move_to(Phase::closing);
  }

  void media_received(std::span<const uint8_t> audio, Clock::time_point now) {
    ++report_.media_received;
    report_.bytes_received += audio.size();
    if (report_.first_response_ms < 0 && meter_.sent() > 0) report_.first_response_ms = to_ms(now - meter_.first_send());
    meter_.audio_received(audio.size(), now, report_.rtt_ms, report_.rtt_start_ms);
    if (script_.keep_received_audio) report_.received_audio.insert(report_.received_audio.end(), audio.begin(), audio.end());
    if (!playback_.push_audio(audio.size()) && !warned_ceiling_) {
      warned_ceiling_ = true;
      report_.warnings.push_back("over 10 minutes of audio queued: further media discarded (Twilio warning 31931)");
    }
  }

  void echo_mark(std::string_view name) {
    messages_.append_mark(outbox_.push(), name);
    ++report_.marks_echoed;
    report_.marks_echoed_names.emplace_back(name);
  }

  void protocol_error(std::string what) {
    ++report_.protocol_error_count;
    if (report_.protocol_errors.size() < CallerReport::kMaxProtocolErrors) report_.protocol_errors.push_back(std::move(what));
  }

  FleetCounters &counters_;
  TwilioMessages messages_;
  Playback playback_;
  EchoMeter meter_;
  const uint64_t total_frames_;
  uint64_t ticks_ = 0;
  size_t audio_position_ = 0;
  size_t next_dtmf_ = 0;
  bool warned_ceiling_ = false;
  Clock::time_point stream_start_{}, media_epoch_{}, drain_start_{};

 public:
  void set_audio_position(size_t position) { audio_position_ = position; }
};

// Beast's handshake error, with the HTTP status when the upgrade was refused.
std::string upgrade_error(const error_code &ec, int status) {
  if (status > 0) return "upgrade refused: HTTP " + std::to_string(status);
  return "upgrade: " + ec.message();
}

// The io_context's own executor rather than any_io_executor: no type erasure on the frame path.
using CallStream = beast::basic_stream<tcp, asio::io_context::executor_type>;

template <class NextLayer>
class CallIo final : public CallBase {
 public:
  template <class... StreamArgs>
  CallIo(IoShard &shard, const CallerScript &script, const Target &target, FleetCounters &counters,
         StreamArgs &&...stream_args)
      : CallBase(shard, script, target, counters), ws_(std::forward<StreamArgs>(stream_args)...) {}

 private:
  static constexpr bool kTls = !std::is_same_v<NextLayer, CallStream>;

  auto &lowest() { return beast::get_lowest_layer(ws_); }

  void connect() override {
    lowest().expires_after(script_.connect_timeout);
    lowest().async_connect(target_.endpoints, [this](error_code ec, const tcp::endpoint &) { on_connect(ec); });
  }

  void on_connect(error_code ec) {
    if (ec) return give_up("connect: " + ec.message());
    lowest().socket().set_option(tcp::no_delay(true), ec);
    if constexpr (kTls) {
      auto &tls = ws_.next_layer();
      if (!SSL_set_tlsext_host_name(tls.native_handle(), target_.url.host.c_str())) {
        return give_up("TLS: cannot set the server name");
      }
      if (script_.tls.verify) tls.set_verify_callback(ssl::host_name_verification(target_.url.host));
      tls.async_handshake(ssl::stream_base::client, [this](error_code tls_ec) {
        if (tls_ec) return give_up("TLS handshake: " + tls_ec.message());
        upgrade();
      });
    } else {
      upgrade();
    }
  }

  void upgrade() {
    lowest().expires_never();  // the websocket's own timeouts take over
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = script_.connect_timeout;
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator([this](websocket::request_type &request) {
      request.set(http::field::user_agent, kUserAgent);
      if (!script_.signature.empty()) request.set("x-twilio-signature", script_.signature);
    }));
    ws_.read_message_max(kMaxMessageBytes);
    ws_.auto_fragment(false);
    ws_.async_handshake(response_, target_.url.host_header, target_.url.target, [this](error_code ec) {
      if (ec) {
        const int status = ec == websocket::error::upgrade_declined ? response_.result_int() : 0;
        return give_up(upgrade_error(ec, status), status);
      }
      upgraded();
      flush();  // connected + start go out before anything is read
      read_next();
    });
  }

  void give_up(std::string what, int http_status = 0) {
    error_code ignored;
    lowest().socket().close(ignored);
    fail_to_connect(std::move(what), http_status);
  }

  void read_next() {
    reading_ = true;
    ws_.async_read(read_buffer_, [this](error_code ec, size_t) { on_read(ec); });
  }

  void on_read(error_code ec) {
    reading_ = false;
    if (ec) return read_failed(ec);
    const auto now = Clock::now();
    const auto data = read_buffer_.cdata();
    if (ws_.got_text()) {
      text_received(std::string_view(static_cast<const char *>(data.data()), data.size()), now);
    } else {
      binary_received(data.size());
    }
    read_buffer_.consume(read_buffer_.size());
    flush();
    if (aborted_) return maybe_finish();
    read_next();
  }

  void read_failed(error_code ec) {
    if (!close_started_ && !aborted_) {
      if (ec == websocket::error::closed) {
        const auto &reason = ws_.reason();
        server_closed(reason.code, std::string(reason.reason.data(), reason.reason.size()));
      } else {
        transport_failed("read: " + ec.message());
      }
    }
    maybe_finish();
  }

  void flush() override {
    if (writing_ || aborted_) return;
    if (!can_write()) return maybe_finish();
    if (!outbox_.empty()) {
      outbox_.pop_into(writing_message_);
      writing_ = true;
      ws_.async_write(asio::buffer(writing_message_), [this](error_code ec, size_t) { on_write(ec); });
      return;
    }
    if (close_requested_ && !close_started_) start_close();
  }

  void on_write(error_code ec) {
    writing_ = false;
    if (ec && !aborted_ && !close_started_) transport_failed("write: " + ec.message());
    flush();
    maybe_finish();
  }

  void start_close() {
    close_started_ = closing_ = true;
    ws_.async_close(websocket::close_code::normal, [this](error_code ec) {
      closing_ = false;
      if (ec && !aborted_ && report_.error.empty()) report_.error = "close: " + ec.message();
      if (ec) abort_transport();
      maybe_finish();
    });
  }

  void abort_transport() override {
    aborted_ = true;
    lowest().close();
    maybe_finish();
  }

  void maybe_finish() {
    if (reading_ || writing_ || closing_ || phase_ == Phase::done) return;
    if (phase_ == Phase::waiting || phase_ == Phase::connecting) return;  // its handler finishes it
    if (phase_ == Phase::media || phase_ == Phase::draining) return;  // still talking
    if (phase_ == Phase::closing && !close_started_ && !aborted_ && !report_.closed_by_server) return;
    error_code ignored;
    lowest().socket().close(ignored);
    finish();
  }

  websocket::stream<NextLayer> ws_;
  websocket::response_type response_;
  beast::flat_buffer read_buffer_;
  std::string writing_message_;
  bool reading_ = false, writing_ = false, closing_ = false;
  bool close_started_ = false, aborted_ = false;
};

using PlainCall = CallIo<CallStream>;
using TlsCall = CallIo<ssl::stream<CallStream>>;

std::unique_ptr<ssl::context> make_tls_context(const CallerTls &settings) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  if (!settings.verify) {
    context->set_verify_mode(ssl::verify_none);
    return context;
  }
  context->set_verify_mode(ssl::verify_peer);
  error_code ec;
  if (settings.ca_file.empty()) {
    context->set_default_verify_paths(ec);
  } else {
    context->load_verify_file(settings.ca_file, ec);
  }
  if (ec) throw Error(Status::io, "caller: cannot load CA file '" + settings.ca_file + "': " + ec.message());
  return context;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// CallerFleet

struct CallerFleet::Impl {
  std::vector<CallerScript> scripts;
  FleetOptions options;
  FleetCounters counters;
  std::map<std::string, std::unique_ptr<ssl::context>> tls_contexts;  // by CA file + verify
  std::map<std::string, Target> targets;                              // by URL
  std::vector<std::unique_ptr<IoShard>> shards;
  std::vector<std::unique_ptr<CallBase>> calls;  // script order
  bool started = false, joined = false;
  std::mutex mutex;
  std::condition_variable shards_done;
  size_t finished_shards = 0;

  Target &target_for(const CallerScript &script);
  void run_shard(IoShard &shard);
  void schedule_start(IoShard &shard);
  void join();
};

Target &CallerFleet::Impl::target_for(const CallerScript &script) {
  auto [it, inserted] = targets.try_emplace(script.url);
  Target &target = it->second;
  if (!inserted) return target;
  try {
    target.url = parse_url(script.url);
    asio::io_context io;
    tcp::resolver resolver(io);
    target.endpoints = resolver.resolve(target.url.host, target.url.port);
    if (target.url.tls) {
      const std::string key = (script.tls.verify ? "verify:" : "any:") + script.tls.ca_file;
      auto &context = tls_contexts[key];
      if (!context) context = make_tls_context(script.tls);
      target.tls = context.get();
    }
  } catch (const boost::system::system_error &e) {
    target.error = "resolve '" + target.url.host + "': " + e.code().message();
  } catch (const std::exception &e) {
    target.error = e.what();
  }
  return target;
}

CallerFleet::CallerFleet(std::vector<CallerScript> scripts, FleetOptions options) : impl_(std::make_unique<Impl>()) {
  Impl &m = *impl_;
  m.scripts = std::move(scripts);
  m.options = options;
  const size_t shard_count = std::clamp<size_t>(static_cast<size_t>(std::max(options.io_threads, 1)), 1,
                                                std::max<size_t>(m.scripts.size(), 1));
  for (size_t i = 0; i < shard_count; ++i) m.shards.push_back(std::make_unique<IoShard>());
  m.calls.reserve(m.scripts.size());
  for (size_t i = 0; i < m.scripts.size(); ++i) {
    const CallerScript &script = m.scripts[i];
    IoShard &shard = *m.shards[i % shard_count];
    const Target &target = m.target_for(script);
    std::unique_ptr<CallBase> call;
    if (target.tls != nullptr) {
      call = std::make_unique<TlsCall>(shard, script, target, m.counters, shard.io, *target.tls);
    } else {
      call = std::make_unique<PlainCall>(shard, script, target, m.counters, shard.io);
    }
    if (script.ulaw && !script.ulaw->empty()) call->set_audio_position(script.audio_offset % script.ulaw->size());
    shard.calls.push_back(call.get());
    m.calls.push_back(std::move(call));
  }
}

CallerFleet::~CallerFleet() {
  if (impl_->started && !impl_->joined) {
    cancel();
    impl_->join();
  }
}

void CallerFleet::Impl::schedule_start(IoShard &shard) {
  if (shard.next_start == shard.calls.size()) return;
  shard.starter.expires_at(shard.start_times[shard.next_start]);
  shard.starter.async_wait([this, &shard](error_code ec) {
    if (ec) return;
    const auto now = Clock::now();
    while (shard.next_start < shard.calls.size() && shard.start_times[shard.next_start] <= now) {
      shard.calls[shard.next_start++]->begin();
    }
    schedule_start(shard);
  });
}

void CallerFleet::Impl::run_shard(IoShard &shard) {
  for (;;) {
    try {
      shard.io.run();
      return;
    } catch (const std::exception &e) {
      std::fprintf(stderr, "twilio caller: unexpected exception on an io thread: %s\n", e.what());
    }
  }
}

void CallerFleet::start() {
  Impl &m = *impl_;
  if (m.started) throw Error(Status::state, "CallerFleet::start: already started");
  m.started = true;
  const auto epoch = Clock::now();
  const auto total = static_cast<int64_t>(std::max<size_t>(m.scripts.size(), 1));
  for (size_t i = 0; i < m.calls.size(); ++i) {
    IoShard &shard = *m.shards[i % m.shards.size()];
    shard.start_times.push_back(epoch + m.options.ramp * static_cast<int64_t>(i) / total);
  }
  for (auto &shard : m.shards) {
    shard->on_all_finished = [&m] {
      std::lock_guard lock(m.mutex);
      ++m.finished_shards;
      m.shards_done.notify_all();
    };
    m.schedule_start(*shard);
    shard->thread = std::thread([&m, &shard = *shard] { m.run_shard(shard); });
  }
}

FleetProgress CallerFleet::progress() const noexcept {
  const FleetCounters &c = impl_->counters;
  FleetProgress p;
  p.calls = impl_->calls.size();
  p.waiting = c.waiting.load(std::memory_order_relaxed);
  p.connecting = c.connecting.load(std::memory_order_relaxed);
  p.active = c.active.load(std::memory_order_relaxed);
  p.ending = c.ending.load(std::memory_order_relaxed);
  p.finished = c.finished.load(std::memory_order_relaxed);
  p.connected = c.connected.load(std::memory_order_relaxed);
  p.failed = c.failed.load(std::memory_order_relaxed);
  return p;
}

bool CallerFleet::wait_for(std::chrono::milliseconds timeout) {
  Impl &m = *impl_;
  if (m.calls.empty()) return true;
  std::unique_lock lock(m.mutex);
  return m.shards_done.wait_for(lock, timeout, [&m] { return m.finished_shards == m.shards.size(); });
}

void CallerFleet::Impl::join() {
  for (auto &shard : shards) {
    if (shard->thread.joinable()) shard->thread.join();
  }
  joined = true;
}

std::vector<CallerReport> CallerFleet::wait() {
  Impl &m = *impl_;
  if (!m.started) throw Error(Status::state, "CallerFleet::wait: not started");
  if (m.joined) throw Error(Status::state, "CallerFleet::wait: called twice");
  m.join();
  std::vector<CallerReport> reports;
  reports.reserve(m.calls.size());
  for (auto &call : m.calls) reports.push_back(call->take_report());
  return reports;
}

void CallerFleet::cancel() {
  for (auto &shard : impl_->shards) {
    asio::post(shard->io, [&shard = *shard] {
      shard.starter.cancel();
      for (auto *call : shard.calls) call->cancel();
    });
  }
}

std::vector<CallerReport> run_callers(std::vector<CallerScript> scripts, std::chrono::milliseconds ramp, int io_threads) {
  CallerFleet fleet(std::move(scripts), FleetOptions{ramp, io_threads});
  fleet.start();
  return fleet.wait();
}

// ---------------------------------------------------------------------------------------------
// TestCaller

namespace {

// Runs `io` until `done` or the deadline; true when done.
bool run_until(asio::io_context &io, const bool &done, Clock::time_point deadline) {
  while (!done) {
    if (io.stopped()) io.restart();
    if (io.run_one_until(deadline) == 0 && !done) {
      if (Clock::now() >= deadline) return false;
      if (io.stopped()) return false;  // out of work: nothing pending can complete it
    }
  }
  return true;
}

class TestLink {
 public:
  virtual ~TestLink() = default;
  virtual int connect(const ParsedUrl &url, const tcp::resolver::results_type &endpoints, const StringPairs &headers,
                      Clock::time_point deadline) = 0;
  virtual void send(std::span<const uint8_t> bytes, bool binary, Clock::time_point deadline) = 0;
  virtual void send_raw(std::span<const uint8_t> bytes, Clock::time_point deadline) = 0;
  virtual std::optional<TestCaller::Frame> read(Clock::time_point deadline) = 0;
  virtual void close(uint16_t code, std::string_view reason, Clock::time_point deadline) = 0;
  virtual void abort(bool reset) = 0;

  StringPairs response_headers;
  std::string response_body;
  bool open = false;
  int close_code = 0;
  std::string close_reason;
};

template <class NextLayer>
class TestLinkIo final : public TestLink {
 public:
  template <class... StreamArgs>
  TestLinkIo(asio::io_context &io, const CallerTls &tls, StreamArgs &&...stream_args)
      : io_(io), tls_(tls), ws_(std::forward<StreamArgs>(stream_args)...) {}

  ~TestLinkIo() override {
    if (open || reading_) abort(false);
  }

  int connect(const ParsedUrl &url, const tcp::resolver::results_type &endpoints, const StringPairs &headers,
              Clock::time_point deadline) override {
    auto &lowest = beast::get_lowest_layer(ws_);
    lowest.expires_at(deadline);
    error_code ec;
    bool done = false;
    lowest.async_connect(endpoints, [&](error_code e, const tcp::endpoint &) { ec = e, done = true; });
    wait(done, deadline, "connect");
    if (ec) throw Error(Status::io, "TestCaller: connect to " + url.host + ":" + url.port + ": " + ec.message());
    if constexpr (!std::is_same_v<NextLayer, beast::tcp_stream>) {
      SSL_set_tlsext_host_name(ws_.next_layer().native_handle(), url.host.c_str());
      if (tls_.verify) ws_.next_layer().set_verify_callback(ssl::host_name_verification(url.host));
      done = false;
      ws_.next_layer().async_handshake(ssl::stream_base::client, [&](error_code e) { ec = e, done = true; });
      wait(done, deadline, "TLS handshake");
      if (ec) throw Error(Status::io, "TestCaller: TLS handshake: " + ec.message());
    }
    lowest.expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::duration_cast<std::chrono::seconds>(deadline - Clock::now()) +
                                 std::chrono::seconds(1);
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator([&headers](websocket::request_type &request) {
      request.set(http::field::user_agent, kUserAgent);
      for (const auto &[name, value] : headers) request.set(name, value);
    }));
    ws_.read_message_max(kMaxMessageBytes);
    done = false;
    ws_.async_handshake(response_, url.host_header, url.target, [&](error_code e) { ec = e, done = true; });
    wait(done, deadline, "upgrade");
    for (const auto &field : response_) {
      response_headers.emplace_back(std::string(field.name_string().data(), field.name_string().size()),
                                    std::string(field.value().data(), field.value().size()));
    }
    response_body = response_.body();
    if (!ec) {
      open = true;
      return 101;
    }
    error_code ignored;
    lowest.socket().close(ignored);
    if (ec == websocket::error::upgrade_declined) return response_.result_int();
    throw Error(Status::io, "TestCaller: upgrade: " + ec.message());
  }

  void send(std::span<const uint8_t> bytes, bool binary, Clock::time_point deadline) override {
    require_open("send");
    ws_.binary(binary);
    error_code ec;
    bool done = false;
    ws_.async_write(asio::buffer(bytes.data(), bytes.size()), [&](error_code e, size_t) { ec = e, done = true; });
    wait(done, deadline, "send");
    if (ec) fail("send", ec);
  }

  void send_raw(std::span<const uint8_t> bytes, Clock::time_point deadline) override {
    require_open("send_raw");
    error_code ec;
    bool done = false;
    asio::async_write(ws_.next_layer(), asio::buffer(bytes.data(), bytes.size()),
                      [&](error_code e, size_t) { ec = e, done = true; });
    wait(done, deadline, "send_raw");
    if (ec) fail("send_raw", ec);
  }

  std::optional<TestCaller::Frame> read(Clock::time_point deadline) override {
    if (!reading_) {
      if (!open) return std::nullopt;
      reading_ = true;
      read_done_ = false;
      ws_.async_read(buffer_, [this](error_code e, size_t) {
        read_ec_ = e;
        read_done_ = true;
        reading_ = false;
      });
    }
    if (!run_until(io_, read_done_, deadline)) return std::nullopt;
    read_done_ = false;
    if (read_ec_) {
      open = false;
      if (read_ec_ == websocket::error::closed) {
        close_code = ws_.reason().code;
        close_reason = std::string(ws_.reason().reason.data(), ws_.reason().reason.size());
        return std::nullopt;
      }
      if (read_ec_ == asio::error::operation_aborted) return std::nullopt;
      throw Error(Status::io, "TestCaller: read: " + read_ec_.message());
    }
    TestCaller::Frame frame;
    frame.binary = !ws_.got_text();
    frame.data = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    return frame;
  }

  void close(uint16_t code, std::string_view reason, Clock::time_point deadline) override {
    if (!open) return;
    error_code ec;
    bool done = false;
    ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(code), reason), [&](error_code e) { ec = e, done = true; });
    if (!run_until(io_, done, deadline)) {
      abort(false);
      throw Error(Status::timeout, "TestCaller: close: the server did not answer the close frame");
    }
    open = false;
    if (reading_) run_until(io_, read_done_, deadline);
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    if (ec && ec != websocket::error::closed) throw Error(Status::io, "TestCaller: close: " + ec.message());
  }

  void abort(bool reset) override {
    auto &socket = beast::get_lowest_layer(ws_).socket();
    error_code ignored;
    if (reset && socket.is_open()) socket.set_option(asio::socket_base::linger(true, 0), ignored);
    beast::get_lowest_layer(ws_).close();
    open = false;
    // Let cancelled operations finish so none refers to this object later.
    if (io_.stopped()) io_.restart();
    io_.poll();
  }

 private:
  void wait(bool &done, Clock::time_point deadline, const char *what) {
    if (run_until(io_, done, deadline)) return;
    abort(false);
    run_until(io_, done, Clock::now() + std::chrono::seconds(1));
    throw Error(Status::timeout, std::string("TestCaller: ") + what + " timed out");
  }

  void require_open(const char *what) const {
    if (!open) throw Error(Status::state, std::string("TestCaller: ") + what + ": not connected");
  }

  [[noreturn]] void fail(const char *what, error_code ec) {
    open = false;
    throw Error(Status::io, std::string("TestCaller: ") + what + ": " + ec.message());
  }

  asio::io_context &io_;
  CallerTls tls_;
  websocket::stream<NextLayer> ws_;
  websocket::response_type response_;
  beast::flat_buffer buffer_;
  bool reading_ = false, read_done_ = false;
  error_code read_ec_;
};

}  // namespace

struct TestCaller::Impl {
  asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_1};
  std::unique_ptr<ssl::context> tls_context;
  std::unique_ptr<TestLink> link;
  std::string last_error;
  static inline const StringPairs kNoHeaders;
  static inline const std::string kEmpty;
};

TestCaller::TestCaller(CallerTls tls) : impl_(std::make_unique<Impl>()), tls_(std::move(tls)), messages_({}, {}, {}) {}
TestCaller::~TestCaller() {
  impl_->link.reset();  // before the io_context
}

int TestCaller::connect(const std::string &url, const StringPairs &headers, std::chrono::milliseconds timeout) {
  const ParsedUrl parsed = parse_url(url);
  const auto deadline = Clock::now() + timeout;
  tcp::resolver resolver(impl_->io);
  error_code ec;
  const auto endpoints = resolver.resolve(parsed.host, parsed.port, ec);
  if (ec) throw Error(Status::io, "TestCaller: resolve '" + parsed.host + "': " + ec.message());
  impl_->link.reset();
  if (parsed.tls) {
    if (!impl_->tls_context) impl_->tls_context = make_tls_context(tls_);
    impl_->link = std::make_unique<TestLinkIo<ssl::stream<beast::tcp_stream>>>(impl_->io, tls_, impl_->io,
                                                                                *impl_->tls_context);
  } else {
    impl_->link = std::make_unique<TestLinkIo<beast::tcp_stream>>(impl_->io, tls_, impl_->io);
  }
  return impl_->link->connect(parsed, endpoints, headers, deadline);
}

const StringPairs &TestCaller::response_headers() const noexcept {
  return impl_->link ? impl_->link->response_headers : Impl::kNoHeaders;
}
const std::string &TestCaller::response_body() const noexcept {
  return impl_->link ? impl_->link->response_body : Impl::kEmpty;
}

namespace {
TestLink &require_link(std::unique_ptr<TestLink> &link) {
  if (!link) throw Error(Status::state, "TestCaller: not connected");
  return *link;
}
std::span<const uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t *>(text.data()), text.size()};
}
}  // namespace

void TestCaller::send_text(std::string_view text, std::chrono::milliseconds timeout) {
  require_link(impl_->link).send(as_bytes(text), false, Clock::now() + timeout);
}
void TestCaller::send_binary(std::span<const uint8_t> bytes, std::chrono::milliseconds timeout) {
  require_link(impl_->link).send(bytes, true, Clock::now() + timeout);
}
void TestCaller::send_raw(std::span<const uint8_t> bytes, std::chrono::milliseconds timeout) {
  require_link(impl_->link).send_raw(bytes, Clock::now() + timeout);
}

std::vector<uint8_t> TestCaller::masked_frame(uint8_t opcode, std::span<const uint8_t> payload) {
  std::vector<uint8_t> frame;
  frame.push_back(static_cast<uint8_t>(0x80 | (opcode & 0x0F)));
  const uint64_t size = payload.size();
  if (size < 126) {
    frame.push_back(static_cast<uint8_t>(0x80 | size));
  } else if (size <= 0xFFFF) {
    frame.push_back(0x80 | 126);
    frame.push_back(static_cast<uint8_t>(size >> 8));
    frame.push_back(static_cast<uint8_t>(size));
  } else {
    frame.push_back(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8) frame.push_back(static_cast<uint8_t>(size >> shift));
  }
  const uint64_t key_bits = random_engine()();
  const std::array<uint8_t, 4> key{static_cast<uint8_t>(key_bits), static_cast<uint8_t>(key_bits >> 8),
                                   static_cast<uint8_t>(key_bits >> 16), static_cast<uint8_t>(key_bits >> 24)};
  frame.insert(frame.end(), key.begin(), key.end());
  for (size_t i = 0; i < payload.size(); ++i) frame.push_back(payload[i] ^ key[i % 4]);
  return frame;
}

std::optional<TestCaller::Frame> TestCaller::read(std::chrono::milliseconds timeout) {
  if (!impl_->link) return std::nullopt;
  return impl_->link->read(Clock::now() + timeout);
}

std::optional<std::string> TestCaller::read_text(std::chrono::milliseconds timeout) {
  auto frame = read(timeout);
  if (!frame) return std::nullopt;
  if (frame->binary) {
    throw Error(Status::protocol, "TestCaller: the server sent a binary frame of " + std::to_string(frame->data.size()) +
                                      " bytes (Twilio accepts only JSON text frames)");
  }
  return std::move(frame->data);
}

bool TestCaller::is_open() const noexcept { return impl_->link && impl_->link->open; }
int TestCaller::close_code() const noexcept { return impl_->link ? impl_->link->close_code : 0; }
const std::string &TestCaller::close_reason() const noexcept {
  return impl_->link ? impl_->link->close_reason : Impl::kEmpty;
}

void TestCaller::close(uint16_t code, std::string_view reason, std::chrono::milliseconds timeout) {
  if (impl_->link) impl_->link->close(code, reason, Clock::now() + timeout);
}

void TestCaller::abort(bool reset) {
  if (impl_->link) impl_->link->abort(reset);
}

void TestCaller::abort_mid_frame(std::string_view text, size_t bytes, bool reset) {
  const auto frame = masked_frame(1, as_bytes(text));
  send_raw(std::span<const uint8_t>(frame.data(), std::min(bytes, frame.size())));
  abort(reset);
}

// ---------------------------------------------------------------------------------------------
// Caller audio

namespace {

std::vector<uint8_t> read_file(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(Status::io, "cannot open '" + path + "'");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) throw Error(Status::io, "cannot read '" + path + "'");
  return bytes;
}

std::vector<int16_t> to_mono(const std::vector<int16_t> &samples, uint16_t channels) {
  if (channels == 1) return samples;
  std::vector<int16_t> mono(samples.size() / channels);
  for (size_t i = 0; i < mono.size(); ++i) {
    int sum = 0;
    for (uint16_t c = 0; c < channels; ++c) sum += samples[i * channels + c];
    mono[i] = static_cast<int16_t>(sum / channels);
  }
  return mono;
}

std::vector<int16_t> resample_to_8k(const std::vector<int16_t> &samples, int rate) {
  if (rate == 8000) return samples;
  audio::Resampler resampler(rate, 8000);
  std::vector<int16_t> out(resampler.max_output(samples.size()));
  size_t written = resampler.process(samples, out);
  std::array<int16_t, 1024> tail;
  for (size_t n; (n = resampler.flush(tail)) > 0;) {
    if (written + n > out.size()) out.resize(written + n);
    std::copy_n(tail.begin(), n, out.begin() + static_cast<std::ptrdiff_t>(written));
    written += n;
  }
  out.resize(written);
  return out;
}

std::vector<uint8_t> encode_ulaw(const std::vector<int16_t> &pcm) {
  std::vector<uint8_t> out(pcm.size());
  audio::ulaw_encode(pcm, out);
  return out;
}

}  // namespace

std::vector<uint8_t> load_caller_audio(const std::string &wav_path) {
  const auto file = read_file(wav_path);
  const audio::WavView view = audio::parse_wav(file);
  if (view.data.empty()) throw Error(Status::format, "'" + wav_path + "' holds no audio");
  const auto &format = view.format;
  if (format.encoding == audio::WavEncoding::ulaw && format.sample_rate == 8000 && format.channels == 1) {
    return {view.data.begin(), view.data.end()};
  }
  const auto mono = to_mono(audio::decode_wav_samples(view), format.channels);
  return encode_ulaw(resample_to_8k(mono, static_cast<int>(format.sample_rate)));
}

std::vector<uint8_t> synthetic_speech_ulaw(std::chrono::milliseconds length) {
  constexpr double kRate = 8000, kPi = std::numbers::pi;
  constexpr double kSyllable = 0.25, kPhrase = 2.4, kSpoken = 2.0;  // 8 syllables, then 0.4 s pause
  const auto count = static_cast<size_t>(std::max<int64_t>(length.count(), 0) * 8);
  std::vector<double> signal(count);
  double phase = 0, peak = 0;
  for (size_t i = 0; i < count; ++i) {
    const double t = static_cast<double>(i) / kRate;
    const double in_phrase = std::fmod(t, kPhrase);
    const double f0 = 120 + 25 * std::sin(2 * kPi * 0.5 * t) + 8 * std::sin(2 * kPi * 3.1 * t);
    phase += f0 / kRate;
    if (in_phrase >= kSpoken) continue;
    const double position = std::fmod(in_phrase, kSyllable) / kSyllable;
    const double envelope = std::pow(std::sin(kPi * position), 2);
    // Each syllable gets its own vowel: formants from a cheap hash of its index.
    const auto syllable = static_cast<uint64_t>(t / kSyllable);
    const double a = std::fmod(static_cast<double>(syllable * 2654435761u % 1000) / 1000.0, 1.0);
    const double b = std::fmod(static_cast<double>(syllable * 40503u % 997) / 997.0, 1.0);
    const std::array<double, 3> formants{300 + 500 * a, 900 + 1400 * b, 2500};
    const std::array<double, 3> widths{90, 120, 200};
    double sample = 0;
    for (int h = 1; h * f0 < 3600; ++h) {
      const double f = h * f0;
      double gain = 0;
      for (size_t k = 0; k < formants.size(); ++k) gain += 1 / (1 + std::pow((f - formants[k]) / widths[k], 2));
      sample += gain / std::sqrt(h) * std::sin(2 * kPi * h * phase);
    }
    signal[i] = envelope * sample;
    peak = std::max(peak, std::abs(signal[i]));
  }
  std::vector<int16_t> pcm(count);
  const double scale = peak > 0 ? 0.3 * 32767 / peak : 0;  // about -10 dBFS peaks
  for (size_t i = 0; i < count; ++i) pcm[i] = static_cast<int16_t>(std::lround(signal[i] * scale));
  return encode_ulaw(pcm);
}

std::vector<uint8_t> script_audio(const CallerScript &script, uint64_t frames) {
  std::vector<uint8_t> out(static_cast<size_t>(frames * kFrameBytes), audio::ulaw_silence);
  if (!script.ulaw || script.ulaw->empty()) return out;
  const auto &audio = *script.ulaw;
  for (size_t i = 0; i < out.size(); ++i) out[i] = audio[(script.audio_offset + i) % audio.size()];
  return out;
}

EchoAlignment estimate_echo_lag(std::span<const uint8_t> sent, std::span<const uint8_t> received, int max_lag,
                                size_t window) {
  auto decode = [](std::span<const uint8_t> codes, size_t limit) {
    std::vector<float> out(std::min(codes.size(), limit));
    for (size_t i = 0; i < out.size(); ++i) out[i] = audio::ulaw_decode(codes[i]);
    return out;
  };
  const auto s = decode(sent, window);
  const auto r = decode(received, window + static_cast<size_t>(std::max(max_lag, 0)));
  EchoAlignment best;
  best.correlation = -2;
  for (int lag = -max_lag; lag <= max_lag; ++lag) {
    double cross = 0, energy_s = 0, energy_r = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      const int64_t j = static_cast<int64_t>(i) + lag;
      if (j < 0 || j >= static_cast<int64_t>(r.size())) continue;
      const double a = s[i], b = r[static_cast<size_t>(j)];
      cross += a * b;
      energy_s += a * a;
      energy_r += b * b;
    }
    const double correlation = energy_s > 0 && energy_r > 0 ? cross / std::sqrt(energy_s * energy_r) : 0;
    if (correlation > best.correlation) best = {lag, correlation};
  }
  return best;
}

}  // namespace parley::twilio
