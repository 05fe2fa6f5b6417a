// Runtime, Listener and Session: native handles, the poll thread and the JS handoff.
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "addon.h"

namespace parley_node {
namespace {

// Bounds of the poll-thread -> JS handoff. When JS has this many events not yet taken, the
// poll thread stops polling and the engine's own bounded queue absorbs (or drops) the rest.
constexpr size_t kMaxPendingEvents = 8192;
constexpr size_t kMaxPendingLogs = 4096;
constexpr size_t kPollBatch = 512;
constexpr int kPollTimeoutMs = 250;
constexpr const char *kWakePayload = "{\"parley_node\":\"wake\"}";
// A job's completion travels through the engine's event queue as a user event with this
// prefix, so that it reaches JS after the events the job caused (the stopped events of the
// calls a listener stop hung up).
constexpr const char *kJobMarker = "{\"parley_node_job\":";

// Stride of the flat array handed to JS: [kind, a, b, text, value, audio, rate] per item.
constexpr uint32_t kStride = 7;
enum ItemKind : int { kEvent = 0, kLog = 1, kDone = 2, kClosed = 3, kLogsDropped = 4, kPollError = 5 };

struct Item {
  int kind = kEvent;
  parley_event *event = nullptr;  // kEvent: owned until released
  int a = 0;                      // kLog: level; kDone: job id; kPollError: status
  int b = 0;                      // kDone: status
  double value = 0;               // kDone: result; kLogsDropped: count
  std::string text;               // kLog: line; kDone / kPollError: error message
};

std::string last_error_message(int status) {
  const parley_error *last = parley_error_last();
  if (last != nullptr && last->code == status && last->message != nullptr) return last->message;
  return std::string(parley_status_name(status));
}

class RuntimeCore;
void call_js(Napi::Env env, Napi::Function callback, RuntimeCore *core, void *data);
using Tsfn = Napi::TypedThreadSafeFunction<RuntimeCore, void, call_js>;

// One session handle. Used on the JS thread only.
struct SessionCore {
  parley_session *handle = nullptr;
  bool host = false;
  std::string id;
  std::string released_because;

  void release(const char *because) {
    if (handle == nullptr) return;
    parley_session_destroy(handle);
    handle = nullptr;
    released_because = because;
  }
};

// One listener handle. A stop() job may be using it on a job thread, so destruction waits
// for the job (the job destroys the handle itself when a destroy was requested meanwhile).
struct ListenerCore {
  std::mutex mutex;
  parley_listener *handle = nullptr;
  int busy = 0;
  bool destroy_requested = false;
  bool closed = false;  // JS thread
  int port = 0;
  std::string id;
  std::string closed_because;

  void request_destroy(const char *because) {  // JS thread
    if (closed) return;
    closed = true;
    closed_because = because;
    std::lock_guard lock(mutex);
    if (busy > 0) {
      destroy_requested = true;
      return;
    }
    if (handle != nullptr) parley_listener_destroy(handle);
    handle = nullptr;
  }
};

void on_log(int level, const char *message, void *user_data);
void cleanup_hook(void *arg);

class RuntimeCore {
 public:
  parley_runtime *runtime = nullptr;
  napi_env env = nullptr;
  Tsfn tsfn;
  bool closed = false;     // JS thread: close() or a teardown started
  bool torn_down = false;  // JS thread: everything released
  std::unordered_set<std::shared_ptr<SessionCore>> sessions;    // JS thread
  std::unordered_set<std::shared_ptr<ListenerCore>> listeners;  // JS thread
  std::shared_ptr<RuntimeCore> *hook_arg = nullptr;             // the cleanup hook's reference
  uint32_t next_job = 1;                                        // JS thread

  ~RuntimeCore() {
    // Every path that releases the last reference tears down first; this is a safety net.
    stop_poller();
    join_jobs();
    if (closer_.joinable()) closer_.join();
    destroy_runtime();
    drop_pending();
  }

  void start_poller() {
    poller_ = std::thread([this] { poll_loop(); });
  }

  // Any thread. Appends items and, when none is scheduled, asks the JS thread to take them.
  void publish(std::vector<Item> &items) {
    std::lock_guard lock(mutex_);
    if (!accepting_) {
      release_events(items);
      items.clear();
      return;
    }
    for (auto &item : items) {
      if (item.kind == kEvent) {
        ++pending_events_;
      } else if (item.kind == kLog) {
        if (pending_logs_ >= kMaxPendingLogs) {
          ++dropped_logs_;
          continue;
        }
        ++pending_logs_;
      }
      pending_.push_back(std::move(item));
    }
    items.clear();
    if (dropped_logs_ > 0 && pending_logs_ < kMaxPendingLogs) {
      Item dropped;
      dropped.kind = kLogsDropped;
      dropped.value = static_cast<double>(dropped_logs_);
      dropped_logs_ = 0;
      pending_.push_back(std::move(dropped));
    }
    schedule_locked();
  }

  void publish_one(Item item) {
    std::vector<Item> items;
    items.push_back(std::move(item));
    publish(items);
  }

