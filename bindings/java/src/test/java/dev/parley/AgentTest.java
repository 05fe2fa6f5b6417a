package dev.parley;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * An agent host session driven from Java: the host plays the caller (pushes its speech in
 * real time, confirms every audio mark) and implements the tool the model calls.
 */
class AgentTest {
  /**
   * The scripted LLM's flow: it greets, and whatever the caller says it answers "Let me
   * check.", calls the host tool lookup_order({"id":"42"}) and, once the host has answered,
   * says "Your order {tool_result.status}." in the same turn. (The greeting itself cannot go
   * on after a tool call: a flow's start state has only its entry, and the request carrying
   * the tool result gets what the turn had left to say.)
   */
  static final String ORDER_FLOW = "{\"version\":1,\"start\":\"s\",\"states\":{"
      + "\"s\":{\"entry\":\"How can I help?\",\"intents\":[{\"name\":\"order\",\"slots\":{\"question\":\"text\"},"
      + "\"reply\":\"Let me check.\",\"tool_call\":{\"name\":\"lookup_order\",\"arguments\":{\"id\":\"42\"}},\"next\":\"done\"}]},"
      + "\"done\":{\"end\":true,\"entry\":\"Your order {tool_result.status}.\"}}}";

  /** pocketsphinx held to one sentence, so the caller's words are heard the same everywhere. */
  static String agentConfig() {
    Map<String, Object> agent = Map.of(
        "stt", Map.of("provider", "pocketsphinx", "jsgf", "#JSGF V1.0; grammar order; public <order> = where is my order;"),
        "llm", Map.of("provider", "scripted", "flow_json", ORDER_FLOW, "first_token_delay_ms", 10.0, "tokens_per_second", 0.0),
        "tts", Map.of("provider", "espeak"),
        "greet_from_llm", true,
        "tools", List.of(Map.of("name", "lookup_order", "timeout_ms", 5000.0)));
    return MiniJson.write(Map.of("behaviour", "agent", "sample_rate", 16000.0, "agent", agent));
  }

  /** The engine says text (espeak, another voice than the agent's) on a plain host session. */
  static short[] callerSpeech(Runtime runtime, BlockingQueue<Event> events, String text) throws Exception {
    short[] speech = new short[0];
    try (Session speaker = runtime.createHostSession("{\"behaviour\": \"host\", \"sample_rate\": 16000, \"output_rate\": 16000}")) {
      speaker.speak(text, "{\"tts\": {\"provider\": \"espeak\", \"voice\": \"en-us+f3\"}}");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (true) {
        Event event = events.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (event == null) fail("no speech from the speaker session (" + speech.length + " samples)");
        if (!event.sessionId().equals(speaker.id())) continue;
        if (event.type() == EventType.AUDIO) {
          assertEquals(16000, event.sampleRate());
          short[] more = event.audio();
          int at = speech.length;
          speech = Arrays.copyOf(speech, at + more.length);
          System.arraycopy(more, 0, speech, at, more.length);
        } else if (event.type() == EventType.AUDIO_MARK) { // all its speech came before its mark
          assertTrue(speech.length > 8000, "only " + speech.length + " samples of speech");
          return speech;
        } else if (event.type() == EventType.SESSION_ERROR) {
          fail("speaker: " + event.payload());
        }
      }
    }
  }

