package dev.parley;

/** A request to speak {@link #text()}; answer with {@link #pushAudio}. */
public final class TtsRequest extends ProviderRequest {
  private final String text;
  private final int sampleRate;

  TtsRequest(long id, String provider, String sessionId, String payload, ProviderDispatcher.Answers answers,
             String text, int sampleRate) {
    super(id, "tts", provider, sessionId, payload, answers, true);
    this.text = text == null ? "" : text;
    this.sampleRate = sampleRate;
  }

  public String text() {
    return text;
  }

  /** The rate registered for this voice: push audio at this rate. */
  public int sampleRate() {
    return sampleRate;
  }
}
