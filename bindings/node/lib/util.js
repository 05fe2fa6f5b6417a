'use strict';

/** Config as the C ABI wants it: null (defaults), a JSON string, or an object to stringify. */
function configJson(config, what = 'config') {
  if (config === undefined || config === null) return null;
  if (typeof config === 'string') return config;
  if (typeof config === 'object') return JSON.stringify(config);
  throw new TypeError(`${what} must be an object, a JSON string, or null`);
}

/** Runs fn, turning a synchronous throw into a rejected Promise. */
function promiseFrom(fn) {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Guards constructors that only the binding may call. */
const kInternal = Symbol('parley.internal');

module.exports = { configJson, promiseFrom, kInternal };
