package dev.parley;

import java.time.Duration;
import java.util.Map;
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
 * <p>Providers: {@link #registerTts}, {@link #registerLlm} and {@link #registerStt} register
 * voices, models and recognisers implemented in Java. Their requests reach the event thread
 * as events (the engine never calls into the JVM) and run on provider threads of the binding;
 * registering one starts the event thread.
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
  private final ProviderDispatcher providers = new ProviderDispatcher(new RuntimeAnswers());
  /**
   * Session.speak() marks the engine does not know yet: key session + NUL + mark -> failure (""
   * while pending). Failures of speak() are recorded for any mark; Session.close() forgets them.
   */
  private final ConcurrentHashMap<String, String> speaks = new ConcurrentHashMap<>();

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
      startDispatcher();
    } finally {
      release();
    }
  }

  private void startDispatcher() {
    synchronized (dispatcherLock) {
      if (dispatcher == null && !stopping) {
        Thread thread = new Thread(this::dispatch, "parley-events");
        thread.setDaemon(true);
        dispatcher = thread;
        thread.start();
      }
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
      Event copy;
      try {
        copy = Event.copyOf(event);
      } finally {
        ParleyNative.parley_event_release(event);
      }
      observeSpeak(copy);
      return copy;
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

  /**
   * The runtime's counters and latency distributions since it was created (calls, frames,
   * agent turns, tools, tokens, latency percentiles). Thread-safe; calls may be running.
   */
  public RuntimeStats stats() {
    return new RuntimeStats(statsJson());
  }

  /** {@link #stats()} as the engine's JSON document. */
  public String statsJson() {
    long runtime = acquire();
    try {
      return ParleyNative.parley_swig_runtime_stats_json(runtime);
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

  // ---- Host-implemented providers ----

  /**
   * Registers a voice implemented in Java under {@code name}; {@code sampleRate} is the rate of
   * the PCM16 it pushes (0: 16000). Configs then name it like a built-in voice, e.g.
   * {@code session.speak("Hello.", "{\"tts\": {\"provider\": \"my-voice\"}}")}. A later
   * registration of the same name replaces it. Starts the event thread.
   *
   * @throws ParleyException {@link Status#EINVAL} (empty name), {@link Status#ECONFIG} (rate)
   */
  public void registerTts(String name, int sampleRate, TtsProvider tts) {
    if (tts == null) throw new NullPointerException("tts");
    registerProvider("tts", name, rateOptions(sampleRate), tts);
  }

  /** Registers a language model implemented in Java under {@code name}. Starts the event thread. */
  public void registerLlm(String name, LlmProvider llm) {
    if (llm == null) throw new NullPointerException("llm");
    registerProvider("llm", name, null, llm);
  }

  /**
   * Registers a speech recogniser implemented in Java; {@code sampleRate} is the rate of the
   * audio it receives (0: 16000). Starts the event thread.
   */
  public void registerStt(String name, int sampleRate, SttProvider stt) {
    if (stt == null) throw new NullPointerException("stt");
    registerProvider("stt", name, rateOptions(sampleRate), stt);
  }

  /**
   * The general form: {@code kind} "llm", "tts" or "stt"; {@code optionsJson} null or
   * {@code {"sample_rate": N}}; {@code implementation} a {@link TtsProvider},
   * {@link LlmProvider} or {@link SttProvider} of that kind, or null: the requests are then
   * delivered as {@link EventType#PROVIDER_REQUEST} events, answered with
   * {@link #providerRequest(long)}.
   *
   * @throws ParleyException {@link Status#EINVAL} (bad kind, empty name, an implementation
   *     of another kind), {@link Status#ECONFIG} (options)
   */
  public void registerProvider(String kind, String name, String optionsJson, Object implementation) {
    if (implementation != null) {
      boolean fits = switch (String.valueOf(kind)) {
        case "tts" -> implementation instanceof TtsProvider;
        case "llm" -> implementation instanceof LlmProvider;
        case "stt" -> implementation instanceof SttProvider;
        default -> true; // the engine rejects the kind with its own message
      };
      if (!fits) {
        throw new ParleyException(Status.EINVAL.code(),
            "a " + kind + " provider must implement " + (kind.equals("tts") ? "TtsProvider" : kind.equals("llm") ? "LlmProvider" : "SttProvider"));
      }
    }
    long runtime = acquire();
    try {
      // Known to the dispatcher first, so that a request right after registration finds it.
      if (kind != null && name != null) providers.set(kind, name, implementation, sampleRateOf(optionsJson));
      try {
        ParleyNative.parley_swig_provider_register(runtime, kind, name, optionsJson);
      } catch (RuntimeException e) {
        if (kind != null && name != null) providers.set(kind, name, null, 0);
        throw e;
      }
      if (implementation != null) startDispatcher();
    } finally {
      release();
    }
  }

  /**
   * A handle to answer request {@code id} (from a {@link EventType#PROVIDER_REQUEST} event of a
   * provider registered without an implementation). Answers to an unknown id throw
   * {@link Status#ENOTFOUND}.
   */
  public ProviderRequest providerRequest(long id) {
    return new ProviderRequest(id, "", "", "", "{}", new RuntimeAnswers(), false);
  }

  private static String rateOptions(int sampleRate) {
    return sampleRate == 0 ? null : "{\"sample_rate\": " + sampleRate + "}";
  }

  private static int sampleRateOf(String optionsJson) {
    if (optionsJson == null) return 16000;
    try {
      long rate = MiniJson.number(MiniJson.object(MiniJson.parse(optionsJson)).get("sample_rate"), 16000);
      return (int) rate;
    } catch (IllegalArgumentException malformed) {
      return 16000; // the engine rejects it
    }
  }

  /** Answers through this runtime; a closed runtime throws {@link Status#ESTATE}. */
  private final class RuntimeAnswers implements ProviderDispatcher.Answers {
    @Override
    public void pushAudio(long request, short[] samples) {
      long runtime = acquire();
      try {
        ParleyNative.parley_provider_push_audio(runtime, request, samples);
      } finally {
        release();
      }
    }

    @Override
    public void pushText(long request, String text) {
      long runtime = acquire();
      try {
        ParleyNative.parley_provider_push_text(runtime, request, text);
      } finally {
        release();
      }
    }

    @Override
    public void pushToolCall(long request, int index, String callId, String name, String arguments) {
      long runtime = acquire();
      try {
        ParleyNative.parley_provider_push_tool_call(runtime, request, index, callId, name, arguments);
      } finally {
        release();
      }
    }

    @Override
    public void pushTranscript(long request, String text, boolean isFinal, boolean speechFinal) {
      long runtime = acquire();
      try {
        ParleyNative.parley_provider_push_transcript(runtime, request, text, isFinal ? 1 : 0, speechFinal ? 1 : 0);
      } finally {
        release();
      }
    }

    @Override
    public void complete(long request, int status, String detail) {
      long runtime = acquire();
      try {
        ParleyNative.parley_provider_complete(runtime, request, status, detail);
      } finally {
        release();
      }
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
    providers.close(); // Java providers' requests in flight see their cancellation
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

  // ---- Session.speak() marks: waitMark waits for them while their text is synthesised ----

  private static String speakKey(String sessionId, String mark) {
    return sessionId + '\0' + mark;
  }

  void speakAdded(String sessionId, String mark) {
    speaks.putIfAbsent(speakKey(sessionId, mark), ""); // its failure may have been read already
  }

  /** null: not a pending speak() mark; "": pending; else the failure's message. */
  String speakState(String sessionId, String mark) {
    return speaks.get(speakKey(sessionId, mark));
  }

  void speakForget(String sessionId, String mark) {
    speaks.remove(speakKey(sessionId, mark));
  }

  void speakForgetSession(String sessionId) {
    speaks.keySet().removeIf(key -> key.startsWith(sessionId + '\0'));
  }

  /** Follows the events that settle a speak() mark: its MARK event, or a provider failure. */
  private void observeSpeak(Event event) {
    EventType type = event.type();
    if (type != EventType.MARK && type != EventType.SESSION_ERROR) return;
    Map<String, Object> payload;
    try {
      payload = MiniJson.object(MiniJson.parse(event.payload()));
    } catch (IllegalArgumentException malformed) {
      return;
    }
    if (type == EventType.MARK) {
      String name = MiniJson.string(payload.get("name"));
      if (name != null) speakForget(event.sessionId(), name);
      return;
    }
    String mark = MiniJson.string(payload.get("mark"));
    Map<String, Object> error = MiniJson.object(payload.get("error"));
    if (mark == null || error.isEmpty()) return;
    String message = "speak: " + MiniJson.string(error.get("provider")) + ": " + MiniJson.string(error.get("message"));
    // Recorded even before speak() has returned the mark: the failure can be that quick.
    speaks.put(speakKey(event.sessionId(), mark), message);
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
      if (providers.dispatch(copy)) continue;
      deliver(copy);
    }
  }

  private void deliver(Event event) {
    EventType type = event.type();
    if (type == EventType.USER && WAKE.equals(event.payload())) return;
    observeSpeak(event);
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
