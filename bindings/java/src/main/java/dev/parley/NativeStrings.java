package dev.parley;

import java.nio.charset.StandardCharsets;

/** UTF-8 conversions for strings crossing JNI (the generated layer calls these). */
final class NativeStrings {
  private NativeStrings() {}

  /** A NUL-terminated UTF-8 copy of {@code text}, or null for null. */
  static byte[] encode(String text) {
    if (text == null) return null;
    if (text.indexOf('\0') >= 0) {
      throw new ParleyException(Status.EINVAL.code(), "string contains a NUL character");
    }
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    byte[] terminated = new byte[utf8.length + 1];
    System.arraycopy(utf8, 0, terminated, 0, utf8.length);
    return terminated;
  }

  static String decode(byte[] utf8) {
    return utf8 == null ? null : new String(utf8, StandardCharsets.UTF_8);
  }
}
