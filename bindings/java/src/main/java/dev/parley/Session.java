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
   * after {@code timeout} (null: no limit). The wait runs on a binding thread.
   */
  public CompletableFuture<MarkOutcome> waitMark(String name, Duration timeout) {
    int timeoutMs = Waits.millis(timeout);
    byte[] check = NativeStrings.encode(name); // reject a NUL before going async
    if (check == null) throw new ParleyException(Status.EINVAL.code(), "mark name must not be null");
    long session = acquire();
    try {
      return CompletableFuture.supplyAsync(() -> {
        try {
          return MarkOutcome.fromCode(ParleyNative.parley_swig_session_wait_mark(session, name, timeoutMs));
        } finally {
          release();
        }
      }, Waits.EXECUTOR);
    } catch (RuntimeException e) {
      release();
      throw e;
    }
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

  @Override
  void destroy(long pointer) {
    ParleyNative.parley_session_destroy(pointer);
    runtime.forget(this);
  }
}
