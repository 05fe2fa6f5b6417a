using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Threading;
using System.Threading.Tasks;

namespace Parley
{
    /// <summary>
    /// A voice implemented in C#: register it with Runtime.RegisterTts; configs then name it like
    /// a built-in voice (<c>{"tts": {"provider": "my-voice"}}</c>, e.g. in Session.Speak).
    /// </summary>
    public interface ITtsProvider
    {
        /// <summary>
        /// Speaks request.Text: push PCM16 mono at request.SampleRate with request.PushAudio, then
        /// complete the task (the request completes). A faulted task fails the request: the
        /// session gets a SessionError event carrying the exception's message. Runs on the
        /// thread pool, never an engine thread. <paramref name="cancellationToken"/> is cancelled
        /// when the engine no longer wants the answer; later pushes are ignored.
        /// </summary>
        Task SynthesizeAsync(TtsRequest request, CancellationToken cancellationToken);
    }

    /// <summary>A language model implemented in C# (Runtime.RegisterLlm).</summary>
    public interface ILlmProvider
    {
        /// <summary>
        /// Answers request.Messages: stream text with PushText and tool calls with PushToolCall,
        /// then complete the task (or call request.Finish to report token usage).
        /// </summary>
        Task CompleteAsync(LlmRequest request, CancellationToken cancellationToken);
    }

    /// <summary>A speech recogniser implemented in C# (Runtime.RegisterStt).</summary>
    public interface ISttProvider
    {
        /// <summary>
        /// Recognises one stream: await request.ReadAsync() until it returns null (the engine
        /// ended the stream; the token is cancelled too) and push transcripts with
        /// PushTranscript. Completing earlier ends the stream from this side.
        /// </summary>
        Task RecognizeAsync(SttRequest request, CancellationToken cancellationToken);
    }

    /// <summary>
    /// One request to a host-implemented provider, answered by id from any thread. The Push
    /// methods fit the provider's kind (the engine rejects others with Status.InvalidArgument).
    /// For a request dispatched to a C# implementation, an answer after the engine cancelled
    /// the request is ignored (the engine's Status.NotFound is swallowed and the request's
    /// token is cancelled). A handle from Runtime.ProviderRequest(id) throws every failure.
    /// </summary>
    public class ProviderRequest
    {
        private readonly ProviderDispatcher.IAnswers answers;
        private readonly bool dispatched;
        private readonly CancellationTokenSource cancelled = new CancellationTokenSource();
        private int completed;

        internal ProviderRequest(long id, string kind, string provider, string sessionId, string payload,
                                 ProviderDispatcher.IAnswers answers, bool dispatched)
        {
            Id = id;
            Kind = kind;
            Provider = provider;
            SessionId = sessionId ?? "";
            Payload = payload ?? "{}";
            this.answers = answers;
            this.dispatched = dispatched;
        }

        /// <summary>The request id (the payload's "request").</summary>
        public long Id { get; private set; }

        /// <summary>"llm", "tts" or "stt".</summary>
        public string Kind { get; private set; }

        /// <summary>The name the provider was registered under.</summary>
        public string Provider { get; private set; }

        /// <summary>The requesting session ("" outside a call).</summary>
        public string SessionId { get; private set; }

        /// <summary>The request's JSON payload, as parley.h documents it.</summary>
        public string Payload { get; private set; }

        /// <summary>Whether the engine cancelled the request (or the runtime was disposed).</summary>
        public bool IsCancelled { get { return cancelled.IsCancellationRequested; } }

        /// <summary>Cancelled when the engine cancels the request or the runtime is disposed.</summary>
        public CancellationToken CancellationToken { get { return cancelled.Token; } }

        /// <summary>TTS answer: PCM16 mono at the provider's sample rate (copied).</summary>
        public void PushAudio(short[] samples)
        {
            Answer(false, a => a.PushAudio(Id, samples));
        }

        /// <summary>LLM answer: a text delta.</summary>
        public void PushText(string text)
        {
            Answer(false, a => a.PushText(Id, text));
        }

        /// <summary>
        /// LLM answer: a fragment of tool call <paramref name="index"/> (0..127): callId and name
        /// once (null afterwards), arguments JSON text in pieces.
        /// </summary>
        public void PushToolCall(int index, string callId, string name, string arguments)
        {
            Answer(false, a => a.PushToolCall(Id, index, callId, name, arguments));
        }

        /// <summary>STT answer: a transcript; speechFinal when the utterance ended.</summary>
        public void PushTranscript(string text, bool isFinal, bool speechFinal)
        {
            Answer(false, a => a.PushTranscript(Id, text, isFinal, speechFinal));
        }

