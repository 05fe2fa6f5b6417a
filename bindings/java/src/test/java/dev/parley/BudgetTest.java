package dev.parley;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The budget controller used standalone. */
class BudgetTest {
  static final String HISTORY = "[{\"role\":\"system\",\"content\":\"You are terse.\"},"
      + "{\"role\":\"user\",\"content\":\"Hello there\"},"
      + "{\"role\":\"assistant\",\"content\":\"Hi.\"},"
      + "{\"role\":\"user\",\"content\":\"What is the weather like on Mars today?\"}]";

  @Test
  void prepareRecordStatsAndReport() {
    try (Budget budget = Budget.create("{\"target_ms\": 800, \"model\": \"gpt-4o-mini\"}")) {
      assertTrue(budget.countTokens("hello world, this is a sentence") > 3);
      for (int turn = 0; turn < 12; turn++) {
        String toSend = budget.prepare(HISTORY);
        assertTrue(toSend.startsWith("[") && toSend.contains("Mars"), toSend);
        budget.recordTtft(300 + turn * 10);
      }
      String stats = budget.statsJson();
      assertEquals(12, Json.number(stats, "samples"), stats);
      assertEquals("default/gpt-4o-mini", Json.field(stats, "model"), stats);
      String json = budget.report(ReportFormat.JSON);
      assertTrue(json.startsWith("{"), json);
      assertFalse(budget.report(ReportFormat.TEXT).isEmpty());
      budget.selectModel("openai", "gpt-4o");
      budget.recordTtft(250, 1200);
      assertEquals("openai/gpt-4o", Json.field(budget.statsJson(), "model"));
    }
  }

  @Test
  void badInputIsAParleyException() {
    ParleyException e = assertThrows(ParleyException.class, () -> Budget.create("{\"target_ms\": \"fast\"}"));
    assertEquals(Status.ECONFIG, e.status());
    assertTrue(e.getMessage().contains("$.target_ms"), e.getMessage());

    Budget budget = Budget.create(null);
    e = assertThrows(ParleyException.class, () -> budget.prepare("[{\"role\": 5}]"));
    assertEquals(Status.EFORMAT, e.status());
    assertTrue(e.getMessage().contains("$[0]"), e.getMessage());
    e = assertThrows(ParleyException.class, () -> budget.recordTtft(-5));
    assertEquals(Status.EINVAL, e.status());
    e = assertThrows(ParleyException.class, () -> budget.provideSummary(42, "nothing asked"));
    assertEquals(Status.ENOTFOUND, e.status());
    e = assertThrows(ParleyException.class, () -> budget.selectModel(null, null));
    assertEquals(Status.EINVAL, e.status());
    e = assertThrows(ParleyException.class, () -> budget.prepare(null));
    assertEquals(Status.EINVAL, e.status());
    budget.close();
    budget.close();
    assertEquals(Status.ESTATE, assertThrows(ParleyException.class, () -> budget.countTokens("x")).status());
  }

  @Test
  void forgottenBudgetsAreFreedByTheCleaner() throws Exception {
    for (int i = 0; i < 200; i++) Budget.create(null).countTokens("garbage");
    System.gc();
    Thread.sleep(50);
  }
}
