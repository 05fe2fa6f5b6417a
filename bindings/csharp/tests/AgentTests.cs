using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using NUnit.Framework;

namespace Parley.Tests
{
    /// <summary>
    /// An agent host session driven from C#: the host plays the caller (pushes its speech in
    /// real time, confirms every audio mark) and implements the tool the model calls.
    /// </summary>
    [TestFixture]
    public class AgentTests
    {
        /// <summary>
        /// The scripted LLM's flow: it greets, and whatever the caller says it answers "Let me
        /// check.", calls the host tool lookup_order({"id":"42"}) and, once the host has answered,
        /// says "Your order {tool_result.status}." in the same turn. (The greeting itself cannot go
        /// on after a tool call: a flow's start state has only its entry, and the request carrying
        /// the tool result gets what the turn had left to say.)
        /// </summary>
        internal const string OrderFlow = "{\"version\":1,\"start\":\"s\",\"states\":{"
            + "\"s\":{\"entry\":\"How can I help?\",\"intents\":[{\"name\":\"order\",\"slots\":{\"question\":\"text\"},"
            + "\"reply\":\"Let me check.\",\"tool_call\":{\"name\":\"lookup_order\",\"arguments\":{\"id\":\"42\"}},\"next\":\"done\"}]},"
            + "\"done\":{\"end\":true,\"entry\":\"Your order {tool_result.status}.\"}}}";

        /// <summary>pocketsphinx held to one sentence, so the caller's words are heard the same everywhere.</summary>
        internal static string AgentConfig()
        {
            var agent = new Dictionary<string, object>
            {
                { "stt", new Dictionary<string, object> { { "provider", "pocketsphinx" }, { "jsgf", "#JSGF V1.0; grammar order; public <order> = where is my order;" } } },
                { "llm", new Dictionary<string, object> { { "provider", "scripted" }, { "flow_json", OrderFlow }, { "first_token_delay_ms", 10.0 }, { "tokens_per_second", 0.0 } } },
                { "tts", new Dictionary<string, object> { { "provider", "espeak" } } },
                { "greet_from_llm", true },
                { "tools", new List<object> { new Dictionary<string, object> { { "name", "lookup_order" }, { "timeout_ms", 5000.0 } } } },
            };
            return MiniJson.Write(new Dictionary<string, object> { { "behaviour", "agent" }, { "sample_rate", 16000.0 }, { "agent", agent } });
        }

        /// <summary>The engine says text (espeak, another voice than the agent's) on a plain host session.</summary>
        internal static short[] CallerSpeech(Runtime runtime, BlockingCollection<ParleyEvent> events, string text)
        {
            var speech = new List<short>();
            using (Session speaker = runtime.CreateHostSession("{\"behaviour\": \"host\", \"sample_rate\": 16000, \"output_rate\": 16000}"))
            {
                speaker.Speak(text, "{\"tts\": {\"provider\": \"espeak\", \"voice\": \"en-us+f3\"}}");
                var clock = Stopwatch.StartNew();
                while (true)
                {
                    ParleyEvent ev;
                    if (!events.TryTake(out ev, Math.Max(1, 20000 - (int)clock.ElapsedMilliseconds)))
                        Assert.Fail("no speech from the speaker session (" + speech.Count + " samples)");
                    if (ev.SessionId != speaker.Id) continue;
                    if (ev.Type == EventType.Audio)
                    {
                        Assert.AreEqual(16000, ev.SampleRate);
                        speech.AddRange(ev.Audio);
                    }
                    else if (ev.Type == EventType.AudioMark) // all its speech came before its mark
                    {
                        Assert.Greater(speech.Count, 8000, "samples of speech");
                        return speech.ToArray();
                    }
                    else if (ev.Type == EventType.SessionError)
                    {
                        Assert.Fail("speaker: " + ev.Payload);
                    }
                }
            }
        }

