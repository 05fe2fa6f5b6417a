import dev.parley.Event;
import dev.parley.EventType;
import dev.parley.ParleyException;
import dev.parley.Runtime;
import dev.parley.Session;
import dev.parley.Status;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Benchmarks of the Java binding (not a test): the cost of one Session.pushAudio of a 20 ms
 * frame (320 samples at 16 kHz) on a host-transport session, and event delivery (post_event
 * + the binding's polling thread, and post + pollEvent on one thread). Run with bench.sh.
 */
public final class Bench {
  public static void main(String[] args) throws Exception {
    int frames = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    int events = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
    pushAudio(frames);
    eventDelivery(events);
    pollLoop(events);
  }

  static void pushAudio(int frames) {
    try (Runtime runtime = Runtime.create("{\"log\": {\"sink\": \"none\"}}");
         Session session = runtime.createHostSession("{\"behaviour\": \"host\", \"sample_rate\": 16000}")) {
      short[] frame = new short[320];
      for (int i = 0; i < frame.length; i++) frame[i] = (short) (1000 * Math.sin(i / 10.0));
      for (int i = 0; i < 50_000; i++) session.pushAudio(frame, 16000); // JIT warm-up
      double best = Double.MAX_VALUE;
      double total = 0;
      int rounds = 5;
      for (int round = 0; round < rounds; round++) {
        long start = System.nanoTime();
        for (int i = 0; i < frames; i++) session.pushAudio(frame, 16000);
        double perCall = (System.nanoTime() - start) / 1000.0 / frames;
        best = Math.min(best, perCall);
        total += perCall;
      }
      System.out.printf("push_audio 20 ms frame: %.3f us/call mean of %d x %d, best %.3f us%n",
          total / rounds, rounds, frames, best);
    }
  }

  static void eventDelivery(int events) throws Exception {
    try (Runtime runtime = Runtime.create("{\"event_queue_capacity\": 1048576, \"log\": {\"sink\": \"none\"}}")) {
      AtomicLong received = new AtomicLong();
      CountDownLatch done = new CountDownLatch(1);
      runtime.addEventListener(event -> {
        if (event.type() == EventType.USER && received.incrementAndGet() == events) done.countDown();
      });
      String payload = "{\"seq\":1}";
      long start = System.nanoTime();
      long retries = 0;
      for (int i = 0; i < events; i++) {
        try {
          runtime.postEvent(payload);
        } catch (ParleyException e) {
          if (e.status() != Status.EFULL) throw e;
          retries++;
          i--;
          Thread.onSpinWait();
        }
      }
      if (!done.await(120, TimeUnit.SECONDS)) throw new AssertionError("lost events: " + received.get());
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf("event delivery (post_event -> binding thread -> listener): %.0f events/s (%d events, %.2f s, %d EFULL retries)%n",
          events / seconds, events, seconds, retries);
    }
  }

  static void pollLoop(int events) {
    try (Runtime runtime = Runtime.create("{\"event_queue_capacity\": 1048576, \"log\": {\"sink\": \"none\"}}")) {
      int batch = 100_000;
      long start = System.nanoTime();
      for (int done = 0; done < events; done += batch) {
        for (int i = 0; i < batch; i++) runtime.postEvent("{\"seq\":1}");
        for (int i = 0; i < batch; i++) {
          Event event = runtime.pollEvent(Duration.ZERO);
          if (event == null) throw new AssertionError("missing event");
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf("post_event + pollEvent on one thread: %.0f events/s%n", events / seconds);
    }
  }
}
