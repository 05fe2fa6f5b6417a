'use strict';
const { EventEmitter } = require('node:events');
const native = require('./native');
const { stateError } = require('./errors');
const { configJson } = require('./util');

const ReportFormat = Object.freeze({ json: 0, text: 1 });

/**
 * The TTFT budget controller (parley_budget_*), usable without a runtime. Callbacks run
 * synchronously inside prepare()/recordTtft() on the calling thread:
 *   'compression' (event)  {"action": "compress" | "rollback", ...}
 *   'violation' (event)    {"kind": "ttft_over_target" | "budget_unreachable", ...}
 * An exception thrown by a listener is rethrown by the prepare()/recordTtft() call.
 */
class Budget extends EventEmitter {
  constructor(config) {
    super();
    this._native = new native.NativeBudget(configJson(config, 'budget config'));
    this._closed = false;
    const emitJson = (name) => (json) => this.emit(name, JSON.parse(json));
    this._native.setCallbacks(emitJson('compression'), emitJson('violation'));
  }

  get closed() {
    return this._closed;
  }

  /**
   * What to send for the next LLM call: `messages` is an OpenAI-style messages array (or its
   * JSON); returns the array to send.
   */
  prepare(messages) {
    const json = typeof messages === 'string' || messages === null || messages === undefined ? messages : JSON.stringify(messages);
    return JSON.parse(this._native.prepare(json === undefined ? null : json));
  }

  /** The measured time to first token of the call prepared last (promptTokens -1: as prepared). */
  recordTtft(ttftMs, promptTokens = -1) {
    this._native.recordTtft(ttftMs, promptTokens);
  }

  /** {"model", "samples", "p50_ms", "p95_ms", "p99_ms", ..., "tokenizer": {...}} */
  stats() {
    return JSON.parse(this._native.stats());
  }

  /** The session report: an object ('json', default) or aligned text ('text'). */
  report(format = 'json') {
    const code = typeof format === 'string' ? ReportFormat[format] : format;
    if (code === undefined) throw new TypeError("format must be 'json' or 'text'");
    const out = this._native.report(code);
    return code === ReportFormat.json ? JSON.parse(out) : out;
  }

  countTokens(text) {
    return this._native.countTokens(text);
  }

  selectModel(provider, model = null) {
    this._native.selectModel(provider, model);
  }

  /**
   * embed(text) -> Float32Array | number[] | null, for "scorer": "embeddings". Runs inside
   * prepare(); it must not call this budget (such calls throw).
   */
  setEmbedder(embed) {
    this._native.setEmbedder(embed || null);
  }

  /**
   * summarize(requestId, messages): start summarising `messages` (the oldest ones compression
   * removed) and later call provideSummary(requestId, text). Must return at once.
   */
  setSummarizer(summarize) {
    this._native.setSummarizer(summarize ? (id, json) => summarize(id, JSON.parse(json)) : null);
  }

  provideSummary(requestId, summary) {
    this._native.provideSummary(requestId, summary);
  }

  /** Frees the controller. Closing twice throws a PARLEY_ESTATE ParleyError. */
  close() {
    if (this._closed) throw stateError('budget is closed');
    this._native.destroy();
    this._closed = true;
  }
}

module.exports = { Budget, ReportFormat };
