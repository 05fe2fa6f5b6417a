using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Parley.Tests
{
    /// <summary>Providers implemented in C#, used by the engine through a host-transport session.</summary>
    [TestFixture]
    public class ProviderTests
    {
        internal static short[] Tone(double hz, int rate, double seconds)
        {
            var s = new short[(int)(rate * seconds)];
            for (int i = 0; i < s.Length; i++) s[i] = (short)(8000 * Math.Sin(2 * Math.PI * hz * i / rate));
            return s;
        }

        internal static ParleyException Expect(Status status, string text, TestDelegate call)
        {
            ParleyException e = Assert.Throws<ParleyException>(call);
            Assert.AreEqual(status, e.Status, e.ToString());
            StringAssert.Contains(text, e.Message);
            return e;
        }

        [Test, Timeout(30000)]
        public void CSharpTtsSpeaksOnAHostSession()
        {
            TtsRequest seen = null;
            int calls = 0;
            long heard = 0, energy = 0;
            var unexpected = new ConcurrentQueue<ParleyEvent>();
            var audioMark = new TaskCompletionSource<string>();
            using (Runtime runtime = Runtime.Create(RuntimeTests.Quiet))
            {
                runtime.RegisterTts("cs-tone", 16000, async (request, token) =>
                {
                    Interlocked.Increment(ref calls);
                    seen = request;
                    short[] samples = Tone(440, request.SampleRate, 0.3);
                    for (int i = 0; i < samples.Length; i += 1600)
                    {
                        await Task.Yield(); // asynchronous, like a real voice
                        var piece = new short[Math.Min(1600, samples.Length - i)];
                        Array.Copy(samples, i, piece, 0, piece.Length);
                        request.PushAudio(piece);
                    }
                });
                Session session = runtime.CreateHostSession("{\"behaviour\": \"host\", \"output_rate\": 16000}");
                runtime.Audio += (s, ev) =>
                {
                    Assert.AreEqual(16000, ev.SampleRate);
                    Interlocked.Add(ref heard, ev.Audio.Length);
                    long e = 0;
                    foreach (short v in ev.Audio) e += Math.Abs((int)v);
                    Interlocked.Add(ref energy, e);
                };
                runtime.AudioMark += (s, ev) =>
                {
                    string name = Json.Field(ev.Payload, "name");
                    session.PushMarkPlayed(name);
                    audioMark.TrySetResult(name);
                };
                runtime.SessionError += (s, ev) => unexpected.Enqueue(ev);
                runtime.ProviderRequested += (s, ev) => unexpected.Enqueue(ev);

                string mark = session.Speak("Your appointment is booked.", "{\"tts\": {\"provider\": \"cs-tone\"}, \"mark\": \"booked\"}");
                Assert.AreEqual("booked", mark);
                // Waiting right away works although the engine queues the mark only after synthesis.
                Task<MarkOutcome> early = session.WaitMarkAsync(mark, TimeSpan.FromSeconds(15));
                Assert.IsTrue(audioMark.Task.Wait(15000), "no audio mark");
                Assert.IsTrue(early.Wait(15000));
                Assert.AreEqual(MarkOutcome.Played, early.Result);
                Assert.AreEqual("booked", audioMark.Task.Result);
                Task<MarkOutcome> outcome = session.WaitMarkAsync(mark, TimeSpan.FromSeconds(5));
                Assert.IsTrue(outcome.Wait(10000));
                Assert.AreEqual(MarkOutcome.Played, outcome.Result);
                Task<MarkOutcome> never = session.WaitMarkAsync("never-spoken", TimeSpan.FromSeconds(1));
                Assert.IsTrue(never.Wait(5000));
                Assert.AreEqual(MarkOutcome.Unknown, never.Result);
                Assert.GreaterOrEqual(Interlocked.Read(ref heard), 4800);
                Assert.Greater(Interlocked.Read(ref energy) / Interlocked.Read(ref heard), 1000, "silence, not the tone");
                Assert.IsTrue(unexpected.IsEmpty, string.Join(", ", unexpected));
                Assert.AreEqual(1, calls);
                Assert.AreEqual("Your appointment is booked.", seen.Text);
                Assert.AreEqual(session.Id, seen.SessionId);
                Assert.AreEqual("tts", seen.Kind);
                Assert.AreEqual("cs-tone", seen.Provider);
                Assert.Greater(seen.Id, 0);
                Assert.IsFalse(seen.IsCancelled);
                StringAssert.StartsWith("speak-", session.Speak("Again.", "{\"tts\": {\"provider\": \"cs-tone\"}}"));
            }
        }

        private sealed class BrokenVoice : ITtsProvider
        {
            public Task SynthesizeAsync(TtsRequest request, CancellationToken cancellationToken)
            {
                throw new InvalidOperationException("voice server is down");
            }
        }

        [Test, Timeout(30000)]
        public void CSharpTtsFailureIsASessionError()
        {
            var error = new TaskCompletionSource<ParleyEvent>();
            using (Runtime runtime = Runtime.Create(RuntimeTests.Quiet))
            {
                runtime.RegisterTts("cs-broken", 0, new BrokenVoice());
                runtime.SessionError += (s, ev) => error.TrySetResult(ev);
                Session session = runtime.CreateHostSession("{\"behaviour\": \"host\"}");
                session.Speak("hi", "{\"tts\": {\"provider\": \"cs-broken\"}, \"mark\": \"m1\"}");
                Task<MarkOutcome> waited = session.WaitMarkAsync("m1", TimeSpan.FromSeconds(10));
                Assert.IsTrue(error.Task.Wait(10000), "no session error");
                // WaitMarkAsync of the failed Speak faults with the provider's error.
                AggregateException failed = Assert.Throws<AggregateException>(() => waited.Wait(10000));
                var cause = (ParleyException)failed.InnerException;
                Assert.AreEqual(Status.Provider, cause.Status);
                StringAssert.Contains("voice server is down", cause.Message);
                ParleyEvent got = error.Task.Result;
                Assert.AreEqual(session.Id, got.SessionId);
                Assert.AreEqual("voice server is down", Json.Field(got.Payload, "message"), got.Payload);
                Assert.AreEqual("cs-broken", Json.Field(got.Payload, "provider"), got.Payload);
                Assert.AreEqual("m1", Json.Field(got.Payload, "mark"), got.Payload);
            }
        }

        [Test, Timeout(30000)]
        public void DisposingTheRuntimeCancelsARequestInFlight()
        {
            var started = new TaskCompletionSource<TtsRequest>();
            var lateAnswer = new TaskCompletionSource<Exception>();
            Runtime runtime = Runtime.Create(RuntimeTests.Quiet);
            runtime.RegisterTts("cs-slow", 0, async (request, token) =>
            {
                started.TrySetResult(request);
                try
                {
                    await Task.Delay(Timeout.Infinite, token);
                }
                catch (OperationCanceledException)
                {
                    try
                    {
                        request.PushAudio(new short[160]); // ignored after cancellation
                        lateAnswer.TrySetResult(null);
                    }
                    catch (Exception e)
                    {
                        lateAnswer.TrySetResult(e);
                    }
                    throw;
                }
            });
            Session session = runtime.CreateHostSession("{\"behaviour\": \"host\"}");
            session.Speak("Take your time.", "{\"tts\": {\"provider\": \"cs-slow\"}}");
            Assert.IsTrue(started.Task.Wait(10000), "the TTS was not called");
            runtime.Dispose();
            Assert.IsTrue(lateAnswer.Task.Wait(10000), "the token was not cancelled by Dispose");
            Assert.IsNull(lateAnswer.Task.Result);
            Assert.IsTrue(started.Task.Result.IsCancelled);
        }

        [Test, Timeout(30000)]
        public void RequestsAreEventsWithoutAnImplementation()
        {
            var request = new TaskCompletionSource<ParleyEvent>();
            using (Runtime runtime = Runtime.Create(RuntimeTests.Quiet))
            {
                runtime.RegisterProvider("tts", "raw-voice", "{\"sample_rate\": 8000}", null);
                runtime.ProviderRequested += (s, ev) => request.TrySetResult(ev);
                Session session = runtime.CreateHostSession("{\"behaviour\": \"host\", \"output_rate\": 8000}");
                session.Speak("Hello.", "{\"tts\": {\"provider\": \"raw-voice\"}}");
                Assert.IsTrue(request.Task.Wait(10000), "no provider request event");
                ParleyEvent got = request.Task.Result;
                Assert.AreEqual(EventType.ProviderRequest, got.Type);
                Assert.AreEqual(session.Id, got.SessionId);
                Assert.AreEqual("synthesize", Json.Field(got.Payload, "op"));
                Assert.AreEqual("Hello.", Json.Field(got.Payload, "text"));
                ProviderRequest answer = runtime.ProviderRequest(Json.Number(got.Payload, "request"));
                Expect(Status.InvalidArgument, "is a tts request, not llm", () => answer.PushText("words"));
                answer.PushAudio(Tone(300, 8000, 0.1));
                answer.Complete();
                // Not dispatched by the binding: the engine's not-found is the caller's to see.
                Expect(Status.NotFound, "unknown, finished or cancelled", () => answer.PushAudio(new short[80]));
            }
        }

        [Test, Timeout(30000)]
        public void RegistrationAndAnswerErrors()
        {
            Func<TtsRequest, CancellationToken, Task> noop = (r, t) => Task.CompletedTask;
            using (Runtime runtime = Runtime.Create(RuntimeTests.Quiet))
            {
                Expect(Status.InvalidArgument, "\"llm\", \"tts\" or \"stt\"", () => runtime.RegisterProvider("vision", "x", null, null));
                Expect(Status.InvalidArgument, "name", () => runtime.RegisterTts("", 0, noop));
                Expect(Status.Config, "$.sample_rate", () => runtime.RegisterTts("x", 3, noop));
                Expect(Status.Config, "voice", () => runtime.RegisterProvider("tts", "x", "{\"voice\": 1}", null));
                Expect(Status.InvalidArgument, "ILlmProvider", () => runtime.RegisterProvider("llm", "x", null, new BrokenVoice()));
                Assert.Throws<ParleyException>(() => runtime.RegisterProvider("tts", null, null, null));
                Assert.Throws<ArgumentNullException>(() => runtime.RegisterTts("x", 0, (ITtsProvider)null));

                // An LLM and an STT implemented in C# register; the engine does not call them
                // through the C ABI yet (ProviderDispatcherTests drives them with synthetic requests).
                runtime.RegisterLlm("cs-llm", (r, t) => { r.PushText("ok"); return Task.CompletedTask; });
                runtime.RegisterStt("cs-stt", 8000, (r, t) => Task.CompletedTask);
                runtime.RegisterLlm("cs-llm", (r, t) => { r.PushText("replaced"); return Task.CompletedTask; });

                ProviderRequest unknown = runtime.ProviderRequest(12345);
                Expect(Status.NotFound, "request 12345", () => unknown.PushText("hi"));
                Expect(Status.NotFound, "12345", () => unknown.PushToolCall(0, "c1", "f", "{}"));
                Expect(Status.NotFound, "12345", () => unknown.PushTranscript("hi", true, true));
                Expect(Status.NotFound, "12345", () => unknown.Complete());
                Expect(Status.NotFound, "12345", () => unknown.Fail("x"));
                Expect(Status.InvalidArgument, "0..127", () => unknown.PushToolCall(128, null, null, null));
                Expect(Status.InvalidArgument, "text", () => unknown.PushText(null));

                Session session = runtime.CreateHostSession("{\"behaviour\": \"host\"}");
                Expect(Status.NotFound, "no TTS provider named \"nobody\"", () => session.Speak("hi", "{\"tts\": {\"provider\": \"nobody\"}}"));
                Expect(Status.Config, "voice", () => session.Speak("hi", "{\"voice\": \"x\"}"));
                Expect(Status.InvalidArgument, "text", () => session.Speak(null));
                session.Dispose();
                Assert.Throws<ObjectDisposedException>(() => session.Speak("hi"));
            }
            Runtime disposed = Runtime.Create(RuntimeTests.Quiet);
            disposed.Dispose();
            Assert.Throws<ObjectDisposedException>(() => disposed.RegisterTts("late", 0, (r, t) => Task.CompletedTask));
            Assert.Throws<ObjectDisposedException>(() => disposed.ProviderRequest(1).Complete());
        }
    }
}
