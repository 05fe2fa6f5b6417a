package dev.parley;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The provider dispatcher with synthetic requests and a fake engine: the C ABI has no call
 * yet that makes the engine send LLM or STT requests (the agent loop will), so these drive
 * those paths directly.
 */
class ProviderDispatcherTest {
  /** Records answers; forgotten (finished or cancelled) requests answer ENOTFOUND. */
  static final class FakeEngine implements ProviderDispatcher.Answers {
    final List<String> log = new ArrayList<>();
    final Set<Long> forgotten = ConcurrentHashMap.newKeySet();

    private synchronized void record(long id, String entry) {
      if (forgotten.contains(id)) {
        throw new ParleyException(Status.ENOTFOUND.code(), "host provider request " + id + " is unknown, finished or cancelled");
      }
      log.add(id + " " + entry);
      notifyAll();
    }

    synchronized List<String> entries() {
      return List.copyOf(log);
    }

    synchronized void waitFor(String prefix) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (log.stream().noneMatch(e -> e.startsWith(prefix))) {
        long left = deadline - System.nanoTime();
        if (left <= 0) throw new AssertionError("no \"" + prefix + "\" answer; got " + log);
        wait(Math.max(1, left / 1_000_000));
      }
    }

    @Override
    public void pushAudio(long id, short[] samples) {
      record(id, "audio " + samples.length);
    }

    @Override
    public void pushText(long id, String text) {
      record(id, "text " + text);
    }

    @Override
    public void pushToolCall(long id, int index, String callId, String name, String arguments) {
      record(id, "tool " + index + " " + callId + " " + name + " " + arguments);
    }

    @Override
    public void pushTranscript(long id, String text, boolean isFinal, boolean speechFinal) {
      record(id, "transcript " + text + " " + isFinal + " " + speechFinal);
    }

