'use strict';
// Event storms with the garbage collector forced in the middle (run with --expose-gc; the
// helper enables it when the flag is missing).
const test = require('node:test');
const assert = require('node:assert/strict');
const { quietRuntime, toneFrame, until, gc } = require('./helpers');

test('100,000 posted events arrive in order, complete, with gc() forced mid-storm', async (t) => {
  const runtime = quietRuntime({ event_queue_capacity: 131072 });
  const total = 100000;
  let received = 0;
  let outOfOrder = 0;
  let overflow = 0;
  let gcs = 0;
  runtime.on('overflow', () => overflow++);
  runtime.on('user', (payload) => {
    if (payload.i !== received) outOfOrder++;
    received++;
    if (received % 25000 === 0) {
      gc(); // during delivery, inside a batch of the thread-safe function
      gcs++;
    }
  });
  const started = process.hrtime.bigint();
  for (let i = 0; i < total; i++) {
    runtime.postEvent(`{"i":${i},"pad":"storm"}`);
    if (i === total / 2) gc(); // during posting
    if (i % 10000 === 0) await new Promise((resolve) => setImmediate(resolve)); // let batches in
  }
  await until(() => received === total, 30000, `${total} events (got ${received})`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  assert.equal(outOfOrder, 0);
  assert.equal(overflow, 0);
  assert.ok(gcs >= 3);
  t.diagnostic(`storm: ${Math.round(total / seconds)} events/s end to end`);
  await runtime.close();
});

test('session events and audio buffers survive gc storms; dropped Session objects are collected', async () => {
  const runtime = quietRuntime({ event_queue_capacity: 65536 });
  const collected = { count: 0 };
  const registry = new FinalizationRegistry(() => {
    collected.count++;
  });
  const frame = toneFrame(16000);
  let audioEvents = 0;
  let stopped = 0;
  const rounds = 5;
  const perRound = 40;
  for (let round = 0; round < rounds; round++) {
    const sessions = [];
    for (let i = 0; i < perRound; i++) {
      const session = runtime.createHostSession({ behaviour: 'echo' });
      session.on('audio', (audio) => {
        if (audio.length === 320 && audio[5] === frame[5]) audioEvents++;
      });
      session.on('stopped', () => stopped++);
      registry.register(session, session.id);
      sessions.push(session);
    }
    for (let k = 0; k < 5; k++) {
      for (const session of sessions) session.pushAudio(frame, 16000);
      for (let j = 0; j < 200; j++) runtime.postEvent('{"noise":true}');
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Close half explicitly; drop the rest with destroy() (which closes a host session).
    await Promise.all(sessions.slice(0, perRound / 2).map((session) => session.close()));
    for (const session of sessions.slice(perRound / 2)) session.destroy();
    sessions.length = 0;
    gc();
  }
  await until(() => stopped === rounds * perRound, 10000, `all sessions stopped (${stopped})`);
  assert.ok(audioEvents > rounds * perRound, `audio events ${audioEvents}`);
  assert.equal(runtime.sessions.length, 0);
  for (let i = 0; i < 10 && collected.count < rounds * perRound / 2; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.ok(collected.count >= rounds * perRound / 2, `collected ${collected.count} Session objects`);
  await runtime.close();
});
