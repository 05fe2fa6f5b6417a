package dev.parley;

import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** An STT stream: {@link #read()} its input, answer with {@link #pushTranscript}. */
public final class SttRequest extends ProviderRequest {
  private static final SttInput END = new SttInput(null, false);

  private final int sampleRate;
  private final LinkedBlockingQueue<SttInput> input = new LinkedBlockingQueue<>();
  private volatile boolean ended;

  SttRequest(long id, String provider, String sessionId, String payload, ProviderDispatcher.Answers answers,
             int sampleRate) {
    super(id, "stt", provider, sessionId, payload, answers, true);
    this.sampleRate = sampleRate;
  }

  /** The rate of the audio this stream receives. */
  public int sampleRate() {
    return sampleRate;
  }

  /**
   * The next piece of input, in order, waiting as long as needed; null once the engine ended
   * the stream (or the runtime closed).
   */
  public SttInput read() throws InterruptedException {
    if (ended) return null;
    SttInput next = input.take();
    return end(next);
  }

  /** As {@link #read()}, waiting at most {@code timeout} (null: forever); null also when nothing came in time. */
  public SttInput read(Duration timeout) throws InterruptedException {
    if (timeout == null) return read();
    if (ended) return null;
    SttInput next = input.poll(Waits.millis(timeout), TimeUnit.MILLISECONDS);
    return next == null ? null : end(next);
  }

  /** Whether the stream has ended (read() returns null from now on). */
  public boolean isEnded() {
    return ended;
  }

  private SttInput end(SttInput next) {
    if (next != END) return next;
    ended = true;
    input.offer(END); // later reads see the end too
    return null;
  }

  void offer(SttInput item) {
    if (!ended) input.offer(item);
  }

  void endInput() {
    input.offer(END);
  }

  @Override
  void markCancelled() {
    super.markCancelled();
    endInput();
  }
}
