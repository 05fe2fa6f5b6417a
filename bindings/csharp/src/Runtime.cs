using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;

namespace Parley
{
    /// <summary>
    /// A Parley runtime: the engine's threads, its event queue, and the listeners and sessions
    /// created on it. Dispose it to stop everything (listeners and sessions still open on it
    /// are disposed too).
    /// <para>
    /// Events: subscribing to any event starts a thread owned by this binding
    /// ("parley-events") that polls the engine's queue and raises the .NET events, one at a
    /// time, in order; engine threads never run managed code. Without subscribers,
    /// <see cref="PollEvent"/> reads the queue directly.
    /// </para>
    /// <para>
    /// Providers: RegisterTts, RegisterLlm and RegisterStt register voices, models and
    /// recognisers implemented in C#. Their requests reach the event thread as events (the
    /// engine never calls into the CLR) and run on the thread pool; registering one starts the
    /// event thread.
    /// </para>
    /// </summary>
    public sealed class Runtime : IDisposable
    {
        /// <summary>Posted by Dispose to wake the event thread at once; never raised.</summary>
        private const string Wake = "{\"parley.binding\":\"wake\"}";
        private const int PollMs = 200;

        private readonly RuntimeHandle handle;
        private readonly ConcurrentDictionary<IDisposable, bool> children = new ConcurrentDictionary<IDisposable, bool>();
        private readonly ConcurrentDictionary<string, TaskCompletionSource<bool>> stopWaiters =
            new ConcurrentDictionary<string, TaskCompletionSource<bool>>();
        private readonly object gate = new object();
        private Thread dispatcher;
        private volatile bool stopping;
        private int disposed;
        private readonly ProviderDispatcher providers;
        /// <summary>
        /// Session.Speak marks the engine does not know yet: session + NUL + mark -> failure (""
        /// while pending). Failures of speak() are recorded for any mark; Session.Dispose forgets them.
        /// </summary>
        private readonly ConcurrentDictionary<string, string> speaks = new ConcurrentDictionary<string, string>();

        private Runtime(RuntimeHandle handle)
        {
            this.handle = handle;
            providers = new ProviderDispatcher(new RuntimeAnswers(handle));
        }

        /// <summary>
        /// A runtime from a JSON configuration (null or "{}" for defaults), e.g.
        /// <c>{"io_threads": 2, "log": {"level": "warn"}}</c>.
        /// </summary>
        /// <exception cref="ParleyException">Status.Config, naming the JSON path of a bad key.</exception>
        public static Runtime Create(string configJson = null)
        {
            return new Runtime(ParleyNative.parley_swig_runtime_create(configJson));
        }

        internal RuntimeHandle Handle { get { return handle; } }

        public bool IsDisposed { get { return handle.IsClosed; } }

        // ---- Events ----

        private EventHandler<ParleyEvent> anyEvent, sessionStarted, sessionStopped, sessionError, sessionRejected,
            dtmf, mark, audio, callerAudio, audioMark, audioClear, providerRequested,
            agentState, transcript, turn, toolCall, interruption, sendDtmf, transfer;

        /// <summary>Every event (raised before the typed event).</summary>
        public event EventHandler<ParleyEvent> EventReceived { add { Subscribe(ref anyEvent, value); } remove { anyEvent -= value; } }
        public event EventHandler<ParleyEvent> SessionStarted { add { Subscribe(ref sessionStarted, value); } remove { sessionStarted -= value; } }
        public event EventHandler<ParleyEvent> SessionStopped { add { Subscribe(ref sessionStopped, value); } remove { sessionStopped -= value; } }
        public event EventHandler<ParleyEvent> SessionError { add { Subscribe(ref sessionError, value); } remove { sessionError -= value; } }
        public event EventHandler<ParleyEvent> SessionRejected { add { Subscribe(ref sessionRejected, value); } remove { sessionRejected -= value; } }
        public event EventHandler<ParleyEvent> Dtmf { add { Subscribe(ref dtmf, value); } remove { dtmf -= value; } }
        public event EventHandler<ParleyEvent> Mark { add { Subscribe(ref mark, value); } remove { mark -= value; } }
        /// <summary>Host transport: agent audio to play.</summary>
        public event EventHandler<ParleyEvent> Audio { add { Subscribe(ref audio, value); } remove { audio -= value; } }
        public event EventHandler<ParleyEvent> CallerAudio { add { Subscribe(ref callerAudio, value); } remove { callerAudio -= value; } }
        /// <summary>Host transport: confirm with Session.PushMarkPlayed once the audio before it has played.</summary>
        public event EventHandler<ParleyEvent> AudioMark { add { Subscribe(ref audioMark, value); } remove { audioMark -= value; } }
        /// <summary>Host transport: drop buffered agent audio (barge-in).</summary>
        public event EventHandler<ParleyEvent> AudioClear { add { Subscribe(ref audioClear, value); } remove { audioClear -= value; } }

