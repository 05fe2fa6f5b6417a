using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Parley.Tests
{
    /// <summary>A host-transport session: C# pushes caller audio and receives the agent's (echo) audio.</summary>
    [TestFixture]
    public class HostSessionTests
    {
        [Test, Timeout(30000)]
        public void PushedAudioComesBackAsAudioEventsWithMarks()
        {
            var events = new ConcurrentQueue<ParleyEvent>();
            long agentSamples = 0, agentEnergy = 0;
            string recording = Path.Combine(Path.GetTempPath(), "parley-cs-host-" + Guid.NewGuid().ToString("N") + ".wav");
            using (Runtime runtime = Runtime.Create(RuntimeTests.Quiet))
            {
                Session session = null;
                var started = new ManualResetEventSlim();
                runtime.SessionStarted += (s, ev) => { events.Enqueue(ev); started.Set(); };
                runtime.Audio += (s, ev) =>
                {
                    events.Enqueue(ev);
                    Assert.AreEqual(16000, ev.SampleRate);
                    Interlocked.Add(ref agentSamples, ev.Audio.Length);
                    long energy = 0;
                    foreach (short sample in ev.Audio) energy += Math.Abs((int)sample);
                    Interlocked.Add(ref agentEnergy, energy);
                };
                // The host "played" everything before the mark: confirm it.
                runtime.AudioMark += (s, ev) => { events.Enqueue(ev); session.PushMarkPlayed(Json.Field(ev.Payload, "name")); };
                runtime.Mark += (s, ev) => events.Enqueue(ev);
                runtime.Dtmf += (s, ev) => events.Enqueue(ev);
                runtime.SessionStopped += (s, ev) => events.Enqueue(ev);

                session = runtime.CreateHostSession(
                    "{\"behaviour\": \"echo\", \"sample_rate\": 16000, \"output_rate\": 16000, \"call_id\": \"cs-host\"}");
                Assert.IsTrue(started.Wait(5000));
                Assert.AreEqual(SessionState.Active, session.State);
                session.StartRecording(recording);
                session.PushDtmf("7");

                // 1.5 s of a 440 Hz tone in real time, 20 ms frames.
                short[] frame = new short[320];
                var clock = Stopwatch.StartNew();
                for (int f = 0; f < 75; f++)
                {
                    for (int i = 0; i < frame.Length; i++)
                        frame[i] = (short)(8000 * Math.Sin(2 * Math.PI * 440 * (f * 320 + i) / 16000.0));
                    session.PushAudio(frame, 16000);
                    int sleep = (f + 1) * 20 - (int)clock.ElapsedMilliseconds;
                    if (sleep > 0) Thread.Sleep(sleep);
                }
                var deadline = DateTime.UtcNow.AddSeconds(5);
                while (TwilioCallTests.Count(events, EventType.Mark) < 1 && DateTime.UtcNow < deadline) Thread.Sleep(10);
                Assert.AreEqual(MarkOutcome.Unknown, session.WaitMarkAsync("never-sent", TimeSpan.FromMilliseconds(100)).Result);
                session.StopRecording();

                Assert.IsTrue(session.CloseAsync().Wait(5000));
                Assert.AreEqual(SessionState.Closed, session.State);
                session.Dispose();
            }
            string all = string.Join("\n", events.Select(e => e.ToString()));
            Assert.AreEqual(1, TwilioCallTests.Count(events, EventType.SessionStarted), all);
            Assert.AreEqual(1, TwilioCallTests.Count(events, EventType.SessionStopped), all);
            Assert.AreEqual(1, TwilioCallTests.Count(events, EventType.Dtmf), all);
            Assert.Greater(TwilioCallTests.Count(events, EventType.Audio), 10, all);
            Assert.GreaterOrEqual(agentSamples, 320 * 40);
            Assert.Greater(agentEnergy / Math.Max(1, agentSamples), 1000, "echoed audio is silent");
            Assert.GreaterOrEqual(TwilioCallTests.Count(events, EventType.AudioMark), 1, all);
            ParleyEvent mark = events.First(e => e.Type == EventType.Mark);
            Assert.AreEqual("played", Json.Field(mark.Payload, "outcome"), mark.Payload);
            Assert.Greater(new FileInfo(recording).Length, 44 + 16000);
            File.Delete(recording);
        }

        [Test, Timeout(30000)]
        public void WaitMarkCompletesWhenTheHostConfirmsPlayback()
        {
            using (Runtime runtime = Runtime.Create(RuntimeTests.Quiet))
            using (Session session = runtime.CreateHostSession("{\"behaviour\": \"host\"}"))
            {
                runtime.AudioMark += (s, ev) =>
                {
                    if (Json.Field(ev.Payload, "name") == "m1") session.PushMarkPlayed("m1");
                };
                session.Play(new short[1600], 16000);
                session.SendMark("m1");
                Assert.AreEqual(MarkOutcome.Played, session.WaitMarkAsync("m1", TimeSpan.FromSeconds(5)).Result);
                Assert.AreEqual(MarkOutcome.Unknown, session.WaitMarkAsync("never-sent", TimeSpan.Zero).Result);
                session.Play(new short[1600], 16000);
                session.SendMark("m2"); // never confirmed
                Assert.AreEqual(MarkOutcome.Timeout, session.WaitMarkAsync("m2", TimeSpan.FromMilliseconds(50)).Result);
                Task<MarkOutcome> pending = session.WaitMarkAsync("m2", null);
                session.Dispose(); // ends the call: the pending mark resolves
                Assert.IsTrue(pending.Wait(5000));
                Assert.That(pending.Result == MarkOutcome.Cleared || pending.Result == MarkOutcome.Unknown, pending.Result.ToString());
            }
        }
    }
}
