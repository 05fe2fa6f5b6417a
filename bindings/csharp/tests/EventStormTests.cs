using System;
using System.Threading;
using NUnit.Framework;

namespace Parley.Tests
{
    /// <summary>100,000 events through the binding's event thread, with GC.Collect() forced in the middle.</summary>
    [TestFixture]
    public class EventStormTests
    {
        const int Events = 100000;

        [Test, Timeout(120000)]
        public void EveryPostedEventArrivesInOrderThroughGarbageCollections()
        {
            long received = 0, outOfOrder = 0, fullRetries = 0, overflows = 0, wrongType = 0;
            var all = new ManualResetEventSlim();
            using (Runtime runtime = Runtime.Create("{\"event_queue_capacity\": 65536, \"log\": {\"sink\": \"none\"}}"))
            {
                runtime.EventReceived += (sender, ev) =>
                {
                    if (ev.Type == EventType.Overflow) { overflows++; return; } // a refused post (Full) is counted as dropped
                    if (ev.Type != EventType.User) { wrongType++; return; }
                    long n = Json.Number(ev.Payload, "n");
                    if (n != received++) outOfOrder++;
                    if (n == Events / 2)
                    {
                        GC.Collect(); // on the event thread, mid-storm
                        GC.WaitForPendingFinalizers();
                    }
                    if (n == Events - 1) all.Set();
                };
                for (int i = 0; i < Events; i++)
                {
                    string payload = "{\"n\":" + i + ",\"pad\":\"" + new string('x', i % 64) + "\"}";
                    for (;;)
                    {
                        try { runtime.PostEvent(payload); break; }
                        catch (ParleyException e)
                        {
                            Assert.AreEqual(Status.Full, e.Status, e.ToString());
                            fullRetries++;
                            Thread.Sleep(1);
                        }
                    }
                    if (i == Events / 4 || i == Events * 3 / 4) GC.Collect(); // on the posting thread
                }
                Assert.IsTrue(all.Wait(60000), "received " + Interlocked.Read(ref received) + " of " + Events);
            }
            Assert.AreEqual(Events, received);
            Assert.AreEqual(0, outOfOrder);
            Assert.AreEqual(0, wrongType);
            Assert.IsTrue(fullRetries == 0 || overflows > 0, fullRetries + " retries, " + overflows + " overflows");
        }
    }
}