        /// <summary>
        /// A request for a provider registered without an implementation (RegisterProvider with
        /// null); answer it with ProviderRequest(id). Requests of C# implementations never appear here.
        /// </summary>
        public event EventHandler<ParleyEvent> ProviderRequested { add { Subscribe(ref providerRequested, value); } remove { providerRequested -= value; } }

        /// <summary>Agent sessions: the agent's state changed (idle, listening, thinking, speaking).</summary>
        public event EventHandler<ParleyEvent> AgentState { add { Subscribe(ref agentState, value); } remove { agentState -= value; } }
        /// <summary>Agent sessions: a line of the conversation, the caller's or the agent's.</summary>
        public event EventHandler<ParleyEvent> Transcript { add { Subscribe(ref transcript, value); } remove { transcript -= value; } }
        /// <summary>Agent sessions: a turn ended.</summary>
        public event EventHandler<ParleyEvent> Turn { add { Subscribe(ref turn, value); } remove { turn -= value; } }
        /// <summary>Agent sessions: the model called a host tool; answer with Session.ToolResult before its timeout.</summary>
        public event EventHandler<ParleyEvent> ToolCall { add { Subscribe(ref toolCall, value); } remove { toolCall -= value; } }
        /// <summary>Agent sessions: the caller interrupted the agent.</summary>
        public event EventHandler<ParleyEvent> Interruption { add { Subscribe(ref interruption, value); } remove { interruption -= value; } }
        /// <summary>Host-transport agent sessions: the agent's send_dtmf tool asks the host to send payload "digits" as touch tones on the call.</summary>
        public event EventHandler<ParleyEvent> SendDtmf { add { Subscribe(ref sendDtmf, value); } remove { sendDtmf -= value; } }
        /// <summary>Host-transport agent sessions: the agent's transfer tool asks the host to move the call to payload "target", now that its last words have played.</summary>
        public event EventHandler<ParleyEvent> Transfer { add { Subscribe(ref transfer, value); } remove { transfer -= value; } }

        /// <summary>A handler threw; delivery goes on. Without subscribers the exception is written to stderr.</summary>
        public event EventHandler<UnhandledExceptionEventArgs> HandlerException;

        /// <summary>Whether the binding's event thread is delivering events.</summary>
        public bool IsDispatching { get { return dispatcher != null && !stopping; } }

        private void Subscribe(ref EventHandler<ParleyEvent> field, EventHandler<ParleyEvent> value)
        {
            if (value == null) return;
            ThrowIfDisposed();
            lock (gate)
            {
                field += value;
                StartDispatcher();
            }
        }

        private void StartDispatcher()
        {
            lock (gate)
            {
                if (dispatcher == null && !stopping)
                {
                    dispatcher = new Thread(Dispatch) { Name = "parley-events", IsBackground = true };
                    dispatcher.Start();
                }
            }
        }

        // ---- Host-implemented providers ----

        /// <summary>
        /// Registers a voice implemented in C# under <paramref name="name"/>;
        /// <paramref name="sampleRate"/> is the rate of the PCM16 it pushes (0: 16000). Configs then
        /// name it like a built-in voice, e.g. <c>session.Speak("Hello.", "{\"tts\": {\"provider\": \"my-voice\"}}")</c>.
        /// A later registration of the same name replaces it. Starts the event thread.
        /// </summary>
        /// <exception cref="ParleyException">Status.InvalidArgument (empty name), Status.Config (rate).</exception>
        public void RegisterTts(string name, int sampleRate, ITtsProvider tts)
        {
            if (tts == null) throw new ArgumentNullException("tts");
            RegisterProvider("tts", name, RateOptions(sampleRate), tts);
        }

