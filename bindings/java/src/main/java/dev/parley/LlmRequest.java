package dev.parley;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A request to complete {@link #messages()}; answer with {@link #pushText} and
 * {@link #pushToolCall}. The messages and tools are OpenAI-shaped:
 * {@link #messagesJson()} and {@link #toolsJson()} give them as JSON to forward to a model API.
 */
public final class LlmRequest extends ProviderRequest {
  /** One message: role ("system", "user", "assistant", "tool"), content, tool fields. */
  public record Message(String role, String content, String toolCallId, List<ToolCall> toolCalls) {}

  /** A tool call of an earlier assistant message. */
  public record ToolCall(String id, String name, String arguments) {}

  private final List<Message> messages;
  private final String messagesJson;
  private final String toolsJson;

  LlmRequest(long id, String provider, String sessionId, String payload, ProviderDispatcher.Answers answers,
             Map<String, Object> body) {
    super(id, "llm", provider, sessionId, payload, answers, true);
    List<Message> list = new ArrayList<>();
    for (Object item : MiniJson.array(body.get("messages"))) {
      Map<String, Object> m = MiniJson.object(item);
      List<ToolCall> calls = new ArrayList<>();
      for (Object call : MiniJson.array(m.get("tool_calls"))) {
        Map<String, Object> c = MiniJson.object(call);
        Map<String, Object> f = MiniJson.object(c.get("function"));
        calls.add(new ToolCall(MiniJson.string(c.get("id")), MiniJson.string(f.get("name")),
            MiniJson.string(f.get("arguments"))));
      }
      list.add(new Message(MiniJson.string(m.get("role")), MiniJson.string(m.get("content")),
          MiniJson.string(m.get("tool_call_id")), List.copyOf(calls)));
    }
    this.messages = List.copyOf(list);
    this.messagesJson = MiniJson.write(body.containsKey("messages") ? body.get("messages") : List.of());
    this.toolsJson = MiniJson.write(body.containsKey("tools") ? body.get("tools") : List.of());
  }

  public List<Message> messages() {
    return messages;
  }

  /** The messages as a JSON array. */
  public String messagesJson() {
    return messagesJson;
  }

  /** The tools the model may call, as a JSON array ({"type": "function", "function": {...}}). */
  public String toolsJson() {
    return toolsJson;
  }

  /** Completes the request with its finish reason (null: the engine's default) and token usage. */
  public void finish(String finishReason, long promptTokens, long completionTokens) {
    Map<String, Object> usage = new LinkedHashMap<>();
    usage.put("prompt_tokens", (double) promptTokens);
    usage.put("completion_tokens", (double) completionTokens);
    Map<String, Object> detail = new LinkedHashMap<>();
    if (finishReason != null) detail.put("finish_reason", finishReason);
    detail.put("usage", usage);
    complete(MiniJson.write(detail));
  }
}
