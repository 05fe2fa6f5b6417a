package dev.parley;

import java.util.Map;

/**
 * What every call of a runtime added up to since it was created: {@link Runtime#stats()}
 * (the C ABI's {@code parley_runtime_stats_json}, docs/agent.md "Runtime counters"). A
 * snapshot; counters only grow, except {@link #callsActive()}. {@link #json()} is the
 * engine's document as it came, for fields newer than this class.
 */
public final class RuntimeStats {
  /**
   * A latency distribution over 1 ms buckets, in milliseconds: how many values, their
   * percentiles and maximum (all 0 while {@code count} is 0).
   */
  public record Latency(long count, long p50, long p95, long p99, long max) {
    static Latency of(Object value) {
      Map<String, Object> m = MiniJson.object(value);
      return new Latency(MiniJson.number(m.get("count"), 0), MiniJson.number(m.get("p50"), 0),
          MiniJson.number(m.get("p95"), 0), MiniJson.number(m.get("p99"), 0), MiniJson.number(m.get("max"), 0));
    }
  }

  private final String json;
  private final Map<String, Object> calls;
  private final Map<String, Object> frames;
  private final Map<String, Object> agent;
  private final Map<String, Object> latency;

  RuntimeStats(String json) {
    this.json = json;
    Map<String, Object> root;
    try {
      root = MiniJson.object(MiniJson.parse(json));
    } catch (IllegalArgumentException malformed) {
      throw new ParleyException(Status.EFORMAT.code(), "runtime stats: " + malformed.getMessage());
    }
    calls = MiniJson.object(root.get("calls"));
    frames = MiniJson.object(root.get("frames"));
    agent = MiniJson.object(root.get("agent"));
    latency = MiniJson.object(root.get("latency_ms"));
  }

  /** The engine's JSON document. */
  public String json() {
    return json;
  }

  /** Calls live now. */
  public long callsActive() {
    return MiniJson.number(calls.get("active"), 0);
  }

  public long callsStarted() {
    return MiniJson.number(calls.get("started"), 0);
  }

  public long callsEnded() {
    return MiniJson.number(calls.get("ended"), 0);
  }

  /** 20 ms frames received from callers. */
  public long callerFrames() {
    return MiniJson.number(frames.get("caller"), 0);
  }

  /** 20 ms frames sent to callers. */
  public long agentFrames() {
    return MiniJson.number(frames.get("agent"), 0);
  }

  public long audioEventsDropped() {
    return MiniJson.number(frames.get("audio_events_dropped"), 0);
  }

  /** Agent turns, greetings included. */
  public long turns() {
    return MiniJson.number(agent.get("turns"), 0);
  }

  public long interruptions() {
    return MiniJson.number(agent.get("interruptions"), 0);
  }

  public long falseInterruptions() {
    return MiniJson.number(agent.get("false_interruptions"), 0);
  }

  public long toolCalls() {
    return MiniJson.number(agent.get("tool_calls"), 0);
  }

  public long toolTimeouts() {
    return MiniJson.number(agent.get("tool_timeouts"), 0);
  }

  public long providerErrors() {
    return MiniJson.number(agent.get("provider_errors"), 0);
  }

  public long tokensIn() {
    return MiniJson.number(agent.get("tokens_in"), 0);
  }

  public long tokensOut() {
    return MiniJson.number(agent.get("tokens_out"), 0);
  }

  /** Caller speech end to the first agent frame of the answer. */
  public Latency voiceToVoice() {
    return latency("voice_to_voice");
  }

  public Latency endpointing() {
    return latency("endpointing");
  }

  public Latency sttFinal() {
    return latency("stt_final");
  }

  public Latency llmFirstToken() {
    return latency("llm_first_token");
  }

  public Latency ttsFirstByte() {
    return latency("tts_first_byte");
  }

  /** Caller speech start to the transport's clear. */
  public Latency bargeIn() {
    return latency("barge_in");
  }

  /** A distribution by its key under {@code latency_ms} (e.g. "voice_to_voice"). */
  public Latency latency(String name) {
    return Latency.of(latency.get(name));
  }

  @Override
  public String toString() {
    return json;
  }
}
