using System;
using System.Threading;
using System.Threading.Tasks;

namespace Parley
{
    /// <summary>
    /// A handle to one call: a Twilio call (Runtime.OpenSession) or a host-transport session
    /// (Runtime.CreateHostSession). Several handles may refer to one call. Dispose releases the
    /// handle (and ends a host-transport session it created); CloseAsync ends the call and
    /// completes once it has stopped.
    /// </summary>
    public sealed class Session : IDisposable
    {
        private readonly Runtime runtime;
        private readonly SessionHandle handle;
        private readonly bool ownsCall;
        private int disposed;

        internal Session(Runtime runtime, SessionHandle handle, bool ownsCall)
        {
            this.runtime = runtime;
            this.handle = handle;
            this.ownsCall = ownsCall;
            Id = ParleyNative.parley_session_id(handle);
        }

        public string Id { get; private set; }

        public bool IsDisposed { get { return handle.IsClosed; } }

        /// <summary>The session's state; Closed once this handle is disposed.</summary>
        public SessionState State
        {
            get
            {
                try { return (SessionState)ParleyNative.parley_session_get_state(handle); }
                catch (ObjectDisposedException) { return SessionState.Closed; }
            }
        }

        /// <summary>Queues agent audio (PCM16 mono at 8000, 16000, 22050, 24000, 44100 or 48000 Hz).</summary>
        public void Play(short[] samples, int sampleRate)
        {
            ParleyNative.parley_session_play(handle, samples, Count(samples), sampleRate);
        }

        /// <summary>Queues a named mark after the audio queued so far; a Mark event reports its outcome.</summary>
        public void SendMark(string name)
        {
            ParleyNative.parley_session_send_mark(handle, name);
        }

        /// <summary>
        /// Completes when mark <paramref name="name"/> is played or cleared, or with
        /// MarkOutcome.Timeout after <paramref name="timeout"/> (null: no limit). A mark returned
        /// by Speak is waited for while its text is still being synthesised (the engine queues it
        /// afterwards); if the TTS fails, the task faults with a ParleyException (Status.Provider,
        /// the provider's message) once the event thread or PollEvent has read the failure.
        /// </summary>
        public Task<MarkOutcome> WaitMarkAsync(string name, TimeSpan? timeout)
        {
            int timeoutMs = Timeouts.Millis(timeout);
            Utf8.Check(name);
            if (runtime.SpeakState(Id, name) != null)
                return Blocking.Run(handle, pointer => WaitSpoken(pointer, name, timeoutMs));
            return Blocking.Run(handle, pointer => (MarkOutcome)ParleyNative.parley_csharp_session_wait_mark(pointer, name, timeoutMs));
        }

        /// <summary>WaitMarkAsync of a Speak mark: the engine answers Unknown until synthesis has finished.</summary>
        private MarkOutcome WaitSpoken(IntPtr pointer, string name, int timeoutMs)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            bool rechecked = false;
            for (;;)
            {
                long leftMs = timeoutMs < 0 ? 50 : Math.Max(0, timeoutMs - clock.ElapsedMilliseconds);
                var outcome = (MarkOutcome)ParleyNative.parley_csharp_session_wait_mark(pointer, name, (int)Math.Min(50, leftMs));
                if (outcome == MarkOutcome.Played || outcome == MarkOutcome.Cleared)
                {
                    runtime.SpeakForget(Id, name);
                    return outcome;
                }
                if (outcome == MarkOutcome.Unknown)
                {
                    string state = runtime.SpeakState(Id, name);
                    if (state == null)
                    {
                        if (rechecked) return MarkOutcome.Unknown;
                        rechecked = true; // its Mark event may have been read since the engine said unknown
                        continue;
                    }
                    if (state.Length > 0)
                    {
                        runtime.SpeakForget(Id, name);
                        throw new ParleyException((int)Status.Provider, state);
                    }
                    if (ParleyNative.parley_csharp_session_state(pointer) == (int)SessionState.Closed)
                    {
                        runtime.SpeakForget(Id, name);
                        return MarkOutcome.Cleared; // the call ended before the text was spoken
                    }
                    Thread.Sleep(10);
                }
                if (timeoutMs >= 0 && clock.ElapsedMilliseconds >= timeoutMs) return MarkOutcome.Timeout;
            }
        }

