'use strict';
const native = require('./native');

/** Status codes of the C ABI (parley_status). Values are stable forever. */
const Status = Object.freeze({
  PARLEY_OK: 0,
  PARLEY_EINVAL: -1,
  PARLEY_ECONFIG: -2,
  PARLEY_ENOMEM: -3,
  PARLEY_ESTATE: -4,
  PARLEY_ETIMEOUT: -5,
  PARLEY_ENOTFOUND: -6,
  PARLEY_EUNSUPPORTED: -7,
  PARLEY_EIO: -8,
  PARLEY_EFORMAT: -9,
  PARLEY_EPROTOCOL: -10,
  PARLEY_EPROVIDER: -11,
  PARLEY_ECANCELLED: -12,
  PARLEY_EFULL: -13,
  PARLEY_EINTERNAL: -99,
});

/**
 * Every non-zero status of the engine becomes a ParleyError carrying the engine's message.
 *   err.status      'PARLEY_ECONFIG'  (the status name; also err.code)
 *   err.statusCode  -2
 *   err.message     the engine's message, e.g. 'runtime config: $.io_threads: ...'
 */
class ParleyError extends Error {
  constructor(message, statusCode = Status.PARLEY_EINTERNAL, statusName) {
    super(message);
    const name = statusName || native.statusName(statusCode);
    Object.defineProperty(this, 'name', { value: 'ParleyError', enumerable: false, configurable: true, writable: true });
    this.status = name;
    this.statusCode = statusCode;
    this.code = name;
  }
}

/** A ParleyError raised by the binding itself (closed handles, misuse), in the engine's style. */
function stateError(message) {
  return new ParleyError(message, Status.PARLEY_ESTATE, 'PARLEY_ESTATE');
}

native.setErrorClass(ParleyError);

module.exports = { ParleyError, Status, stateError };
