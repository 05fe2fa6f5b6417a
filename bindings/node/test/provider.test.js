'use strict';
// Providers written in JS, used by the engine through a host-transport session.
const test = require('node:test');
const assert = require('node:assert/strict');
const { parley, quietRuntime, once, until, expectParleyError } = require('./helpers');

function tone(hz, rate, seconds) {
  const samples = new Int16Array(Math.round(rate * seconds));
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / rate));
  return samples;
}

test('a TTS written in JS speaks on a host session: audio events, then the mark', async () => {
  const runtime = quietRuntime();
  const seen = [];
  runtime.registerTts('js-tone', async (request, { signal }) => {
    seen.push(request);
    assert.ok(request instanceof parley.TtsRequest);
    assert.equal(signal, request.signal);
    const samples = tone(440, request.sampleRate, 0.3);
    for (let i = 0; i < samples.length; i += 1600) {
      await new Promise((resolve) => setImmediate(resolve)); // asynchronous, like a real voice
      request.pushAudio(samples.subarray(i, i + 1600));
    }
  }, { sampleRate: 16000 });
  const unexpected = [];
  runtime.on('providerRequest', (payload) => unexpected.push(payload));
  runtime.on('event', (event) => {
    if (event.typeCode === parley.EventType.PROVIDER_REQUEST) unexpected.push(event.payload);
  });
  const session = runtime.createHostSession({ behaviour: 'host', output_rate: 16000 });
  session.on('error', (error) => unexpected.push(error.message));
  let heard = 0;
  let energy = 0;
  session.on('audio', (audio, rate) => {
    assert.equal(rate, 16000);
    heard += audio.length;
    for (const value of audio) energy += Math.abs(value);
  });
  const audioMarks = [];
  session.on('audioMark', (name) => {
    audioMarks.push(name);
    session.pushMarkPlayed(name);
  });
  const mark = session.speak('Your appointment is booked.', { tts: { provider: 'js-tone' }, mark: 'booked' });
  assert.equal(mark, 'booked');
  assert.equal(await session.waitMark(mark, 15000), 'played'); // right after speak(): waits for synthesis
  assert.equal(await session.waitMark(mark, 1000), 'played');
  assert.equal(await session.waitMark('never-spoken', 1000), 'unknown');
  assert.deepEqual(audioMarks, ['booked']);
  assert.ok(heard >= 4800, `heard ${heard} samples`);
  assert.ok(energy / heard > 1000, `the tone, not silence (mean |x| ${energy / heard})`);
  assert.deepEqual(unexpected, []);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].text, 'Your appointment is booked.');
  assert.equal(seen[0].sessionId, session.id);
  assert.equal(seen[0].kind, 'tts');
  assert.equal(seen[0].provider, 'js-tone');
  assert.equal(seen[0].cancelled, false);
  assert.match(session.speak('Again.', { tts: { provider: 'js-tone' } }), /^speak-/);
  await runtime.close();
});

test('a failing JS TTS becomes a session error event with its message', async () => {
  const runtime = quietRuntime();
  runtime.registerTts('js-broken', {
    async synthesize() {
      throw new Error('voice server is down');
    },
  });
  const session = runtime.createHostSession({ behaviour: 'host' });
  const errored = once(session, 'error');
  session.speak('hi', JSON.stringify({ tts: { provider: 'js-broken' }, mark: 'm1' }));
  const waited = session.waitMark('m1', 10000);
  const [error] = await errored;
  await expectParleyError(() => waited, 'PARLEY_EPROVIDER', /voice server is down/);
  // A speak() mark that failed before anyone waited: the failure is kept for waitMark().
  session.speak('hi again', { tts: { provider: 'js-broken' }, mark: 'm2' });
  await once(session, 'error');
  await expectParleyError(() => session.waitMark('m2', 10000), 'PARLEY_EPROVIDER', /voice server is down/);
  assert.equal(error.message, 'voice server is down');
  assert.equal(error.code, 'provider');
  assert.equal(error.provider, 'js-broken');
  assert.equal(error.mark, 'm1');
  assert.equal(error.sessionId, session.id);
  await runtime.close();
});

test('closing the runtime aborts a JS provider request in flight', async () => {
  const runtime = quietRuntime();
  let request = null;
  let lateAnswer = null;
  runtime.registerTts('js-slow', (r, { signal }) => new Promise((resolve) => {
    request = r;
    signal.addEventListener('abort', () => {
      try {
        r.pushAudio(new Int16Array(160)); // ignored after cancellation, not an error
        lateAnswer = 'ignored';
      } catch (error) {
        lateAnswer = error;
      }
      resolve();
    });
  }));
  const session = runtime.createHostSession({ behaviour: 'host' });
  session.speak('Take your time.', { tts: { provider: 'js-slow' } });
  await until(() => request !== null, 10000, 'the TTS call');
  await runtime.close();
  assert.equal(request.cancelled, true);
  assert.equal(lateAnswer, 'ignored');
});

