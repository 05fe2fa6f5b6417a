'use strict';
const native = require('./native');

/** Event types of the C ABI (parley_event_type). */
const EventType = Object.freeze({
  NONE: 0,
  RUNTIME_ERROR: 1,
  USER: 2,
  OVERFLOW: 3,
  SESSION_STARTED: 10,
  SESSION_STOPPED: 11,
  SESSION_ERROR: 12,
  SESSION_REJECTED: 13,
  DTMF: 14,
  MARK: 15,
  AUDIO: 16,
  CALLER_AUDIO: 17,
  AUDIO_MARK: 18,
  AUDIO_CLEAR: 19,
  PROVIDER_REQUEST: 20,
  // Agent sessions (listeners and host sessions with "behaviour": "agent").
  AGENT_STATE: 21,
  TRANSCRIPT: 22,
  TURN: 23,
  TOOL_CALL: 24,
  INTERRUPTION: 25,
  // Host transport: what the agent's built-in send_dtmf and transfer tools ask of the host.
  SEND_DTMF: 26,
  TRANSFER: 27,
});

const typeNames = new Map();
for (const code of Object.values(EventType)) typeNames.set(code, native.eventTypeName(code));

/** Log levels (parley_log_level). */
const LogLevel = Object.freeze({ trace: 0, debug: 1, info: 2, warn: 3, error: 4, off: 6 });
const logLevelNames = new Map(Object.entries(LogLevel).map(([name, value]) => [value, name]));

function logLevel(level, what = 'level') {
  if (typeof level === 'number') return level;
  if (typeof level === 'string' && Object.prototype.hasOwnProperty.call(LogLevel, level)) return LogLevel[level];
  throw new TypeError(`${what} must be one of ${Object.keys(LogLevel).join(', ')} or a parley_log_level number`);
}

/** One event from the engine: its type, session id, JSON payload (parsed on first use), audio. */
class ParleyEvent {
  constructor(typeCode, sessionId, payloadJson, timestampUs, audio, sampleRate) {
    this.typeCode = typeCode;
    this.sessionId = sessionId;
    this.payloadJson = payloadJson;
    this.timestampUs = timestampUs;
    this.audio = audio; // Int16Array (PCM16) or null
    this.sampleRate = sampleRate;
    this._payload = undefined;
  }

  /** The type's name: 'user', 'session_started', 'dtmf', 'mark', 'audio', ... */
  get type() {
    return typeNames.get(this.typeCode) || native.eventTypeName(this.typeCode);
  }

  get payload() {
    if (this._payload === undefined) this._payload = JSON.parse(this.payloadJson);
    return this._payload;
  }

  toJSON() {
    return { type: this.type, sessionId: this.sessionId, payload: this.payload, timestampUs: this.timestampUs,
      samples: this.audio ? this.audio.length : 0, sampleRate: this.sampleRate };
  }
}

module.exports = { EventType, LogLevel, ParleyEvent, logLevel, logLevelNames };
