package dev.parley;

/** A session's state. */
public enum SessionState {
  CONNECTING(ParleyNativeConstants.PARLEY_SESSION_CONNECTING),
  ACTIVE(ParleyNativeConstants.PARLEY_SESSION_ACTIVE),
  CLOSING(ParleyNativeConstants.PARLEY_SESSION_CLOSING),
  CLOSED(ParleyNativeConstants.PARLEY_SESSION_CLOSED);

  private final int code;

  SessionState(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  public static SessionState fromCode(int code) {
    for (SessionState value : values()) {
      if (value.code == code) return value;
    }
    throw new IllegalArgumentException("unknown SessionState code " + code);
  }
}
