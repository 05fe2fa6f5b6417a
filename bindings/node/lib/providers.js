'use strict';
// Host-implemented providers: TTS, LLM and STT written in JavaScript. The engine's requests
// arrive as provider_request events through the runtime's poll thread (event mode: no engine
// thread ever calls into JS); the dispatcher runs each on the JS thread as an async function
// and sends its answers back by request id.
const { ParleyError, Status } = require('./errors');
const { EventType } = require('./events');

const kinds = { tts: 'synthesize', llm: 'complete', stt: 'recognize' };

/**
 * One request to a host-implemented provider, answered by id. Push methods fit the provider's
 * kind (the engine rejects others with PARLEY_EINVAL). For a request dispatched to a JS
 * implementation, an answer after the engine cancelled the request is ignored: the engine's
 * PARLEY_ENOTFOUND is swallowed and `signal` aborts. A request from
 * runtime.providerRequest(id) throws every failure.
 */
class ProviderRequest {
  /** @internal */
  constructor(answers, id, payload, sessionId, dispatched) {
    this._answers = answers;
    this._dispatched = dispatched;
    this._controller = new AbortController();
    this._completed = false;
    /** The request id (a Number; the payload's "request"). */
    this.id = id;
    /** 'llm' | 'tts' | 'stt' */
    this.kind = payload.kind;
    /** The name the provider was registered under. */
    this.provider = payload.provider;
    /** The requesting session ('' outside a call). */
    this.sessionId = sessionId || '';
    /** The request's payload (parsed JSON), as parley.h documents it. */
    this.payload = payload;
  }

  /** Aborts when the engine cancels the request or the runtime closes. */
  get signal() {
    return this._controller.signal;
  }

  get cancelled() {
    return this._controller.signal.aborted;
  }

  /** TTS answer: PCM16 mono (Int16Array) at the provider's sample rate (copied). */
  pushAudio(samples) {
    this._answer(false, (a) => a.pushAudio(this.id, samples));
  }

  /** LLM answer: a text delta. */
  pushText(text) {
    this._answer(false, (a) => a.pushText(this.id, text));
  }

  /** LLM answer: a fragment of tool call `index` (0..127): id and name once, arguments in pieces. */
  pushToolCall(index, callId, name, args) {
    this._answer(false, (a) => a.pushToolCall(this.id, index, callId ?? null, name ?? null, args ?? null));
  }

  /** STT answer: a transcript; speechFinal when the utterance ended. */
  pushTranscript(text, isFinal = false, speechFinal = false) {
    this._answer(false, (a) => a.pushTranscript(this.id, text, Boolean(isFinal), Boolean(speechFinal)));
  }

  /**
   * Ends the request successfully. detail: null, or for an LLM {finish_reason, usage:
   * {prompt_tokens, completion_tokens}} (an object or a JSON string). An implementation that
   * resolves is completed for it.
   */
  complete(detail = null) {
    const json = detail === null || detail === undefined || typeof detail === 'string' ? detail ?? null : JSON.stringify(detail);
    this._answer(true, (a) => a.complete(this.id, Status.PARLEY_OK, json));
  }

  /** Fails the request; `message` is what the session's error event carries. */
  fail(message, status = 'PARLEY_EPROVIDER') {
    let code = typeof status === 'number' ? status : Status[status];
    if (code === undefined || code === Status.PARLEY_OK) code = Status.PARLEY_EPROVIDER;
    this._answer(true, (a) => a.complete(this.id, code, String(message ?? '')));
  }

  /** @internal */
  _answer(ends, call) {
    if (ends && this._dispatched) {
      if (this._completed) throw new ParleyError(`host provider request ${this.id} is already complete`, Status.PARLEY_ENOTFOUND);
      this._completed = true;
    }
    try {
      call(this._answers);
    } catch (error) {
      const gone = error instanceof ParleyError &&
        (error.statusCode === Status.PARLEY_ENOTFOUND || error.statusCode === Status.PARLEY_ESTATE);
      if (!this._dispatched || !gone || (!ends && this._completed)) throw error;
      // Unknown to the engine although this side did not end it: the engine cancelled it
      // (its cancel request may still be on the way), or the runtime is closing.
      this._cancel();
    }
  }

  /** @internal */
  _cancel() {
    if (!this._controller.signal.aborted) this._controller.abort(new ParleyError('the request was cancelled', Status.PARLEY_ECANCELLED));
  }
}

/** A request to speak `text`; answer with pushAudio(). */
class TtsRequest extends ProviderRequest {
  constructor(answers, id, payload, sessionId, sampleRate) {
    super(answers, id, payload, sessionId, true);
    this.text = payload.text || '';
    /** The rate registered for this voice: push audio at this rate. */
    this.sampleRate = sampleRate;
  }
}

/** A request to complete `messages` (OpenAI's chat shape); answer with pushText()/pushToolCall(). */
class LlmRequest extends ProviderRequest {
  constructor(answers, id, payload, sessionId) {
    super(answers, id, payload, sessionId, true);
    this.messages = payload.messages || [];
    this.tools = payload.tools || [];
    this.temperature = payload.temperature;
    this.maxTokens = payload.max_tokens;
  }

  /** Completes with the finish reason (null: the engine's default) and token usage. */
  finish(finishReason, promptTokens, completionTokens) {
    const detail = { usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens } };
    if (finishReason) detail.finish_reason = finishReason;
    this.complete(detail);
  }
}

/**
 * An STT stream. `for await (const input of request)` (or request.input) yields
 * {audio: Int16Array} and {finalize: true} in order, and ends when the engine ends the stream.
 */
