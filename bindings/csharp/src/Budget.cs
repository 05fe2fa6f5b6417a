using System;

namespace Parley
{
    /// <summary>
    /// A TTFT budget controller (docs/budget.md): keeps a percentile of the model's time to
    /// first token under a target by compressing the conversation only as much as needed.
    /// Standalone: needs no runtime. Thread-safe. Undisposed budgets are freed by the
    /// SafeHandle's finaliser.
    /// </summary>
    public sealed class Budget : IDisposable
    {
        private readonly BudgetHandle handle;

        private Budget(BudgetHandle handle)
        {
            this.handle = handle;
        }

        /// <summary>A controller from a JSON configuration (null or "{}" for defaults).</summary>
        public static Budget Create(string configJson = null)
        {
            return new Budget(ParleyNative.parley_swig_budget_create(configJson));
        }

        public bool IsDisposed { get { return handle.IsClosed; } }

        /// <summary>The messages to send for the next LLM call (a JSON array), from an OpenAI-style history.</summary>
        public string Prepare(string messagesJson)
        {
            return ParleyNative.parley_swig_budget_prepare(handle, messagesJson);
        }

        /// <summary>Records the measured time to first token of the call prepared last (-1: the size Prepare computed).</summary>
        public void RecordTtft(double ttftMs, long promptTokens = -1)
        {
            ParleyNative.parley_budget_record_ttft(handle, ttftMs, promptTokens);
        }

        /// <summary>Current statistics of the selected model (JSON).</summary>
        public string StatsJson()
        {
            return ParleyNative.parley_swig_budget_stats_json(handle);
        }

        public string Report(ReportFormat format = ReportFormat.Json)
        {
            return ParleyNative.parley_swig_budget_report(handle, (int)format);
        }

        /// <summary>Tokens of <paramref name="text"/> with the controller's tokenizer (exact or estimated).</summary>
        public long CountTokens(string text)
        {
            return ParleyNative.parley_swig_budget_count_tokens(handle, text);
        }

        /// <summary>Switches the latency curve the decisions use (<paramref name="model"/> may be null).</summary>
        public void SelectModel(string provider, string model)
        {
            ParleyNative.parley_budget_select_model(handle, provider, model);
        }

        /// <summary>Supplies the summary for a summariser request (an empty summary declines it).</summary>
        public void ProvideSummary(long requestId, string summary)
        {
            ParleyNative.parley_budget_provide_summary(handle, requestId, summary);
        }

        public void Dispose()
        {
            handle.Dispose();
        }
    }
}
