#include "core/session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>

#include "audio/call_recorder.hpp"
#include "audio/resampler.hpp"
#include "common/error.hpp"
#include "core/runtime.hpp"
#include "core/session_manager.hpp"

namespace parley::core {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxMarkName = 256;
constexpr size_t kRememberedMarks = 1024;
constexpr int kEchoMarkEverySeconds = 1;

std::string new_session_id() {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 random{std::random_device{}()};
  char text[40];
  std::snprintf(text, sizeof text, "S%08llx%06llx", static_cast<unsigned long long>(random() & 0xffffffff),
                static_cast<unsigned long long>(counter.fetch_add(1) & 0xffffff));
  return text;
}

// Outcomes of marks, readable by host threads blocked in wait_mark(). Written on the
// strand when a mark resolves; holds the newest kRememberedMarks outcomes.
class MarkBoard {
 public:
  void set(const std::string &name, MarkOutcome outcome) {
    {
      std::lock_guard lock(mutex_);
      if (outcomes_.insert_or_assign(name, outcome).second) order_.push_back(name);
      while (order_.size() > kRememberedMarks) {
        outcomes_.erase(order_.front());
        order_.pop_front();
      }
    }
    changed_.notify_all();
  }

  MarkOutcome wait(const std::string &name, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    auto resolved = [&] {
      auto it = outcomes_.find(name);
      return it != outcomes_.end() && it->second != MarkOutcome::pending;
    };
    if (outcomes_.find(name) == outcomes_.end()) return MarkOutcome::unknown;
    if (!changed_.wait_for(lock, timeout, resolved)) return MarkOutcome::timeout;
    return outcomes_.at(name);
  }

  /// Every pending mark becomes `outcome` (the call ended).
  void resolve_all_pending(MarkOutcome outcome) {
    {
      std::lock_guard lock(mutex_);
      for (auto &[name, value] : outcomes_) {
        if (value == MarkOutcome::pending) value = outcome;
      }
    }
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, MarkOutcome> outcomes_;
  std::deque<std::string> order_;
};

// One entry of the outbound queue: audio, or a mark that follows the audio before it.
struct Outbound {
  std::vector<int16_t> audio;
  size_t offset = 0;
  std::string mark;  // non-empty: a mark item
};

}  // namespace

const char *session_state_name(SessionState state) noexcept {
  switch (state) {
    case SessionState::connecting: return "connecting";
    case SessionState::active: return "active";
    case SessionState::closing: return "closing";
    case SessionState::closed: return "closed";
  }
  return "unknown";
}

const char *mark_outcome_name(MarkOutcome outcome) noexcept {
  switch (outcome) {
    case MarkOutcome::pending: return "pending";
    case MarkOutcome::played: return "played";
    case MarkOutcome::cleared: return "cleared";
    case MarkOutcome::timeout: return "timeout";
    case MarkOutcome::unknown: return "unknown";
  }
  return "unknown";
}

struct Session::Impl {
  Impl(Runtime &rt, boost::asio::any_io_executor executor, SessionOptions opts, std::string listener)
      : runtime(rt),
        strand(std::move(executor)),
        options(std::move(opts)),
        id(new_session_id()),
        listener_id(std::move(listener)),
        pace_timer(strand),
        frame_samples(static_cast<size_t>(options.sample_rate / 50)),
        audio_in_flight(std::make_shared<std::atomic<int>>(0)) {}

  Runtime &runtime;
  boost::asio::any_io_executor strand;
  SessionOptions options;
  std::string id;
  std::string listener_id;
  std::atomic<SessionState> state{SessionState::connecting};
  // Weak: the transport owns the session, never the other way round, so a runtime torn
  // down with calls still live leaves no cycle behind.
  std::weak_ptr<MediaPort> port;
  CallInfo info;
  bool started = false;
  std::chrono::steady_clock::time_point started_at{};
  std::shared_ptr<SessionObserver> observer;  // strand-owned
  std::atomic<bool> has_observer{false};