  // JS thread: takes everything published so far.
  std::vector<Item> take() {
    std::vector<Item> out;
    {
      std::lock_guard lock(mutex_);
      out.swap(pending_);
      pending_events_ = 0;
      pending_logs_ = 0;
      scheduled_ = false;
    }
    space_.notify_all();
    return out;
  }

  // Runs `body` on a thread the addon owns; joined at close/teardown.
  void spawn_job(std::function<void()> body) {
    reap_jobs();
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::lock_guard lock(jobs_mutex_);
    jobs_.push_back(Job{std::thread([body = std::move(body), done] {
                          body();
                          done->store(true);
                        }),
                        done});
  }

  void reap_jobs() {
    std::list<Job> finished;
    {
      std::lock_guard lock(jobs_mutex_);
      for (auto it = jobs_.begin(); it != jobs_.end();) {
        if (it->done->load()) {
          finished.splice(finished.end(), jobs_, it++);
        } else {
          ++it;
        }
      }
    }
    for (auto &job : finished) job.thread.join();
  }

  void join_jobs() {
    std::list<Job> all;
    {
      std::lock_guard lock(jobs_mutex_);
      all.swap(jobs_);
    }
    for (auto &job : all) {
      if (job.thread.joinable()) job.thread.join();
    }
  }

  // Job thread: reports a job's result in order with the events posted before it.
  void complete_job(Item item) {
    const uint32_t id = static_cast<uint32_t>(item.a);
    {
      std::lock_guard lock(results_mutex_);
      results_.emplace(id, std::move(item));
    }
    const std::string marker = std::string(kJobMarker) + std::to_string(id) + "}";
    if (runtime != nullptr && parley_runtime_post_event(runtime, marker.c_str()) == PARLEY_OK) return;
    flush_results();  // the queue is full: deliver it directly
  }

  // Delivers job results whose marker will not be polled (queue full, poller stopped).
  void flush_results() {
    std::vector<Item> items;
    {
      std::lock_guard lock(results_mutex_);
      for (auto &[id, item] : results_) items.push_back(std::move(item));
      results_.clear();
    }
    if (!items.empty()) publish(items);
  }

