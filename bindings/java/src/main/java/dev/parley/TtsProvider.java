package dev.parley;

/**
 * A voice implemented in Java: register it with {@link Runtime#registerTts}; configs then name
 * it like a built-in voice ({@code {"tts": {"provider": "my-voice"}}}, e.g. in
 * {@link Session#speak}).
 */
@FunctionalInterface
public interface TtsProvider {
  /**
   * Speaks {@link TtsRequest#text()}: push PCM16 mono at {@link TtsRequest#sampleRate()} with
   * {@link TtsRequest#pushAudio} as often as needed, then return (the request completes).
   * Throwing fails the request: the session gets a SESSION_ERROR event carrying the message.
   * Runs on a provider thread of the binding, never an engine thread; it may block.
   * {@link ProviderRequest#cancellation()} completes when the engine no longer wants the
   * answer; later pushes are ignored.
   */
  void synthesize(TtsRequest request) throws Exception;
}
