using System;
using System.Collections.Generic;

namespace Parley
{
    /// <summary>
    /// What every call of a runtime added up to since it was created: <see cref="Runtime.Stats"/>
    /// (the C ABI's <c>parley_runtime_stats_json</c>, docs/agent.md "Runtime counters"). A
    /// snapshot; counters only grow, except <see cref="CallsActive"/>. <see cref="Json"/> is
    /// the engine's document as it came, for fields newer than this class.
    /// </summary>
    public sealed class RuntimeStats
    {
        /// <summary>
        /// A latency distribution over 1 ms buckets, in milliseconds: how many values, their
        /// percentiles and maximum (all 0 while Count is 0).
        /// </summary>
        public struct Latency : IEquatable<Latency>
        {
            public long Count { get; private set; }
            public long P50 { get; private set; }
            public long P95 { get; private set; }
            public long P99 { get; private set; }
            public long Max { get; private set; }

            internal static Latency Of(object value)
            {
                var m = MiniJson.Object(value);
                return new Latency
                {
                    Count = MiniJson.Number(MiniJson.Get(m, "count"), 0),
                    P50 = MiniJson.Number(MiniJson.Get(m, "p50"), 0),
                    P95 = MiniJson.Number(MiniJson.Get(m, "p95"), 0),
                    P99 = MiniJson.Number(MiniJson.Get(m, "p99"), 0),
                    Max = MiniJson.Number(MiniJson.Get(m, "max"), 0),
                };
            }

            public bool Equals(Latency other)
            {
                return Count == other.Count && P50 == other.P50 && P95 == other.P95 && P99 == other.P99 && Max == other.Max;
            }

            public override bool Equals(object obj) { return obj is Latency && Equals((Latency)obj); }

            public override int GetHashCode() { return (Count, P50, P95, P99, Max).GetHashCode(); }

            public override string ToString()
            {
                return "count " + Count + ", p50 " + P50 + ", p95 " + P95 + ", p99 " + P99 + ", max " + Max + " ms";
            }
        }

        private readonly Dictionary<string, object> calls, frames, agent, latency;

        internal RuntimeStats(string json)
        {
            Json = json;
            Dictionary<string, object> root;
            try { root = MiniJson.Object(MiniJson.Parse(json)); }
            catch (FormatException e) { throw new ParleyException((int)Status.Format, "runtime stats: " + e.Message); }
            calls = MiniJson.Object(MiniJson.Get(root, "calls"));
            frames = MiniJson.Object(MiniJson.Get(root, "frames"));
            agent = MiniJson.Object(MiniJson.Get(root, "agent"));
            latency = MiniJson.Object(MiniJson.Get(root, "latency_ms"));
        }

        /// <summary>The engine's JSON document.</summary>
        public string Json { get; private set; }

        /// <summary>Calls live now.</summary>
        public long CallsActive { get { return Get(calls, "active"); } }
        public long CallsStarted { get { return Get(calls, "started"); } }
        public long CallsEnded { get { return Get(calls, "ended"); } }

        /// <summary>20 ms frames received from callers.</summary>
        public long CallerFrames { get { return Get(frames, "caller"); } }
        /// <summary>20 ms frames sent to callers.</summary>
        public long AgentFrames { get { return Get(frames, "agent"); } }
        public long AudioEventsDropped { get { return Get(frames, "audio_events_dropped"); } }

        /// <summary>Agent turns, greetings included.</summary>
        public long Turns { get { return Get(agent, "turns"); } }
        public long Interruptions { get { return Get(agent, "interruptions"); } }
        public long FalseInterruptions { get { return Get(agent, "false_interruptions"); } }
        public long ToolCalls { get { return Get(agent, "tool_calls"); } }
        public long ToolTimeouts { get { return Get(agent, "tool_timeouts"); } }
        public long ProviderErrors { get { return Get(agent, "provider_errors"); } }
        public long TokensIn { get { return Get(agent, "tokens_in"); } }
        public long TokensOut { get { return Get(agent, "tokens_out"); } }

        /// <summary>Caller speech end to the first agent frame of the answer.</summary>
        public Latency VoiceToVoice { get { return LatencyOf("voice_to_voice"); } }
        public Latency Endpointing { get { return LatencyOf("endpointing"); } }
        public Latency SttFinal { get { return LatencyOf("stt_final"); } }
        public Latency LlmFirstToken { get { return LatencyOf("llm_first_token"); } }
        public Latency TtsFirstByte { get { return LatencyOf("tts_first_byte"); } }
        /// <summary>Caller speech start to the transport's clear.</summary>
        public Latency BargeIn { get { return LatencyOf("barge_in"); } }

        /// <summary>A distribution by its key under <c>latency_ms</c> (e.g. "voice_to_voice").</summary>
        public Latency LatencyOf(string name)
        {
            return Latency.Of(MiniJson.Get(latency, name));
        }

        public override string ToString() { return Json; }

        private static long Get(Dictionary<string, object> map, string key)
        {
            return MiniJson.Number(MiniJson.Get(map, key), 0);
        }
    }
}