        /// <summary>
        /// Ends the request successfully; <paramref name="detailJson"/> is null or, for an LLM,
        /// <c>{"finish_reason": "stop", "usage": {"prompt_tokens": N, "completion_tokens": M}}</c>.
        /// An implementation whose task completes is completed for it.
        /// </summary>
        public void Complete(string detailJson = null)
        {
            Answer(true, a => a.Complete(Id, (int)Status.Ok, detailJson));
        }

        /// <summary>Fails the request; the message is what the session's error event carries.</summary>
        public void Fail(string message, Status status = Status.Provider)
        {
            int code = status == Status.Ok ? (int)Status.Provider : (int)status;
            Answer(true, a => a.Complete(Id, code, message ?? ""));
        }

        internal bool IsCompleted { get { return Volatile.Read(ref completed) != 0; } }

        internal virtual void MarkCancelled()
        {
            try { cancelled.Cancel(); }
            catch (AggregateException) { /* a registration callback threw: not ours to report */ }
        }

        private void Answer(bool ends, Action<ProviderDispatcher.IAnswers> call)
        {
            if (ends && dispatched && Interlocked.Exchange(ref completed, 1) != 0)
                throw new ParleyException((int)Status.NotFound, "host provider request " + Id + " is already complete");
            try
            {
                call(answers);
            }
            catch (ParleyException e) when (dispatched && e.Status == Status.NotFound && (ends || !IsCompleted))
            {
                // Unknown to the engine although this side did not end it: the engine cancelled
                // it (its cancel request may still be on the way).
                MarkCancelled();
            }
            catch (ObjectDisposedException) when (dispatched)
            {
                MarkCancelled(); // the runtime was disposed
            }
        }

        public override string ToString()
        {
            return Kind + " request " + Id + " for " + Provider;
        }
    }

    /// <summary>A request to speak Text; answer with PushAudio.</summary>
    public sealed class TtsRequest : ProviderRequest
    {
        internal TtsRequest(long id, string provider, string sessionId, string payload, ProviderDispatcher.IAnswers answers,
                            string text, int sampleRate)
            : base(id, "tts", provider, sessionId, payload, answers, true)
        {
            Text = text ?? "";
            SampleRate = sampleRate;
        }

        public string Text { get; private set; }

        /// <summary>The rate registered for this voice: push audio at this rate.</summary>
        public int SampleRate { get; private set; }
    }

    /// <summary>A tool call of an earlier assistant message.</summary>
    public sealed class LlmToolCall
    {
        internal LlmToolCall(string id, string name, string arguments)
        {
            Id = id;
            Name = name;
            Arguments = arguments;
        }

        public string Id { get; private set; }
        public string Name { get; private set; }
        public string Arguments { get; private set; }
    }

    /// <summary>One message of an LLM request (OpenAI's chat shape).</summary>
    public sealed class LlmMessage
    {
        internal LlmMessage(string role, string content, string toolCallId, IList<LlmToolCall> toolCalls)
        {
            Role = role;
            Content = content;
            ToolCallId = toolCallId;
            ToolCalls = new ReadOnlyCollection<LlmToolCall>(toolCalls);
        }

        /// <summary>"system", "user", "assistant" or "tool".</summary>
        public string Role { get; private set; }
        public string Content { get; private set; }
        public string ToolCallId { get; private set; }
        public IReadOnlyList<LlmToolCall> ToolCalls { get; private set; }
    }

    /// <summary>
    /// A request to complete Messages; answer with PushText and PushToolCall. MessagesJson and
    /// ToolsJson give the OpenAI-shaped messages and tools as JSON, to forward to a model API.
    /// </summary>
    public sealed class LlmRequest : ProviderRequest
    {
        internal LlmRequest(long id, string provider, string sessionId, string payload, ProviderDispatcher.IAnswers answers,
                            Dictionary<string, object> body)
            : base(id, "llm", provider, sessionId, payload, answers, true)
        {
            var messages = new List<LlmMessage>();
            foreach (object item in MiniJson.Array(MiniJson.Get(body, "messages")))
            {
                Dictionary<string, object> m = MiniJson.Object(item);
                var calls = new List<LlmToolCall>();
                foreach (object call in MiniJson.Array(MiniJson.Get(m, "tool_calls")))
                {
                    Dictionary<string, object> c = MiniJson.Object(call);
                    Dictionary<string, object> f = MiniJson.Object(MiniJson.Get(c, "function"));
                    calls.Add(new LlmToolCall(MiniJson.String(MiniJson.Get(c, "id")), MiniJson.String(MiniJson.Get(f, "name")),
                                              MiniJson.String(MiniJson.Get(f, "arguments"))));
                }
                messages.Add(new LlmMessage(MiniJson.String(MiniJson.Get(m, "role")), MiniJson.String(MiniJson.Get(m, "content")),
                                            MiniJson.String(MiniJson.Get(m, "tool_call_id")), calls));
            }
            Messages = messages.AsReadOnly();
            MessagesJson = MiniJson.Write(MiniJson.Get(body, "messages") ?? new List<object>());
            ToolsJson = MiniJson.Write(MiniJson.Get(body, "tools") ?? new List<object>());
        }

