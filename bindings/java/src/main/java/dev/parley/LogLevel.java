package dev.parley;

/** Log levels for Runtime.log. */
public enum LogLevel {
  TRACE(ParleyNativeConstants.PARLEY_LOG_TRACE),
  DEBUG(ParleyNativeConstants.PARLEY_LOG_DEBUG),
  INFO(ParleyNativeConstants.PARLEY_LOG_INFO),
  WARN(ParleyNativeConstants.PARLEY_LOG_WARN),
  ERROR(ParleyNativeConstants.PARLEY_LOG_ERROR),
  OFF(ParleyNativeConstants.PARLEY_LOG_OFF);

  private final int code;

  LogLevel(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  public static LogLevel fromCode(int code) {
    for (LogLevel value : values()) {
      if (value.code == code) return value;
    }
    throw new IllegalArgumentException("unknown LogLevel code " + code);
  }
}
