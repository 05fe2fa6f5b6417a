package dev.parley;

/** G.711 encodings for Session.pushG711. */
public enum G711 {
  ULAW(ParleyNativeConstants.PARLEY_G711_ULAW),
  ALAW(ParleyNativeConstants.PARLEY_G711_ALAW);

  private final int code;

  G711(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  public static G711 fromCode(int code) {
    for (G711 value : values()) {
      if (value.code == code) return value;
    }
    throw new IllegalArgumentException("unknown G711 code " + code);
  }
}