  void stop_poller() {
    if (!poller_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    space_.notify_all();
    // Wake a poll in progress; when the queue is full the poll returns at once anyway.
    if (runtime != nullptr) parley_runtime_post_event(runtime, kWakePayload);
    poller_.join();
  }

  void destroy_runtime() {
    if (runtime == nullptr) return;
    parley_runtime_set_log_callback(runtime, PARLEY_LOG_OFF, nullptr, nullptr);
    parley_runtime_destroy(runtime);
    runtime = nullptr;
  }

  // JS thread: releases every session and listener handle (before the runtime goes). Calls
  // are hung up first, so that a listener drain in progress on a job thread ends now.
  void detach_children(const char *because) {
    for (const auto &session : sessions) {
      if (session->handle != nullptr) parley_session_hang_up(session->handle, "runtime closed");
    }
    for (const auto &session : sessions) session->release(because);
    sessions.clear();
    for (const auto &listener : listeners) listener->request_destroy(because);
    listeners.clear();
  }

  // JS thread: starts an asynchronous close; a kClosed item reports the end.
  void close_async() {
    closed = true;
    detach_children("the runtime was closed");
    closer_ = std::thread([this] {
      stop_poller();
      join_jobs();
      flush_results();
      destroy_runtime();
      Item item;
      item.kind = kClosed;
      publish_one(std::move(item));
    });
  }

  // JS thread: finishes a close (or does a whole one synchronously: process exit, worker
  // termination). Safe to call more than once.
  void teardown(bool from_hook) {
    if (torn_down) return;
    torn_down = true;
    if (!closed) {
      closed = true;
      detach_children("the runtime was closed");
    }
    if (closer_.joinable()) {
      closer_.join();
    } else {
      stop_poller();
      join_jobs();
      flush_results();
      destroy_runtime();
    }
    {
      std::lock_guard lock(mutex_);
      accepting_ = false;
      if (tsfn_live_) {
        tsfn_live_ = false;
        if (from_hook) {
          tsfn.Abort();
        } else {
          tsfn.Release();
        }
      }
    }
    drop_pending();
    if (!from_hook && hook_arg != nullptr) {
      napi_remove_env_cleanup_hook(env, cleanup_hook, hook_arg);
      auto *arg = hook_arg;
      hook_arg = nullptr;
      delete arg;  // not the last reference: the caller holds one
    }
  }

  void set_tsfn(Tsfn function) {
    std::lock_guard lock(mutex_);
    tsfn = function;
    tsfn_live_ = true;
  }

  bool tsfn_live() {
    std::lock_guard lock(mutex_);
    return tsfn_live_;
  }

 private:
  struct Job {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  void schedule_locked() {
    if (scheduled_ || !tsfn_live_ || pending_.empty()) return;
    // Called under mutex_, so the function cannot be released in between.
    if (tsfn.NonBlockingCall() == napi_ok) scheduled_ = true;
  }

  static void release_events(std::vector<Item> &items) {
    for (auto &item : items) {
      if (item.event != nullptr) parley_event_release(item.event);
      item.event = nullptr;
    }
  }

  void drop_pending() {
    std::vector<Item> rest;
    {
      std::lock_guard lock(mutex_);
      rest.swap(pending_);
      pending_events_ = 0;
      pending_logs_ = 0;
    }
    release_events(rest);
  }

  void poll_loop() {
    std::vector<Item> batch;
    batch.reserve(kPollBatch);
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        space_.wait(lock, [&] { return stopping_ || pending_events_ < kMaxPendingEvents; });
        if (stopping_) break;
      }
      parley_event *event = nullptr;
      const int status = parley_runtime_poll_event(&event, runtime, kPollTimeoutMs);
      if (status == PARLEY_ETIMEOUT) continue;
      if (status != PARLEY_OK) {
        Item item;
        item.kind = kPollError;
        item.a = status;
        item.text = last_error_message(status);
        publish_one(std::move(item));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      do {
        Item item;
        if (!take_private(event, item)) item.event = event;
        if (item.event != nullptr || item.kind != kEvent) batch.push_back(std::move(item));
        event = nullptr;
      } while (batch.size() < kPollBatch && parley_runtime_poll_event(&event, runtime, 0) == PARLEY_OK);
      bool stop;
      {
        std::lock_guard lock(mutex_);
        stop = stopping_;
      }
      if (stop) {
        release_events(batch);  // closing: nobody will read them
        batch.clear();
        break;
      }
      publish(batch);
    }
  }

  // The binding's own user events: the wake-up (dropped) and job markers (turned into the
  // job's DONE item). Returns true when `event` was one of them; it is then released.
  bool take_private(parley_event *event, Item &item) {
    if (parley_event_type_of(event) != PARLEY_EVENT_USER) return false;
    const char *payload = parley_event_payload(event);
    if (std::strncmp(payload, kJobMarker, std::strlen(kJobMarker)) == 0) {
      const auto id = static_cast<uint32_t>(std::strtoul(payload + std::strlen(kJobMarker), nullptr, 10));
      parley_event_release(event);
      std::lock_guard lock(results_mutex_);
      auto it = results_.find(id);
      if (it != results_.end()) {
        item = std::move(it->second);
        results_.erase(it);
      }
      return true;
    }
    if (std::strcmp(payload, kWakePayload) == 0) {
      parley_event_release(event);
      return true;
    }
    return false;
  }

  std::mutex results_mutex_;
  std::unordered_map<uint32_t, Item> results_;
  std::mutex mutex_;
  std::condition_variable space_;
  std::vector<Item> pending_;
  size_t pending_events_ = 0;
  size_t pending_logs_ = 0;
  uint64_t dropped_logs_ = 0;
  bool scheduled_ = false;
  bool accepting_ = true;
  bool tsfn_live_ = false;
  bool stopping_ = false;
  std::thread poller_;
  std::thread closer_;
  std::mutex jobs_mutex_;
  std::list<Job> jobs_;
};

void on_log(int level, const char *message, void *user_data) {
  Item item;
  item.kind = kLog;
  item.a = level;
  item.text = message == nullptr ? "" : message;
  static_cast<RuntimeCore *>(user_data)->publish_one(std::move(item));
}

void cleanup_hook(void *arg) {
  auto *holder = static_cast<std::shared_ptr<RuntimeCore> *>(arg);
  (*holder)->hook_arg = nullptr;
  (*holder)->teardown(true);
  delete holder;
}

// JS thread: converts what the poll thread and jobs published into one flat array and hands
// it to the JS callback. Events are released here, after their contents were copied.
//
// Raw N-API on purpose: while a worker is being terminated (or process.exit() runs inside
// the callback) these calls fail, and node-addon-api would turn the failure into a fatal
// error. Here a failure just ends the delivery; the events are still released.
void call_js(Napi::Env env_wrapper, Napi::Function callback, RuntimeCore *core, void * /*data*/) {
  napi_env env = env_wrapper;
  if (env == nullptr || core == nullptr) return;  // the function is being torn down
  std::vector<Item> items = core->take();
  if (items.empty()) return;
  struct Releaser {
    std::vector<Item> &items;
    ~Releaser() {
      for (auto &item : items) {
        if (item.event != nullptr) parley_event_release(item.event);
      }
    }
  } releaser{items};

  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  struct ScopeCloser {
    napi_env env;
    napi_handle_scope scope;
    ~ScopeCloser() { napi_close_handle_scope(env, scope); }
  } closer{env, scope};

  napi_value out;
  if (napi_create_array_with_length(env, items.size() * kStride, &out) != napi_ok) return;
  napi_value null;
  if (napi_get_null(env, &null) != napi_ok) return;
  auto number = [env](double value) {
    napi_value result = nullptr;
    napi_create_double(env, value, &result);
    return result;
  };
  auto string = [env](const char *text, size_t length) {
    napi_value result = nullptr;
    napi_create_string_utf8(env, text, length, &result);
    return result;
  };
  uint32_t i = 0;
  for (auto &item : items) {
    napi_value values[kStride];
    values[0] = number(item.kind);
    if (item.kind == kEvent) {
      parley_event *event = item.event;
      const int16_t *samples = nullptr;
      size_t count = 0;
      int rate = 0;
      parley_event_audio(&samples, &count, &rate, event);
      values[1] = number(parley_event_type_of(event));
      values[2] = string(parley_event_session_id(event), NAPI_AUTO_LENGTH);
      values[3] = string(parley_event_payload(event), NAPI_AUTO_LENGTH);
      values[4] = number(static_cast<double>(parley_event_timestamp_us(event)));
      values[5] = null;
      values[6] = number(0);
      if (count > 0 && samples != nullptr) {
        void *data = nullptr;
        napi_value buffer = nullptr;
        napi_value array = nullptr;
        if (napi_create_arraybuffer(env, count * sizeof(int16_t), &data, &buffer) == napi_ok &&
            napi_create_typedarray(env, napi_int16_array, count, buffer, 0, &array) == napi_ok) {
          std::memcpy(data, samples, count * sizeof(int16_t));
          values[5] = array;
          values[6] = number(rate);
        }
      }
      parley_event_release(event);
      item.event = nullptr;
    } else {
      values[1] = number(item.a);
      values[2] = number(item.b);
      values[3] = string(item.text.data(), item.text.size());
      values[4] = number(item.value);
      values[5] = null;
      values[6] = number(0);
    }
    for (uint32_t k = 0; k < kStride; ++k) {
      if (values[k] == nullptr || napi_set_element(env, out, i + k, values[k]) != napi_ok) return;
    }
    i += kStride;
  }
  napi_value receiver;
  if (napi_get_undefined(env, &receiver) != napi_ok) return;
  napi_value result;
  // An exception thrown by the callback stays pending: Node reports it as uncaught.
  napi_call_function(env, receiver, callback, 1, &out, &result);
}

// ---- argument helpers ----------------------------------------------------------------------

template <typename T>
struct Buffer {
  const T *data = nullptr;
  size_t count = 0;
};

Buffer<int16_t> samples_arg(const Napi::CallbackInfo &info, size_t index) {
  Buffer<int16_t> out;
  if (index >= info.Length() || info[index].IsNull() || info[index].IsUndefined()) return out;
  Napi::Value value = info[index];
  if (value.IsTypedArray() && value.As<Napi::TypedArray>().TypedArrayType() == napi_int16_array) {
    auto array = value.As<Napi::Int16Array>();
    out.data = array.Data();
    out.count = array.ElementLength();
    return out;
  }
  throw Napi::TypeError::New(info.Env(), "samples must be an Int16Array (PCM16 mono)");
}

Buffer<uint8_t> bytes_arg(const Napi::CallbackInfo &info, size_t index) {
  Buffer<uint8_t> out;
  if (index >= info.Length() || info[index].IsNull() || info[index].IsUndefined()) return out;
  Napi::Value value = info[index];
  if (value.IsTypedArray() && value.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    auto array = value.As<Napi::Uint8Array>();
    out.data = array.Data();
    out.count = array.ElementLength();
    return out;
  }
  throw Napi::TypeError::New(info.Env(), "bytes must be a Uint8Array or Buffer (G.711)");
}

// A provider request id: a non-negative integral Number or a BigInt.
uint64_t request_arg(const Napi::CallbackInfo &info, size_t index) {
  Napi::Env env = info.Env();
  if (index < info.Length() && info[index].IsBigInt()) {
    bool lossless = false;
    const uint64_t value = info[index].As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw Napi::TypeError::New(env, "request id out of range");
    return value;
  }
  const double value = number_arg(info, index, "request id", -1);
  if (!std::isfinite(value) || value < 0 || std::floor(value) != value || value > 9007199254740991.0) {
    throw Napi::TypeError::New(env, "request id must be a non-negative integer or a BigInt");
  }
  return static_cast<uint64_t>(value);
}

bool bool_arg(const Napi::CallbackInfo &info, size_t index) {
  return index < info.Length() && info[index].ToBoolean().Value();
}

// ---- Listener ------------------------------------------------------------------------------

struct ListenerInit {
  std::shared_ptr<RuntimeCore> runtime;
  std::shared_ptr<ListenerCore> listener;
};

class ListenerWrap : public Napi::ObjectWrap<ListenerWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "NativeListener",
                       {InstanceAccessor<&ListenerWrap::port>("port"), InstanceAccessor<&ListenerWrap::id>("id"),
                        InstanceAccessor<&ListenerWrap::closed>("closed"), InstanceMethod<&ListenerWrap::stop>("stop"),
                        InstanceMethod<&ListenerWrap::destroy>("destroy")});
  }

