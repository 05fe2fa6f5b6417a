// The definition behind the opaque parley_runtime handle, shared by the capi/ files.
#pragma once

#include "core/runtime.hpp"

struct parley_runtime {
  explicit parley_runtime(parley::core::RuntimeConfig config) : engine(std::move(config)) {}
  parley::core::Runtime engine;
};
