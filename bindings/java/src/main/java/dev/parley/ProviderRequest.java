package dev.parley;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One request to a host-implemented provider, answered by id from any thread. The push
 * methods fit the provider's kind (the engine rejects others with {@link Status#EINVAL}).
 *
 * <p>For a request dispatched to a Java implementation, an answer after the engine cancelled
 * the request is ignored: the engine's {@link Status#ENOTFOUND} is swallowed and
 * {@link #cancellation()} completes. For a handle from {@link Runtime#providerRequest(long)},
 * every failure throws.
 */
public class ProviderRequest {
  private final long id;
  private final String kind;
  private final String provider;
  private final String sessionId;
  private final String payload;
  private final ProviderDispatcher.Answers answers;
  private final boolean dispatched;
  private final CompletableFuture<Void> cancelled = new CompletableFuture<>();
  private final AtomicBoolean completed = new AtomicBoolean();

  ProviderRequest(long id, String kind, String provider, String sessionId, String payload,
                  ProviderDispatcher.Answers answers, boolean dispatched) {
    this.id = id;
    this.kind = kind;
    this.provider = provider;
    this.sessionId = sessionId == null ? "" : sessionId;
    this.payload = payload == null ? "{}" : payload;
    this.answers = answers;
    this.dispatched = dispatched;
  }

  /** The request id (the payload's "request"). */
  public long id() {
    return id;
  }

  /** "llm", "tts" or "stt". */
  public String kind() {
    return kind;
  }

  /** The name the provider was registered under. */
  public String provider() {
    return provider;
  }

  /** The requesting session ("" outside a call). */
  public String sessionId() {
    return sessionId;
  }

  /** The request's JSON payload, as parley.h documents it. */
  public String payload() {
    return payload;
  }

  /** Whether the engine cancelled the request (or the runtime closed). */
  public boolean isCancelled() {
    return cancelled.isDone();
  }

  /** Completes when the engine cancels the request or the runtime closes (a copy each call). */
  public CompletableFuture<Void> cancellation() {
    return cancelled.copy();
  }

  /** TTS answer: PCM16 mono at the provider's sample rate (copied). */
  public void pushAudio(short[] samples) {
    answer(false, a -> a.pushAudio(id, samples));
  }

  /** LLM answer: a text delta. */
  public void pushText(String text) {
    answer(false, a -> a.pushText(id, text));
  }

  /**
   * LLM answer: a fragment of tool call {@code index} (0..127): {@code callId} and
   * {@code name} once (null afterwards), {@code arguments} JSON text in pieces.
   */
  public void pushToolCall(int index, String callId, String name, String arguments) {
    answer(false, a -> a.pushToolCall(id, index, callId, name, arguments));
  }

  /** STT answer: a transcript; {@code speechFinal} when the utterance ended. */
  public void pushTranscript(String text, boolean isFinal, boolean speechFinal) {
    answer(false, a -> a.pushTranscript(id, text, isFinal, speechFinal));
  }

  /** Ends the request successfully (an implementation that returns is completed for it). */
  public void complete() {
    complete(null);
  }

  /**
   * Ends the request successfully with {@code detailJson}: null or, for an LLM,
   * {@code {"finish_reason": "stop", "usage": {"prompt_tokens": N, "completion_tokens": M}}}.
   */
  public void complete(String detailJson) {
    answer(true, a -> a.complete(id, Status.OK.code(), detailJson));
  }

  /** Fails the request; {@code message} is what the session's error event carries. */
  public void fail(String message) {
    fail(Status.EPROVIDER, message);
  }

  /** Fails the request with a status ({@link Status#EPROVIDER} for OK or null). */
  public void fail(Status status, String message) {
    int code = status == null || status == Status.OK || status == Status.UNKNOWN ? Status.EPROVIDER.code() : status.code();
    answer(true, a -> a.complete(id, code, message == null ? "" : message));
  }

  @FunctionalInterface
  interface Call {
    void run(ProviderDispatcher.Answers answers);
  }

  private void answer(boolean ends, Call call) {
    if (ends && dispatched && !completed.compareAndSet(false, true)) {
      throw new ParleyException(Status.ENOTFOUND.code(), "host provider request " + id + " is already complete");
    }
    try {
      call.run(answers);
    } catch (ParleyException e) {
      boolean gone = e.code() == Status.ENOTFOUND.code() || e.code() == Status.ESTATE.code();
      if (!dispatched || !gone || (!ends && completed.get())) throw e;
      // Unknown to the engine although this side did not end it: the engine cancelled it
      // (its cancel request may still be on the way), or the runtime is closing.
      markCancelled();
    }
  }

  boolean isCompleted() {
    return completed.get();
  }

  void markCancelled() {
    cancelled.complete(null);
  }

  @Override
  public String toString() {
    return kind + " request " + id + " for " + provider;
  }
}