  explicit ListenerWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<ListenerWrap>(info) {
    if (info.Length() < 1 || !info[0].IsExternal()) {
      throw Napi::TypeError::New(info.Env(), "Listener objects are created by Runtime.startListener()");
    }
    auto *init = info[0].As<Napi::External<ListenerInit>>().Data();
    runtime_ = init->runtime;
    listener_ = init->listener;
  }

  ~ListenerWrap() override {
    // Garbage collected: free the handle unless the runtime already did.
    if (listener_ && runtime_ && !runtime_->closed) {
      runtime_->listeners.erase(listener_);
      listener_->request_destroy("the Listener object was garbage collected");
    }
  }

 private:
  Napi::Value port(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), listener_->port); }
  Napi::Value id(const Napi::CallbackInfo &info) { return Napi::String::New(info.Env(), listener_->id); }
  Napi::Value closed(const Napi::CallbackInfo &info) { return Napi::Boolean::New(info.Env(), listener_->closed); }

  void require_open(Napi::Env env) {
    if (listener_->closed) throw_state(env, "listener " + listener_->id + " is closed (" + listener_->closed_because + ")");
  }

  // stop(drainTimeoutMs) -> job id; the job's completion resolves a Promise in JS.
  Napi::Value stop(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    require_open(env);
    const int drain_ms = int_arg(info, 0, "drainTimeoutMs", 0);
    RuntimeCore *runtime = runtime_.get();
    const uint32_t job = runtime->next_job++;
    auto listener = listener_;
    {
      std::lock_guard lock(listener->mutex);
      ++listener->busy;
    }
    runtime->spawn_job([runtime, listener, drain_ms, job] {
      size_t hung_up = 0;
      parley_listener *handle;
      {
        std::lock_guard lock(listener->mutex);
        handle = listener->handle;
      }
      const int status = parley_listener_stop(&hung_up, handle, drain_ms);
      Item item;
      item.kind = kDone;
      item.a = static_cast<int>(job);
      item.b = status;
      item.value = static_cast<double>(hung_up);
      if (status != PARLEY_OK) item.text = last_error_message(status);
      {
        std::lock_guard lock(listener->mutex);
        if (--listener->busy == 0 && listener->destroy_requested && listener->handle != nullptr) {
          parley_listener_destroy(listener->handle);
          listener->handle = nullptr;
        }
      }
      runtime->complete_job(std::move(item));
    });
    return Napi::Number::New(env, job);
  }

  Napi::Value destroy(const Napi::CallbackInfo &info) {
    if (!listener_->closed) {
      runtime_->listeners.erase(listener_);
      listener_->request_destroy("destroyed");
    }
    return info.Env().Undefined();
  }

  std::shared_ptr<RuntimeCore> runtime_;
  std::shared_ptr<ListenerCore> listener_;
};

