// `openai` STT, per utterance: the audio pushed since the last finalize() is buffered and,
// at finalize(), sent as a WAV file in multipart/form-data to {base_url}/audio/transcriptions
// (../shared/protocols/openai-compatible.md §6). The answer becomes one final Transcript
// with speech_final = true. Also registered as "groq" (Groq serves the same route).
//
// Config ({"provider":"openai", ...}):
//   "base_url", "api_key" / "api_key_env", "headers", "verify_tls", "ca_file",
//   "connect_timeout_ms", "idle_timeout_ms", "max_retries"   as for the LLM (llm/openai.hpp)
//   "response_timeout_ms"  request start -> first response byte; default 15000
//   "model"                openai: "gpt-4o-mini-transcribe"; groq: "whisper-large-v3-turbo"
//   "language"             ISO-639-1 hint ("en"); "prompt" text to steer spelling
//   "temperature"          0..1; the server's default when absent
//   "sample_rate"          rate of push_audio; default 16000
//   "max_utterance_ms"     the most audio one request carries, the latest kept; default 60000
//
// Requests of successive utterances may overlap; their transcripts arrive in utterance
// order. An utterance shorter than 100 ms (the API's minimum) gives an empty final without
// a request. A failed utterance reports an error that is fatal for auth, bad_request and
// tls (they would fail again) and not fatal otherwise: that utterance is lost, the stream
// goes on.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config_reader.hpp"
#include "providers/stt/stt.hpp"

namespace parley::providers {

class Registry;

/// Registers the STT "openai" and "groq" (register_openai in llm/openai.hpp calls it).
void register_openai_stt(Registry &registry);

namespace openai {

struct Flavor;

struct FormPart {
  std::string name;
  std::string filename;      // "" for a plain field
  std::string content_type;  // "" for a plain field
  std::string data;
};

/// A multipart/form-data body (RFC 7578) for `boundary`; quotes in names are %22-escaped.
std::string multipart_body(std::string_view boundary, const std::vector<FormPart> &parts);

/// A random boundary that no WAV or text part can plausibly contain.
std::string make_boundary();

/// The transcript text of a transcription response: {"text":...} for JSON, the body itself
/// for text/plain. nullopt and a reason in `problem` otherwise.
std::optional<std::string> transcription_text(std::string_view content_type, std::string_view body,
                                              std::string &problem);

std::unique_ptr<Stt> make_stt(core::ConfigReader &config, const ProviderContext &context, const Flavor &flavor);

}  // namespace openai
}  // namespace parley::providers
