package dev.parley;

/** A language model implemented in Java: register it with {@link Runtime#registerLlm}. */
@FunctionalInterface
public interface LlmProvider {
  /**
   * Answers {@link LlmRequest#messages()}: stream text with {@link LlmRequest#pushText} and
   * tool calls with {@link LlmRequest#pushToolCall}, then return (or call
   * {@link LlmRequest#finish} to report token usage). Throwing fails the request. Runs on a
   * provider thread; {@link ProviderRequest#cancellation()} completes on cancellation.
   */
  void complete(LlmRequest request) throws Exception;
}
