'use strict';
// Shared helpers for the binding's tests (node --test).
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const bindingDir = path.join(__dirname, '..');
const parley = require(bindingDir);

function parleyPrefix() {
  if (process.env.PARLEY_PREFIX) return process.env.PARLEY_PREFIX;
  const top = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: __dirname, encoding: 'utf8' }).trim();
  return path.join(top, 'build', 'release', 'install');
}

function parleyCli() {
  const cli = path.join(parleyPrefix(), 'bin', 'parley');
  if (!fs.existsSync(cli)) throw new Error(`parley CLI not found at ${cli} (set PARLEY_PREFIX)`);
  return cli;
}

// Runtimes a failing test left open would keep its file's process alive (a running listener
// does, by design): close them after the file's tests.
const created = new Set();
require('node:test').after(async () => {
  for (const runtime of created) {
    if (!runtime.closed) await runtime.close();
  }
});

/** A runtime that logs nowhere (tests read events, not stderr). */
function quietRuntime(extra = {}) {
  const runtime = new parley.Runtime({ log: { sink: 'none' }, ...extra });
  created.add(runtime);
  return runtime;
}

/** An echo Twilio listener on a free loopback port. */
function echoListener(runtime, extra = {}) {
  return runtime.startListener({
    transport: 'twilio', address: '127.0.0.1', port: 0, path: '/twilio', behaviour: 'echo', ...extra,
  });
}

/** A unique path under the system temp folder. */
function tmpName(prefix, suffix = '') {
  return path.join(os.tmpdir(), `${prefix}-${process.pid}-${crypto.randomBytes(6).toString('hex')}${suffix}`);
}

/** Resolves when `emitter` emits `event` (with its arguments), rejects after timeoutMs. */
function once(emitter, event, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, on);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${event}'`));
    }, timeoutMs);
    function on(...args) {
      clearTimeout(timer);
      resolve(args);
    }
    emitter.once(event, on);
  });
}

/** Polls `predicate` until true, or rejects after timeoutMs. */
async function until(predicate, timeoutMs = 10000, what = 'condition') {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Runs a child process; resolves with {code, signal, stdout, stderr, ms}. Killed after timeoutMs. */
function run(command, args, { timeoutMs = 60000, env, onStdout, input } = {}) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, args, { env: env || process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (onStdout) onStdout(stdout, child);
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started, child });
    });
    run.last = child;
  });
}

/** `parley loadgen` against a local listener; resolves with its exit code and JSON report. */
async function loadgen(port, { calls = 2, duration = 2, dtmfEvery, extra = [], timeoutMs = 60000 } = {}) {
  const args = ['loadgen', '--url', `ws://127.0.0.1:${port}/twilio`, '--calls', String(calls), '--duration', String(duration), '--json'];
  if (dtmfEvery !== undefined) args.push('--dtmf-every', String(dtmfEvery));
  args.push(...extra);
  const result = await run(parleyCli(), args, { timeoutMs });
  let report = null;
  try {
    report = JSON.parse(result.stdout);
  } catch (_) {
    // left null; the caller's assertion shows stdout/stderr
  }
  return { ...result, report };
}

/** One 20 ms frame of a 440 Hz tone at `rate`. */
function toneFrame(rate = 16000, ms = 20) {
  const n = (rate * ms) / 1000;
  const frame = new Int16Array(n);
  for (let i = 0; i < n; i++) frame[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate));
  return frame;
}

/** global.gc, even when node was started without --expose-gc. */
function gc() {
  if (typeof global.gc === 'function') return global.gc();
  require('node:v8').setFlagsFromString('--expose-gc');
  global.gc = require('node:vm').runInNewContext('gc');
  return global.gc();
}

/** Asserts that fn throws (or rejects with) a ParleyError of `status` whose message matches. */
async function expectParleyError(fn, status, messagePattern) {
  const assert = require('node:assert/strict');
  let error = null;
  try {
    await fn();
  } catch (caught) {
    error = caught;
  }
  assert.ok(error, `expected a ParleyError ${status}, nothing was thrown`);
  assert.ok(error instanceof parley.ParleyError, `expected a ParleyError, got ${error && error.stack}`);
  assert.equal(error.status, status, `status of: ${error.message}`);
  assert.equal(error.statusCode, parley.Status[status]);
  assert.equal(error.code, status);
  if (messagePattern) assert.match(error.message, messagePattern);
  return error;
}

module.exports = {
  parley, bindingDir, parleyPrefix, parleyCli, quietRuntime, echoListener, tmpName, once, until, run, loadgen,
  toneFrame, gc, expectParleyError,
};
