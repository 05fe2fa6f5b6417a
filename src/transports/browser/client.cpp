#include "transports/browser/client.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "net/websocket_client.hpp"
#include "transports/browser/protocol.hpp"

namespace parley::browser {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr auto kFrameInterval = std::chrono::milliseconds(20);
// A tick that comes late sends the frames it missed, as a page's audio worklet does after a
// hiccup; further behind than this, the clock restarts instead of bursting.
constexpr int kMaxCatchUpFrames = 5;
constexpr size_t kMaxProtocolErrors = 32;

// The page's speaker: one FIFO of agent audio with marks placed in it by sample position.
// Every 20 ms a tick first echoes the marks whose audio finished playing during the previous
// tick, then plays up to 20 ms. A mark arriving when nothing is queued or playing is due at
// once. `clear` drops the audio and makes every pending mark due, in order.
class Player {
 public:
  explicit Player(size_t frame_samples) : frame_samples_(frame_samples) {}

  void push_audio(std::span<const int16_t> samples) {
    audio_.insert(audio_.end(), samples.begin(), samples.end());
    queued_total_ += samples.size();
  }

  /// True when the mark is due now; otherwise it waits for its audio.
  bool push_mark(std::string name) {
    if (marks_.empty() && queued_total_ == played_total_ && !frame_playing_) return true;
    marks_.push_back({queued_total_, std::move(name)});
    return false;
  }

  /// Plays one tick: `echo(name)` for each mark now reached, then the next (up to) 20 ms,
  /// returned as a span valid until the next call.
  template <class Echo>
  std::span<const int16_t> tick(Echo &&echo) {
    while (!marks_.empty() && marks_.front().first <= played_total_) {
      echo(marks_.front().second);
      marks_.pop_front();
    }
    const size_t n = std::min(frame_samples_, audio_.size());
    heard_.assign(audio_.begin(), audio_.begin() + static_cast<std::ptrdiff_t>(n));
    audio_.erase(audio_.begin(), audio_.begin() + static_cast<std::ptrdiff_t>(n));
    played_total_ += n;
    frame_playing_ = n > 0;
    return heard_;
  }

  template <class Echo>
  void clear(Echo &&echo) {
    audio_.clear();
    queued_total_ = played_total_;
    frame_playing_ = false;
    for (auto &mark : marks_) echo(mark.second);
    marks_.clear();
  }

  bool playing() const noexcept { return frame_playing_ || !audio_.empty(); }

 private:
  size_t frame_samples_;
  std::deque<int16_t> audio_;
  std::deque<std::pair<uint64_t, std::string>> marks_;  // position in samples, name
  uint64_t queued_total_ = 0;
  uint64_t played_total_ = 0;
  bool frame_playing_ = false;
  std::vector<int16_t> heard_;
};

}  // namespace

struct BrowserCaller::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context &io_context, BrowserCallerOptions opts, BrowserCallerCallbacks cbs)
      : io(io_context),
        strand(asio::make_strand(io_context)),
        timer(strand),
        options(std::move(opts)),
        callbacks(std::move(cbs)),
        frame_samples(static_cast<size_t>(options.sample_rate / 50)),
        player(frame_samples) {}

  ~Impl() {
    if (client) client->abort();
  }

  void connect();
  // WebSocket events, on the strand.
  void on_text(std::string_view text);
  void on_binary(std::string_view bytes);
  void on_closed(int code, std::string_view reason, int status);
  void on_started(const nlohmann::json &message);
  void on_mark(const nlohmann::json &message);
  void on_clear();
  void on_event(const nlohmann::json &message);
  // The 20 ms clock.
  void schedule();
  void on_tick();
  void send_frame();
  void play_frame();

  void echo_mark(const std::string &name);
  void send_text(std::string text) {
    if (client) client->send_text(std::move(text));
  }
  void violation(std::string what) {
    std::lock_guard lock(stats_mutex);
    if (stats.protocol_errors.size() < kMaxProtocolErrors) stats.protocol_errors.push_back(std::move(what));
  }
  template <class Fn>
  void count(Fn &&fn) {
    std::lock_guard lock(stats_mutex);
    fn(stats);
  }

  asio::io_context &io;
  asio::any_io_executor strand;
  asio::steady_timer timer;
  const BrowserCallerOptions options;
  const BrowserCallerCallbacks callbacks;
  const size_t frame_samples;
  std::shared_ptr<net::WebSocketClient> client;

  // Readable from any thread.
  std::atomic<int64_t> speech_samples{0};
  std::atomic<bool> playing{false};
  std::atomic<bool> closed{false};
  std::atomic<int> http_status{0};
  mutable std::mutex stats_mutex;
  Stats stats;

  // Strand only.
  bool started = false;
  bool ending = false;  // stop sent or disconnecting: no more frames
  std::deque<int16_t> speech;
  Clock::time_point next_tick;
  Player player;
  std::vector<int16_t> frame;
  std::vector<int16_t> received;
  std::string binary;
};

