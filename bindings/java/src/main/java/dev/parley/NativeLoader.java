package dev.parley;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads libparley_jni.so (and the libparley.so.0 it links against).
 *
 * <ul>
 *   <li>{@code -Dparley.library.path=DIR} (or the environment variable PARLEY_LIBRARY_PATH):
 *       loads DIR/libparley.so.0 if present, then DIR/libparley_jni.so;
 *   <li>otherwise both are extracted from the jar's {@code /natives/<os>-<arch>/} folder into
 *       a fresh temporary folder (deleted at exit) and loaded from there.
 * </ul>
 */
final class NativeLoader {
  static final String JNI_LIBRARY = "libparley_jni.so";
  static final String ENGINE_LIBRARY = "libparley.so.0";
  private static boolean loaded;

  private NativeLoader() {}

  static synchronized void load() {
    if (loaded) return;
    String override = System.getProperty("parley.library.path");
    if (override == null || override.isEmpty()) override = System.getenv("PARLEY_LIBRARY_PATH");
    try {
      if (override != null && !override.isEmpty()) {
        loadFrom(Paths.get(override));
      } else {
        loadFrom(extract());
      }
    } catch (IOException e) {
      throw new UnsatisfiedLinkError("parley: cannot extract the native libraries: " + e);
    }
    loaded = true;
  }

  static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    if (os.startsWith("linux")) os = "linux";
    else if (os.startsWith("mac")) os = "macos";
    else if (os.startsWith("windows")) os = "windows";
    if (arch.equals("amd64") || arch.equals("x86_64")) arch = "x86_64";
    else if (arch.equals("arm64") || arch.equals("aarch64")) arch = "aarch64";
    return os + "-" + arch;
  }

  private static void loadFrom(Path folder) {
    Path engine = folder.resolve(ENGINE_LIBRARY);
    // Loaded first so that the JNI glue's DT_NEEDED resolves to this exact file.
    if (Files.exists(engine)) System.load(engine.toAbsolutePath().toString());
    System.load(folder.resolve(JNI_LIBRARY).toAbsolutePath().toString());
  }

  private static Path extract() throws IOException {
    String folder = "/natives/" + platform() + "/";
    if (NativeLoader.class.getResource(folder + JNI_LIBRARY) == null) {
      throw new UnsatisfiedLinkError("parley: this jar has no natives for " + platform()
          + " (looked for " + folder + JNI_LIBRARY + "); set -Dparley.library.path=DIR");
    }
    Path target = Files.createTempDirectory("parley-natives-");
    target.toFile().deleteOnExit();
    for (String name : nativeFiles(folder)) {
      try (InputStream in = NativeLoader.class.getResourceAsStream(folder + name)) {
        if (in == null) continue;
        Path file = target.resolve(name);
        Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        file.toFile().deleteOnExit();
      }
    }
    return target;
  }

  /** The files to extract: those listed in the folder's libraries.txt (the engine plus the
   *  libraries bundled with it, which find each other through RUNPATH $ORIGIN), or, in a jar
   *  without one, the engine and the glue. */
  private static java.util.List<String> nativeFiles(String folder) throws IOException {
    java.util.List<String> names = new java.util.ArrayList<>();
    try (InputStream in = NativeLoader.class.getResourceAsStream(folder + "libraries.txt")) {
      if (in != null) {
        for (String line : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
          String name = line.trim();
          if (!name.isEmpty() && !name.contains("/")) names.add(name);
        }
      }
    }
    if (!names.contains(ENGINE_LIBRARY)) names.add(ENGINE_LIBRARY);
    if (!names.contains(JNI_LIBRARY)) names.add(JNI_LIBRARY);
    return names;
  }
}
