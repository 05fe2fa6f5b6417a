package dev.parley;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Providers implemented in Java, used by the engine through a host-transport session. */
class ProviderTest {
  static final String QUIET = "{\"log\": {\"sink\": \"none\"}}";

  static short[] tone(double hz, int rate, double seconds) {
    short[] s = new short[(int) (rate * seconds)];
    for (int i = 0; i < s.length; i++) s[i] = (short) (8000 * Math.sin(2 * Math.PI * hz * i / rate));
    return s;
  }

  static ParleyException expect(Status status, String text, Runnable call) {
    ParleyException e = assertThrows(ParleyException.class, call::run);
    assertEquals(status, e.status(), e.toString());
    assertTrue(e.getMessage().contains(text), e.getMessage() + " does not contain " + text);
    return e;
  }

  @Test
  void javaTtsSpeaksOnAHostSession() throws Exception {
    AtomicReference<TtsRequest> seen = new AtomicReference<>();
    AtomicInteger calls = new AtomicInteger();
    AtomicLong heard = new AtomicLong();
    AtomicLong energy = new AtomicLong();
    List<Event> unexpected = new CopyOnWriteArrayList<>();
    CompletableFuture<String> audioMark = new CompletableFuture<>();
    try (Runtime runtime = Runtime.create(QUIET)) {
      runtime.registerTts("java-tone", 16000, request -> {
        calls.incrementAndGet();
        seen.set(request);
        short[] samples = tone(440, request.sampleRate(), 0.3);
        for (int i = 0; i < samples.length; i += 1600) {
          request.pushAudio(java.util.Arrays.copyOfRange(samples, i, Math.min(samples.length, i + 1600)));
        }
      });
      Session session = runtime.createHostSession("{\"behaviour\": \"host\", \"output_rate\": 16000}");
      runtime.addEventListener(event -> {
        switch (event.type()) {
          case AUDIO -> {
            assertEquals(16000, event.sampleRate());
            heard.addAndGet(event.audio().length);
            for (short s : event.audio()) energy.addAndGet(Math.abs(s));
          }
          case AUDIO_MARK -> {
            String name = Json.field(event.payload(), "name");
            session.pushMarkPlayed(name);
            audioMark.complete(name);
          }
          case SESSION_ERROR, PROVIDER_REQUEST -> unexpected.add(event);
          default -> { }
        }
      });
      String mark = session.speak("Your appointment is booked.", "{\"tts\": {\"provider\": \"java-tone\"}, \"mark\": \"booked\"}");
      assertEquals("booked", mark);
      // Waiting right away works although the engine queues the mark only after synthesis.
      CompletableFuture<MarkOutcome> early = session.waitMark(mark, Duration.ofSeconds(15));
      assertEquals("booked", audioMark.get(15, TimeUnit.SECONDS));
      assertEquals(MarkOutcome.PLAYED, early.get(15, TimeUnit.SECONDS));
      assertEquals(MarkOutcome.PLAYED, session.waitMark(mark, Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS));
      assertEquals(MarkOutcome.UNKNOWN, session.waitMark("never-spoken", Duration.ofSeconds(1)).get(5, TimeUnit.SECONDS));
      assertTrue(heard.get() >= 4800, "heard " + heard.get());
      assertTrue(energy.get() / heard.get() > 1000, "silence, not the tone");
      assertTrue(unexpected.isEmpty(), unexpected.toString());
      TtsRequest request = seen.get();
      assertEquals(1, calls.get());
      assertEquals("Your appointment is booked.", request.text());
      assertEquals(session.id(), request.sessionId());
      assertEquals("tts", request.kind());
      assertEquals("java-tone", request.provider());
      assertTrue(request.id() > 0);
      assertFalse(request.isCancelled());
      assertTrue(session.speak("Again.", "{\"tts\": {\"provider\": \"java-tone\"}}").startsWith("speak-"));
    }
  }

  @Test
  void javaTtsFailureIsASessionError() throws Exception {
    CompletableFuture<Event> error = new CompletableFuture<>();
    try (Runtime runtime = Runtime.create(QUIET)) {
      runtime.registerTts("java-broken", 0, request -> {
        throw new IllegalStateException("voice server is down");
      });
      runtime.addEventListener(event -> {
        if (event.type() == EventType.SESSION_ERROR) error.complete(event);
      });
      Session session = runtime.createHostSession("{\"behaviour\": \"host\"}");
      session.speak("hi", "{\"tts\": {\"provider\": \"java-broken\"}, \"mark\": \"m1\"}");
      CompletableFuture<MarkOutcome> waited = session.waitMark("m1", Duration.ofSeconds(10));
      Event event = error.get(10, TimeUnit.SECONDS);
      // waitMark of the failed speak() completes with the provider's error.
      java.util.concurrent.ExecutionException failed =
          assertThrows(java.util.concurrent.ExecutionException.class, () -> waited.get(10, TimeUnit.SECONDS));
      ParleyException cause = (ParleyException) failed.getCause();
      assertEquals(Status.EPROVIDER, cause.status());
      assertTrue(cause.getMessage().contains("voice server is down"), cause.getMessage());
      assertEquals(session.id(), event.sessionId());
      assertEquals("voice server is down", Json.field(event.payload(), "message"), event.payload());
      assertEquals("java-broken", Json.field(event.payload(), "provider"), event.payload());
      assertEquals("m1", Json.field(event.payload(), "mark"), event.payload());
    }
  }

