package dev.parley;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A handle to one call: a Twilio call (from {@link Runtime#openSession}) or a host-transport
 * session (from {@link Runtime#createHostSession}). Several handles may refer to one call.
 * {@link #close()} releases the handle (and ends a host-transport session it created);
 * {@link #closeAsync()} ends the call and completes once it has stopped.
 */
public final class Session extends NativeHandle {
  private final Runtime runtime;
  private final String id;
  /** Created by createHostSession: destroying this handle ends the call. */
  private final boolean ownsCall;

  Session(Runtime runtime, long pointer, boolean ownsCall) {
    super(pointer, "session");
    this.runtime = runtime;
    this.id = ParleyNative.parley_session_id(pointer);
    this.ownsCall = ownsCall;
  }

  public String id() {
    return id;
  }

  /** The session's state; {@link SessionState#CLOSED} once this handle is closed. */
  public SessionState state() {
    long session;
    try {
      session = acquire();
    } catch (ParleyException closed) {
      return SessionState.CLOSED;
    }
    try {
      return SessionState.fromCode(ParleyNative.parley_session_get_state(session));
    } finally {
      release();
    }
  }

  /** Queues agent audio (PCM16 mono at 8000, 16000, 22050, 24000, 44100 or 48000 Hz). */
  public void play(short[] samples, int sampleRate) {
    long session = acquire();
    try {
      ParleyNative.parley_session_play(session, samples, sampleRate);
    } finally {
      release();
    }
  }

  /** Queues a named mark after the audio queued so far; a MARK event reports its outcome. */
  public void sendMark(String name) {
    long session = acquire();
    try {
      ParleyNative.parley_session_send_mark(session, name);
    } finally {
      release();
    }
  }

  /**
   * Completes when mark {@code name} is played or cleared, or with {@link MarkOutcome#TIMEOUT}
   * after {@code timeout} (null: no limit). The wait runs on a binding thread. A mark returned
   * by {@link #speak} is waited for while its text is still being synthesised (the engine
   * queues it afterwards); if the TTS fails, the future completes exceptionally with a
   * {@link ParleyException} ({@link Status#EPROVIDER}, the provider's message) once the
   * runtime's event thread or {@link Runtime#pollEvent} has read the failure.
   */
  public CompletableFuture<MarkOutcome> waitMark(String name, Duration timeout) {
    int timeoutMs = Waits.millis(timeout);
    byte[] check = NativeStrings.encode(name); // reject a NUL before going async
    if (check == null) throw new ParleyException(Status.EINVAL.code(), "mark name must not be null");
    long session = acquire();
    boolean spoken = runtime.speakState(id, name) != null;
    try {
      return CompletableFuture.supplyAsync(() -> {
        try {
          if (!spoken) return MarkOutcome.fromCode(ParleyNative.parley_swig_session_wait_mark(session, name, timeoutMs));
          return waitSpoken(session, name, timeoutMs);
        } finally {
          release();
        }
      }, Waits.EXECUTOR);
    } catch (RuntimeException e) {
      release();
      throw e;
    }
  }

  /** waitMark of a speak() mark: the engine answers UNKNOWN until synthesis has finished. */
  private MarkOutcome waitSpoken(long session, String name, int timeoutMs) {
    long deadline = timeoutMs < 0 ? Long.MAX_VALUE : System.nanoTime() + timeoutMs * 1_000_000L;
    boolean rechecked = false;
    for (;;) {
      long leftMs = timeoutMs < 0 ? 50 : Math.max(0, (deadline - System.nanoTime()) / 1_000_000L);
      MarkOutcome outcome = MarkOutcome.fromCode(
          ParleyNative.parley_swig_session_wait_mark(session, name, (int) Math.min(50, leftMs)));
      if (outcome == MarkOutcome.PLAYED || outcome == MarkOutcome.CLEARED) {
        runtime.speakForget(id, name);
        return outcome;
      }
      if (outcome == MarkOutcome.UNKNOWN) {
        String state = runtime.speakState(id, name);
        if (state == null) {
          if (rechecked) return MarkOutcome.UNKNOWN;
          rechecked = true; // its MARK event may have been read since the engine said unknown
          continue;
        }
        if (!state.isEmpty()) {
          runtime.speakForget(id, name);
          throw new ParleyException(Status.EPROVIDER.code(), state);
        }
        if (ParleyNative.parley_session_get_state(session) == SessionState.CLOSED.code()) {
          runtime.speakForget(id, name);
          return MarkOutcome.CLEARED; // the call ended before the text was spoken
        }
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return MarkOutcome.TIMEOUT;
        }
      }
      if (System.nanoTime() >= deadline) return MarkOutcome.TIMEOUT;
    }
  }

  /**
   * Speaks {@code text} to the caller with a TTS provider (built-in, or implemented in Java and
   * registered with {@link Runtime#registerTts}) as it is synthesised, then queues a mark.
   * Returns the mark's name at once: {@link #waitMark} (or a MARK event) reports when the
   * caller has heard it (waiting right away is fine); a provider failure arrives as a
   * SESSION_ERROR event whose payload is
   * {@code {"error": {"kind", "provider", "message"}, "mark"}}.
   *
   * @param optionsJson null or e.g. {@code {"tts": {"provider": "my-voice"}, "mark": "greeting"}}
   *     (default TTS espeak, default mark "speak-N")
   * @throws ParleyException {@link Status#ENOTFOUND} (no such provider), {@link Status#ECONFIG},
   *     {@link Status#ESTATE} (the session is closing)
   */
  public String speak(String text, String optionsJson) {
    long session = acquire();
    try {
      String mark = ParleyNative.parley_swig_session_speak(session, text, optionsJson);
      runtime.speakAdded(id, mark);
      return mark;
    } finally {
      release();
    }
  }

  /** Speaks with the default voice; returns the mark's name. */
  public String speak(String text) {
    return speak(text, null);
  }

  /** Drops queued agent audio here and at the far end (barge-in); pending marks clear. */
  public void clear() {
    long session = acquire();
    try {
      ParleyNative.parley_session_clear(session);
    } finally {
      release();
    }
  }

  /** Ends the call. Idempotent. */
  public void hangUp(String reason) {
    long session = acquire();
    try {
      ParleyNative.parley_session_hang_up(session, reason);
    } finally {
      release();
    }
  }

  public void hangUp() {
    hangUp(null);
  }

  /** Starts a stereo PCM16 WAV recording (caller left, agent right). */
  public void startRecording(String path) {
    long session = acquire();
    try {
      ParleyNative.parley_session_start_recording(session, path);
    } finally {
      release();
    }
  }

  public void stopRecording() {
    long session = acquire();
    try {
      ParleyNative.parley_session_stop_recording(session);
    } finally {
      release();
    }
  }

  /**
   * Ends the call (hangs up if live) and completes when it has stopped: when its
   * SESSION_STOPPED event is delivered, or, without an event listener, when its state is
   * CLOSED. Idempotent; completes at once on a closed handle.
   */
  public CompletableFuture<Void> closeAsync() {
    CompletableFuture<Void> stopped = runtime.whenStopped(id);
    long session;
    try {
      session = acquire();
    } catch (ParleyException closed) {
      runtime.stopWaitDone(id);
      return stopped;
    }
    try {
      ParleyNative.parley_session_close(session);
      if (ParleyNative.parley_session_get_state(session) == SessionState.CLOSED.code()) {
        runtime.stopWaitDone(id);
      } else if (!runtime.isDispatching()) {
        long waitSession = acquire();
        Waits.EXECUTOR.execute(() -> {
          try {
            while (ParleyNative.parley_session_get_state(waitSession) != SessionState.CLOSED.code()) {
              Thread.sleep(2);
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          } finally {
            release();
            runtime.stopWaitDone(id);
          }
        });
      }
    } finally {
      release();
    }
    return stopped;
  }

  /**
   * Releases the handle; for a host-transport session created by it, also ends the call (so
   * that waits in flight resolve). The native handle is freed once calls in flight return.
   * Idempotent.
   */
  @Override
  public void close() {
    super.close();
  }

  @Override
  void beforeClose() {
    if (!ownsCall) return;
    try {
      ParleyNative.parley_session_close(closingPointer());
    } catch (ParleyException ignored) {
      // Already closed: nothing to end.
    }
  }

  // ---- Host transport ----

  /** Host transport: caller audio, PCM16 mono at {@code sampleRate}. Copied. */
  public void pushAudio(short[] samples, int sampleRate) {
    long session = acquire();
    try {
      ParleyNative.parley_session_push_audio(session, samples, sampleRate);
    } finally {
      release();
    }
  }

  /** Host transport: caller audio as G.711 bytes (8000 Hz for telephony). */
  public void pushG711(byte[] bytes, G711 encoding, int sampleRate) {
    long session = acquire();
    try {
      ParleyNative.parley_session_push_g711(session, bytes, encoding.code(), sampleRate);
    } finally {
      release();
    }
  }

  /** Host transport: the caller pressed {@code digit} (0-9 * # A-D). */
  public void pushDtmf(String digit) {
    long session = acquire();
    try {
      ParleyNative.parley_session_push_dtmf(session, digit);
    } finally {
      release();
    }
  }

  /** Host transport: the audio before mark {@code name} (from an AUDIO_MARK event) has played. */
  public void pushMarkPlayed(String name) {
    long session = acquire();
    try {
      ParleyNative.parley_session_push_mark_played(session, name);
    } finally {
      release();
    }
  }

  /**
   * Answers a {@link EventType#TOOL_CALL} event of an agent session: {@code resultJson} is
   * what the tool returned, any JSON value (the model sees it as the tool message's content).
   * An answer after the tool's timeout, or for an unknown id, is ignored by the engine.
   *
   * @throws ParleyException {@link Status#EFORMAT} when {@code resultJson} is not JSON,
   *     {@link Status#ESTATE} when the session runs no agent or is closed
   */
  public void toolResult(String toolCallId, String resultJson) {
    long session = acquire();
    try {
      ParleyNative.parley_session_tool_result(session, toolCallId, resultJson);
    } finally {
      release();
    }
  }

  @Override
  void destroy(long pointer) {
    ParleyNative.parley_session_destroy(pointer);
    runtime.forget(this);
    runtime.speakForgetSession(id);
  }
}
