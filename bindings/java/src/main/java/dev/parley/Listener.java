package dev.parley;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** A listener accepting calls of one transport (today: Twilio Media Streams). */
public final class Listener extends NativeHandle {
  private final Runtime runtime;
  private final int port;
  private final String id;

  Listener(Runtime runtime, long pointer) {
    super(pointer, "listener");
    this.runtime = runtime;
    this.port = ParleyNative.parley_listener_port(pointer);
    this.id = ParleyNative.parley_listener_id(pointer);
  }

  /** The bound TCP port (the real one when the configuration said 0). */
  public int port() {
    return port;
  }

  /** The listener's id, as in session events. */
  public String id() {
    return id;
  }

  /**
   * Stops accepting calls and lets live ones end for up to {@code drain} (null: forever);
   * calls still live then are hung up. Completes with how many were hung up.
   */
  public CompletableFuture<Long> stopAsync(Duration drain) {
    int drainMs = Waits.millis(drain);
    long listener = acquire();
    try {
      return CompletableFuture.supplyAsync(() -> {
        try {
          return ParleyNative.parley_swig_listener_stop(listener, drainMs);
        } finally {
          release();
        }
      }, Waits.EXECUTOR);
    } catch (RuntimeException e) {
      release();
      throw e;
    }
  }

  /** Stops accepting (without draining) and frees the listener; live calls carry on. Idempotent. */
  @Override
  public void close() {
    super.close();
  }

  @Override
  void destroy(long pointer) {
    ParleyNative.parley_listener_destroy(pointer);
    runtime.forget(this);
  }
}
