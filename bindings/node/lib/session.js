'use strict';
const { EventEmitter } = require('node:events');
const { EventType } = require('./events');
const { ParleyError, Status, stateError } = require('./errors');
const { kInternal, configJson } = require('./util');

const SessionState = Object.freeze({ 0: 'connecting', 1: 'active', 2: 'closing', 3: 'closed' });
const MarkOutcome = Object.freeze({ PENDING: 0, PLAYED: 1, CLEARED: 2, TIMEOUT: 3, UNKNOWN: 4 });
const outcomeNames = ['pending', 'played', 'cleared', 'timeout', 'unknown'];
const G711 = Object.freeze({ ulaw: 0, alaw: 1 });

/**
 * One call. Created by the Runtime: for each call a listener accepts (runtime 'session'
 * event), by runtime.createHostSession(), or by runtime.openSession(id).
 *
 * Events: 'started' (info), 'stopped' (stats), 'dtmf' (digit), 'mark' (name, outcome),
 * 'audio' (Int16Array, sampleRate: agent audio of a host session), 'callerAudio' (Int16Array,
 * sampleRate), 'audioMark' (name), 'audioClear' (), 'error' (Error with .code, .fatal:
 * emitted only when an 'error' listener is attached, so a malformed message from a caller
 * never crashes the process), 'event' (every ParleyEvent of this session).
 */
class Session extends EventEmitter {
  /** @internal */
  constructor(token, runtime, nativeSession, id, host) {
    if (token !== kInternal) throw new TypeError('Session objects are created by a Runtime');
    super();
    this.runtime = runtime;
    this.id = id;
    this.host = host;
    this.info = null; // the session_started payload
    this.stats = null; // the session_stopped payload
    this._native = nativeSession; // null: the call had already ended when we looked
    this._stopped = false;
    this._closeCalled = false;
    this._stopWaiters = [];
    this._markWaiters = new Map(); // name -> Set of waiters
    this._speaking = new Map(); // speak() marks the engine may not know yet -> null, or their failure
  }

  /** 'connecting' | 'active' | 'closing' | 'closed' */
  get state() {
    if (!this._native) return 'closed';
    return SessionState[this._native.state()] || 'closed';
  }

  /** True once the session_stopped event arrived (or the runtime closed). */
  get stopped() {
    return this._stopped;
  }

  _n() {
    if (!this._native) throw stateError(`session ${this.id} had already ended when it was opened`);
    return this._native;
  }

  /** Agent audio to play to the caller: PCM16 mono at sampleRate (copied). */
  play(samples, sampleRate = 16000) {
    this._n().play(samples, sampleRate);
  }

  /** Queues a named mark after the audio queued so far; a 'mark' event reports its outcome. */
  sendMark(name) {
    this._n().sendMark(name);
  }

  /**
   * Resolves with 'played' | 'cleared' | 'unknown' when mark `name` resolves, or 'timeout'
   * after timeoutMs (-1: no timeout). Never blocks the JS thread: it checks the engine's mark
   * board (parley_session_wait_mark with a zero wait) now and again on each mark event. A
   * speak() mark is waited for while its text is synthesised; a failed speak() rejects with
   * a PARLEY_EPROVIDER ParleyError.
   */
  waitMark(name, timeoutMs = -1) {
    let outcome;
    try {
      if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs)) throw new TypeError('timeoutMs must be an integer');
      outcome = this._n().markOutcome(name, timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    // A speak() mark is queued only once its text is synthesised: until then the engine
    // says "unknown", and the binding waits for it (or for the TTS's failure).
    const spoken = outcome === MarkOutcome.UNKNOWN && this._speaking.has(name);
    if (spoken && this._speaking.get(name)) {
      const failure = this._speaking.get(name);
      this._speaking.delete(name);
      return Promise.reject(failure);
    }
    if (!spoken && outcome !== MarkOutcome.PENDING && outcome !== MarkOutcome.TIMEOUT) return Promise.resolve(outcomeNames[outcome]);
    if (timeoutMs === 0 || this._stopped) return Promise.resolve(this._stopped ? 'cleared' : 'timeout');
    return new Promise((resolve, reject) => {
      const waiter = { name, resolve: null, reject: null, timer: null };
      // A weak hold: it keeps the process alive, unless the runtime was unref()'d.
      const release = this.runtime._hold(false);
      const settle = (fn, value) => {
        if (waiter.timer) clearTimeout(waiter.timer);
        const set = this._markWaiters.get(name);
        if (set) {
          set.delete(waiter);
          if (set.size === 0) this._markWaiters.delete(name);
        }
        release();
        fn(value);
      };
      waiter.resolve = (value) => settle(resolve, value);
      waiter.reject = (error) => settle(reject, error);
      if (timeoutMs > 0) {
        waiter.timer = setTimeout(() => {
          const last = this._checkMark(name);
          waiter.resolve(last === null ? 'timeout' : last);
        }, timeoutMs);
      }
      if (!this._markWaiters.has(name)) this._markWaiters.set(name, new Set());
      this._markWaiters.get(name).add(waiter);
    });
  }

