package dev.parley;

/** Formats of Budget.report. */
public enum ReportFormat {
  JSON(ParleyNativeConstants.PARLEY_BUDGET_REPORT_JSON),
  TEXT(ParleyNativeConstants.PARLEY_BUDGET_REPORT_TEXT);

  private final int code;

  ReportFormat(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  public static ReportFormat fromCode(int code) {
    for (ReportFormat value : values()) {
      if (value.code == code) return value;
    }
    throw new IllegalArgumentException("unknown ReportFormat code " + code);
  }
}
