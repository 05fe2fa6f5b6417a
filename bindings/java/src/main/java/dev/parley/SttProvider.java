package dev.parley;

/** A speech recogniser implemented in Java: register it with {@link Runtime#registerStt}. */
@FunctionalInterface
public interface SttProvider {
  /**
   * Recognises one stream: read audio and end-of-utterance markers with
   * {@link SttRequest#read()} until it returns null (the engine ended the stream), and push
   * transcripts with {@link SttRequest#pushTranscript}. Returning earlier ends the stream from
   * this side; throwing fails it. Runs on a provider thread.
   */
  void recognize(SttRequest request) throws Exception;
}
