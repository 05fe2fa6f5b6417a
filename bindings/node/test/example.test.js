'use strict';
// The Node examples answer loadgen's calls: examples/node/agent.js (the appointment agent,
// through examples/node/run.sh) and examples/node/echo-agent.js (the echo agent the npm
// package's test runs from an install folder).
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { loadgen } = require('./helpers');

const examples = path.join(__dirname, '..', '..', '..', 'examples', 'node');
const example = path.join(examples, 'echo-agent.js');

test('the agent example greets two Twilio callers, answers book_appointment and prints the transcripts (examples/node/run.sh)', { timeout: 120000 }, async () => {
  const run = spawn('bash', [path.join(examples, 'run.sh')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  run.stdout.on('data', (chunk) => {
    out += chunk;
  });
  run.stderr.on('data', (chunk) => {
    out += chunk;
  });
  const { code, signal } = await new Promise((resolve) => run.on('exit', (c, s) => resolve({ code: c, signal: s })));
  assert.equal(signal, null, out);
  assert.equal(code, 0, out);
  assert.match(out, /examples\/node: ok \(2 calls greeted by the agent; book_appointment answered and its result said\)/);
  assert.equal((out.match(/^ {2}node \| agent: Thanks for calling Parley Dental\. How can I help\?$/gm) || []).length, 2, out);
});

test('the echo example answers two Twilio calls and prints their events', async () => {
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