  // Outbound audio and the pacer.
  std::deque<Outbound> outbound;
  std::atomic<int64_t> outbound_samples{0};  // reserved by play(), released as sent
  std::vector<std::vector<int16_t>> spare_buffers;  // reused, so the echo path stops allocating
  boost::asio::steady_timer pace_timer;
  bool pace_timer_armed = false;
  Clock::time_point playout_end{};  // when the far end will have played all it was sent
  const size_t frame_samples;

  // Marks sent to the transport and not yet echoed, oldest first; names sent before the
  // last clear() come back "cleared".
  std::deque<std::string> marks_in_flight;
  std::map<std::string, int> marks_cleared_pending;
  MarkBoard marks;

  std::map<int, audio::Resampler> play_resamplers;  // by input rate
  std::unique_ptr<audio::CallRecorder> recorder;
  std::shared_ptr<std::atomic<int>> audio_in_flight;
  size_t echo_samples_since_mark = 0;
  uint64_t echo_marks = 0;
  // Written on the strand, read by host threads: relaxed atomics, no lock on the frame path.
  struct {
    std::atomic<uint64_t> caller_frames{0}, agent_frames{0}, audio_events_dropped{0}, dtmf{0}, marks_sent{0},
        marks_played{0}, marks_cleared{0}, clears{0};
  } counters;

