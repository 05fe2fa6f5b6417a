'use strict';
// The process exits cleanly with calls still open (no hang, no crash, the right exit code).
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { bindingDir, parleyCli } = require('./helpers');

const fixture = path.join(__dirname, 'fixtures', 'open-calls.js');

/**
 * Starts the fixture in `mode`; once it has a live Twilio call (a loadgen caller), resolves
 * with how the child ended: {code, signal, stdout, stderr, afterCallMs} or {stillRunning}.
 */
function runWithOpenCall(mode, { waitMs = 8000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, bindingDir, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let caller = null;
    let callAt = 0;
    let settled = false;
    const finish = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (caller && caller.exitCode === null) caller.kill('SIGKILL');
      resolve({ ...result, stdout, stderr });
    };
    const timer = setTimeout(() => {
      const stillRunning = child.exitCode === null && child.signalCode === null;
      child.kill('SIGKILL');
      finish({ stillRunning, afterCallMs: callAt ? Date.now() - callAt : -1 });
    }, waitMs + 10000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const ready = /READY (\d+)/.exec(stdout);
      if (ready && !caller && ready[1] !== '0') {
        caller = spawn(parleyCli(), ['loadgen', '--url', `ws://127.0.0.1:${ready[1]}/twilio`, '--calls', '1', '--duration', '30', '--json'], { stdio: 'ignore' });
      }
      if (!callAt && /CALL /.test(stdout)) {
        callAt = Date.now();
        if (mode === 'keep') {
          setTimeout(() => {
            const stillRunning = child.exitCode === null && child.signalCode === null;
            child.kill('SIGTERM');
            finish({ stillRunning });
          }, 1500);
        }
      }
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => finish({ code, signal, afterCallMs: callAt ? Date.now() - callAt : -1 }));
  });
}

test('runtime.unref(): the process exits by itself with a live call, a host session and a pending wait', async () => {
  const result = await runWithOpenCall('unref');
  assert.equal(result.signal, null, result.stderr);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /CALL S/);
  assert.ok(result.afterCallMs >= 0 && result.afterCallMs < 5000, `exited ${result.afterCallMs} ms after the call started`);
});

test('process.exit() with calls open exits with its code, no crash', async () => {
  const result = await runWithOpenCall('exit');
  assert.equal(result.signal, null, result.stderr);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /CALL S/);
});

test('an uncaught exception with calls open exits with code 1, no crash', async () => {
  const result = await runWithOpenCall('throw');
  assert.equal(result.signal, null, result.stderr);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /boom with calls open/);
});

test('a running listener keeps the process alive (like a net.Server)', async () => {
  const result = await runWithOpenCall('keep');
  assert.equal(result.stillRunning, true, result.stderr);
});

test('an idle runtime does not keep the process alive, and posted events are delivered first', async () => {
  const result = await runWithOpenCall('idle', { waitMs: 5000 });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /IDLE-EVENT/);
});
