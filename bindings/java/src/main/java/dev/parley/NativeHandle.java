package dev.parley;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * An owned native pointer with SafeHandle semantics: every call holds a reference while it
 * runs, so {@link #close()} from another thread never frees the object under a call; the
 * native destroy runs exactly once, when the handle is closed and no call is in flight.
 * Using a closed handle throws {@link ParleyException} with {@link Status#ESTATE}.
 */
abstract class NativeHandle implements AutoCloseable {
  private static final int CLOSED = 1;
  private static final int REF = 2;

  private final long pointer;
  private final String what;
  /** Bit 0: closed. The rest: calls in flight, times two. */
  private final AtomicInteger state = new AtomicInteger();

  NativeHandle(long pointer, String what) {
    if (pointer == 0) throw new ParleyException(Status.EINTERNAL.code(), what + ": NULL handle");
    this.pointer = pointer;
    this.what = what;
  }

  /** Frees the native object; called once. */
  abstract void destroy(long pointer);

  /** Called once by close(), before the native object is freed (e.g. close children). */
  void beforeClose() {}

  final long acquire() {
    for (;;) {
      int current = state.get();
      if ((current & CLOSED) != 0) throw ParleyException.closed(what);
      if (state.compareAndSet(current, current + REF)) return pointer;
    }
  }

  /** The pointer without a reference: only for beforeClose(), while close() holds one. */
  final long closingPointer() {
    return pointer;
  }

  final void release() {
    if (state.addAndGet(-REF) == CLOSED) destroy(pointer);
  }

  public final boolean isClosed() {
    return (state.get() & CLOSED) != 0;
  }

  /** Idempotent and thread-safe; the native destroy waits for calls in flight. */
  @Override
  public void close() {
    for (;;) {
      int current = state.get();
      if ((current & CLOSED) != 0) return;
      // Closed (no new call starts) while this close holds a reference of its own, so the
      // object outlives beforeClose() even if the last call in flight ends meanwhile.
      if (state.compareAndSet(current, (current | CLOSED) + REF)) break;
    }
    try {
      beforeClose();
    } finally {
      release();
    }
  }

  @Override
  public String toString() {
    return what + (isClosed() ? " (closed)" : "");
  }
}
