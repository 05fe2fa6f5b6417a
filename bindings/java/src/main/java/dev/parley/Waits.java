package dev.parley;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/** Daemon threads that run blocking native waits (wait_mark, listener_stop) for futures. */
final class Waits {
  private static final AtomicInteger COUNT = new AtomicInteger();

  static final ExecutorService EXECUTOR = Executors.newCachedThreadPool(task -> {
    Thread thread = new Thread(task, "parley-wait-" + COUNT.incrementAndGet());
    thread.setDaemon(true);
    return thread;
  });

  private Waits() {}

  /** A Duration as the C API's timeout_ms: null means forever (-1), capped at Integer.MAX_VALUE. */
  static int millis(Duration timeout) {
    if (timeout == null) return -1;
    if (timeout.isNegative()) {
      throw new ParleyException(Status.EINVAL.code(), "timeout must not be negative: " + timeout);
    }
    long ms = timeout.toMillis();
    return ms > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) ms;
  }
}