        /// <summary>RegisterTts with a function.</summary>
        public void RegisterTts(string name, int sampleRate, Func<TtsRequest, CancellationToken, Task> synthesize)
        {
            if (synthesize == null) throw new ArgumentNullException("synthesize");
            RegisterTts(name, sampleRate, new FuncProvider { Tts = synthesize });
        }

        /// <summary>Registers a language model implemented in C#. Starts the event thread.</summary>
        public void RegisterLlm(string name, ILlmProvider llm)
        {
            if (llm == null) throw new ArgumentNullException("llm");
            RegisterProvider("llm", name, null, llm);
        }

        /// <summary>RegisterLlm with a function.</summary>
        public void RegisterLlm(string name, Func<LlmRequest, CancellationToken, Task> complete)
        {
            if (complete == null) throw new ArgumentNullException("complete");
            RegisterLlm(name, new FuncProvider { Llm = complete });
        }

        /// <summary>
        /// Registers a speech recogniser implemented in C#; <paramref name="sampleRate"/> is the rate
        /// of the audio it receives (0: 16000). Starts the event thread.
        /// </summary>
        public void RegisterStt(string name, int sampleRate, ISttProvider stt)
        {
            if (stt == null) throw new ArgumentNullException("stt");
            RegisterProvider("stt", name, RateOptions(sampleRate), stt);
        }

        /// <summary>RegisterStt with a function.</summary>
        public void RegisterStt(string name, int sampleRate, Func<SttRequest, CancellationToken, Task> recognize)
        {
            if (recognize == null) throw new ArgumentNullException("recognize");
            RegisterStt(name, sampleRate, new FuncProvider { Stt = recognize });
        }

        /// <summary>
        /// The general form: <paramref name="kind"/> "llm", "tts" or "stt"; <paramref name="optionsJson"/>
        /// null or <c>{"sample_rate": N}</c>; <paramref name="implementation"/> an ITtsProvider,
        /// ILlmProvider or ISttProvider of that kind, or null: the requests are then raised as
        /// ProviderRequested events, answered with ProviderRequest(id).
        /// </summary>
        /// <exception cref="ParleyException">Status.InvalidArgument (bad kind, empty name, an
        /// implementation of another kind), Status.Config (options).</exception>
        public void RegisterProvider(string kind, string name, string optionsJson, object implementation)
        {
            if (implementation != null)
            {
                bool fits = kind == "tts" ? implementation is ITtsProvider
                          : kind == "llm" ? implementation is ILlmProvider
                          : kind == "stt" ? implementation is ISttProvider
                          : true; // the engine rejects the kind with its own message
                if (!fits)
                    throw new ParleyException((int)Status.InvalidArgument,
                        "a " + kind + " provider must implement " + (kind == "tts" ? "ITtsProvider" : kind == "llm" ? "ILlmProvider" : "ISttProvider"));
            }
            ThrowIfDisposed();
            // Known to the dispatcher first, so that a request right after registration finds it.
            bool known = kind != null && name != null;
            if (known) providers.Set(kind, name, implementation, SampleRateOf(optionsJson));
            try
            {
                ParleyNative.parley_swig_provider_register(handle, kind, name, optionsJson);
            }
            catch
            {
                if (known) providers.Set(kind, name, null, 0);
                throw;
            }
            if (implementation != null) StartDispatcher();
        }

        /// <summary>
        /// A handle to answer request <paramref name="id"/> (from a ProviderRequested event of a
        /// provider registered without an implementation). Answers to an unknown id throw
        /// ParleyException with Status.NotFound.
        /// </summary>
        public Parley.ProviderRequest ProviderRequest(long id)
        {
            return new Parley.ProviderRequest(id, "", "", "", "{}", new RuntimeAnswers(handle), false);
        }

        private static string RateOptions(int sampleRate)
        {
            return sampleRate == 0 ? null : "{\"sample_rate\": " + sampleRate + "}";
        }