        public IReadOnlyList<LlmMessage> Messages { get; private set; }

        /// <summary>The messages as a JSON array.</summary>
        public string MessagesJson { get; private set; }

        /// <summary>The tools the model may call, as a JSON array.</summary>
        public string ToolsJson { get; private set; }

        /// <summary>Completes the request with its finish reason (null: the engine's default) and token usage.</summary>
        public void Finish(string finishReason, long promptTokens, long completionTokens)
        {
            var detail = new SortedDictionary<string, object>(StringComparer.Ordinal);
            if (finishReason != null) detail["finish_reason"] = finishReason;
            detail["usage"] = new SortedDictionary<string, object>(StringComparer.Ordinal)
            {
                { "completion_tokens", completionTokens },
                { "prompt_tokens", promptTokens },
            };
            Complete(MiniJson.Write(detail));
        }
    }

    /// <summary>
    /// One piece of an STT stream: caller audio (PCM16 mono at the request's sample rate), or
    /// the end of the caller's utterance (IsFinalize: flush and push a final transcript).
    /// </summary>
    public sealed class SttInput
    {
        private static readonly short[] None = new short[0];
        internal static readonly SttInput FinalizeMarker = new SttInput(None, true);

        internal SttInput(short[] audio, bool isFinalize)
        {
            Audio = audio ?? None;
            IsFinalize = isFinalize;
        }

        /// <summary>The samples (empty for a finalize marker).</summary>
        public short[] Audio { get; private set; }

        public bool IsFinalize { get; private set; }
    }

    /// <summary>An STT stream: ReadAsync its input, answer with PushTranscript.</summary>
    public sealed class SttRequest : ProviderRequest
    {
        private readonly ConcurrentQueue<SttInput> input = new ConcurrentQueue<SttInput>();
        private readonly SemaphoreSlim available = new SemaphoreSlim(0);
        private volatile bool ended;

        internal SttRequest(long id, string provider, string sessionId, string payload, ProviderDispatcher.IAnswers answers,
                            int sampleRate)
            : base(id, "stt", provider, sessionId, payload, answers, true)
        {
            SampleRate = sampleRate;
        }

        /// <summary>The rate of the audio this stream receives.</summary>
        public int SampleRate { get; private set; }

        /// <summary>Whether the stream has ended (ReadAsync returns null from now on).</summary>
        public bool IsEnded { get { return ended && input.IsEmpty; } }

        /// <summary>
        /// The next piece of input, in order; null once the engine ended the stream (or the
        /// runtime was disposed). Throws OperationCanceledException when <paramref name="cancellationToken"/> is.
        /// </summary>
        public async Task<SttInput> ReadAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            for (;;)
            {
                SttInput next;
                if (ended) return null;
                if (input.TryDequeue(out next)) return next;
                await available.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        internal void Offer(SttInput item)
        {
            if (ended) return;
            input.Enqueue(item);
            available.Release();
        }

        internal void EndInput()
        {
            ended = true;
            available.Release();
        }

        internal override void MarkCancelled()
        {
            base.MarkCancelled();
            EndInput();
        }
    }

    /// <summary>
    /// Dispatches ProviderRequest events to providers implemented in C#: each request runs on
    /// the thread pool; STT audio and finalize go to the running request's input in order; a
    /// cancel request cancels it. Dispatch is called on the runtime's event thread only.
    /// </summary>
    internal sealed class ProviderDispatcher
    {
        /// <summary>Sends answers to the engine (the runtime; a fake in unit tests). Failures throw.</summary>
        internal interface IAnswers
        {
            void PushAudio(long request, short[] samples);
            void PushText(long request, string text);
            void PushToolCall(long request, int index, string callId, string name, string arguments);
            void PushTranscript(long request, string text, bool isFinal, bool speechFinal);
            void Complete(long request, int status, string detail);
        }

        private sealed class Registered
        {
            internal object Implementation;
            internal int SampleRate;
        }

        private readonly IAnswers answers;
        private readonly ConcurrentDictionary<string, Registered> registered = new ConcurrentDictionary<string, Registered>();
        private readonly ConcurrentDictionary<long, ProviderRequest> active = new ConcurrentDictionary<long, ProviderRequest>();
        private volatile bool closed;

        internal ProviderDispatcher(IAnswers answers)
        {
            this.answers = answers;
        }

