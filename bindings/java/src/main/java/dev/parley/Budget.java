package dev.parley;

import java.lang.ref.Cleaner;

/**
 * A TTFT budget controller (docs/budget.md): keeps a percentile of the model's time to first
 * token under a target by compressing the conversation only as much as needed. Standalone:
 * needs no runtime. Thread-safe.
 *
 * <pre>{@code
 * try (Budget budget = Budget.create("{\"target_ms\": 800, \"model\": \"gpt-4o-mini\"}")) {
 *   String toSend = budget.prepare(historyJson);
 *   ... at the first streamed token:
 *   budget.recordTtft(msSinceRequestStart);
 * }
 * }</pre>
 */
public final class Budget extends NativeHandle {
  private static final Cleaner CLEANER = Cleaner.create();
  /** A safety net for budgets never closed; close() runs the same action, once. */
  private final Cleaner.Cleanable cleanable;

  private Budget(long pointer) {
    super(pointer, "budget");
    cleanable = CLEANER.register(this, () -> ParleyNative.parley_budget_destroy(pointer));
  }

  /** A controller from a JSON configuration (null or "{}" for defaults). */
  public static Budget create(String configJson) {
    return new Budget(ParleyNative.parley_swig_budget_create(configJson));
  }

  /** The messages to send for the next LLM call (a JSON array), from an OpenAI-style history. */
  public String prepare(String messagesJson) {
    long budget = acquire();
    try {
      return ParleyNative.parley_swig_budget_prepare(budget, messagesJson);
    } finally {
      release();
    }
  }

  /** Records the measured time to first token of the call prepared last. */
  public void recordTtft(double ttftMs, long promptTokens) {
    long budget = acquire();
    try {
      ParleyNative.parley_budget_record_ttft(budget, ttftMs, promptTokens);
    } finally {
      release();
    }
  }

  /** Records the TTFT with the prompt size {@link #prepare} computed. */
  public void recordTtft(double ttftMs) {
    recordTtft(ttftMs, -1);
  }

  /** Current statistics of the selected model (JSON). */
  public String statsJson() {
    long budget = acquire();
    try {
      return ParleyNative.parley_swig_budget_stats_json(budget);
    } finally {
      release();
    }
  }

  public String report(ReportFormat format) {
    long budget = acquire();
    try {
      return ParleyNative.parley_swig_budget_report(budget, format.code());
    } finally {
      release();
    }
  }

  /** Tokens of {@code text} with the controller's tokenizer (exact or estimated). */
  public long countTokens(String text) {
    long budget = acquire();
    try {
      return ParleyNative.parley_swig_budget_count_tokens(budget, text);
    } finally {
      release();
    }
  }

  /** Switches the latency curve the decisions use ({@code model} may be null). */
  public void selectModel(String provider, String model) {
    long budget = acquire();
    try {
      ParleyNative.parley_budget_select_model(budget, provider, model);
    } finally {
      release();
    }
  }

  /** Supplies the summary for a summariser request (an empty summary declines it). */
  public void provideSummary(long requestId, String summary) {
    long budget = acquire();
    try {
      ParleyNative.parley_budget_provide_summary(budget, requestId, summary);
    } finally {
      release();
    }
  }

  @Override
  void destroy(long pointer) {
    cleanable.clean();
  }
}