// ---- Session -------------------------------------------------------------------------------

struct SessionInit {
  std::shared_ptr<RuntimeCore> runtime;
  std::shared_ptr<SessionCore> session;
};

class SessionWrap : public Napi::ObjectWrap<SessionWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(
        env, "NativeSession",
        {InstanceAccessor<&SessionWrap::id>("id"), InstanceAccessor<&SessionWrap::host>("host"),
         InstanceAccessor<&SessionWrap::released>("released"), InstanceMethod<&SessionWrap::state>("state"),
         InstanceMethod<&SessionWrap::play>("play"), InstanceMethod<&SessionWrap::send_mark>("sendMark"),
         InstanceMethod<&SessionWrap::mark_outcome>("markOutcome"), InstanceMethod<&SessionWrap::clear>("clear"),
         InstanceMethod<&SessionWrap::hang_up>("hangUp"),
         InstanceMethod<&SessionWrap::start_recording>("startRecording"),
         InstanceMethod<&SessionWrap::stop_recording>("stopRecording"), InstanceMethod<&SessionWrap::close>("close"),
         InstanceMethod<&SessionWrap::destroy>("destroy"), InstanceMethod<&SessionWrap::push_audio>("pushAudio"),
         InstanceMethod<&SessionWrap::push_g711>("pushG711"), InstanceMethod<&SessionWrap::push_dtmf>("pushDtmf"),
         InstanceMethod<&SessionWrap::push_mark_played>("pushMarkPlayed"), InstanceMethod<&SessionWrap::speak>("speak"),
         InstanceMethod<&SessionWrap::tool_result>("toolResult")});
  }

  explicit SessionWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<SessionWrap>(info) {
    if (info.Length() < 1 || !info[0].IsExternal()) {
      throw Napi::TypeError::New(info.Env(), "Session objects are created by a Runtime");
    }
    auto *init = info[0].As<Napi::External<SessionInit>>().Data();
    runtime_ = init->runtime;
    session_ = init->session;
  }

  ~SessionWrap() override {
    if (session_ && session_->handle != nullptr && runtime_ && !runtime_->closed) {
      runtime_->sessions.erase(session_);
      session_->release("the Session object was garbage collected");
    }
  }

 private:
  parley_session *open(Napi::Env env) {
    if (session_->handle == nullptr) {
      throw_state(env, "session " + session_->id + " is closed: its handle was released (" + session_->released_because + ")");
    }
    return session_->handle;
  }

  Napi::Value id(const Napi::CallbackInfo &info) { return Napi::String::New(info.Env(), session_->id); }
  Napi::Value host(const Napi::CallbackInfo &info) { return Napi::Boolean::New(info.Env(), session_->host); }
  Napi::Value released(const Napi::CallbackInfo &info) {
    return Napi::Boolean::New(info.Env(), session_->handle == nullptr);
  }

  Napi::Value state(const Napi::CallbackInfo &info) {
    return Napi::Number::New(info.Env(), parley_session_get_state(session_->handle));  // CLOSED for NULL
  }

  Napi::Value play(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *session = open(env);
    auto samples = samples_arg(info, 0);
    const int rate = int_arg(info, 1, "sampleRate", 16000);
    check(env, parley_session_play(session, samples.data, samples.count, rate));
    return env.Undefined();
  }

  Napi::Value send_mark(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *session = open(env);
    auto name = opt_string(info, 0, "name");
    check(env, parley_session_send_mark(session, name.c_str()));
    return env.Undefined();
  }

  // markOutcome(name, timeoutMs): parley_session_wait_mark without blocking. A timeout below
  // -1 is passed through so that the engine rejects it with its own message; any other
  // value becomes 0 (the JS layer waits for mark events instead of blocking the thread).
  Napi::Value mark_outcome(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *session = open(env);
    auto name = opt_string(info, 0, "name");
    const int timeout = int_arg(info, 1, "timeoutMs", 0);
    int outcome = PARLEY_MARK_PENDING;
    check(env, parley_session_wait_mark(&outcome, session, name.c_str(), timeout < -1 ? timeout : 0));
    return Napi::Number::New(env, outcome);
  }

  Napi::Value clear(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    check(env, parley_session_clear(open(env)));
    return env.Undefined();
  }

  Napi::Value hang_up(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *session = open(env);
    auto reason = opt_string(info, 0, "reason");
    check(env, parley_session_hang_up(session, reason.c_str()));
    return env.Undefined();
  }

  Napi::Value start_recording(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *session = open(env);
    auto path = opt_string(info, 0, "path");
    check(env, parley_session_start_recording(session, path.c_str()));
    return env.Undefined();
  }

  Napi::Value stop_recording(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    check(env, parley_session_stop_recording(open(env)));
    return env.Undefined();
  }

  Napi::Value close(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    check(env, parley_session_close(open(env)));
    return env.Undefined();
  }

  Napi::Value destroy(const Napi::CallbackInfo &info) {
    if (session_->handle != nullptr) {
      runtime_->sessions.erase(session_);
      session_->release("destroy() was called");
    }
    return info.Env().Undefined();
  }

  Napi::Value push_audio(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *session = open(env);
    auto samples = samples_arg(info, 0);
    const int rate = int_arg(info, 1, "sampleRate", 16000);
    const int status = parley_session_push_audio(session, samples.data, samples.count, rate);
    if (status != PARLEY_OK) throw_status(env, status);
    return env.Undefined();
  }

  Napi::Value push_g711(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *session = open(env);
    auto bytes = bytes_arg(info, 0);
    const int encoding = int_arg(info, 1, "encoding", PARLEY_G711_ULAW);
    const int rate = int_arg(info, 2, "sampleRate", 8000);
    check(env, parley_session_push_g711(session, bytes.data, bytes.count, encoding, rate));
    return env.Undefined();
  }

  Napi::Value push_dtmf(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *session = open(env);
    auto digit = opt_string(info, 0, "digit");
    check(env, parley_session_push_dtmf(session, digit.c_str()));
    return env.Undefined();
  }

  Napi::Value push_mark_played(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *session = open(env);
    auto name = opt_string(info, 0, "name");
    check(env, parley_session_push_mark_played(session, name.c_str()));
    return env.Undefined();
  }

  // toolResult(toolCallId, resultJson): answers a tool_call event of an agent session.
  Napi::Value tool_result(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *session = open(env);
    auto id = opt_string(info, 0, "toolCallId");
    auto result = opt_string(info, 1, "resultJson");
    check(env, parley_session_tool_result(session, id.c_str(), result.c_str()));
    return env.Undefined();
  }

  // speak(text, optionsJson | null) -> the mark's name
  Napi::Value speak(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *session = open(env);
    auto text = opt_string(info, 0, "text");
    auto options = opt_string(info, 1, "options");
    char *mark = nullptr;
    check(env, parley_session_speak(&mark, session, text.c_str(), options.c_str()));
    Napi::String result = Napi::String::New(env, mark != nullptr ? mark : "");
    parley_string_free(mark);
    return result;
  }

  std::shared_ptr<RuntimeCore> runtime_;
  std::shared_ptr<SessionCore> session_;
};