        private static int SampleRateOf(string optionsJson)
        {
            if (optionsJson == null) return 16000;
            try { return (int)MiniJson.Number(MiniJson.Get(MiniJson.Object(MiniJson.Parse(optionsJson)), "sample_rate"), 16000); }
            catch (FormatException) { return 16000; /* the engine rejects it */ }
        }

        private sealed class FuncProvider : ITtsProvider, ILlmProvider, ISttProvider
        {
            internal Func<TtsRequest, CancellationToken, Task> Tts;
            internal Func<LlmRequest, CancellationToken, Task> Llm;
            internal Func<SttRequest, CancellationToken, Task> Stt;

            public Task SynthesizeAsync(TtsRequest request, CancellationToken cancellationToken) { return Tts(request, cancellationToken); }
            public Task CompleteAsync(LlmRequest request, CancellationToken cancellationToken) { return Llm(request, cancellationToken); }
            public Task RecognizeAsync(SttRequest request, CancellationToken cancellationToken) { return Stt(request, cancellationToken); }
        }

        /// <summary>Answers through the runtime's handle (ObjectDisposedException once disposed).</summary>
        private sealed class RuntimeAnswers : ProviderDispatcher.IAnswers
        {
            private readonly RuntimeHandle handle;

            internal RuntimeAnswers(RuntimeHandle handle)
            {
                this.handle = handle;
            }

            public void PushAudio(long request, short[] samples)
            {
                ParleyNative.parley_provider_push_audio(handle, request, samples, samples == null ? 0u : (uint)samples.Length);
            }

            public void PushText(long request, string text)
            {
                ParleyNative.parley_provider_push_text(handle, request, text);
            }

            public void PushToolCall(long request, int index, string callId, string name, string arguments)
            {
                ParleyNative.parley_provider_push_tool_call(handle, request, index, callId, name, arguments);
            }

            public void PushTranscript(long request, string text, bool isFinal, bool speechFinal)
            {
                ParleyNative.parley_provider_push_transcript(handle, request, text, isFinal ? 1 : 0, speechFinal ? 1 : 0);
            }

            public void Complete(long request, int status, string detail)
            {
                ParleyNative.parley_provider_complete(handle, request, status, detail);
            }
        }

        /// <summary>
        /// Waits up to <paramref name="timeout"/> (null: forever) for the next event; null if none
        /// came. Only while nothing is subscribed (the event thread owns the queue then).
        /// </summary>
        public ParleyEvent PollEvent(TimeSpan? timeout)
        {
            if (dispatcher != null)
                throw new ParleyException(ParleyNative.PARLEY_ESTATE, "events are delivered to subscribers; PollEvent is unavailable");
            IntPtr ev = ParleyNative.parley_swig_runtime_poll_event(handle, Timeouts.Millis(timeout));
            if (ev == IntPtr.Zero) return null;
            ParleyEvent copy;
            try { copy = ParleyEvent.CopyOf(ev); }
            finally { ParleyNative.parley_event_release(ev); }
            ObserveSpeak(copy);
            return copy;
        }

        /// <summary>Queues a User event carrying <paramref name="payloadJson"/> (valid JSON).</summary>
        /// <exception cref="ParleyException">Status.Format (not JSON), Status.Full (queue full).</exception>
        public void PostEvent(string payloadJson)
        {
            ParleyNative.parley_runtime_post_event(handle, payloadJson);
        }

        /// <summary>
        /// The runtime's counters and latency distributions since it was created (calls, frames,
        /// agent turns, tools, tokens, latency percentiles). Thread-safe; calls may be running.
        /// </summary>
        public RuntimeStats Stats()
        {
            return new RuntimeStats(StatsJson());
        }

        /// <summary><see cref="Stats"/> as the engine's JSON document.</summary>
        public string StatsJson()
        {
            return ParleyNative.parley_swig_runtime_stats_json(handle);
        }

        /// <summary>Writes one record through the runtime's logger (with redaction).</summary>
        public void Log(LogLevel level, string message)
        {
            ParleyNative.parley_runtime_log(handle, (int)level, message);
        }

