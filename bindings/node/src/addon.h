// The Parley Node.js addon: shared declarations.
//
// Threading model (see README.md):
//  - Every N-API call happens on the JavaScript thread of the environment (main thread or a
//    worker_threads worker) that created the object. Engine threads never call into JS.
//  - A runtime owns one native poll thread that calls parley_runtime_poll_event() and hands
//    batches of events to JS through one ThreadSafeFunction. The handoff is bounded: when JS
//    falls behind, the poll thread stops polling and the engine's bounded queue does the
//    dropping (reported as an "overflow" event).
//  - Blocking C calls (parley_listener_stop, parley_runtime_destroy) run on threads the
//    addon owns ("jobs"); their completions come back through the same handoff, so every
//    Promise is settled on the JS thread.
//  - Errors: parley_error_last() is thread-local, so it is read inside the same native call
//    as the failing function and turned into a ParleyError (status name, code, message).
#pragma once

#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <napi.h>

#include <string>

#include "parley/parley.h"

namespace parley_node {

/// Per-environment data (the addon is context-aware: one of these per main thread / worker).
struct AddonData {
  Napi::FunctionReference error_class;  // the JS ParleyError class, set by lib/errors.js
  Napi::FunctionReference session_ctor;
  Napi::FunctionReference listener_ctor;
};

AddonData &addon_data(Napi::Env env);

/// A ParleyError (or a plain Error with the same fields when the JS class is not set yet).
Napi::Error make_error(Napi::Env env, int status, const std::string &message);

/// Throws the error for `status`, with the engine's thread-local message read right now.
[[noreturn]] void throw_status(Napi::Env env, int status);

/// Throws a ParleyError with status PARLEY_ESTATE (a closed handle, a re-entrant call...).
[[noreturn]] void throw_state(Napi::Env env, const std::string &message);

inline void check(Napi::Env env, int status) {
  if (status != PARLEY_OK) throw_status(env, status);
}

/// A JS string argument that may be null/undefined (passed to C as NULL).
struct OptString {
  bool is_null = true;
  std::string value;
  const char *c_str() const { return is_null ? nullptr : value.c_str(); }
};

/// null/undefined -> NULL; a string -> its UTF-8; anything else -> TypeError naming `what`.
OptString opt_string(const Napi::CallbackInfo &info, size_t index, const char *what);

/// An integer argument (a Number with an integral value in int range); TypeError otherwise.
/// When the argument is missing or undefined, `fallback` is used.
int int_arg(const Napi::CallbackInfo &info, size_t index, const char *what, int fallback);

/// A Number argument; TypeError otherwise (missing/undefined -> fallback).
double number_arg(const Napi::CallbackInfo &info, size_t index, const char *what, double fallback);

void init_runtime(Napi::Env env, Napi::Object exports);
void init_budget(Napi::Env env, Napi::Object exports);

}  // namespace parley_node
