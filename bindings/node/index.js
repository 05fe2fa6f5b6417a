'use strict';
// @parley/node: the Node.js binding of Parley (a node-addon-api addon over the C ABI).
const native = require('./lib/native');
const { ParleyError, Status } = require('./lib/errors');
const { EventType, LogLevel, ParleyEvent } = require('./lib/events');
const { Runtime } = require('./lib/runtime');
const { Session, MarkOutcome, G711 } = require('./lib/session');
const { Listener } = require('./lib/listener');
const { Budget, ReportFormat } = require('./lib/budget');
const { ProviderRequest, TtsRequest, LlmRequest, SttRequest } = require('./lib/providers');

/** The loaded library's version, "MAJOR.MINOR.PATCH". */
function version() {
  return native.version();
}

/** The loaded library's version numbers. */
function versionNumbers() {
  return native.versionNumbers();
}

/** Round-trips a tone through the codecs and resampler; the engine's JSON report. */
function selftest() {
  return JSON.parse(native.selftest());
}

module.exports = {
  version,
  versionNumbers,
  /** The header version the addon was compiled against. */
  headerVersion: native.headerVersion,
  selftest,
  Runtime,
  Session,
  Listener,
  Budget,
  ProviderRequest,
  TtsRequest,
  LlmRequest,
  SttRequest,
  ParleyError,
  ParleyEvent,
  Status,
  EventType,
  LogLevel,
  MarkOutcome,
  G711,
  ReportFormat,
  /** Where the addon was loaded from. */
  addonPath: native.addonPath,
};