namespace {

// Forwards the client's callbacks to the caller while it exists; holds it weakly, so a
// connection never keeps a dropped caller alive.
class Link final : public net::WebSocketClient::Handler {
 public:
  explicit Link(std::weak_ptr<BrowserCaller::Impl> impl) : impl_(std::move(impl)) {}
  void on_open() override {}
  void on_text(std::string_view message) override {
    if (auto impl = impl_.lock()) impl->on_text(message);
  }
  void on_binary(std::string_view message) override {
    if (auto impl = impl_.lock()) impl->on_binary(message);
  }
  void on_closed(int code, std::string_view reason, int http_status) override {
    if (auto impl = impl_.lock()) impl->on_closed(code, reason, http_status);
  }

 private:
  std::weak_ptr<BrowserCaller::Impl> impl_;
};

}  // namespace

void BrowserCaller::Impl::connect() {
  net::WebSocketClientOptions ws;
  ws.url = options.url;
  ws.headers = options.headers;
  ws.connect_timeout = options.connect_timeout;
  ws.verify_tls = options.verify_tls;
  ws.ca_file = options.ca_file;
  client = net::WebSocketClient::connect(io, std::move(ws), std::make_shared<Link>(weak_from_this()), strand);
  // Held by the client until the upgrade succeeds: start is the first message.
  std::string start;
  write_start(start, options.sample_rate, options.call_id, options.parameters);
  client->send_text(std::move(start));
}

// ---- what the server sends -------------------------------------------------------------

void BrowserCaller::Impl::on_text(std::string_view text) {
  nlohmann::json message = nlohmann::json::parse(text, nullptr, false);
  if (!message.is_object() || !message.contains("type") || !message["type"].is_string()) {
    return violation("not a JSON object with a string 'type': " + std::string(utf8_prefix(text, 80)));
  }
  const auto type = message["type"].get<std::string>();
  if (type == "error") {
    const auto it = message.find("message");
    if (it == message.end() || !it->is_string()) return violation("error without a string 'message'");
    if (callbacks.on_error) callbacks.on_error(it->get<std::string>());
    return;
  }
  if (type == "started") return on_started(message);
  if (!started) return violation(type + " before started");
  if (type == "mark") return on_mark(message);
  if (type == "clear") return on_clear();
  if (type == "event") return on_event(message);
  violation("unknown type '" + type + "'");
}

void BrowserCaller::Impl::on_started(const nlohmann::json &message) {
  if (started) return violation("a second started");
  const auto id = message.find("session_id");
  const auto rate = message.find("sample_rate");
  if (id == message.end() || !id->is_string() || id->get<std::string>().empty()) return violation("started without a session_id");
  if (rate == message.end() || !rate->is_number_integer() || rate->get<int64_t>() != options.sample_rate) {
    return violation("started with sample_rate " + (rate == message.end() ? std::string("missing") : rate->dump()) +
                     ", not the " + std::to_string(options.sample_rate) + " asked for");
  }
  started = true;
  next_tick = Clock::now();
  on_tick();  // the microphone starts now
  if (callbacks.on_started) callbacks.on_started(id->get<std::string>());
}

void BrowserCaller::Impl::on_mark(const nlohmann::json &message) {
  const auto name = message.find("name");
  if (name == message.end() || !name->is_string() || name->get<std::string>().empty()) return violation("mark without a name");
  count([](Stats &s) { ++s.marks_received; });
  if (player.push_mark(name->get<std::string>())) echo_mark(name->get<std::string>());
}

void BrowserCaller::Impl::on_clear() {
  count([](Stats &s) { ++s.clears; });
  player.clear([this](const std::string &name) { echo_mark(name); });
  playing = false;
  if (callbacks.on_cleared) callbacks.on_cleared();
}

void BrowserCaller::Impl::on_event(const nlohmann::json &message) {
  const auto name = message.find("event");
  const auto data = message.find("data");
  if (name == message.end() || !name->is_string()) return violation("event without a string 'event'");
  if (data == message.end() || !data->is_object()) return violation("event without an object 'data'");
  if (callbacks.on_event) callbacks.on_event(name->get<std::string>(), *data);
}

void BrowserCaller::Impl::on_binary(std::string_view bytes) {
  if (!started) return violation("audio before started");
  if (bytes.size() % 2 != 0) return violation("audio frame of " + std::to_string(bytes.size()) + " bytes (odd)");
  read_pcm16le(bytes, received);
  player.push_audio(received);
  playing = true;
}

void BrowserCaller::Impl::on_closed(int code, std::string_view reason, int status) {
  closed = true;
  ending = true;
  playing = false;
  http_status = status;
  timer.cancel();
  if (!callbacks.on_closed) return;
  if (status != 0) return callbacks.on_closed(code, "upgrade refused with HTTP " + std::to_string(status) + ": " + std::string(reason));
  callbacks.on_closed(code, std::string(reason));
}

