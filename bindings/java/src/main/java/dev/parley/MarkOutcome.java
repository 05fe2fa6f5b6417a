package dev.parley;

/** Outcome of a playback mark. */
public enum MarkOutcome {
  PENDING(ParleyNativeConstants.PARLEY_MARK_PENDING),
  PLAYED(ParleyNativeConstants.PARLEY_MARK_PLAYED),
  CLEARED(ParleyNativeConstants.PARLEY_MARK_CLEARED),
  TIMEOUT(ParleyNativeConstants.PARLEY_MARK_TIMEOUT),
  UNKNOWN(ParleyNativeConstants.PARLEY_MARK_UNKNOWN);

  private final int code;

  MarkOutcome(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  public static MarkOutcome fromCode(int code) {
    for (MarkOutcome value : values()) {
      if (value.code == code) return value;
    }
    throw new IllegalArgumentException("unknown MarkOutcome code " + code);
  }
}
