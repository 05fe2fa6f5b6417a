// Type declarations of @parley/node, the Node.js binding of Parley.
/// <reference types="node" />
import { EventEmitter } from 'node:events';

/** JSON configuration: an object (stringified), a JSON string, or null for defaults. */
export type Config = Record<string, unknown> | string | null | undefined;

export type StatusName =
  | 'PARLEY_OK' | 'PARLEY_EINVAL' | 'PARLEY_ECONFIG' | 'PARLEY_ENOMEM' | 'PARLEY_ESTATE' | 'PARLEY_ETIMEOUT'
  | 'PARLEY_ENOTFOUND' | 'PARLEY_EUNSUPPORTED' | 'PARLEY_EIO' | 'PARLEY_EFORMAT' | 'PARLEY_EPROTOCOL'
  | 'PARLEY_EPROVIDER' | 'PARLEY_ECANCELLED' | 'PARLEY_EFULL' | 'PARLEY_EINTERNAL';

/** Status codes of the C ABI; values are stable forever. */
export declare const Status: Readonly<Record<StatusName, number>>;

/** Every non-zero status of the engine, with the engine's message. */
export declare class ParleyError extends Error {
  constructor(message: string, statusCode?: number, statusName?: string);
  readonly name: 'ParleyError';
  /** The status name, e.g. 'PARLEY_ECONFIG'. */
  readonly status: StatusName;
  /** The same as `status` (Node's convention). */
  readonly code: StatusName;
  /** The numeric status, e.g. -2. */
  readonly statusCode: number;
}

export declare const EventType: Readonly<{
  NONE: 0; RUNTIME_ERROR: 1; USER: 2; OVERFLOW: 3; SESSION_STARTED: 10; SESSION_STOPPED: 11; SESSION_ERROR: 12;
  SESSION_REJECTED: 13; DTMF: 14; MARK: 15; AUDIO: 16; CALLER_AUDIO: 17; AUDIO_MARK: 18; AUDIO_CLEAR: 19;
  PROVIDER_REQUEST: 20; AGENT_STATE: 21; TRANSCRIPT: 22; TURN: 23; TOOL_CALL: 24; INTERRUPTION: 25;
  SEND_DTMF: 26; TRANSFER: 27;
}>;

export type LogLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'off';
export declare const LogLevel: Readonly<Record<LogLevelName, number>>;
export declare const MarkOutcome: Readonly<{ PENDING: 0; PLAYED: 1; CLEARED: 2; TIMEOUT: 3; UNKNOWN: 4 }>;
export declare const G711: Readonly<{ ulaw: 0; alaw: 1 }>;
export declare const ReportFormat: Readonly<{ json: 0; text: 1 }>;

/** One event from the engine. */
export declare class ParleyEvent {
  /** 'user', 'session_started', 'dtmf', 'mark', 'audio', ... */
  readonly type: string;
  readonly typeCode: number;
  /** '' for runtime events. */
  readonly sessionId: string;
  readonly payloadJson: string;
  /** The JSON payload, parsed on first use. */
  readonly payload: any;
  /** Microseconds on the runtime's monotonic clock. */
  readonly timestampUs: number;
  /** PCM16 samples (audio and caller_audio events), else null. */
  readonly audio: Int16Array | null;
  readonly sampleRate: number;
}

export interface SessionInfo {
  session_id: string;
  transport: string;
  call_id: string;
  stream_id: string;
  account_id: string;
  custom_parameters: Record<string, string>;
  sample_rate: number;
  behaviour: string;
}

export interface SessionStats {
  reason: string;
  call_id: string;
  caller_frames?: number;
  agent_frames?: number;
  dtmf?: number;
  marks_sent?: number;
  marks_played?: number;
  marks_cleared?: number;
  audio_events_dropped?: number;
}

export type MarkResult = 'played' | 'cleared' | 'timeout' | 'unknown';

/** An error of a call ('error' event): code 'protocol' | 'recording' | 'provider' | ... */
export interface SessionError extends Error {
  code: string;
  fatal: boolean;
  sessionId: string;
  /** code 'provider': the provider's name, its error kind and the speak() mark it affected. */
  provider?: string;
  kind?: string;
  mark?: string;
}