        /// <summary>
        /// Starts a listener, e.g. <c>{"transport": "twilio", "address": "127.0.0.1", "port": 0,
        /// "path": "/twilio", "behaviour": "echo"}</c>. Its calls produce session events here.
        /// </summary>
        public Listener StartListener(string configJson)
        {
            ListenerHandle listener = ParleyNative.parley_swig_listener_start(handle, configJson);
            listener.KeepAlive(handle);
            return Adopt(new Listener(this, listener));
        }

        /// <summary>
        /// Creates a host-transport session (your media stack carries the call): push caller
        /// audio with Session.PushAudio, receive agent audio as Audio events.
        /// </summary>
        public Session CreateHostSession(string configJson)
        {
            SessionHandle session = ParleyNative.parley_swig_session_create_host(handle, configJson);
            session.KeepAlive(handle);
            return Adopt(new Session(this, session, true));
        }

        /// <summary>A handle to a live session by id (from ParleyEvent.SessionId).</summary>
        public Session OpenSession(string sessionId)
        {
            SessionHandle session = ParleyNative.parley_swig_session_open(handle, sessionId);
            session.KeepAlive(handle);
            return Adopt(new Session(this, session, false));
        }

        private T Adopt<T>(T child) where T : IDisposable
        {
            children[child] = true;
            if (handle.IsClosed) child.Dispose();
            return child;
        }

        internal void Forget(IDisposable child)
        {
            bool ignored;
            children.TryRemove(child, out ignored);
        }

        // ---- Session.Speak marks: WaitMarkAsync waits for them while their text is synthesised ----

        private static string SpeakKey(string sessionId, string mark)
        {
            return sessionId + "\0" + mark;
        }

        internal void SpeakAdded(string sessionId, string mark)
        {
            speaks.TryAdd(SpeakKey(sessionId, mark), ""); // its failure may have been read already
        }

        /// <summary>null: not a pending Speak mark; "": pending; else the failure's message.</summary>
        internal string SpeakState(string sessionId, string mark)
        {
            string state;
            return speaks.TryGetValue(SpeakKey(sessionId, mark), out state) ? state : null;
        }

        internal void SpeakForget(string sessionId, string mark)
        {
            string ignored;
            speaks.TryRemove(SpeakKey(sessionId, mark), out ignored);
        }

        internal void SpeakForgetSession(string sessionId)
        {
            string ignored;
            foreach (string key in speaks.Keys)
                if (key.StartsWith(sessionId + "\0", StringComparison.Ordinal)) speaks.TryRemove(key, out ignored);
        }

        /// <summary>Follows the events that settle a Speak mark: its Mark event, or a provider failure.</summary>
        private void ObserveSpeak(ParleyEvent ev)
        {
            if (ev.Type != EventType.Mark && ev.Type != EventType.SessionError) return;
            System.Collections.Generic.Dictionary<string, object> payload;
            try { payload = MiniJson.Object(MiniJson.Parse(ev.Payload)); }
            catch (FormatException) { return; }
            if (ev.Type == EventType.Mark)
            {
                string name = MiniJson.String(MiniJson.Get(payload, "name"));
                if (name != null) SpeakForget(ev.SessionId, name);
                return;
            }
            string mark = MiniJson.String(MiniJson.Get(payload, "mark"));
            var error = MiniJson.Get(payload, "error") as System.Collections.Generic.Dictionary<string, object>;
            if (mark == null || error == null) return;
            string message = "speak: " + MiniJson.String(MiniJson.Get(error, "provider")) + ": " + MiniJson.String(MiniJson.Get(error, "message"));
            // Recorded even before Speak() has returned the mark: the failure can be that quick.
            speaks[SpeakKey(ev.SessionId, mark)] = message;
        }

        internal Task WhenStopped(string sessionId)
        {
            return stopWaiters.GetOrAdd(sessionId, id => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }

        internal void StopWaitDone(string sessionId)
        {
            TaskCompletionSource<bool> waiter;
            if (stopWaiters.TryRemove(sessionId, out waiter)) waiter.TrySetResult(true);
        }

        /// <summary>
        /// Stops the event thread, disposes the listeners and sessions still open, and frees the
        /// runtime. Idempotent. From an event handler the event thread is not joined.
        /// </summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) != 0) return;
            Thread thread;
            lock (gate)
            {
                stopping = true;
                thread = dispatcher;
            }
            providers.Close(); // C# providers' requests in flight see their tokens cancelled
            foreach (IDisposable child in children.Keys) child.Dispose();
            if (thread != null)
            {
                try { ParleyNative.parley_runtime_post_event(handle, Wake); }
                catch (ParleyException) { /* queue full: the thread sees `stopping` within PollMs */ }
                if (thread != Thread.CurrentThread) thread.Join();
            }
            foreach (TaskCompletionSource<bool> waiter in stopWaiters.Values) waiter.TrySetResult(true);
            stopWaiters.Clear();
            handle.Dispose();
        }

