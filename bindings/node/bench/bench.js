'use strict';
// Benchmark (not a test): the cost of one pushAudio of a 20 ms frame (320 samples at 16 kHz)
// on a host session, and the event delivery rate (post_event -> poll thread -> JS).
//
//   PARLEY_PREFIX=... bash build.sh && node bench/bench.js [--frames N] [--events N] [--json]
//
// Targets (issue #7): pushAudio <= 5 us from Node; >= 100,000 events/s into Node.
const parley = require('..');

const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}
const totalFrames = option('--frames', 200000);
const totalEvents = option('--events', 200000);
const asJson = args.includes('--json');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => process.hrtime.bigint();
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function benchPushAudio() {
  const runtime = new parley.Runtime({ log: { sink: 'none' } });
  const session = runtime.createHostSession({ behaviour: 'host', sample_rate: 16000 });
  const frame = new Int16Array(320);
  for (let i = 0; i < frame.length; i++) frame[i] = Math.round(8000 * Math.sin(i / 7));
  const batch = 5000;
  const perCall = { wrapper: [], native: [], baseline: [] };
  const nativeSession = session._native;
  // Warm-up.
  for (let i = 0; i < batch; i++) session.pushAudio(frame, 16000);
  await sleep(50);
  for (let done = 0; done < totalFrames; done += batch) {
    let start = now();
    for (let i = 0; i < batch; i++) session.pushAudio(frame, 16000);
    perCall.wrapper.push(Number(now() - start) / batch);
    await sleep(5); // let the engine's IO thread take the frames
    start = now();
    for (let i = 0; i < batch; i++) nativeSession.pushAudio(frame, 16000);
    perCall.native.push(Number(now() - start) / batch);
    await sleep(5);
    start = now();
    for (let i = 0; i < batch; i++) nativeSession.state(); // one N-API call + a trivial C call
    perCall.baseline.push(Number(now() - start) / batch);
  }
  await session.close();
  await runtime.close();
  return {
    frames: totalFrames * 2,
    push_audio_us_median: median(perCall.wrapper) / 1000,
    push_audio_native_us_median: median(perCall.native) / 1000,
    napi_call_baseline_us: median(perCall.baseline) / 1000,
  };
}

async function benchEvents() {
  const runtime = new parley.Runtime({ log: { sink: 'none' }, event_queue_capacity: 1048576 });
  let received = 0;
  let lastAt = 0n;
  runtime.on('user', () => {
    received++;
    lastAt = now();
  });
  // Warm-up.
  for (let i = 0; i < 10000; i++) runtime.postEvent('{"warm":1}');
  while (received < 10000) await sleep(1);
  received = 0;
  const payload = '{"n":1}';
  const start = now();
  for (let i = 0; i < totalEvents; i++) runtime.postEvent(payload);
  const posted = now();
  while (received < totalEvents) await sleep(1);
  const postS = Number(posted - start) / 1e9;
  const totalS = Number(lastAt - start) / 1e9;
  const deliverS = Number(lastAt - posted) / 1e9;

  // Delivery only, without the 'user' payload parse: count raw events.
  let raw = 0;
  const runtime2 = new parley.Runtime({ log: { sink: 'none' }, event_queue_capacity: 1048576 });
  runtime2.on('event', () => {
    raw++;
    lastAt = now();
  });
  const start2 = now();
  for (let i = 0; i < totalEvents; i++) runtime2.postEvent(payload);
  const posted2 = now();
  while (raw < totalEvents) await sleep(1);
  await runtime.close();
  await runtime2.close();
  return {
    events: totalEvents,
    post_us_per_event: (postS * 1e6) / totalEvents,
    end_to_end_events_per_s: Math.round(totalEvents / totalS),
    delivery_after_posting_events_per_s: deliverS > 0 ? Math.round(totalEvents / deliverS) : null,
    raw_event_listener_end_to_end_events_per_s: Math.round(totalEvents / (Number(lastAt - start2) / 1e9)),
    raw_delivery_after_posting_events_per_s: Math.round(totalEvents / (Number(lastAt - posted2) / 1e9)),
  };
}

(async () => {
  const audio = await benchPushAudio();
  const events = await benchEvents();
  const result = { node: process.version, parley: parley.version(), ...audio, ...events };
  if (asJson) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  console.log(`Parley ${result.parley}, Node ${result.node}`);
  console.log(`pushAudio (20 ms frame, 320 samples): ${audio.push_audio_us_median.toFixed(3)} us per call ` +
    `(native method ${audio.push_audio_native_us_median.toFixed(3)} us; a trivial N-API call ${audio.napi_call_baseline_us.toFixed(3)} us) [target <= 5 us]`);
  console.log(`events: post ${events.post_us_per_event.toFixed(3)} us each; end to end ${events.end_to_end_events_per_s} events/s ` +
    `('user' listener), ${events.raw_event_listener_end_to_end_events_per_s} events/s ('event' listener) [target >= 100,000/s]`);
  console.log(`        delivery once posted: ${events.delivery_after_posting_events_per_s} events/s ('user'), ${events.raw_delivery_after_posting_events_per_s} events/s ('event')`);
})();
