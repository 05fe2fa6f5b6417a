using System;

namespace Parley
{
    /// <summary>
    /// One event, copied out of the engine's record (released at once): its type, the session
    /// it belongs to ("" for runtime events), its JSON payload and, for audio events, PCM16.
    /// </summary>
    public sealed class ParleyEvent : EventArgs
    {
        private static readonly short[] NoAudio = new short[0];

        internal ParleyEvent(int typeCode, string sessionId, string payload, short[] audio, int sampleRate, long timestampUs)
        {
            TypeCode = typeCode;
            SessionId = sessionId ?? "";
            Payload = payload ?? "{}";
            Audio = audio ?? NoAudio;
            SampleRate = sampleRate;
            TimestampUs = timestampUs;
        }

        /// <summary>Copies the native event; does not release it.</summary>
        internal static ParleyEvent CopyOf(IntPtr ev)
        {
            int type = ParleyNative.parley_event_type_of(ev);
            short[] audio = null;
            int rate = 0;
            int count = ParleyNative.parley_swig_event_audio_count(ev);
            if (count > 0)
            {
                audio = new short[count];
                ParleyNative.parley_swig_event_audio_copy(ev, audio, (uint)count);
                rate = ParleyNative.parley_swig_event_audio_rate(ev);
            }
            return new ParleyEvent(type, ParleyNative.parley_event_session_id(ev), ParleyNative.parley_event_payload(ev),
                                   audio, rate, ParleyNative.parley_event_timestamp_us(ev));
        }

        /// <summary>The type (a value outside the enum for types newer than this binding).</summary>
        public EventType Type { get { return (EventType)TypeCode; } }

        public int TypeCode { get; private set; }

        /// <summary>The engine's name for the type ("session_started").</summary>
        public string TypeName { get { return ParleyNative.parley_event_type_name(TypeCode); } }

        /// <summary>The session's id; "" for runtime events.</summary>
        public string SessionId { get; private set; }

        /// <summary>The JSON payload (at least "{}").</summary>
        public string Payload { get; private set; }

        /// <summary>
        /// The payload parsed (the assembly has no JSON dependency): a JSON object is a
        /// Dictionary&lt;string, object&gt; (an empty one when the payload is not an object), an
        /// array a List&lt;object&gt;, a number a double, plus string, bool and null. Parsed on
        /// each call, e.g. for a Transcript event:
        /// <code>var line = ev.PayloadMap(); if (line["final"] is true) Console.WriteLine(line["text"]);</code>
        /// </summary>
        /// <exception cref="System.FormatException">The payload is not valid JSON.</exception>
        public System.Collections.Generic.Dictionary<string, object> PayloadMap()
        {
            return MiniJson.Object(MiniJson.Parse(string.IsNullOrEmpty(Payload) ? "{}" : Payload));
        }

        /// <summary>PCM16 mono samples; empty when the event carries no audio.</summary>
        public short[] Audio { get; private set; }

        public int SampleRate { get; private set; }

        /// <summary>Creation time, microseconds on the runtime's monotonic clock.</summary>
        public long TimestampUs { get; private set; }

        public override string ToString()
        {
            string text = Type + (SessionId.Length == 0 ? "" : " " + SessionId) + " " + Payload;
            return Audio.Length == 0 ? text : text + " (" + Audio.Length + " samples at " + SampleRate + " Hz)";
        }
    }
}
