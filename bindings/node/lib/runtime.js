'use strict';
const { EventEmitter } = require('node:events');
const native = require('./native');
const { ParleyError, Status, stateError } = require('./errors');
const { EventType, ParleyEvent, logLevel, logLevelNames } = require('./events');
const { Session } = require('./session');
const { Listener } = require('./listener');
const { configJson, promiseFrom, kInternal } = require('./util');
const { ProviderDispatcher, ProviderRequest, nativeAnswers, providerMethods } = require('./providers');

const STRIDE = 7; // must match kStride in src/runtime.cc
const ItemKind = { EVENT: 0, LOG: 1, DONE: 2, CLOSED: 3, LOGS_DROPPED: 4, POLL_ERROR: 5 };

// Runtimes not yet closed in this environment (main thread or worker): closed
// synchronously on process 'exit' (process.exit() does not run the addon's cleanup hooks;
// worker termination and normal teardown do).
const open = new Set();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const runtime of [...open]) runtime._closeSync();
  });
}

/**
 * A Parley runtime: the engine's threads, its event queue, listeners and sessions.
 *
 * Events: 'session' (session, info) for each call that starts; 'rejected' (payload) for a
 * call refused over capacity; 'user' (payload, event) for parley_runtime_post_event events;
 * 'overflow' (dropped); 'log' (message, level) after setLogLevel(); 'error' (Error, only
 * when a listener is attached); 'providerRequest' (payload, event) for providers registered
 * without an implementation; 'event' (every ParleyEvent); 'close'.
 *
 * Providers: registerTts(), registerLlm() and registerStt() register voices, models and
 * recognisers written in JS (async functions). Their requests arrive through the poll thread
 * as events and run on the JS thread; they never appear as 'event' or 'providerRequest'.
 *
 * Keeping the process alive: like a net.Server, a runtime keeps the event loop alive while
 * it has a running listener, a live call (a session not yet stopped), a pending waitMark()
 * or posted events not yet delivered; unref() lets the process exit anyway. close(), session.close() and
 * listener.stop() keep it alive until they settle, even after unref(). Otherwise the poll
 * thread's thread-safe function is unref'd and the runtime never holds the process.
 */
class Runtime extends EventEmitter {
  constructor(config) {
    super();
    this._sessions = new Map();
    this._jobs = new Map();
    this._weakHolds = 0;
    this._strongHolds = 0;
    this._userRef = true;
    this._refed = true; // a new thread-safe function is ref'd
    this._closing = null;
    this._closed = false;
    this._postedPending = 0; // user events posted and not yet delivered (a weak hold)
    this._releasePosted = null;
    this._native = new native.NativeRuntime(configJson(config), (items) => this._onItems(items));
    this._providers = new ProviderDispatcher(nativeAnswers(this._native));
    open.add(this);
    installExitHook();
    this._updateRef();
  }

  /** True once close() was called. */
  get closed() {
    return this._closing !== null || this._closed;
  }

  /** Live sessions this runtime knows of (calls that started and have not stopped). */
  get sessions() {
    return [...this._sessions.values()];
  }

  /** Queues a 'user' event carrying payload (an object, or a JSON string). */
  postEvent(payload) {
    this._native.postEvent(typeof payload === 'string' || payload === null ? payload : JSON.stringify(payload));
    // Keep the process alive until it is delivered, as a pending I/O callback would.
    if (this._postedPending++ === 0) this._releasePosted = this._hold(false);
  }

  _postedDelivered(all) {
    if (this._postedPending === 0) return;
    this._postedPending = all ? 0 : this._postedPending - 1;
    if (this._postedPending === 0) {
      this._releasePosted();
      this._releasePosted = null;
    }
  }

  /**
   * The runtime's counters and latency distributions since it was created (calls, frames,
   * agent turns, tools, tokens, latency percentiles in ms), as a plain object.
   */
  stats() {
    return JSON.parse(this._native.stats());
  }

  /** Writes one record through the runtime's logger. level: 'info' | 2 | ... */
  log(level, message) {
    this._native.log(logLevel(level), message);
  }

  /** Delivers log records at or above `level` as 'log' events; null stops. */
  setLogLevel(level) {
    this._native.setLogLevel(level === null || level === undefined ? null : logLevel(level));
  }

  /**
   * Starts a listener (config: {"transport": "twilio", "port": 0, "behaviour": "echo"|"host",
   * ...}; see parley_listener_start). Returns once it is bound; listener.port is the real port.
   */
  startListener(config) {
    const nativeListener = this._native.startListener(configJson(config, 'listener config'));
    return new Listener(kInternal, this, nativeListener, this._hold(false));
  }

  /** Creates a host-transport session; its session_started event follows. */
  createHostSession(config) {
    const nativeSession = this._native.createHostSession(configJson(config, 'host session config'));
    return this._register(new Session(kInternal, this, nativeSession, nativeSession.id, true));
  }

  /** The Session object of a live call (one object per call; opened if not known yet). */
  openSession(sessionId) {
    const known = typeof sessionId === 'string' ? this._sessions.get(sessionId) : undefined;
    if (known) return known;
    const nativeSession = this._native.openSession(sessionId);
    return this._register(new Session(kInternal, this, nativeSession, nativeSession.id, false));
  }