export interface SessionEvents {
  started: [info: SessionInfo];
  stopped: [stats: SessionStats];
  dtmf: [digit: string];
  mark: [name: string, outcome: 'played' | 'cleared' | 'unknown'];
  audio: [samples: Int16Array, sampleRate: number];
  callerAudio: [samples: Int16Array, sampleRate: number];
  audioMark: [name: string];
  audioClear: [];
  error: [error: SessionError];
  event: [event: ParleyEvent];
  /** Agent sessions: the agent's state changed. */
  agentState: [state: AgentStateName, payload: AgentStatePayload];
  /** Agent sessions: a line of the conversation. */
  transcript: [line: TranscriptLine];
  /** Agent sessions: a turn ended. */
  turn: [turn: TurnSummary];
  /** Agent sessions: the model called a host tool; answer with session.toolResult(call.id, result). */
  toolCall: [call: ToolCall];
  /** Agent sessions: the caller interrupted the agent. */
  interruption: [interruption: Interruption];
  /** Host-transport agent sessions: the agent's send_dtmf tool; send these touch tones on the call. */
  sendDtmf: [digits: string, payload: SendDtmfPayload];
  /** Host-transport agent sessions: the agent's transfer tool; move the call to target (its last words have played). */
  transfer: [target: string, payload: TransferPayload];
}

export type AgentStateName = 'idle' | 'listening' | 'thinking' | 'speaking';
export interface AgentStatePayload { state: AgentStateName; turn: number }
/** User partials have final false; an agent line arrives once per chunk, and its final (heard) form when the turn ends. */
export interface TranscriptLine { role: 'user' | 'agent'; text: string; final: boolean; turn: number }
export interface ToolCall { id: string; name: string; arguments: any }
export interface TurnSummary {
  turn: number;
  user_text: string;
  agent_text: string;
  heard_text: string;
  interrupted: boolean;
  /** Milliseconds per stage; null when the stage did not happen in this turn. */
  latency_ms: Record<string, number | null>;
  tokens_in: number;
  tokens_out: number;
  tool_calls: ToolCall[];
}
export interface Interruption { turn: number; heard_text: string; resumed: boolean }
/** Comes after the agent audio delivered before it. Digits: 0-9, *, #, A-D. */
export interface SendDtmfPayload { digits: string }
/** Comes once the agent's last words before it have played; the agent says nothing more. */
export interface TransferPayload { target: string }

/** One call. */
export declare class Session extends EventEmitter {
  private constructor();
  readonly id: string;
  /** True for a host-transport session created by this runtime. */
  readonly host: boolean;
  readonly runtime: Runtime;
  /** The session_started payload, once known. */
  info: SessionInfo | null;
  /** The session_stopped payload, once stopped. */
  stats: SessionStats | null;
  readonly state: 'connecting' | 'active' | 'closing' | 'closed';
  readonly stopped: boolean;

  play(samples: Int16Array | null, sampleRate?: number): void;
  sendMark(name: string): void;
  /**
   * Never blocks the JS thread. timeoutMs: -1 (default) waits until the mark resolves. A
   * speak() mark is waited for while its text is synthesised; a failed speak() rejects with
   * a PARLEY_EPROVIDER ParleyError.
   */
  waitMark(name: string, timeoutMs?: number): Promise<MarkResult>;
  clear(): void;
  hangUp(reason?: string | null): void;
  startRecording(path: string): void;
  stopRecording(): void;
  /** Resolves with the stopped payload. A second call rejects with PARLEY_ESTATE. */
  close(): Promise<SessionStats>;
  /** Releases the native handle (closes a host session). Idempotent. */
  destroy(): void;

  // host transport
  pushAudio(samples: Int16Array | null, sampleRate?: number): void;
  pushG711(bytes: Uint8Array | null, encoding?: 'ulaw' | 'alaw' | 0 | 1, sampleRate?: number): void;
  pushDtmf(digit: string): void;
  pushMarkPlayed(name: string): void;
  /**
   * Speaks text with a TTS (built-in, or registered with runtime.registerTts()) and queues a
   * mark; returns the mark's name at once (await it with waitMark()).
   */
  speak(text: string, options?: SpeakOptions | string | null): string;

  // agent sessions
  /**
   * Answers a 'toolCall': result is a JSON string (passed as is) or any other value
   * (JSON.stringify'd). Throws PARLEY_EFORMAT (not JSON) or PARLEY_ESTATE (no agent, closed).
   */
  toolResult(toolCallId: string, result: unknown): void;

  on<K extends keyof SessionEvents>(event: K, listener: (...args: SessionEvents[K]) => void): this;
  once<K extends keyof SessionEvents>(event: K, listener: (...args: SessionEvents[K]) => void): this;
  off<K extends keyof SessionEvents>(event: K, listener: (...args: SessionEvents[K]) => void): this;
  emit<K extends keyof SessionEvents>(event: K, ...args: SessionEvents[K]): boolean;
}

