'use strict';
// An agent host session driven from Node: the host plays the caller (pushes its speech in
// real time, confirms every audio mark) and implements the tool the model calls.
const test = require('node:test');
const assert = require('node:assert/strict');
const parley = require('..');
const { quietRuntime, once, expectParleyError } = require('./helpers');

// The scripted LLM's flow: it greets, and whatever the caller says it answers "Let me
// check.", calls the host tool lookup_order({"id":"42"}) and, once the host has answered, says
// "Your order {tool_result.status}." in the same turn. (The greeting itself cannot go on after
// a tool call: a flow's start state has only its entry, and the request carrying the tool
// result gets what the turn had left to say.)
const orderFlow = {
  version: 1,
  start: 's',
  states: {
    s: {
      entry: 'How can I help?',
      intents: [{
        name: 'order', slots: { question: 'text' }, reply: 'Let me check.',
        tool_call: { name: 'lookup_order', arguments: { id: '42' } }, next: 'done',
      }],
    },
    done: { end: true, entry: 'Your order {tool_result.status}.' },
  },
};

// pocketsphinx held to one sentence, so the caller's words are heard the same everywhere.
const agentConfig = {
  behaviour: 'agent',
  sample_rate: 16000,
  agent: {
    stt: { provider: 'pocketsphinx', jsgf: '#JSGF V1.0; grammar order; public <order> = where is my order;' },
    llm: { provider: 'scripted', flow_json: JSON.stringify(orderFlow), first_token_delay_ms: 10, tokens_per_second: 0 },
    tts: { provider: 'espeak' },
    greet_from_llm: true,
    tools: [{ name: 'lookup_order', timeout_ms: 5000 }],
  },
};

/** The engine says text (espeak, another voice than the agent's) on a plain host session. */
async function callerSpeech(runtime, text) {
  const speaker = runtime.createHostSession({ behaviour: 'host', sample_rate: 16000, output_rate: 16000 });
  const chunks = [];
  speaker.on('audio', (samples, rate) => {
    assert.equal(rate, 16000);
    chunks.push(samples);
  });
  speaker.on('error', (error) => assert.fail(`speaker: ${error.message}`));
  speaker.speak(text, { tts: { provider: 'espeak', voice: 'en-us+f3' } });
  await once(speaker, 'audioMark', 20000); // all its speech came before its mark
  await speaker.close();
  const speech = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    speech.set(chunk, at);
    at += chunk.length;
  }
  assert.ok(speech.length > 8000, `only ${speech.length} samples of speech`);
  return speech;
}