        [Test, Timeout(90000)]
        public void HostAnswersTheToolAndTheAgentSaysTheResult()
        {
            var events = new BlockingCollection<ParleyEvent>();
            using (Runtime runtime = Runtime.Create(RuntimeTests.Quiet))
            {
                runtime.EventReceived += (s, ev) => events.Add(ev); // the binding's event thread
                short[] speech = CallerSpeech(runtime, events, "where is my order");

                using (Session session = runtime.CreateHostSession(AgentConfig()))
                {
                    bool greeted = false, saying = false;
                    int spoken = 0, toolCalls = 0;
                    var agentLines = new List<string>();
                    Dictionary<string, object> last = null;
                    short[] frame = new short[320];
                    var clock = Stopwatch.StartNew();
                    long nextFrameMs = 0;
                    while (last == null)
                    {
                        long now = clock.ElapsedMilliseconds;
                        if (now > 60000)
                            Assert.Fail("no turn with the tool's answer (greeted " + greeted + ", tool calls " + toolCalls
                                        + ", agent lines " + string.Join(" | ", agentLines) + ")");
                        if (now >= nextFrameMs)
                        {
                            // The caller: silence, then (once the greeting is over) the question, then silence.
                            Array.Clear(frame, 0, frame.Length);
                            if (saying && spoken < speech.Length)
                            {
                                int n = Math.Min(frame.Length, speech.Length - spoken);
                                Array.Copy(speech, spoken, frame, 0, n);
                                spoken += n;
                            }
                            session.PushAudio(frame, 16000);
                            nextFrameMs += 20;
                            continue;
                        }
                        ParleyEvent ev;
                        if (!events.TryTake(out ev, (int)(nextFrameMs - now)) || ev.SessionId != session.Id) continue;
                        Dictionary<string, object> payload = MiniJson.Object(MiniJson.Parse(ev.Payload));
                        switch (ev.Type)
                        {
                            case EventType.AudioMark:
                                // The far end "played" the audio before the mark (agent audio events are
                                // paced in real time): the agent's turn ends only once it has.
                                session.PushMarkPlayed((string)payload["name"]);
                                break;
                            case EventType.ToolCall:
                            {
                                toolCalls++;
                                string id = payload["id"] as string;
                                Assert.AreEqual("lookup_order", payload["name"], ev.Payload);
                                Assert.AreEqual("{\"id\":\"42\"}", MiniJson.Write(payload["arguments"]), ev.Payload);
                                Assert.IsFalse(string.IsNullOrEmpty(id), ev.Payload);
                                ParleyException bad = Assert.Throws<ParleyException>(() => session.ToolResult(id, "{\"status\": shipped}"));
                                Assert.AreEqual(Status.Format, bad.Status);
                                StringAssert.Contains("not valid JSON", bad.Message);
                                session.ToolResult(id, "{\"status\":\"shipped\"}");
                                break;
                            }
                            case EventType.Transcript:
                                if ((payload["role"] as string) == "agent") agentLines.Add((string)payload["text"]);
                                break;
                            case EventType.Turn:
                                if (!greeted)
                                {
                                    greeted = true;
                                    Assert.AreEqual(0.0, payload["turn"], ev.Payload);
                                    Assert.AreEqual("How can I help?", payload["agent_text"], ev.Payload);
                                    Assert.AreEqual(0, MiniJson.Array(payload["tool_calls"]).Count, ev.Payload);
                                    saying = true;
                                }
                                else
                                {
                                    StringAssert.Contains("shipped", (string)payload["agent_text"], "turn without the tool's answer: " + ev.Payload);
                                    last = payload;
                                }
                                break;
                            case EventType.SessionError:
                            case EventType.SessionStopped:
                                Assert.Fail(ev.Type + ": " + ev.Payload);
                                break;
                        }
                    }
                    string turn = MiniJson.Write(last);
                    Assert.AreEqual(1, toolCalls);
                    Assert.AreEqual("where is my order", last["user_text"], turn);
                    Assert.AreEqual(false, last["interrupted"], turn);
                    List<object> calls = MiniJson.Array(last["tool_calls"]);
                    Assert.AreEqual(1, calls.Count, turn);
                    Assert.AreEqual("lookup_order", MiniJson.Object(calls[0])["name"], turn);
                    string joined = string.Join(" | ", agentLines);
                    StringAssert.Contains("How can I help?", joined);
                    StringAssert.Contains("Let me check.", joined);
                    StringAssert.Contains("Your order shipped.", joined);

                    // The runtime's counters saw the call end, both turns, the tool call and the
                    // answer's voice-to-voice latency (the greeting has no speech end: none).
                    string stoppedId = session.Id;
                    session.CloseAsync();
                    var stopClock = Stopwatch.StartNew();
                    while (true)
                    {
                        ParleyEvent ev;
                        if (stopClock.ElapsedMilliseconds > 10000) Assert.Fail("no session_stopped after CloseAsync");
                        if (events.TryTake(out ev, 100) && ev.Type == EventType.SessionStopped && ev.SessionId == stoppedId) break;
                    }
                    RuntimeStats stats = runtime.Stats();
                    Assert.IsTrue(stats.CallsStarted >= 1 && stats.CallsEnded >= 1, stats.Json);
                    Assert.IsTrue(stats.CallerFrames > 0 && stats.AgentFrames > 0, stats.Json);
                    Assert.IsTrue(stats.Turns >= 2 && stats.ToolCalls >= 1, stats.Json);
                    Assert.AreEqual(0, stats.ToolTimeouts, stats.Json);
                    RuntimeStats.Latency v2v = stats.VoiceToVoice;
                    Assert.IsTrue(v2v.Count >= 1 && v2v.Max > 0 && v2v.P50 <= v2v.Max, stats.Json);
                    Assert.AreEqual(v2v, stats.LatencyOf("voice_to_voice"));
                    Assert.GreaterOrEqual(stats.Endpointing.Count, 1, stats.Json);
                    Assert.IsTrue(MiniJson.Object(MiniJson.Parse(runtime.StatsJson())).ContainsKey("latency_ms"));
                }

                // A session that runs no agent has no tools to answer; nor has a disposed handle.
                Session plain = runtime.CreateHostSession("{\"behaviour\": \"host\"}");
                ParleyException notAgent = Assert.Throws<ParleyException>(() => plain.ToolResult("call_0_0", "{}"));
                Assert.AreEqual(Status.State, notAgent.Status);
                Assert.IsNotEmpty(notAgent.Message);
                plain.Dispose();
                Assert.Throws<ObjectDisposedException>(() => plain.ToolResult("call_0_0", "{}"));
            }
            // A disposed runtime has no stats.
            Runtime disposed = Runtime.Create(RuntimeTests.Quiet);
            disposed.Dispose();
            Assert.Throws<ObjectDisposedException>(() => disposed.Stats());
        }

