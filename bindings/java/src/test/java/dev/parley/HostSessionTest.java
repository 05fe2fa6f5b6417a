package dev.parley;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** A host-transport session: Java pushes caller audio and receives the agent's (echo) audio. */
class HostSessionTest {
  @Test
  void pushedAudioComesBackAsAudioEventsWithMarks() throws Exception {
    List<Event> events = new CopyOnWriteArrayList<>();
    AtomicLong agentSamples = new AtomicLong();
    AtomicLong agentEnergy = new AtomicLong();
    Path recording = Files.createTempFile("parley-java-host-", ".wav");
    try (Runtime runtime = Runtime.create("{\"log\": {\"sink\": \"none\"}}")) {
      Session[] holder = new Session[1];
      CompletableFuture<Void> started = new CompletableFuture<>();
      runtime.addEventListener(new SessionListener() {
        @Override
        public void onSessionStarted(Event event) {
          events.add(event);
          started.complete(null);
        }

        @Override
        public void onAudio(Event event) {
          events.add(event);
          assertEquals(16000, event.sampleRate());
          agentSamples.addAndGet(event.audio().length);
          for (short s : event.audio()) agentEnergy.addAndGet(Math.abs(s));
        }

        @Override
        public void onAudioMark(Event event) {
          events.add(event);
          // The host "played" everything before the mark: confirm it.
          holder[0].pushMarkPlayed(Json.field(event.payload(), "name"));
        }

        @Override
        public void onMark(Event event) {
          events.add(event);
        }

        @Override
        public void onDtmf(Event event) {
          events.add(event);
        }

        @Override
        public void onSessionStopped(Event event) {
          events.add(event);
        }
      });
      Session session = runtime.createHostSession(
          "{\"behaviour\": \"echo\", \"sample_rate\": 16000, \"output_rate\": 16000, \"call_id\": \"java-host\"}");
      holder[0] = session;
      started.get(5, TimeUnit.SECONDS);
      assertEquals(SessionState.ACTIVE, session.state());
      session.startRecording(recording.toString());
      session.pushDtmf("7");

      // 1.5 s of a 440 Hz tone in real time, 20 ms frames.
      short[] frame = new short[320];
      long next = System.nanoTime();
      for (int f = 0; f < 75; f++) {
        for (int i = 0; i < frame.length; i++) {
          frame[i] = (short) (8000 * Math.sin(2 * Math.PI * 440 * (f * 320 + i) / 16000.0));
        }
        session.pushAudio(frame, 16000);
        next += 20_000_000L;
        long sleep = next - System.nanoTime();
        if (sleep > 0) Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
      }
      // Marks resolve once the host confirms them.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (count(events, EventType.MARK) < 1 && System.nanoTime() < deadline) Thread.sleep(10);
      assertEquals(MarkOutcome.UNKNOWN, session.waitMark("never-sent", Duration.ofMillis(100)).get(5, TimeUnit.SECONDS));
      session.stopRecording();

      session.closeAsync().get(5, TimeUnit.SECONDS);
      assertEquals(SessionState.CLOSED, session.state());
      session.close();
    }
    assertEquals(1, count(events, EventType.SESSION_STARTED), events.toString());
    assertEquals(1, count(events, EventType.SESSION_STOPPED), events.toString());
    assertTrue(count(events, EventType.DTMF) == 1, events.toString());
    assertTrue(count(events, EventType.AUDIO) > 10, events.toString());
    assertTrue(agentSamples.get() >= 320 * 40, "agent samples " + agentSamples.get());
    assertTrue(agentEnergy.get() / Math.max(1, agentSamples.get()) > 1000, "echoed audio is silent");
    assertTrue(count(events, EventType.AUDIO_MARK) >= 1, events.toString());
    Event mark = events.stream().filter(e -> e.type() == EventType.MARK).findFirst().orElseThrow();
    assertEquals("played", Json.field(mark.payload(), "outcome"), mark.payload());
    assertTrue(Files.size(recording) > 44 + 16000, "recording too small: " + Files.size(recording));
    Files.deleteIfExists(recording);
  }

  @Test
  void waitMarkCompletesWhenTheHostConfirmsPlayback() throws Exception {
    try (Runtime runtime = Runtime.create("{\"log\": {\"sink\": \"none\"}}");
         Session session = runtime.createHostSession("{\"behaviour\": \"host\"}")) {
      runtime.addEventListener(event -> {
        if (event.type() == EventType.AUDIO_MARK && "m1".equals(Json.field(event.payload(), "name"))) {
          session.pushMarkPlayed("m1");
        }
      });
      session.play(new short[1600], 16000);
      session.sendMark("m1");
      assertEquals(MarkOutcome.PLAYED, session.waitMark("m1", Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS));
      assertEquals(MarkOutcome.UNKNOWN, session.waitMark("never-sent", Duration.ZERO).get(5, TimeUnit.SECONDS));
      session.play(new short[1600], 16000);
      session.sendMark("m2"); // never confirmed
      assertEquals(MarkOutcome.TIMEOUT, session.waitMark("m2", Duration.ofMillis(50)).get(5, TimeUnit.SECONDS));
      CompletableFuture<MarkOutcome> pending = session.waitMark("m2", null);
      session.close(); // ends the call: the pending mark resolves
      MarkOutcome outcome = pending.get(5, TimeUnit.SECONDS);
      assertTrue(outcome == MarkOutcome.CLEARED || outcome == MarkOutcome.UNKNOWN, outcome.toString());
    }
  }

  static long count(List<Event> events, EventType type) {
    return events.stream().filter(e -> e.type() == type).count();
  }
}
