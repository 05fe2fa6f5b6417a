package dev.parley;

/**
 * One event, copied out of the engine's record (which is released at once): its type, the
 * session it belongs to ("" for runtime events), its JSON payload and, for audio events,
 * PCM16 samples.
 */
public final class Event {
  private static final short[] NO_AUDIO = new short[0];

  private final int typeCode;
  private final String sessionId;
  private final String payload;
  private final short[] audio;
  private final int sampleRate;
  private final long timestampUs;

  Event(int typeCode, String sessionId, String payload, short[] audio, int sampleRate, long timestampUs) {
    this.typeCode = typeCode;
    this.sessionId = sessionId;
    this.payload = payload;
    this.audio = audio == null ? NO_AUDIO : audio;
    this.sampleRate = sampleRate;
    this.timestampUs = timestampUs;
  }

  /** Copies the native event; does not release it. */
  static Event copyOf(long event) {
    int type = ParleyNative.parley_event_type_of(event);
    short[] audio = null;
    int rate = 0;
    int count = ParleyNative.parley_swig_event_audio_count(event);
    if (count > 0) {
      audio = new short[count];
      ParleyNative.parley_swig_event_audio_copy(event, audio);
      rate = ParleyNative.parley_swig_event_audio_rate(event);
    }
    return new Event(type, ParleyNative.parley_event_session_id(event),
        ParleyNative.parley_event_payload(event), audio, rate,
        ParleyNative.parley_event_timestamp_us(event));
  }

  public EventType type() {
    return EventType.fromCode(typeCode);
  }

  public int typeCode() {
    return typeCode;
  }

  /** The engine's name for the type ("session_started"). */
  public String typeName() {
    return ParleyNative.parley_event_type_name(typeCode);
  }

  /** The session's id, "" for runtime events. */
  public String sessionId() {
    return sessionId;
  }

  /** The JSON payload (at least "{}"). */
  public String payload() {
    return payload;
  }

  /**
   * The payload parsed (the jar has no JSON dependency): a JSON object is a {@code Map<String,
   * Object>} (an empty map when the payload is not an object), an array a {@code List<Object>},
   * a number a {@code Double}, plus String, Boolean and null. Parsed on each call.
   *
   * <pre>{@code
   * Map<String, Object> line = event.payloadMap();          // a TRANSCRIPT event
   * if (Boolean.TRUE.equals(line.get("final"))) System.out.println(line.get("role") + ": " + line.get("text"));
   * }</pre>
   *
   * @throws IllegalArgumentException when the payload is not valid JSON
   */
  public java.util.Map<String, Object> payloadMap() {
    return MiniJson.object(MiniJson.parse(payload == null || payload.isEmpty() ? "{}" : payload));
  }

  /** PCM16 mono samples (empty when the event carries no audio). Not copied: do not modify. */
  public short[] audio() {
    return audio;
  }

  public int sampleRate() {
    return sampleRate;
  }

  /** Creation time, microseconds on the runtime's monotonic clock. */
  public long timestampUs() {
    return timestampUs;
  }

  @Override
  public String toString() {
    String text = type() + (sessionId.isEmpty() ? "" : " " + sessionId) + " " + payload;
    return audio.length == 0 ? text : text + " (" + audio.length + " samples at " + sampleRate + " Hz)";
  }
}
