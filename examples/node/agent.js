#!/usr/bin/env node
'use strict';
// A small Parley voice agent in Node: answers Twilio Media Streams calls with the
// appointment agent (pocketsphinx with the appointment grammar, the scripted LLM flow,
// espeak-ng), which greets the caller, books an appointment through the host's
// book_appointment tool and hangs up. Prints what happens on each call:
//
//   listening on ws://127.0.0.1:8080/twilio
//   call started: S4df7e845000000
//   agent: Thanks for calling Parley Dental. How can I help?
//   caller: i would like to book an appointment          (final transcripts only)
//   tool call: book_appointment({"day":"monday",...}) -> {"booked":true}
//   call ended: S4df7e845000000 (caller hung up (stop))
//
// and exits after --calls N calls, or on SIGINT/SIGTERM.
//
//   node agent.js [--port 8080] [--calls N] [--flow FILE] [--grammar FILE]
//
// --port 0 picks a free port. The flow and grammar default to the repository's
// examples/flows/appointment.json and examples/grammars/appointment.jsgf (next to this
// folder). run.sh calls it with `parley loadgen --calls 2 --duration 8 --wav speech.wav`.
const path = require('node:path');

function loadParley() {
  try {
    return require('@parley/node'); // installed from the npm package
  } catch (error) {
    if (error.code !== 'MODULE_NOT_FOUND' || !String(error.message).includes('@parley/node')) throw error;
    return require('../../bindings/node'); // a source checkout
  }
}
const parley = loadParley();

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const port = Number(option('--port', 8080));
const maxCalls = Number(option('--calls', 0));
const flow = path.resolve(option('--flow', path.join(__dirname, '..', 'flows', 'appointment.json')));
const grammar = path.resolve(option('--grammar', path.join(__dirname, '..', 'grammars', 'appointment.jsgf')));

// The host tool the scripted flow calls once the caller has confirmed the booking.
const bookAppointment = {
  name: 'book_appointment',
  description: "Books the appointment in the practice's calendar",
  parameters: {
    type: 'object',
    properties: { day: { type: 'string' }, time: { type: 'string' }, name: { type: 'string' } },
  },
  timeout_ms: 4000,
  fallback: "Sorry, I can't book that right now.",
};

const runtime = new parley.Runtime({ log: { level: 'warn' } });
const listener = runtime.startListener({
  transport: 'twilio', address: '127.0.0.1', port, path: '/twilio', behaviour: 'agent',
  agent: {
    stt: { provider: 'pocketsphinx', grammar },
    llm: { provider: 'scripted', flow },
    tts: { provider: 'espeak' },
    greet_from_llm: true, // the flow's first line greets the caller
    tools: [bookAppointment],
  },
});
console.log(`parley ${parley.version()}`);
console.log(`listening on ws://127.0.0.1:${listener.port}/twilio`);

let ended = 0;
runtime.on('session', (session) => {
  console.log(`call started: ${session.id}`);
  session.on('transcript', (line) => {
    if (line.final) console.log(`${line.role === 'user' ? 'caller' : 'agent'}: ${line.text}`); // partials: still speaking
  });
  session.on('turn', (turn) => console.log(`turn ${turn.turn} ended${turn.interrupted ? ' (interrupted)' : ''}`));
  session.on('toolCall', (call) => {
    // A real agent would look at the arguments and do the work (within the tool's timeout_ms).
    const result = { booked: true };
    try {
      session.toolResult(call.id, result);
      console.log(`tool call: ${call.name}(${JSON.stringify(call.arguments)}) -> ${JSON.stringify(result)}`);
    } catch (error) {
      console.log(`tool call: ${call.name}: ${error.message}`); // the call may have ended meanwhile
    }
  });
  session.on('error', (error) => console.log(`call error: ${session.id}: ${error.message}`));
  session.on('stopped', (stats) => {
    console.log(`call ended: ${session.id} (${stats.reason})`);
    if (maxCalls > 0 && ++ended === maxCalls) shutdown();
  });
});
runtime.on('rejected', (payload) => console.log(`call rejected: ${payload.reason}`));

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  const hungUp = await listener.stop(2000); // calls still live get two seconds, then are hung up
  const stats = runtime.stats();
  const v2v = stats.latency_ms.voice_to_voice;
  console.log(`stats: ${stats.calls.ended} calls, ${stats.agent.turns} turns, ${stats.agent.tool_calls} tool calls, ` +
    `voice-to-voice p50 ${v2v.p50 ?? 0} ms (${v2v.count} answers)`);
  await runtime.close();
  console.log(`done: ${ended} call(s) ended, ${hungUp} hung up`);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