  /** The mark's resolved outcome name, or null while pending. */
  _checkMark(name, fallback = null) {
    if (this._native && !this._native.released) {
      try {
        const outcome = this._native.markOutcome(name, 0);
        if (outcome === MarkOutcome.PENDING || outcome === MarkOutcome.TIMEOUT) return null;
        if (outcome === MarkOutcome.UNKNOWN && this._speaking.has(name)) return fallback; // not spoken yet
        return outcomeNames[outcome];
      } catch (_) {
        // fall through: the handle is gone
      }
    }
    return fallback;
  }

  _recheckMarks(fallback = null) {
    for (const [name, waiters] of [...this._markWaiters]) {
      const outcome = this._checkMark(name, fallback);
      if (outcome !== null) for (const waiter of [...waiters]) waiter.resolve(outcome);
    }
  }

  /**
   * Speaks `text` to the caller with a TTS provider (built-in, or written in JS and registered
   * with runtime.registerTts()) as it is synthesised, then queues a mark; returns the mark's
   * name at once. waitMark(mark) (or a 'mark' event) reports when the caller has heard it; a
   * provider failure is an 'error' event (error.provider, error.mark) and rejects waitMark(mark)
   * with a PARLEY_EPROVIDER ParleyError. Waiting right away is fine. options: null or
   * {tts: {provider: 'my-voice'}, mark: 'greeting'} (default TTS espeak, mark 'speak-N').
   */
  speak(text, options = null) {
    const mark = this._n().speak(text, configJson(options, 'speak options'));
    this._speaking.set(mark, null);
    return mark;
  }

  /** Drops queued agent audio here and at the far end (barge-in); pending marks clear. */
  clear() {
    this._n().clear();
  }

  /** Ends the call. Idempotent. */
  hangUp(reason) {
    this._n().hangUp(reason === undefined ? null : reason);
  }

  /** Starts a stereo PCM16 WAV recording (caller left, agent right). */
  startRecording(path) {
    this._n().startRecording(path);
  }

  stopRecording() {
    this._n().stopRecording();
  }

  /**
   * Stops the session (hangs up a live call) and resolves with the session_stopped payload
   * once it arrives. Calling close() a second time rejects with a PARLEY_ESTATE ParleyError.
   */
  close() {
    if (this._closeCalled) return Promise.reject(stateError(`session ${this.id}: close() was already called`));
    this._closeCalled = true;
    if (this._stopped) return Promise.resolve(this.stats);
    try {
      this._n().close();
    } catch (error) {
      return Promise.reject(error);
    }
    return this._whenStopped();
  }

  _whenStopped() {
    if (this._stopped) return Promise.resolve(this.stats);
    return new Promise((resolve) => {
      const release = this.runtime._hold(true);
      this._stopWaiters.push((stats) => {
        release();
        resolve(stats);
      });
    });
  }

  /**
   * Releases the native handle now (a host session is closed by it). Idempotent. Later calls
   * that need the handle throw a PARLEY_ESTATE ParleyError. Garbage collection does the same.
   */
  destroy() {
    if (this._native) this._native.destroy();
  }

  // ---- host transport (sessions from runtime.createHostSession) ----

  /** Caller audio from the host's media stack: PCM16 mono (Int16Array) at sampleRate. */
  pushAudio(samples, sampleRate = 16000) {
    this._n().pushAudio(samples, sampleRate);
  }

  /** Caller audio as G.711 bytes; encoding 'ulaw' | 'alaw' (or 0 | 1). */
  pushG711(bytes, encoding = 'ulaw', sampleRate = 8000) {
    const code = typeof encoding === 'string' ? G711[encoding] : encoding;
    if (code === undefined) throw new TypeError("encoding must be 'ulaw' or 'alaw'");
    this._n().pushG711(bytes, code, sampleRate);
  }

  /** The caller pressed a key (0-9 * # A-D). */
  pushDtmf(digit) {
    this._n().pushDtmf(digit);
  }

  /** The audio before mark `name` (from an 'audioMark' event) has played. */
  pushMarkPlayed(name) {
    this._n().pushMarkPlayed(name);
  }