  /**
   * Registers a voice written in JS under `name`: `synthesize(request, {signal})` (an async
   * function, or an object with a synthesize method) pushes PCM16 (Int16Array) at
   * request.sampleRate with request.pushAudio() and resolves (the request completes); a
   * rejection fails it (the session gets an 'error' event with its message); `signal` aborts
   * when the engine no longer wants the answer. options: {sampleRate} (default 16000).
   * Configs then name it like a built-in voice: session.speak(text, {tts: {provider: name}}).
   */
  registerTts(name, synthesize, { sampleRate } = {}) {
    this.registerProvider('tts', name, sampleRate ? { sample_rate: sampleRate } : null, requireImpl(synthesize, 'tts'));
  }

  /**
   * Registers a language model written in JS: `complete(request, {signal})` streams
   * request.pushText() / request.pushToolCall() for request.messages and resolves (or calls
   * request.finish(reason, promptTokens, completionTokens)).
   */
  registerLlm(name, complete) {
    this.registerProvider('llm', name, null, requireImpl(complete, 'llm'));
  }

  /**
   * Registers a speech recogniser written in JS: `recognize(request, {signal})` reads
   * `for await (const input of request)` ({audio: Int16Array} or {finalize: true}; the loop
   * ends when the engine ends the stream) and pushes request.pushTranscript(). options:
   * {sampleRate} of the audio it receives (default 16000).
   */
  registerStt(name, recognize, { sampleRate } = {}) {
    this.registerProvider('stt', name, sampleRate ? { sample_rate: sampleRate } : null, requireImpl(recognize, 'stt'));
  }

  /**
   * The general form: kind 'llm' | 'tts' | 'stt', options null or {sample_rate}, and an
   * implementation as above, or null: requests are then 'providerRequest' events, answered
   * with runtime.providerRequest(id).
   */
  registerProvider(kind, name, options = null, implementation = null) {
    if (implementation !== null && implementation !== undefined) requireImpl(implementation, kind);
    const json = configJson(options, 'provider options');
    let rate = 16000;
    try {
      const parsed = json ? JSON.parse(json) : {};
      if (Number.isInteger(parsed.sample_rate)) rate = parsed.sample_rate;
    } catch (_) {
      // the engine rejects it with its own message
    }
    const known = typeof kind === 'string' && typeof name === 'string';
    if (known) this._providers.set(kind, name, implementation ?? null, rate);
    try {
      this._native.registerProvider(kind, name, json);
    } catch (error) {
      if (known) this._providers.set(kind, name, null);
      throw error;
    }
  }

  /**
   * A request handle to answer request `id` (from a 'providerRequest' event). Answers to an
   * unknown id throw a PARLEY_ENOTFOUND ParleyError.
   */
  providerRequest(id) {
    return new ProviderRequest(nativeAnswers(this._native), id, { kind: '', provider: '' }, '', false);
  }

  /** Keeps the process alive while listeners or host sessions are open (the default). */
  ref() {
    this._userRef = true;
    this._updateRef();
    return this;
  }

  /** Lets the process exit even with listeners and calls open. */
  unref() {
    this._userRef = false;
    this._updateRef();
    return this;
  }

  /**
   * Closes everything: sessions and listeners are released, the poll thread stops and the
   * engine is destroyed (off the JS thread). Resolves when done. A second close() rejects
   * with a PARLEY_ESTATE ParleyError.
   */
  close() {
    if (this.closed) return Promise.reject(stateError('runtime is closed'));
    return promiseFrom(() => {
      this._native.close();
      this._providers.close();
      this._closing = new Promise((resolve) => {
        this._resolveClose = resolve;
      });
      this._strongHolds += 1;
      this._updateRef();
      return this._closing;
    });
  }

  // ---- internals -------------------------------------------------------------------------

