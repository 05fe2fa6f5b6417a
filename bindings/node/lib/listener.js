'use strict';
const { stateError } = require('./errors');
const { kInternal } = require('./util');

/**
 * A listener accepting calls of one transport (runtime.startListener()). Each call becomes a
 * Session, announced by the runtime's 'session' event.
 */
class Listener {
  /** @internal */
  constructor(token, runtime, nativeListener, release) {
    if (token !== kInternal) throw new TypeError('Listener objects are created by Runtime.startListener()');
    this.runtime = runtime;
    this._native = nativeListener;
    this._release = release; // drops the runtime's keep-alive hold
    this._stopping = null;
    this._closed = false;
    this.port = nativeListener.port;
    this.id = nativeListener.id;
  }

  get closed() {
    return this._closed || this._native.closed;
  }

  /**
   * Stops accepting calls and lets live ones end for up to drainTimeoutMs (then hangs them
   * up). Resolves with the number of calls that had to be hung up. Calling it again returns
   * the same Promise; after close() it rejects with PARLEY_ESTATE.
   */
  stop(drainTimeoutMs = 0) {
    if (this.closed) return Promise.reject(stateError(`listener ${this.id} is closed`));
    if (this._stopping) return this._stopping;
    let job;
    try {
      job = this._native.stop(drainTimeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    this._stopping = this.runtime._awaitJob(job).then(
      (hungUp) => {
        this._release();
        return hungUp;
      },
      (error) => {
        this._stopping = null; // e.g. a bad timeout: the listener still runs
        throw error;
      });
    return this._stopping;
  }

  /**
   * Frees the listener at once (stops accepting, no draining; live calls carry on). Closing
   * twice throws a PARLEY_ESTATE ParleyError.
   */
  close() {
    if (this.closed) throw stateError(`listener ${this.id} is closed`);
    this._closed = true;
    this._native.destroy();
    this._release();
  }
}

module.exports = { Listener };