        /// <summary>Registers (or, with null, forgets) the implementation of provider kind/name.</summary>
        internal void Set(string kind, string name, object implementation, int sampleRate)
        {
            string key = kind + "/" + name;
            Registered ignored;
            if (implementation == null) registered.TryRemove(key, out ignored);
            else registered[key] = new Registered { Implementation = implementation, SampleRate = sampleRate };
        }

        /// <summary>Takes a provider request for a C# implementation; false for any other event.</summary>
        internal bool Dispatch(ParleyEvent ev)
        {
            if (ev.Type != EventType.ProviderRequest) return false;
            Dictionary<string, object> body;
            try { body = MiniJson.Object(MiniJson.Parse(ev.Payload)); }
            catch (FormatException) { return false; }
            string kind = MiniJson.String(MiniJson.Get(body, "kind"));
            string provider = MiniJson.String(MiniJson.Get(body, "provider"));
            Registered target;
            if (kind == null || provider == null || !registered.TryGetValue(kind + "/" + provider, out target)) return false;
            long id = MiniJson.Number(MiniJson.Get(body, "request"), 0);
            ProviderRequest request;
            switch (MiniJson.String(MiniJson.Get(body, "op")))
            {
                case "synthesize":
                case "complete":
                case "start":
                    Start(MiniJson.String(MiniJson.Get(body, "op")), id, provider, ev, body, target);
                    break;
                case "audio":
                    if (active.TryGetValue(id, out request) && request is SttRequest) ((SttRequest)request).Offer(new SttInput(ev.Audio, false));
                    break;
                case "finalize":
                    if (active.TryGetValue(id, out request) && request is SttRequest) ((SttRequest)request).Offer(SttInput.FinalizeMarker);
                    break;
                case "cancel":
                    if (active.TryRemove(id, out request)) request.MarkCancelled();
                    break;
                default:
                    break; // an operation newer than this binding: nothing to do
            }
            return true;
        }

        private void Start(string op, long id, string provider, ParleyEvent ev, Dictionary<string, object> body, Registered target)
        {
            ProviderRequest request;
            Func<Task> work;
            var tts = target.Implementation as ITtsProvider;
            var llm = target.Implementation as ILlmProvider;
            var stt = target.Implementation as ISttProvider;
            if (op == "synthesize" && tts != null)
            {
                var r = new TtsRequest(id, provider, ev.SessionId, ev.Payload, answers, MiniJson.String(MiniJson.Get(body, "text")), target.SampleRate);
                request = r;
                work = () => tts.SynthesizeAsync(r, r.CancellationToken);
            }
            else if (op == "complete" && llm != null)
            {
                var r = new LlmRequest(id, provider, ev.SessionId, ev.Payload, answers, body);
                request = r;
                work = () => llm.CompleteAsync(r, r.CancellationToken);
            }
            else if (op == "start" && stt != null)
            {
                var r = new SttRequest(id, provider, ev.SessionId, ev.Payload, answers,
                                       (int)MiniJson.Number(MiniJson.Get(body, "sample_rate"), target.SampleRate));
                request = r;
                work = () => stt.RecognizeAsync(r, r.CancellationToken);
            }
            else
            {
                return;
            }
            active[id] = request;
            if (closed) request.MarkCancelled();
            Task.Run(() => Run(request, work));
        }

        private async Task Run(ProviderRequest request, Func<Task> work)
        {
            Exception failure = null;
            try
            {
                Task task = work();
                if (task != null) await task.ConfigureAwait(false);
            }
            catch (Exception e)
            {
                failure = e;
            }
            ((ICollection<KeyValuePair<long, ProviderRequest>>)active).Remove(new KeyValuePair<long, ProviderRequest>(request.Id, request));
            var stt = request as SttRequest;
            if (stt != null) stt.EndInput();
            Finish(request, failure);
        }

        /// <summary>Completes a request whose implementation finished, unless cancelled or already complete.</summary>
        private static void Finish(ProviderRequest request, Exception failure)
        {
            if (request.IsCancelled || request.IsCompleted) return;
            try
            {
                if (failure == null)
                {
                    request.Complete();
                }
                else
                {
                    var parley = failure as ParleyException;
                    string message = string.IsNullOrEmpty(failure.Message) ? failure.GetType().Name : failure.Message;
                    request.Fail(message, parley != null ? parley.Status : Status.Provider);
                }
            }
            catch (ParleyException)
            {
                // Nothing left to tell the engine (e.g. it rejected the detail JSON).
            }
        }

        /// <summary>The runtime is being disposed: every request in flight is cancelled.</summary>
        internal void Close()
        {
            closed = true;
            foreach (ProviderRequest request in active.Values) request.MarkCancelled();
            active.Clear();
        }
    }
}
