using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using NUnit.Framework;

namespace Parley.Tests
{
    [TestFixture]
    public class RuntimeTests
    {
        internal const string Quiet = "{\"log\": {\"sink\": \"none\"}}";

        [Test]
        public void LifecyclePostPollDispose()
        {
            Runtime runtime = Runtime.Create(Quiet);
            Assert.IsFalse(runtime.IsDisposed);
            Assert.IsNull(runtime.PollEvent(TimeSpan.Zero));
            string payload = "{\"from\":\"c#\",\"text\":\"h\u00e9llo \U0001F600\"}";
            runtime.PostEvent(payload);
            ParleyEvent ev = runtime.PollEvent(TimeSpan.FromSeconds(1));
            Assert.IsNotNull(ev);
            Assert.AreEqual(EventType.User, ev.Type);
            Assert.AreEqual("user", ev.TypeName);
            Assert.AreEqual("", ev.SessionId);
            Assert.AreEqual(payload, ev.Payload); // UTF-8 both ways, outside the BMP too
            Assert.AreEqual(0, ev.Audio.Length);
            Assert.Greater(ev.TimestampUs, 0);
            runtime.Log(LogLevel.Info, "hello from C#");
            runtime.Dispose();
            Assert.IsTrue(runtime.IsDisposed);
            runtime.Dispose(); // twice: no-op
        }

        [Test]
        public void BadConfigIsAParleyExceptionNamingTheJsonPath()
        {
            ParleyException e = Assert.Throws<ParleyException>(() => Runtime.Create("{\"io_threads\": \"x\"}"));
            Assert.AreEqual(Status.Config, e.Status);
            Assert.AreEqual(-2, e.Code);
            Assert.AreEqual("PARLEY_ECONFIG", e.StatusName);
            StringAssert.Contains("$.io_threads", e.Message);

            e = Assert.Throws<ParleyException>(() => Runtime.Create("{\"log\": {\"level\": \"loud\"}}"));
            StringAssert.Contains("$.log.level", e.Message);

            e = Assert.Throws<ParleyException>(() => Runtime.Create("not json"));
            Assert.IsTrue(e.Status == Status.Config || e.Status == Status.Format, e.ToString());
            Assert.IsNotEmpty(e.Message);
        }

        [Test]
        public void NullConfigMeansDefaults()
        {
            using (Runtime runtime = Runtime.Create(null)) Assert.IsFalse(runtime.IsDisposed);
        }

        [Test]
        public void EveryFailingCallThrowsWithTheEngineMessage()
        {
            using (Runtime runtime = Runtime.Create(Quiet))
            {
                ParleyException e = Assert.Throws<ParleyException>(() => runtime.PostEvent("{not json"));
                Assert.AreEqual(Status.Format, e.Status);
                Assert.IsNotEmpty(e.Message);

                e = Assert.Throws<ParleyException>(() => runtime.PostEvent(null));
                Assert.AreEqual(Status.InvalidArgument, e.Status);

                e = Assert.Throws<ParleyException>(() => runtime.StartListener("{\"transport\": \"twilio\", \"port\": \"x\"}"));
                Assert.AreEqual(Status.Config, e.Status);
                StringAssert.Contains("$.port", e.Message);

                e = Assert.Throws<ParleyException>(() => runtime.OpenSession("no-such-session"));
                Assert.AreEqual(Status.NotFound, e.Status);
                StringAssert.Contains("no-such-session", e.Message);

                e = Assert.Throws<ParleyException>(() => runtime.OpenSession(null));
                Assert.AreEqual(Status.InvalidArgument, e.Status);

                e = Assert.Throws<ParleyException>(() => runtime.CreateHostSession("{\"sample_rate\": 12345}"));
                Assert.AreEqual(Status.Config, e.Status);
                StringAssert.Contains("$.sample_rate", e.Message);

                e = Assert.Throws<ParleyException>(() => runtime.PollEvent(TimeSpan.FromMilliseconds(-1)));
                Assert.AreEqual(Status.InvalidArgument, e.Status);

                e = Assert.Throws<ParleyException>(() => runtime.PostEvent("{\"a\":\"nul\0inside\"}"));
                Assert.AreEqual(Status.InvalidArgument, e.Status);

                using (Session session = runtime.CreateHostSession("{\"behaviour\": \"host\"}"))
                {
                    e = Assert.Throws<ParleyException>(() => session.PushAudio(new short[320], 12345));
                    Assert.AreEqual(Status.Unsupported, e.Status);
                    Assert.IsNotEmpty(e.Message);
                    session.PushAudio(null, 16000); // null is no samples, as NULL with count 0 in C
                    e = Assert.Throws<ParleyException>(() => session.Play(new short[160], 7));
                    Assert.AreEqual(Status.Unsupported, e.Status);
                    e = Assert.Throws<ParleyException>(() => session.PushDtmf("Z"));
                    Assert.AreEqual(Status.InvalidArgument, e.Status);
                    e = Assert.Throws<ParleyException>(() => session.PushDtmf(null));
                    Assert.AreEqual(Status.InvalidArgument, e.Status);
                    e = Assert.Throws<ParleyException>(() => session.SendMark(""));
                    Assert.AreEqual(Status.InvalidArgument, e.Status);
                    e = Assert.Throws<ParleyException>(() => session.PushG711(new byte[160], G711.Ulaw, 11025));
                    Assert.AreEqual(Status.Unsupported, e.Status);
                    e = Assert.Throws<ParleyException>(() => session.StartRecording("/nonexistent-dir-parley/x.wav"));
                    Assert.AreEqual(Status.IO, e.Status);
                }
            }
        }

