'use strict';
// The provider dispatcher with synthetic requests and a fake engine: the C ABI has no call yet
// that makes the engine send LLM or STT requests (the agent loop will), so these drive those
// paths directly.
const test = require('node:test');
const assert = require('node:assert/strict');
const { parley, until } = require('./helpers');
const { ProviderDispatcher } = require('../lib/providers');
const { ParleyEvent } = require('../lib/events');

/** Records answers; forgotten (finished or cancelled) requests throw PARLEY_ENOTFOUND. */
function fakeEngine() {
  const log = [];
  const forgotten = new Set();
  const record = (id, entry) => {
    if (forgotten.has(id)) {
      throw new parley.ParleyError(`host provider request ${id} is unknown, finished or cancelled`, parley.Status.PARLEY_ENOTFOUND);
    }
    log.push(`${id} ${entry}`);
  };
  return {
    log,
    forgotten,
    has: (prefix) => log.some((entry) => entry.startsWith(prefix)),
    pushAudio: (id, samples) => record(id, `audio ${samples.length}`),
    pushText: (id, text) => record(id, `text ${text}`),
    pushToolCall: (id, index, callId, name, args) => record(id, `tool ${index} ${callId} ${name} ${args}`),
    pushTranscript: (id, text, isFinal, speechFinal) => record(id, `transcript ${text} ${isFinal} ${speechFinal}`),
    complete: (id, status, detail) => {
      record(id, `complete ${status} ${detail}`);
      forgotten.add(id);
    },
  };
}

function request(op, id, kind, provider, extra = {}, audio = null) {
  const payload = JSON.stringify({ op, request: id, kind, provider, ...extra });
  return new ParleyEvent(parley.EventType.PROVIDER_REQUEST, 's-1', payload, 0, audio, audio ? 16000 : 0);
}

test('dispatch: an LLM streams text and tool calls, then finishes once', async () => {
  const engine = fakeEngine();
  const dispatcher = new ProviderDispatcher(engine);
  let seen = null;
  dispatcher.set('llm', 'echo-model', async (r) => {
    seen = r;
    r.pushText('You said: ');
    r.pushText(r.messages[r.messages.length - 1].content);
    r.pushToolCall(0, 'call_1', 'hang_up', '{"reason":');
    r.pushToolCall(0, null, null, '"done"}');
    r.finish(null, 5, 4);
  });
  assert.equal(dispatcher.dispatch(request('complete', 8, 'llm', 'other')), false, 'no implementation: an event');
  assert.equal(dispatcher.dispatch(new ParleyEvent(parley.EventType.USER, '', '{}', 0, null, 0)), false);
  assert.equal(dispatcher.dispatch(request('complete', 8, 'llm', 'echo-model', {
    messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'book me in' }],
    tools: [{ type: 'function', function: { name: 'hang_up', parameters: {} } }],
    temperature: 0.2,
  })), true);
  await until(() => engine.has('8 complete'), 5000, 'completion');
  assert.deepEqual(engine.log, [
    '8 text You said: ', '8 text book me in', '8 tool 0 call_1 hang_up {"reason":', '8 tool 0 null null "done"}',
    '8 complete 0 {"usage":{"prompt_tokens":5,"completion_tokens":4}}',
  ]);
  assert.ok(seen instanceof parley.LlmRequest);
  assert.equal(seen.sessionId, 's-1');
  assert.equal(seen.tools[0].function.name, 'hang_up');
  assert.equal(seen.temperature, 0.2);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(engine.log.length, 5, 'completed once');
});

test('dispatch: rejections fail the request, resolutions complete it', async () => {
  const engine = fakeEngine();
  const dispatcher = new ProviderDispatcher(engine);
  dispatcher.set('llm', 'm', {
    async complete(r) {
      const said = r.messages[0].content;
      if (said === 'fail') throw new Error('model overloaded');
      if (said === 'parley') throw new parley.ParleyError('no such model', parley.Status.PARLEY_EUNSUPPORTED);
      r.pushText('fine');
    },
  });
  for (const [id, content] of [[1, 'fail'], [2, 'parley'], [3, 'ok']]) {
    dispatcher.dispatch(request('complete', id, 'llm', 'm', { messages: [{ role: 'user', content }] }));
  }
  await until(() => ['1', '2', '3'].every((id) => engine.has(`${id} complete`)), 5000, 'completions');
  assert.ok(engine.log.includes('1 complete -11 model overloaded'), engine.log.join('|'));
  assert.ok(engine.log.includes('2 complete -7 no such model'), engine.log.join('|'));
  assert.ok(engine.log.includes('3 text fine') && engine.log.includes('3 complete 0 null'), engine.log.join('|'));
});

