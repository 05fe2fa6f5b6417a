// The exception-to-status boundary (after onnxruntime's C API guidelines).
//
// Every extern "C" function body runs inside guard(): it clears the thread's last error,
// runs the body, and turns any exception into a status code plus a thread-local message.
// Nothing thrown inside the engine ever crosses into the host.
#pragma once

#include <chrono>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "common/error.hpp"
#include "parley/parley.h"

namespace parley::capi {

/// Records `status` and `message` as the calling thread's last error; returns the status.
int set_error(Status status, std::string message) noexcept;

/// Clears the calling thread's last error.
void clear_error() noexcept;

/// Throws Error(Status::invalid_argument) naming `what` when `pointer` is NULL.
template <typename T>
void require(const T *pointer, const char *what) {
  if (pointer == nullptr) {
    throw Error(Status::invalid_argument, std::string(what) + " must not be NULL");
  }
}

/// A host's `timeout_ms` (-1 = forever, else >= 0) as a duration; -1 becomes a year.
/// Throws Error(invalid_argument) for anything below -1.
inline std::chrono::milliseconds checked_timeout(int timeout_ms) {
  if (timeout_ms < -1) {
    throw Error(Status::invalid_argument,
                "timeout_ms must be -1 (forever), 0 or positive; got " + std::to_string(timeout_ms));
  }
  return timeout_ms < 0 ? std::chrono::hours(24 * 365) : std::chrono::milliseconds(timeout_ms);
}

/// A heap copy of `text` that the host frees with parley_string_free().
inline char *copy_to_host(std::string_view text) {
  char *copy = new char[text.size() + 1];
  std::memcpy(copy, text.data(), text.size());
  copy[text.size()] = '\0';
  return copy;
}

/// The status-and-message of the exception being handled, for guard()'s catch blocks.
int status_from_current_exception(const char *function) noexcept;

/// Runs `body` (returning void, or an int status) and converts exceptions into a status.
/// `function` names the API entry point in the message of unexpected errors.
template <typename Body>
int guard(const char *function, Body &&body) noexcept {
  clear_error();
  try {
    if constexpr (std::is_void_v<decltype(body())>) {
      std::forward<Body>(body)();
      return PARLEY_OK;
    } else {
      return std::forward<Body>(body)();
    }
  } catch (...) {
    return status_from_current_exception(function);
  }
}

}  // namespace parley::capi
