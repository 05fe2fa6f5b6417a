// Caller speech for agent tests: espeak-ng, for real, in a voice of the test's choosing.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "providers/registry.hpp"
#include "providers/tts/espeak.hpp"

namespace parley::agent_testing {

/// `text` in espeak-ng's `voice` (the engine's own espeak provider), PCM16 at `rate`.
inline std::vector<int16_t> speech(const std::string &text, const std::string &voice = "en-us+f3", int rate = 16000) {
  providers::Registry registry;
  providers::register_espeak(registry);
  boost::asio::io_context io;
  boost::asio::thread_pool workers{1};
  providers::ProviderContext context;
  context.executor = boost::asio::make_strand(io);
  context.workers = workers.get_executor();
  auto tts = registry.make_tts({{"provider", "espeak"}, {"voice", voice}, {"sample_rate", rate}}, context);
  std::vector<int16_t> samples;
  bool done = false;
  auto stream = tts->start({[&](const int16_t *s, size_t n) { samples.insert(samples.end(), s, s + n); }, {},
                            [&] { done = true; }, [&](providers::ProviderError) { done = true; }});
  stream->push_text(text);
  stream->finish();
  auto guard = boost::asio::make_work_guard(io);
  while (!done) io.run_one();
  stream.reset();
  workers.join();
  return samples;
}

}  // namespace parley::agent_testing
