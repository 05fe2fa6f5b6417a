package dev.parley;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class RuntimeTest {
  static final String QUIET = "{\"log\": {\"sink\": \"none\"}}";

  @Test
  void lifecyclePostPollClose() {
    Runtime runtime = Runtime.create(QUIET);
    assertFalse(runtime.isClosed());
    assertNull(runtime.pollEvent(Duration.ZERO));
    runtime.postEvent("{\"from\":\"java\",\"text\":\"h\u00e9llo \ud83d\ude00\"}");
    Event event = runtime.pollEvent(Duration.ofSeconds(1));
    assertNotNull(event);
    assertEquals(EventType.USER, event.type());
    assertEquals("user", event.typeName());
    assertEquals("", event.sessionId());
    // Characters outside the BMP survive both directions (no modified UTF-8).
    assertEquals("{\"from\":\"java\",\"text\":\"h\u00e9llo \ud83d\ude00\"}", event.payload());
    assertEquals(0, event.audio().length);
    assertTrue(event.timestampUs() > 0);
    runtime.log(LogLevel.INFO, "hello from Java");
    runtime.close();
    assertTrue(runtime.isClosed());
    runtime.close(); // twice: no-op
  }

  @Test
  void badConfigIsAParleyExceptionNamingTheJsonPath() {
    ParleyException e = assertThrows(ParleyException.class, () -> Runtime.create("{\"io_threads\": \"x\"}"));
    assertEquals(Status.ECONFIG, e.status());
    assertEquals(-2, e.code());
    assertTrue(e.getMessage().contains("$.io_threads"), e.getMessage());

    e = assertThrows(ParleyException.class, () -> Runtime.create("{\"log\": {\"level\": \"loud\"}}"));
    assertEquals(Status.ECONFIG, e.status());
    assertTrue(e.getMessage().contains("$.log.level"), e.getMessage());

    e = assertThrows(ParleyException.class, () -> Runtime.create("not json"));
    assertTrue(e.status() == Status.ECONFIG || e.status() == Status.EFORMAT, e.toString());
    assertFalse(e.getMessage().isEmpty());
  }

  @Test
  void nullConfigMeansDefaults() {
    try (Runtime runtime = Runtime.create(null)) {
      assertFalse(runtime.isClosed());
    }
  }

  @Test
  void everyFailingCallThrowsWithTheEngineMessage() {
    try (Runtime runtime = Runtime.create(QUIET)) {
      ParleyException e = assertThrows(ParleyException.class, () -> runtime.postEvent("{not json"));
      assertEquals(Status.EFORMAT, e.status());
      assertFalse(e.getMessage().isEmpty());

      e = assertThrows(ParleyException.class, () -> runtime.postEvent(null));
      assertEquals(Status.EINVAL, e.status());

      e = assertThrows(ParleyException.class, () -> runtime.startListener("{\"transport\": \"twilio\", \"port\": \"x\"}"));
      assertEquals(Status.ECONFIG, e.status());
      assertTrue(e.getMessage().contains("$.port"), e.getMessage());

      e = assertThrows(ParleyException.class, () -> runtime.startListener("{\"transport\": \"carrier-pigeon\"}"));
      assertEquals(Status.ECONFIG, e.status());
      assertTrue(e.getMessage().contains("$.transport"), e.getMessage());

      e = assertThrows(ParleyException.class, () -> runtime.openSession("no-such-session"));
      assertEquals(Status.ENOTFOUND, e.status());
      assertTrue(e.getMessage().contains("no-such-session"), e.getMessage());

      e = assertThrows(ParleyException.class, () -> runtime.openSession(null));
      assertEquals(Status.EINVAL, e.status());

      e = assertThrows(ParleyException.class, () -> runtime.createHostSession("{\"sample_rate\": 12345}"));
      assertEquals(Status.ECONFIG, e.status());
      assertTrue(e.getMessage().contains("$.sample_rate"), e.getMessage());

      e = assertThrows(ParleyException.class, () -> runtime.pollEvent(Duration.ofMillis(-1)));
      assertEquals(Status.EINVAL, e.status());

      e = assertThrows(ParleyException.class, () -> runtime.postEvent("{\"a\":\"nul\0inside\"}"));
      assertEquals(Status.EINVAL, e.status());

      try (Session session = runtime.createHostSession("{\"behaviour\": \"host\"}")) {
        e = assertThrows(ParleyException.class, () -> session.pushAudio(new short[320], 12345));
        assertEquals(Status.EUNSUPPORTED, e.status());
        assertFalse(e.getMessage().isEmpty());
        session.pushAudio(null, 16000); // null is no samples, as NULL with count 0 in C
        session.pushAudio(new short[0], 16000);
        e = assertThrows(ParleyException.class, () -> session.play(new short[160], 7));
        assertEquals(Status.EUNSUPPORTED, e.status());
        e = assertThrows(ParleyException.class, () -> session.pushDtmf("Z"));
        assertEquals(Status.EINVAL, e.status());
        e = assertThrows(ParleyException.class, () -> session.pushDtmf(null));
        assertEquals(Status.EINVAL, e.status());
        e = assertThrows(ParleyException.class, () -> session.sendMark(""));
        assertEquals(Status.EINVAL, e.status());
        session.pushG711(null, G711.ULAW, 8000);
        e = assertThrows(ParleyException.class, () -> session.pushG711(new byte[160], G711.ULAW, 11025));
        assertEquals(Status.EUNSUPPORTED, e.status());
        e = assertThrows(ParleyException.class, () -> session.startRecording("/nonexistent-dir-parley/x.wav"));
        assertEquals(Status.EIO, e.status());
      }
    }
  }

  @Test
  void closedHandlesThrowInsteadOfCrashing() {
    Runtime runtime = Runtime.create(QUIET);
    Session session = runtime.createHostSession("{\"behaviour\": \"echo\"}");
    Listener listener = runtime.startListener("{\"transport\": \"twilio\", \"address\": \"127.0.0.1\", \"port\": 0}");
    assertTrue(listener.port() > 0);
    session.close();
    session.close();
    assertEquals(SessionState.CLOSED, session.state());
    ParleyException e = assertThrows(ParleyException.class, () -> session.pushAudio(new short[320], 16000));
    assertEquals(Status.ESTATE, e.status());
    assertTrue(session.closeAsync().isDone());
    // Closing the runtime closes what is still open on it.
    runtime.close();
    assertTrue(listener.isClosed());
    listener.close();
    assertEquals(Status.ESTATE, assertThrows(ParleyException.class, () -> runtime.postEvent("{}")).status());
    assertEquals(Status.ESTATE, assertThrows(ParleyException.class, () -> runtime.createHostSession(null)).status());
    assertEquals(Status.ESTATE, assertThrows(ParleyException.class, () -> runtime.addEventListener(event -> {})).status());
    assertEquals(Status.ESTATE, assertThrows(ParleyException.class, () -> listener.stopAsync(Duration.ZERO)).status());
    runtime.close();
  }

  @Test
  void closingWhileOtherThreadsCallNeverCrashes() throws Exception {
    for (int round = 0; round < 5; round++) {
      Runtime runtime = Runtime.create(QUIET);
      Session session = runtime.createHostSession("{\"behaviour\": \"host\"}");
      AtomicBoolean done = new AtomicBoolean();
      AtomicReference<Throwable> unexpected = new AtomicReference<>();
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        Thread thread = new Thread(() -> {
          short[] frame = new short[320];
          while (!done.get()) {
            try {
              session.pushAudio(frame, 16000);
              runtime.postEvent("{}");
            } catch (ParleyException e) {
              if (e.status() != Status.ESTATE && e.status() != Status.EFULL) unexpected.set(e);
            }
          }
        });
        threads.add(thread);
        thread.start();
      }
      Thread.sleep(20);
      if (round % 2 == 0) session.close();
      runtime.close();
      done.set(true);
      for (Thread thread : threads) thread.join();
      assertNull(unexpected.get());
    }
  }

  @Test
  void listenerExceptionsDoNotStopDelivery() throws Exception {
    try (Runtime runtime = Runtime.create(QUIET)) {
      List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
      java.util.concurrent.CountDownLatch two = new java.util.concurrent.CountDownLatch(2);
      Thread.UncaughtExceptionHandler quiet = (thread, error) -> seen.add("error:" + error.getMessage());
      runtime.addEventListener(event -> {
        Thread.currentThread().setUncaughtExceptionHandler(quiet);
        seen.add(event.payload());
        two.countDown();
        throw new IllegalStateException("listener bug");
      });
      assertTrue(runtime.isDispatching());
      assertEquals(Status.ESTATE, assertThrows(ParleyException.class, () -> runtime.pollEvent(Duration.ZERO)).status());
      runtime.postEvent("{\"n\":1}");
      runtime.postEvent("{\"n\":2}");
      assertTrue(two.await(5, java.util.concurrent.TimeUnit.SECONDS));
      assertTrue(seen.contains("{\"n\":2}"), seen.toString());
    }
  }
}
