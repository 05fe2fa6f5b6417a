'use strict';
// The addon is context-aware: it works inside worker_threads, several at once, and a worker
// terminated with everything open takes nothing down with it.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { spawn } = require('node:child_process');
const { bindingDir, parleyCli, quietRuntime, once, toneFrame, until } = require('./helpers');

const script = path.join(__dirname, 'fixtures', 'worker.js');

function worker(mode, index = 0) {
  return new Worker(script, { workerData: { binding: bindingDir, mode, index } });
}

test('three workers and the main thread use their own runtimes at the same time', async () => {
  const main = quietRuntime();
  const session = main.createHostSession({ behaviour: 'echo' });
  let audio = 0;
  session.on('audio', () => audio++);
  const pump = setInterval(() => session.pushAudio(toneFrame(), 16000), 20);

  const workers = [1, 2, 3].map((index) => worker('normal', index));
  const exits = workers.map((w) => once(w, 'exit', 30000));
  const results = await Promise.all(workers.map((w) => once(w, 'message', 30000)));
  assert.deepEqual((await Promise.all(exits)).map(([code]) => code), [0, 0, 0]);
  clearInterval(pump);
  for (const [result] of results) {
    assert.ok(result.audio >= 25, `audio events in a worker: ${result.audio}`);
    assert.equal(result.users, 30);
    assert.ok(result.tokens >= 3);
    assert.equal(result.configError.isParley, true);
    assert.equal(result.configError.status, 'PARLEY_ECONFIG');
    assert.match(result.configError.message, /\$\.io_threads/);
    assert.equal(result.stats.reason, 'closed by host');
    assert.equal(result.version, require('..').version());
  }
  assert.ok(audio > 10, `main-thread audio events ${audio}`);
  await session.close();
  await main.close();
});

test('terminating a worker with a listener, sessions, a drain and pending waits open is clean', async () => {
  for (let round = 0; round < 3; round++) {
    const w = worker('busy');
    const [message] = await once(w, 'message', 20000);
    assert.equal(message.ready, true, JSON.stringify(message));
    let caller = null;
    if (round === 0) {
      // A live Twilio call, and a 60 s listener drain waiting for it.
      caller = spawn(parleyCli(), ['loadgen', '--url', `ws://127.0.0.1:${message.port}/twilio`, '--calls', '1', '--duration', '30'], { stdio: 'ignore' });
      const [call] = await once(w, 'message', 20000);
      assert.match(call.call, /^S/);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const exited = once(w, 'exit', 20000);
    const started = Date.now();
    await w.terminate();
    await exited;
    assert.ok(Date.now() - started < 5000, `terminate took ${Date.now() - started} ms`);
    if (caller) caller.kill('SIGKILL');
  }
  // The main thread's own runtime still works.
  const runtime = quietRuntime();
  runtime.postEvent({ after: 'terminate' });
  const [payload] = await once(runtime, 'user');
  assert.equal(payload.after, 'terminate');
  await runtime.close();
});

test('process.exit() inside a worker ends only the worker, with its code', async () => {
  const w = worker('exitFromWorker');
  const [code] = await once(w, 'exit', 20000);
  assert.equal(code, 7);
});

test('a worker whose script ends with an unref()\'d runtime and an open session exits by itself', async () => {
  const w = worker('ends');
  let started = false;
  w.on('message', (message) => {
    started = message.started;
  });
  const [code] = await once(w, 'exit', 10000);
  assert.equal(code, 0);
  await until(() => started, 1000, 'the worker to have started');
});