void BrowserCaller::Impl::echo_mark(const std::string &name) {
  std::string json;
  write_mark_played(json, name);
  send_text(std::move(json));
  count([](Stats &s) { ++s.marks_echoed; });
}

// ---- the 20 ms clock -------------------------------------------------------------------

void BrowserCaller::Impl::schedule() {
  timer.expires_at(next_tick);
  timer.async_wait([weak = weak_from_this()](const boost::system::error_code &ec) {
    auto self = weak.lock();
    if (self && !ec) self->on_tick();
  });
}

void BrowserCaller::Impl::on_tick() {
  if (ending) return;
  const auto now = Clock::now();
  for (int frames = 0; next_tick <= now && frames < kMaxCatchUpFrames; ++frames) {
    send_frame();
    play_frame();
    next_tick += kFrameInterval;
  }
  if (next_tick <= now) next_tick = now + kFrameInterval;
  schedule();
}

void BrowserCaller::Impl::send_frame() {
  const size_t n = std::min(frame_samples, speech.size());
  frame.assign(speech.begin(), speech.begin() + static_cast<std::ptrdiff_t>(n));
  frame.resize(frame_samples, 0);  // the rest of the frame is silence
  speech.erase(speech.begin(), speech.begin() + static_cast<std::ptrdiff_t>(n));
  speech_samples -= static_cast<int64_t>(n);
  binary.clear();
  append_pcm16le(binary, frame);
  if (client) client->send_binary(binary);
  count([](Stats &s) { ++s.frames_sent; });
}

void BrowserCaller::Impl::play_frame() {
  const auto heard = player.tick([this](const std::string &name) { echo_mark(name); });
  playing = player.playing();
  if (heard.empty()) return;
  count([&](Stats &s) { s.samples_heard += heard.size(); });
  if (callbacks.on_heard) callbacks.on_heard(heard);
}

// ---- the handle ------------------------------------------------------------------------

std::shared_ptr<BrowserCaller> BrowserCaller::connect(asio::io_context &io, BrowserCallerOptions options,
                                                      BrowserCallerCallbacks callbacks) {
  if (!is_client_rate(options.sample_rate)) {
    throw Error(Status::invalid_argument, "browser caller: sample_rate " + std::to_string(options.sample_rate) +
                                              " is not one of 8000, 16000, 24000, 48000");
  }
  auto impl = std::make_shared<Impl>(io, std::move(options), std::move(callbacks));
  impl->connect();
  return std::shared_ptr<BrowserCaller>(new BrowserCaller(std::move(impl)));
}

BrowserCaller::BrowserCaller(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

BrowserCaller::~BrowserCaller() {
  // The strand's handlers hold the impl only weakly: dropping it here stops the clock and
  // the callbacks (unless one is running right now, which finishes first).
  if (impl_->client) impl_->client->abort();
}

void BrowserCaller::say(std::vector<int16_t> samples) {
  impl_->speech_samples += static_cast<int64_t>(samples.size());  // speaking() is true at once
  asio::post(impl_->strand, [weak = std::weak_ptr<Impl>(impl_), samples = std::move(samples)] {
    if (auto impl = weak.lock()) impl->speech.insert(impl->speech.end(), samples.begin(), samples.end());
  });
}

void BrowserCaller::dtmf(char digit) {
  if (!is_dtmf_digit(std::string_view(&digit, 1))) {
    throw Error(Status::invalid_argument, std::string("browser caller: dtmf digit '") + digit + "' is not 0-9, * or #");
  }
  asio::post(impl_->strand, [weak = std::weak_ptr<Impl>(impl_), digit] {
    auto impl = weak.lock();
    if (!impl || impl->ending) return;
    std::string json;
    write_dtmf(json, digit);
    impl->send_text(std::move(json));
  });
}

void BrowserCaller::hang_up() {
  asio::post(impl_->strand, [weak = std::weak_ptr<Impl>(impl_)] {
    auto impl = weak.lock();
    if (!impl || impl->ending) return;
    impl->ending = true;
    impl->timer.cancel();
    std::string json;
    write_stop(json);
    impl->send_text(std::move(json));
  });
}

void BrowserCaller::disconnect() {
  asio::post(impl_->strand, [weak = std::weak_ptr<Impl>(impl_)] {
    auto impl = weak.lock();
    if (!impl || impl->closed) return;
    impl->ending = true;
    impl->timer.cancel();
    if (impl->client) impl->client->close(1000, "page closed");
  });
}

bool BrowserCaller::speaking() const noexcept { return impl_->speech_samples.load() > 0; }
bool BrowserCaller::agent_audio_playing() const noexcept { return impl_->playing.load(); }
bool BrowserCaller::closed() const noexcept { return impl_->closed.load(); }
int BrowserCaller::http_status() const noexcept { return impl_->http_status.load(); }

BrowserCaller::Stats BrowserCaller::stats() const {
  std::lock_guard lock(impl_->stats_mutex);
  return impl_->stats;
}

}  // namespace parley::browser
