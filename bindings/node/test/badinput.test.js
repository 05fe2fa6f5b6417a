'use strict';
// Bad input: every non-zero status is a ParleyError with the engine's message; null and
// undefined reach the C ABI as NULL (and come back as PARLEY_EINVAL); wrong JS types are
// TypeErrors; closed handles never crash.
const test = require('node:test');
const assert = require('node:assert/strict');
const { parley, quietRuntime, toneFrame, expectParleyError } = require('./helpers');
const native = require('../lib/native');

test('null and undefined become NULL for the engine, which answers PARLEY_EINVAL', async () => {
  const runtime = quietRuntime();
  await expectParleyError(() => runtime.openSession(null), 'PARLEY_EINVAL', /session_id must not be NULL/);
  await expectParleyError(() => runtime.openSession(undefined), 'PARLEY_EINVAL', /session_id must not be NULL/);
  await expectParleyError(() => runtime.startListener(null), 'PARLEY_EINVAL', /config_json must not be NULL/);
  await expectParleyError(() => runtime.postEvent(null), 'PARLEY_EINVAL', /payload_json must not be NULL/);
  await expectParleyError(() => runtime.log('info', null), 'PARLEY_EINVAL', /message must not be NULL/);
  const session = runtime.createHostSession(undefined);
  await expectParleyError(() => session.sendMark(null), 'PARLEY_EINVAL', /name must not be NULL/);
  await expectParleyError(() => session.pushDtmf(undefined), 'PARLEY_EINVAL', /digit must not be NULL/);
  await expectParleyError(() => session.pushMarkPlayed(null), 'PARLEY_EINVAL', /name must not be NULL/);
  await expectParleyError(() => session.startRecording(null), 'PARLEY_EINVAL', /path must not be NULL/);
  await expectParleyError(() => session.waitMark(null), 'PARLEY_EINVAL', /name must not be NULL/);
  // NULL audio with zero samples is a valid empty push.
  session.pushAudio(null, 16000);
  session.play(null, 16000);
  session.pushG711(null, 'ulaw', 8000);
  session.hangUp(null);
  await runtime.close();
});

test('other bad values: the engine message comes through', async () => {
  const runtime = quietRuntime();
  await expectParleyError(() => runtime.openSession('S-no-such-call'), 'PARLEY_ENOTFOUND', /no live session with id 'S-no-such-call'/);
  await expectParleyError(() => runtime.postEvent('not json'), 'PARLEY_EFORMAT', /not valid JSON/);
  await expectParleyError(() => runtime.startListener('{"transport":'), 'PARLEY_ECONFIG', /not valid JSON/);
  await expectParleyError(() => runtime.startListener({ transport: 'twilio', port: 70000 }), 'PARLEY_ECONFIG', /\$\.port/);
  await expectParleyError(() => runtime.startListener({ transport: 'twilio', port: 0, address: 'not an address' }), 'PARLEY_ECONFIG', /not an IP address/);
  await runtime.close();
});

test('wrong JS types are TypeErrors, before anything reaches the engine', async () => {
  const runtime = quietRuntime();
  const session = runtime.createHostSession({});
  assert.throws(() => runtime.openSession(42), TypeError);
  assert.throws(() => runtime.startListener(42), TypeError);
  assert.throws(() => session.pushAudio(new Float32Array(320), 16000), TypeError);
  assert.throws(() => session.pushAudio([1, 2, 3], 16000), TypeError);
  assert.throws(() => session.pushAudio(new Int16Array(320), '16000'), TypeError);
  assert.throws(() => session.pushAudio(new Int16Array(320), 16000.5), TypeError);
  assert.throws(() => session.play(new Uint8Array(10), 16000), TypeError);
  assert.throws(() => session.pushG711(new Int16Array(10), 'ulaw'), TypeError);
  assert.throws(() => session.pushG711(new Uint8Array(10), 'mp3'), TypeError);
  assert.throws(() => session.sendMark({}), TypeError);
  await assert.rejects(session.waitMark('x', 'soon'), TypeError);
  assert.throws(() => new parley.Session(), TypeError);
  assert.throws(() => new parley.Listener(), TypeError);
  assert.throws(() => new native.NativeSession(), TypeError);
  assert.throws(() => new native.NativeListener({}), TypeError);
  assert.throws(() => new native.NativeRuntime(null), TypeError);
  assert.throws(() => new native.NativeRuntime(null, 'not a function'), TypeError);
  // Audio views with an offset are read from the right place.
  const big = new Int16Array(1000);
  session.pushAudio(big.subarray(100, 420), 16000);
  await session.close();
  await runtime.close();
});

test('closing twice, using closed handles: ParleyError PARLEY_ESTATE, never a crash', async () => {
  const runtime = quietRuntime();
  const session = runtime.createHostSession({});
  const listener = runtime.startListener({ transport: 'twilio', address: '127.0.0.1', port: 0 });
  const budget = new parley.Budget();
  await session.close();
  await expectParleyError(() => session.close(), 'PARLEY_ESTATE');
  listener.close();
  assert.throws(() => listener.close(), (error) => error.status === 'PARLEY_ESTATE');
  budget.close();
  assert.throws(() => budget.close(), (error) => error.status === 'PARLEY_ESTATE');
  await runtime.close();
  await expectParleyError(() => runtime.close(), 'PARLEY_ESTATE');
  // Every method of every closed object, with good and bad arguments.
  const calls = [
    () => session.play(toneFrame(), 16000), () => session.sendMark('m'), () => session.clear(),
    () => session.hangUp(), () => session.startRecording('/tmp/x.wav'), () => session.stopRecording(),
    () => session.pushAudio(toneFrame(), 16000), () => session.pushG711(new Uint8Array(160)),
    () => session.pushDtmf('1'), () => session.pushMarkPlayed('m'), () => session.waitMark('m'),
    () => runtime.postEvent({}), () => runtime.createHostSession(null), () => runtime.openSession(null),
    () => runtime.setLogLevel('info'), () => listener.stop(), () => budget.prepare([]),
    () => budget.recordTtft(1), () => budget.report(), () => budget.provideSummary(1, 'x'),
  ];
  for (const call of calls) await expectParleyError(call, 'PARLEY_ESTATE');
  assert.equal(session.state, 'closed');
  session.destroy();
  session.destroy();
  runtime.ref();
  runtime.unref();
});

test('a Session of a call that ended before it was opened is a closed Session', async () => {
  const runtime = quietRuntime();
  const host = runtime.createHostSession({});
  const id = host.id;
  await host.close();
  await expectParleyError(() => runtime.openSession(id), 'PARLEY_ENOTFOUND');
  await runtime.close();
});
