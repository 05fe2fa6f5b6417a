import dev.parley.Event;
import dev.parley.Listener;
import dev.parley.Parley;
import dev.parley.Runtime;
import dev.parley.SessionListener;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Answers Twilio Media Streams calls with the engine's echo behaviour and prints each
 * session event. Try it with `parley loadgen --url ws://127.0.0.1:PORT/twilio --calls 2
 * --duration 3 --dtmf-every 1` (run.sh does exactly that).
 *
 *   java -cp parley.jar EchoAgent.java [--port 8080] [--calls N]
 *
 * With --calls N it exits after N calls have ended; otherwise on Ctrl-C.
 */
public final class EchoAgent {
  public static void main(String[] args) throws Exception {
    int port = 8080;
    int calls = 0;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--port")) port = Integer.parseInt(args[++i]);
      else if (args[i].equals("--calls")) calls = Integer.parseInt(args[++i]);
      else throw new IllegalArgumentException("usage: EchoAgent [--port N] [--calls N]");
    }
    CountDownLatch ended = new CountDownLatch(calls > 0 ? calls : 1);
    Runtime runtime = Runtime.create("{\"io_threads\": 2, \"log\": {\"level\": \"warn\"}}");
    runtime.addEventListener(new SessionListener() {
      @Override
      public void onSessionStarted(Event event) {
        System.out.println("started  " + event.sessionId() + " " + event.payload());
      }

      @Override
      public void onDtmf(Event event) {
        System.out.println("dtmf     " + event.sessionId() + " " + event.payload());
      }

      @Override
      public void onMark(Event event) {
        System.out.println("mark     " + event.sessionId() + " " + event.payload());
      }

      @Override
      public void onSessionError(Event event) {
        System.out.println("error    " + event.sessionId() + " " + event.payload());
      }

      @Override
      public void onSessionStopped(Event event) {
        System.out.println("stopped  " + event.sessionId() + " " + event.payload());
        ended.countDown();
      }
    });
    Listener listener = runtime.startListener("{\"transport\": \"twilio\", \"address\": \"127.0.0.1\", \"port\": "
        + port + ", \"path\": \"/twilio\", \"behaviour\": \"echo\"}");
    System.out.println("parley " + Parley.version() + " listening on ws://127.0.0.1:" + listener.port() + "/twilio");
    System.out.flush();

    Thread shutdown = new Thread(() -> {
      long hungUp = listener.stopAsync(Duration.ofSeconds(5)).join();
      System.out.println("drained (" + hungUp + " calls hung up)");
      runtime.close();
    });
    if (calls > 0) {
      ended.await(Long.MAX_VALUE, TimeUnit.DAYS);
      shutdown.run();
    } else {
      java.lang.Runtime.getRuntime().addShutdownHook(shutdown);
      Thread.currentThread().join();
    }
  }
}
