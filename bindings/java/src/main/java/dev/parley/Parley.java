package dev.parley;

/** Library-wide functions: versions, status names, the codec self-test. */
public final class Parley {
  private Parley() {}

  /** The version of the native library actually loaded, "MAJOR.MINOR.PATCH". */
  public static String version() {
    return ParleyNative.parley_version();
  }

  /** The version of the header this binding was generated from. */
  public static String bindingVersion() {
    return ParleyNativeConstants.PARLEY_VERSION_STRING;
  }

  /** The loaded library's version as major * 10000 + minor * 100 + patch. */
  public static int versionNumber() {
    return ParleyNative.parley_swig_version_number();
  }

  /** Throws unless the loaded library has the major and minor version the binding was made for. */
  public static void checkVersion() {
    int loaded = versionNumber();
    int expected = ParleyNativeConstants.PARLEY_VERSION_NUMBER;
    if (loaded / 100 != expected / 100) {
      throw new ParleyException(Status.EUNSUPPORTED.code(),
          "libparley " + version() + " loaded, binding made for " + bindingVersion());
    }
  }

  /** A stable name for a status code ("PARLEY_ECONFIG"). */
  public static String statusName(int status) {
    return ParleyNative.parley_status_name(status);
  }

  /** Round-trips a tone through the codecs and resampler; a JSON report with "ok". */
  public static String selftest() {
    return ParleyNative.parley_swig_selftest();
  }
}
