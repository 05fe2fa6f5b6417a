// The built-in providers. Each adapter exposes register_<name>(Registry &) in its header.
#include "providers/azure.hpp"
#include "providers/deepgram.hpp"
#include "providers/elevenlabs.hpp"
#include "providers/llm/openai.hpp"
#include "providers/llm/scripted.hpp"
#include "providers/registry.hpp"
#include "providers/stt/pocketsphinx.hpp"
#include "providers/tts/espeak.hpp"

namespace parley::providers {

Registry builtin_registry() {
  Registry registry;
  register_scripted(registry);
  register_espeak(registry);
  register_pocketsphinx(registry);
  register_openai(registry);
  register_elevenlabs(registry);
  register_deepgram(registry);
  register_azure(registry);
  return registry;
}

}  // namespace parley::providers
