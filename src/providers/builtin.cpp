// The built-in providers. Each adapter exposes register_<name>(Registry &) in its header.
#include "providers/llm/scripted.hpp"
#include "providers/registry.hpp"

namespace parley::providers {

Registry builtin_registry() {
  Registry registry;
  register_scripted(registry);
  return registry;
}

}  // namespace parley::providers
