using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using Parley;

/// <summary>
/// A small Parley voice agent in C#: answers Twilio Media Streams calls with the appointment
/// agent (pocketsphinx with the appointment grammar, the scripted LLM flow, espeak-ng), which
/// greets the caller, books an appointment through the host's book_appointment tool and hangs
/// up. Prints what happens on each call:
///
///   listening on ws://127.0.0.1:8080/twilio
///   call started: S4df7e845000000
///   agent: Thanks for calling Parley Dental. How can I help?
///   caller: i would like to book an appointment          (final transcripts only)
///   tool call: book_appointment(day=monday, ...) -> {"booked":true}
///   call ended: S4df7e845000000 (caller hung up (stop))
///
/// and exits after --calls N calls, or on Ctrl-C.
///
///   mono Agent.exe [--port 8080] [--calls N] [--flow FILE] [--grammar FILE]
///
/// --port 0 picks a free port. The flow and grammar default to examples/flows/appointment.json
/// and examples/grammars/appointment.jsgf, looked up from the current directory upwards.
/// run.sh calls it with `parley loadgen --calls 2 --duration 8 --wav speech.wav`.
/// </summary>
public static class Agent
{
    /// <summary>The host tool the scripted flow calls once the caller has confirmed the booking.</summary>
    const string BookAppointment = "{\"name\": \"book_appointment\","
        + " \"description\": \"Books the appointment in the practice's calendar\","
        + " \"parameters\": {\"type\": \"object\", \"properties\": {\"day\": {\"type\": \"string\"},"
        + " \"time\": {\"type\": \"string\"}, \"name\": {\"type\": \"string\"}}},"
        + " \"timeout_ms\": 4000, \"fallback\": \"Sorry, I can't book that right now.\"}";

    public static int Main(string[] args)
    {
        int port = 8080, calls = 0;
        string flow = null, grammar = null;
        for (int i = 0; i < args.Length; i += 2)
        {
            string value = i + 1 < args.Length ? args[i + 1] : null;
            if (args[i] == "--port" && value != null) port = int.Parse(value);
            else if (args[i] == "--calls" && value != null) calls = int.Parse(value);
            else if (args[i] == "--flow" && value != null) flow = value;
            else if (args[i] == "--grammar" && value != null) grammar = value;
            else
            {
                Console.Error.WriteLine("usage: Agent [--port N] [--calls N] [--flow FILE] [--grammar FILE]");
                return 2;
            }
        }
        flow = flow ?? FindUp(Path.Combine("examples", "flows", "appointment.json"));
        grammar = grammar ?? FindUp(Path.Combine("examples", "grammars", "appointment.jsgf"));

        string config = "{\"transport\": \"twilio\", \"address\": \"127.0.0.1\", \"port\": " + port
            + ", \"path\": \"/twilio\", \"behaviour\": \"agent\", \"agent\": {"
            + "\"stt\": {\"provider\": \"pocketsphinx\", \"grammar\": " + Quote(grammar) + "},"
            + " \"llm\": {\"provider\": \"scripted\", \"flow\": " + Quote(flow) + "},"
            + " \"tts\": {\"provider\": \"espeak\"},"
            + " \"greet_from_llm\": true," // the flow's first line greets the caller
            + " \"tools\": [" + BookAppointment + "]}}";

        int ended = 0;
        var stop = new ManualResetEventSlim(false); // enough calls ended, or Ctrl-C
        using (Runtime runtime = Runtime.Create("{\"log\": {\"level\": \"warn\"}}"))
        {
            // Events are raised on the binding's own thread ("parley-events"), one at a time.
            runtime.SessionStarted += (s, ev) => Console.WriteLine("call started: " + ev.SessionId);
            runtime.SessionStopped += (s, ev) =>
            {
                Console.WriteLine("call ended: " + ev.SessionId + " (" + ev.PayloadMap()["reason"] + ")");
                if (Interlocked.Increment(ref ended) == calls) stop.Set();
            };
            runtime.SessionRejected += (s, ev) => Console.WriteLine("call rejected: " + ev.Payload);
            runtime.SessionError += (s, ev) => Console.WriteLine("call error: " + ev.SessionId + ": " + ev.PayloadMap()["message"]);
            runtime.Transcript += (s, ev) =>
            {
                Dictionary<string, object> line = ev.PayloadMap();
                if (!true.Equals(line["final"])) return; // partials: still speaking
                Console.WriteLine(((string)line["role"] == "user" ? "caller" : "agent") + ": " + line["text"]);
            };
            runtime.Turn += (s, ev) =>
            {
                Dictionary<string, object> turn = ev.PayloadMap();
                Console.WriteLine("turn " + turn["turn"] + " ended" + (true.Equals(turn["interrupted"]) ? " (interrupted)" : ""));
            };
            runtime.ToolCall += (s, ev) => AnswerToolCall(runtime, ev);

            using (Listener listener = runtime.StartListener(config))
            {
                Console.WriteLine("parley " + ParleyLibrary.Version);
                Console.WriteLine("listening on ws://127.0.0.1:" + listener.Port + "/twilio");
                Console.Out.Flush();
                Console.CancelKeyPress += (s, e) => { e.Cancel = true; stop.Set(); };
                if (calls == 0 || Volatile.Read(ref ended) < calls) stop.Wait();

                // Calls still live get two seconds to finish, then are hung up.
                long hungUp = listener.StopAsync(TimeSpan.FromSeconds(2)).Result;
                RuntimeStats stats = runtime.Stats();
                Console.WriteLine("stats: " + stats.CallsEnded + " calls, " + stats.Turns + " turns, " + stats.ToolCalls
                                  + " tool calls, voice-to-voice p50 " + stats.VoiceToVoice.P50 + " ms ("
                                  + stats.VoiceToVoice.Count + " answers)");
                Console.WriteLine("done: " + Volatile.Read(ref ended) + " call(s) ended, " + hungUp + " hung up");
            }
        }
        return 0;
    }

    /// <summary>Books the appointment. A real agent would look at the arguments and do the work.</summary>
    static void AnswerToolCall(Runtime runtime, ParleyEvent ev)
    {
        Dictionary<string, object> call = ev.PayloadMap();
        const string result = "{\"booked\":true}";
        try
        {
            using (Session session = runtime.OpenSession(ev.SessionId)) // disposing releases the handle only
                session.ToolResult((string)call["id"], result);
            Console.WriteLine("tool call: " + call["name"] + "(" + Describe(call["arguments"]) + ") -> " + result);
        }
        catch (ParleyException e)
        {
            Console.WriteLine("tool call: " + call["name"] + ": " + e.Message); // the call may have ended
        }
    }

    /// <summary>A parsed JSON object's fields as "name=value, ...".</summary>
    static string Describe(object value)
    {
        var map = value as Dictionary<string, object>;
        if (map == null) return Convert.ToString(value);
        var parts = new List<string>();
        foreach (KeyValuePair<string, object> field in map) parts.Add(field.Key + "=" + field.Value);
        return string.Join(", ", parts);
    }

    /// <summary>rel in the current directory or the nearest parent that has it; rel itself if none.</summary>
    static string FindUp(string rel)
    {
        for (DirectoryInfo dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, rel);
            if (File.Exists(candidate)) return candidate;
        }
        return rel;
    }

    static string Quote(string text)
    {
        var out_ = new StringBuilder("\"");
        foreach (char c in text)
        {
            if (c == '"' || c == '\\') out_.Append('\\').Append(c);
            else if (c < 0x20) out_.Append("\\u").Append(((int)c).ToString("x4"));
            else out_.Append(c);
        }
        return out_.Append('"').ToString();
    }
}
