using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using NUnit.Framework;

namespace Parley.Tests
{
    /// <summary>Two Twilio Media Streams calls from `parley loadgen` against an in-process echo listener.</summary>
    [TestFixture]
    public class TwilioCallTests
    {
        internal static string ParleyCli()
        {
            string prefix = Environment.GetEnvironmentVariable("PARLEY_PREFIX");
            Assert.IsFalse(string.IsNullOrEmpty(prefix), "PARLEY_PREFIX must name the engine install");
            string cli = Path.Combine(prefix, "bin", "parley");
            Assert.IsTrue(File.Exists(cli), cli + " does not exist");
            return cli;
        }

        [Test, Timeout(60000)]
        public void EchoCallsRaiseStartedDtmfMarkAndStoppedEvents()
        {
            var events = new ConcurrentQueue<ParleyEvent>();
            var opened = new ConcurrentDictionary<string, bool>();
            var threads = new ConcurrentQueue<string>();
            using (Runtime runtime = Runtime.Create("{\"io_threads\": 2, \"log\": {\"sink\": \"none\"}}"))
            {
                runtime.SessionStarted += (sender, ev) =>
                {
                    events.Enqueue(ev);
                    // The session is live: a handle to it can be opened from the event thread.
                    using (Session session = runtime.OpenSession(ev.SessionId))
                        if (session.Id == ev.SessionId) opened[session.Id] = true;
                };
                runtime.Dtmf += (sender, ev) => events.Enqueue(ev);
                runtime.Mark += (sender, ev) => events.Enqueue(ev);
                runtime.SessionStopped += (sender, ev) =>
                {
                    threads.Enqueue(Thread.CurrentThread.Name);
                    events.Enqueue(ev);
                };
                using (Listener listener = runtime.StartListener(
                    "{\"transport\": \"twilio\", \"address\": \"127.0.0.1\", \"port\": 0, \"path\": \"/twilio\", \"behaviour\": \"echo\"}"))
                {
                    Assert.Greater(listener.Port, 0);
                    Assert.IsNotEmpty(listener.Id);
                    var start = new ProcessStartInfo(ParleyCli(),
                        "loadgen --url ws://127.0.0.1:" + listener.Port + "/twilio --calls 2 --duration 2 --dtmf-every 0.5 --json")
                    {
                        UseShellExecute = false,
                        RedirectStandardOutput = true,
                        RedirectStandardError = true,
                    };
                    string report;
                    using (Process loadgen = Process.Start(start))
                    {
                        loadgen.ErrorDataReceived += (s, e) => { };
                        loadgen.BeginErrorReadLine();
                        report = loadgen.StandardOutput.ReadToEnd();
                        Assert.IsTrue(loadgen.WaitForExit(60000), "loadgen did not finish");
                        Assert.AreEqual(0, loadgen.ExitCode, report);
                    }
                    Assert.AreEqual(2, Json.Number(report, "calls_completed"), report);
                    Assert.AreEqual(0, Json.Number(report, "protocol_errors"), report);
                    Assert.Greater(Json.Number(report, "frames_received"), 0, report);

                    var deadline = DateTime.UtcNow.AddSeconds(10);
                    while (Count(events, EventType.SessionStopped) < 2 && DateTime.UtcNow < deadline) Thread.Sleep(10);
                    // Both calls are counted (session_stopped is posted after the call is counted ended).
                    RuntimeStats stats = runtime.Stats();
                    Assert.AreEqual(2, stats.CallsStarted, stats.Json);
                    Assert.AreEqual(2, stats.CallsEnded, stats.Json);
                    Assert.IsTrue(stats.CallerFrames > 0 && stats.AgentFrames > 0, stats.Json);
                    Assert.AreEqual(0, stats.Turns, stats.Json);
                    Assert.AreEqual(0, stats.VoiceToVoice.Count, stats.Json);
                    Assert.AreEqual(0L, listener.StopAsync(TimeSpan.FromSeconds(1)).Result);
                }
            }
            string all = string.Join("\n", events.Select(e => e.ToString()));
            Assert.AreEqual(2, Count(events, EventType.SessionStarted), all);
            Assert.AreEqual(2, Count(events, EventType.SessionStopped), all);
            Assert.AreEqual(2, opened.Count);
            Assert.GreaterOrEqual(Count(events, EventType.Dtmf), 2, all);
            Assert.GreaterOrEqual(Count(events, EventType.Mark), 2, all);
            CollectionAssert.AreEqual(new[] { "parley-events", "parley-events" }, threads.ToArray());
            foreach (ParleyEvent ev in events)
            {
                switch (ev.Type)
                {
                    case EventType.SessionStarted:
                        Assert.AreEqual("twilio", Json.Field(ev.Payload, "transport"), ev.Payload);
                        Assert.AreEqual("echo", Json.Field(ev.Payload, "behaviour"), ev.Payload);
                        break;
                    case EventType.Dtmf:
                        StringAssert.IsMatch("^[0-9*#A-D]$", Json.Field(ev.Payload, "digit"));
                        break;
                    case EventType.Mark:
                        Assert.AreEqual("played", Json.Field(ev.Payload, "outcome"), ev.Payload);
                        break;
                    case EventType.SessionStopped:
                        Assert.Greater(Json.Number(ev.Payload, "caller_frames"), 0, ev.Payload);
                        break;
                    default:
                        Assert.Fail(ev.ToString());
                        break;
                }
                Assert.IsTrue(opened.ContainsKey(ev.SessionId), ev.ToString());
            }
        }

        internal static int Count(ConcurrentQueue<ParleyEvent> events, EventType type)
        {
            return events.Count(e => e.Type == type);
        }
    }
}
