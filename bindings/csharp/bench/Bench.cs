using System;
using System.Diagnostics;
using System.Threading;
using Parley;

/// <summary>
/// Benchmarks of the C# binding (not a test): the cost of one Session.PushAudio of a 20 ms
/// frame (320 samples at 16 kHz) on a host-transport session, and event delivery (PostEvent +
/// the binding's polling thread, and PostEvent + PollEvent on one thread). Run with bench.sh.
/// </summary>
public static class Bench
{
    public static void Main(string[] args)
    {
        int frames = args.Length > 0 ? int.Parse(args[0]) : 200000;
        int events = args.Length > 1 ? int.Parse(args[1]) : 1000000;
        PushAudio(frames);
        EventDelivery(events);
        PollLoop(events);
    }

    static void PushAudio(int frames)
    {
        using (Runtime runtime = Runtime.Create("{\"log\": {\"sink\": \"none\"}}"))
        using (Session session = runtime.CreateHostSession("{\"behaviour\": \"host\", \"sample_rate\": 16000}"))
        {
            short[] frame = new short[320];
            for (int i = 0; i < frame.Length; i++) frame[i] = (short)(1000 * Math.Sin(i / 10.0));
            for (int i = 0; i < 50000; i++) session.PushAudio(frame, 16000); // warm-up
            double best = double.MaxValue, total = 0;
            const int rounds = 5;
            for (int round = 0; round < rounds; round++)
            {
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < frames; i++) session.PushAudio(frame, 16000);
                double perCall = clock.Elapsed.TotalMilliseconds * 1000.0 / frames;
                best = Math.Min(best, perCall);
                total += perCall;
            }
            Console.WriteLine("push_audio 20 ms frame: {0:F3} us/call mean of {1} x {2}, best {3:F3} us",
                total / rounds, rounds, frames, best);
        }
    }

    static void EventDelivery(int events)
    {
        using (Runtime runtime = Runtime.Create("{\"event_queue_capacity\": 1048576, \"log\": {\"sink\": \"none\"}}"))
        {
            long received = 0;
            var done = new ManualResetEventSlim();
            runtime.EventReceived += (sender, ev) =>
            {
                if (ev.Type == EventType.User && Interlocked.Increment(ref received) == events) done.Set();
            };
            long retries = 0;
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < events; i++)
            {
                try { runtime.PostEvent("{\"seq\":1}"); }
                catch (ParleyException e)
                {
                    if (e.Status != Status.Full) throw;
                    retries++;
                    i--;
                    Thread.SpinWait(100);
                }
            }
            if (!done.Wait(120000)) throw new Exception("lost events: " + received);
            double seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine("event delivery (post_event -> binding thread -> handler): {0:F0} events/s ({1} events, {2:F2} s, {3} Full retries)",
                events / seconds, events, seconds, retries);
        }
    }

    static void PollLoop(int events)
    {
        using (Runtime runtime = Runtime.Create("{\"event_queue_capacity\": 1048576, \"log\": {\"sink\": \"none\"}}"))
        {
            const int batch = 100000;
            var clock = Stopwatch.StartNew();
            for (int done = 0; done < events; done += batch)
            {
                for (int i = 0; i < batch; i++) runtime.PostEvent("{\"seq\":1}");
                for (int i = 0; i < batch; i++)
                    if (runtime.PollEvent(TimeSpan.Zero) == null) throw new Exception("missing event");
            }
            Console.WriteLine("post_event + PollEvent on one thread: {0:F0} events/s", events / clock.Elapsed.TotalSeconds);
        }
    }
}
