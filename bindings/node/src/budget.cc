// The budget controller (parley_budget_*). Independent of any runtime.
//
// Its callbacks run synchronously on the thread that called prepare()/recordTtft(), which
// is always this object's JS thread, so they call JS directly. An exception thrown by a JS
// callback never unwinds through the C library: it is caught in the trampoline, kept, and
// rethrown once the C call has returned.
#include <cmath>
#include <limits>
#include <thread>

#include "addon.h"

namespace parley_node {
namespace {

// Calls `function` with raw N-API: a JS exception is returned (not thrown) so that it never
// unwinds through the C library, and a failure to call JS at all (a worker being
// terminated) is not turned into a fatal error by node-addon-api.
bool call_function(napi_env env, napi_value function, size_t argc, const napi_value *argv, napi_value *result,
                   napi_value *exception) {
  napi_value receiver;
  napi_get_undefined(env, &receiver);
  const napi_status status = napi_call_function(env, receiver, function, argc, argv, result);
  if (status == napi_ok) return true;
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value error = nullptr;
    if (napi_get_and_clear_last_exception(env, &error) == napi_ok) *exception = error;
  }
  return false;
}

class BudgetWrap : public Napi::ObjectWrap<BudgetWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(
        env, "NativeBudget",
        {InstanceAccessor<&BudgetWrap::closed>("closed"), InstanceMethod<&BudgetWrap::prepare>("prepare"),
         InstanceMethod<&BudgetWrap::record_ttft>("recordTtft"), InstanceMethod<&BudgetWrap::stats>("stats"),
         InstanceMethod<&BudgetWrap::report>("report"), InstanceMethod<&BudgetWrap::count_tokens>("countTokens"),
         InstanceMethod<&BudgetWrap::select_model>("selectModel"),
         InstanceMethod<&BudgetWrap::set_callbacks>("setCallbacks"),
         InstanceMethod<&BudgetWrap::set_embedder>("setEmbedder"),
         InstanceMethod<&BudgetWrap::set_summarizer>("setSummarizer"),
         InstanceMethod<&BudgetWrap::provide_summary>("provideSummary"),
         InstanceMethod<&BudgetWrap::destroy>("destroy")});
  }

  // new NativeBudget(configJson | null)
  explicit BudgetWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<BudgetWrap>(info), owner_(std::this_thread::get_id()) {
    Napi::Env env = info.Env();
    auto config = opt_string(info, 0, "config");
    check(env, parley_budget_create(&budget_, config.c_str()));
  }

  ~BudgetWrap() override {
    parley_budget_destroy(budget_);
    budget_ = nullptr;
  }

 private:
  // ---- trampolines (called by the library, on the calling thread, inside a C call) ----

  static void on_compression(const char *event_json, void *user_data) {
    auto *self = static_cast<BudgetWrap *>(user_data);
    self->invoke(self->on_compression_, event_json);
  }

  static void on_violation(const char *event_json, void *user_data) {
    auto *self = static_cast<BudgetWrap *>(user_data);
    self->invoke(self->on_violation_, event_json);
  }

  static int on_embed(float *out_vector, size_t capacity, const char *text, void *user_data) {
    auto *self = static_cast<BudgetWrap *>(user_data);
    if (self->embedder_.IsEmpty() || std::this_thread::get_id() != self->owner_) return -1;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    self->in_embed_ = true;
    int written = -1;
    try {
      napi_value arg = Napi::String::New(env, text == nullptr ? "" : text);
      napi_value raw = nullptr;
      napi_value exception = nullptr;
      if (!call_function(env, self->embedder_.Value(), 1, &arg, &raw, &exception)) {
        self->keep(env, exception);
        self->in_embed_ = false;
        return -1;
      }
      Napi::Value result(env, raw);
      if (result.IsTypedArray() && result.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array) {
        auto vector = result.As<Napi::Float32Array>();
        const size_t n = std::min(capacity, vector.ElementLength());
        for (size_t i = 0; i < n; ++i) out_vector[i] = vector[i];
        written = static_cast<int>(n);
      } else if (result.IsArray()) {
        auto array = result.As<Napi::Array>();
        const size_t n = std::min<size_t>(capacity, array.Length());
        for (size_t i = 0; i < n; ++i) {
          Napi::Value item = array.Get(static_cast<uint32_t>(i));
          out_vector[i] = item.IsNumber() ? item.As<Napi::Number>().FloatValue() : 0.0f;
        }
        written = static_cast<int>(n);
      }
    } catch (const Napi::Error &error) {
      self->keep(env, error.Value());
    }
    self->in_embed_ = false;
    return written;
  }

  static void on_summarize(uint64_t request_id, const char *messages_json, void *user_data) {
    auto *self = static_cast<BudgetWrap *>(user_data);
    if (self->summarizer_.IsEmpty() || std::this_thread::get_id() != self->owner_) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    napi_value args[2] = {Napi::Number::New(env, static_cast<double>(request_id)),
                          Napi::String::New(env, messages_json == nullptr ? "[]" : messages_json)};
    napi_value result = nullptr;
    napi_value exception = nullptr;
    if (!call_function(env, self->summarizer_.Value(), 2, args, &result, &exception)) self->keep(env, exception);
  }

  void invoke(Napi::FunctionReference &function, const char *event_json) {
    if (function.IsEmpty() || std::this_thread::get_id() != owner_) return;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    napi_value arg = Napi::String::New(env, event_json == nullptr ? "{}" : event_json);
    napi_value result = nullptr;
    napi_value exception = nullptr;
    if (!call_function(env, function.Value(), 1, &arg, &result, &exception)) keep(env, exception);
  }

  // Keeps the first exception a callback threw, to rethrow after the C call returns.
  void keep(napi_env env, napi_value exception) {
    if (exception == nullptr) return;  // JS cannot run (the environment is going away)
    if (pending_error_.IsEmpty()) pending_error_ = Napi::Reference<Napi::Value>::New(Napi::Value(env, exception), 1);
  }

  // After a C call: a callback's exception first, then the call's own status.
  void finish(Napi::Env env, int status) {
    if (status != PARLEY_OK) {
      Napi::Error engine = make_error(env, status, message_of(status));
      if (!pending_error_.IsEmpty()) pending_error_.Reset();
      throw engine;
    }
    if (!pending_error_.IsEmpty()) {
      Napi::Value error = pending_error_.Value();
      pending_error_.Reset();
      throw Napi::Error(env, error);  // rethrown as is (an Error, or whatever the callback threw)
    }
  }

  static std::string message_of(int status) {
    const parley_error *last = parley_error_last();
    if (last != nullptr && last->code == status && last->message != nullptr) return last->message;
    return parley_status_name(status);
  }

  // Guards every method: closed handles, and calls from inside the embedding callback
  // (the library forbids them) become ParleyErrors instead of undefined behaviour.
  parley_budget *open(Napi::Env env) {
    if (budget_ == nullptr) throw_state(env, "budget is closed");
    if (in_embed_) throw_state(env, "the budget's functions must not be called from its embedding callback");
    return budget_;
  }

  struct Depth {
    int &depth;
    explicit Depth(int &d) : depth(d) { ++depth; }
    ~Depth() { --depth; }
  };

  static Napi::Value owned_string(Napi::Env env, char *text) {
    Napi::String out = Napi::String::New(env, text == nullptr ? "" : text);
    parley_string_free(text);
    return out;
  }

  Napi::Value closed(const Napi::CallbackInfo &info) { return Napi::Boolean::New(info.Env(), budget_ == nullptr); }

  Napi::Value prepare(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *budget = open(env);
    auto messages = opt_string(info, 0, "messages");
    char *out = nullptr;
    int status;
    {
      Depth depth(depth_);
      status = parley_budget_prepare(&out, budget, messages.c_str());
    }
    if (status != PARLEY_OK) finish(env, status);
    Napi::Value result = owned_string(env, out);
    finish(env, PARLEY_OK);
    return result;
  }

  Napi::Value record_ttft(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *budget = open(env);
    const double ttft = number_arg(info, 0, "ttftMs", std::numeric_limits<double>::quiet_NaN());
    const double tokens = number_arg(info, 1, "promptTokens", -1);
    if (!std::isfinite(tokens) || std::floor(tokens) != tokens) {
      throw Napi::TypeError::New(env, "promptTokens must be an integer (-1: the size prepare() computed)");
    }
    int status;
    {
      Depth depth(depth_);
      status = parley_budget_record_ttft(budget, ttft, static_cast<int64_t>(tokens));
    }
    finish(env, status);
    return env.Undefined();
  }

  Napi::Value stats(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    char *out = nullptr;
    const int status = parley_budget_stats_json(&out, open(env));
    if (status != PARLEY_OK) throw_status(env, status);
    return owned_string(env, out);
  }

  Napi::Value report(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *budget = open(env);
    const int format = int_arg(info, 0, "format", PARLEY_BUDGET_REPORT_JSON);
    char *out = nullptr;
    const int status = parley_budget_report(&out, budget, format);
    if (status != PARLEY_OK) throw_status(env, status);
    return owned_string(env, out);
  }

  Napi::Value count_tokens(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *budget = open(env);
    auto text = opt_string(info, 0, "text");
    int64_t count = 0;
    const int status = parley_budget_count_tokens(&count, budget, text.c_str());
    if (status != PARLEY_OK) throw_status(env, status);
    return Napi::Number::New(env, static_cast<double>(count));
  }

  Napi::Value select_model(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *budget = open(env);
    auto provider = opt_string(info, 0, "provider");
    auto model = opt_string(info, 1, "model");
    check(env, parley_budget_select_model(budget, provider.c_str(), model.c_str()));
    return env.Undefined();
  }

  static Napi::FunctionReference function_or_empty(const Napi::CallbackInfo &info, size_t index, const char *what) {
    if (index >= info.Length() || info[index].IsNull() || info[index].IsUndefined()) return Napi::FunctionReference();
    if (!info[index].IsFunction()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a function or null");
    return Napi::Persistent(info[index].As<Napi::Function>());
  }

  // setCallbacks(onCompression | null, onViolation | null); each receives the event JSON.
  Napi::Value set_callbacks(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *budget = open(env);
    auto compression = function_or_empty(info, 0, "onCompression");
    auto violation = function_or_empty(info, 1, "onViolation");
    const bool any = !compression.IsEmpty() || !violation.IsEmpty();
    check(env, parley_budget_set_callbacks(budget, any ? on_compression : nullptr, any ? on_violation : nullptr,
                                           any ? this : nullptr));
    on_compression_ = std::move(compression);
    on_violation_ = std::move(violation);
    return env.Undefined();
  }

  Napi::Value set_embedder(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *budget = open(env);
    auto embedder = function_or_empty(info, 0, "embed");
    const bool any = !embedder.IsEmpty();
    check(env, parley_budget_set_embedder(budget, any ? on_embed : nullptr, any ? this : nullptr));
    embedder_ = std::move(embedder);
    return env.Undefined();
  }

  Napi::Value set_summarizer(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *budget = open(env);
    auto summarizer = function_or_empty(info, 0, "summarize");
    const bool any = !summarizer.IsEmpty();
    check(env, parley_budget_set_summarizer(budget, any ? on_summarize : nullptr, any ? this : nullptr));
    summarizer_ = std::move(summarizer);
    return env.Undefined();
  }

  Napi::Value provide_summary(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto *budget = open(env);
    uint64_t id = 0;
    if (info.Length() > 0 && info[0].IsBigInt()) {
      bool lossless = false;
      id = info[0].As<Napi::BigInt>().Uint64Value(&lossless);
      if (!lossless) throw Napi::TypeError::New(env, "requestId out of range");
    } else {
      const double value = number_arg(info, 0, "requestId", -1);
      if (!(value >= 0) || std::floor(value) != value || value > 9007199254740991.0) {
        throw Napi::TypeError::New(env, "requestId must be a non-negative integer");
      }
      id = static_cast<uint64_t>(value);
    }
    auto summary = opt_string(info, 1, "summary");
    check(env, parley_budget_provide_summary(budget, id, summary.c_str()));
    return env.Undefined();
  }

  Napi::Value destroy(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (depth_ > 0 || in_embed_) throw_state(env, "a budget cannot be closed from one of its own callbacks");
    parley_budget_destroy(budget_);
    budget_ = nullptr;
    on_compression_.Reset();
    on_violation_.Reset();
    embedder_.Reset();
    summarizer_.Reset();
    return env.Undefined();
  }

  parley_budget *budget_ = nullptr;
  std::thread::id owner_;
  int depth_ = 0;
  bool in_embed_ = false;
  Napi::FunctionReference on_compression_, on_violation_, embedder_, summarizer_;
  Napi::Reference<Napi::Value> pending_error_;
};

}  // namespace

void init_budget(Napi::Env env, Napi::Object exports) { exports.Set("NativeBudget", BudgetWrap::define(env)); }

}  // namespace parley_node
