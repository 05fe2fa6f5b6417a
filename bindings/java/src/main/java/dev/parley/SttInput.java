package dev.parley;

/**
 * One piece of an STT stream: caller audio (PCM16 mono at the request's sample rate), or the
 * end of the caller's utterance ({@link #isFinalize()}: flush and push a final transcript).
 */
public final class SttInput {
  private static final short[] NONE = new short[0];
  static final SttInput FINALIZE = new SttInput(NONE, true);

  private final short[] audio;
  private final boolean finalize;

  SttInput(short[] audio, boolean finalize) {
    this.audio = audio == null ? NONE : audio;
    this.finalize = finalize;
  }

  /** The samples (empty for a finalize marker). Not copied: do not modify. */
  public short[] audio() {
    return audio;
  }

  public boolean isFinalize() {
    return finalize;
  }

  @Override
  public String toString() {
    return finalize ? "finalize" : audio.length + " samples";
  }
}
