package dev.parley;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** 100,000 events through the binding's event thread, with System.gc() forced in the middle. */
class EventStormTest {
  static final int EVENTS = 100_000;

  @Test
  void everyPostedEventArrivesInOrderThroughGarbageCollections() throws Exception {
    AtomicLong received = new AtomicLong();
    AtomicLong outOfOrder = new AtomicLong();
    AtomicLong fullRetries = new AtomicLong();
    AtomicLong overflows = new AtomicLong();
    CountDownLatch all = new CountDownLatch(1);
    try (Runtime runtime = Runtime.create("{\"event_queue_capacity\": 65536, \"log\": {\"sink\": \"none\"}}")) {
      runtime.addEventListener(event -> {
        if (event.type() == EventType.OVERFLOW) {
          overflows.incrementAndGet(); // a refused post (EFULL) is counted as dropped
          return;
        }
        assertEquals(EventType.USER, event.type());
        long n = Json.number(event.payload(), "n");
        long expected = received.getAndIncrement();
        if (n != expected) outOfOrder.incrementAndGet();
        if (n == EVENTS / 2) System.gc(); // on the event thread, mid-storm
        if (n == EVENTS - 1) all.countDown();
      });
      for (int i = 0; i < EVENTS; i++) {
        String payload = "{\"n\":" + i + ",\"pad\":\"" + "x".repeat(i % 64) + "\"}";
        for (;;) {
          try {
            runtime.postEvent(payload);
            break;
          } catch (ParleyException e) {
            assertEquals(Status.EFULL, e.status(), e.toString());
            fullRetries.incrementAndGet();
            Thread.sleep(1);
          }
        }
        if (i == EVENTS / 4 || i == EVENTS * 3 / 4) System.gc(); // on the posting thread
      }
      assertTrue(all.await(60, TimeUnit.SECONDS), "received " + received.get() + " of " + EVENTS);
    }
    assertEquals(EVENTS, received.get());
    // Every refused post was retried; the engine reports refusals as overflow events.
    assertTrue(fullRetries.get() == 0 || overflows.get() > 0, fullRetries + " retries, " + overflows + " overflows");
    assertEquals(0, outOfOrder.get());
  }
}
