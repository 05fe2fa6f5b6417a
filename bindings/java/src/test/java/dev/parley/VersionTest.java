package dev.parley;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class VersionTest {
  @Test
  void loadedLibraryMatchesTheHeaderTheBindingWasGeneratedFrom() {
    assertEquals(Parley.bindingVersion(), Parley.version());
    String[] parts = Parley.version().split("\\.");
    assertEquals(3, parts.length);
    int expected = Integer.parseInt(parts[0]) * 10000 + Integer.parseInt(parts[1]) * 100 + Integer.parseInt(parts[2]);
    assertEquals(expected, Parley.versionNumber());
    Parley.checkVersion();
  }

  @Test
  void statusNamesAndSelftest() {
    assertEquals("PARLEY_ECONFIG", Parley.statusName(Status.ECONFIG.code()));
    assertEquals("PARLEY_UNKNOWN", Parley.statusName(12345));
    String report = Parley.selftest();
    assertEquals("true", Json.field(report, "ok"), report);
    assertTrue(report.contains("\"checks\""), report);
  }
}
