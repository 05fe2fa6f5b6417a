using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Parley.Tests
{
    /// <summary>
    /// The provider dispatcher with synthetic requests and a fake engine: the C ABI has no call
    /// yet that makes the engine send LLM or STT requests (the agent loop will), so these drive
    /// those paths directly.
    /// </summary>
    [TestFixture]
    public class ProviderDispatcherTests
    {
        /// <summary>Records answers; forgotten (finished or cancelled) requests throw NotFound.</summary>
        private sealed class FakeEngine : ProviderDispatcher.IAnswers
        {
            private readonly List<string> log = new List<string>();
            internal readonly ConcurrentDictionary<long, bool> Forgotten = new ConcurrentDictionary<long, bool>();

            private void Record(long id, string entry)
            {
                if (Forgotten.ContainsKey(id))
                    throw new ParleyException((int)Status.NotFound, "host provider request " + id + " is unknown, finished or cancelled");
                lock (log)
                {
                    log.Add(id + " " + entry);
                    Monitor.PulseAll(log);
                }
            }

            internal List<string> Entries()
            {
                lock (log) return new List<string>(log);
            }

            internal void WaitFor(string prefix)
            {
                DateTime deadline = DateTime.UtcNow.AddSeconds(5);
                lock (log)
                {
                    while (!log.Any(e => e.StartsWith(prefix, StringComparison.Ordinal)))
                    {
                        TimeSpan left = deadline - DateTime.UtcNow;
                        if (left <= TimeSpan.Zero) Assert.Fail("no \"" + prefix + "\" answer; got " + string.Join(" | ", log));
                        Monitor.Wait(log, left);
                    }
                }
            }

            public void PushAudio(long id, short[] samples) { Record(id, "audio " + samples.Length); }
            public void PushText(long id, string text) { Record(id, "text " + text); }
            public void PushToolCall(long id, int index, string callId, string name, string arguments)
            {
                Record(id, "tool " + index + " " + (callId ?? "null") + " " + (name ?? "null") + " " + arguments);
            }
            public void PushTranscript(long id, string text, bool isFinal, bool speechFinal)
            {
                Record(id, "transcript " + text + " " + (isFinal ? "true" : "false") + " " + (speechFinal ? "true" : "false"));
            }
            public void Complete(long id, int status, string detail)
            {
                Record(id, "complete " + status + " " + (detail ?? "null"));
                Forgotten[id] = true;
            }
        }

        private sealed class Provider : ITtsProvider, ILlmProvider, ISttProvider
        {
            internal Func<TtsRequest, CancellationToken, Task> Tts;
            internal Func<LlmRequest, CancellationToken, Task> Llm;
            internal Func<SttRequest, CancellationToken, Task> Stt;
            public Task SynthesizeAsync(TtsRequest r, CancellationToken t) { return Tts(r, t); }
            public Task CompleteAsync(LlmRequest r, CancellationToken t) { return Llm(r, t); }
            public Task RecognizeAsync(SttRequest r, CancellationToken t) { return Stt(r, t); }
        }

        private static ParleyEvent Request(string op, long id, string kind, string provider, string extra = null, short[] audio = null)
        {
            string payload = "{\"op\":\"" + op + "\",\"request\":" + id + ",\"kind\":\"" + kind + "\",\"provider\":\"" + provider + "\""
                             + (extra == null ? "" : "," + extra) + "}";
            return new ParleyEvent((int)EventType.ProviderRequest, "s-1", payload, audio, audio == null ? 0 : 16000, 0);
        }

        [Test, Timeout(20000)]
        public void LlmStreamsTextAndToolCalls()
        {
            var engine = new FakeEngine();
            var dispatcher = new ProviderDispatcher(engine);
            LlmRequest seen = null;
            dispatcher.Set("llm", "echo-model", new Provider
            {
                Llm = (r, t) =>
                {
                    seen = r;
                    r.PushText("You said: ");
                    r.PushText(r.Messages[r.Messages.Count - 1].Content);
                    r.PushToolCall(0, "call_1", "hang_up", "{\"reason\":");
                    r.PushToolCall(0, null, null, "\"done\"}");
                    r.Finish(null, 5, 4);
                    return Task.CompletedTask;
                },
            }, 0);
            Assert.IsFalse(dispatcher.Dispatch(Request("complete", 8, "llm", "other")), "no implementation: an event");
            Assert.IsFalse(dispatcher.Dispatch(new ParleyEvent((int)EventType.User, "", "{}", null, 0, 0)));
            Assert.IsTrue(dispatcher.Dispatch(Request("complete", 8, "llm", "echo-model",
                "\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"assistant\",\"content\":\"\","
                + "\"tool_calls\":[{\"id\":\"c0\",\"type\":\"function\",\"function\":{\"name\":\"lookup\",\"arguments\":\"{}\"}}]},"
                + "{\"role\":\"tool\",\"content\":\"found\",\"tool_call_id\":\"c0\"},{\"role\":\"user\",\"content\":\"book me in\"}],"
                + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"hang_up\",\"parameters\":{\"type\":\"object\"}}}]")));
            engine.WaitFor("8 complete");
            CollectionAssert.AreEqual(new[]
            {
                "8 text You said: ", "8 text book me in", "8 tool 0 call_1 hang_up {\"reason\":", "8 tool 0 null null \"done\"}",
                "8 complete 0 {\"usage\":{\"completion_tokens\":4,\"prompt_tokens\":5}}",
            }, engine.Entries());
            Assert.AreEqual("s-1", seen.SessionId);
            Assert.AreEqual(4, seen.Messages.Count);
            Assert.AreEqual("lookup", seen.Messages[1].ToolCalls[0].Name);
            Assert.AreEqual("c0", seen.Messages[2].ToolCallId);
            StringAssert.Contains("\"hang_up\"", seen.ToolsJson);
            StringAssert.StartsWith("[{\"role\":\"system\"", seen.MessagesJson);
            Thread.Sleep(20);
            Assert.AreEqual(5, engine.Entries().Count, "completed once");
            dispatcher.Close();
        }

        [Test, Timeout(20000)]
        public void FailuresAndAutomaticCompletion()
        {
            var engine = new FakeEngine();
            var dispatcher = new ProviderDispatcher(engine);
            dispatcher.Set("llm", "m", new Provider
            {
                Llm = async (r, t) =>
                {
                    await Task.Yield();
                    string said = r.Messages[0].Content;
                    if (said == "fail") throw new Exception("model overloaded");
                    if (said == "parley") throw new ParleyException((int)Status.Unsupported, "no such model");
                    r.PushText("fine");
                },
            }, 0);
            dispatcher.Dispatch(Request("complete", 1, "llm", "m", "\"messages\":[{\"role\":\"user\",\"content\":\"fail\"}]"));
            dispatcher.Dispatch(Request("complete", 2, "llm", "m", "\"messages\":[{\"role\":\"user\",\"content\":\"parley\"}]"));
            dispatcher.Dispatch(Request("complete", 3, "llm", "m", "\"messages\":[{\"role\":\"user\",\"content\":\"ok\"}]"));
            engine.WaitFor("1 complete");
            engine.WaitFor("2 complete");
            engine.WaitFor("3 complete");
            List<string> log = engine.Entries();
            CollectionAssert.Contains(log, "1 complete -11 model overloaded");
            CollectionAssert.Contains(log, "2 complete -7 no such model");
            CollectionAssert.Contains(log, "3 text fine");
            CollectionAssert.Contains(log, "3 complete 0 null");
            dispatcher.Close();
        }

        [Test, Timeout(20000)]
        public void CancelCancelsTheTokenAndLateAnswersAreIgnored()
        {
            var engine = new FakeEngine();
            var dispatcher = new ProviderDispatcher(engine);
            var running = new TaskCompletionSource<LlmRequest>();
            var answeredLate = new TaskCompletionSource<bool>();
            dispatcher.Set("llm", "slow", new Provider
            {
                Llm = async (r, t) =>
                {
                    running.TrySetResult(r);
                    try
                    {
                        await Task.Delay(Timeout.Infinite, t);
                    }
                    finally
                    {
                        r.PushText("too late"); // swallowed
                        answeredLate.TrySetResult(true);
                    }
                },
            }, 0);
            dispatcher.Dispatch(Request("complete", 5, "llm", "slow"));
            Assert.IsTrue(running.Task.Wait(5000));
            engine.Forgotten[5] = true; // the engine forgets a request before it sends the cancel
            Assert.IsTrue(dispatcher.Dispatch(Request("cancel", 5, "llm", "slow")));
            Assert.IsTrue(answeredLate.Task.Wait(5000));
            Assert.IsTrue(running.Task.Result.IsCancelled);

            // Forgotten, cancel not delivered yet: the first answer finds out and cancels.
            var noticed = new TaskCompletionSource<bool>();
            dispatcher.Set("llm", "racy", new Provider
            {
                Llm = (r, t) =>
                {
                    engine.Forgotten[r.Id] = true;
                    r.PushText("hello");
                    noticed.TrySetResult(t.IsCancellationRequested);
                    return Task.CompletedTask;
                },
            }, 0);
            dispatcher.Dispatch(Request("complete", 6, "llm", "racy"));
            Assert.IsTrue(noticed.Task.Wait(5000));
            Assert.IsTrue(noticed.Task.Result);
            Thread.Sleep(20);
            CollectionAssert.IsEmpty(engine.Entries(), "nothing answered for cancelled requests");
            // Late cancels, audio for unknown requests and unknown operations are consumed.
            Assert.IsTrue(dispatcher.Dispatch(Request("cancel", 6, "llm", "racy")));
            Assert.IsTrue(dispatcher.Dispatch(Request("audio", 99, "llm", "racy", null, new short[10])));
            Assert.IsTrue(dispatcher.Dispatch(Request("reticulate", 7, "llm", "racy")));
            dispatcher.Close();
        }

        [Test, Timeout(20000)]
        public void SttStreamsAudioAndFinalizeInOrder()
        {
            var engine = new FakeEngine();
            var dispatcher = new ProviderDispatcher(engine);
            var ended = new TaskCompletionSource<int>();
            dispatcher.Set("stt", "asr", new Provider
            {
                Stt = async (r, t) =>
                {
                    int heard = 0;
                    for (SttInput input = await r.ReadAsync(); input != null; input = await r.ReadAsync())
                    {
                        if (input.IsFinalize)
                        {
                            r.PushTranscript("heard " + heard + " samples", true, true);
                            heard = 0;
                        }
                        else
                        {
                            heard += input.Audio.Length;
                            r.PushTranscript("...", false, false);
                        }
                    }
                    Assert.IsNull(await r.ReadAsync());
                    ended.TrySetResult(r.SampleRate);
                },
            }, 8000);
            dispatcher.Dispatch(Request("start", 9, "stt", "asr", "\"sample_rate\":16000"));
            dispatcher.Dispatch(Request("audio", 9, "stt", "asr", null, new short[320]));
            dispatcher.Dispatch(Request("audio", 9, "stt", "asr", null, new short[160]));
            dispatcher.Dispatch(Request("finalize", 9, "stt", "asr"));
            dispatcher.Dispatch(Request("audio", 9, "stt", "asr", null, new short[320]));
            dispatcher.Dispatch(Request("finalize", 9, "stt", "asr"));
            engine.WaitFor("9 transcript heard 320");
            engine.Forgotten[9] = true;
            dispatcher.Dispatch(Request("cancel", 9, "stt", "asr"));
            Assert.IsTrue(ended.Task.Wait(5000), "the stream did not end");
            Assert.AreEqual(16000, ended.Task.Result);
            CollectionAssert.AreEqual(new[]
            {
                "9 transcript ... false false", "9 transcript ... false false", "9 transcript heard 480 samples true true",
                "9 transcript ... false false", "9 transcript heard 320 samples true true",
            }, engine.Entries());
            dispatcher.Close();
        }

        [Test, Timeout(20000)]
        public void TtsAndCloseCancelsRequestsInFlight()
        {
            var engine = new FakeEngine();
            var dispatcher = new ProviderDispatcher(engine);
            var waiting = new TaskCompletionSource<TtsRequest>();
            dispatcher.Set("tts", "v", new Provider
            {
                Tts = async (r, t) =>
                {
                    if (r.Text == "wait")
                    {
                        waiting.TrySetResult(r);
                        await Task.Delay(Timeout.Infinite, t);
                        return;
                    }
                    r.PushAudio(new short[r.SampleRate / 10]);
                },
            }, 24000);
            dispatcher.Dispatch(Request("synthesize", 1, "tts", "v", "\"text\":\"Hi.\""));
            engine.WaitFor("1 complete 0");
            Assert.AreEqual("1 audio 2400", engine.Entries()[0]);
            dispatcher.Dispatch(Request("synthesize", 2, "tts", "v", "\"text\":\"wait\""));
            Assert.IsTrue(waiting.Task.Wait(5000));
            dispatcher.Close();
            Assert.IsTrue(waiting.Task.Result.IsCancelled);
            Thread.Sleep(50);
            Assert.AreEqual(2, engine.Entries().Count, "a cancelled request is not completed");
            var twice = new ProviderRequest(3, "tts", "v", "", "{}", engine, true);
            twice.Complete();
            Assert.AreEqual(Status.NotFound, Assert.Throws<ParleyException>(() => twice.Complete()).Status);
            dispatcher.Set("tts", "v", null, 0);
            Assert.IsFalse(dispatcher.Dispatch(Request("synthesize", 4, "tts", "v")), "unregistered: an event again");
        }

        [Test]
        public void MiniJsonRoundTrips()
        {
            object value = MiniJson.Parse("{\"a\": [1, 2.5, \"x\\n\\u00e9\", true, null], \"b\": {}}");
            Assert.AreEqual("{\"a\":[1,2.5,\"x\\n\u00e9\",true,null],\"b\":{}}", MiniJson.Write(value));
            Assert.Throws<FormatException>(() => MiniJson.Parse("{\"a\": }"));
            Assert.Throws<FormatException>(() => MiniJson.Parse("[1] x"));
        }
    }
}
