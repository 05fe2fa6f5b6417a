using System;
using System.Threading;
using Parley;

/// <summary>
/// Answers Twilio Media Streams calls with the engine's echo behaviour and prints each session
/// event. Try it with `parley loadgen --url ws://127.0.0.1:PORT/twilio --calls 2 --duration 3
/// --dtmf-every 1` (run.sh does exactly that).
///
///   mono EchoAgent.exe [--port 8080] [--calls N]
///
/// With --calls N it exits after N calls have ended; otherwise on Ctrl-C.
/// </summary>
public static class EchoAgent
{
    public static int Main(string[] args)
    {
        int port = 8080, calls = 0;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--port") port = int.Parse(args[++i]);
            else if (args[i] == "--calls") calls = int.Parse(args[++i]);
            else { Console.Error.WriteLine("usage: EchoAgent [--port N] [--calls N]"); return 2; }
        }
        var ended = new CountdownEvent(calls > 0 ? calls : 1);
        using (Runtime runtime = Runtime.Create("{\"io_threads\": 2, \"log\": {\"level\": \"warn\"}}"))
        {
            runtime.SessionStarted += (s, ev) => Console.WriteLine("started  " + ev.SessionId + " " + ev.Payload);
            runtime.Dtmf += (s, ev) => Console.WriteLine("dtmf     " + ev.SessionId + " " + ev.Payload);
            runtime.Mark += (s, ev) => Console.WriteLine("mark     " + ev.SessionId + " " + ev.Payload);
            runtime.SessionError += (s, ev) => Console.WriteLine("error    " + ev.SessionId + " " + ev.Payload);
            runtime.SessionStopped += (s, ev) =>
            {
                Console.WriteLine("stopped  " + ev.SessionId + " " + ev.Payload);
                if (calls > 0) ended.Signal();
            };
            using (Listener listener = runtime.StartListener("{\"transport\": \"twilio\", \"address\": \"127.0.0.1\", \"port\": "
                                                            + port + ", \"path\": \"/twilio\", \"behaviour\": \"echo\"}"))
            {
                Console.WriteLine("parley " + ParleyLibrary.Version + " listening on ws://127.0.0.1:" + listener.Port + "/twilio");
                Console.Out.Flush();
                if (calls == 0)
                    Console.CancelKeyPress += (s, e) => { e.Cancel = true; ended.Signal(); };
                ended.Wait();
                long hungUp = listener.StopAsync(TimeSpan.FromSeconds(5)).Result;
                Console.WriteLine("drained (" + hungUp + " calls hung up)");
            }
        }
        return 0;
    }
}
