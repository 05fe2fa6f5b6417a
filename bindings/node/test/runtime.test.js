'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { parley, quietRuntime, once, expectParleyError } = require('./helpers');

test('runtime lifecycle: create, use, close; closed runtimes refuse calls with ParleyError', async () => {
  const runtime = quietRuntime({ io_threads: 2, worker_threads: 1 });
  assert.equal(runtime.closed, false);
  runtime.postEvent({ hello: 'world' });
  const [payload, event] = await once(runtime, 'user');
  assert.deepEqual(payload, { hello: 'world' });
  assert.equal(event.type, 'user');
  assert.equal(event.sessionId, '');
  assert.ok(event.timestampUs > 0);

  const closed = once(runtime, 'close');
  await runtime.close();
  await closed;
  assert.equal(runtime.closed, true);

  await expectParleyError(() => runtime.close(), 'PARLEY_ESTATE', /runtime is closed/);
  await expectParleyError(() => runtime.postEvent({}), 'PARLEY_ESTATE', /runtime is closed/);
  await expectParleyError(() => runtime.createHostSession({}), 'PARLEY_ESTATE', /runtime is closed/);
  await expectParleyError(() => runtime.startListener({ transport: 'twilio', port: 0 }), 'PARLEY_ESTATE');
  await expectParleyError(() => runtime.openSession('S1'), 'PARLEY_ESTATE');
  await expectParleyError(() => runtime.log('info', 'x'), 'PARLEY_ESTATE');
});

test('default configuration (no config, null, "{}") works', async () => {
  for (const config of [undefined, null, '{}']) {
    const runtime = new parley.Runtime(config);
    await runtime.close();
  }
});

test('many runtimes at once, closed in any order', async () => {
  const runtimes = Array.from({ length: 8 }, () => quietRuntime());
  for (const [i, runtime] of runtimes.entries()) runtime.postEvent({ i });
  const got = await Promise.all(runtimes.map((runtime) => once(runtime, 'user')));
  assert.deepEqual(got.map(([payload]) => payload.i), [0, 1, 2, 3, 4, 5, 6, 7]);
  await Promise.all(runtimes.reverse().map((runtime) => runtime.close()));
});

test('a bad runtime config is a ParleyError naming the JSON path', async () => {
  const error = await expectParleyError(() => new parley.Runtime({ io_threads: 'x' }), 'PARLEY_ECONFIG', /\$\.io_threads/);
  assert.ok(error instanceof Error);
  assert.equal(error.name, 'ParleyError');
  assert.equal(error.statusCode, -2);
  await expectParleyError(() => new parley.Runtime('{"io_threads": "x"}'), 'PARLEY_ECONFIG', /\$\.io_threads/);
  await expectParleyError(() => new parley.Runtime({ nope: 1 }), 'PARLEY_ECONFIG', /\$\.nope: unknown key/);
  await expectParleyError(() => new parley.Runtime({ log: { level: 'loud' } }), 'PARLEY_ECONFIG', /\$\.log\.level/);
  await expectParleyError(() => new parley.Runtime('{'), 'PARLEY_ECONFIG', /not valid JSON/);
  await expectParleyError(() => new parley.Runtime('[]'), 'PARLEY_ECONFIG', /expected an object/);
  assert.throws(() => new parley.Runtime(42), TypeError);
});

test('log records reach JS as log events', async () => {
  const runtime = quietRuntime();
  const lines = [];
  runtime.on('log', (message, level) => lines.push({ message, level }));
  runtime.setLogLevel('info');
  runtime.log('warn', 'hello from node');
  runtime.log('debug', 'below the level');
  runtime.postEvent({ flush: true });
  await once(runtime, 'user');
  await new Promise((resolve) => setTimeout(resolve, 100));
  const mine = lines.filter((line) => /hello from node/.test(line.message));
  assert.equal(mine.length, 1, JSON.stringify(lines));
  assert.equal(mine[0].level, 'warn');
  assert.ok(!lines.some((line) => /below the level/.test(line.message)));
  runtime.setLogLevel(null);
  await expectParleyError(() => runtime.setLogLevel(7), 'PARLEY_EINVAL', /log level 7/);
  await expectParleyError(() => runtime.log(9, 'x'), 'PARLEY_EINVAL', /log level 9/);
  assert.throws(() => runtime.log('loud', 'x'), TypeError);
  await runtime.close();
});

test('a full event queue is PARLEY_EFULL, then one overflow event reports the drops', async () => {
  const runtime = quietRuntime({ event_queue_capacity: 16 });
  let full = null;
  let posted = 0;
  // The poll thread drains concurrently, but JS does not take while this loop runs: the
  // handoff fills up, then the engine's queue, and posting fails.
  for (let i = 0; i < 50000 && !full; i++) {
    try {
      runtime.postEvent({ i });
      posted++;
    } catch (error) {
      full = error;
    }
  }
  assert.ok(full, 'the queue never filled');
  assert.ok(full instanceof parley.ParleyError);
  assert.equal(full.status, 'PARLEY_EFULL');
  assert.match(full.message, /event queue is full \(capacity 16\)/);
  const [dropped] = await once(runtime, 'overflow');
  assert.ok(dropped >= 1, `dropped ${dropped}`);
  await runtime.close();
  assert.ok(posted > 0);
});
