package dev.parley;

import java.nio.charset.StandardCharsets;

/**
 * A call into Parley failed: carries the engine's status and its message (for configuration,
 * the message names the JSON path, e.g. {@code runtime config: $.io_threads: ...}).
 *
 * <p>Thrown by the generated JNI wrapper itself, which reads the engine's thread-local error
 * inside the same native call as the failure.
 */
public class ParleyException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int code;

  public ParleyException(int code, String message) {
    super(message);
    this.code = code;
  }

  /** Called by the JNI wrapper with the engine's UTF-8 message. */
  static ParleyException fromNative(int code, byte[] message) {
    return new ParleyException(code, new String(message, StandardCharsets.UTF_8));
  }

  /** The C status code (a negative PARLEY_E* value). */
  public int code() {
    return code;
  }

  public Status status() {
    return Status.fromCode(code);
  }

  @Override
  public String toString() {
    return "ParleyException[" + Status.fromCode(code) + " (" + code + ")]: " + getMessage();
  }

  static ParleyException closed(String what) {
    return new ParleyException(Status.ESTATE.code(), what + " is closed");
  }
}