        [Test]
        public void DisposedHandlesThrowInsteadOfCrashing()
        {
            Runtime runtime = Runtime.Create(Quiet);
            Session session = runtime.CreateHostSession("{\"behaviour\": \"echo\"}");
            Listener listener = runtime.StartListener("{\"transport\": \"twilio\", \"address\": \"127.0.0.1\", \"port\": 0}");
            Assert.Greater(listener.Port, 0);
            session.Dispose();
            session.Dispose();
            Assert.AreEqual(SessionState.Closed, session.State);
            Assert.Throws<ObjectDisposedException>(() => session.PushAudio(new short[320], 16000));
            Assert.IsTrue(session.CloseAsync().Wait(5000));
            runtime.Dispose(); // disposes what is still open on it
            Assert.IsTrue(listener.IsDisposed);
            listener.Dispose();
            Assert.Throws<ObjectDisposedException>(() => runtime.PostEvent("{}"));
            Assert.Throws<ObjectDisposedException>(() => runtime.CreateHostSession(null));
            Assert.Throws<ObjectDisposedException>(() => runtime.EventReceived += (s, ev) => { });
            Assert.Throws<ObjectDisposedException>(() => listener.StopAsync(TimeSpan.Zero));
            runtime.Dispose();
        }

        [Test]
        public void DisposingWhileOtherThreadsCallNeverCrashes()
        {
            for (int round = 0; round < 5; round++)
            {
                Runtime runtime = Runtime.Create(Quiet);
                Session session = runtime.CreateHostSession("{\"behaviour\": \"host\"}");
                int done = 0;
                Exception unexpected = null;
                var threads = new List<Thread>();
                for (int t = 0; t < 2; t++)
                {
                    var thread = new Thread(() =>
                    {
                        short[] frame = new short[320];
                        while (Volatile.Read(ref done) == 0)
                        {
                            try
                            {
                                session.PushAudio(frame, 16000);
                                runtime.PostEvent("{}");
                            }
                            catch (ObjectDisposedException) { }
                            catch (ParleyException e)
                            {
                                if (e.Status != Status.Full && e.Status != Status.State) unexpected = e;
                            }
                        }
                    });
                    threads.Add(thread);
                    thread.Start();
                }
                Thread.Sleep(20);
                if (round % 2 == 0) session.Dispose();
                runtime.Dispose();
                Volatile.Write(ref done, 1);
                foreach (Thread thread in threads) thread.Join();
                Assert.IsNull(unexpected);
            }
        }

        [Test]
        public void HandlerExceptionsDoNotStopDelivery()
        {
            using (Runtime runtime = Runtime.Create(Quiet))
            {
                var seen = new ConcurrentQueue<string>();
                var two = new CountdownEvent(2);
                runtime.HandlerException += (s, e) => seen.Enqueue("error:" + ((Exception)e.ExceptionObject).Message);
                runtime.EventReceived += (s, ev) =>
                {
                    seen.Enqueue(ev.Payload);
                    two.Signal();
                    throw new InvalidOperationException("handler bug");
                };
                Assert.IsTrue(runtime.IsDispatching);
                Assert.AreEqual(Status.State, Assert.Throws<ParleyException>(() => runtime.PollEvent(TimeSpan.Zero)).Status);
                runtime.PostEvent("{\"n\":1}");
                runtime.PostEvent("{\"n\":2}");
                Assert.IsTrue(two.Wait(5000));
                Assert.Contains("{\"n\":2}", seen.ToArray());
                Assert.Contains("error:handler bug", seen.ToArray());
            }
        }
    }
}