test('agent host session: the host answers the tool and the agent says the result', { timeout: 90000 }, async () => {
  const runtime = quietRuntime();
  const speech = await callerSpeech(runtime, 'where is my order');
  const session = runtime.createHostSession(agentConfig);

  let greeted = false;
  let saying = false;
  let spoken = 0;
  const toolCalls = [];
  const agentLines = [];
  const problems = [];
  const finalTurn = new Promise((resolve, reject) => {
    session.on('audioMark', (name) => {
      // The far end "played" the audio before the mark (agent audio events are paced in real
      // time): the agent's turn ends only once it has.
      session.pushMarkPlayed(name);
    });
    session.on('toolCall', (call) => {
      try {
        toolCalls.push(call);
        assert.equal(call.name, 'lookup_order');
        assert.deepEqual(call.arguments, { id: '42' });
        assert.ok(typeof call.id === 'string' && call.id.length > 0, JSON.stringify(call));
        let bad = null;
        try {
          session.toolResult(call.id, '{"status": shipped}');
        } catch (error) {
          bad = error;
        }
        assert.ok(bad instanceof parley.ParleyError, `invalid JSON: ${bad}`);
        assert.equal(bad.status, 'PARLEY_EFORMAT');
        assert.match(bad.message, /not valid JSON/);
        session.toolResult(call.id, { status: 'shipped' });
      } catch (error) {
        reject(error);
      }
    });
    session.on('transcript', (line) => {
      if (line.role === 'agent') agentLines.push(line.text);
    });
    session.on('turn', (turn) => {
      if (!greeted) {
        greeted = true;
        try {
          assert.equal(turn.turn, 0);
          assert.equal(turn.agent_text, 'How can I help?');
          assert.deepEqual(turn.tool_calls, []);
        } catch (error) {
          reject(error);
        }
        saying = true;
        return;
      }
      if (turn.agent_text.includes('shipped')) resolve(turn);
      else reject(new Error(`turn without the tool's answer: ${JSON.stringify(turn)}`));
    });
    session.on('error', (error) => problems.push(error.message));
    session.on('stopped', (stats) => reject(new Error(`the call stopped: ${JSON.stringify(stats)}`)));
  });

  // The caller: silence, then (once the greeting is over) the question, then silence; one
  // 20 ms frame per tick, scheduled against the clock so the pace holds.
  const silence = new Int16Array(320);
  const start = performance.now();
  let frames = 0;
  let timer = null;
  const tick = () => {
    let frame = silence;
    if (saying && spoken < speech.length) {
      frame = new Int16Array(320);
      frame.set(speech.subarray(spoken, Math.min(spoken + 320, speech.length)));
      spoken += 320;
    }
    session.pushAudio(frame, 16000);
    frames++;
    timer = setTimeout(tick, Math.max(0, start + frames * 20 - performance.now()));
  };
  tick();
  let deadline = null;
  let turn;
  try {
    turn = await Promise.race([
      finalTurn,
      new Promise((_, reject) => {
        deadline = setTimeout(() => reject(new Error(
          `no turn with the tool's answer (greeted ${greeted}, tool calls ${toolCalls.length}, agent lines ${JSON.stringify(agentLines)}, errors ${JSON.stringify(problems)})`)), 60000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    clearTimeout(deadline);
  }

  assert.equal(toolCalls.length, 1);
  assert.equal(turn.user_text, 'where is my order');
  assert.equal(turn.interrupted, false);
  assert.deepEqual(turn.tool_calls.map((call) => call.name), ['lookup_order']);
  const joined = agentLines.join(' | ');
  for (const said of ['How can I help?', 'Let me check.', 'Your order shipped.']) {
    assert.ok(joined.includes(said), `agent transcript lines ${JSON.stringify(agentLines)} lack ${said}`);
  }
  assert.deepEqual(problems, []);
  await session.close(); // resolves once its stopped event arrived

  // The runtime's counters saw the call end, both turns, the tool call and the answer's
  // voice-to-voice latency (the greeting has no speech end, so it records none).
  const stats = runtime.stats();
  const shown = JSON.stringify(stats);
  assert.ok(stats.calls.started >= 1 && stats.calls.ended >= 1, shown);
  assert.ok(stats.frames.caller > 0 && stats.frames.agent > 0, shown);
  assert.ok(stats.agent.turns >= 2 && stats.agent.tool_calls >= 1, shown);
  assert.equal(stats.agent.tool_timeouts, 0, shown);
  const v2v = stats.latency_ms.voice_to_voice;
  assert.ok(v2v.count >= 1 && v2v.max > 0 && v2v.p50 <= v2v.max, shown);
  assert.ok(stats.latency_ms.endpointing.count >= 1, shown);

  // A session that runs no agent has no tools to answer; nor has a released handle.
  const plain = runtime.createHostSession({ behaviour: 'host' });
  await expectParleyError(() => plain.toolResult('call_0_0', '{}'), 'PARLEY_ESTATE');
  plain.destroy();
  await expectParleyError(() => plain.toolResult('call_0_0', '{}'), 'PARLEY_ESTATE');
  await runtime.close();
  await expectParleyError(() => runtime.stats(), 'PARLEY_ESTATE');
});

// The greeting calls the built-in transfer tool: the agent says its line, and once the host
// has played it the call moves to the target (docs/agent.md, "Tools").
const transferFlow = {
  version: 1,
  start: 's',
  states: {
    s: { entry: 'Putting you through.', tool_call: { name: 'transfer', arguments: { target: 'sip:desk@example.com' } }, end: true },
  },
};

test('agent host session: the transfer tool reaches the host once the greeting was heard', { timeout: 60000 }, async () => {
  const runtime = quietRuntime();
  const session = runtime.createHostSession({
    behaviour: 'agent',
    sample_rate: 16000,
    agent: {
      stt: { provider: 'pocketsphinx', jsgf: '#JSGF V1.0; grammar g; public <g> = yes | no;' },
      llm: { provider: 'scripted', flow_json: JSON.stringify(transferFlow), first_token_delay_ms: 10 },
      tts: { provider: 'espeak' },
      greet_from_llm: true,
      builtin_tools: ['hang_up', 'send_dtmf', 'transfer'],
    },
  });

  let played = 0;
  let heard = 0;
  let turn = null;
  const problems = [];
  const transferEvents = [];
  session.on('audio', (samples) => {
    heard += samples.length;
  });
  session.on('audioMark', (name) => {
    // The far end "played" the audio before the mark: the transfer waits for it.
    session.pushMarkPlayed(name);
    played++;
  });
  session.on('turn', (summary) => {
    turn = summary;
  });
  session.on('event', (event) => {
    if (event.typeCode === parley.EventType.TRANSFER) transferEvents.push(event.type);
  });
  session.on('sendDtmf', (digits) => problems.push(`sendDtmf ${digits}`));
  session.on('toolCall', (call) => problems.push(`toolCall ${JSON.stringify(call)}`));
  session.on('error', (error) => problems.push(error.message));
  const transferred = new Promise((resolve, reject) => {
    session.on('transfer', (target, payload) => resolve({ target, payload, turnBefore: turn, playedBefore: played }));
    session.on('stopped', (stats) => reject(new Error(`the call stopped: ${JSON.stringify(stats)}`)));
  });

  // The caller says nothing: one 20 ms frame of silence per tick.
  const silence = new Int16Array(320);
  const start = performance.now();
  let frames = 0;
  let timer = null;
  const tick = () => {
    session.pushAudio(silence, 16000);
    frames++;
    timer = setTimeout(tick, Math.max(0, start + frames * 20 - performance.now()));
  };
  tick();
  let deadline = null;
  let transfer;
  try {
    transfer = await Promise.race([
      transferred,
      new Promise((_, reject) => {
        deadline = setTimeout(() => reject(new Error(
          `no transfer event (turn ${JSON.stringify(turn)}, ${played} marks played, ${heard} samples heard, errors ${JSON.stringify(problems)})`)), 40000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    clearTimeout(deadline);
  }

  assert.equal(transfer.target, 'sip:desk@example.com');
  assert.deepEqual(transfer.payload, { target: 'sip:desk@example.com' });
  assert.deepEqual(transferEvents, ['transfer']);
  // The turn ended (all its audio heard) before the transfer was asked for.
  const before = transfer.turnBefore;
  assert.ok(before, 'the transfer came before the greeting\'s turn ended');
  assert.equal(before.agent_text, 'Putting you through.');
  assert.deepEqual(before.tool_calls.map((call) => call.name), ['transfer']);
  assert.ok(transfer.playedBefore >= 1 && heard > 8000, `${transfer.playedBefore} marks played, ${heard} samples heard`);
  assert.deepEqual(problems, []);
  await session.close();
  await runtime.close();
});

test('agent event types match the engine', () => {
  const { EventType } = parley;
  assert.deepEqual([EventType.AGENT_STATE, EventType.TRANSCRIPT, EventType.TURN, EventType.TOOL_CALL, EventType.INTERRUPTION],
    [21, 22, 23, 24, 25]);
  assert.deepEqual([EventType.SEND_DTMF, EventType.TRANSFER], [26, 27]);
  for (const [name, code] of Object.entries(EventType)) {
    const event = new (require('../lib/events').ParleyEvent)(code, '', '{}', 0, null, 0);
    assert.equal(event.type, name.toLowerCase(), `${name} = ${code}`);
  }
});
