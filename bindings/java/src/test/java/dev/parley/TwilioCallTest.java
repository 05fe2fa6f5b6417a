package dev.parley;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Two Twilio Media Streams calls from `parley loadgen` against an in-process echo listener. */
class TwilioCallTest {
  static Path parleyCli() {
    String prefix = System.getenv("PARLEY_PREFIX");
    assertTrue(prefix != null && !prefix.isEmpty(), "PARLEY_PREFIX must name the engine install");
    Path cli = Paths.get(prefix, "bin", "parley");
    assertTrue(Files.isExecutable(cli), cli + " is not executable");
    return cli;
  }

  @Test
  void echoCallsDeliverStartedDtmfMarkAndStoppedEvents() throws Exception {
    List<Event> events = new CopyOnWriteArrayList<>();
    Set<String> opened = ConcurrentHashMap.newKeySet();
    Map<String, Long> stoppedThreads = new ConcurrentHashMap<>();
    try (Runtime runtime = Runtime.create("{\"io_threads\": 2, \"log\": {\"sink\": \"none\"}}")) {
      runtime.addEventListener(new SessionListener() {
        @Override
        public void onSessionStarted(Event event) {
          events.add(event);
          // The session is live: a handle to it can be opened from the event thread.
          try (Session session = runtime.openSession(event.sessionId())) {
            if (session.id().equals(event.sessionId())) opened.add(session.id());
          }
        }

        @Override
        public void onDtmf(Event event) {
          events.add(event);
        }

        @Override
        public void onMark(Event event) {
          events.add(event);
        }

        @Override
        public void onSessionStopped(Event event) {
          stoppedThreads.put(event.sessionId(), Thread.currentThread().getId());
          assertEquals("parley-events", Thread.currentThread().getName());
          events.add(event);
        }
      });
      try (Listener listener = runtime.startListener(
          "{\"transport\": \"twilio\", \"address\": \"127.0.0.1\", \"port\": 0, \"path\": \"/twilio\","
              + " \"behaviour\": \"echo\"}")) {
        assertTrue(listener.port() > 0);
        assertFalse(listener.id().isEmpty());
        Process loadgen = new ProcessBuilder(parleyCli().toString(), "loadgen",
            "--url", "ws://127.0.0.1:" + listener.port() + "/twilio",
            "--calls", "2", "--duration", "2", "--dtmf-every", "0.5", "--json")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
        String report = readAll(loadgen.getInputStream());
        assertTrue(loadgen.waitFor(60, TimeUnit.SECONDS), "loadgen did not finish");
        assertEquals(0, loadgen.exitValue(), report);
        assertEquals(2, Json.number(report, "calls_completed"), report);
        assertEquals(0, Json.number(report, "protocol_errors"), report);
        assertTrue(Json.number(report, "frames_received") > 0, report);

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (count(events, EventType.SESSION_STOPPED) < 2 && System.nanoTime() < deadline) Thread.sleep(10);
        // Both calls are counted (session_stopped is posted after the call is counted ended).
        RuntimeStats stats = runtime.stats();
        assertEquals(2, stats.callsStarted(), stats.json());
        assertEquals(2, stats.callsEnded(), stats.json());
        assertTrue(stats.callerFrames() > 0 && stats.agentFrames() > 0, stats.json());
        assertEquals(0, stats.turns(), stats.json());
        assertEquals(0, stats.voiceToVoice().count(), stats.json());
        assertEquals(0L, listener.stopAsync(Duration.ofSeconds(1)).get(10, TimeUnit.SECONDS));
      }
    }
    assertEquals(2, count(events, EventType.SESSION_STARTED), events.toString());
    assertEquals(2, count(events, EventType.SESSION_STOPPED), events.toString());
    assertEquals(2, opened.size());
    assertTrue(count(events, EventType.DTMF) >= 2, events.toString());
    assertTrue(count(events, EventType.MARK) >= 2, events.toString());
    for (Event event : events) {
      switch (event.type()) {
        case SESSION_STARTED -> {
          assertEquals("twilio", Json.field(event.payload(), "transport"), event.payload());
          assertEquals("echo", Json.field(event.payload(), "behaviour"), event.payload());
        }
        case DTMF -> assertTrue(Json.field(event.payload(), "digit").matches("[0-9*#A-D]"), event.payload());
        case MARK -> assertEquals("played", Json.field(event.payload(), "outcome"), event.payload());
        case SESSION_STOPPED -> assertTrue(Json.number(event.payload(), "caller_frames") > 0, event.payload());
        default -> throw new AssertionError(event.toString());
      }
      assertTrue(opened.contains(event.sessionId()), event.toString());
    }
  }

  static long count(List<Event> events, EventType type) {
    return events.stream().filter(e -> e.type() == type).count();
  }

  static String readAll(InputStream in) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toString(StandardCharsets.UTF_8);
  }
}