// ---- Runtime -------------------------------------------------------------------------------

class RuntimeWrap : public Napi::ObjectWrap<RuntimeWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(
        env, "NativeRuntime",
        {InstanceAccessor<&RuntimeWrap::closed>("closed"), InstanceMethod<&RuntimeWrap::post_event>("postEvent"),
         InstanceMethod<&RuntimeWrap::stats>("stats"),
         InstanceMethod<&RuntimeWrap::log>("log"), InstanceMethod<&RuntimeWrap::set_log_level>("setLogLevel"),
         InstanceMethod<&RuntimeWrap::start_listener>("startListener"),
         InstanceMethod<&RuntimeWrap::create_host_session>("createHostSession"),
         InstanceMethod<&RuntimeWrap::open_session>("openSession"), InstanceMethod<&RuntimeWrap::set_ref>("setRef"),
         InstanceMethod<&RuntimeWrap::register_provider>("registerProvider"),
         InstanceMethod<&RuntimeWrap::provider_push_audio>("providerPushAudio"),
         InstanceMethod<&RuntimeWrap::provider_push_text>("providerPushText"),
         InstanceMethod<&RuntimeWrap::provider_push_tool_call>("providerPushToolCall"),
         InstanceMethod<&RuntimeWrap::provider_push_transcript>("providerPushTranscript"),
         InstanceMethod<&RuntimeWrap::provider_complete>("providerComplete"),
         InstanceMethod<&RuntimeWrap::close>("close"), InstanceMethod<&RuntimeWrap::finish_close>("finishClose"),
         InstanceMethod<&RuntimeWrap::close_sync>("closeSync")});
  }

  // new NativeRuntime(configJson | null, onItems)
  explicit RuntimeWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<RuntimeWrap>(info) {
    Napi::Env env = info.Env();
    auto config = opt_string(info, 0, "config");
    if (info.Length() < 2 || !info[1].IsFunction()) throw Napi::TypeError::New(env, "expected a callback");
    parley_runtime *runtime = nullptr;
    check(env, parley_runtime_create(&runtime, config.c_str()));
    core_ = std::make_shared<RuntimeCore>();
    core_->runtime = runtime;
    core_->env = env;
    core_->set_tsfn(Tsfn::New(env, info[1].As<Napi::Function>(), "parley-runtime-events", 0, 1, core_.get()));
    core_->start_poller();
    // Registered after the thread-safe function, so that it runs before the function's own
    // cleanup (hooks run in reverse order): worker termination and process teardown stop
    // the poll thread and free the engine before anything else goes away.
    core_->hook_arg = new std::shared_ptr<RuntimeCore>(core_);
    if (napi_add_env_cleanup_hook(env, cleanup_hook, core_->hook_arg) != napi_ok) {
      delete core_->hook_arg;
      core_->hook_arg = nullptr;
    }
  }

  ~RuntimeWrap() override {
    // Only reached after a teardown (the thread-safe function keeps this object reachable
    // until then), or when the constructor failed.
    if (core_ && !core_->torn_down) core_->teardown(false);
  }

 private:
  RuntimeCore &open(Napi::Env env) {
    if (!core_ || core_->closed) throw_state(env, "runtime is closed");
    return *core_;
  }

  Napi::Value closed(const Napi::CallbackInfo &info) {
    return Napi::Boolean::New(info.Env(), !core_ || core_->closed);
  }

  Napi::Value post_event(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto &core = open(env);
    auto payload = opt_string(info, 0, "payload");
    const int status = parley_runtime_post_event(core.runtime, payload.c_str());
    if (status != PARLEY_OK) throw_status(env, status);
    return env.Undefined();
  }

  // stats() -> the runtime's counters as the engine's JSON text (lib/runtime.js parses it).
  Napi::Value stats(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto &core = open(env);
    char *out = nullptr;
    const int status = parley_runtime_stats_json(&out, core.runtime);
    if (status != PARLEY_OK) throw_status(env, status);
    Napi::String text = Napi::String::New(env, out != nullptr ? out : "{}");
    parley_string_free(out);
    return text;
  }

  Napi::Value log(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto &core = open(env);
    const int level = int_arg(info, 0, "level", PARLEY_LOG_INFO);
    auto message = opt_string(info, 1, "message");
    check(env, parley_runtime_log(core.runtime, level, message.c_str()));
    return env.Undefined();
  }

  // setLogLevel(level | null): routes log records at or above `level` to JS ('log' items).
  Napi::Value set_log_level(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto &core = open(env);
    if (info.Length() < 1 || info[0].IsNull() || info[0].IsUndefined()) {
      check(env, parley_runtime_set_log_callback(core.runtime, PARLEY_LOG_OFF, nullptr, nullptr));
    } else {
      const int level = int_arg(info, 0, "level", PARLEY_LOG_INFO);
      check(env, parley_runtime_set_log_callback(core.runtime, level, on_log, &core));
    }
    return env.Undefined();
  }

  Napi::Value start_listener(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto &core = open(env);
    auto config = opt_string(info, 0, "config");
    parley_listener *handle = nullptr;
    check(env, parley_listener_start(&handle, core.runtime, config.c_str()));
    auto listener = std::make_shared<ListenerCore>();
    listener->handle = handle;
    listener->port = parley_listener_port(handle);
    listener->id = parley_listener_id(handle);
    core.listeners.insert(listener);
    ListenerInit init{core_, listener};
    return addon_data(env).listener_ctor.New({Napi::External<ListenerInit>::New(env, &init)});
  }

  Napi::Value wrap_session(Napi::Env env, parley_session *handle, bool host) {
    auto session = std::make_shared<SessionCore>();
    session->handle = handle;
    session->host = host;
    session->id = parley_session_id(handle);
    core_->sessions.insert(session);
    SessionInit init{core_, session};
    return addon_data(env).session_ctor.New({Napi::External<SessionInit>::New(env, &init)});
  }

  Napi::Value create_host_session(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto &core = open(env);
    auto config = opt_string(info, 0, "config");
    parley_session *handle = nullptr;
    check(env, parley_session_create_host(&handle, core.runtime, config.c_str()));
    return wrap_session(env, handle, true);
  }

  Napi::Value open_session(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto &core = open(env);
    auto id = opt_string(info, 0, "sessionId");
    parley_session *handle = nullptr;
    check(env, parley_session_open(&handle, core.runtime, id.c_str()));
    return wrap_session(env, handle, false);
  }

  // ---- host-implemented providers: event mode (callbacks NULL), so requests reach JS through
  // the poll thread like any event and no engine thread ever calls into JS.

  // registerProvider(kind, name, optionsJson | null)
  Napi::Value register_provider(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto &core = open(env);
    auto kind = opt_string(info, 0, "kind");
    auto name = opt_string(info, 1, "name");
    auto options = opt_string(info, 2, "options");
    check(env, parley_provider_register(core.runtime, kind.c_str(), name.c_str(), options.c_str(), nullptr, nullptr));
    return env.Undefined();
  }

  // providerPushAudio(id, Int16Array)
  Napi::Value provider_push_audio(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto &core = open(env);
    const uint64_t id = request_arg(info, 0);
    auto samples = samples_arg(info, 1);
    check(env, parley_provider_push_audio(core.runtime, id, samples.data, samples.count));
    return env.Undefined();
  }

  // providerPushText(id, text)
  Napi::Value provider_push_text(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto &core = open(env);
    const uint64_t id = request_arg(info, 0);
    auto text = opt_string(info, 1, "text");
    check(env, parley_provider_push_text(core.runtime, id, text.c_str()));
    return env.Undefined();
  }

  // providerPushToolCall(id, index, callId | null, name | null, arguments | null)
  Napi::Value provider_push_tool_call(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto &core = open(env);
    const uint64_t id = request_arg(info, 0);
    const int index = int_arg(info, 1, "index", 0);
    auto call_id = opt_string(info, 2, "callId");
    auto name = opt_string(info, 3, "name");
    auto arguments = opt_string(info, 4, "arguments");
    check(env, parley_provider_push_tool_call(core.runtime, id, index, call_id.c_str(), name.c_str(), arguments.c_str()));
    return env.Undefined();
  }

  // providerPushTranscript(id, text, isFinal, speechFinal)
  Napi::Value provider_push_transcript(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto &core = open(env);
    const uint64_t id = request_arg(info, 0);
    auto text = opt_string(info, 1, "text");
    check(env, parley_provider_push_transcript(core.runtime, id, text.c_str(), bool_arg(info, 2) ? 1 : 0,
                                               bool_arg(info, 3) ? 1 : 0));
    return env.Undefined();
  }

  // providerComplete(id, status, detail | null)
  Napi::Value provider_complete(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto &core = open(env);
    const uint64_t id = request_arg(info, 0);
    const int status = int_arg(info, 1, "status", PARLEY_OK);
    auto detail = opt_string(info, 2, "detail");
    check(env, parley_provider_complete(core.runtime, id, status, detail.c_str()));
    return env.Undefined();
  }

  Napi::Value set_ref(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (core_ && !core_->torn_down && core_->tsfn_live()) {
      if (info.Length() > 0 && info[0].ToBoolean().Value()) {
        core_->tsfn.Ref(env);
      } else {
        core_->tsfn.Unref(env);
      }
    }
    return env.Undefined();
  }

  // close(): starts closing; a kClosed item follows, on which JS calls finishClose().
  Napi::Value close(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    open(env).close_async();
    return env.Undefined();
  }

  Napi::Value finish_close(const Napi::CallbackInfo &info) {
    if (core_) core_->teardown(false);
    return info.Env().Undefined();
  }

  // closeSync(): everything at once, for process 'exit' handlers.
  Napi::Value close_sync(const Napi::CallbackInfo &info) {
    if (core_) core_->teardown(false);
    return info.Env().Undefined();
  }

  std::shared_ptr<RuntimeCore> core_;
};

}  // namespace

void init_runtime(Napi::Env env, Napi::Object exports) {
  auto &data = addon_data(env);
  Napi::Function session = SessionWrap::define(env);
  Napi::Function listener = ListenerWrap::define(env);
  data.session_ctor = Napi::Persistent(session);
  data.listener_ctor = Napi::Persistent(listener);
  exports.Set("NativeRuntime", RuntimeWrap::define(env));
  exports.Set("NativeSession", session);
  exports.Set("NativeListener", listener);
}

}  // namespace parley_node