  @Test
  void closingTheRuntimeCancelsARequestInFlight() throws Exception {
    CompletableFuture<TtsRequest> started = new CompletableFuture<>();
    CompletableFuture<Void> pushedAfterCancel = new CompletableFuture<>();
    Runtime runtime = Runtime.create(QUIET);
    runtime.registerTts("java-slow", 0, request -> {
      started.complete(request);
      request.cancellation().get(10, TimeUnit.SECONDS);
      request.pushAudio(new short[160]); // ignored, not an error
      pushedAfterCancel.complete(null);
    });
    Session session = runtime.createHostSession("{\"behaviour\": \"host\"}");
    session.speak("Take your time.", "{\"tts\": {\"provider\": \"java-slow\"}}");
    TtsRequest request = started.get(10, TimeUnit.SECONDS);
    runtime.close();
    pushedAfterCancel.get(10, TimeUnit.SECONDS);
    assertTrue(request.isCancelled());
  }

  @Test
  void providerRequestsAsEventsWithoutAnImplementation() throws Exception {
    CompletableFuture<Event> request = new CompletableFuture<>();
    try (Runtime runtime = Runtime.create(QUIET)) {
      runtime.registerProvider("tts", "raw-voice", "{\"sample_rate\": 8000}", null);
      runtime.addEventListener(new SessionListener() {
        @Override
        public void onProviderRequest(Event event) {
          request.complete(event);
        }
      });
      Session session = runtime.createHostSession("{\"behaviour\": \"host\", \"output_rate\": 8000}");
      session.speak("Hello.", "{\"tts\": {\"provider\": \"raw-voice\"}}");
      Event event = request.get(10, TimeUnit.SECONDS);
      assertEquals(EventType.PROVIDER_REQUEST, event.type());
      assertEquals(session.id(), event.sessionId());
      assertEquals("synthesize", Json.field(event.payload(), "op"));
      assertEquals("Hello.", Json.field(event.payload(), "text"));
      ProviderRequest answer = runtime.providerRequest(Json.number(event.payload(), "request"));
      expect(Status.EINVAL, "is a tts request, not llm", () -> answer.pushText("words"));
      answer.pushAudio(tone(300, 8000, 0.1));
      answer.complete();
      // Not dispatched by the binding: the engine's not-found is the caller's to see.
      expect(Status.ENOTFOUND, "unknown, finished or cancelled", () -> answer.pushAudio(new short[80]));
    }
  }

  @Test
  void registrationAndAnswerErrors() throws Exception {
    try (Runtime runtime = Runtime.create(QUIET)) {
      TtsProvider noop = request -> { };
      expect(Status.EINVAL, "\"llm\", \"tts\" or \"stt\"", () -> runtime.registerProvider("vision", "x", null, null));
      expect(Status.EINVAL, "name", () -> runtime.registerTts("", 0, noop));
      expect(Status.ECONFIG, "$.sample_rate", () -> runtime.registerTts("x", 3, noop));
      expect(Status.ECONFIG, "voice", () -> runtime.registerProvider("tts", "x", "{\"voice\": 1}", null));
      expect(Status.EINVAL, "LlmProvider", () -> runtime.registerProvider("llm", "x", null, noop));
      expect(Status.EINVAL, "", () -> runtime.registerProvider("tts", null, null, null));
      assertThrows(NullPointerException.class, () -> runtime.registerTts("x", 0, null));

      // An LLM and an STT implemented in Java register; the engine does not call them through
      // the C ABI yet (ProviderDispatcherTest drives them with synthetic requests).
      runtime.registerLlm("java-llm", request -> request.pushText("ok"));
      runtime.registerStt("java-stt", 8000, request -> { });
      runtime.registerLlm("java-llm", request -> request.pushText("replaced"));

      ProviderRequest unknown = runtime.providerRequest(12345);
      expect(Status.ENOTFOUND, "request 12345", () -> unknown.pushText("hi"));
      expect(Status.ENOTFOUND, "12345", () -> unknown.pushToolCall(0, "c1", "f", "{}"));
      expect(Status.ENOTFOUND, "12345", () -> unknown.pushTranscript("hi", true, true));
      expect(Status.ENOTFOUND, "12345", unknown::complete);
      expect(Status.ENOTFOUND, "12345", () -> unknown.fail("x"));
      expect(Status.EINVAL, "0..127", () -> unknown.pushToolCall(128, null, null, null));
      expect(Status.EINVAL, "text", () -> unknown.pushText(null));

      Session session = runtime.createHostSession("{\"behaviour\": \"host\"}");
      expect(Status.ENOTFOUND, "no TTS provider named \"nobody\"",
          () -> session.speak("hi", "{\"tts\": {\"provider\": \"nobody\"}}"));
      expect(Status.ECONFIG, "voice", () -> session.speak("hi", "{\"voice\": \"x\"}"));
      expect(Status.EINVAL, "text", () -> session.speak(null, null));
      session.close();
      expect(Status.ESTATE, "closed", () -> session.speak("hi"));
    }
    Runtime closed = Runtime.create(QUIET);
    closed.close();
    expect(Status.ESTATE, "closed", () -> closed.registerTts("late", 0, request -> { }));
    expect(Status.ESTATE, "closed", () -> closed.providerRequest(1).complete());
  }

  @Test
  void speakWithTheDefaultVoiceNeedsNoProvider() throws Exception {
    try (Runtime runtime = Runtime.create(QUIET); Session session = runtime.createHostSession("{\"behaviour\": \"host\"}")) {
      String mark;
      try {
        mark = session.speak("Hello.");
      } catch (ParleyException e) {
        // An engine built without espeak has no default voice: a clear error, not a crash.
        assertEquals(Status.ENOTFOUND, e.status(), e.toString());
        return;
      }
      assertNotNull(mark);
      assertTrue(mark.startsWith("speak-"), mark);
    }
  }
}