test('a provider without an implementation: requests are events, answered by id', async () => {
  const runtime = quietRuntime();
  runtime.registerProvider('tts', 'raw-voice', { sample_rate: 8000 });
  const session = runtime.createHostSession({ behaviour: 'host', output_rate: 8000 });
  const requested = once(runtime, 'providerRequest');
  session.speak('Hello.', { tts: { provider: 'raw-voice' } });
  const [payload, event] = await requested;
  assert.equal(event.sessionId, session.id);
  assert.equal(payload.op, 'synthesize');
  assert.equal(payload.kind, 'tts');
  assert.equal(payload.provider, 'raw-voice');
  assert.equal(payload.text, 'Hello.');
  const answer = runtime.providerRequest(payload.request);
  await expectParleyError(() => answer.pushText('words'), 'PARLEY_EINVAL', /is a tts request, not llm/);
  answer.pushAudio(tone(300, 8000, 0.1));
  answer.complete();
  // Not dispatched by the binding: the engine's not-found is the caller's to see.
  await expectParleyError(() => answer.pushAudio(tone(300, 8000, 0.1)), 'PARLEY_ENOTFOUND', /unknown, finished or cancelled/);
  await runtime.close();
});

test('provider registration and answer errors', async () => {
  const runtime = quietRuntime();
  const noop = async () => {};
  await expectParleyError(() => runtime.registerProvider('vision', 'x'), 'PARLEY_EINVAL', /"llm", "tts" or "stt"/);
  await expectParleyError(() => runtime.registerTts('', noop), 'PARLEY_EINVAL', /name/);
  await expectParleyError(() => runtime.registerTts('x', noop, { sampleRate: 3 }), 'PARLEY_ECONFIG', /\$\.sample_rate/);
  await expectParleyError(() => runtime.registerProvider('tts', 'x', { voice: 1 }), 'PARLEY_ECONFIG', /voice/);
  await expectParleyError(() => runtime.registerProvider('tts', null), 'PARLEY_EINVAL');
  assert.throws(() => runtime.registerTts('x', 42), TypeError);
  assert.throws(() => runtime.registerLlm('x', { synthesize() {} }), /complete\(\) method/);

  // An LLM and an STT written in JS register; the engine does not call them through the C ABI
  // yet (provider-dispatch.test.js drives them with synthetic requests).
  runtime.registerLlm('js-llm', async (request) => request.pushText('ok'));
  runtime.registerStt('js-stt', { async recognize() {} }, { sampleRate: 8000 });
  runtime.registerLlm('js-llm', async (request) => request.pushText('replaced'));

  const unknown = runtime.providerRequest(12345);
  await expectParleyError(() => unknown.pushText('hi'), 'PARLEY_ENOTFOUND', /request 12345/);
  await expectParleyError(() => unknown.pushToolCall(0, 'c1', 'f', '{}'), 'PARLEY_ENOTFOUND', /12345/);
  await expectParleyError(() => unknown.pushTranscript('hi', true, true), 'PARLEY_ENOTFOUND', /12345/);
  await expectParleyError(() => unknown.complete(), 'PARLEY_ENOTFOUND', /12345/);
  await expectParleyError(() => unknown.fail('x'), 'PARLEY_ENOTFOUND', /12345/);
  await expectParleyError(() => unknown.pushToolCall(128), 'PARLEY_EINVAL', /0\.\.127/);
  await expectParleyError(() => runtime.providerRequest(12345n).pushText('hi'), 'PARLEY_ENOTFOUND', /12345/);
  assert.throws(() => runtime.providerRequest(-1).pushText('hi'), TypeError);
  assert.throws(() => runtime.providerRequest(1).pushAudio([1, 2]), TypeError);

  const session = runtime.createHostSession({ behaviour: 'host' });
  await expectParleyError(() => session.speak('hi', { tts: { provider: 'nobody' } }), 'PARLEY_ENOTFOUND', /no TTS provider named "nobody"/);
  await expectParleyError(() => session.speak('hi', { voice: 'x' }), 'PARLEY_ECONFIG', /voice/);
  await expectParleyError(() => session.speak(null), 'PARLEY_EINVAL', /text/);
  assert.throws(() => session.speak('hi', 42), TypeError);
  session.destroy();
  await expectParleyError(() => session.speak('hi'), 'PARLEY_ESTATE', /closed/);

  await runtime.close();
  await expectParleyError(() => runtime.registerTts('late', noop), 'PARLEY_ESTATE', /closed/);
  await expectParleyError(() => runtime.providerRequest(1).complete(), 'PARLEY_ESTATE', /closed/);
});
