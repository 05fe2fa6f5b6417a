'use strict';
// examples/node/echo-agent.js answers loadgen's calls and prints their events.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { loadgen } = require('./helpers');

const example = path.join(__dirname, '..', '..', '..', 'examples', 'node', 'echo-agent.js');

test('the Node example answers two Twilio calls and prints their events', async () => {
  const agent = spawn(process.execPath, [example, '--port', '0', '--calls', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  agent.stderr.on('data', (chunk) => {
    err += chunk;
  });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no port: ${out}${err}`)), 10000);
    agent.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on ws:\/\/127\.0\.0\.1:(\d+)\/twilio/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  const exited = new Promise((resolve) => agent.on('exit', (code, signal) => resolve({ code, signal })));
  const result = await loadgen(port, { calls: 2, duration: 2, dtmfEvery: 0.5 });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const timeout = setTimeout(() => agent.kill('SIGKILL'), 15000);
  const { code, signal } = await exited;
  clearTimeout(timeout);
  assert.equal(signal, null, err);
  assert.equal(code, 0, err);
  assert.equal((out.match(/\] started: call CA/g) || []).length, 2, out);
  assert.ok((out.match(/\] dtmf: /g) || []).length >= 2, out);
  assert.ok((out.match(/\] mark: echo-1 played/g) || []).length >= 2, out);
  assert.equal((out.match(/\] stopped: caller hung up/g) || []).length, 2, out);
  assert.match(out, /stopped \(done\); 0 calls hung up/);
});
