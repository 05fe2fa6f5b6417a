// STT decorators that wrap any Stt: reconnection with gap replay, a tee that feeds a second
// recogniser for comparison, and an echo-discard window after agent speech. They compose:
// tee(echo_discard(reconnecting(deepgram))).
#pragma once

#include <chrono>
#include <memory>

#include "providers/stt/stt.hpp"

namespace parley::providers {

struct ReconnectPolicy {
  int max_attempts = 5;                              // consecutive failed reconnects before a fatal error
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5'000};
  double jitter = 0.25;                              // ± this fraction of each backoff
  std::chrono::milliseconds max_gap{10'000};         // audio kept while disconnected; oldest dropped beyond
};

/// Restarts the inner stream when it drops (a non-fatal error), after exponential backoff
/// with jitter, and replays the audio pushed meanwhile (bounded by max_gap). Transcript times
/// stay on one timeline across reconnects. After max_attempts failed reconnects in a row it
/// reports a fatal error. Each drop is reported as a non-fatal error (a warning).
std::unique_ptr<Stt> make_reconnecting_stt(std::unique_ptr<Stt> inner, ReconnectPolicy policy,
                                           const ProviderContext &context);

/// Feeds both recognisers the same audio. The primary drives the callbacks; the secondary's
/// transcripts and errors are only logged ("stt tee: secondary ...") and can never fail the
/// call, even when it throws.
std::unique_ptr<Stt> make_tee_stt(std::unique_ptr<Stt> primary, std::unique_ptr<Stt> secondary,
                                  const ProviderContext &context);

/// Drops transcripts and speech-start hints that arrive within `window` after the agent
/// stopped speaking (set_agent_speaking(false)): the tail of the agent's own voice coming back
/// through the caller's line. Results during agent speech pass (barge-in needs them).
std::unique_ptr<Stt> make_echo_discard_stt(std::unique_ptr<Stt> inner, std::chrono::milliseconds window,
                                           const ProviderContext &context);

}  // namespace parley::providers