/** A listener accepting calls (runtime.startListener()). */
export declare class Listener {
  private constructor();
  readonly runtime: Runtime;
  /** The bound TCP port (the real one when the config said 0). */
  readonly port: number;
  readonly id: string;
  readonly closed: boolean;
  /** Stops accepting, drains, hangs up what is left; resolves with how many were hung up. */
  stop(drainTimeoutMs?: number): Promise<number>;
  /** Frees the listener at once. A second call throws PARLEY_ESTATE. */
  close(): void;
}

export interface SpeakOptions {
  /** The TTS config, e.g. {provider: 'my-voice'}; default espeak. */
  tts?: { provider: string; [key: string]: unknown };
  /** The mark's name; default 'speak-N'. */
  mark?: string;
}

export type ProviderKind = 'llm' | 'tts' | 'stt';

/** The payload of a provider request (parley.h). */
export interface ProviderRequestPayload {
  op: 'synthesize' | 'complete' | 'start' | 'audio' | 'finalize' | 'cancel' | string;
  request: number;
  kind: ProviderKind;
  provider: string;
  text?: string;
  messages?: ChatMessage[];
  tools?: unknown[];
  temperature?: number;
  max_tokens?: number;
  sample_rate?: number;
  [key: string]: unknown;
}

/** One request to a host-implemented provider, answered by id. */
export declare class ProviderRequest {
  protected constructor();
  readonly id: number;
  readonly kind: ProviderKind;
  readonly provider: string;
  /** The requesting session ('' outside a call). */
  readonly sessionId: string;
  readonly payload: ProviderRequestPayload;
  /** Aborts when the engine cancels the request or the runtime closes. */
  readonly signal: AbortSignal;
  readonly cancelled: boolean;
  pushAudio(samples: Int16Array): void;
  pushText(text: string): void;
  pushToolCall(index: number, callId?: string | null, name?: string | null, args?: string | null): void;
  pushTranscript(text: string, isFinal?: boolean, speechFinal?: boolean): void;
  complete(detail?: Record<string, unknown> | string | null): void;
  fail(message: string, status?: StatusName | number): void;
}

export declare class TtsRequest extends ProviderRequest {
  readonly text: string;
  /** Push audio at this rate. */
  readonly sampleRate: number;
}

export declare class LlmRequest extends ProviderRequest {
  readonly messages: ChatMessage[];
  readonly tools: unknown[];
  readonly temperature?: number;
  readonly maxTokens?: number;
  finish(finishReason: string | null, promptTokens: number, completionTokens: number): void;
}

export type SttInput = { audio: Int16Array; finalize?: undefined } | { finalize: true; audio?: undefined };

/** An STT stream: iterate it for its input; the loop ends when the engine ends the stream. */
export declare class SttRequest extends ProviderRequest implements AsyncIterable<SttInput> {
  readonly sampleRate: number;
  readonly input: AsyncIterable<SttInput>;
  /** The next input, or null once the stream ended. */
  read(): Promise<SttInput | null>;
  [Symbol.asyncIterator](): AsyncIterator<SttInput>;
}

export type ProviderContext = { signal: AbortSignal };
export type TtsImplementation =
  | ((request: TtsRequest, context: ProviderContext) => Promise<void> | void)
  | { synthesize(request: TtsRequest, context: ProviderContext): Promise<void> | void };
export type LlmImplementation =
  | ((request: LlmRequest, context: ProviderContext) => Promise<void> | void)
  | { complete(request: LlmRequest, context: ProviderContext): Promise<void> | void };
export type SttImplementation =
  | ((request: SttRequest, context: ProviderContext) => Promise<void> | void)
  | { recognize(request: SttRequest, context: ProviderContext): Promise<void> | void };

export interface RuntimeEvents {
  session: [session: Session, info: SessionInfo | null];
  rejected: [payload: { listener: string; remote: string; reason: string }];
  user: [payload: any, event: ParleyEvent];
  overflow: [dropped: number];
  log: [message: string, level: LogLevelName | number];
  error: [error: Error];
  /** A request for a provider registered without an implementation. */
  providerRequest: [payload: ProviderRequestPayload, event: ParleyEvent];
  event: [event: ParleyEvent];
  close: [];
}

/** A latency distribution over 1 ms buckets, in milliseconds (only `count` while it is 0). */
export interface LatencyStats {
  count: number;
  p50?: number;
  p95?: number;
  p99?: number;
  max?: number;
}

