package dev.parley;

/** Event types (values from parley.h). */
public enum EventType {
  NONE(ParleyNativeConstants.PARLEY_EVENT_NONE),
  RUNTIME_ERROR(ParleyNativeConstants.PARLEY_EVENT_RUNTIME_ERROR),
  USER(ParleyNativeConstants.PARLEY_EVENT_USER),
  OVERFLOW(ParleyNativeConstants.PARLEY_EVENT_OVERFLOW),
  SESSION_STARTED(ParleyNativeConstants.PARLEY_EVENT_SESSION_STARTED),
  SESSION_STOPPED(ParleyNativeConstants.PARLEY_EVENT_SESSION_STOPPED),
  SESSION_ERROR(ParleyNativeConstants.PARLEY_EVENT_SESSION_ERROR),
  SESSION_REJECTED(ParleyNativeConstants.PARLEY_EVENT_SESSION_REJECTED),
  DTMF(ParleyNativeConstants.PARLEY_EVENT_DTMF),
  MARK(ParleyNativeConstants.PARLEY_EVENT_MARK),
  AUDIO(ParleyNativeConstants.PARLEY_EVENT_AUDIO),
  CALLER_AUDIO(ParleyNativeConstants.PARLEY_EVENT_CALLER_AUDIO),
  AUDIO_MARK(ParleyNativeConstants.PARLEY_EVENT_AUDIO_MARK),
  AUDIO_CLEAR(ParleyNativeConstants.PARLEY_EVENT_AUDIO_CLEAR),
  /**
   * A request for a host provider registered without an implementation
   * ({@link Runtime#registerProvider} with null); answer it with
   * {@link Runtime#providerRequest(long)}. Requests of providers implemented in Java are
   * dispatched to them and never delivered as events.
   */
  PROVIDER_REQUEST(ParleyNativeConstants.PARLEY_EVENT_PROVIDER_REQUEST),
  /**
   * Agent sessions (listeners and host sessions with {@code "behaviour": "agent"}): the agent
   * changed state; payload {@code {"state": "idle"|"listening"|"thinking"|"speaking", "turn"}}.
   */
  AGENT_STATE(ParleyNativeConstants.PARLEY_EVENT_AGENT_STATE),
  /**
   * A line of the conversation: {@code {"role": "user"|"agent", "text", "final", "turn"}}.
   * User partials have final false; an agent line arrives once per chunk as it is sent to the
   * voice, and its final (heard) form when the turn ends.
   */
  TRANSCRIPT(ParleyNativeConstants.PARLEY_EVENT_TRANSCRIPT),
  /**
   * A turn ended: {@code {"turn", "user_text", "agent_text", "heard_text", "interrupted",
   * "latency_ms": {...}, "tokens_in", "tokens_out", "tool_calls": [...]}}.
   */
  TURN(ParleyNativeConstants.PARLEY_EVENT_TURN),
  /**
   * The model called a host tool: {@code {"id", "name", "arguments": {...}}}. Answer with
   * {@link Session#toolResult(String, String)} before the tool's timeout.
   */
  TOOL_CALL(ParleyNativeConstants.PARLEY_EVENT_TOOL_CALL),
  /** The caller interrupted the agent: {@code {"turn", "heard_text", "resumed"}}. */
  INTERRUPTION(ParleyNativeConstants.PARLEY_EVENT_INTERRUPTION),
  /**
   * Host transport: the agent's send_dtmf tool; send these touch tones on the call with the
   * host's own telephony: {@code {"digits": "12#"}}. Comes after the agent audio delivered
   * before it.
   */
  SEND_DTMF(ParleyNativeConstants.PARLEY_EVENT_SEND_DTMF),
  /**
   * Host transport: the agent's transfer tool; move the call to {@code {"target": "..."}}.
   * Comes once the agent's last words before it have played; the agent says nothing more.
   */
  TRANSFER(ParleyNativeConstants.PARLEY_EVENT_TRANSFER),
  /** A type this version of the binding does not know (see {@link Event#typeCode()}). */
  UNKNOWN(-1);

  private static final EventType[] BY_CODE = new EventType[32];

  static {
    for (EventType type : values()) {
      if (type.code >= 0) BY_CODE[type.code] = type;
    }
  }

  private final int code;

  EventType(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  public static EventType fromCode(int code) {
    EventType type = code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    return type == null ? UNKNOWN : type;
  }
}
