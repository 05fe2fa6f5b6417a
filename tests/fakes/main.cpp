// parley-fake: runs one fake cloud service until SIGINT/SIGTERM (or, with --stdin, until
// stdin closes), for trying adapters by hand and for the bindings' tests.
//
//   parley-fake openai --port 0            prints "PORT=12345" on its own line, then serves
//   parley-fake deepgram --tls             also prints "CA_FILE=/tmp/.../ca.pem"
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fakes/azure_fake.hpp"
#include "fakes/deepgram_fake.hpp"
#include "fakes/elevenlabs_fake.hpp"
#include "fakes/openai_fake.hpp"

namespace {

using namespace parley::fakes;

constexpr const char *kUsage =
    "usage: parley-fake <openai|elevenlabs|deepgram|azure> [options]\n"
    "  --port N                 port to listen on (default 0: any free port)\n"
    "  --address A              address to bind (default 127.0.0.1)\n"
    "  --tls                    HTTPS/WSS with a generated test CA (its file is printed)\n"
    "  --api-key KEY            require this key, in the provider's header\n"
    "  --reply TEXT             openai: the chat reply (default \"Hello!\")\n"
    "  --transcript TEXT        STT: a scripted transcript (repeatable, used in order)\n"
    "  --fallback-transcript T  STT: the transcript once the scripted ones are used up\n"
    "  --inactivity-timeout-ms N  deepgram NET-0001 / elevenlabs stream-input timeout\n"
    "  --stdin                  exit when stdin closes (instead of on SIGINT/SIGTERM)\n"
    "Prints PORT=<port> (and CA_FILE=<path> with --tls) on stdout once listening.\n";

struct Options {
  std::string service;
  ServerOptions server;
  std::string api_key;
  std::optional<std::string> reply, fallback;
  std::vector<std::string> transcripts;
  long inactivity_ms = -1;
  bool until_stdin_eof = false;
};

std::optional<Options> parse(int argc, char **argv) {
  if (argc < 2) return std::nullopt;
  Options options;
  options.service = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };
    if (arg == "--tls") {
      options.server.tls = true;
    } else if (arg == "--stdin") {
      options.until_stdin_eof = true;
    } else if (arg == "--port" || arg == "--address" || arg == "--api-key" || arg == "--reply" || arg == "--transcript" ||
               arg == "--fallback-transcript" || arg == "--inactivity-timeout-ms") {
      const auto v = value();
      if (!v) return std::nullopt;
      if (arg == "--port") options.server.port = static_cast<uint16_t>(std::strtoul(v->c_str(), nullptr, 10));
      if (arg == "--address") options.server.address = *v;
      if (arg == "--api-key") options.api_key = *v;
      if (arg == "--reply") options.reply = *v;
      if (arg == "--transcript") options.transcripts.push_back(*v);
      if (arg == "--fallback-transcript") options.fallback = *v;
      if (arg == "--inactivity-timeout-ms") options.inactivity_ms = std::strtol(v->c_str(), nullptr, 10);
    } else {
      return std::nullopt;
    }
  }
  return options;
}

// Keeps whichever fake runs, and says where it listens.
struct Running {
  std::shared_ptr<void> fake;
  FakeServer *server = nullptr;
};

template <typename Fake>
void script_stt(Fake &fake, const Options &options) {
  for (const auto &text : options.transcripts) fake.add_transcript(text);
  if (options.fallback) fake.set_fallback_transcript(options.fallback);
}

std::optional<Running> start(const Options &options) {
  Running running;
  if (options.service == "openai") {
    auto fake = std::make_shared<OpenAiFake>(options.server);
    if (!options.api_key.empty()) fake->set_api_key(options.api_key);
    if (options.reply) fake->set_reply(*options.reply);
    script_stt(*fake, options);
    running.server = &fake->server();
    running.fake = fake;
  } else if (options.service == "elevenlabs") {
    auto fake = std::make_shared<ElevenLabsFake>(options.server);
    if (!options.api_key.empty()) fake->set_api_key(options.api_key);
    if (options.inactivity_ms > 0) fake->set_inactivity_timeout(Ms(options.inactivity_ms));
    script_stt(*fake, options);
    running.server = &fake->server();
    running.fake = fake;
  } else if (options.service == "deepgram") {
    auto fake = std::make_shared<DeepgramFake>(options.server);
    if (!options.api_key.empty()) fake->set_api_key(options.api_key);
    if (options.inactivity_ms > 0) fake->set_inactivity_timeout(Ms(options.inactivity_ms));
    script_stt(*fake, options);
    running.server = &fake->server();
    running.fake = fake;
  } else if (options.service == "azure") {
    auto fake = std::make_shared<AzureSpeechFake>(options.server);
    if (!options.api_key.empty()) fake->set_api_key(options.api_key);
    script_stt(*fake, options);
    running.server = &fake->server();
    running.fake = fake;
  } else {
    return std::nullopt;
  }
  return running;
}

}  // namespace

int main(int argc, char **argv) {
  const auto options = parse(argc, argv);
  if (!options) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  // Signals are taken by sigwait() below; blocked before any server thread exists so
  // that no other thread receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::optional<Running> running;
  try {
    running = start(*options);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "parley-fake: %s\n", e.what());
    return 1;
  }
  if (!running) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::printf("PORT=%u\n", static_cast<unsigned>(running->server->port()));
  if (running->server->tls()) std::printf("CA_FILE=%s\n", running->server->ca_file().c_str());
  std::fflush(stdout);

  if (options->until_stdin_eof) {
    std::string ignored;
    while (std::getline(std::cin, ignored)) {
    }
  } else {
    int signal = 0;
    sigwait(&signals, &signal);
  }
  running.reset();
  return 0;
}