/** What every call of a runtime added up to: runtime.stats() (docs/agent.md, "Runtime counters"). */
export interface RuntimeStats {
  calls: { active: number; started: number; ended: number };
  frames: { caller: number; agent: number; audio_events_dropped: number };
  agent: {
    turns: number;
    interruptions: number;
    false_interruptions: number;
    tool_calls: number;
    tool_timeouts: number;
    provider_errors: number;
    tokens_in: number;
    tokens_out: number;
  };
  latency_ms: {
    /** Caller speech end to the first agent frame of the answer. */
    voice_to_voice: LatencyStats;
    endpointing: LatencyStats;
    stt_final: LatencyStats;
    llm_first_token: LatencyStats;
    tts_first_byte: LatencyStats;
    /** Caller speech start to the transport's clear. */
    barge_in: LatencyStats;
  };
}

/** A Parley runtime. */
export declare class Runtime extends EventEmitter {
  /** Throws ParleyError PARLEY_ECONFIG naming the JSON path of a bad key. */
  constructor(config?: Config);
  readonly closed: boolean;
  /** Live sessions (started and not stopped). */
  readonly sessions: Session[];
  postEvent(payload: unknown): void;
  /** The runtime's counters and latency distributions since it was created. */
  stats(): RuntimeStats;
  log(level: LogLevelName | number, message: string): void;
  /** Delivers log records at or above `level` as 'log' events; null stops. */
  setLogLevel(level: LogLevelName | number | null): void;
  startListener(config: Config): Listener;
  createHostSession(config?: Config): Session;
  openSession(sessionId: string): Session;
  /** A voice written in JS; configs name it like a built-in one. */
  registerTts(name: string, synthesize: TtsImplementation, options?: { sampleRate?: number }): void;
  registerLlm(name: string, complete: LlmImplementation): void;
  registerStt(name: string, recognize: SttImplementation, options?: { sampleRate?: number }): void;
  /** implementation null: requests are 'providerRequest' events. */
  registerProvider(kind: ProviderKind | string, name: string, options?: Config,
                   implementation?: TtsImplementation | LlmImplementation | SttImplementation | null): void;
  /** A handle to answer request `id` of a 'providerRequest' event. */
  providerRequest(id: number | bigint): ProviderRequest;
  ref(): this;
  unref(): this;
  /** Closes everything. A second call rejects with PARLEY_ESTATE. */
  close(): Promise<void>;

  on<K extends keyof RuntimeEvents>(event: K, listener: (...args: RuntimeEvents[K]) => void): this;
  once<K extends keyof RuntimeEvents>(event: K, listener: (...args: RuntimeEvents[K]) => void): this;
  off<K extends keyof RuntimeEvents>(event: K, listener: (...args: RuntimeEvents[K]) => void): this;
  emit<K extends keyof RuntimeEvents>(event: K, ...args: RuntimeEvents[K]): boolean;
}

export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function';
  content: string | unknown[] | null;
  name?: string;
  tool_calls?: unknown[];
  tool_call_id?: string;
  /** Protects the message from compression (removed from what prepare() returns). */
  pinned?: boolean;
  [key: string]: unknown;
}

export interface BudgetEvents {
  compression: [event: { action: 'compress' | 'rollback'; [key: string]: unknown }];
  violation: [event: { kind: 'ttft_over_target' | 'budget_unreachable'; [key: string]: unknown }];
}

/** The TTFT budget controller, standalone. */
export declare class Budget extends EventEmitter {
  constructor(config?: Config);
  readonly closed: boolean;
  prepare(messages: ChatMessage[] | string): ChatMessage[];
  recordTtft(ttftMs: number, promptTokens?: number): void;
  stats(): Record<string, unknown>;
  report(format?: 'json'): Record<string, unknown>;
  report(format: 'text'): string;
  countTokens(text: string): number;
  selectModel(provider: string, model?: string | null): void;
  setEmbedder(embed: ((text: string) => Float32Array | number[] | null) | null): void;
  setSummarizer(summarize: ((requestId: number, messages: ChatMessage[]) => void) | null): void;
  provideSummary(requestId: number | bigint, summary: string): void;
  /** A second call throws PARLEY_ESTATE. */
  close(): void;

  on<K extends keyof BudgetEvents>(event: K, listener: (...args: BudgetEvents[K]) => void): this;
  once<K extends keyof BudgetEvents>(event: K, listener: (...args: BudgetEvents[K]) => void): this;
}

/** The loaded library's version, "MAJOR.MINOR.PATCH". */
export declare function version(): string;
export declare function versionNumbers(): { major: number; minor: number; patch: number };
/** The header version the addon was compiled against. */
export declare const headerVersion: string;
export declare function selftest(): { ok: boolean; checks: Array<Record<string, unknown>> };
/** Where the addon was loaded from. */
export declare const addonPath: string;
