// The definition behind the opaque parley_session handle, shared by the capi/ files.
#pragma once

#include <memory>

#include "core/session.hpp"

namespace parley::host {
class HostCall;
}

struct parley_runtime;

struct parley_session {
  std::shared_ptr<parley::core::Session> engine;
  std::shared_ptr<parley::host::HostCall> host;  // set when this handle created a host session
  parley_runtime *runtime = nullptr;             // the runtime it was opened on; outlives the handle
};
