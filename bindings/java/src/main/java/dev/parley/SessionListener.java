package dev.parley;

/** An {@link EventListener} with one method per event type; override the ones you need. */
public interface SessionListener extends EventListener {
  @Override
  default void onEvent(Event event) {
    switch (event.type()) {
      case SESSION_STARTED -> onSessionStarted(event);
      case SESSION_STOPPED -> onSessionStopped(event);
      case SESSION_ERROR -> onSessionError(event);
      case SESSION_REJECTED -> onSessionRejected(event);
      case DTMF -> onDtmf(event);
      case MARK -> onMark(event);
      case AUDIO -> onAudio(event);
      case CALLER_AUDIO -> onCallerAudio(event);
      case AUDIO_MARK -> onAudioMark(event);
      case AUDIO_CLEAR -> onAudioClear(event);
      case PROVIDER_REQUEST -> onProviderRequest(event);
      case AGENT_STATE -> onAgentState(event);
      case TRANSCRIPT -> onTranscript(event);
      case TURN -> onTurn(event);
      case TOOL_CALL -> onToolCall(event);
      case INTERRUPTION -> onInterruption(event);
      case SEND_DTMF -> onSendDtmf(event);
      case TRANSFER -> onTransfer(event);
      default -> onOther(event);
    }
  }

  default void onSessionStarted(Event event) {}

  default void onSessionStopped(Event event) {}

  default void onSessionError(Event event) {}

  default void onSessionRejected(Event event) {}

  default void onDtmf(Event event) {}

  default void onMark(Event event) {}

  /** Host transport: agent audio to play. */
  default void onAudio(Event event) {}

  default void onCallerAudio(Event event) {}

  /** Host transport: confirm with {@link Session#pushMarkPlayed} once the audio before it played. */
  default void onAudioMark(Event event) {}

  /** Host transport: drop buffered agent audio (barge-in). */
  default void onAudioClear(Event event) {}

  /** A request for a provider registered without an implementation (default: onOther). */
  default void onProviderRequest(Event event) {
    onOther(event);
  }

  /** Agent sessions: the agent's state changed (default: onOther). */
  default void onAgentState(Event event) {
    onOther(event);
  }

  /** Agent sessions: a line of the conversation, the caller's or the agent's (default: onOther). */
  default void onTranscript(Event event) {
    onOther(event);
  }

  /** Agent sessions: a turn ended (default: onOther). */
  default void onTurn(Event event) {
    onOther(event);
  }

  /**
   * Agent sessions: the model called a host tool; answer with {@link Session#toolResult}
   * (default: onOther).
   */
  default void onToolCall(Event event) {
    onOther(event);
  }

  /** Agent sessions: the caller interrupted the agent (default: onOther). */
  default void onInterruption(Event event) {
    onOther(event);
  }

  /**
   * Host-transport agent sessions: the agent's send_dtmf tool asks the host to send
   * {@code "digits"} as touch tones on the call (default: onOther).
   */
  default void onSendDtmf(Event event) {
    onOther(event);
  }

  /**
   * Host-transport agent sessions: the agent's transfer tool asks the host to move the call
   * to {@code "target"}, now that its last words have played (default: onOther).
   */
  default void onTransfer(Event event) {
    onOther(event);
  }

  /** Runtime errors, overflow, user events and types this binding does not know. */
  default void onOther(Event event) {}
}
