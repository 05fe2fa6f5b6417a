// Module entry point, errors, argument helpers and the free functions (version, names).
#include "addon.h"

#include <cmath>
#include <limits>

namespace parley_node {

AddonData &addon_data(Napi::Env env) {
  auto *data = env.GetInstanceData<AddonData>();
  if (data == nullptr) {
    // Cannot happen once Init ran; keep a clear message rather than a crash.
    throw Napi::Error::New(env, "parley: addon instance data missing");
  }
  return *data;
}

Napi::Error make_error(Napi::Env env, int status, const std::string &message) {
  auto &data = addon_data(env);
  const char *name = parley_status_name(status);
  if (!data.error_class.IsEmpty()) {
    Napi::Object error =
        data.error_class.New({Napi::String::New(env, message), Napi::Number::New(env, status), Napi::String::New(env, name)});
    return Napi::Error(env, error);
  }
  Napi::Error error = Napi::Error::New(env, message);
  error.Value().Set("status", Napi::String::New(env, name));
  error.Value().Set("statusCode", Napi::Number::New(env, status));
  error.Value().Set("code", Napi::String::New(env, name));
  return error;
}

void throw_status(Napi::Env env, int status) {
  // Read the thread-local record before anything else can call into the library.
  const parley_error *last = parley_error_last();
  std::string message;
  if (last != nullptr && last->code == status && last->message != nullptr) {
    message = last->message;
  } else {
    message = std::string(parley_status_name(status)) + " (no message from the engine)";
  }
  throw make_error(env, status, message);
}

void throw_state(Napi::Env env, const std::string &message) { throw make_error(env, PARLEY_ESTATE, message); }

OptString opt_string(const Napi::CallbackInfo &info, size_t index, const char *what) {
  OptString result;
  if (index >= info.Length()) return result;
  Napi::Value value = info[index];
  if (value.IsNull() || value.IsUndefined()) return result;
  if (!value.IsString()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a string");
  result.is_null = false;
  result.value = value.As<Napi::String>().Utf8Value();
  return result;
}

double number_arg(const Napi::CallbackInfo &info, size_t index, const char *what, double fallback) {
  if (index >= info.Length() || info[index].IsUndefined()) return fallback;
  if (!info[index].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  return info[index].As<Napi::Number>().DoubleValue();
}

int int_arg(const Napi::CallbackInfo &info, size_t index, const char *what, int fallback) {
  const double value = number_arg(info, index, what, fallback);
  if (!std::isfinite(value) || std::floor(value) != value || value < std::numeric_limits<int>::min() ||
      value > std::numeric_limits<int>::max()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be an integer in the C int range");
  }
  return static_cast<int>(value);
}

namespace {

Napi::Value set_error_class(const Napi::CallbackInfo &info) {
  if (info.Length() < 1 || !info[0].IsFunction()) throw Napi::TypeError::New(info.Env(), "expected a class");
  addon_data(info.Env()).error_class = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

Napi::Value version(const Napi::CallbackInfo &info) { return Napi::String::New(info.Env(), parley_version()); }

Napi::Value version_numbers(const Napi::CallbackInfo &info) {
  int major = -1, minor = -1, patch = -1;
  parley_version_numbers(&major, &minor, &patch);
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("major", major);
  out.Set("minor", minor);
  out.Set("patch", patch);
  return out;
}

Napi::Value status_name(const Napi::CallbackInfo &info) {
  return Napi::String::New(info.Env(), parley_status_name(int_arg(info, 0, "status", 0)));
}

Napi::Value event_type_name(const Napi::CallbackInfo &info) {
  return Napi::String::New(info.Env(), parley_event_type_name(int_arg(info, 0, "type", 0)));
}

Napi::Value selftest(const Napi::CallbackInfo &info) {
  char *report = nullptr;
  check(info.Env(), parley_selftest(&report));
  Napi::String out = Napi::String::New(info.Env(), report == nullptr ? "" : report);
  parley_string_free(report);
  return out;
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());  // deleted by N-API when the environment goes away
  exports.Set("setErrorClass", Napi::Function::New(env, set_error_class, "setErrorClass"));
  exports.Set("version", Napi::Function::New(env, version, "version"));
  exports.Set("versionNumbers", Napi::Function::New(env, version_numbers, "versionNumbers"));
  exports.Set("statusName", Napi::Function::New(env, status_name, "statusName"));
  exports.Set("eventTypeName", Napi::Function::New(env, event_type_name, "eventTypeName"));
  exports.Set("selftest", Napi::Function::New(env, selftest, "selftest"));
  exports.Set("headerVersion", Napi::String::New(env, PARLEY_VERSION_STRING));
  exports.Set("headerVersionNumber", Napi::Number::New(env, PARLEY_VERSION_NUMBER));
  init_runtime(env, exports);
  init_budget(env, exports);
  return exports;
}

}  // namespace

}  // namespace parley_node

static Napi::Object InitParley(Napi::Env env, Napi::Object exports) { return parley_node::init(env, exports); }

NODE_API_MODULE(parley, InitParley)
