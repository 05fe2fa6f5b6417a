'use strict';
// Host-transport sessions: the host pushes caller audio and receives agent audio events.
const test = require('node:test');
const assert = require('node:assert/strict');
const { quietRuntime, toneFrame, until, once, tmpName, expectParleyError } = require('./helpers');

function pace(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

test('host session (echo): pushed audio comes back as audio events, with marks and DTMF', async () => {
  const runtime = quietRuntime();
  const session = runtime.createHostSession({ behaviour: 'echo', sample_rate: 16000, output_rate: 16000, call_id: 'node-host-1', custom_parameters: { who: 'test' } });
  assert.equal(session.host, true);
  assert.match(session.id, /^S/);
  const sessionEvent = once(runtime, 'session');
  const [info] = await once(session, 'started');
  assert.equal(info.transport, 'host');
  assert.equal(info.call_id, 'node-host-1');
  assert.deepEqual(info.custom_parameters, { who: 'test' });
  const [announced] = await sessionEvent;
  assert.equal(announced, session);
  assert.equal(runtime.openSession(session.id), session, 'one Session object per call');

  let samples = 0;
  let energy = 0;
  const audioMarks = [];
  const marks = [];
  const digits = [];
  session.on('audio', (audio, rate) => {
    assert.ok(audio instanceof Int16Array);
    assert.equal(rate, 16000);
    samples += audio.length;
    for (const value of audio) energy += Math.abs(value);
  });
  session.on('audioMark', (name) => {
    audioMarks.push(name);
    session.pushMarkPlayed(name); // "played" as soon as received: this host has no buffer
  });
  session.on('mark', (name, outcome) => marks.push({ name, outcome }));
  session.on('dtmf', (digit) => digits.push(digit));

  const frame = toneFrame(16000);
  for (let i = 0; i < 100; i++) {
    session.pushAudio(frame, 16000);
    if (i === 10) session.pushDtmf('7');
    await pace(20);
  }
  // G.711 as well: 20 ms of μ-law silence at 8 kHz.
  session.pushG711(Buffer.alloc(160, 0xff), 'ulaw', 8000);
  session.pushG711(new Uint8Array(160).fill(0xd5), 'alaw', 8000);

  session.play(toneFrame(16000, 100), 16000);
  session.sendMark('host-mark');
  assert.equal(await session.waitMark('host-mark', 5000), 'played');

  await until(() => samples >= 90 * 320, 5000, 'echoed audio');
  assert.ok(energy / samples > 1000, `echo carries the tone (mean |x| ${energy / samples})`);
  assert.deepEqual(digits, ['7']);
  assert.ok(audioMarks.includes('host-mark'), JSON.stringify(audioMarks));
  assert.ok(marks.some((mark) => mark.name === 'host-mark' && mark.outcome === 'played'));

  const stats = await session.close();
  assert.equal(stats.reason, 'closed by host');
  assert.ok(stats.caller_frames >= 100, JSON.stringify(stats));
  assert.ok(stats.agent_frames >= 90, JSON.stringify(stats));
  assert.equal(stats.dtmf, 1);
  assert.equal(session.stopped, true);
  assert.equal(session.state, 'closed');
  await expectParleyError(() => session.close(), 'PARLEY_ESTATE', /already called/);
  await expectParleyError(() => session.pushAudio(frame, 16000), 'PARLEY_ESTATE', /is closed/);
  session.destroy();
  await expectParleyError(() => session.pushAudio(frame, 16000), 'PARLEY_ESTATE', /handle was released/);
  await runtime.close();
});

test('host session (host behaviour): agent audio played by the host comes back resampled, clear drops it', async () => {
  const runtime = quietRuntime();
  const session = runtime.createHostSession({ behaviour: 'host', sample_rate: 16000, output_rate: 8000, playout_lead_ms: 100 });
  await once(session, 'started');
  let samples = 0;
  const rates = new Set();
  session.on('audio', (audio, rate) => {
    samples += audio.length;
    rates.add(rate);
  });
  const cleared = once(session, 'audioClear');
  session.play(toneFrame(24000, 3000), 24000); // 3 s at 24 kHz, paced out in real time
  session.sendMark('end');
  await until(() => samples >= 8000 * 0.3, 5000, 'agent audio');
  session.clear();
  await cleared;
  assert.equal(await session.waitMark('end', 5000), 'cleared');
  assert.deepEqual([...rates], [8000]);
  assert.ok(samples < 8000 * 3, 'clear stopped the rest');
  // hang up (idempotent), then the stopped event.
  const stopped = once(session, 'stopped');
  session.hangUp('done here');
  session.hangUp();
  const [stats] = await stopped;
  assert.equal(stats.reason, 'done here');
  assert.ok(stats.marks_cleared >= 1);
  await runtime.close();
});

test('host session input errors are ParleyErrors with the engine message', async () => {
  const runtime = quietRuntime();
  await expectParleyError(() => runtime.createHostSession({ sample_rate: 1234 }), 'PARLEY_ECONFIG', /\$\.sample_rate/);
  await expectParleyError(() => runtime.createHostSession({ behaviour: 'dance' }), 'PARLEY_ECONFIG', /\$\.behaviour/);
  const session = runtime.createHostSession(null);
  await expectParleyError(() => session.pushAudio(toneFrame(), 12345), 'PARLEY_EUNSUPPORTED', /12345/);
  await expectParleyError(() => session.play(toneFrame(), 11000), 'PARLEY_EUNSUPPORTED', /11000/);
  await expectParleyError(() => session.pushDtmf('x'), 'PARLEY_EINVAL', /not a DTMF digit/);
  await expectParleyError(() => session.pushG711(new Uint8Array(4), 5), 'PARLEY_EINVAL', /not a parley_g711/);
  await expectParleyError(() => session.sendMark(''), 'PARLEY_EINVAL', /1\.\.256 bytes/);
  await expectParleyError(() => session.sendMark('x'.repeat(300)), 'PARLEY_EINVAL', /1\.\.256 bytes/);
  const missingDir = tmpName('parley-node-missing-dir');
  await expectParleyError(() => session.startRecording(`${missingDir}/x.wav`), 'PARLEY_EIO', /cannot create/);
  await expectParleyError(() => session.waitMark('x', -5), 'PARLEY_EINVAL', /timeout_ms/);
  assert.equal(await session.waitMark('not-sent'), 'unknown');
  session.play(toneFrame(16000, 1000), 16000);
  session.sendMark('pending');
  assert.equal(await session.waitMark('pending', 0), 'timeout');
  assert.equal(await session.waitMark('pending', 50), 'timeout');
  await session.close();
  await runtime.close();
});

test('a runtime with max_sessions refuses host sessions over it with PARLEY_EFULL', async () => {
  const runtime = quietRuntime({ max_sessions: 2 });
  const a = runtime.createHostSession({});
  const b = runtime.createHostSession({});
  await expectParleyError(() => runtime.createHostSession({}), 'PARLEY_EFULL');
  await a.close();
  await b.close();
  const c = runtime.createHostSession({});
  await c.close();
  await runtime.close();
});