  // ---- agent sessions ----

  /**
   * Answers a 'toolCall' of an agent session: `result` is what the tool returned, a JSON
   * string (passed as is) or any other value (JSON.stringify'd). The model sees it as the
   * tool message's content; an answer after the tool's timeout, or for an unknown id, is
   * ignored by the engine. Throws a ParleyError: PARLEY_EFORMAT (not JSON), PARLEY_ESTATE
   * (the session runs no agent, or is closed).
   */
  toolResult(toolCallId, result) {
    const json = typeof result === 'string' || result === undefined || result === null ? result : JSON.stringify(result);
    this._n().toolResult(toolCallId, json);
  }

  /** @internal */
  _dispatch(event) {
    if (this.listenerCount('event') > 0) this.emit('event', event);
    switch (event.typeCode) {
      case EventType.SESSION_STARTED:
        this.info = event.payload;
        this.emit('started', this.info);
        break;
      case EventType.SESSION_STOPPED:
        this._onStopped(event.payload);
        break;
      case EventType.SESSION_ERROR:
        if (this.listenerCount('error') > 0) {
          const payload = event.payload;
          // A provider failure (e.g. of the TTS speak() used) nests its details in "error".
          const provider = payload.error && typeof payload.error === 'object' ? payload.error : null;
          const error = new Error((provider ? provider.message : payload.message) || 'session error');
          error.code = provider ? 'provider' : payload.code;
          error.fatal = Boolean(provider ? provider.fatal : payload.fatal);
          error.sessionId = this.id;
          if (provider) {
            error.provider = provider.provider;
            error.kind = provider.kind;
            if (payload.mark !== undefined) error.mark = payload.mark;
          }
          this.emit('error', error);
        }
        this._speakFailed(event.payload);
        break;
      case EventType.DTMF:
        this.emit('dtmf', event.payload.digit);
        break;
      case EventType.MARK: {
        const { name, outcome } = event.payload;
        this._speaking.delete(name); // the engine knows it now
        const waiters = this._markWaiters.get(name);
        if (waiters) {
          // The board is authoritative (a name may be reused); the payload is the fallback.
          const now = this._checkMark(name, outcome);
          if (now !== null) for (const waiter of [...waiters]) waiter.resolve(now);
        }
        this.emit('mark', name, outcome);
        break;
      }
      case EventType.AUDIO:
        this.emit('audio', event.audio, event.sampleRate);
        break;
      case EventType.CALLER_AUDIO:
        this.emit('callerAudio', event.audio, event.sampleRate);
        break;
      case EventType.AUDIO_MARK:
        this.emit('audioMark', event.payload.name);
        break;
      case EventType.AUDIO_CLEAR:
        this.emit('audioClear');
        break;
      case EventType.AGENT_STATE:
        this.emit('agentState', event.payload.state, event.payload);
        break;
      case EventType.TRANSCRIPT:
        this.emit('transcript', event.payload);
        break;
      case EventType.TURN:
        this.emit('turn', event.payload);
        break;
      case EventType.TOOL_CALL:
        this.emit('toolCall', event.payload);
        break;
      case EventType.INTERRUPTION:
        this.emit('interruption', event.payload);
        break;
      case EventType.SEND_DTMF:
        this.emit('sendDtmf', event.payload.digits, event.payload);
        break;
      case EventType.TRANSFER:
        this.emit('transfer', event.payload.target, event.payload);
        break;
      default:
        break;
    }
  }

  /** @internal a speak() failed: its mark will never be queued. */
  _speakFailed(payload) {
    const { mark, error } = payload;
    if (typeof mark !== 'string' || !error || typeof error !== 'object' || !this._speaking.has(mark)) return;
    const failure = new ParleyError(`speak: ${error.provider}: ${error.message}`, Status.PARLEY_EPROVIDER);
    const waiters = this._markWaiters.get(mark);
    if (waiters) {
      this._speaking.delete(mark);
      for (const waiter of [...waiters]) waiter.reject(failure);
    } else {
      this._speaking.set(mark, failure); // for a later waitMark()
    }
  }

  /** @internal the call ended (stopped event, or the runtime closed). */
  _onStopped(stats) {
    if (this._stopped) return;
    this._stopped = true;
    this.stats = stats;
    this.runtime._forget(this);
    this._recheckMarks('cleared');
    this._speaking.clear();
    const waiters = this._stopWaiters;
    this._stopWaiters = [];
    for (const waiter of waiters) waiter(stats);
    this.emit('stopped', stats);
  }
}

module.exports = { Session, SessionState, MarkOutcome, G711, ParleyError, Status };