  Logger &log() { return runtime.logger(); }
  std::chrono::nanoseconds duration_of(size_t samples) const {
    return std::chrono::nanoseconds(static_cast<int64_t>(samples) * 1'000'000'000 / options.sample_rate);
  }
};

std::shared_ptr<Session> Session::create(Runtime &runtime, boost::asio::any_io_executor strand,
                                         SessionOptions options, std::string listener_id) {
  if (!audio::Resampler::is_supported_rate(options.sample_rate)) {
    throw Error(Status::unsupported, "session: unsupported sample rate " + std::to_string(options.sample_rate));
  }
  return std::shared_ptr<Session>(new Session(runtime, std::move(strand), std::move(options), std::move(listener_id)));
}

Session::Session(Runtime &runtime, boost::asio::any_io_executor strand, SessionOptions options, std::string listener_id)
    : impl_(std::make_unique<Impl>(runtime, std::move(strand), std::move(options), std::move(listener_id))) {}

Session::~Session() = default;

const std::string &Session::id() const noexcept { return impl_->id; }
const SessionOptions &Session::options() const noexcept { return impl_->options; }
const boost::asio::any_io_executor &Session::strand() const noexcept { return impl_->strand; }
SessionState Session::state() const noexcept { return impl_->state.load(); }

SessionCounters Session::counters() const {
  const auto &c = impl_->counters;
  constexpr auto relaxed = std::memory_order_relaxed;
  return {c.caller_frames.load(relaxed), c.agent_frames.load(relaxed), c.audio_events_dropped.load(relaxed),
          c.dtmf.load(relaxed), c.marks_sent.load(relaxed), c.marks_played.load(relaxed),
          c.marks_cleared.load(relaxed), c.clears.load(relaxed)};
}

namespace {

void bump(std::atomic<uint64_t> &counter) { counter.fetch_add(1, std::memory_order_relaxed); }

void post_event(Session::Impl &impl, EventType type, nlohmann::json payload) {
  impl.runtime.post(make_event(type, impl.id, payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
}

// Audio events are bounded per session: a host that stops releasing them costs at most
// max_audio_events_in_flight frames of memory, and the rest are counted as dropped.
void post_audio_event(Session::Impl &impl, EventType type, std::span<const int16_t> samples, int rate) {
  if (impl.audio_in_flight->load(std::memory_order_relaxed) >= impl.options.max_audio_events_in_flight) {
    bump(impl.counters.audio_events_dropped);
    return;
  }
  auto event = make_event(type, impl.id, "{\"sample_rate\":" + std::to_string(rate) + "}");
  event->audio.assign(samples.begin(), samples.end());
  event->sample_rate = rate;
  impl.audio_in_flight->fetch_add(1, std::memory_order_relaxed);
  event->in_flight = impl.audio_in_flight;
  if (!impl.runtime.post(std::move(event))) bump(impl.counters.audio_events_dropped);
}

std::vector<int16_t> take_buffer(Session::Impl &impl) {
  if (impl.spare_buffers.empty()) return {};
  auto buffer = std::move(impl.spare_buffers.back());
  impl.spare_buffers.pop_back();
  buffer.clear();
  return buffer;
}

void recycle(Session::Impl &impl, std::vector<int16_t> &&buffer) {
  constexpr size_t kMaxSpares = 8;
  if (impl.spare_buffers.size() < kMaxSpares && buffer.capacity() <= 4096) impl.spare_buffers.push_back(std::move(buffer));
}

void resolve_mark(Session::Impl &impl, const std::string &name, MarkOutcome outcome) {
  impl.marks.set(name, outcome);
  bump(outcome == MarkOutcome::played ? impl.counters.marks_played : impl.counters.marks_cleared);
  post_event(impl, EventType::mark, {{"name", name}, {"outcome", mark_outcome_name(outcome)}});
  if (impl.observer) impl.observer->on_mark(name, outcome);
}

void release_outbound_audio(Session::Impl &impl, size_t samples) {
  impl.outbound_samples.fetch_sub(static_cast<int64_t>(samples), std::memory_order_relaxed);
}

}  // namespace

// Releases queued items to the transport while the far end's buffer is under the lead.
static void pump(const std::shared_ptr<Session> &self, Session::Impl &impl) {
  const auto port = impl.port.lock();
  if (!port || impl.state.load() != SessionState::active) return;
  const auto now = Clock::now();
  while (!impl.outbound.empty()) {
    auto &item = impl.outbound.front();
    if (!item.mark.empty()) {
      port->send_mark(item.mark);
      impl.marks_in_flight.push_back(std::move(item.mark));
      bump(impl.counters.marks_sent);
      impl.outbound.pop_front();
      continue;
    }
    const auto buffered = impl.playout_end > now ? impl.playout_end - now : Clock::duration::zero();
    if (buffered >= impl.options.playout_lead) {
      if (!impl.pace_timer_armed) {
        impl.pace_timer_armed = true;
        impl.pace_timer.expires_at(impl.playout_end - impl.options.playout_lead + impl.duration_of(impl.frame_samples));
        impl.pace_timer.async_wait([weak = std::weak_ptr<Session>(self), &impl](const boost::system::error_code &ec) {
          auto session = weak.lock();
          if (!session) return;
          impl.pace_timer_armed = false;
          if (!ec) pump(session, impl);
        });
      }
      return;
    }
    const size_t n = std::min(impl.frame_samples, item.audio.size() - item.offset);
    const std::span<const int16_t> frame(item.audio.data() + item.offset, n);
    port->send_audio(frame);
    if (impl.recorder) impl.recorder->write_now(audio::CallChannel::agent, frame);
    bump(impl.counters.agent_frames);
    add(impl.runtime.metrics().agent_frames);
    impl.playout_end = std::max(impl.playout_end, now) + impl.duration_of(n);
    item.offset += n;
    release_outbound_audio(impl, n);
    if (item.offset == item.audio.size()) {
      recycle(impl, std::move(item.audio));
      impl.outbound.pop_front();
    }
  }
}

void Session::attach(std::shared_ptr<MediaPort> port) { impl_->port = std::move(port); }

void Session::set_observer(std::shared_ptr<SessionObserver> observer) {
  impl_->has_observer = observer != nullptr;
  impl_->observer = std::move(observer);
}

std::chrono::steady_clock::time_point Session::started_at() const noexcept { return impl_->started_at; }

bool Session::send_dtmf(std::string_view digits) {
  auto port = impl_->port.lock();
  return port && impl_->state.load() == SessionState::active && port->send_dtmf(digits);
}

bool Session::transfer_supported() const {
  auto port = impl_->port.lock();
  return port && port->can_transfer();
}

bool Session::transfer(std::string_view target) {
  auto port = impl_->port.lock();
  return port && impl_->state.load() == SessionState::active && port->transfer(target);
}

void Session::emit_event(EventType type, std::string payload_json) {
  if (auto port = impl_->port.lock()) port->forward_event(type, payload_json);
  impl_->runtime.post(make_event(type, impl_->id, std::move(payload_json)));
}

void Session::deliver_tool_result(std::string tool_call_id, std::string result_json) {
  auto &impl = *impl_;
  const auto state = impl.state.load();
  if (state == SessionState::closing || state == SessionState::closed) {
    throw Error(Status::state, "tool result: session " + impl.id + " is " + session_state_name(state));
  }
  if (!impl.has_observer.load()) throw Error(Status::state, "tool result: session " + impl.id + " runs no agent");
  boost::asio::post(impl.strand, [self = shared_from_this(), &impl, id = std::move(tool_call_id),
                                  result = std::move(result_json)] {
    if (impl.observer) impl.observer->on_tool_result(id, result);
  });
}

void Session::on_started(CallInfo info) {
  auto &impl = *impl_;
  if (impl.started) return;
  impl.started = true;
  impl.started_at = Clock::now();
  add(impl.runtime.metrics().calls_started);
  impl.info = std::move(info);
  impl.state = SessionState::active;
  nlohmann::json parameters = nlohmann::json::object();
  for (const auto &[name, value] : impl.info.custom_parameters) parameters[name] = value;
  post_event(impl, EventType::session_started,
             {{"session_id", impl.id}, {"transport", impl.info.transport}, {"call_id", impl.info.call_id},
              {"stream_id", impl.info.stream_id}, {"account_id", impl.info.account_id},
              {"custom_parameters", parameters}, {"sample_rate", impl.options.sample_rate},
              {"behaviour", impl.options.behaviour}});
  impl.log().log(LogLevel::info, impl.info.call_id, "session " + impl.id + " started on " + impl.info.transport);
  if (!impl.options.recording_path.empty()) {
    try {
      start_recording(impl.options.recording_path);
    } catch (const std::exception &e) {
      post_event(impl, EventType::session_error, {{"code", "recording"}, {"message", e.what()}});
    }
  }
  if (impl.observer) impl.observer->on_started(impl.info);
  pump(shared_from_this(), impl);  // audio queued before the call started
}

void Session::on_caller_audio(std::span<const int16_t> samples) {
  auto &impl = *impl_;
  if (impl.state.load() != SessionState::active) return;
  bump(impl.counters.caller_frames);
  add(impl.runtime.metrics().caller_frames);
  if (impl.recorder) impl.recorder->write_now(audio::CallChannel::caller, samples);
  if (impl.options.caller_audio == CallerAudioDelivery::events) {
    post_audio_event(EventType::caller_audio, samples, impl.options.sample_rate);
  }
  if (impl.observer) impl.observer->on_caller_audio(samples);
  if (impl.options.behaviour != "echo") return;
  if (static_cast<int64_t>(samples.size()) + impl.outbound_samples.load() >
      impl.options.max_outbound.count() * impl.options.sample_rate / 1000) {
    return;  // a far end that stopped playing: drop the echo rather than grow
  }
  auto buffer = take_buffer(impl);
  buffer.assign(samples.begin(), samples.end());
  impl.outbound_samples.fetch_add(static_cast<int64_t>(samples.size()));
  impl.outbound.push_back(Outbound{std::move(buffer), 0, {}});
  impl.echo_samples_since_mark += samples.size();
  if (impl.echo_samples_since_mark >= static_cast<size_t>(impl.options.sample_rate * kEchoMarkEverySeconds)) {
    impl.echo_samples_since_mark = 0;
    std::string name = "echo-" + std::to_string(++impl.echo_marks);
    impl.marks.set(name, MarkOutcome::pending);
    impl.outbound.push_back(Outbound{{}, 0, std::move(name)});
  }
  pump(shared_from_this(), impl);
}

void Session::post_audio_event(EventType type, std::span<const int16_t> samples, int sample_rate) {
  core::post_audio_event(*impl_, type, samples, sample_rate);
}

void Session::on_dtmf(std::string_view digit) {
  auto &impl = *impl_;
  bump(impl.counters.dtmf);
  post_event(impl, EventType::dtmf, {{"digit", std::string(digit)}});
  if (impl.observer) impl.observer->on_dtmf(digit);
}

void Session::on_mark_played(std::string_view name) {
  auto &impl = *impl_;
  const std::string mark(name);
  auto in_flight = std::find(impl.marks_in_flight.begin(), impl.marks_in_flight.end(), mark);
  if (in_flight == impl.marks_in_flight.end()) {
    impl.log().log(LogLevel::warn, impl.info.call_id, "session " + impl.id + ": echo of unknown mark '" + mark + "'");
    post_event(impl, EventType::mark, {{"name", mark}, {"outcome", "unknown"}});
    return;
  }
  impl.marks_in_flight.erase(in_flight);
  auto cleared = impl.marks_cleared_pending.find(mark);
  if (cleared != impl.marks_cleared_pending.end()) {
    if (--cleared->second == 0) impl.marks_cleared_pending.erase(cleared);
    resolve_mark(impl, mark, MarkOutcome::cleared);
  } else {
    resolve_mark(impl, mark, MarkOutcome::played);
  }
}

void Session::on_transport_warning(std::string_view message) {
  auto &impl = *impl_;
  impl.log().log(LogLevel::warn, impl.info.call_id, "session " + impl.id + ": " + std::string(message));
  post_event(impl, EventType::session_error, {{"code", "protocol"}, {"message", std::string(message)}, {"fatal", false}});
}

void Session::on_transport_closed(std::string_view reason) {
  auto &impl = *impl_;
  if (impl.state.exchange(SessionState::closed) == SessionState::closed) return;
  impl.pace_timer.cancel();
  for (const auto &item : impl.outbound) {
    if (!item.mark.empty()) impl.marks.set(item.mark, MarkOutcome::cleared);
  }
  impl.outbound.clear();
  impl.outbound_samples = 0;
  impl.marks.resolve_all_pending(MarkOutcome::cleared);
  impl.port.reset();
  if (auto observer = std::move(impl.observer)) {
    impl.has_observer = false;
    observer->on_closed(reason);
  }
  if (impl.recorder) {
    try {
      impl.recorder->close();
    } catch (const std::exception &e) {
      post_event(impl, EventType::session_error, {{"code", "recording"}, {"message", e.what()}});
    }
    impl.recorder.reset();
  }
  const auto c = counters();
  if (impl.started) add(impl.runtime.metrics().calls_ended);
  add(impl.runtime.metrics().audio_events_dropped, c.audio_events_dropped);
  post_event(impl, EventType::session_stopped,
             {{"reason", std::string(reason)}, {"call_id", impl.info.call_id},
              {"caller_frames", c.caller_frames}, {"agent_frames", c.agent_frames}, {"dtmf", c.dtmf},
              {"marks_sent", c.marks_sent}, {"marks_played", c.marks_played}, {"marks_cleared", c.marks_cleared},
              {"audio_events_dropped", c.audio_events_dropped}});
  impl.log().log(LogLevel::info, impl.info.call_id, "session " + impl.id + " stopped: " + std::string(reason));
  impl.runtime.sessions().remove(impl.id);
}

// ---- host side ------------------------------------------------------------------------

namespace {

void require_open(const Session::Impl &impl, const char *what) {
  const auto state = impl.state.load();
  if (state == SessionState::closing || state == SessionState::closed) {
    throw Error(Status::state, std::string(what) + ": session " + impl.id + " is " + session_state_name(state));
  }
}

}  // namespace

void Session::play(std::span<const int16_t> samples, int sample_rate) {
  auto &impl = *impl_;
  require_open(impl, "play");
  if (!audio::Resampler::is_supported_rate(sample_rate)) {
    throw Error(Status::unsupported, "play: unsupported sample rate " + std::to_string(sample_rate));
  }
  const auto expected = static_cast<int64_t>(samples.size()) * impl.options.sample_rate / sample_rate + 1;
  const int64_t limit = impl.options.max_outbound.count() * impl.options.sample_rate / 1000;
  if (impl.outbound_samples.fetch_add(expected) + expected > limit) {
    impl.outbound_samples.fetch_sub(expected);
    throw Error(Status::full, "play: outbound queue of session " + impl.id + " is full (" +
                                  std::to_string(impl.options.max_outbound.count()) + " ms)");
  }
  std::vector<int16_t> copy(samples.begin(), samples.end());
  boost::asio::post(impl.strand, [self = shared_from_this(), &impl, copy = std::move(copy), sample_rate, expected]() mutable {
    std::vector<int16_t> audio;
    if (sample_rate == impl.options.sample_rate) {
      audio = std::move(copy);
    } else {
      auto [it, inserted] = impl.play_resamplers.try_emplace(sample_rate, sample_rate, impl.options.sample_rate);
      audio.resize(it->second.max_output(copy.size()));
      audio.resize(it->second.process(copy, audio));
    }
    // The reservation was an estimate; settle it against what was really queued.
    impl.outbound_samples.fetch_add(static_cast<int64_t>(audio.size()) - expected);
    if (impl.state.load() == SessionState::closed) {
      impl.outbound_samples.fetch_sub(static_cast<int64_t>(audio.size()));
      return;
    }
    if (!audio.empty()) impl.outbound.push_back(Outbound{std::move(audio), 0, {}});
    pump(self, impl);
  });
}

void Session::send_mark(std::string name) {
  auto &impl = *impl_;
  require_open(impl, "send_mark");
  if (name.empty() || name.size() > kMaxMarkName) {
    throw Error(Status::invalid_argument, "send_mark: a mark name must be 1.." + std::to_string(kMaxMarkName) + " bytes");
  }
  impl.marks.set(name, MarkOutcome::pending);
  boost::asio::post(impl.strand, [self = shared_from_this(), &impl, name = std::move(name)]() mutable {
    if (impl.state.load() == SessionState::closed) return;
    impl.outbound.push_back(Outbound{{}, 0, std::move(name)});
    pump(self, impl);
  });
}

MarkOutcome Session::wait_mark(const std::string &name, std::chrono::milliseconds timeout) {
  return impl_->marks.wait(name, timeout);
}

void Session::clear() {
  auto &impl = *impl_;
  boost::asio::post(impl.strand, [self = shared_from_this(), &impl] {
    if (impl.state.load() != SessionState::active) return;
    bump(impl.counters.clears);
    size_t dropped = 0;
    for (auto &item : impl.outbound) {
      if (!item.mark.empty()) {
        resolve_mark(impl, item.mark, MarkOutcome::cleared);
      } else {
        dropped += item.audio.size() - item.offset;
      }
    }
    impl.outbound.clear();
    release_outbound_audio(impl, dropped);
    impl.pace_timer.cancel();
    impl.playout_end = Clock::now();
    // Marks already at the far end come back as echoes; they were flushed, not played.
    for (const auto &mark : impl.marks_in_flight) ++impl.marks_cleared_pending[mark];
    if (auto port = impl.port.lock()) port->clear();
  });
}

void Session::hang_up(std::string reason) {
  auto &impl = *impl_;
  boost::asio::post(impl.strand, [self = shared_from_this(), &impl, reason = std::move(reason)] {
    const auto state = impl.state.load();
    if (state == SessionState::closed) return;
    if (auto port = impl.port.lock()) {
      impl.state = SessionState::closing;
      port->hang_up(reason);
    } else {
      self->on_transport_closed(reason);
    }
  });
}

void Session::start_recording(std::string path) {
  auto &impl = *impl_;
  require_open(impl, "start_recording");
  auto start = [self = shared_from_this(), &impl, path = std::move(path)] {
    if (impl.recorder) impl.recorder->close();
    audio::CallRecorderOptions options;
    options.sample_rate = static_cast<uint32_t>(impl.options.sample_rate);
    impl.recorder = std::make_unique<audio::CallRecorder>(path, options);
  };
  // Opening the file is the only step that can fail; do it here so the host sees the error.
  std::promise<void> done;
  auto future = done.get_future();
  boost::asio::dispatch(impl.strand, [&] {
    try {
      start();
      done.set_value();
    } catch (...) {
      done.set_exception(std::current_exception());
    }
  });
  future.get();
}

void Session::stop_recording() {
  auto &impl = *impl_;
  boost::asio::post(impl.strand, [self = shared_from_this(), &impl] {
    if (!impl.recorder) return;
    try {
      impl.recorder->close();
    } catch (const std::exception &e) {
      post_event(impl, EventType::session_error, {{"code", "recording"}, {"message", e.what()}});
    }
    impl.recorder.reset();
  });
}

void Session::close() { hang_up("closed by host"); }

}  // namespace parley::core