test('dispatch: cancel aborts the signal; later answers are ignored, nothing completes', async () => {
  const engine = fakeEngine();
  const dispatcher = new ProviderDispatcher(engine);
  let running = null;
  let late = null;
  dispatcher.set('llm', 'slow', (r, { signal }) => new Promise((resolve, reject) => {
    running = r;
    signal.addEventListener('abort', () => {
      r.pushText('too late'); // swallowed
      late = 'ignored';
      reject(signal.reason);
    });
  }));
  dispatcher.dispatch(request('complete', 5, 'llm', 'slow'));
  await until(() => running !== null, 5000, 'the request');
  engine.forgotten.add(5); // the engine forgets a request before it sends the cancel
  assert.equal(dispatcher.dispatch(request('cancel', 5, 'llm', 'slow')), true);
  await until(() => late !== null, 5000, 'the abort');
  assert.equal(running.cancelled, true);
  assert.equal(running.signal.reason.code, 'PARLEY_ECANCELLED');

  // Forgotten, cancel not delivered yet: the first answer finds out and aborts.
  let noticed = null;
  dispatcher.set('llm', 'racy', async (r) => {
    engine.forgotten.add(r.id);
    r.pushText('hello');
    noticed = r.cancelled;
  });
  dispatcher.dispatch(request('complete', 6, 'llm', 'racy'));
  await until(() => noticed !== null, 5000, 'the racy request');
  assert.equal(noticed, true);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(engine.log, [], 'nothing answered for cancelled requests');
  // Late cancels, audio for unknown requests and unknown operations are consumed.
  assert.equal(dispatcher.dispatch(request('cancel', 6, 'llm', 'racy')), true);
  assert.equal(dispatcher.dispatch(request('audio', 99, 'llm', 'racy', {}, new Int16Array(10))), true);
  assert.equal(dispatcher.dispatch(request('reticulate', 7, 'llm', 'racy')), true);
});

test('dispatch: an STT stream gets audio and finalize in order; cancel ends it', async () => {
  const engine = fakeEngine();
  const dispatcher = new ProviderDispatcher(engine);
  let ended = null;
  dispatcher.set('stt', 'asr', async (r) => {
    let heard = 0;
    for await (const input of r) {
      if (input.finalize) {
        r.pushTranscript(`heard ${heard} samples`, true, true);
        heard = 0;
      } else {
        heard += input.audio.length;
        r.pushTranscript('...', false, false);
      }
    }
    assert.equal(await r.read(), null);
    ended = { rate: r.sampleRate, cancelled: r.cancelled };
  }, 8000);
  dispatcher.dispatch(request('start', 9, 'stt', 'asr', { sample_rate: 16000 }));
  dispatcher.dispatch(request('audio', 9, 'stt', 'asr', {}, new Int16Array(320)));
  dispatcher.dispatch(request('audio', 9, 'stt', 'asr', {}, new Int16Array(160)));
  dispatcher.dispatch(request('finalize', 9, 'stt', 'asr'));
  dispatcher.dispatch(request('audio', 9, 'stt', 'asr', {}, new Int16Array(320)));
  dispatcher.dispatch(request('finalize', 9, 'stt', 'asr'));
  await until(() => engine.has('9 transcript heard 320'), 5000, 'the second final');
  engine.forgotten.add(9);
  dispatcher.dispatch(request('cancel', 9, 'stt', 'asr'));
  await until(() => ended !== null, 5000, 'the end of the stream');
  assert.deepEqual(ended, { rate: 16000, cancelled: true });
  assert.deepEqual(engine.log, ['9 transcript ... false false', '9 transcript ... false false',
    '9 transcript heard 480 samples true true', '9 transcript ... false false', '9 transcript heard 320 samples true true']);
});

test('dispatch: a TTS, and close() aborting a request in flight', async () => {
  const engine = fakeEngine();
  const dispatcher = new ProviderDispatcher(engine);
  let waiting = null;
  dispatcher.set('tts', 'v', async (r, { signal }) => {
    if (r.text === 'wait') {
      waiting = r;
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      return;
    }
    r.pushAudio(new Int16Array(r.sampleRate / 10));
  }, 24000);
  dispatcher.dispatch(request('synthesize', 1, 'tts', 'v', { text: 'Hi.' }));
  await until(() => engine.has('1 complete 0'), 5000, 'completion');
  assert.equal(engine.log[0], '1 audio 2400');
  dispatcher.dispatch(request('synthesize', 2, 'tts', 'v', { text: 'wait' }));
  await until(() => waiting !== null, 5000, 'the waiting request');
  dispatcher.close();
  assert.equal(waiting.cancelled, true);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(engine.log.length, 2, 'a cancelled request is not completed');
  // complete() twice on a dispatched request
  const again = new ProviderDispatcher(engine);
  const reused = [];
  again.set('tts', 'twice', async (r) => {
    r.complete();
    try {
      r.complete();
    } catch (error) {
      reused.push(error.code);
    }
  });
  again.dispatch(request('synthesize', 3, 'tts', 'twice', { text: 'x' }));
  await until(() => reused.length === 1, 5000, 'the second complete');
  assert.deepEqual(reused, ['PARLEY_ENOTFOUND']);
  dispatcher.set('tts', 'v', null);
  assert.equal(dispatcher.dispatch(request('synthesize', 4, 'tts', 'v')), false, 'unregistered: an event again');
});
