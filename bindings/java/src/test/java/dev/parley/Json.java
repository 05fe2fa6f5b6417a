package dev.parley;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Just enough JSON reading for the tests: the scalar value of a key, as text. */
final class Json {
  private Json() {}

  static String field(String json, String key) {
    Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*(\"((?:[^\"\\\\]|\\\\.)*)\"|[-0-9.eE+]+|true|false|null)")
        .matcher(json);
    if (!m.find()) return null;
    return m.group(2) != null ? m.group(2) : m.group(1);
  }

  static long number(String json, String key) {
    String value = field(json, key);
    if (value == null) throw new AssertionError("no \"" + key + "\" in " + json);
    return (long) Double.parseDouble(value);
  }
}
