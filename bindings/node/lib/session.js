'use strict';
const { EventEmitter } = require('node:events');
const { EventType } = require('./events');
const { ParleyError, Status, stateError } = require('./errors');
const { kInternal } = require('./util');

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
   * board (parley_session_wait_mark with a zero wait) now and again on each mark event.
   */
  waitMark(name, timeoutMs = -1) {
    let outcome;
    try {
      if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs)) throw new TypeError('timeoutMs must be an integer');
      outcome = this._n().markOutcome(name, timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    if (outcome !== MarkOutcome.PENDING && outcome !== MarkOutcome.TIMEOUT) return Promise.resolve(outcomeNames[outcome]);
    if (timeoutMs === 0 || this._stopped) return Promise.resolve(this._stopped ? 'cleared' : 'timeout');
    return new Promise((resolve) => {
      const waiter = { name, resolve: null, timer: null };
      // A weak hold: it keeps the process alive, unless the runtime was unref()'d.
      const release = this.runtime._hold(false);
      waiter.resolve = (value) => {
        if (waiter.timer) clearTimeout(waiter.timer);
        const set = this._markWaiters.get(name);
        if (set) {
          set.delete(waiter);
          if (set.size === 0) this._markWaiters.delete(name);
        }
        release();
        resolve(value);
      };
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
          const error = new Error(payload.message || 'session error');
          error.code = payload.code;
          error.fatal = Boolean(payload.fatal);
          error.sessionId = this.id;
          this.emit('error', error);
        }
        break;
      case EventType.DTMF:
        this.emit('dtmf', event.payload.digit);
        break;
      case EventType.MARK: {
        const { name, outcome } = event.payload;
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
      default:
        break;
    }
  }

  /** @internal the call ended (stopped event, or the runtime closed). */
  _onStopped(stats) {
    if (this._stopped) return;
    this._stopped = true;
    this.stats = stats;
    this.runtime._forget(this);
    this._recheckMarks('cleared');
    const waiters = this._stopWaiters;
    this._stopWaiters = [];
    for (const waiter of waiters) waiter(stats);
    this.emit('stopped', stats);
  }
}

module.exports = { Session, SessionState, MarkOutcome, G711, ParleyError, Status };
