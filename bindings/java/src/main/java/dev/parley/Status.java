package dev.parley;

/** The engine's status codes (stable values, see parley.h). */
public enum Status {
  OK(ParleyNativeConstants.PARLEY_OK),
  EINVAL(ParleyNativeConstants.PARLEY_EINVAL),
  ECONFIG(ParleyNativeConstants.PARLEY_ECONFIG),
  ENOMEM(ParleyNativeConstants.PARLEY_ENOMEM),
  ESTATE(ParleyNativeConstants.PARLEY_ESTATE),
  ETIMEOUT(ParleyNativeConstants.PARLEY_ETIMEOUT),
  ENOTFOUND(ParleyNativeConstants.PARLEY_ENOTFOUND),
  EUNSUPPORTED(ParleyNativeConstants.PARLEY_EUNSUPPORTED),
  EIO(ParleyNativeConstants.PARLEY_EIO),
  EFORMAT(ParleyNativeConstants.PARLEY_EFORMAT),
  EPROTOCOL(ParleyNativeConstants.PARLEY_EPROTOCOL),
  EPROVIDER(ParleyNativeConstants.PARLEY_EPROVIDER),
  ECANCELLED(ParleyNativeConstants.PARLEY_ECANCELLED),
  EFULL(ParleyNativeConstants.PARLEY_EFULL),
  EINTERNAL(ParleyNativeConstants.PARLEY_EINTERNAL),
  /** A code this version of the binding does not know. */
  UNKNOWN(Integer.MIN_VALUE);

  private final int code;

  Status(int code) {
    this.code = code;
  }

  /** The C value (0 or a negative PARLEY_E* code). */
  public int code() {
    return code;
  }

  public static Status fromCode(int code) {
    for (Status status : values()) {
      if (status.code == code) return status;
    }
    return UNKNOWN;
  }
}
