#!/usr/bin/env node
'use strict';
// A small Parley agent in Node: answers Twilio Media Streams calls with the echo behaviour
// and prints the session events it receives.
//
//   node echo-agent.js [--port 8080] [--calls N]
//
// --port 0 picks a free port. With --calls N it stops after N calls have ended; otherwise it
// runs until SIGINT/SIGTERM, then drains the live calls. Try it with the engine's caller:
//   parley loadgen --url ws://127.0.0.1:8080/twilio --calls 2 --duration 5 --dtmf-every 1

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
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const port = option('--port', 8080);
const maxCalls = option('--calls', 0);

const runtime = new parley.Runtime({ io_threads: 2, log: { level: 'warn' } });
const listener = runtime.startListener({
  transport: 'twilio', address: '127.0.0.1', port, path: '/twilio', behaviour: 'echo',
});
console.log(`parley ${parley.version()}: listening on ws://127.0.0.1:${listener.port}/twilio`);

let ended = 0;
runtime.on('session', (session, info) => {
  const tag = `[${session.id}]`;
  console.log(`${tag} started: call ${info.call_id} (${info.transport}, ${info.sample_rate} Hz, ${info.behaviour})`);
  session.on('dtmf', (digit) => console.log(`${tag} dtmf: ${digit}`));
  session.on('mark', (name, outcome) => console.log(`${tag} mark: ${name} ${outcome}`));
  session.on('error', (error) => console.log(`${tag} error: ${error.code}: ${error.message}`));
  session.on('stopped', (stats) => {
    console.log(`${tag} stopped: ${stats.reason} (caller frames ${stats.caller_frames}, agent frames ` +
      `${stats.agent_frames}, dtmf ${stats.dtmf}, marks played ${stats.marks_played})`);
    if (maxCalls > 0 && ++ended === maxCalls) shutdown('done');
  });
});
runtime.on('rejected', (payload) => console.log(`rejected a call: ${payload.reason}`));

let stopping = false;
async function shutdown(why) {
  if (stopping) return;
  stopping = true;
  const hungUp = await listener.stop(5000);
  console.log(`stopped (${why}); ${hungUp} calls hung up`);
  await runtime.close();
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
