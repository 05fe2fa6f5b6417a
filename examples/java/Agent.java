import dev.parley.Event;
import dev.parley.Listener;
import dev.parley.Parley;
import dev.parley.ParleyException;
import dev.parley.Runtime;
import dev.parley.RuntimeStats;
import dev.parley.Session;
import dev.parley.SessionListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small Parley voice agent in Java: answers Twilio Media Streams calls with the
 * appointment agent (pocketsphinx with the appointment grammar, the scripted LLM flow,
 * espeak-ng), which greets the caller, books an appointment through the host's
 * book_appointment tool and hangs up. Prints what happens on each call:
 *
 * <pre>
 *   listening on ws://127.0.0.1:8080/twilio
 *   call started: S4df7e845000000
 *   agent: Thanks for calling Parley Dental. How can I help?
 *   caller: i would like to book an appointment          (final transcripts only)
 *   tool call: book_appointment({day=monday, ...}) -> {"booked":true}
 *   call ended: S4df7e845000000 (caller hung up (stop))
 * </pre>
 *
 * and exits after --calls N calls, or on Ctrl-C.
 *
 * <pre>
 *   java -cp parley.jar Agent.java [--port 8080] [--calls N] [--flow FILE] [--grammar FILE]
 * </pre>
 *
 * --port 0 picks a free port. The flow and grammar default to examples/flows/appointment.json
 * and examples/grammars/appointment.jsgf, looked up from the current directory upwards.
 * run.sh calls it with `parley loadgen --calls 2 --duration 8 --wav speech.wav`.
 */
public final class Agent {
  /** The host tool the scripted flow calls once the caller has confirmed the booking. */
  static final String BOOK_APPOINTMENT = "{\"name\": \"book_appointment\","
      + " \"description\": \"Books the appointment in the practice's calendar\","
      + " \"parameters\": {\"type\": \"object\", \"properties\": {\"day\": {\"type\": \"string\"},"
      + " \"time\": {\"type\": \"string\"}, \"name\": {\"type\": \"string\"}}},"
      + " \"timeout_ms\": 4000, \"fallback\": \"Sorry, I can't book that right now.\"}";

  public static void main(String[] args) throws Exception {
    int port = 8080;
    int calls = 0;
    String flow = null;
    String grammar = null;
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(value);
        case "--calls" -> calls = Integer.parseInt(value);
        case "--flow" -> flow = value;
        case "--grammar" -> grammar = value;
        default -> {
          System.err.println("usage: Agent [--port N] [--calls N] [--flow FILE] [--grammar FILE]");
          System.exit(2);
        }
      }
      i++;
    }
    if (flow == null) flow = findUp("examples/flows/appointment.json");
    if (grammar == null) grammar = findUp("examples/grammars/appointment.jsgf");

    String config = "{\"transport\": \"twilio\", \"address\": \"127.0.0.1\", \"port\": " + port
        + ", \"path\": \"/twilio\", \"behaviour\": \"agent\", \"agent\": {"
        + "\"stt\": {\"provider\": \"pocketsphinx\", \"grammar\": " + quote(grammar) + "},"
        + " \"llm\": {\"provider\": \"scripted\", \"flow\": " + quote(flow) + "},"
        + " \"tts\": {\"provider\": \"espeak\"},"
        + " \"greet_from_llm\": true," // the flow's first line greets the caller
        + " \"tools\": [" + BOOK_APPOINTMENT + "]}}";

    int wanted = calls;
    AtomicInteger ended = new AtomicInteger();
    CountDownLatch stop = new CountDownLatch(1); // enough calls ended, or Ctrl-C
    CountDownLatch done = new CountDownLatch(1); // main has shut down
    try (Runtime runtime = Runtime.create("{\"log\": {\"level\": \"warn\"}}")) {
      // Events arrive on the binding's own thread ("parley-events"), one at a time.
      runtime.addEventListener(new SessionListener() {
        @Override
        public void onSessionStarted(Event event) {
          System.out.println("call started: " + event.sessionId());
        }

        @Override
        public void onSessionStopped(Event event) {
          System.out.println("call ended: " + event.sessionId() + " (" + event.payloadMap().get("reason") + ")");
          if (ended.incrementAndGet() == wanted) stop.countDown();
        }

        @Override
        public void onSessionRejected(Event event) {
          System.out.println("call rejected: " + event.payload());
        }

        @Override
        public void onSessionError(Event event) {
          System.out.println("call error: " + event.sessionId() + ": " + event.payloadMap().get("message"));
        }

        @Override
        public void onTranscript(Event event) {
          Map<String, Object> line = event.payloadMap();
          if (!Boolean.TRUE.equals(line.get("final"))) return; // partials: still speaking
          System.out.println(("user".equals(line.get("role")) ? "caller" : "agent") + ": " + line.get("text"));
        }

        @Override
        public void onTurn(Event event) {
          Map<String, Object> turn = event.payloadMap();
          long number = ((Number) turn.get("turn")).longValue();
          System.out.println("turn " + number + " ended" + (Boolean.TRUE.equals(turn.get("interrupted")) ? " (interrupted)" : ""));
        }

        @Override
        public void onToolCall(Event event) {
          answerToolCall(runtime, event);
        }
      });

      try (Listener listener = runtime.startListener(config)) {
        System.out.println("parley " + Parley.version());
        System.out.println("listening on ws://127.0.0.1:" + listener.port() + "/twilio");
        java.lang.Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          stop.countDown(); // Ctrl-C: let main shut down, then exit
          try {
            done.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException ignored) {
            Thread.currentThread().interrupt();
          }
        }));
        if (calls == 0 || ended.get() < calls) stop.await();

        // Calls still live get two seconds to finish, then are hung up.
        long hungUp = listener.stopAsync(Duration.ofSeconds(2)).join();
        RuntimeStats stats = runtime.stats();
        System.out.println("stats: " + stats.callsEnded() + " calls, " + stats.turns() + " turns, "
            + stats.toolCalls() + " tool calls, voice-to-voice p50 " + stats.voiceToVoice().p50() + " ms ("
            + stats.voiceToVoice().count() + " answers)");
        System.out.println("done: " + ended.get() + " call(s) ended, " + hungUp + " hung up");
      }
    } finally {
      done.countDown();
    }
  }

  /** Books the appointment. A real agent would look at the arguments and do the work. */
  static void answerToolCall(Runtime runtime, Event event) {
    Map<String, Object> call = event.payloadMap();
    String result = "{\"booked\":true}";
    try (Session session = runtime.openSession(event.sessionId())) { // closing releases the handle only
      session.toolResult((String) call.get("id"), result);
      System.out.println("tool call: " + call.get("name") + "(" + call.get("arguments") + ") -> " + result);
    } catch (ParleyException e) {
      System.out.println("tool call: " + call.get("name") + ": " + e.getMessage()); // the call may have ended
    }
  }

  /** rel in the current directory or the nearest parent that has it; rel itself if none. */
  static String findUp(String rel) {
    for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve(rel);
      if (Files.exists(candidate)) return candidate.toString();
    }
    return rel;
  }

  static String quote(String text) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      if (c == '"' || c == '\\') out.append('\\').append(c);
      else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
      else out.append(c);
    }
    return out.append('"').toString();
  }
}