        private void ThrowIfDisposed()
        {
            if (handle.IsClosed || Volatile.Read(ref disposed) != 0) throw new ObjectDisposedException("Parley.Runtime");
        }

        private void Dispatch()
        {
            while (!stopping)
            {
                IntPtr ev;
                try
                {
                    ev = ParleyNative.parley_swig_runtime_poll_event(handle, PollMs);
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                catch (ParleyException e)
                {
                    Report(e); // only EINVAL is possible here: a bug, not something to retry
                    return;
                }
                if (ev == IntPtr.Zero) continue;
                ParleyEvent copy;
                try { copy = ParleyEvent.CopyOf(ev); }
                finally { ParleyNative.parley_event_release(ev); }
                if (providers.Dispatch(copy)) continue;
                Deliver(copy);
            }
        }

        private void Deliver(ParleyEvent ev)
        {
            EventType type = ev.Type;
            if (type == EventType.User && ev.Payload == Wake) return;
            ObserveSpeak(ev);
            if (type == EventType.SessionStopped) StopWaitDone(ev.SessionId);
            Raise(anyEvent, ev);
            switch (type)
            {
                case EventType.SessionStarted: Raise(sessionStarted, ev); break;
                case EventType.SessionStopped: Raise(sessionStopped, ev); break;
                case EventType.SessionError: Raise(sessionError, ev); break;
                case EventType.SessionRejected: Raise(sessionRejected, ev); break;
                case EventType.Dtmf: Raise(dtmf, ev); break;
                case EventType.Mark: Raise(mark, ev); break;
                case EventType.Audio: Raise(audio, ev); break;
                case EventType.CallerAudio: Raise(callerAudio, ev); break;
                case EventType.AudioMark: Raise(audioMark, ev); break;
                case EventType.AudioClear: Raise(audioClear, ev); break;
                case EventType.ProviderRequest: Raise(providerRequested, ev); break;
                case EventType.AgentState: Raise(agentState, ev); break;
                case EventType.Transcript: Raise(transcript, ev); break;
                case EventType.Turn: Raise(turn, ev); break;
                case EventType.ToolCall: Raise(toolCall, ev); break;
                case EventType.Interruption: Raise(interruption, ev); break;
                case EventType.SendDtmf: Raise(sendDtmf, ev); break;
                case EventType.Transfer: Raise(transfer, ev); break;
            }
        }

        private void Raise(EventHandler<ParleyEvent> handlers, ParleyEvent ev)
        {
            if (handlers == null) return;
            foreach (EventHandler<ParleyEvent> handler in handlers.GetInvocationList())
            {
                try { handler(this, ev); }
                catch (Exception e) { Report(e); }
            }
        }

        private void Report(Exception error)
        {
            EventHandler<UnhandledExceptionEventArgs> report = HandlerException;
            if (report != null)
            {
                try { report(this, new UnhandledExceptionEventArgs(error, false)); return; }
                catch (Exception) { /* fall through to stderr */ }
            }
            Console.Error.WriteLine("parley: an event handler threw: " + error);
        }
    }

    internal static class Timeouts
    {
        /// <summary>A TimeSpan as the C API's timeout_ms: null means forever (-1), capped at int.MaxValue.</summary>
        internal static int Millis(TimeSpan? timeout)
        {
            if (timeout == null) return -1;
            if (timeout.Value < TimeSpan.Zero)
                throw new ParleyException(ParleyNative.PARLEY_EINVAL, "timeout must not be negative: " + timeout.Value);
            double ms = Math.Floor(timeout.Value.TotalMilliseconds);
            return ms > int.MaxValue ? int.MaxValue : (int)ms;
        }
    }
}
