'use strict';
// A Twilio-protocol call against an in-process echo listener, driven by `parley loadgen`.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const {
  parley, quietRuntime, echoListener, loadgen, tmpName, toneFrame, until, expectParleyError,
} = require('./helpers');

test('echo listener: loadgen calls arrive as sessions with started, dtmf, mark and stopped events', async () => {
  const runtime = quietRuntime({ io_threads: 2 });
  const listener = echoListener(runtime, { caller_audio_events: true });
  assert.ok(listener.port > 0);
  assert.match(listener.id, /twilio/);

  const recording = tmpName('parley-node-rec', '.wav');
  const calls = new Map();
  const checks = [];
  runtime.on('session', (session, info) => {
    const call = { session, info, dtmf: [], marks: [], callerAudio: 0, stopped: null, waited: null };
    calls.set(session.id, call);
    session.on('dtmf', (digit) => call.dtmf.push(digit));
    session.on('mark', (name, outcome) => call.marks.push({ name, outcome }));
    session.on('callerAudio', (samples, rate) => {
      assert.ok(samples instanceof Int16Array);
      assert.equal(rate, 16000);
      call.callerAudio++;
    });
    session.on('stopped', (stats) => {
      call.stopped = stats;
    });
    assert.equal(session.state, 'active');
    assert.equal(session.host, false);
    if (calls.size === 1) {
      // Host-side calls on a Twilio session: recording, play, mark, wait.
      session.startRecording(recording);
      session.play(toneFrame(16000, 200), 16000);
      session.sendMark('node-mark');
      checks.push(session.waitMark('node-mark', 5000).then((outcome) => {
        call.waited = outcome;
      }));
      checks.push(session.waitMark('never-sent', 100).then((outcome) => {
        assert.equal(outcome, 'unknown');
      }));
      checks.push(expectParleyError(() => session.pushAudio(toneFrame(), 16000), 'PARLEY_EINVAL', /not a host-transport session/));
    }
  });

  const result = await loadgen(listener.port, { calls: 2, duration: 2, dtmfEvery: 0.5 });
  assert.equal(result.code, 0, `loadgen failed: ${result.stdout}\n${result.stderr}`);
  assert.equal(result.report.calls_completed, 2);
  assert.equal(result.report.frames_lost, 0);

  await until(() => calls.size === 2 && [...calls.values()].every((call) => call.stopped), 10000, 'two stopped calls');
  await Promise.all(checks);
  for (const call of calls.values()) {
    assert.equal(call.info.transport, 'twilio');
    assert.equal(call.info.behaviour, 'echo');
    assert.match(call.info.call_id, /^CA/);
    assert.equal(call.info.session_id, call.session.id);
    assert.ok(call.dtmf.length >= 2, `dtmf ${call.dtmf}`);
    for (const digit of call.dtmf) assert.match(digit, /^[0-9*#A-D]$/);
    assert.ok(call.marks.some((mark) => mark.outcome === 'played'), JSON.stringify(call.marks));
    assert.ok(call.callerAudio >= 50, `caller audio events ${call.callerAudio}`);
    assert.match(call.stopped.reason, /caller hung up/);
    assert.ok(call.stopped.caller_frames >= 90, JSON.stringify(call.stopped));
    assert.equal(call.stopped.dtmf, call.dtmf.length);
    assert.equal(call.session.stopped, true);
    assert.equal(call.session.state, 'closed');
  }
  const first = [...calls.values()].find((call) => call.waited !== null);
  assert.equal(first.waited, 'played');
  assert.ok(first.marks.some((mark) => mark.name === 'node-mark' && mark.outcome === 'played'));
  assert.equal(runtime.sessions.length, 0);

  // Both calls are counted (their stopped events come after they are counted ended).
  const stats = runtime.stats();
  assert.equal(stats.calls.started, 2, JSON.stringify(stats));
  assert.equal(stats.calls.ended, 2, JSON.stringify(stats));
  assert.ok(stats.frames.caller > 0 && stats.frames.agent > 0, JSON.stringify(stats));
  assert.equal(stats.agent.turns, 0);
  assert.deepEqual(stats.latency_ms.voice_to_voice, { count: 0 });

  // The recording was finished when the call ended.
  const wav = fs.readFileSync(recording);
  fs.unlinkSync(recording);
  assert.equal(wav.subarray(0, 4).toString(), 'RIFF');
  assert.ok(wav.length > 16000, `recording of ${wav.length} bytes`);

  // Handles of ended calls: the engine's own errors, never a crash.
  const { session } = first;
  await expectParleyError(() => session.play(toneFrame(), 16000), 'PARLEY_ESTATE', /is closed/);
  await expectParleyError(() => session.sendMark('late'), 'PARLEY_ESTATE');
  assert.deepEqual(await session.close(), session.stats);
  await expectParleyError(() => session.close(), 'PARLEY_ESTATE', /close\(\) was already called/);
  session.destroy();
  session.destroy();
  await expectParleyError(() => session.clear(), 'PARLEY_ESTATE', /handle was released/);

  const stopping = listener.stop(1000);
  assert.equal(listener.stop(1000), stopping);
  assert.equal(await stopping, 0);
  listener.close();
  await expectParleyError(() => listener.close(), 'PARLEY_ESTATE', /is closed/);
  await expectParleyError(() => listener.stop(), 'PARLEY_ESTATE', /is closed/);
  await runtime.close();
});

test('over max_calls a call is rejected with a rejected event', async () => {
  const runtime = quietRuntime();
  const listener = echoListener(runtime, { max_calls: 1 });
  const rejected = [];
  runtime.on('rejected', (payload) => rejected.push(payload));
  const sessions = [];
  runtime.on('session', (session) => sessions.push(session));
  await loadgen(listener.port, { calls: 2, duration: 1 });
  await until(() => rejected.length === 1, 5000, 'a rejected event');
  assert.match(rejected[0].reason, /capacity/);
  assert.equal(rejected[0].listener, listener.id);
  assert.equal(sessions.length, 1);
  await runtime.close();
});

test('listener.stop() drains, then hangs up live calls and resolves with their number', async () => {
  const runtime = quietRuntime();
  const listener = echoListener(runtime);
  const started = [];
  runtime.on('session', (session) => started.push(session));
  const call = loadgen(listener.port, { calls: 1, duration: 10 });
  await until(() => started.length === 1, 10000, 'a call');
  const hungUp = await listener.stop(200);
  assert.equal(hungUp, 1);
  // stop() resolves after the events of the calls it hung up.
  assert.equal(started[0].stopped, true);
  assert.ok(started[0].stats.reason.length > 0, JSON.stringify(started[0].stats));
  const result = await call;
  assert.notEqual(result.code, null);
  await runtime.close();
});

test('a port already in use is PARLEY_EIO naming the address; bad listener configs name their path', async () => {
  const runtime = quietRuntime();
  const listener = echoListener(runtime);
  await expectParleyError(() => echoListener(runtime, { port: listener.port }), 'PARLEY_EIO', new RegExp(String(listener.port)));
  await expectParleyError(() => runtime.startListener({ transport: 'sip' }), 'PARLEY_ECONFIG', /\$\.transport/);
  await expectParleyError(() => runtime.startListener({ transport: 'twilio', port: 'x' }), 'PARLEY_ECONFIG', /\$\.port/);
  await expectParleyError(() => runtime.startListener({ transport: 'twilio', nope: 1 }), 'PARLEY_ECONFIG', /\$\.nope/);
  await expectParleyError(() => listener.stop(-5), 'PARLEY_EINVAL', /timeout_ms must be -1/);
  await assert.rejects(listener.stop(1.5), TypeError);
  await runtime.close();
  // The runtime's close released the listener.
  assert.equal(listener.closed, true);
  await expectParleyError(() => listener.stop(), 'PARLEY_ESTATE');
});

test('closing the runtime with live calls ends them: stopped events and resolved waits', async () => {
  const runtime = quietRuntime();
  const listener = echoListener(runtime);
  const sessions = [];
  runtime.on('session', (session) => sessions.push(session));
  const call = loadgen(listener.port, { calls: 1, duration: 10 });
  await until(() => sessions.length === 1, 10000, 'a call');
  const session = sessions[0];
  session.play(toneFrame(16000, 2000), 16000);
  session.sendMark('after-two-seconds');
  const waiting = session.waitMark('after-two-seconds');
  const stopped = new Promise((resolve) => session.once('stopped', resolve));
  await runtime.close();
  assert.equal((await stopped).reason, 'runtime closed');
  assert.equal(await waiting, 'cleared');
  await expectParleyError(() => session.play(toneFrame(), 16000), 'PARLEY_ESTATE', /runtime was closed/);
  await call;
  assert.equal(parley.version().length > 0, true);
});
