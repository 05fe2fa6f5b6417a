package dev.parley;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A Parley runtime: the engine's threads, its event queue, and the listeners and sessions
 * created on it. Close it (try-with-resources) to stop everything; closing also closes the
 * listeners and sessions still open on it.
 *
 * <p>Events: {@link #addEventListener} starts a thread owned by this binding
 * ("parley-events") that polls the engine's queue and calls the listeners; engine threads
 * never enter the JVM. Without listeners, {@link #pollEvent} reads the queue directly.
 *
 * <p>Note: in package {@code dev.parley} this class shadows {@code java.lang.Runtime}; import
 * it by name ({@code import dev.parley.Runtime;}) rather than with {@code dev.parley.*}.
 */
public final class Runtime extends NativeHandle {
  /** Posted by close() to wake the event thread at once; never delivered to listeners. */
  private static final String WAKE = "{\"parley.binding\":\"wake\"}";
  private static final int POLL_MS = 200;

  private final CopyOnWriteArrayList<EventListener> listeners = new CopyOnWriteArrayList<>();
  private final Set<NativeHandle> children = ConcurrentHashMap.newKeySet();
  private final ConcurrentHashMap<String, CompletableFuture<Void>> stopWaiters = new ConcurrentHashMap<>();
  private final Object dispatcherLock = new Object();
  private volatile Thread dispatcher;
  private volatile boolean stopping;

  private Runtime(long pointer) {
    super(pointer, "runtime");
  }

  /** A runtime with all defaults. */
  public static Runtime create() {
    return create(null);
  }

  /**
   * A runtime from a JSON configuration (null or "{}" for defaults), e.g.
   * {@code {"io_threads": 2, "log": {"level": "warn"}}}.
   *
   * @throws ParleyException {@link Status#ECONFIG} naming the JSON path of a bad key
   */
  public static Runtime create(String configJson) {
    return new Runtime(ParleyNative.parley_swig_runtime_create(configJson));
  }

  /** Adds a listener and starts the event thread if it is not running. */
  public void addEventListener(EventListener listener) {
    if (listener == null) throw new NullPointerException("listener");
    acquire();
    try {
      listeners.add(listener);
      synchronized (dispatcherLock) {
        if (dispatcher == null && !stopping) {
          Thread thread = new Thread(this::dispatch, "parley-events");
          thread.setDaemon(true);
          dispatcher = thread;
          thread.start();
        }
      }
    } finally {
      release();
    }
  }

  /** Removes a listener; the event thread keeps running (events are then dropped). */
  public void removeEventListener(EventListener listener) {
    listeners.remove(listener);
  }

  /** Whether the binding's event thread is delivering events. */
  public boolean isDispatching() {
    return dispatcher != null && !stopping;
  }

  /**
   * Waits up to {@code timeout} (null: forever) for the next event; null if none came.
   * Only while no event listener was added (the event thread owns the queue then).
   */
  public Event pollEvent(Duration timeout) {
    if (dispatcher != null) {
      throw new ParleyException(Status.ESTATE.code(), "events are delivered to listeners; pollEvent is unavailable");
    }
    long runtime = acquire();
    try {
      long event = ParleyNative.parley_swig_runtime_poll_event(runtime, Waits.millis(timeout));
      if (event == 0) return null;
      try {
        return Event.copyOf(event);
      } finally {
        ParleyNative.parley_event_release(event);
      }
    } finally {
      release();
    }
  }

  /**
   * Queues a USER event carrying {@code payloadJson} (valid JSON).
   *
   * @throws ParleyException {@link Status#EFORMAT} (not JSON), {@link Status#EFULL} (queue full)
   */
  public void postEvent(String payloadJson) {
    long runtime = acquire();
    try {
      ParleyNative.parley_runtime_post_event(runtime, payloadJson);
    } finally {
      release();
    }
  }

  /** Writes one record through the runtime's logger (with redaction). */
  public void log(LogLevel level, String message) {
    long runtime = acquire();
    try {
      ParleyNative.parley_runtime_log(runtime, level.code(), message);
    } finally {
      release();
    }
  }

  /**
   * Starts a listener, e.g. {@code {"transport": "twilio", "address": "127.0.0.1", "port": 0,
   * "path": "/twilio", "behaviour": "echo"}}. Its calls produce session events here.
   */
  public Listener startListener(String configJson) {
    long runtime = acquire();
    try {
      return adopt(new Listener(this, ParleyNative.parley_swig_listener_start(runtime, configJson)));
    } finally {
      release();
    }
  }

  /**
   * Creates a host-transport session (your media stack carries the call): push caller audio
   * with {@link Session#pushAudio}, receive agent audio as {@link EventType#AUDIO} events.
   */
  public Session createHostSession(String configJson) {
    long runtime = acquire();
    try {
      return adopt(new Session(this, ParleyNative.parley_swig_session_create_host(runtime, configJson), true));
    } finally {
      release();
    }
  }

  /** A handle to a live session by id (from {@link Event#sessionId()}). */
  public Session openSession(String sessionId) {
    long runtime = acquire();
    try {
      return adopt(new Session(this, ParleyNative.parley_swig_session_open(runtime, sessionId), false));
    } finally {
      release();
    }
  }

  /**
   * Stops the event thread, closes the listeners and sessions still open, and frees the
   * runtime. Idempotent. From a listener callback the event thread is not joined.
   */
  @Override
  public void close() {
    super.close();
  }

  @Override
  void beforeClose() {
    stopping = true;
    Thread thread;
    synchronized (dispatcherLock) {
      thread = dispatcher;
    }
    for (NativeHandle child : children) child.close();
    if (thread != null) {
      try {
        ParleyNative.parley_runtime_post_event(closingPointer(), WAKE);
      } catch (ParleyException full) {
        // Queue full: the event thread notices `stopping` within POLL_MS anyway.
      }
      if (thread != Thread.currentThread()) {
        boolean interrupted = false;
        for (;;) {
          try {
            thread.join();
            break;
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
        if (interrupted) Thread.currentThread().interrupt();
      }
    }
    for (CompletableFuture<Void> waiter : stopWaiters.values()) waiter.complete(null);
    stopWaiters.clear();
  }

  @Override
  void destroy(long pointer) {
    ParleyNative.parley_runtime_destroy(pointer);
  }

  private <T extends NativeHandle> T adopt(T child) {
    children.add(child);
    if (isClosed()) child.close();
    return child;
  }

  /** Children call this from their destroy. */
  void forget(NativeHandle child) {
    children.remove(child);
  }

  /** Completed when the session's stopped event is delivered (or this runtime closes). */
  CompletableFuture<Void> whenStopped(String sessionId) {
    return stopWaiters.computeIfAbsent(sessionId, id -> new CompletableFuture<>());
  }

  void stopWaitDone(String sessionId) {
    CompletableFuture<Void> waiter = stopWaiters.remove(sessionId);
    if (waiter != null) waiter.complete(null);
  }

  private void dispatch() {
    while (!stopping) {
      long event;
      long runtime;
      try {
        runtime = acquire();
      } catch (ParleyException closed) {
        return;
      }
      try {
        event = ParleyNative.parley_swig_runtime_poll_event(runtime, POLL_MS);
      } catch (ParleyException e) {
        report(e); // only EINVAL is possible here: a bug, not something to retry
        return;
      } finally {
        release();
      }
      if (event == 0) continue;
      Event copy;
      try {
        copy = Event.copyOf(event);
      } finally {
        ParleyNative.parley_event_release(event);
      }
      deliver(copy);
    }
  }

  private void deliver(Event event) {
    EventType type = event.type();
    if (type == EventType.USER && WAKE.equals(event.payload())) return;
    if (type == EventType.SESSION_STOPPED) stopWaitDone(event.sessionId());
    for (EventListener listener : listeners) {
      try {
        listener.onEvent(event);
      } catch (RuntimeException | Error e) {
        report(e);
      }
    }
  }

  private static void report(Throwable error) {
    Thread thread = Thread.currentThread();
    thread.getUncaughtExceptionHandler().uncaughtException(thread, error);
  }
}
