package dev.parley;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Dispatches PROVIDER_REQUEST events to providers implemented in Java: each request runs on
 * a provider thread; STT audio and finalize go to the running request's input in order; a
 * cancel request cancels it. Called on the runtime's event thread only.
 */
final class ProviderDispatcher {
  /** Sends answers to the engine (the runtime; a fake in unit tests). Failures throw. */
  interface Answers {
    void pushAudio(long request, short[] samples);

    void pushText(long request, String text);

    void pushToolCall(long request, int index, String callId, String name, String arguments);

    void pushTranscript(long request, String text, boolean isFinal, boolean speechFinal);

    void complete(long request, int status, String detail);
  }

  private record Registered(Object implementation, int sampleRate) {}

  private static final AtomicInteger THREADS = new AtomicInteger();

  private final Answers answers;
  private final Map<String, Registered> registered = new ConcurrentHashMap<>();
  private final Map<Long, ProviderRequest> active = new ConcurrentHashMap<>();
  private final Object executorLock = new Object();
  private ExecutorService executor;
  private volatile boolean closed;

  ProviderDispatcher(Answers answers) {
    this.answers = answers;
  }

  /** Registers (or, with null, forgets) the implementation of provider kind/name. */
  void set(String kind, String name, Object implementation, int sampleRate) {
    String key = kind + "/" + name;
    if (implementation == null) {
      registered.remove(key);
    } else {
      registered.put(key, new Registered(implementation, sampleRate));
    }
  }

  boolean isEmpty() {
    return registered.isEmpty();
  }

  /** Takes a provider request for a Java implementation; false for any other event. */
  boolean dispatch(Event event) {
    if (event.type() != EventType.PROVIDER_REQUEST) return false;
    Map<String, Object> body;
    try {
      body = MiniJson.object(MiniJson.parse(event.payload()));
    } catch (IllegalArgumentException malformed) {
      return false;
    }
    String kind = String.valueOf(body.get("kind"));
    String provider = String.valueOf(body.get("provider"));
    Registered target = registered.get(kind + "/" + provider);
    if (target == null) return false;
    long id = MiniJson.number(body.get("request"), 0);
    String op = String.valueOf(body.get("op"));
    switch (op) {
      case "synthesize", "complete", "start" -> start(op, id, provider, event, body, target);
      case "audio" -> {
        if (active.get(id) instanceof SttRequest stt) stt.offer(new SttInput(event.audio(), false));
      }
      case "finalize" -> {
        if (active.get(id) instanceof SttRequest stt) stt.offer(SttInput.FINALIZE);
      }
      case "cancel" -> {
        ProviderRequest request = active.remove(id);
        if (request != null) request.markCancelled();
      }
      default -> {
        // An operation newer than this binding: nothing to do.
      }
    }
    return true;
  }

  private void start(String op, long id, String provider, Event event, Map<String, Object> body, Registered target) {
    Object impl = target.implementation();
    String session = event.sessionId();
    String payload = event.payload();
    ProviderRequest request;
    Runnable work;
    if (op.equals("synthesize") && impl instanceof TtsProvider tts) {
      TtsRequest r = new TtsRequest(id, provider, session, payload, answers, MiniJson.string(body.get("text")),
          target.sampleRate());
      request = r;
      work = () -> run(r, () -> tts.synthesize(r));
    } else if (op.equals("complete") && impl instanceof LlmProvider llm) {
      LlmRequest r = new LlmRequest(id, provider, session, payload, answers, body);
      request = r;
      work = () -> run(r, () -> llm.complete(r));
    } else if (op.equals("start") && impl instanceof SttProvider stt) {
      int rate = (int) MiniJson.number(body.get("sample_rate"), target.sampleRate());
      SttRequest r = new SttRequest(id, provider, session, payload, answers, rate);
      request = r;
      work = () -> run(r, () -> stt.recognize(r));
    } else {
      return;
    }
    active.put(id, request);
    if (closed) request.markCancelled();
    try {
      executor().execute(work);
    } catch (RejectedExecutionException e) {
      active.remove(id, request);
      request.markCancelled();
    }
  }

  @FunctionalInterface
  private interface Body {
    void run() throws Exception;
  }

  private void run(ProviderRequest request, Body body) {
    Throwable failure = null;
    try {
      body.run();
    } catch (Throwable t) {
      failure = t;
    } finally {
      active.remove(request.id(), request);
      if (request instanceof SttRequest stt) stt.endInput();
    }
    finish(request, failure);
    if (failure instanceof Error error) throw error; // after failing the request
  }

  /** Completes a request whose implementation returned, unless cancelled or already complete. */
  private static void finish(ProviderRequest request, Throwable failure) {
    if (request.isCancelled() || request.isCompleted()) return;
    if (failure instanceof InterruptedException) Thread.currentThread().interrupt();
    try {
      if (failure == null) {
        request.complete();
      } else if (failure instanceof ParleyException parley) {
        request.fail(parley.status(), parley.getMessage());
      } else {
        String message = failure.getMessage();
        request.fail(Status.EPROVIDER, message == null || message.isEmpty() ? failure.toString() : message);
      }
    } catch (ParleyException ignored) {
      // Nothing left to tell the engine (e.g. it rejected the detail JSON).
    }
  }

  private Executor executor() {
    synchronized (executorLock) {
      if (executor == null) {
        executor = Executors.newCachedThreadPool(task -> {
          Thread thread = new Thread(task, "parley-provider-" + THREADS.incrementAndGet());
          thread.setDaemon(true);
          return thread;
        });
      }
      return executor;
    }
  }

  /** The runtime is closing: every request in flight is cancelled; no new ones start. */
  void close() {
    closed = true;
    for (ProviderRequest request : active.values()) request.markCancelled();
    active.clear();
    synchronized (executorLock) {
      if (executor != null) executor.shutdown();
    }
  }
}