        /// <summary>
        /// The greeting calls the built-in transfer tool: the agent says its line, and once the host
        /// has played it the call moves to the target (docs/agent.md, "Tools").
        /// </summary>
        internal const string TransferFlow = "{\"version\":1,\"start\":\"s\",\"states\":{\"s\":{\"entry\":\"Putting you through.\","
            + "\"tool_call\":{\"name\":\"transfer\",\"arguments\":{\"target\":\"sip:desk@example.com\"}},\"end\":true}}}";

        /// <summary>
        /// A host-transport agent's transfer reaches C# as a Transfer event (and the runtime's
        /// Transfer .NET event), after the turn whose words the host confirmed it had played.
        /// </summary>
        [Test, Timeout(60000)]
        public void HostTransfersTheCallOnceTheGreetingWasHeard()
        {
            var agent = new Dictionary<string, object>
            {
                { "stt", new Dictionary<string, object> { { "provider", "pocketsphinx" }, { "jsgf", "#JSGF V1.0; grammar g; public <g> = yes | no;" } } },
                { "llm", new Dictionary<string, object> { { "provider", "scripted" }, { "flow_json", TransferFlow }, { "first_token_delay_ms", 10.0 } } },
                { "tts", new Dictionary<string, object> { { "provider", "espeak" } } },
                { "greet_from_llm", true },
                { "builtin_tools", new List<object> { "hang_up", "send_dtmf", "transfer" } },
            };
            string config = MiniJson.Write(new Dictionary<string, object> { { "behaviour", "agent" }, { "sample_rate", 16000.0 }, { "agent", agent } });
            var events = new BlockingCollection<ParleyEvent>();
            var transfers = new BlockingCollection<ParleyEvent>();
            var tones = new BlockingCollection<ParleyEvent>();
            using (Runtime runtime = Runtime.Create(RuntimeTests.Quiet))
            {
                runtime.EventReceived += (s, ev) => events.Add(ev); // the binding's event thread
                runtime.Transfer += (s, ev) => transfers.Add(ev);
                runtime.SendDtmf += (s, ev) => tones.Add(ev);
                using (Session session = runtime.CreateHostSession(config))
                {
                    Dictionary<string, object> turn = null, transfer = null;
                    int played = 0, heard = 0;
                    short[] silence = new short[320];
                    var clock = Stopwatch.StartNew();
                    long nextFrameMs = 0;
                    while (transfer == null)
                    {
                        long now = clock.ElapsedMilliseconds;
                        if (now > 40000)
                            Assert.Fail("no transfer event (turn " + (turn == null ? "none" : MiniJson.Write(turn)) + ", " + played
                                        + " marks played, " + heard + " samples heard)");
                        if (now >= nextFrameMs) // the caller says nothing
                        {
                            session.PushAudio(silence, 16000);
                            nextFrameMs += 20;
                            continue;
                        }
                        ParleyEvent ev;
                        if (!events.TryTake(out ev, (int)(nextFrameMs - now)) || ev.SessionId != session.Id) continue;
                        switch (ev.Type)
                        {
                            case EventType.Audio:
                                heard += ev.Audio.Length;
                                break;
                            case EventType.AudioMark:
                                // The far end "played" the audio before the mark: the transfer waits for it.
                                session.PushMarkPlayed((string)MiniJson.Object(MiniJson.Parse(ev.Payload))["name"]);
                                played++;
                                break;
                            case EventType.Turn:
                                turn = MiniJson.Object(MiniJson.Parse(ev.Payload));
                                break;
                            case EventType.Transfer:
                                transfer = MiniJson.Object(MiniJson.Parse(ev.Payload));
                                break;
                            case EventType.SendDtmf:
                            case EventType.ToolCall:
                            case EventType.SessionError:
                            case EventType.SessionStopped:
                                Assert.Fail(ev.Type + ": " + ev.Payload);
                                break;
                        }
                    }
                    Assert.AreEqual("sip:desk@example.com", transfer["target"], MiniJson.Write(transfer));
                    // The turn ended (all its audio heard) before the transfer was asked for.
                    Assert.IsNotNull(turn, "the transfer came before the greeting's turn ended");
                    string shown = MiniJson.Write(turn);
                    Assert.AreEqual("Putting you through.", turn["agent_text"], shown);
                    List<object> calls = MiniJson.Array(turn["tool_calls"]);
                    Assert.AreEqual(1, calls.Count, shown);
                    Assert.AreEqual("transfer", MiniJson.Object(calls[0])["name"], shown);
                    Assert.IsTrue(played >= 1 && heard > 8000, played + " marks played, " + heard + " samples heard");

                    // The typed .NET event saw the same transfer (raised after EventReceived).
                    ParleyEvent typed;
                    Assert.IsTrue(transfers.TryTake(out typed, 5000), "no Transfer event raised");
                    Assert.AreEqual(EventType.Transfer, typed.Type);
                    Assert.AreEqual(session.Id, typed.SessionId);
                    Assert.AreEqual("sip:desk@example.com", MiniJson.Object(MiniJson.Parse(typed.Payload))["target"]);
                    Assert.AreEqual(0, tones.Count);
                }
            }
        }

        [Test]
        public void AgentEventTypesMatchTheHeader()
        {
            Assert.AreEqual(21, (int)EventType.AgentState);
            Assert.AreEqual(22, (int)EventType.Transcript);
            Assert.AreEqual(23, (int)EventType.Turn);
            Assert.AreEqual(24, (int)EventType.ToolCall);
            Assert.AreEqual(25, (int)EventType.Interruption);
            Assert.AreEqual(26, (int)EventType.SendDtmf);
            Assert.AreEqual(ParleyNative.PARLEY_EVENT_SEND_DTMF, (int)EventType.SendDtmf);
            Assert.AreEqual(27, (int)EventType.Transfer);
            Assert.AreEqual(ParleyNative.PARLEY_EVENT_TRANSFER, (int)EventType.Transfer);
            foreach (EventType type in Enum.GetValues(typeof(EventType)))
            {
                string name = ParleyNative.parley_event_type_name((int)type);
                Assert.AreEqual(name.Replace("_", ""), type.ToString().ToLowerInvariant(), type.ToString());
            }
        }
    }
}
