namespace Parley
{
    /// <summary>Event types (values from parley.h).</summary>
    public enum EventType
    {
        None = ParleyNative.PARLEY_EVENT_NONE,
        RuntimeError = ParleyNative.PARLEY_EVENT_RUNTIME_ERROR,
        User = ParleyNative.PARLEY_EVENT_USER,
        Overflow = ParleyNative.PARLEY_EVENT_OVERFLOW,
        SessionStarted = ParleyNative.PARLEY_EVENT_SESSION_STARTED,
        SessionStopped = ParleyNative.PARLEY_EVENT_SESSION_STOPPED,
        SessionError = ParleyNative.PARLEY_EVENT_SESSION_ERROR,
        SessionRejected = ParleyNative.PARLEY_EVENT_SESSION_REJECTED,
        Dtmf = ParleyNative.PARLEY_EVENT_DTMF,
        Mark = ParleyNative.PARLEY_EVENT_MARK,
        Audio = ParleyNative.PARLEY_EVENT_AUDIO,
        CallerAudio = ParleyNative.PARLEY_EVENT_CALLER_AUDIO,
        AudioMark = ParleyNative.PARLEY_EVENT_AUDIO_MARK,
        AudioClear = ParleyNative.PARLEY_EVENT_AUDIO_CLEAR,
        /// <summary>A request for a provider registered without an implementation (Runtime.RegisterProvider with null).</summary>
        ProviderRequest = ParleyNative.PARLEY_EVENT_PROVIDER_REQUEST,
        /// <summary>Agent sessions: the agent changed state; payload {"state": "idle"|"listening"|"thinking"|"speaking", "turn"}.</summary>
        AgentState = ParleyNative.PARLEY_EVENT_AGENT_STATE,
        /// <summary>Agent sessions: a line of the conversation; payload {"role": "user"|"agent", "text", "final", "turn"}.</summary>
        Transcript = ParleyNative.PARLEY_EVENT_TRANSCRIPT,
        /// <summary>Agent sessions: a turn ended; payload {"turn", "user_text", "agent_text", "heard_text", "interrupted", "latency_ms", "tokens_in", "tokens_out", "tool_calls"}.</summary>
        Turn = ParleyNative.PARLEY_EVENT_TURN,
        /// <summary>Agent sessions: the model called a host tool; payload {"id", "name", "arguments"}. Answer with Session.ToolResult.</summary>
        ToolCall = ParleyNative.PARLEY_EVENT_TOOL_CALL,
        /// <summary>Agent sessions: the caller interrupted the agent; payload {"turn", "heard_text", "resumed"}.</summary>
        Interruption = ParleyNative.PARLEY_EVENT_INTERRUPTION,
        /// <summary>Host-transport agent sessions: the agent's send_dtmf tool; send these touch tones on the call with the host's own telephony; payload {"digits": "12#"}. Comes after the agent audio delivered before it.</summary>
        SendDtmf = ParleyNative.PARLEY_EVENT_SEND_DTMF,
        /// <summary>Host-transport agent sessions: the agent's transfer tool; move the call to payload {"target"}. Comes once the agent's last words before it have played; the agent says nothing more.</summary>
        Transfer = ParleyNative.PARLEY_EVENT_TRANSFER,
    }

    /// <summary>Outcome of a playback mark.</summary>
    public enum MarkOutcome
    {
        Pending = ParleyNative.PARLEY_MARK_PENDING,
        Played = ParleyNative.PARLEY_MARK_PLAYED,
        Cleared = ParleyNative.PARLEY_MARK_CLEARED,
        Timeout = ParleyNative.PARLEY_MARK_TIMEOUT,
        Unknown = ParleyNative.PARLEY_MARK_UNKNOWN,
    }

    public enum SessionState
    {
        Connecting = ParleyNative.PARLEY_SESSION_CONNECTING,
        Active = ParleyNative.PARLEY_SESSION_ACTIVE,
        Closing = ParleyNative.PARLEY_SESSION_CLOSING,
        Closed = ParleyNative.PARLEY_SESSION_CLOSED,
    }

    /// <summary>G.711 encodings for Session.PushG711.</summary>
    public enum G711
    {
        Ulaw = ParleyNative.PARLEY_G711_ULAW,
        Alaw = ParleyNative.PARLEY_G711_ALAW,
    }

    public enum LogLevel
    {
        Trace = ParleyNative.PARLEY_LOG_TRACE,
        Debug = ParleyNative.PARLEY_LOG_DEBUG,
        Info = ParleyNative.PARLEY_LOG_INFO,
        Warn = ParleyNative.PARLEY_LOG_WARN,
        Error = ParleyNative.PARLEY_LOG_ERROR,
        Off = ParleyNative.PARLEY_LOG_OFF,
    }

    /// <summary>Formats of Budget.Report.</summary>
    public enum ReportFormat
    {
        Json = ParleyNative.PARLEY_BUDGET_REPORT_JSON,
        Text = ParleyNative.PARLEY_BUDGET_REPORT_TEXT,
    }
}
