// The engine's error type. Engine code reports failure by throwing parley::Error; the C ABI
// boundary (capi/) turns it into a status code and a message. Status values mirror the
// PARLEY_E* codes in include/parley/parley.h and are stable forever.
#pragma once

#include <stdexcept>
#include <string>

namespace parley {

enum class Status : int {
  ok = 0,
  invalid_argument = -1,
  config = -2,
  no_memory = -3,
  state = -4,
  timeout = -5,
  not_found = -6,
  unsupported = -7,
  io = -8,
  format = -9,
  protocol = -10,
  provider = -11,
  cancelled = -12,
  full = -13,
  internal = -99,
};

/// Short stable name of a status ("invalid_argument"), for messages and logs.
const char *status_name(Status status) noexcept;

class Error : public std::runtime_error {
 public:
  Error(Status status, const std::string &message)
      : std::runtime_error(message), status_(status) {}
  Status status() const noexcept { return status_; }

 private:
  Status status_;
};

}  // namespace parley