    @Override
    public void complete(long id, int status, String detail) {
      record(id, "complete " + status + " " + detail);
      forgotten.add(id);
    }
  }

  static Event request(String op, long id, String kind, String provider, String extra) {
    String payload = "{\"op\":\"" + op + "\",\"request\":" + id + ",\"kind\":\"" + kind + "\",\"provider\":\"" + provider
        + "\"" + (extra == null ? "" : "," + extra) + "}";
    return new Event(EventType.PROVIDER_REQUEST.code(), "s-1", payload, null, 0, 0);
  }

  static Event audio(long id, String provider, int samples) {
    String payload = "{\"op\":\"audio\",\"request\":" + id + ",\"kind\":\"stt\",\"provider\":\"" + provider + "\"}";
    return new Event(EventType.PROVIDER_REQUEST.code(), "s-1", payload, new short[samples], 16000, 0);
  }

  @Test
  void llmStreamsTextAndToolCalls() throws Exception {
    FakeEngine engine = new FakeEngine();
    ProviderDispatcher dispatcher = new ProviderDispatcher(engine);
    AtomicReference<LlmRequest> seen = new AtomicReference<>();
    dispatcher.set("llm", "echo-model", (LlmProvider) request -> {
      seen.set(request);
      List<LlmRequest.Message> messages = request.messages();
      request.pushText("You said: ");
      request.pushText(messages.get(messages.size() - 1).content());
      request.pushToolCall(0, "call_1", "hang_up", "{\"reason\":");
      request.pushToolCall(0, null, null, "\"done\"}");
      request.finish(null, 5, 4);
    }, 0);
    assertFalse(dispatcher.dispatch(request("complete", 8, "llm", "other", null)), "no implementation: an event");
    assertFalse(dispatcher.dispatch(new Event(EventType.USER.code(), "", "{}", null, 0, 0)));
    assertTrue(dispatcher.dispatch(request("complete", 8, "llm", "echo-model",
        "\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"assistant\",\"content\":\"\","
            + "\"tool_calls\":[{\"id\":\"c0\",\"type\":\"function\",\"function\":{\"name\":\"lookup\",\"arguments\":\"{}\"}}]},"
            + "{\"role\":\"tool\",\"content\":\"found\",\"tool_call_id\":\"c0\"},{\"role\":\"user\",\"content\":\"book me in\"}],"
            + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"hang_up\",\"parameters\":{\"type\":\"object\"}}}]")));
    engine.waitFor("8 complete");
    assertEquals(List.of("8 text You said: ", "8 text book me in", "8 tool 0 call_1 hang_up {\"reason\":",
        "8 tool 0 null null \"done\"}", "8 complete 0 {\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":4}}"),
        engine.entries());
    LlmRequest request = seen.get();
    assertEquals("s-1", request.sessionId());
    assertEquals(4, request.messages().size());
    assertEquals("lookup", request.messages().get(1).toolCalls().get(0).name());
    assertEquals("c0", request.messages().get(2).toolCallId());
    assertTrue(request.toolsJson().contains("\"hang_up\""), request.toolsJson());
    assertTrue(request.messagesJson().startsWith("[{\"role\":\"system\""), request.messagesJson());
    Thread.sleep(20);
    assertEquals(5, engine.entries().size(), "completed once");
    dispatcher.close();
  }

  @Test
  void failuresAndAutomaticCompletion() throws Exception {
    FakeEngine engine = new FakeEngine();
    ProviderDispatcher dispatcher = new ProviderDispatcher(engine);
    dispatcher.set("llm", "m", (LlmProvider) request -> {
      switch (request.messages().get(0).content()) {
        case "fail" -> throw new Exception("model overloaded");
        case "parley" -> throw new ParleyException(Status.EUNSUPPORTED.code(), "no such model");
        default -> request.pushText("fine");
      }
    }, 0);
    for (String[] c : new String[][] {{"1", "fail"}, {"2", "parley"}, {"3", "ok"}}) {
      dispatcher.dispatch(request("complete", Long.parseLong(c[0]), "llm", "m",
          "\"messages\":[{\"role\":\"user\",\"content\":\"" + c[1] + "\"}]"));
    }
    engine.waitFor("1 complete");
    engine.waitFor("2 complete");
    engine.waitFor("3 complete");
    List<String> log = engine.entries();
    assertTrue(log.contains("1 complete -11 model overloaded"), log.toString());
    assertTrue(log.contains("2 complete -7 no such model"), log.toString());
    assertTrue(log.contains("3 text fine") && log.contains("3 complete 0 null"), log.toString());
    dispatcher.close();
  }

  @Test
  void cancelCancelsAndLateAnswersAreIgnored() throws Exception {
    FakeEngine engine = new FakeEngine();
    ProviderDispatcher dispatcher = new ProviderDispatcher(engine);
    CompletableFuture<LlmRequest> running = new CompletableFuture<>();
    CompletableFuture<Void> answeredLate = new CompletableFuture<>();
    dispatcher.set("llm", "slow", (LlmProvider) request -> {
      running.complete(request);
      request.cancellation().get(5, TimeUnit.SECONDS);
      request.pushText("too late"); // swallowed
      answeredLate.complete(null);
    }, 0);
    dispatcher.dispatch(request("complete", 5, "llm", "slow", null));
    LlmRequest request = running.get(5, TimeUnit.SECONDS);
    engine.forgotten.add(5L); // the engine forgets a request before it sends the cancel
    assertTrue(dispatcher.dispatch(request("cancel", 5, "llm", "slow", null)));
    answeredLate.get(5, TimeUnit.SECONDS);
    assertTrue(request.isCancelled());

    // Forgotten, cancel not delivered yet: the first answer finds out and cancels.
    CompletableFuture<Boolean> noticed = new CompletableFuture<>();
    dispatcher.set("llm", "racy", (LlmProvider) r -> {
      engine.forgotten.add(r.id());
      r.pushText("hello");
      noticed.complete(r.isCancelled());
    }, 0);
    dispatcher.dispatch(request("complete", 6, "llm", "racy", null));
    assertTrue(noticed.get(5, TimeUnit.SECONDS));
    Thread.sleep(20);
    assertEquals(List.of(), engine.entries(), "nothing answered for cancelled requests");
    // Late cancels, audio for unknown requests and unknown operations are consumed.
    assertTrue(dispatcher.dispatch(request("cancel", 6, "llm", "racy", null)));
    assertTrue(dispatcher.dispatch(request("audio", 99, "llm", "racy", null)));
    assertTrue(dispatcher.dispatch(request("reticulate", 7, "llm", "racy", null)));
    dispatcher.close();
  }

  @Test
  void sttStreamsAudioAndFinalizeInOrder() throws Exception {
    FakeEngine engine = new FakeEngine();
    ProviderDispatcher dispatcher = new ProviderDispatcher(engine);
    CompletableFuture<Integer> ended = new CompletableFuture<>();
    dispatcher.set("stt", "asr", (SttProvider) request -> {
      int heard = 0;
      for (SttInput in = request.read(); in != null; in = request.read()) {
        if (in.isFinalize()) {
          request.pushTranscript("heard " + heard + " samples", true, true);
          heard = 0;
        } else {
          heard += in.audio().length;
          request.pushTranscript("...", false, false);
        }
      }
      assertNull(request.read());
      ended.complete(request.sampleRate());
    }, 8000);
    dispatcher.dispatch(request("start", 9, "stt", "asr", "\"sample_rate\":16000"));
    dispatcher.dispatch(audio(9, "asr", 320));
    dispatcher.dispatch(audio(9, "asr", 160));
    dispatcher.dispatch(request("finalize", 9, "stt", "asr", null));
    dispatcher.dispatch(audio(9, "asr", 320));
    dispatcher.dispatch(request("finalize", 9, "stt", "asr", null));
    engine.waitFor("9 transcript heard 320");
    engine.forgotten.add(9L);
    dispatcher.dispatch(request("cancel", 9, "stt", "asr", null));
    assertEquals(16000, ended.get(5, TimeUnit.SECONDS));
    assertEquals(List.of("9 transcript ... false false", "9 transcript ... false false",
        "9 transcript heard 480 samples true true", "9 transcript ... false false",
        "9 transcript heard 320 samples true true"), engine.entries());
    dispatcher.close();
  }

  @Test
  void ttsAndCloseCancelsRequestsInFlight() throws Exception {
    FakeEngine engine = new FakeEngine();
    ProviderDispatcher dispatcher = new ProviderDispatcher(engine);
    CompletableFuture<TtsRequest> waiting = new CompletableFuture<>();
    dispatcher.set("tts", "v", (TtsProvider) request -> {
      if (request.text().equals("wait")) {
        waiting.complete(request);
        request.cancellation().get(5, TimeUnit.SECONDS);
        return;
      }
      request.pushAudio(new short[request.sampleRate() / 10]);
    }, 24000);
    dispatcher.dispatch(request("synthesize", 1, "tts", "v", "\"text\":\"Hi.\""));
    engine.waitFor("1 complete 0");
    assertEquals("1 audio 2400", engine.entries().get(0));
    dispatcher.dispatch(request("synthesize", 2, "tts", "v", "\"text\":\"wait\""));
    TtsRequest request = waiting.get(5, TimeUnit.SECONDS);
    dispatcher.close();
    assertTrue(request.cancellation().isDone());
    Thread.sleep(20);
    assertEquals(2, engine.entries().size(), "a cancelled request is not completed");
    // A dispatched request completes once.
    ParleyException twice = assertThrows(ParleyException.class, () -> {
      ProviderRequest done = new ProviderRequest(3, "tts", "v", "", "{}", engine, true);
      done.complete();
      done.complete();
    });
    assertEquals(Status.ENOTFOUND, twice.status());
    dispatcher.set("tts", "v", null, 0);
    assertFalse(dispatcher.dispatch(request("synthesize", 4, "tts", "v", null)), "unregistered: an event again");
  }

  @Test
  void miniJsonRoundTrips() {
    Object value = MiniJson.parse("{\"a\": [1, 2.5, \"x\\n\\u00e9\", true, null], \"b\": {}}");
    assertEquals("{\"a\":[1,2.5,\"x\\n\u00e9\",true,null],\"b\":{}}", MiniJson.write(value));
    assertThrows(IllegalArgumentException.class, () -> MiniJson.parse("{\"a\": }"));
    assertThrows(IllegalArgumentException.class, () -> MiniJson.parse("[1] x"));
  }
}