  @Test
  void hostAnswersTheToolAndTheAgentSaysTheResult() throws Exception {
    BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    try (Runtime runtime = Runtime.create("{\"log\": {\"sink\": \"none\"}}")) {
      runtime.addEventListener(events::add); // the binding's dispatch thread
      short[] speech = callerSpeech(runtime, events, "where is my order");

      try (Session session = runtime.createHostSession(agentConfig())) {
        boolean greeted = false;
        boolean saying = false;
        int spoken = 0;
        int toolCalls = 0;
        List<String> agentLines = new ArrayList<>();
        Map<String, Object> last = null;
        short[] frame = new short[320];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long nextFrame = System.nanoTime();
        while (last == null) {
          long now = System.nanoTime();
          if (now > deadline) {
            fail("no turn with the tool's answer (greeted " + greeted + ", tool calls " + toolCalls + ", agent lines " + agentLines + ")");
          }
          if (now >= nextFrame) {
            // The caller: silence, then (once the greeting is over) the question, then silence.
            Arrays.fill(frame, (short) 0);
            if (saying && spoken < speech.length) {
              int n = Math.min(frame.length, speech.length - spoken);
              System.arraycopy(speech, spoken, frame, 0, n);
              spoken += n;
            }
            session.pushAudio(frame, 16000);
            nextFrame += 20_000_000L;
            continue;
          }
          Event event = events.poll(nextFrame - now, TimeUnit.NANOSECONDS);
          if (event == null || !event.sessionId().equals(session.id())) continue;
          Map<String, Object> payload = MiniJson.object(MiniJson.parse(event.payload()));
          switch (event.type()) {
            case AUDIO_MARK ->
              // The far end "played" the audio before the mark (agent audio events are paced
              // in real time): the agent's turn ends only once it has.
              session.pushMarkPlayed(MiniJson.string(payload.get("name")));
            case TOOL_CALL -> {
              toolCalls++;
              String id = MiniJson.string(payload.get("id"));
              assertEquals("lookup_order", payload.get("name"), event.payload());
              assertEquals(Map.of("id", "42"), payload.get("arguments"), event.payload());
              assertTrue(id != null && !id.isEmpty(), event.payload());
              ParleyException bad = assertThrows(ParleyException.class, () -> session.toolResult(id, "{\"status\": shipped}"));
              assertEquals(Status.EFORMAT, bad.status());
              assertTrue(bad.getMessage().contains("not valid JSON"), bad.getMessage());
              session.toolResult(id, "{\"status\":\"shipped\"}");
            }
            case TRANSCRIPT -> {
              if ("agent".equals(payload.get("role"))) agentLines.add(MiniJson.string(payload.get("text")));
            }
            case TURN -> {
              if (!greeted) {
                greeted = true;
                assertEquals(0L, MiniJson.number(payload.get("turn"), -1), event.payload());
                assertEquals("How can I help?", payload.get("agent_text"), event.payload());
                assertTrue(MiniJson.array(payload.get("tool_calls")).isEmpty(), event.payload());
                saying = true;
              } else {
                assertTrue(MiniJson.string(payload.get("agent_text")).contains("shipped"), "turn without the tool's answer: " + event.payload());
                last = payload;
              }
            }
            case SESSION_ERROR, SESSION_STOPPED -> fail(event.type() + ": " + event.payload());
            default -> {}
          }
        }
        assertEquals(1, toolCalls);
        assertEquals("where is my order", last.get("user_text"), last.toString());
        assertEquals(Boolean.FALSE, last.get("interrupted"), last.toString());
        List<Object> calls = MiniJson.array(last.get("tool_calls"));
        assertEquals(1, calls.size(), last.toString());
        assertEquals("lookup_order", MiniJson.object(calls.get(0)).get("name"), last.toString());
        String joined = String.join(" | ", agentLines);
        assertTrue(joined.contains("How can I help?") && joined.contains("Let me check.") && joined.contains("Your order shipped."),
            "agent transcript lines " + agentLines);

        // The runtime's counters saw the call end, both turns, the tool call and the answer's
        // voice-to-voice latency (the greeting has no speech end, so it records none).
        session.closeAsync();
        long stopDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
          Event event = events.poll(Math.max(1, stopDeadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          if (event == null) fail("no session_stopped after close");
          if (event.type() == EventType.SESSION_STOPPED && event.sessionId().equals(session.id())) break;
        }
        RuntimeStats stats = runtime.stats();
        assertTrue(stats.callsStarted() >= 1 && stats.callsEnded() >= 1, stats.json());
        assertTrue(stats.callerFrames() > 0 && stats.agentFrames() > 0, stats.json());
        assertTrue(stats.turns() >= 2 && stats.toolCalls() >= 1, stats.json());
        assertEquals(0, stats.toolTimeouts(), stats.json());
        RuntimeStats.Latency v2v = stats.voiceToVoice();
        assertTrue(v2v.count() >= 1 && v2v.max() > 0 && v2v.p50() <= v2v.max(), stats.json());
        assertEquals(v2v, stats.latency("voice_to_voice"));
        assertTrue(stats.endpointing().count() >= 1, stats.json());
        assertTrue(MiniJson.object(MiniJson.parse(runtime.statsJson())).containsKey("latency_ms"));
      }

      // A session that runs no agent has no tools to answer; nor has a closed handle.
      Session plain = runtime.createHostSession("{\"behaviour\": \"host\"}");
      ParleyException notAgent = assertThrows(ParleyException.class, () -> plain.toolResult("call_0_0", "{}"));
      assertEquals(Status.ESTATE, notAgent.status());
      assertFalse(notAgent.getMessage().isEmpty());
      plain.close();
      ParleyException closed = assertThrows(ParleyException.class, () -> plain.toolResult("call_0_0", "{}"));
      assertEquals(Status.ESTATE, closed.status());
    }
    // A closed runtime has no stats.
    Runtime closed = Runtime.create("{\"log\": {\"sink\": \"none\"}}");
    closed.close();
    assertEquals(Status.ESTATE, assertThrows(ParleyException.class, closed::stats).status());
  }

  /**
   * The greeting calls the built-in transfer tool: the agent says its line, and once the host
   * has played it the call moves to the target (docs/agent.md, "Tools").
   */
  static final String TRANSFER_FLOW = "{\"version\":1,\"start\":\"s\",\"states\":{\"s\":{\"entry\":\"Putting you through.\","
      + "\"tool_call\":{\"name\":\"transfer\",\"arguments\":{\"target\":\"sip:desk@example.com\"}},\"end\":true}}}";

  /**
   * A host-transport agent's transfer reaches Java as a TRANSFER event through
   * SessionListener.onTransfer (onOther for listeners that do not override it), after the turn
   * whose words the host confirmed it had played.
   */
  @Test
  void hostTransfersTheCallOnceTheGreetingWasHeard() throws Exception {
    BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    List<EventType> others = new CopyOnWriteArrayList<>();
    AtomicLong heard = new AtomicLong();
    Map<String, Object> agent = Map.of(
        "stt", Map.of("provider", "pocketsphinx", "jsgf", "#JSGF V1.0; grammar g; public <g> = yes | no;"),
        "llm", Map.of("provider", "scripted", "flow_json", TRANSFER_FLOW, "first_token_delay_ms", 10.0),
        "tts", Map.of("provider", "espeak"),
        "greet_from_llm", true,
        "builtin_tools", List.of("hang_up", "send_dtmf", "transfer"));
    String config = MiniJson.write(Map.of("behaviour", "agent", "sample_rate", 16000.0, "agent", agent));
    try (Runtime runtime = Runtime.create("{\"log\": {\"sink\": \"none\"}}")) {
      runtime.addEventListener(new SessionListener() { // the binding's dispatch thread
        @Override
        public void onAudio(Event event) {
          heard.addAndGet(event.audio().length);
        }

        @Override
        public void onAudioMark(Event event) {
          events.add(event);
        }

        @Override
        public void onTurn(Event event) {
          events.add(event);
        }

        @Override
        public void onTransfer(Event event) {
          events.add(event);
        }

        @Override
        public void onSendDtmf(Event event) {
          events.add(event);
        }

        @Override
        public void onToolCall(Event event) {
          events.add(event);
        }

        @Override
        public void onSessionError(Event event) {
          events.add(event);
        }

        @Override
        public void onSessionStopped(Event event) {
          events.add(event);
        }
      });
      // A listener that knows nothing of transfers still sees it, as onOther.
      runtime.addEventListener(new SessionListener() {
        @Override
        public void onOther(Event event) {
          others.add(event.type());
        }
      });

      try (Session session = runtime.createHostSession(config)) {
        Map<String, Object> turn = null;
        Map<String, Object> transfer = null;
        int played = 0;
        short[] silence = new short[320];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        long nextFrame = System.nanoTime();
        while (transfer == null) {
          long now = System.nanoTime();
          if (now > deadline) fail("no transfer event (turn " + turn + ", " + played + " marks played, " + heard.get() + " samples heard)");
          if (now >= nextFrame) { // the caller says nothing
            session.pushAudio(silence, 16000);
            nextFrame += 20_000_000L;
            continue;
          }
          Event event = events.poll(nextFrame - now, TimeUnit.NANOSECONDS);
          if (event == null || !event.sessionId().equals(session.id())) continue;
          Map<String, Object> payload = MiniJson.object(MiniJson.parse(event.payload()));
          switch (event.type()) {
            case AUDIO_MARK -> {
              // The far end "played" the audio before the mark: the transfer waits for it.
              session.pushMarkPlayed(MiniJson.string(payload.get("name")));
              played++;
            }
            case TURN -> turn = payload;
            case TRANSFER -> transfer = payload;
            default -> fail(event.type() + ": " + event.payload());
          }
        }
        assertEquals("sip:desk@example.com", transfer.get("target"), transfer.toString());
        // The turn ended (all its audio heard) before the transfer was asked for.
        assertNotNull(turn, "the transfer came before the greeting's turn ended");
        assertEquals("Putting you through.", turn.get("agent_text"), turn.toString());
        List<Object> calls = MiniJson.array(turn.get("tool_calls"));
        assertEquals(1, calls.size(), turn.toString());
        assertEquals("transfer", MiniJson.object(calls.get(0)).get("name"), turn.toString());
        assertTrue(played >= 1 && heard.get() > 8000, played + " marks played, " + heard.get() + " samples heard");
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!others.contains(EventType.TRANSFER) && System.nanoTime() < until) Thread.sleep(10);
        assertTrue(others.contains(EventType.TRANSFER), "onOther saw " + others);
        assertFalse(others.contains(EventType.SEND_DTMF), "onOther saw " + others);
      }
    }
  }

  @Test
  void agentEventTypesMatchTheHeader() {
    assertEquals(21, EventType.AGENT_STATE.code());
    assertEquals(EventType.TRANSCRIPT, EventType.fromCode(ParleyNativeConstants.PARLEY_EVENT_TRANSCRIPT));
    assertEquals(EventType.TURN, EventType.fromCode(ParleyNativeConstants.PARLEY_EVENT_TURN));
    assertEquals(EventType.TOOL_CALL, EventType.fromCode(ParleyNativeConstants.PARLEY_EVENT_TOOL_CALL));
    assertEquals(EventType.INTERRUPTION, EventType.fromCode(25));
    assertEquals(26, EventType.SEND_DTMF.code());
    assertEquals(EventType.SEND_DTMF, EventType.fromCode(ParleyNativeConstants.PARLEY_EVENT_SEND_DTMF));
    assertEquals(27, EventType.TRANSFER.code());
    assertEquals(EventType.TRANSFER, EventType.fromCode(ParleyNativeConstants.PARLEY_EVENT_TRANSFER));
    for (EventType type : EventType.values()) {
      if (type != EventType.UNKNOWN) assertEquals(ParleyNative.parley_event_type_name(type.code()), type.name().toLowerCase(), type.name());
    }
  }
}
