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

        private Runtime(RuntimeHandle handle)
        {
            this.handle = handle;
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
            dtmf, mark, audio, callerAudio, audioMark, audioClear;

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
                if (dispatcher == null && !stopping)
                {
                    dispatcher = new Thread(Dispatch) { Name = "parley-events", IsBackground = true };
                    dispatcher.Start();
                }
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
            try { return ParleyEvent.CopyOf(ev); }
            finally { ParleyNative.parley_event_release(ev); }
        }

        /// <summary>Queues a User event carrying <paramref name="payloadJson"/> (valid JSON).</summary>
        /// <exception cref="ParleyException">Status.Format (not JSON), Status.Full (queue full).</exception>
        public void PostEvent(string payloadJson)
        {
            ParleyNative.parley_runtime_post_event(handle, payloadJson);
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
                Deliver(copy);
            }
        }

        private void Deliver(ParleyEvent ev)
        {
            EventType type = ev.Type;
            if (type == EventType.User && ev.Payload == Wake) return;
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