  /** @internal a keep-alive hold; strong holds ignore unref(). Returns an idempotent release. */
  _hold(strong) {
    if (strong) this._strongHolds += 1;
    else this._weakHolds += 1;
    this._updateRef();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (strong) this._strongHolds -= 1;
      else this._weakHolds -= 1;
      this._updateRef();
    };
  }

  _updateRef() {
    if (this._closed) return;
    const want = this._strongHolds > 0 || (this._userRef && this._weakHolds > 0);
    if (want !== this._refed) {
      this._refed = want;
      this._native.setRef(want);
    }
  }

  /** @internal a Promise settled by the DONE item of native job `id`. */
  _awaitJob(id) {
    return new Promise((resolve, reject) => {
      this._jobs.set(id, { resolve, reject, release: this._hold(true) });
    });
  }

  /** @internal a live call: known by id until it stops, and a weak keep-alive hold. */
  _register(session) {
    this._sessions.set(session.id, session);
    session._releaseHold = this._hold(false);
    return session;
  }

  /** @internal the session stopped: forget it. */
  _forget(session) {
    if (this._sessions.get(session.id) === session) this._sessions.delete(session.id);
    if (session._releaseHold) session._releaseHold();
  }

  _sessionFor(event) {
    const id = event.sessionId;
    let session = this._sessions.get(id);
    if (session) return { session, created: false };
    if (event.typeCode === EventType.SESSION_STOPPED || this.closed) return { session: null, created: false };
    let nativeSession = null;
    try {
      nativeSession = this._native.openSession(id);
    } catch (error) {
      if (error.statusCode !== Status.PARLEY_ENOTFOUND) throw error;
    }
    session = this._register(new Session(kInternal, this, nativeSession, id, false));
    return { session, created: true };
  }

  /** @internal the native handoff: a flat array, STRIDE values per item. */
  _onItems(items) {
    let firstError = null;
    for (let i = 0; i < items.length; i += STRIDE) {
      try {
        switch (items[i]) {
          case ItemKind.EVENT:
            this._onEvent(new ParleyEvent(items[i + 1], items[i + 2], items[i + 3], items[i + 4], items[i + 5], items[i + 6]));
            break;
          case ItemKind.LOG:
            this.emit('log', items[i + 3], logLevelNames.get(items[i + 1]) || items[i + 1]);
            break;
          case ItemKind.DONE:
            this._onDone(items[i + 1], items[i + 2], items[i + 3], items[i + 4]);
            break;
          case ItemKind.CLOSED:
            this._onClosed();
            break;
          case ItemKind.LOGS_DROPPED:
            this.emit('log', `parley node: ${items[i + 4]} log records dropped (JS too slow)`, 'warn');
            break;
          case ItemKind.POLL_ERROR:
            this._emitError(new ParleyError(items[i + 3], items[i + 1]));
            break;
          default:
            break;
        }
      } catch (error) {
        // A throwing listener must not cost the rest of the batch; report it afterwards as
        // an ordinary uncaught exception.
        if (firstError === null) firstError = error;
      }
    }
    if (firstError !== null) {
      process.nextTick(() => {
        throw firstError;
      });
    }
  }

  _emitError(error) {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  _onEvent(event) {
    if (event.typeCode === EventType.PROVIDER_REQUEST && this._providers.dispatch(event)) return;
    if (this.listenerCount('event') > 0) this.emit('event', event);
    switch (event.typeCode) {
      case EventType.PROVIDER_REQUEST:
        if (this.listenerCount('providerRequest') > 0) this.emit('providerRequest', event.payload, event);
        return;
      case EventType.USER:
        this._postedDelivered(false);
        if (this.listenerCount('user') > 0) this.emit('user', event.payload, event);
        return;
      case EventType.OVERFLOW:
        this._postedDelivered(true); // some may have been dropped: stop waiting for them
        // Mark and stopped events may be among the dropped ones: look at the engine again.
        for (const session of [...this._sessions.values()]) {
          session._recheckMarks();
          if (session.state === 'closed') session._onStopped({ reason: 'unknown (its stopped event was dropped: event queue overflow)', call_id: session.info ? session.info.call_id : '' });
        }
        this.emit('overflow', event.payload.dropped);
        return;
      case EventType.RUNTIME_ERROR: {
        const error = new Error(event.payload.message || 'runtime error');
        error.payload = event.payload;
        this._emitError(error);
        return;
      }
      case EventType.SESSION_REJECTED:
        this.emit('rejected', event.payload);
        return;
      default:
        break;
    }
    if (!event.sessionId) return;
    const { session, created } = this._sessionFor(event);
    if (!session) return;
    if (event.typeCode === EventType.SESSION_STARTED) {
      session.info = event.payload;
      this.emit('session', session, event.payload);
    } else if (created) {
      this.emit('session', session, null); // its started event was dropped (overflow)
    }
    session._dispatch(event);
  }

  _onDone(id, status, message, value) {
    const job = this._jobs.get(id);
    if (!job) return;
    this._jobs.delete(id);
    job.release();
    if (status === 0) job.resolve(value);
    else job.reject(new ParleyError(message, status));
  }

  _onClosed() {
    this._native.finishClose();
    this._finishClosed();
  }

  _finishClosed() {
    if (this._closed) return;
    this._closed = true;
    open.delete(this);
    this._providers.close();
    // Calls that were still live were ended by the close.
    for (const session of [...this._sessions.values()]) {
      session._onStopped({ reason: 'runtime closed', call_id: session.info ? session.info.call_id : '' });
    }
    this._sessions.clear();
    for (const job of this._jobs.values()) job.reject(stateError('runtime closed'));
    this._jobs.clear();
    if (this._resolveClose) this._resolveClose();
    this.emit('close');
  }

  /** @internal process exit: everything, synchronously. */
  _closeSync() {
    if (this._closed) return;
    this._native.closeSync();
    this._finishClosed();
  }
}

/** The implementation of a provider of `kind`: a function, or an object with its method. */
function requireImpl(implementation, kind) {
  const method = providerMethods[kind];
  if (typeof implementation === 'function') return implementation;
  if (method && implementation && typeof implementation[method] === 'function') return implementation;
  throw new TypeError(`a ${kind} provider must be an async function${method ? ` or an object with a ${method}() method` : ''}`);
}

module.exports = { Runtime };
