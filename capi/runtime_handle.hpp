// The definition behind the opaque parley_runtime handle, shared by the capi/ files.
#pragma once

#include <memory>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "core/runtime.hpp"
#include "providers/host.hpp"
#include "providers/registry.hpp"

namespace parley::capi {
class HostCallbackChannel;  // capi/provider_api.cpp
}

struct parley_runtime {
  explicit parley_runtime(parley::core::RuntimeConfig config);
  ~parley_runtime();

  parley::core::Runtime engine;
  /// Built-in providers plus the host's (parley_provider_register); guarded by providers_mutex.
  std::mutex providers_mutex;
  parley::providers::Registry providers;
  std::shared_ptr<parley::providers::HostProviderHub> host_providers;
  /// Threads that call host providers registered with callbacks instead of events.
  std::vector<std::shared_ptr<parley::capi::HostCallbackChannel>> host_channels;
  /// parley_session_speak() jobs in flight; after `engine` so they go first.
  std::mutex speakers_mutex;
  std::unordered_set<std::shared_ptr<void>> speakers;
};