class SttRequest extends ProviderRequest {
  constructor(answers, id, payload, sessionId, sampleRate) {
    super(answers, id, payload, sessionId, true);
    this.sampleRate = payload.sample_rate || sampleRate;
    this._queue = [];
    this._waiter = null;
    this._ended = false;
  }

  /** @internal */
  _offer(item) {
    if (this._ended) return;
    if (this._waiter) {
      const resolve = this._waiter;
      this._waiter = null;
      resolve({ value: item, done: false });
    } else {
      this._queue.push(item);
    }
  }

  /** @internal */
  _end() {
    this._ended = true;
    this._queue.length = 0;
    if (this._waiter) {
      const resolve = this._waiter;
      this._waiter = null;
      resolve({ value: undefined, done: true });
    }
  }

  /** @internal */
  _cancel() {
    super._cancel();
    this._end();
  }

  /** The next input: {audio} or {finalize: true}; null once the stream ended. */
  async read() {
    const { value, done } = await this._next();
    return done ? null : value;
  }

  _next() {
    if (this._queue.length > 0) return Promise.resolve({ value: this._queue.shift(), done: false });
    if (this._ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this._waiter = resolve;
    });
  }

  get input() {
    return this;
  }

  [Symbol.asyncIterator]() {
    return { next: () => this._next(), return: async () => ({ value: undefined, done: true }) };
  }
}

/**
 * Routes provider_request events to JS implementations (one per kind/name). Requests run as
 * async functions; STT audio and finalize go to the running request in order; a cancel
 * aborts its signal. `answers` sends answers to the engine (the runtime, or a fake in tests).
 */
class ProviderDispatcher {
  constructor(answers, onError = (error) => process.nextTick(() => { throw error; })) {
    this._answers = answers;
    this._onError = onError;
    this._registered = new Map();
    this._active = new Map();
    this._closed = false;
  }

  /** Registers (or, with null, forgets) the implementation of provider kind/name. */
  set(kind, name, implementation, sampleRate = 16000) {
    const key = `${kind}/${name}`;
    if (implementation === null || implementation === undefined) this._registered.delete(key);
    else this._registered.set(key, { implementation, sampleRate });
  }

  /** Takes a provider_request event for a JS implementation; false for any other event. */
  dispatch(event) {
    if (event.typeCode !== EventType.PROVIDER_REQUEST) return false;
    let payload;
    try {
      payload = event.payload;
    } catch (_) {
      return false;
    }
    const target = this._registered.get(`${payload.kind}/${payload.provider}`);
    if (!target) return false;
    const id = payload.request;
    switch (payload.op) {
      case 'synthesize':
      case 'complete':
      case 'start':
        this._start(payload, event, target);
        break;
      case 'audio': {
        const request = this._active.get(id);
        if (request instanceof SttRequest) request._offer({ audio: event.audio || new Int16Array(0) });
        break;
      }
      case 'finalize': {
        const request = this._active.get(id);
        if (request instanceof SttRequest) request._offer({ finalize: true });
        break;
      }
      case 'cancel': {
        const request = this._active.get(id);
        if (request) {
          this._active.delete(id);
          request._cancel();
        }
        break;
      }
      default:
        break; // an operation newer than this binding: nothing to do
    }
    return true;
  }

  _start(payload, event, target) {
    const { implementation, sampleRate } = target;
    const kind = payload.kind;
    const method = kinds[kind];
    const expected = { synthesize: 'tts', complete: 'llm', start: 'stt' }[payload.op];
    if (expected !== kind) return;
    let request;
    if (kind === 'tts') request = new TtsRequest(this._answers, payload.request, payload, event.sessionId, sampleRate);
    else if (kind === 'llm') request = new LlmRequest(this._answers, payload.request, payload, event.sessionId);
    else request = new SttRequest(this._answers, payload.request, payload, event.sessionId, sampleRate);
    this._active.set(request.id, request);
    if (this._closed) request._cancel();
    const fn = typeof implementation === 'function' ? implementation : implementation[method].bind(implementation);
    Promise.resolve()
      .then(() => fn(request, { signal: request.signal }))
      .then(() => null, (error) => error || new Error('provider rejected'))
      .then((failure) => {
        if (this._active.get(request.id) === request) this._active.delete(request.id);
        if (request instanceof SttRequest) request._end();
        this._finish(request, failure);
      });
  }

  _finish(request, failure) {
    if (request.cancelled || request._completed) return;
    try {
      if (failure === null) {
        request.complete();
      } else {
        const status = failure instanceof ParleyError ? failure.statusCode : Status.PARLEY_EPROVIDER;
        const message = failure instanceof Error ? failure.message || failure.name : String(failure);
        request.fail(message, status);
      }
    } catch (error) {
      this._onError(error);
    }
  }

  /** The runtime is closing: every request in flight is cancelled. */
  close() {
    this._closed = true;
    for (const request of this._active.values()) request._cancel();
    this._active.clear();
  }
}

/** The answers of a runtime's native handle. */
function nativeAnswers(native) {
  return {
    pushAudio: (id, samples) => native.providerPushAudio(id, samples),
    pushText: (id, text) => native.providerPushText(id, text),
    pushToolCall: (id, index, callId, name, args) => native.providerPushToolCall(id, index, callId, name, args),
    pushTranscript: (id, text, isFinal, speechFinal) => native.providerPushTranscript(id, text, isFinal, speechFinal),
    complete: (id, status, detail) => native.providerComplete(id, status, detail),
  };
}

module.exports = { ProviderRequest, TtsRequest, LlmRequest, SttRequest, ProviderDispatcher, nativeAnswers, providerMethods: kinds };