        /// <summary>
        /// Speaks <paramref name="text"/> to the caller with a TTS provider (built-in, or implemented
        /// in C# and registered with Runtime.RegisterTts) as it is synthesised, then queues a mark.
        /// Returns the mark's name at once: WaitMarkAsync (or a Mark event) reports when the caller
        /// has heard it (waiting right away is fine); a provider failure arrives as a SessionError event whose payload is
        /// <c>{"error": {"kind", "provider", "message"}, "mark"}</c>.
        /// </summary>
        /// <param name="text">What to say.</param>
        /// <param name="optionsJson">null or e.g. <c>{"tts": {"provider": "my-voice"}, "mark": "greeting"}</c>
        /// (default TTS espeak, default mark "speak-N").</param>
        /// <exception cref="ParleyException">Status.NotFound (no such provider), Status.Config,
        /// Status.State (the session is closing).</exception>
        public string Speak(string text, string optionsJson = null)
        {
            string mark = ParleyNative.parley_swig_session_speak(handle, text, optionsJson);
            runtime.SpeakAdded(Id, mark);
            return mark;
        }

        /// <summary>Drops queued agent audio here and at the far end (barge-in); pending marks clear.</summary>
        public void Clear()
        {
            ParleyNative.parley_session_clear(handle);
        }

        /// <summary>Ends the call. Idempotent.</summary>
        public void HangUp(string reason = null)
        {
            ParleyNative.parley_session_hang_up(handle, reason);
        }

        /// <summary>Starts a stereo PCM16 WAV recording (caller left, agent right).</summary>
        public void StartRecording(string path)
        {
            ParleyNative.parley_session_start_recording(handle, path);
        }

        public void StopRecording()
        {
            ParleyNative.parley_session_stop_recording(handle);
        }

        /// <summary>
        /// Ends the call (hangs up if live) and completes when it has stopped: when its
        /// SessionStopped event is delivered or, with nothing subscribed, when its state is
        /// Closed. Completes at once on a disposed handle.
        /// </summary>
        public Task CloseAsync()
        {
            Task stopped = runtime.WhenStopped(Id);
            try
            {
                ParleyNative.parley_session_close(handle);
                if (ParleyNative.parley_session_get_state(handle) == (int)SessionState.Closed)
                {
                    runtime.StopWaitDone(Id);
                }
                else if (!runtime.IsDispatching)
                {
                    Task.Factory.StartNew(() =>
                    {
                        try
                        {
                            while (ParleyNative.parley_session_get_state(handle) != (int)SessionState.Closed) Thread.Sleep(2);
                        }
                        catch (ObjectDisposedException) { }
                        runtime.StopWaitDone(Id);
                    }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                }
            }
            catch (ObjectDisposedException)
            {
                runtime.StopWaitDone(Id);
            }
            return stopped;
        }

        /// <summary>
        /// Releases the handle; for a host-transport session created by it, also ends the call
        /// (so that waits in flight resolve). The native handle is freed once calls in flight
        /// return. Idempotent.
        /// </summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) != 0) return;
            if (ownsCall)
            {
                bool added = false;
                try
                {
                    handle.DangerousAddRef(ref added);
                    ParleyNative.parley_csharp_session_close(handle.DangerousGetHandle());
                }
                catch (ObjectDisposedException) { }
                finally
                {
                    if (added) handle.DangerousRelease();
                }
            }
            handle.Dispose();
            runtime.Forget(this);
            runtime.SpeakForgetSession(Id);
        }

        // ---- Host transport ----

        /// <summary>Host transport: caller audio, PCM16 mono at <paramref name="sampleRate"/>. Copied.</summary>
        public void PushAudio(short[] samples, int sampleRate)
        {
            ParleyNative.parley_session_push_audio(handle, samples, Count(samples), sampleRate);
        }

        /// <summary>Host transport: caller audio as G.711 bytes (8000 Hz for telephony).</summary>
        public void PushG711(byte[] bytes, G711 encoding, int sampleRate)
        {
            ParleyNative.parley_session_push_g711(handle, bytes, bytes == null ? 0u : (uint)bytes.Length, (int)encoding, sampleRate);
        }

        /// <summary>Host transport: the caller pressed <paramref name="digit"/> (0-9 * # A-D).</summary>
        public void PushDtmf(string digit)
        {
            ParleyNative.parley_session_push_dtmf(handle, digit);
        }

        /// <summary>Host transport: the audio before mark <paramref name="name"/> (from an AudioMark event) has played.</summary>
        public void PushMarkPlayed(string name)
        {
            ParleyNative.parley_session_push_mark_played(handle, name);
        }

        /// <summary>
        /// Answers a ToolCall event of an agent session: <paramref name="resultJson"/> is what the
        /// tool returned, any JSON value (the model sees it as the tool message's content). An
        /// answer after the tool's timeout, or for an unknown id, is ignored by the engine.
        /// </summary>
        /// <exception cref="ParleyException">Status.Format (not JSON), Status.State (the session
        /// runs no agent, or is closed).</exception>
        public void ToolResult(string toolCallId, string resultJson)
        {
            ParleyNative.parley_session_tool_result(handle, toolCallId, resultJson);
        }

        private static uint Count(short[] samples)
        {
            return samples == null ? 0u : (uint)samples.Length;
        }
    }
}
